/*
 * bb_outbox.c — enrollment, sealing, receipts, export and purge on the
 * laptop's store (see bb_outbox.h for the contract and the invariants).
 *
 * Every statement is prepared with bound parameters.  Every change of state
 * is one transaction (BEGIN IMMEDIATE: the write lock is taken first, so the
 * next seq and prev are read under it and two sealers — `beatbook seal` and
 * beatbook-syncd — cannot both claim the same seq).
 *
 * Secrets: the enrollment token is read into a buffer that is wiped when
 * the outbox is freed, and is copied only into the registration document,
 * which the caller wipes.  The record JSON built for a batch is police data
 * in the clear and is wiped before it is freed.
 */
#include "bb_outbox.h"
#include "bb_outbox_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "bb_batch.h"
#include "bb_codec.h"
#include "bb_db.h"
#include "bb_enroll.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"
#include "bb_time.h"
#include "bb_uuid.h"

#define wipe mbedtls_platform_zeroize

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define RECEIPT_MAX ((size_t)64 * 1024 * 1024)
#define ANSWER_MAX ((size_t)64 * 1024)
#define CONF_MAX ((size_t)64 * 1024)
#define REASON_MAX 1000


/* ---- Settings --------------------------------------------------------------- */

void bb_outbox_config_defaults(struct bb_outbox_config *c)
{
    c->interval_s = 300;
    c->retention_days = 30;
    c->batch_max_records = 5000;
    c->batch_max_bytes = 8L * 1024 * 1024;
}

static const struct conf_key {
    const char *name;
    long min, max;
    const char *units;          /* accepted suffixes, "" for none */
} conf_keys[] = {
    {"interval", 1, 86400, "smh"},
    {"retention_days", 0, 3650, ""},
    {"batch_max_records", 1, 100000, ""},
    {"batch_max_bytes", 64L * 1024, 32L * 1024 * 1024, "KM"},
};

static long *conf_slot(struct bb_outbox_config *c, size_t i)
{
    switch (i) {
    case 0: return &c->interval_s;
    case 1: return &c->retention_days;
    case 2: return &c->batch_max_records;
    default: return &c->batch_max_bytes;
    }
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* A decimal number with an optional unit from k->units. */
static bb_err conf_value(const struct conf_key *k, const char *v, long *out,
                         const char *path, int line, enum bb_lang lang, bb_errbuf *eb)
{
    char *end;
    long n, mul = 1;

    errno = 0;
    if (!isdigit((unsigned char)v[0]))
        goto bad;
    n = strtol(v, &end, 10);
    if (errno != 0)
        goto bad;
    if (*end) {
        if (end[1] != '\0' || !strchr(k->units, *end) || !*k->units)
            goto bad;
        switch (*end) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'K': mul = 1024; break;
        case 'M': mul = 1024L * 1024; break;
        default: goto bad;
        }
    }
    if (n > LONG_MAX / mul || n * mul < k->min || n * mul > k->max)
        return bb_fail(eb, BB_ERR_CONFIG,
                       BB_L(lang, "%s line %d: %s = %s is out of range (%ld to %ld%s)",
                            "%s 第 %d 行：%s = %s 超出範圍（%ld 到 %ld%s）"),
                       path, line, k->name, v, k->min, k->max,
                       strcmp(k->name, "interval") == 0 ? BB_L(lang, " seconds", " 秒") :
                       strcmp(k->name, "batch_max_bytes") == 0 ? BB_L(lang, " bytes", " 位元組") :
                       "");
    *out = n * mul;
    return BB_OK;
bad:
    if (lang != BB_LANG_EN)
        return bb_fail(eb, BB_ERR_CONFIG, "%s 第 %d 行：%s = 「%s」不是%s", path, line, k->name,
                       v,
                       strcmp(k->units, "smh") == 0 ? "秒數（或加上單位：30s、5m、1h）" :
                       strcmp(k->units, "KM") == 0 ? "位元組數（或加上單位：512K、8M）" : "數字");
    return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: %s = \"%s\" is not a number%s", path, line,
                   k->name, v,
                   strcmp(k->units, "smh") == 0 ? " of seconds (or with a unit: 30s, 5m, 1h)" :
                   strcmp(k->units, "KM") == 0 ? " of bytes (or with a unit: 512K, 8M)" : "");
}

bb_err bb_outbox_config_load(const char *path, int missing_ok, struct bb_outbox_config *c,
                             bb_errbuf *eb)
{
    return bb_outbox_config_load_lang(path, missing_ok, BB_LANG_EN, c, eb);
}

bb_err bb_outbox_config_load_lang(const char *path, int missing_ok, enum bb_lang lang,
                                  struct bb_outbox_config *c, bb_errbuf *eb)
{
    struct bb_outbox_config tmp = *c;
    int seen[sizeof conf_keys / sizeof conf_keys[0]] = {0};
    char *text = NULL, *p, *nl;
    size_t len, i;
    int line = 0;
    bb_err err;

    if (missing_ok && access(path, F_OK) != 0 && errno == ENOENT)
        return BB_OK;
    if ((err = bb_read_file(path, CONF_MAX, &text, &len, eb)) != BB_OK) {
        if (err != BB_ERR_TOOBIG)
            err = err == BB_ERR_NOMEM ? err : BB_ERR_CONFIG;
        return err;
    }
    if (strlen(text) != len) {
        free(text);
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "%s: not a text file (it contains NUL bytes)",
                                               "%s：不是文字檔（含有 NUL 位元組）"), path);
    }
    for (p = text; p && *p; p = nl) {
        char *eq, *key, *val;
        nl = strchr(p, '\n');
        if (nl)
            *nl++ = '\0';
        line++;
        if ((eq = strchr(p, '#')) != NULL)
            *eq = '\0';
        key = trim(p);
        if (!*key)
            continue;
        if (!(eq = strchr(key, '='))) {
            err = bb_fail(eb, BB_ERR_CONFIG,
                          BB_L(lang, "%s line %d: expected \"key = value\", found \"%.60s\"",
                               "%s 第 %d 行：應為「key = value」，卻是「%.60s」"),
                          path, line, key);
            goto out;
        }
        *eq = '\0';
        val = trim(eq + 1);
        key = trim(key);
        for (i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++)
            if (strcmp(key, conf_keys[i].name) == 0)
                break;
        if (i == sizeof conf_keys / sizeof conf_keys[0]) {
            err = bb_fail(eb, BB_ERR_CONFIG,
                          BB_L(lang, "%s line %d: unknown setting \"%.60s\" (known: interval, "
                                     "retention_days, batch_max_records, batch_max_bytes)",
                               "%s 第 %d 行：沒有「%.60s」這個設定（可用：interval、retention_days、"
                               "batch_max_records、batch_max_bytes）"), path, line, key);
            goto out;
        }
        if (seen[i]) {
            err = bb_fail(eb, BB_ERR_CONFIG,
                          BB_L(lang, "%s line %d: %s is already set on line %d",
                               "%s 第 %d 行：%s 已在第 %d 行設定過"), path, line, key, seen[i]);
            goto out;
        }
        seen[i] = line;
        if (!*val) {
            err = bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "%s line %d: %s has no value",
                                                  "%s 第 %d 行：%s 沒有值"), path, line, key);
            goto out;
        }
        if ((err = conf_value(&conf_keys[i], val, conf_slot(&tmp, i), path, line, lang, eb)) !=
            BB_OK)
            goto out;
    }
    *c = tmp;
    err = BB_OK;
out:
    free(text);
    return err;
}

/* ---- Small SQL helpers ------------------------------------------------------ */

bb_err bb_outbox_i_step_done(sqlite3 *db, sqlite3_stmt *q, const char *action, bb_errbuf *eb)
{
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, action, eb);
}

static char *dup_col(sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    return t ? strdup((const char *)t) : NULL;
}

static void copy_col(sqlite3_stmt *q, int col, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

static void free_secret(char *s)
{
    if (s) {
        wipe(s, strlen(s));
        free(s);
    }
}

void bb_outbox_secret_free(char *s)
{
    free_secret(s);
}

int bb_outbox_i_table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *q;
    int found = 0;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return found;
}

static void iso_of(int64_t t, char out[BB_TIME_MAX])
{
    if (bb_time_format(t, BB_TAIPEI_OFFSET_MIN, out) != BB_OK)
        snprintf(out, BB_TIME_MAX, "?");
}

/* ---- Opening ---------------------------------------------------------------- */

static bb_err load_enrollment(bb_outbox *ob, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    uint8_t *der = NULL;
    size_t der_len = 0, pk_len = 0;
    char *x25519 = NULL, *signpub = NULL;
    bb_err err;
    int rc;

    if (!bb_outbox_i_table_exists(ob->db, "enrollment"))
        return BB_OK;
    if ((err = bb_db_prepare(ob->db,
                             "SELECT hq_url, tls_pin, tls_ca, hq_x25519, hq_x25519_key, hq_sign_pub,"
                             " hq_sign_key, label, device_key, token, registered_at"
                             " FROM enrollment WHERE id = 1", &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(q);
        return BB_OK;
    }
    if (rc != SQLITE_ROW) {
        err = bb_db_err(ob->db, rc, "read enrollment", eb);
        sqlite3_finalize(q);
        return err;
    }
    ob->url = dup_col(q, 0);
    ob->pin = dup_col(q, 1);
    ob->ca = dup_col(q, 2);
    x25519 = dup_col(q, 3);
    copy_col(q, 4, ob->hq_x25519_key, sizeof ob->hq_x25519_key);
    signpub = dup_col(q, 5);
    copy_col(q, 6, ob->hq_sign_key, sizeof ob->hq_sign_key);
    ob->label = dup_col(q, 7);
    copy_col(q, 8, ob->device_key_id, sizeof ob->device_key_id);
    ob->token = dup_col(q, 9);
    ob->hq.registered = sqlite3_column_type(q, 10) != SQLITE_NULL;
    sqlite3_finalize(q);
    if (!ob->url || !ob->pin || !x25519 || !signpub || !ob->label) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    if (bb_base64_decode(x25519, strlen(x25519), ob->hq_x25519, sizeof ob->hq_x25519, &pk_len,
                         NULL) != BB_OK || pk_len != BB_HPKE_PK_LEN ||
        bb_base64_decode_alloc(signpub, strlen(signpub), &der, &der_len, NULL) != BB_OK ||
        bb_sign_pub_import_der(&ob->hq_sign, der, der_len, NULL) != BB_OK) {
        err = bb_fail(eb, BB_ERR_CORRUPT, "the enrollment stored in this store is damaged "
                      "(HQ's public keys); restore the store from a backup");
        goto out;
    }
    ob->hq.url = ob->url;
    ob->hq.tls_pin = ob->pin;
    ob->hq.tls_ca = ob->ca;
    ob->hq.label = ob->label;
    ob->enrolled = 1;
    err = BB_OK;
out:
    free(x25519);
    free(signpub);
    free(der);
    return err;
}

bb_err bb_outbox_open(sqlite3 *db, const char *home, bb_outbox **out, bb_errbuf *eb)
{
    bb_outbox *ob;
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    *out = NULL;
    if (!(ob = calloc(1, sizeof *ob)))
        return BB_ERR_NOMEM;
    ob->db = db;
    ob->lang = BB_LANG_EN;
    if (snprintf(ob->home, sizeof ob->home, "%s", home) >= (int)sizeof ob->home) {
        err = bb_fail(eb, BB_ERR_CONFIG, "%s: path too long", home);
        goto fail;
    }
    if ((err = bb_db_prepare(db, "SELECT value FROM meta WHERE key = 'device'", &q, eb)) != BB_OK)
        goto fail;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        copy_col(q, 0, ob->device, sizeof ob->device);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) {
        err = rc == SQLITE_DONE ? bb_fail(eb, BB_ERR_CORRUPT, "the store has no device id; "
                                          "was it made by `beatbook init`?")
                                : bb_db_err(db, rc, "read settings", eb);
        goto fail;
    }
    if ((err = load_enrollment(ob, eb)) != BB_OK)
        goto fail;
    *out = ob;
    return BB_OK;
fail:
    bb_outbox_free(ob);
    return err;
}

void bb_outbox_free(bb_outbox *ob)
{
    if (!ob)
        return;
    free(ob->url);
    free(ob->pin);
    free(ob->ca);
    free(ob->label);
    free_secret(ob->token);
    bb_sign_key_free(ob->hq_sign);
    bb_sign_key_free(ob->dev);
    wipe(ob, sizeof *ob);
    free(ob);
}

void bb_outbox_set_lang(bb_outbox *ob, enum bb_lang lang)
{
    ob->lang = lang;
}

const char *bb_outbox_device(const bb_outbox *ob)
{
    return ob->device;
}

const struct bb_outbox_hq *bb_outbox_hq(const bb_outbox *ob)
{
    return ob->enrolled ? &ob->hq : NULL;
}

bb_err bb_outbox_require_enrollment(const bb_outbox *ob, const char *what, bb_errbuf *eb)
{
    if (ob->enrolled)
        return BB_OK;
    if (ob->lang != BB_LANG_EN)
        return bb_fail(eb, BB_ERR_STATE,
                       "此資料庫未向總局註冊：可以記錄，但%s需要以總局的註冊檔建立的資料庫"
                       "（beatbook init --enroll FILE --officer ID）", what);
    return bb_fail(eb, BB_ERR_STATE,
                   "this store is not enrolled: it can record, but %s needs a store made with "
                   "`beatbook init --enroll FILE --officer ID` from HQ's enrollment file", what);
}

/* The same, saying what needs it in the outbox's language. */
static bb_err need_enrollment(const bb_outbox *ob, const char *en, const char *zh,
                              bb_errbuf *eb)
{
    return bb_outbox_require_enrollment(ob, BB_L(ob->lang, en, zh), eb);
}

/* device.key, checked against the key id stored at enrollment. */
static bb_err device_key(bb_outbox *ob, bb_errbuf *eb)
{
    char path[4200], kid[BB_KEY_ID_SIZE];
    bb_err err;

    if (ob->dev)
        return BB_OK;
    snprintf(path, sizeof path, "%s/%s", ob->home, BB_OUTBOX_KEY_FILE);
    if ((err = bb_sign_key_load(&ob->dev, path, eb)) != BB_OK) {
        if (err == BB_ERR_NOTFOUND)
            bb_fail(eb, err, BB_L(ob->lang, "%s is missing: this laptop cannot sign batches "
                                            "without it (restore it from the backup of this store)",
                                  "找不到 %s：沒有它，本機無法簽署批次（請從此資料庫的備份還原）"),
                    path);
        return err;
    }
    if ((err = bb_sign_key_id(ob->dev, kid, eb)) != BB_OK)
        return err;
    if (strcmp(kid, ob->device_key_id) != 0) {
        bb_sign_key_free(ob->dev);
        ob->dev = NULL;
        return bb_fail(eb, BB_ERR_STATE,
                       BB_L(ob->lang, "%s is not the key this store was enrolled with "
                                      "(key id %s, expected %s)",
                            "%s 不是此資料庫註冊時的金鑰（金鑰編號 %s，應為 %s）"),
                       path, kid, ob->device_key_id);
    }
    return BB_OK;
}

/* ---- Enrollment -------------------------------------------------------------- */

bb_err bb_outbox_save_enrollment(sqlite3 *db, const struct bb_enrollment *e,
                                 const char *device_key_id, bb_errbuf *eb)
{
    char x25519[BB_BASE64_SIZE(BB_HPKE_PK_LEN)], now[BB_TIME_MAX];
    char *signpub = NULL;
    uint8_t *der = NULL;
    size_t der_len;
    sqlite3_stmt *q;
    bb_err err;

    if ((err = bb_base64_encode(e->hq_x25519, sizeof e->hq_x25519, x25519, sizeof x25519, NULL,
                                eb)) != BB_OK ||
        (err = bb_sign_pub_export_der(e->hq_sign, &der, &der_len, eb)) != BB_OK ||
        (err = bb_base64_encode_alloc(der, der_len, &signpub, eb)) != BB_OK ||
        (err = bb_time_now_taipei(now)) != BB_OK)
        goto out;
    if ((err = bb_db_prepare(db,
                             "INSERT INTO enrollment (id, hq_url, tls_pin, tls_ca, hq_x25519,"
                             " hq_x25519_key, hq_sign_pub, hq_sign_key, label, issued_at, expires_at,"
                             " device_key, enrolled_at, token)"
                             " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                             &q, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(q, 1, e->hq_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, e->tls_pin, -1, SQLITE_STATIC);
    if (e->tls_ca)
        sqlite3_bind_text(q, 3, e->tls_ca, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, x25519, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, e->hq_x25519_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, signpub, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, e->hq_sign_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, e->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, e->issued_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, e->expires_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 11, device_key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 12, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 13, e->token, -1, SQLITE_STATIC);
    err = bb_outbox_i_step_done(db, q, "save enrollment", eb);
out:
    free(signpub);
    free(der);
    return err;
}

bb_err bb_outbox_registration(bb_outbox *ob, char **doc, size_t *len, bb_errbuf *eb)
{
    cJSON *o = NULL, *tok;
    uint8_t *der = NULL;
    size_t der_len;
    char *pub = NULL;
    bb_err err;

    *doc = NULL;
    *len = 0;
    if ((err = need_enrollment(ob, "registering with HQ", "向總局登錄", eb)) != BB_OK)
        return err;
    if (ob->hq.registered)
        return bb_fail(eb, BB_ERR_STATE, BB_L(ob->lang, "this laptop is already registered with HQ",
                                              "本機已向總局登錄"));
    if (!ob->token)
        return bb_fail(eb, BB_ERR_STATE,
                       BB_L(ob->lang, "the one-time enrollment token is no longer in this "
                                      "store; ask HQ for a new enrollment file",
                            "此資料庫中已沒有一次性的註冊密碼；請向總局索取新的註冊檔"));
    if ((err = device_key(ob, eb)) != BB_OK ||
        (err = bb_sign_pub_export_der(ob->dev, &der, &der_len, eb)) != BB_OK ||
        (err = bb_base64_encode_alloc(der, der_len, &pub, eb)) != BB_OK)
        goto out;
    if (!(o = cJSON_CreateObject()) || !cJSON_AddNumberToObject(o, "v", 1) ||
        !cJSON_AddStringToObject(o, "device", ob->device) ||
        !cJSON_AddStringToObject(o, "token", ob->token) ||
        !cJSON_AddStringToObject(o, "device_pub", pub) ||
        !cJSON_AddStringToObject(o, "device_key", ob->device_key_id)) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    if ((err = bb_sigdoc_sign(o, BB_CTX_REGISTER, ob->dev, eb)) != BB_OK)
        goto out;
    if (!(*doc = bb_json_canonical(o))) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    *len = strlen(*doc);
out:
    if (o && (tok = cJSON_GetObjectItemCaseSensitive(o, "token")) && cJSON_IsString(tok))
        wipe(tok->valuestring, strlen(tok->valuestring));
    cJSON_Delete(o);
    free(pub);
    free(der);
    return err;
}

/* Parse a signed JSON answer from HQ and verify it under context. */
static bb_err parse_signed(bb_outbox *ob, const char *text, size_t len, size_t cap,
                           const char *context, const char *what, cJSON **out, bb_errbuf *eb)
{
    const cJSON *v;
    bb_err err;

    *out = NULL;
    if (len > cap)
        return bb_fail(eb, BB_ERR_TOOBIG, "%s from HQ: %zu bytes is over the limit of %zu",
                       what, len, cap);
    if ((err = bb_json_parse(text, len, what, out, eb)) != BB_OK)
        return err;
    if (!cJSON_IsObject(*out)) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s from HQ: not a JSON object", what);
        goto fail;
    }
    if ((err = bb_sigdoc_verify(*out, context, ob->hq_sign, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "%s from HQ: HQ's signature", what);
        goto fail;
    }
    v = cJSON_GetObjectItemCaseSensitive(*out, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s from HQ: \"v\" is not 1", what);
        goto fail;
    }
    if (!bb_json_str(*out, "hq_sign_key") || strcmp(bb_json_str(*out, "hq_sign_key"),
                                                    ob->hq_sign_key) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, "%s from HQ: \"hq_sign_key\" is not HQ's key from "
                      "enrollment (%s)", what, ob->hq_sign_key);
        goto fail;
    }
    return BB_OK;
fail:
    cJSON_Delete(*out);
    *out = NULL;
    return err;
}

bb_err bb_outbox_registered(bb_outbox *ob, const char *answer, size_t len, bb_errbuf *eb)
{
    char now[BB_TIME_MAX];
    sqlite3_stmt *q;
    cJSON *doc = NULL;
    const char *s;
    bb_err err;

    if ((err = need_enrollment(ob, "registering with HQ", "向總局登錄", eb)) != BB_OK)
        return err;
    if ((err = parse_signed(ob, answer, len, ANSWER_MAX, BB_CTX_REGISTERED,
                            "registration answer", &doc, eb)) != BB_OK)
        return err;
    if (!(s = bb_json_str(doc, "device")) || strcmp(s, ob->device) != 0 ||
        !(s = bb_json_str(doc, "device_key")) || strcmp(s, ob->device_key_id) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, "registration answer from HQ: it names another "
                      "device or key than this laptop's (%s, key %s)", ob->device,
                      ob->device_key_id);
        goto out;
    }
    bb_time_now_taipei(now);
    /* secure_delete: the token's bytes are overwritten in the file, not just unlinked. */
    if ((err = bb_db_exec(ob->db, "PRAGMA secure_delete = ON", eb)) != BB_OK ||
        (err = bb_db_begin(ob->db, eb)) != BB_OK)
        goto out;
    if ((err = bb_db_prepare(ob->db, "UPDATE enrollment SET token = NULL, registered_at = ?1"
                             " WHERE id = 1", &q, eb)) != BB_OK) {
        bb_db_rollback(ob->db);
        goto out;
    }
    sqlite3_bind_text(q, 1, now, -1, SQLITE_STATIC);
    if ((err = bb_outbox_i_step_done(ob->db, q, "save registration", eb)) != BB_OK) {
        bb_db_rollback(ob->db);
        goto out;
    }
    if ((err = bb_db_commit(ob->db, eb)) != BB_OK)
        goto out;
    /* Move the committed pages (without the token) from the WAL into the file. */
    sqlite3_wal_checkpoint_v2(ob->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    free_secret(ob->token);
    ob->token = NULL;
    ob->hq.registered = 1;
out:
    cJSON_Delete(doc);
    return err;
}

/* ---- Sealing ----------------------------------------------------------------- */

/* Grow *buf to hold need bytes; the old contents are wiped (records in the clear). */
static bb_err reserve(char **buf, size_t *cap, size_t need)
{
    char *nb;
    size_t ncap = *cap ? *cap : 65536;

    if (need <= *cap)
        return BB_OK;
    while (ncap < need)
        ncap *= 2;
    if (!(nb = malloc(ncap)))
        return BB_ERR_NOMEM;
    if (*buf) {
        memcpy(nb, *buf, *cap);
        wipe(*buf, *cap);
        free(*buf);
    }
    *buf = nb;
    *cap = ncap;
    return BB_OK;
}

/*
 * Seal one batch from the oldest unsealed revisions, in one transaction.
 * *records: how many went in (0 when nothing was waiting).
 */
static bb_err seal_one(bb_outbox *ob, const struct bb_outbox_config *c, int64_t *seq_out,
                       long *records, bb_errbuf *eb)
{
    struct bb_batch_header h;
    sqlite3_stmt *q = NULL;
    char *json = NULL;
    size_t cap = 0, len = 0;
    int64_t last_rev_seq = 0;
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    char sha[BB_SHA256_HEX];
    long n = 0;
    bb_err err;
    int rc;

    *records = 0;
    memset(&h, 0, sizeof h);
    if ((err = bb_db_begin(ob->db, eb)) != BB_OK)
        return err;
    if ((err = bb_db_prepare(ob->db, "SELECT seq, body FROM revisions WHERE batch_seq IS NULL"
                             " ORDER BY seq LIMIT ?1", &q, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, c->batch_max_records);
    if ((err = reserve(&json, &cap, 2)) != BB_OK)
        goto fail;
    json[len++] = '[';
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(q, 1);
        size_t blen = (size_t)sqlite3_column_bytes(q, 1);
        /* The cap counts the whole array; a batch always takes at least one record. */
        if (n > 0 && len + 1 + blen + 1 > (size_t)c->batch_max_bytes)
            break;
        if (!body) {
            err = bb_fail(eb, BB_ERR_CORRUPT, "revision %lld has no body",
                          (long long)sqlite3_column_int64(q, 0));
            goto fail;
        }
        if ((err = reserve(&json, &cap, len + blen + 2)) != BB_OK)
            goto fail;
        if (n > 0)
            json[len++] = ',';
        memcpy(json + len, body, blen);
        len += blen;
        last_rev_seq = sqlite3_column_int64(q, 0);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = bb_db_err(ob->db, rc, "read revisions to seal", eb);
        goto fail;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (n == 0) {
        bb_db_rollback(ob->db);
        free(json);
        return BB_OK;
    }
    json[len++] = ']';
    json[len] = '\0';

    /* seq and prev under the write lock. */
    if ((err = bb_db_prepare(ob->db, "SELECT seq, sha256 FROM batches ORDER BY seq DESC LIMIT 1",
                             &q, eb)) != BB_OK)
        goto fail;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        h.seq = sqlite3_column_int64(q, 0) + 1;
        copy_col(q, 1, h.prev, sizeof h.prev);
    } else if (rc == SQLITE_DONE) {
        h.seq = 1;
        snprintf(h.prev, sizeof h.prev, "%s", ZERO_HASH);
    } else {
        err = bb_db_err(ob->db, rc, "read the last batch", eb);
        goto fail;
    }
    sqlite3_finalize(q);
    q = NULL;
    snprintf(h.device, sizeof h.device, "%s", ob->device);
    snprintf(h.hq_key, sizeof h.hq_key, "%s", ob->hq_x25519_key);
    snprintf(h.device_key, sizeof h.device_key, "%s", ob->device_key_id);
    h.count = n;
    if ((err = bb_uuid7(h.batch)) != BB_OK || (err = bb_time_now_taipei(h.created_at)) != BB_OK) {
        bb_fail(eb, err, "seal batch: no random numbers or clock");
        goto fail;
    }
    if ((err = bb_batch_seal(&h, json, len, ob->hq_x25519, ob->dev, &bytes, &nbytes, eb)) != BB_OK)
        goto fail;
    bb_sha256_hex(bytes, nbytes, sha);
    if ((err = bb_db_prepare(ob->db,
                             "INSERT INTO batches (seq, batch, sha256, prev, created_at, count, size,"
                             " bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &q, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, h.seq);
    sqlite3_bind_text(q, 2, h.batch, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, h.prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, h.created_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, n);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)nbytes);
    sqlite3_bind_blob64(q, 8, bytes, nbytes, SQLITE_STATIC);
    err = bb_outbox_i_step_done(ob->db, q, "save sealed batch", eb);
    q = NULL;
    if (err != BB_OK)
        goto fail;
    if ((err = bb_db_prepare(ob->db, "UPDATE revisions SET batch_seq = ?1"
                             " WHERE batch_seq IS NULL AND seq <= ?2", &q, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, h.seq);
    sqlite3_bind_int64(q, 2, last_rev_seq);
    err = bb_outbox_i_step_done(ob->db, q, "mark revisions as sealed", eb);
    q = NULL;
    if (err != BB_OK)
        goto fail;
    if (sqlite3_changes(ob->db) != n) {
        err = bb_fail(eb, BB_ERR_INTERNAL, "seal batch: %d revisions marked, %ld sealed",
                      sqlite3_changes(ob->db), n);
        goto fail;
    }
    if ((err = bb_db_commit(ob->db, eb)) != BB_OK)
        goto done;
    *records = n;
    *seq_out = h.seq;
    goto done;
fail:
    sqlite3_finalize(q);
    bb_db_rollback(ob->db);
done:
    if (json) {
        wipe(json, cap);
        free(json);
    }
    free(bytes);
    return err;
}

bb_err bb_outbox_seal(bb_outbox *ob, const struct bb_outbox_config *c,
                      struct bb_outbox_sealed *r, bb_errbuf *eb)
{
    bb_err err;

    memset(r, 0, sizeof *r);
    if ((err = need_enrollment(ob, "sealing batches", "封裝批次", eb)) != BB_OK ||
        (err = device_key(ob, eb)) != BB_OK)
        return err;
    for (;;) {
        int64_t seq = 0;
        long n = 0;
        if ((err = seal_one(ob, c, &seq, &n, eb)) != BB_OK)
            return err;
        if (n == 0)
            return BB_OK;
        if (r->batches++ == 0)
            r->first_seq = seq;
        r->last_seq = seq;
        r->records += n;
    }
}

/* ---- Sending ----------------------------------------------------------------- */

void bb_outbox_batch_clear(struct bb_outbox_batch *b)
{
    if (!b)
        return;
    free(b->bytes);
    memset(b, 0, sizeof *b);
}

bb_err bb_outbox_next_unacked(bb_outbox *ob, int64_t after_seq, struct bb_outbox_batch *b,
                              bb_errbuf *eb)
{
    sqlite3_stmt *q;
    const void *blob;
    bb_err err;
    int rc;

    memset(b, 0, sizeof *b);
    if ((err = bb_db_prepare(ob->db, "SELECT seq, batch, sha256, count, attempts, bytes"
                             " FROM batches WHERE state = 'sealed' AND seq > ?1"
                             " ORDER BY seq LIMIT 1", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(q, 1, after_seq);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(q);
        if (rc == SQLITE_DONE)
            return bb_fail(eb, BB_ERR_NOTFOUND, "no batch waiting to be sent");
        return bb_db_err(ob->db, rc, "read outbox", eb);
    }
    b->seq = sqlite3_column_int64(q, 0);
    copy_col(q, 1, b->batch, sizeof b->batch);
    copy_col(q, 2, b->sha256, sizeof b->sha256);
    b->count = sqlite3_column_int64(q, 3);
    b->attempts = (long)sqlite3_column_int64(q, 4);
    blob = sqlite3_column_blob(q, 5);
    b->len = (size_t)sqlite3_column_bytes(q, 5);
    if (!blob || b->len == 0) {
        sqlite3_finalize(q);
        err = bb_fail(eb, BB_ERR_CORRUPT, "batch %lld has no bytes in the outbox",
                      (long long)b->seq);
        memset(b, 0, sizeof *b);
        return err;
    }
    if (!(b->bytes = malloc(b->len))) {
        sqlite3_finalize(q);
        memset(b, 0, sizeof *b);
        return BB_ERR_NOMEM;
    }
    memcpy(b->bytes, blob, b->len);
    sqlite3_finalize(q);
    return BB_OK;
}

bb_err bb_outbox_pending(bb_outbox *ob, long *batches, uint64_t *bytes, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    *batches = 0;
    *bytes = 0;
    if ((err = bb_db_prepare(ob->db, "SELECT count(*), coalesce(sum(size), 0) FROM batches"
                             " WHERE state = 'sealed'", &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *batches = (long)sqlite3_column_int64(q, 0);
        *bytes = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? BB_OK : bb_db_err(ob->db, rc, "read outbox", eb);
}

bb_err bb_outbox_attempt(bb_outbox *ob, int64_t seq, const char *error, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    if ((err = bb_db_prepare(ob->db,
                             error ? "UPDATE batches SET last_attempt_at = ?2, last_error = ?3"
                                     " WHERE seq = ?1"
                                   : "UPDATE batches SET attempts = attempts + 1,"
                                     " last_attempt_at = ?2, last_error = NULL WHERE seq = ?1",
                             &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(q, 1, seq);
    sqlite3_bind_int64(q, 2, bb_time_now());
    if (error)
        sqlite3_bind_text(q, 3, error, -1, SQLITE_STATIC);
    return bb_outbox_i_step_done(ob->db, q, "note send attempt", eb);
}

/* Is (id, rev) a revision sealed in batch seq? */
static bb_err in_batch(bb_outbox *ob, sqlite3_stmt *q, int64_t seq, const char *id, int64_t rev,
                       int *yes, bb_errbuf *eb)
{
    int rc;

    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, seq);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, rev);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bb_db_err(ob->db, rc, "check receipt", eb);
    *yes = rc == SQLITE_ROW;
    return BB_OK;
}

/* Accept a receipt; with dry, every check and write is made and then rolled back. */
static bb_err ack_receipt(bb_outbox *ob, int64_t seq, const char *receipt, size_t len,
                          struct bb_outbox_ack *r, int dry, bb_errbuf *eb)
{
    char batch[37] = "", sha[BB_SHA256_HEX] = "", state[16] = "";
    int64_t count = 0;
    sqlite3_stmt *q = NULL, *chk = NULL, *ins = NULL;
    const cJSON *v, *recs, *it;
    cJSON *doc = NULL;
    const char *s;
    bb_err err;
    int rc;

    memset(r, 0, sizeof *r);
    if ((err = need_enrollment(ob, "accepting receipts", "接收回執", eb)) != BB_OK)
        return err;
    if ((err = bb_db_prepare(ob->db, "SELECT batch, sha256, count, state FROM batches"
                             " WHERE seq = ?1", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(q, 1, seq);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        copy_col(q, 0, batch, sizeof batch);
        copy_col(q, 1, sha, sizeof sha);
        count = sqlite3_column_int64(q, 2);
        copy_col(q, 3, state, sizeof state);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? bb_fail(eb, BB_ERR_NOTFOUND, "no batch %lld in the outbox",
                                           (long long)seq)
                                 : bb_db_err(ob->db, rc, "read outbox", eb);
    if ((err = parse_signed(ob, receipt, len, RECEIPT_MAX, BB_CTX_RECEIPT, "receipt", &doc,
                            eb)) != BB_OK)
        return err;
    v = cJSON_GetObjectItemCaseSensitive(doc, "seq");
    if (!(s = bb_json_str(doc, "batch")) || strcmp(s, batch) != 0 ||
        !(s = bb_json_str(doc, "device")) || strcmp(s, ob->device) != 0 ||
        !cJSON_IsNumber(v) || v->valuedouble != (double)seq ||
        !(s = bb_json_str(doc, "sha256")) || strcmp(s, sha) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, "receipt from HQ: it is not for batch %lld of this "
                      "laptop (batch, device, seq or sha256 differ)", (long long)seq);
        goto out;
    }
    recs = cJSON_GetObjectItemCaseSensitive(doc, "records");
    if (!cJSON_IsArray(recs) || cJSON_GetArraySize(recs) != count) {
        err = bb_fail(eb, BB_ERR_INVALID, "receipt from HQ for batch %lld: \"records\" must list "
                      "each of its %lld records", (long long)seq, (long long)count);
        goto out;
    }
    if (strcmp(state, "acked") == 0) {
        r->already = 1;
        goto out;
    }
    if ((err = bb_db_begin(ob->db, eb)) != BB_OK)
        goto out;
    if ((err = bb_db_prepare(ob->db, "SELECT 1 FROM revisions WHERE batch_seq = ?1 AND id = ?2"
                             " AND rev = ?3", &chk, eb)) != BB_OK ||
        (err = bb_db_prepare(ob->db, "INSERT OR REPLACE INTO batch_rejects (batch_seq, id, rev,"
                             " reason) VALUES (?1, ?2, ?3, ?4)", &ins, eb)) != BB_OK)
        goto fail;
    cJSON_ArrayForEach(it, recs) {
        const char *id = bb_json_str(it, "id"), *res = bb_json_str(it, "result");
        const cJSON *rev = cJSON_GetObjectItemCaseSensitive(it, "rev");
        int yes = 0;
        if (!id || !res || !cJSON_IsNumber(rev)) {
            err = bb_fail(eb, BB_ERR_INVALID, "receipt from HQ for batch %lld: a record without "
                          "\"id\", \"rev\" or \"result\"", (long long)seq);
            goto fail;
        }
        if ((err = in_batch(ob, chk, seq, id, (int64_t)rev->valuedouble, &yes, eb)) != BB_OK)
            goto fail;
        if (!yes) {
            err = bb_fail(eb, BB_ERR_INVALID, "receipt from HQ for batch %lld: record %s rev %lld "
                          "was not in that batch", (long long)seq, id, (long long)rev->valuedouble);
            goto fail;
        }
        if (strcmp(res, "merged") == 0) {
            r->merged++;
        } else if (strcmp(res, "duplicate") == 0) {
            r->duplicates++;
        } else if (strcmp(res, "rejected") == 0) {
            const char *why = bb_json_str(it, "reason");
            r->rejected++;
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, seq);
            sqlite3_bind_text(ins, 2, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 3, (int64_t)rev->valuedouble);
            sqlite3_bind_text(ins, 4, why && *why ? why : "(HQ gave no reason)", -1,
                              SQLITE_TRANSIENT);
            if ((rc = sqlite3_step(ins)) != SQLITE_DONE) {
                err = bb_db_err(ob->db, rc, "save rejected record", eb);
                goto fail;
            }
        } else {
            err = bb_fail(eb, BB_ERR_INVALID, "receipt from HQ for batch %lld: unknown result "
                          "\"%.40s\"", (long long)seq, res);
            goto fail;
        }
    }
    if ((err = bb_db_prepare(ob->db,
                             "UPDATE batches SET state = 'acked', receipt = ?2, acked_at = ?3,"
                             " merged = ?4, duplicates = ?5, rejected_records = ?6,"
                             " last_error = NULL, rejected_status = NULL, rejected_reason = NULL"
                             " WHERE seq = ?1 AND state != 'acked'", &q, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, seq);
    sqlite3_bind_text(q, 2, receipt, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, bb_time_now());
    sqlite3_bind_int64(q, 4, r->merged);
    sqlite3_bind_int64(q, 5, r->duplicates);
    sqlite3_bind_int64(q, 6, r->rejected);
    err = bb_outbox_i_step_done(ob->db, q, "save receipt", eb);
    q = NULL;
    if (err != BB_OK)
        goto fail;
    sqlite3_finalize(chk);
    sqlite3_finalize(ins);
    chk = ins = NULL;
    if (dry) {
        bb_db_rollback(ob->db);
        goto out;
    }
    err = bb_db_commit(ob->db, eb);
    goto out;
fail:
    sqlite3_finalize(chk);
    sqlite3_finalize(ins);
    bb_db_rollback(ob->db);
out:
    cJSON_Delete(doc);
    return err;
}

bb_err bb_outbox_ack(bb_outbox *ob, int64_t seq, const char *receipt, size_t len,
                     struct bb_outbox_ack *r, bb_errbuf *eb)
{
    return ack_receipt(ob, seq, receipt, len, r, 0, eb);
}

bb_err bb_outbox_ack_check(bb_outbox *ob, int64_t seq, const char *receipt, size_t len,
                           struct bb_outbox_ack *r, bb_errbuf *eb)
{
    return ack_receipt(ob, seq, receipt, len, r, 1, eb);
}

bb_err bb_outbox_reject(bb_outbox *ob, int64_t seq, int status, const char *reason,
                        bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    if ((err = bb_db_prepare(ob->db,
                             "UPDATE batches SET state = 'rejected', rejected_status = ?2,"
                             " rejected_reason = substr(?3, 1, 1000), last_error = substr(?3, 1, 1000)"
                             " WHERE seq = ?1 AND state = 'sealed'", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(q, 1, seq);
    sqlite3_bind_int(q, 2, status);
    sqlite3_bind_text(q, 3, reason, -1, SQLITE_STATIC);
    return bb_outbox_i_step_done(ob->db, q, "mark batch rejected", eb);
}

bb_err bb_outbox_note_run(bb_outbox *ob, const char *error, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    if ((err = bb_db_prepare(ob->db,
                             "INSERT INTO sync_state (id, last_attempt_at, last_success_at, last_error)"
                             " VALUES (1, ?1, CASE WHEN ?2 IS NULL THEN ?1 END, substr(?2, 1, 1000))"
                             " ON CONFLICT (id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
                             " last_success_at = coalesce(excluded.last_success_at, last_success_at),"
                             " last_error = excluded.last_error", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(q, 1, bb_time_now());
    if (error)
        sqlite3_bind_text(q, 2, error, -1, SQLITE_STATIC);
    return bb_outbox_i_step_done(ob->db, q, "note sync run", eb);
}

/* ---- USB export -------------------------------------------------------------- */

/* "action path: why"; action is in lang. */
/* ---- Status reports ---------------------------------------------------------- */

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

/* The next status counter, in its own transaction. */
static bb_err next_status_counter(bb_outbox *ob, int64_t *out, bb_errbuf *eb)
{
    sqlite3_stmt *q = NULL;
    int64_t n = 0;
    bb_err err;
    int rc;

    if ((err = bb_db_begin(ob->db, eb)) != BB_OK)
        return err;
    if ((err = bb_db_prepare(ob->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                             "'status_counter'", &q, eb)) != BB_OK)
        goto fail;
    if ((rc = sqlite3_step(q)) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    else if (rc != SQLITE_DONE) {
        err = bb_db_err(ob->db, rc, "read status counter", eb);
        goto fail;
    }
    sqlite3_finalize(q);
    q = NULL;
    n = n < 0 ? 1 : n + 1;
    if ((err = bb_db_prepare(ob->db, "INSERT INTO meta (key, value) VALUES ('status_counter', "
                             "?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             &q, eb)) != BB_OK)
        goto fail;
    {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)n);
        sqlite3_bind_text(q, 1, num, -1, SQLITE_TRANSIENT);
    }
    if ((rc = sqlite3_step(q)) != SQLITE_DONE) {
        err = bb_db_err(ob->db, rc, "store status counter", eb);
        goto fail;
    }
    sqlite3_finalize(q);
    if ((err = bb_db_commit(ob->db, eb)) != BB_OK)
        return err;
    *out = n;
    return BB_OK;
fail:
    sqlite3_finalize(q);
    bb_db_rollback(ob->db);
    return err;
}

/* Fill the counts and lists of a status report from the store. */
static bb_err status_facts(bb_outbox *ob, cJSON *o, bb_errbuf *eb)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM revisions WHERE batch_seq IS NULL",
        "SELECT count(*), coalesce(sum(count), 0) FROM batches WHERE state = 'sealed'",
        "SELECT count(*) FROM batches WHERE state = 'rejected'",
        "SELECT count(*) FROM records WHERE status = 'draft'",
        "SELECT max(recorded_at) FROM records",
        "SELECT version FROM reference WHERE id = 1",
        "SELECT seq, count FROM batches WHERE state = 'sealed' ORDER BY seq LIMIT "
        "  200",
        "SELECT kind, occurred_at FROM records WHERE status = 'draft' ORDER BY occurred_unix "
        "  LIMIT 200",
    };
    sqlite3_stmt *q = NULL;
    cJSON *list = NULL;
    size_t i;
    bb_err err = BB_OK;
    int rc;

    for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if ((err = bb_db_prepare(ob->db, sql[i], &q, eb)) != BB_OK)
            return err;
        if (i == 6 && !(list = cJSON_AddArrayToObject(o, "unacked")))
            goto nomem;
        if (i == 7 && !(list = cJSON_AddArrayToObject(o, "drafts")))
            goto nomem;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            const char *t0 = (const char *)sqlite3_column_text(q, 0);
            int ok = 1;
            switch (i) {
            case 0: ok = cJSON_AddNumberToObject(o, "unsealed",
                                                 (double)sqlite3_column_int64(q, 0)) != NULL; break;
            case 1: ok = cJSON_AddNumberToObject(o, "unacked_batches",
                                                 (double)sqlite3_column_int64(q, 0)) &&
                         cJSON_AddNumberToObject(o, "unacked_records",
                                                 (double)sqlite3_column_int64(q, 1)); break;
            case 2: ok = cJSON_AddNumberToObject(o, "refused_batches",
                                                 (double)sqlite3_column_int64(q, 0)) != NULL; break;
            case 3: ok = cJSON_AddNumberToObject(o, "drafts_count",
                                                 (double)sqlite3_column_int64(q, 0)) != NULL; break;
            case 4: ok = (t0 ? cJSON_AddStringToObject(o, "last_entry_at", t0)
                             : cJSON_AddNullToObject(o, "last_entry_at")) != NULL; break;
            case 5: ok = t0 && cJSON_AddStringToObject(o, "reference_version", t0); break;
            case 6: {
                cJSON *b = cJSON_CreateObject();
                ok = b && cJSON_AddItemToArray(list, b) &&
                     cJSON_AddNumberToObject(b, "seq", (double)sqlite3_column_int64(q, 0)) &&
                     cJSON_AddNumberToObject(b, "count", (double)sqlite3_column_int64(q, 1));
                break;
            }
            default: {
                const char *t1 = (const char *)sqlite3_column_text(q, 1);
                cJSON *d = cJSON_CreateObject();
                ok = d && cJSON_AddItemToArray(list, d) &&
                     cJSON_AddStringToObject(d, "kind", t0 ? t0 : "") &&
                     cJSON_AddStringToObject(d, "since", t1 ? t1 : "");
                break;
            }
            }
            if (!ok)
                goto nomem;
        }
        if (rc != SQLITE_DONE) {
            err = bb_db_err(ob->db, rc, "read the outbox", eb);
            sqlite3_finalize(q);
            return err;
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    if (!cJSON_GetObjectItemCaseSensitive(o, "reference_version") &&
        !cJSON_AddNullToObject(o, "reference_version"))
        goto nomem;
    return BB_OK;
nomem:
    sqlite3_finalize(q);
    return bb_fail(eb, BB_ERR_NOMEM, "status report: out of memory");
}

bb_err bb_outbox_sign_request(bb_outbox *ob, cJSON *doc, const char *context, bb_errbuf *eb)
{
    char now[BB_TIME_MAX];
    int64_t counter = 0;
    bb_err err;

    if ((err = need_enrollment(ob, "a signed request to HQ", "向總局送出的簽署請求", eb)) != BB_OK ||
        (err = device_key(ob, eb)) != BB_OK ||
        (err = next_status_counter(ob, &counter, eb)) != BB_OK ||
        (err = bb_time_now_taipei(now)) != BB_OK)
        return err;
    if (!cJSON_AddNumberToObject(doc, "v", 1) ||
        !cJSON_AddStringToObject(doc, "device", ob->device) ||
        !cJSON_AddStringToObject(doc, "device_key", ob->device_key_id) ||
        !cJSON_AddNumberToObject(doc, "counter", (double)counter) ||
        !cJSON_AddStringToObject(doc, "clock", now))
        return bb_fail(eb, BB_ERR_NOMEM, "request: out of memory");
    return bb_sigdoc_sign(doc, context, ob->dev, eb);
}

bb_err bb_outbox_status_doc(bb_outbox *ob, const char *via, const char *software, char **doc,
                            size_t *len, bb_errbuf *eb)
{
    char now[BB_TIME_MAX];
    cJSON *o = NULL;
    int64_t counter = 0;
    bb_err err;

    *doc = NULL;
    *len = 0;
    if ((err = need_enrollment(ob, "a status report", "狀態回報", eb)) != BB_OK ||
        (err = device_key(ob, eb)) != BB_OK ||
        (err = next_status_counter(ob, &counter, eb)) != BB_OK ||
        (err = bb_time_now_taipei(now)) != BB_OK)
        return err;
    if (!(o = cJSON_CreateObject()) || !cJSON_AddNumberToObject(o, "v", 1) ||
        !cJSON_AddStringToObject(o, "device", ob->device) ||
        !cJSON_AddStringToObject(o, "device_key", ob->device_key_id) ||
        !cJSON_AddNumberToObject(o, "counter", (double)counter) ||
        !cJSON_AddStringToObject(o, "clock", now) ||
        !cJSON_AddStringToObject(o, "via", via) ||
        !cJSON_AddStringToObject(o, "software", software)) {
        err = bb_fail(eb, BB_ERR_NOMEM, "status report: out of memory");
        goto out;
    }
    if ((err = status_facts(ob, o, eb)) != BB_OK ||
        (err = bb_sigdoc_sign(o, BB_CTX_STATUS, ob->dev, eb)) != BB_OK)
        goto out;
    if (!(*doc = bb_json_canonical(o))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "status report: out of memory");
        goto out;
    }
    *len = strlen(*doc);
out:
    cJSON_Delete(o);
    return err;
}

static bb_err errno_fail(bb_errbuf *eb, enum bb_lang lang, int e, const char *action,
                         const char *path)
{
    bb_err code = e == EACCES || e == EPERM ? BB_ERR_PERM
                : e == ENOSPC || e == EDQUOT ? BB_ERR_FULL
                : e == EROFS ? BB_ERR_READONLY
                : e == ENOENT ? BB_ERR_NOTFOUND : BB_ERR_IO;
    return bb_fail(eb, code, BB_L(lang, "%s %s: %s", "%s %s：%s"), action, path,
                   bb_errno_text(e, lang));
}

/* Write len bytes to dir/name durably: temp file, fsync, rename, fsync dir. */
static bb_err write_durably(int dirfd, const char *dir, const char *name, const uint8_t *buf,
                            size_t len, enum bb_lang lang, bb_errbuf *eb)
{
    char tmp[300], path[4400];
    size_t off = 0;
    int fd, e;

    snprintf(tmp, sizeof tmp, ".%s.tmp", name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno_fail(eb, lang, errno, BB_L(lang, "create", "建立"), path);
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        e = errno;
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        e = errno;
        goto fail;
    }
    fd = -1;
    if (renameat(dirfd, tmp, dirfd, name) != 0) {
        e = errno;
        goto fail;
    }
    return BB_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlinkat(dirfd, tmp, 0);
    return errno_fail(eb, lang, e, BB_L(lang, "write", "寫入"), path);
}

bb_err bb_outbox_export(bb_outbox *ob, const char *dir, long *written, long *files,
                        bb_errbuf *eb)
{
    struct bb_outbox_batch b;
    int64_t after = 0;
    struct stat sb;
    bb_err err = BB_OK;
    int dirfd;

    *written = 0;
    *files = 0;
    if (stat(dir, &sb) != 0)
        return errno_fail(eb, ob->lang, errno, BB_L(ob->lang, "export to", "匯出到"), dir);
    if (!S_ISDIR(sb.st_mode))
        return bb_fail(eb, BB_ERR_USAGE, BB_L(ob->lang, "export to %s: not a folder",
                                              "匯出到 %s：這不是資料夾"), dir);
    if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return errno_fail(eb, ob->lang, errno, BB_L(ob->lang, "open", "開啟"), dir);
    for (;;) {
        char name[160];
        err = bb_outbox_next_unacked(ob, after, &b, eb);
        if (err == BB_ERR_NOTFOUND) {
            err = BB_OK;
            break;
        }
        if (err != BB_OK)
            break;
        snprintf(name, sizeof name, "%s-%06lld.bbatch", ob->device, (long long)b.seq);
        after = b.seq;
        err = write_durably(dirfd, dir, name, b.bytes, b.len, ob->lang, eb);
        bb_outbox_batch_clear(&b);
        if (err != BB_OK)
            break;
        (*written)++;
    }
    /* The files the batches' records name, after the batches (HQ merges
     * the records first, then takes the files they name). */
    if (err == BB_OK)
        err = bb_outbox_att_export(ob, dirfd, dir, files, eb);
    /* Never reached HQ: the stick also carries the signed registration, so
     * HQ can bind this laptop's key and merge the batches (hq import). */
    if (err == BB_OK) {
        char *doc = NULL, name[160];
        size_t len = 0;
        bb_err rerr = bb_outbox_registration(ob, &doc, &len, NULL);
        if (rerr == BB_OK) {
            snprintf(name, sizeof name, "%s.register.json", ob->device);
            err = write_durably(dirfd, dir, name, (const uint8_t *)doc, len, ob->lang, eb);
        }
        bb_outbox_secret_free(doc);
    }
    /* The laptop's status report, which `beatbook-hq import` keeps as the
     * Devices page's view of this laptop (its drafts, what is still unsent). */
    if (err == BB_OK) {
        char *doc = NULL, name[160];
        size_t len = 0;
        if ((err = bb_outbox_status_doc(ob, "usb", "beatbook " BEATBOOK_VERSION, &doc, &len,
                                        eb)) == BB_OK) {
            snprintf(name, sizeof name, "%s.status.json", ob->device);
            err = write_durably(dirfd, dir, name, (const uint8_t *)doc, len, ob->lang, eb);
        }
        free(doc);
    }
    if (err == BB_OK && fsync(dirfd) != 0)
        err = errno_fail(eb, ob->lang, errno, BB_L(ob->lang, "sync folder", "同步資料夾"), dir);
    close(dirfd);
    return err;
}

/* ---- Purge ------------------------------------------------------------------- */

/*
 * Before the records chosen for purging are deleted: keep what the proof of
 * agreement needs of each (id, kind, rev, when, SHA-256 of the body HQ
 * holds) in purged_records, in the purge's transaction.
 */
static bb_err keep_tombstones(bb_outbox *ob, bb_errbuf *eb)
{
    sqlite3_stmt *q = NULL, *ins = NULL;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(ob->db, "SELECT id, kind, rev, occurred_unix, body FROM records"
                                     " WHERE id IN temp.purge_records", &q, eb)) != BB_OK)
        return err;
    if ((err = bb_db_prepare(ob->db, "INSERT OR REPLACE INTO purged_records (id, kind, rev,"
                                     " occurred_unix, sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
                             &ins, eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        char sha[BB_SHA256_HEX];
        bb_sha256_hex(sqlite3_column_blob(q, 4), (size_t)sqlite3_column_bytes(q, 4), sha);
        if (sqlite3_bind_value(ins, 1, sqlite3_column_value(q, 0)) != SQLITE_OK ||
            sqlite3_bind_value(ins, 2, sqlite3_column_value(q, 1)) != SQLITE_OK ||
            sqlite3_bind_int64(ins, 3, sqlite3_column_int64(q, 2)) != SQLITE_OK ||
            sqlite3_bind_int64(ins, 4, sqlite3_column_int64(q, 3)) != SQLITE_OK ||
            sqlite3_bind_text(ins, 5, sha, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
            err = bb_db_err(ob->db, SQLITE_NOMEM, "keep what purge frees", eb);
            break;
        }
        if ((rc = sqlite3_step(ins)) != SQLITE_DONE) {
            err = bb_db_err(ob->db, rc, "keep what purge frees", eb);
            break;
        }
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
    }
    if (err == BB_OK && rc != SQLITE_DONE)
        err = bb_db_err(ob->db, rc, "read records to purge", eb);
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    return err;
}

bb_err bb_outbox_purge(bb_outbox *ob, long retention_days, int64_t now,
                       struct bb_outbox_purged *r, bb_errbuf *eb)
{
    enum { NONE, TOMBSTONES, REVISIONS, RECORDS, BATCHES };
    static const struct { const char *sql; int counts; } steps[] = {
        /* Which batches: acknowledged at or before the cutoff, not purged yet. */
        {"CREATE TEMP TABLE IF NOT EXISTS purge_batches (seq INTEGER PRIMARY KEY)", NONE},
        {"DELETE FROM temp.purge_batches", NONE},
        {"INSERT INTO temp.purge_batches SELECT seq FROM batches WHERE state = 'acked'"
         " AND receipt IS NOT NULL AND acked_at <= ?1 AND purged_at IS NULL", NONE},
        /* Which records: the current revision is in one of those batches and HQ
         * merged it (a record HQ rejected stays until it is corrected), and every
         * revision of it is in an acknowledged batch that is purged now or was
         * before.  Never a draft, never a record with a revision not yet sent. */
        {"CREATE TEMP TABLE IF NOT EXISTS purge_records (id TEXT PRIMARY KEY)", NONE},
        {"DELETE FROM temp.purge_records", NONE},
        {"INSERT INTO temp.purge_records SELECT r.id FROM records r WHERE r.status != 'draft'"
         " AND EXISTS (SELECT 1 FROM revisions v WHERE v.id = r.id AND v.rev = r.rev"
         "   AND v.batch_seq IN temp.purge_batches)"
         " AND NOT EXISTS (SELECT 1 FROM batch_rejects j WHERE j.id = r.id AND j.rev = r.rev)"
         " AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.id = r.id"
         "   AND (v.batch_seq IS NULL OR v.batch_seq NOT IN (SELECT seq FROM batches"
         "        WHERE state = 'acked' AND (seq IN temp.purge_batches OR purged_at IS NOT NULL))))",
         TOMBSTONES},
        /* Revisions of those batches that HQ merged, and every revision of the
         * records above (including a rejected one since corrected). */
        {"DELETE FROM revisions WHERE id IN temp.purge_records OR (batch_seq IN temp.purge_batches"
         " AND NOT EXISTS (SELECT 1 FROM batch_rejects j WHERE j.id = revisions.id"
         "   AND j.rev = revisions.rev))", REVISIONS},
        {"DELETE FROM records WHERE id IN temp.purge_records", RECORDS},
        {"UPDATE batches SET bytes = NULL, purged_at = ?2 WHERE seq IN temp.purge_batches",
         BATCHES},
    };
    int64_t cutoff = now - (int64_t)retention_days * 86400;
    size_t i;
    bb_err err;

    memset(r, 0, sizeof *r);
    if (retention_days < 0)
        return bb_fail(eb, BB_ERR_USAGE, BB_L(ob->lang, "purge: the retention must be 0 days or more",
                                              "purge：保留天數必須是 0 或以上"));
    if ((err = bb_db_begin(ob->db, eb)) != BB_OK)
        return err;
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *q;
        long n;
        if ((err = bb_db_prepare(ob->db, steps[i].sql, &q, eb)) != BB_OK)
            goto fail;
        if (sqlite3_bind_parameter_count(q) >= 1)
            sqlite3_bind_int64(q, 1, cutoff);
        if (sqlite3_bind_parameter_count(q) >= 2)
            sqlite3_bind_int64(q, 2, now);
        if ((err = bb_outbox_i_step_done(ob->db, q, "purge acknowledged data", eb)) != BB_OK)
            goto fail;
        n = sqlite3_changes(ob->db);
        if (steps[i].counts == TOMBSTONES && (err = keep_tombstones(ob, eb)) != BB_OK)
            goto fail;
        switch (steps[i].counts) {
        case REVISIONS: r->revisions = n; break;
        case RECORDS: r->records = n; break;
        case BATCHES: r->batches = n; break;
        default: break;
        }
    }
    /* Attachment files HQ acknowledged as long ago (its receipt names each). */
    if ((err = bb_outbox_att_purge(ob, cutoff, now, &r->files, &r->file_bytes, eb)) != BB_OK)
        goto fail;
    return bb_db_commit(ob->db, eb);
fail:
    bb_db_rollback(ob->db);
    memset(r, 0, sizeof *r);
    return err;
}

/* ---- Status ------------------------------------------------------------------ */

static bb_err add_time(cJSON *o, const char *key, sqlite3_stmt *q, int col)
{
    char iso[BB_TIME_MAX];

    if (sqlite3_column_type(q, col) == SQLITE_NULL)
        return cJSON_AddNullToObject(o, key) ? BB_OK : BB_ERR_NOMEM;
    iso_of(sqlite3_column_int64(q, col), iso);
    return cJSON_AddStringToObject(o, key, iso) ? BB_OK : BB_ERR_NOMEM;
}

static bb_err add_text(cJSON *o, const char *key, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    if (!t)
        return cJSON_AddNullToObject(o, key) ? BB_OK : BB_ERR_NOMEM;
    return cJSON_AddStringToObject(o, key, (const char *)t) ? BB_OK : BB_ERR_NOMEM;
}

static bb_err summary_enrollment(sqlite3 *db, cJSON *o, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db, "SELECT hq_url, label, registered_at, expires_at,"
                             " token IS NOT NULL FROM enrollment WHERE id = 1", &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (!cJSON_AddTrueToObject(o, "enrolled") || add_text(o, "hq_url", q, 0) != BB_OK ||
            add_text(o, "label", q, 1) != BB_OK || add_text(o, "registered_at", q, 2) != BB_OK ||
            !cJSON_AddBoolToObject(o, "registered", sqlite3_column_type(q, 2) != SQLITE_NULL) ||
            add_text(o, "enrollment_expires_at", q, 3) != BB_OK)
            err = BB_ERR_NOMEM;
    } else if (rc == SQLITE_DONE) {
        if (!cJSON_AddFalseToObject(o, "enrolled") || !cJSON_AddFalseToObject(o, "registered"))
            err = BB_ERR_NOMEM;
    } else {
        err = bb_db_err(db, rc, "read enrollment", eb);
    }
    sqlite3_finalize(q);
    return err;
}

static bb_err summary_counts(sqlite3 *db, cJSON *o, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    cJSON *b;
    bb_err err;
    int rc;

    if (!(b = cJSON_AddObjectToObject(o, "batches")))
        return BB_ERR_NOMEM;
    if ((err = bb_db_prepare(db,
                             "SELECT count(*), coalesce(sum(attempts > 0 OR state != 'sealed'), 0),"
                             " coalesce(sum(state = 'acked'), 0), coalesce(sum(state = 'rejected'), 0),"
                             " coalesce(sum(state = 'sealed'), 0),"
                             " coalesce(sum(CASE WHEN state = 'sealed' THEN count END), 0),"
                             " coalesce(sum(merged), 0), coalesce(sum(duplicates), 0),"
                             " coalesce(sum(rejected_records), 0), max(acked_at)"
                             " FROM batches", &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (!cJSON_AddNumberToObject(b, "sealed", (double)sqlite3_column_int64(q, 0)) ||
            !cJSON_AddNumberToObject(b, "sent", (double)sqlite3_column_int64(q, 1)) ||
            !cJSON_AddNumberToObject(b, "acknowledged", (double)sqlite3_column_int64(q, 2)) ||
            !cJSON_AddNumberToObject(b, "rejected", (double)sqlite3_column_int64(q, 3)) ||
            !cJSON_AddNumberToObject(b, "waiting", (double)sqlite3_column_int64(q, 4)) ||
            !cJSON_AddNumberToObject(o, "records_in_waiting_batches",
                                     (double)sqlite3_column_int64(q, 5)) ||
            !cJSON_AddNumberToObject(o, "records_merged", (double)sqlite3_column_int64(q, 6)) ||
            !cJSON_AddNumberToObject(o, "records_duplicate", (double)sqlite3_column_int64(q, 7)) ||
            !cJSON_AddNumberToObject(o, "records_rejected", (double)sqlite3_column_int64(q, 8)) ||
            add_time(o, "last_acknowledged_at", q, 9) != BB_OK)
            err = BB_ERR_NOMEM;
    } else {
        err = bb_db_err(db, rc, "read outbox", eb);
    }
    sqlite3_finalize(q);
    if (err != BB_OK)
        return err;
    if ((err = bb_db_prepare(db, "SELECT count(*) FROM revisions WHERE batch_seq IS NULL", &q,
                             eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (!cJSON_AddNumberToObject(o, "records_waiting", (double)sqlite3_column_int64(q, 0)))
            err = BB_ERR_NOMEM;
    } else {
        err = bb_db_err(db, rc, "read outbox", eb);
    }
    sqlite3_finalize(q);
    return err;
}

/* Rows of q (after binding) as an array of objects with the given keys; t_cols are times. */
static bb_err summary_rows(sqlite3 *db, sqlite3_stmt *q, cJSON *arr, const char *const *keys,
                           int nkeys, bb_errbuf *eb)
{
    bb_err err = BB_OK;
    int rc, i;

    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *row = cJSON_CreateObject();
        if (!row) {
            err = BB_ERR_NOMEM;
            break;
        }
        cJSON_AddItemToArray(arr, row);
        for (i = 0; i < nkeys && err == BB_OK; i++) {
            const char *k = keys[i];
            if (k[0] == '@')
                err = add_time(row, k + 1, q, i);
            else if (sqlite3_column_type(q, i) == SQLITE_INTEGER)
                err = cJSON_AddNumberToObject(row, k, (double)sqlite3_column_int64(q, i))
                          ? BB_OK : BB_ERR_NOMEM;
            else
                err = add_text(row, k, q, i);
        }
        if (err != BB_OK)
            break;
    }
    if (err == BB_OK && rc != SQLITE_DONE)
        err = bb_db_err(db, rc, "read outbox", eb);
    sqlite3_finalize(q);
    return err;
}

bb_err bb_outbox_summary(sqlite3 *db, cJSON **out, bb_errbuf *eb)
{
    static const char *const rej_batch_keys[] = {"seq", "batch", "count", "status", "reason",
                                                 "@last_attempt_at"};
    static const char *const rej_rec_keys[] = {"batch_seq", "id", "rev", "kind", "reason"};
    static const char *const wait_keys[] = {"seq", "count", "attempts", "@last_attempt_at",
                                            "last_error"};
    sqlite3_stmt *q;
    cJSON *o, *a;
    bb_err err;
    int rc;

    *out = NULL;
    if (!(o = cJSON_CreateObject()))
        return BB_ERR_NOMEM;
    if (!bb_outbox_i_table_exists(db, "batches") || !bb_outbox_i_table_exists(db, "enrollment")) {
        /* A store older than the outbox, opened read-only: nothing sealed yet. */
        long unsent = 0;
        if (bb_db_prepare(db, "SELECT count(*) FROM revisions WHERE batch_seq IS NULL", &q,
                          NULL) == BB_OK) {
            if (sqlite3_step(q) == SQLITE_ROW)
                unsent = (long)sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
        cJSON_AddFalseToObject(o, "enrolled");
        cJSON_AddFalseToObject(o, "registered");
        cJSON_AddNumberToObject(o, "records_waiting", (double)unsent);
        *out = o;
        return BB_OK;
    }
    if ((err = summary_enrollment(db, o, eb)) != BB_OK || (err = summary_counts(db, o, eb)) != BB_OK)
        goto fail;
    /* Batches waiting, oldest first (at most 20 listed). */
    if (!(a = cJSON_AddArrayToObject(o, "waiting_batches"))) {
        err = BB_ERR_NOMEM;
        goto fail;
    }
    if ((err = bb_db_prepare(db, "SELECT seq, count, attempts, last_attempt_at, last_error"
                             " FROM batches WHERE state = 'sealed' ORDER BY seq LIMIT 20",
                             &q, eb)) != BB_OK ||
        (err = summary_rows(db, q, a, wait_keys, 5, eb)) != BB_OK)
        goto fail;
    if (!(a = cJSON_AddArrayToObject(o, "rejected_batches"))) {
        err = BB_ERR_NOMEM;
        goto fail;
    }
    if ((err = bb_db_prepare(db, "SELECT seq, batch, count, rejected_status, rejected_reason,"
                             " last_attempt_at FROM batches WHERE state = 'rejected' ORDER BY seq",
                             &q, eb)) != BB_OK ||
        (err = summary_rows(db, q, a, rej_batch_keys, 6, eb)) != BB_OK)
        goto fail;
    /* Records HQ rejected that are not corrected yet (no newer revision). */
    if (!(a = cJSON_AddArrayToObject(o, "rejected_records"))) {
        err = BB_ERR_NOMEM;
        goto fail;
    }
    if ((err = bb_db_prepare(db, "SELECT j.batch_seq, j.id, j.rev, r.kind, j.reason"
                             " FROM batch_rejects j JOIN records r ON r.id = j.id AND r.rev = j.rev"
                             " ORDER BY j.batch_seq, j.id",
                             &q, eb)) != BB_OK ||
        (err = summary_rows(db, q, a, rej_rec_keys, 5, eb)) != BB_OK)
        goto fail;
    if ((err = bb_outbox_att_summary(db, o, eb)) != BB_OK)
        goto fail;
    if ((err = bb_db_prepare(db, "SELECT last_attempt_at, last_success_at, last_error"
                             " FROM sync_state WHERE id = 1", &q, eb)) != BB_OK)
        goto fail;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (add_time(o, "last_sync_at", q, 0) != BB_OK ||
            add_time(o, "last_sync_ok_at", q, 1) != BB_OK ||
            add_text(o, "last_sync_error", q, 2) != BB_OK)
            err = BB_ERR_NOMEM;
    } else if (rc == SQLITE_DONE) {
        if (!cJSON_AddNullToObject(o, "last_sync_at") ||
            !cJSON_AddNullToObject(o, "last_sync_ok_at") ||
            !cJSON_AddNullToObject(o, "last_sync_error"))
            err = BB_ERR_NOMEM;
    } else {
        err = bb_db_err(db, rc, "read sync state", eb);
    }
    sqlite3_finalize(q);
    if (err != BB_OK)
        goto fail;
    *out = o;
    return BB_OK;
fail:
    cJSON_Delete(o);
    return err;
}

/* ---- For the outbox's other files (bb_outbox_int.h) ------------------------- */

bb_err bb_outbox_i_device_key(bb_outbox *ob, bb_errbuf *eb)
{
    return device_key(ob, eb);
}

bb_err bb_outbox_i_parse_signed(bb_outbox *ob, const char *text, size_t len, size_t cap,
                                const char *context, const char *what, cJSON **out,
                                bb_errbuf *eb)
{
    return parse_signed(ob, text, len, cap, context, what, out, eb);
}

bb_err bb_outbox_i_errno_fail(bb_errbuf *eb, enum bb_lang lang, int e, const char *action,
                              const char *path)
{
    return errno_fail(eb, lang, e, action, path);
}
