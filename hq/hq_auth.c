/*
 * hq_auth.c — users, passwords, sessions, API tokens, CSRF and the sign-in
 * lockout (see hq_auth.h).  libargon2 for the hashes, bb_random for ids,
 * SHA-256 (bb_sha256_hex) for what is stored of a secret.
 */
#include "hq_auth.h"
#include "hq_store.h"
#include "bb_batch.h"
#include "bb_db.h"
#include "bb_enroll.h"
#include "bb_rand.h"
#include "bb_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <mbedtls/platform_util.h>

#define ARGON_T 2
#define ARGON_M 19456            /* KiB: 19 MiB */
#define ARGON_P 1
#define ARGON_SALT 16
#define ARGON_HASH 32
#define SECRET_RAW 32
#define SECRET_B64 43            /* unpadded base64url of 32 bytes */
#define TOKEN_PREFIX "bbt_"
#define SEEN_EVERY_S 60          /* note a session's use at most this often */

const char *hq_role_name(enum hq_role r)
{
    return r == HQ_ROLE_PRECINCT ? "precinct" : "hq";
}

bb_err hq_role_parse(const char *s, enum hq_role *out)
{
    if (s && strcmp(s, "hq") == 0)
        *out = HQ_ROLE_HQ;
    else if (s && strcmp(s, "precinct") == 0)
        *out = HQ_ROLE_PRECINCT;
    else
        return BB_ERR_USAGE;
    return BB_OK;
}

bb_err hq_auth_check_name(const char *name, bb_errbuf *eb)
{
    size_t i, n = name ? strlen(name) : 0;

    if (n < 1 || n > HQ_USER_NAME_MAX)
        return bb_fail(eb, BB_ERR_USAGE, "a user name is 1 to %d characters",
                       HQ_USER_NAME_MAX);
    for (i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return bb_fail(eb, BB_ERR_USAGE, "a user name is letters, digits, '.', '_' and "
                           "'-', starting with a letter or digit");
    }
    return BB_OK;
}

bb_err hq_auth_check_password(const char *pw, bb_errbuf *eb)
{
    size_t n = pw ? strlen(pw) : 0;

    if (n < HQ_PASSWORD_MIN)
        return bb_fail(eb, BB_ERR_USAGE, "a password needs at least %d characters",
                       HQ_PASSWORD_MIN);
    if (n > HQ_PASSWORD_MAX)
        return bb_fail(eb, BB_ERR_USAGE, "a password is at most %d bytes", HQ_PASSWORD_MAX);
    return BB_OK;
}

bb_err hq_auth_hash_password(const char *pw, char out[HQ_PW_HASH_MAX], bb_errbuf *eb)
{
    uint8_t salt[ARGON_SALT];
    bb_err err;
    int rc;

    if ((err = bb_random(salt, sizeof salt)) != BB_OK)
        return bb_fail(eb, err, "password hash: no randomness from the kernel");
    rc = argon2id_hash_encoded(ARGON_T, ARGON_M, ARGON_P, pw, strlen(pw), salt, sizeof salt,
                               ARGON_HASH, out, HQ_PW_HASH_MAX);
    mbedtls_platform_zeroize(salt, sizeof salt);
    if (rc != ARGON2_OK)
        return bb_fail(eb, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? BB_ERR_NOMEM : BB_ERR_INTERNAL,
                       "password hash: %s", argon2_error_message(rc));
    return BB_OK;
}

/* ---- small helpers ---------------------------------------------------------- */

static bb_err step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, bb_errbuf *eb)
{
    int rc = sqlite3_step(st);
    bb_err err = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? BB_OK : bb_db_err(db, rc, what, eb);

    sqlite3_finalize(st);
    return err;
}

/* 32 random bytes as unpadded base64url. */
static bb_err new_secret(char out[SECRET_B64 + 1])
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[SECRET_RAW + 1];
    size_t i, o = 0;
    bb_err err;

    if ((err = bb_random(raw, SECRET_RAW)) != BB_OK)
        return err;
    raw[SECRET_RAW] = 0;
    for (i = 0; i < SECRET_RAW; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
                     (i + 2 < SECRET_RAW ? raw[i + 2] : 0);
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < SECRET_RAW)
            out[o++] = a[(v >> 6) & 63];
        if (i + 2 < SECRET_RAW)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
    mbedtls_platform_zeroize(raw, sizeof raw);
    return o == SECRET_B64 ? BB_OK : BB_ERR_INTERNAL;
}

/* Well-formed: exactly 43 base64url characters. */
static int secret_ok(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; i < SECRET_B64; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return s[SECRET_B64] == '\0';
}

static void secret_hash(const char *s, char out[BB_SHA256_HEX])
{
    bb_sha256_hex((const uint8_t *)s, strlen(s), out);
}

static void read_user(sqlite3_stmt *st, int col, struct hq_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, col);
    hq_col_text(st, col + 1, u->name, sizeof u->name);
    u->role = sqlite3_column_text(st, col + 2) &&
              strcmp((const char *)sqlite3_column_text(st, col + 2), "precinct") == 0
              ? HQ_ROLE_PRECINCT : HQ_ROLE_HQ;
    hq_col_text(st, col + 3, u->org, sizeof u->org);
    u->disabled = sqlite3_column_int(st, col + 4) != 0;
    hq_col_text(st, col + 5, u->created_at, sizeof u->created_at);
    hq_col_text(st, col + 6, u->last_signin, sizeof u->last_signin);
}

#define USER_COLS "u.id, u.name, u.role, u.org_unit, u.disabled, u.created_at, u.last_signin"

/* ---- users ------------------------------------------------------------------ */

bb_err hq_user_add(sqlite3 *db, const bb_catalog *cat, const char *name, enum hq_role role,
                   const char *org, const char *pw_hash, bb_errbuf *eb)
{
    char now[BB_TIME_MAX], detail[160];
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = hq_auth_check_name(name, eb)) != BB_OK)
        return err;
    if (role == HQ_ROLE_PRECINCT && (!org || !bb_catalog_ref(cat, "units", org)))
        return bb_fail(eb, BB_ERR_USAGE, "a precinct admin needs --org CODE, an org unit "
                       "(see: beatbook ref units)");
    if (role == HQ_ROLE_HQ && org)
        return bb_fail(eb, BB_ERR_USAGE, "an HQ reviewer sees every unit: give no --org");
    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return bb_fail(eb, err, "user add: cannot format the time");
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    if ((err = bb_db_prepare(db, "INSERT INTO users (name, role, org_unit, pw_hash, created_at)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)", &st, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hq_role_name(role), -1, SQLITE_STATIC);
    if (role == HQ_ROLE_PRECINCT)
        sqlite3_bind_text(st, 3, org, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, pw_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
        err = bb_fail(eb, BB_ERR_EXISTS, "user add: there is already a user \"%s\"", name);
        goto fail;
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "user add", eb);
        goto fail;
    }
    snprintf(detail, sizeof detail, "user=%s role=%s%s%s", name, hq_role_name(role),
             role == HQ_ROLE_PRECINCT ? " org=" : "", role == HQ_ROLE_PRECINCT ? org : "");
    if ((err = hq_audit(db, "cli", "user_add", NULL, detail, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;
    return BB_OK;
fail:
    bb_db_rollback(db);
    return err;
}

bb_err hq_user_get(sqlite3 *db, const char *name, struct hq_user *u, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db, "SELECT " USER_COLS " FROM users u WHERE u.name = ?1", &st,
                             eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_user(st, 0, u);
    else if (rc == SQLITE_DONE)
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no user \"%.40s\" (see: beatbook-hq user list)",
                      name);
    else
        err = bb_db_err(db, rc, "read users", eb);
    sqlite3_finalize(st);
    return err;
}

bb_err hq_user_list(sqlite3 *db, struct hq_user **list, size_t *n, bb_errbuf *eb)
{
    struct hq_user *l = NULL;
    size_t cap = 0;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *list = NULL;
    *n = 0;
    if ((err = bb_db_prepare(db, "SELECT " USER_COLS " FROM users u ORDER BY u.name", &st,
                             eb)) != BB_OK)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct hq_user *nl = realloc(l, nc * sizeof *nl);
            if (!nl) {
                free(l);
                sqlite3_finalize(st);
                return bb_fail(eb, BB_ERR_NOMEM, "user list: out of memory");
            }
            l = nl;
            cap = nc;
        }
        read_user(st, 0, &l[(*n)++]);
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read users", eb);
        free(l);
        *n = 0;
        l = NULL;
    }
    sqlite3_finalize(st);
    *list = l;
    return err;
}

/* End every session of a user (and its tokens too when tokens is set). */
static bb_err forget_user_secrets(sqlite3 *db, int64_t id, int tokens, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db, "DELETE FROM sessions WHERE user_id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(st, 1, id);
    if ((err = step_done(db, st, "end sessions", eb)) != BB_OK || !tokens)
        return err;
    if ((err = bb_db_prepare(db, "DELETE FROM api_tokens WHERE user_id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(st, 1, id);
    return step_done(db, st, "delete API tokens", eb);
}

static bb_err user_update(sqlite3 *db, const char *name, const char *sql, const char *text,
                          int num, int tokens, const char *action, bb_errbuf *eb)
{
    struct hq_user u;
    sqlite3_stmt *st;
    char detail[80];
    bb_err err;

    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    if ((err = hq_user_get(db, name, &u, eb)) != BB_OK ||
        (err = bb_db_prepare(db, sql, &st, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, u.id);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int(st, 2, num);
    snprintf(detail, sizeof detail, "user=%s", u.name);
    if ((err = step_done(db, st, "update the user", eb)) != BB_OK ||
        (err = forget_user_secrets(db, u.id, tokens, eb)) != BB_OK ||
        (err = hq_audit(db, "cli", action, NULL, detail, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;
    return BB_OK;
fail:
    bb_db_rollback(db);
    return err;
}

bb_err hq_user_set_disabled(sqlite3 *db, const char *name, int disabled, bb_errbuf *eb)
{
    return user_update(db, name, "UPDATE users SET disabled = ?2 WHERE id = ?1", NULL,
                       disabled ? 1 : 0, disabled, disabled ? "user_disable" : "user_enable",
                       eb);
}

bb_err hq_user_set_password(sqlite3 *db, const char *name, const char *pw_hash, bb_errbuf *eb)
{
    /* A new password means the old one may be known: its API tokens go with its sessions. */
    return user_update(db, name, "UPDATE users SET pw_hash = ?2 WHERE id = ?1", pw_hash, 0, 1,
                       "user_password", eb);
}

/* ---- lockout ---------------------------------------------------------------- */

/* Seconds a key is still locked at now (0: not locked). */
static bb_err locked_for(sqlite3 *db, const char *key, int64_t now, int64_t *left,
                         bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *left = 0;
    if ((err = bb_db_prepare(db, "SELECT locked_until FROM signin_failures WHERE key = ?1", &st,
                             eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t until = sqlite3_column_int64(st, 0);
        *left = until > now ? until - now : 0;
    } else if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read sign-in failures", eb);
    }
    sqlite3_finalize(st);
    return err;
}

/* One more failure for key: a new window when the last one is over; lock at max. */
static bb_err count_failure(sqlite3 *db, const char *key, int max, int64_t now, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db,
            "INSERT INTO signin_failures (key, failures, first_unix, locked_until) "
            "VALUES (?1, 1, ?2, CASE WHEN ?3 <= 1 THEN ?2 + ?5 ELSE 0 END) "
            "ON CONFLICT (key) DO UPDATE SET "
            "  failures = CASE WHEN first_unix <= ?2 - ?4 THEN 1 ELSE failures + 1 END, "
            "  first_unix = CASE WHEN first_unix <= ?2 - ?4 THEN ?2 ELSE first_unix END, "
            "  locked_until = CASE WHEN (CASE WHEN first_unix <= ?2 - ?4 THEN 1 "
            "                             ELSE failures + 1 END) >= ?3 "
            "                 THEN ?2 + ?5 ELSE locked_until END",
            &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, max);
    sqlite3_bind_int(st, 4, HQ_SIGNIN_WINDOW_S);
    sqlite3_bind_int(st, 5, HQ_SIGNIN_LOCK_S);
    return step_done(db, st, "count a failed sign-in", eb);
}

/* Take back the failure counted for an attempt that turned out right (the address). */
static bb_err uncount_failure(sqlite3 *db, const char *key, int max, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db,
            "UPDATE signin_failures SET failures = max(failures - 1, 0), "
            "  locked_until = CASE WHEN failures - 1 < ?2 THEN 0 ELSE locked_until END "
            "WHERE key = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, max);
    return step_done(db, st, "take back a sign-in attempt", eb);
}

static bb_err clear_failures(sqlite3 *db, const char *key, int64_t now, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    /* This key, and (housekeeping) every window long over. */
    if ((err = bb_db_prepare(db, "DELETE FROM signin_failures WHERE key = ?1 OR "
                             "(first_unix < ?2 AND locked_until < ?3)", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - 24 * 3600);
    sqlite3_bind_int64(st, 3, now);
    return step_done(db, st, "clear sign-in failures", eb);
}

/* ---- sign-in -------------------------------------------------------------------- */

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[HQ_PW_HASH_MAX];

/* A hash to verify against when the user is unknown, so that it takes as long. */
static void make_dummy(void)
{
    if (hq_auth_hash_password("beatbook: no such user", dummy_hash, NULL) != BB_OK)
        dummy_hash[0] = '\0';
}

/* Text safe for an audit detail: the name if it is a valid one, else "?". */
static const char *audit_name(const char *name)
{
    return hq_auth_check_name(name, NULL) == BB_OK ? name : "?";
}

static bb_err session_insert(sqlite3 *db, int64_t user, const char *addr, int64_t now,
                             char session[HQ_SECRET_MAX], bb_errbuf *eb)
{
    char hash[BB_SHA256_HEX];
    sqlite3_stmt *st;
    bb_err err;

    if ((err = new_secret(session)) != BB_OK)
        return bb_fail(eb, err, "session: no randomness from the kernel");
    secret_hash(session, hash);
    if ((err = bb_db_prepare(db, "INSERT INTO sessions (id_hash, user_id, created_unix, "
                             "seen_unix, address) VALUES (?1, ?2, ?3, ?3, ?4)", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, user);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, addr, -1, SQLITE_STATIC);
    if ((err = step_done(db, st, "store the session", eb)) != BB_OK)
        return err;
    /* Housekeeping: sessions that can no longer be used. */
    if ((err = bb_db_prepare(db, "DELETE FROM sessions WHERE seen_unix < ?1 OR "
                             "created_unix < ?2", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(st, 1, now - HQ_SESSION_IDLE_S);
    sqlite3_bind_int64(st, 2, now - HQ_SESSION_ABSOLUTE_S);
    return step_done(db, st, "forget old sessions", eb);
}

bb_err hq_auth_signin(sqlite3 *db, const char *name, const char *pw, const char *addr,
                      int64_t now, enum hq_signin *result, struct hq_user *u,
                      char session[HQ_SECRET_MAX], int64_t *retry_after, bb_errbuf *eb)
{
    char ukey[8 + HQ_USER_NAME_MAX], akey[80], pw_hash[HQ_PW_HASH_MAX] = "", detail[200];
    int valid_name = hq_auth_check_name(name, NULL) == BB_OK;
    int have_user = 0, match = 0;
    int64_t left_addr = 0, left_user = 0;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *result = HQ_SIGNIN_BAD;
    *retry_after = 0;
    session[0] = '\0';
    memset(u, 0, sizeof *u);
    snprintf(ukey, sizeof ukey, "user:%s", valid_name ? name : "");
    snprintf(akey, sizeof akey, "addr:%.70s", addr);

    /*
     * Locked?  Then the password is not even looked at.  Otherwise the attempt
     * is counted as a failure now, in the same write transaction as the check,
     * and taken back if the password is right: so parallel guesses cannot all
     * pass the check before any of them is counted (exactly HQ_SIGNIN_USER_MAX
     * verifications, however many arrive at once).
     */
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    if ((err = locked_for(db, akey, now, &left_addr, eb)) != BB_OK ||
        (valid_name && (err = locked_for(db, ukey, now, &left_user, eb)) != BB_OK))
        goto fail;
    if (left_addr || left_user) {
        *result = left_addr ? HQ_SIGNIN_LOCKED_ADDR : HQ_SIGNIN_LOCKED_USER;
        *retry_after = left_addr > left_user ? left_addr : left_user;
        snprintf(detail, sizeof detail, "user=%s address=%.64s reason=%s", audit_name(name),
                 addr, left_addr ? "address_locked" : "user_locked");
        if ((err = hq_audit(db, "web", "signin_failed", NULL, detail, eb)) != BB_OK ||
            (err = bb_db_commit(db, eb)) != BB_OK)
            goto fail;
        return BB_OK;
    }
    if ((valid_name && (err = count_failure(db, ukey, HQ_SIGNIN_USER_MAX, now, eb)) != BB_OK) ||
        (err = count_failure(db, akey, HQ_SIGNIN_ADDR_MAX, now, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;

    if (valid_name) {
        if ((err = bb_db_prepare(db, "SELECT " USER_COLS ", u.pw_hash FROM users u "
                                 "WHERE u.name = ?1", &st, eb)) != BB_OK)
            return err;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            read_user(st, 0, u);
            hq_col_text(st, 7, pw_hash, sizeof pw_hash);
            have_user = 1;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return bb_db_err(db, rc, "read users", eb);
    }
    /* The verification runs whatever the name, and outside any transaction. */
    pthread_once(&dummy_once, make_dummy);
    if (pw && strlen(pw) <= HQ_PASSWORD_MAX) {
        const char *h = have_user ? pw_hash : dummy_hash;
        match = h[0] && argon2id_verify(h, pw, strlen(pw)) == ARGON2_OK;
    }
    mbedtls_platform_zeroize(pw_hash, sizeof pw_hash);
    match = match && have_user && !u->disabled;

    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    if (!match) {
        /* Already counted above. */
        snprintf(detail, sizeof detail, "user=%s address=%.64s reason=%s", audit_name(name),
                 addr, have_user && u->disabled ? "disabled" : "bad_password");
        if ((err = hq_audit(db, "web", "signin_failed", NULL, detail, eb)) != BB_OK ||
            (err = bb_db_commit(db, eb)) != BB_OK)
            goto fail;
        memset(u, 0, sizeof *u);
        return BB_OK;
    }
    if ((err = bb_time_format(now, BB_TAIPEI_OFFSET_MIN, u->last_signin)) != BB_OK) {
        bb_fail(eb, err, "sign in: cannot format the time");
        goto fail;
    }
    snprintf(detail, sizeof detail, "user=%s address=%.64s", u->name, addr);
    if ((err = clear_failures(db, ukey, now, eb)) != BB_OK ||
        (err = uncount_failure(db, akey, HQ_SIGNIN_ADDR_MAX, eb)) != BB_OK ||
        (err = session_insert(db, u->id, addr, now, session, eb)) != BB_OK ||
        (err = bb_db_prepare(db, "UPDATE users SET last_signin = ?2 WHERE id = ?1", &st,
                             eb)) != BB_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, u->id);
    sqlite3_bind_text(st, 2, u->last_signin, -1, SQLITE_STATIC);
    if ((err = step_done(db, st, "note the sign-in", eb)) != BB_OK ||
        (err = hq_audit(db, "web", "signin", NULL, detail, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;
    *result = HQ_SIGNIN_OK;
    return BB_OK;
fail:
    bb_db_rollback(db);
    mbedtls_platform_zeroize(session, HQ_SECRET_MAX);
    session[0] = '\0';
    memset(u, 0, sizeof *u);
    return err;
}

/* ---- sessions and tokens ---------------------------------------------------------- */

bb_err hq_session_lookup(sqlite3 *db, const char *session, int64_t now,
                         struct hq_principal *p, bb_errbuf *eb)
{
    char hash[BB_SHA256_HEX];
    int64_t created = 0, seen = 0;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    memset(p, 0, sizeof *p);
    if (!secret_ok(session))
        return bb_fail(eb, BB_ERR_NOTFOUND, "not signed in");
    secret_hash(session, hash);
    if ((err = bb_db_prepare(db, "SELECT " USER_COLS ", s.created_unix, s.seen_unix "
                             "FROM sessions s JOIN users u ON u.id = s.user_id "
                             "WHERE s.id_hash = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_user(st, 0, &p->user);
        created = sqlite3_column_int64(st, 7);
        seen = sqlite3_column_int64(st, 8);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bb_db_err(db, rc, "read sessions", eb);
    if (rc == SQLITE_DONE || p->user.disabled || now - seen > HQ_SESSION_IDLE_S ||
        now - created > HQ_SESSION_ABSOLUTE_S || now < created - 300) {
        if (rc == SQLITE_ROW)
            hq_session_end(db, session, NULL);     /* best effort */
        memset(p, 0, sizeof *p);
        return bb_fail(eb, BB_ERR_NOTFOUND, "the session has ended; sign in again");
    }
    /* This use restarts the idle clock; the absolute end stays. */
    p->expires = created + HQ_SESSION_ABSOLUTE_S;
    if (now + HQ_SESSION_IDLE_S < p->expires)
        p->expires = now + HQ_SESSION_IDLE_S;
    if (now - seen >= SEEN_EVERY_S &&
        bb_db_prepare(db, "UPDATE sessions SET seen_unix = ?2 WHERE id_hash = ?1", &st,
                      NULL) == BB_OK) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_step(st);       /* best effort: a busy store only delays the note */
        sqlite3_finalize(st);
    }
    return BB_OK;
}

bb_err hq_session_end(sqlite3 *db, const char *session, bb_errbuf *eb)
{
    char hash[BB_SHA256_HEX];
    sqlite3_stmt *st;
    bb_err err;

    if (!secret_ok(session))
        return BB_OK;
    secret_hash(session, hash);
    if ((err = bb_db_prepare(db, "DELETE FROM sessions WHERE id_hash = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    return step_done(db, st, "end the session", eb);
}

void hq_auth_csrf(const char *session, char out[HQ_CSRF_SIZE])
{
    static const char ctx[] = "beatbook csrf";
    uint8_t buf[sizeof ctx + SECRET_B64];
    size_t n = session ? strlen(session) : 0;

    if (n > SECRET_B64)
        n = SECRET_B64;
    memcpy(buf, ctx, sizeof ctx);          /* with its NUL */
    memcpy(buf + sizeof ctx, session ? session : "", n);
    bb_sha256_hex(buf, sizeof ctx + n, out);
    mbedtls_platform_zeroize(buf, sizeof buf);
}

int hq_auth_csrf_ok(const char *session, const char *given)
{
    char want[HQ_CSRF_SIZE];
    int ok;

    if (!secret_ok(session) || !given || strlen(given) != HQ_CSRF_SIZE - 1)
        return 0;
    hq_auth_csrf(session, want);
    ok = bb_ct_equal(want, given, HQ_CSRF_SIZE - 1);
    mbedtls_platform_zeroize(want, sizeof want);
    return ok;
}

bb_err hq_token_create(sqlite3 *db, const char *name, const char *label, int days,
                       char out[HQ_SECRET_MAX], bb_errbuf *eb)
{
    char secret[SECRET_B64 + 1], hash[BB_SHA256_HEX], now[BB_TIME_MAX], detail[160];
    struct hq_user u;
    sqlite3_stmt *st;
    bb_err err;

    out[0] = '\0';
    if (days < 1 || days > HQ_TOKEN_DAYS_MAX)
        return bb_fail(eb, BB_ERR_USAGE, "a token lasts 1 to %d days", HQ_TOKEN_DAYS_MAX);
    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return bb_fail(eb, err, "user token: cannot format the time");
    if ((err = new_secret(secret)) != BB_OK)
        return bb_fail(eb, err, "user token: no randomness from the kernel");
    snprintf(out, HQ_SECRET_MAX, TOKEN_PREFIX "%s", secret);
    secret_hash(out, hash);
    mbedtls_platform_zeroize(secret, sizeof secret);
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        goto fail_out;
    if ((err = hq_user_get(db, name, &u, eb)) != BB_OK)
        goto fail;
    if (u.disabled) {
        err = bb_fail(eb, BB_ERR_STATE, "user \"%s\" is disabled", u.name);
        goto fail;
    }
    if ((err = bb_db_prepare(db, "INSERT INTO api_tokens (token_hash, user_id, label, "
                             "created_at, expires_unix) VALUES (?1, ?2, ?3, ?4, ?5)", &st,
                             eb)) != BB_OK)
        goto fail;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, u.id);
    sqlite3_bind_text(st, 3, label ? label : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, bb_time_now() + (int64_t)days * 86400);
    snprintf(detail, sizeof detail, "user=%s days=%d", u.name, days);
    if ((err = step_done(db, st, "store the token", eb)) != BB_OK ||
        (err = hq_audit(db, "cli", "token_create", NULL, detail, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;
    return BB_OK;
fail:
    bb_db_rollback(db);
fail_out:
    mbedtls_platform_zeroize(out, HQ_SECRET_MAX);
    out[0] = '\0';
    return err;
}

bb_err hq_token_lookup(sqlite3 *db, const char *token, int64_t now, struct hq_principal *p,
                       bb_errbuf *eb)
{
    char hash[BB_SHA256_HEX];
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    memset(p, 0, sizeof *p);
    if (!token || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
        !secret_ok(token + strlen(TOKEN_PREFIX)))
        return bb_fail(eb, BB_ERR_NOTFOUND, "not a valid API token");
    secret_hash(token, hash);
    if ((err = bb_db_prepare(db, "SELECT " USER_COLS ", t.expires_unix FROM api_tokens t "
                             "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1", &st,
                             eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_user(st, 0, &p->user);
        p->expires = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bb_db_err(db, rc, "read API tokens", eb);
    if (rc == SQLITE_DONE || p->user.disabled || now >= p->expires) {
        memset(p, 0, sizeof *p);
        return bb_fail(eb, BB_ERR_NOTFOUND, "the API token is unknown, expired or its user "
                       "disabled");
    }
    p->via_token = 1;
    return BB_OK;
}
