/*
 * hq_auth — who may use HQ's review UI and JSON API (schema/migrations/hq/
 * 004_users.sql): users with argon2id password hashes, browser sessions,
 * API tokens, CSRF tokens and the sign-in lockout.  No HTTP here: hq_web
 * reads cookies and headers and calls these.
 *
 * Roles.  HQ_ROLE_HQ (a reviewer at HQ) sees every unit and may act on
 * quarantine; HQ_ROLE_PRECINCT (a precinct admin) sees only the records,
 * devices, quarantine and KPIs of its org unit and the units under it
 * (bb_catalog_unit_within).  hq_web checks the role on every request.
 *
 * Secrets.  A session id and an API token are 32 random bytes, written as 43
 * characters of unpadded base64url (API tokens carry the prefix "bbt_"); the
 * store keeps only their SHA-256.  Passwords are kept as argon2id encoded
 * hashes (t = 2, m = 19 MiB, p = 1, 16-byte salt), verified in constant time;
 * an unknown user name costs the same verification, so timing tells nothing.
 * The CSRF token of a session is SHA-256("beatbook csrf" NUL session id) in
 * hex: known to the page (from GET /v1/session), never to another site, and
 * nothing to store.  Nothing here logs or stores a password or id.
 *
 * Lockout.  Failed sign-ins are counted per user name (known or not, so a
 * lockout tells nothing about which names exist) and per client address in
 * a window of HQ_SIGNIN_WINDOW_S; HQ_SIGNIN_USER_MAX failures lock the name
 * and HQ_SIGNIN_ADDR_MAX the address for HQ_SIGNIN_LOCK_S.  A locked sign-in
 * is refused without looking at the password.
 *
 * Errors: bb_err (SQLite codes via bb_db_err, BB_ERR_NOMEM); BB_ERR_NOTFOUND
 * for an unknown user, session or token; BB_ERR_EXISTS for a taken name;
 * BB_ERR_USAGE for a name, role or password that breaks the rules (message
 * in eb says which).  Functions that write say whether they open their own
 * transaction.
 */
#ifndef HQ_AUTH_H
#define HQ_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "bb_catalog.h"
#include "bb_err.h"

#define HQ_USER_NAME_MAX 40          /* [A-Za-z0-9._-], first a letter or digit */
#define HQ_PASSWORD_MIN 10           /* bytes */
#define HQ_PASSWORD_MAX 256
#define HQ_PW_HASH_MAX 160           /* an encoded argon2id hash, incl. NUL */
#define HQ_SECRET_MAX 48             /* a session id or API token, incl. NUL */
#define HQ_CSRF_SIZE 65              /* 64 hex + NUL */

#define HQ_SESSION_IDLE_S (30 * 60)       /* signed out after 30 min without a request */
#define HQ_SESSION_ABSOLUTE_S (12 * 3600) /* and after 12 h in any case */
#define HQ_SIGNIN_WINDOW_S (15 * 60)
#define HQ_SIGNIN_USER_MAX 5
#define HQ_SIGNIN_ADDR_MAX 20
#define HQ_SIGNIN_LOCK_S (15 * 60)
#define HQ_TOKEN_DAYS_MAX 366

enum hq_role { HQ_ROLE_HQ = 1, HQ_ROLE_PRECINCT = 2 };

const char *hq_role_name(enum hq_role r);          /* "hq", "precinct" */
bb_err hq_role_parse(const char *s, enum hq_role *out);

struct hq_user {
    int64_t id;
    char name[HQ_USER_NAME_MAX + 1];
    enum hq_role role;
    char org[32];                  /* "" for hq */
    int disabled;
    char created_at[32], last_signin[32];
};

/* The rules for names and passwords (BB_ERR_USAGE with the rule in eb). */
bb_err hq_auth_check_name(const char *name, bb_errbuf *eb);
bb_err hq_auth_check_password(const char *pw, bb_errbuf *eb);

/* argon2id encoded hash of pw into out (HQ_PW_HASH_MAX bytes). */
bb_err hq_auth_hash_password(const char *pw, char out[HQ_PW_HASH_MAX], bb_errbuf *eb);

/*
 * Add a user (own transaction, with an audit entry).  A precinct admin
 * needs org, a unit of cat; an HQ reviewer must have none.
 */
bb_err hq_user_add(sqlite3 *db, const bb_catalog *cat, const char *name, enum hq_role role,
                   const char *org, const char *pw_hash, bb_errbuf *eb);

/* Look a user up by name; BB_ERR_NOTFOUND when unknown. */
bb_err hq_user_get(sqlite3 *db, const char *name, struct hq_user *u, bb_errbuf *eb);

/* Every user by name (*n of them; caller frees *list). */
bb_err hq_user_list(sqlite3 *db, struct hq_user **list, size_t *n, bb_errbuf *eb);

/*
 * Disable (or enable again) a user, in its own transaction; disabling also
 * ends its sessions and deletes its API tokens.  Audited.
 */
bb_err hq_user_set_disabled(sqlite3 *db, const char *name, int disabled, bb_errbuf *eb);

/* A new password hash for a user (own transaction; ends its sessions and deletes its
 * API tokens: whoever knew the old password may have made one).  Audited. */
bb_err hq_user_set_password(sqlite3 *db, const char *name, const char *pw_hash,
                            bb_errbuf *eb);

/* ---- sign-in and sessions ------------------------------------------------- */

enum hq_signin {
    HQ_SIGNIN_OK = 0,
    HQ_SIGNIN_BAD,                 /* wrong name or password, or a disabled user */
    HQ_SIGNIN_LOCKED_USER,         /* too many failures for this name */
    HQ_SIGNIN_LOCKED_ADDR          /* too many failures from this address */
};

/*
 * Check name and password from client address addr at time now.  On
 * HQ_SIGNIN_OK a session is stored and its id written to session (the
 * cookie value), u is the user.  On a lockout *retry_after is the seconds
 * left.  Failures are counted and audited; the password verification runs
 * outside any transaction.
 */
bb_err hq_auth_signin(sqlite3 *db, const char *name, const char *pw, const char *addr,
                      int64_t now, enum hq_signin *result, struct hq_user *u,
                      char session[HQ_SECRET_MAX], int64_t *retry_after, bb_errbuf *eb);

struct hq_principal {
    struct hq_user user;
    int via_token;                 /* an API token (no cookie, no CSRF) */
    int64_t expires;               /* Unix seconds: the session's or token's end */
};

/*
 * The user of a live session id (from the cookie); BB_ERR_NOTFOUND when the
 * id is malformed, unknown, idle too long, too old or its user disabled.
 * Notes the use (at most once a minute, best effort).
 */
bb_err hq_session_lookup(sqlite3 *db, const char *session, int64_t now,
                         struct hq_principal *p, bb_errbuf *eb);

/* Sign out: forget the session (unknown: fine). */
bb_err hq_session_end(sqlite3 *db, const char *session, bb_errbuf *eb);

/* The CSRF token of a session id, and a constant-time check of one given. */
void hq_auth_csrf(const char *session, char out[HQ_CSRF_SIZE]);
int hq_auth_csrf_ok(const char *session, const char *given);

/* ---- API tokens ----------------------------------------------------------- */

/*
 * A new API token for user name, valid for days (1..HQ_TOKEN_DAYS_MAX); the
 * token ("bbt_" + 43 characters) is written to out once and never stored.
 * Own transaction; audited.
 */
bb_err hq_token_create(sqlite3 *db, const char *name, const char *label, int days,
                       char out[HQ_SECRET_MAX], bb_errbuf *eb);

/* The user of a live API token ("Authorization: Bearer ..."); BB_ERR_NOTFOUND else. */
bb_err hq_token_lookup(sqlite3 *db, const char *token, int64_t now, struct hq_principal *p,
                       bb_errbuf *eb);

#endif
