/*
 * hq_store.c — hq.db: devices, audit, meta (see hq_store.h).
 */
#include "hq_store.h"
#include "bb_db.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bb_err hq_store_open(const char *path, int create, sqlite3 **db, bb_errbuf *eb)
{
    return bb_db_open(path, "hq", create ? BB_DB_CREATE : 0, db, eb);
}

const char *hq_device_status_name(enum hq_device_status s)
{
    switch (s) {
    case HQ_DEV_PENDING: return "pending";
    case HQ_DEV_ACTIVE: return "active";
    case HQ_DEV_REVOKED: return "revoked";
    }
    return "?";
}

void hq_col_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* Run a prepared statement that returns no rows; finalizes it. */
static bb_err step_done(sqlite3 *db, sqlite3_stmt *st, const char *action, bb_errbuf *eb)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, action, eb);
}

bb_err hq_device_get(sqlite3 *db, const char *id, struct hq_device *d, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    char status[16];
    bb_err err;
    int rc;

    memset(d, 0, sizeof *d);
    if ((err = bb_db_prepare(db,
            "SELECT id, org_unit, label, status, token_hash, token_expires, "
            "token_used_at IS NOT NULL, device_pub, device_key, registration, enrolled_at, "
            "registered_at, revoked_at, last_contact, revoke_reason, last_seq "
            "FROM devices WHERE id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return bb_fail(eb, BB_ERR_NOTFOUND, "no device %.80s", id);
    }
    if (rc != SQLITE_ROW) {
        err = bb_db_err(db, rc, "read device", eb);
        sqlite3_finalize(st);
        return err;
    }
    hq_col_text(st, 0, d->id, sizeof d->id);
    hq_col_text(st, 1, d->org_unit, sizeof d->org_unit);
    hq_col_text(st, 2, d->label, sizeof d->label);
    hq_col_text(st, 3, status, sizeof status);
    d->status = strcmp(status, "active") == 0    ? HQ_DEV_ACTIVE
                : strcmp(status, "revoked") == 0 ? HQ_DEV_REVOKED
                                                 : HQ_DEV_PENDING;
    hq_col_text(st, 4, d->token_hash, sizeof d->token_hash);
    d->token_expires = sqlite3_column_int64(st, 5);
    d->token_used = sqlite3_column_int(st, 6);
    if (sqlite3_column_type(st, 7) == SQLITE_BLOB && sqlite3_column_bytes(st, 7) > 0) {
        size_t n = (size_t)sqlite3_column_bytes(st, 7);
        d->pub = malloc(n);
        if (!d->pub) {
            sqlite3_finalize(st);
            return bb_fail(eb, BB_ERR_NOMEM, "read device: out of memory");
        }
        memcpy(d->pub, sqlite3_column_blob(st, 7), n);
        d->pub_len = n;
    }
    hq_col_text(st, 8, d->device_key, sizeof d->device_key);
    if (sqlite3_column_type(st, 9) == SQLITE_TEXT) {
        d->registration = strdup((const char *)sqlite3_column_text(st, 9));
        if (!d->registration) {
            sqlite3_finalize(st);
            hq_device_clear(d);
            return bb_fail(eb, BB_ERR_NOMEM, "read device: out of memory");
        }
    }
    hq_col_text(st, 10, d->enrolled_at, sizeof d->enrolled_at);
    hq_col_text(st, 11, d->registered_at, sizeof d->registered_at);
    hq_col_text(st, 12, d->revoked_at, sizeof d->revoked_at);
    hq_col_text(st, 13, d->last_contact, sizeof d->last_contact);
    hq_col_text(st, 14, d->revoke_reason, sizeof d->revoke_reason);
    d->last_seq = sqlite3_column_int64(st, 15);
    sqlite3_finalize(st);
    return BB_OK;
}

void hq_device_clear(struct hq_device *d)
{
    if (!d)
        return;
    free(d->pub);
    free(d->registration);
    memset(d, 0, sizeof *d);
}

bb_err hq_device_insert(sqlite3 *db, const struct hq_device *d, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db,
            "INSERT INTO devices (id, org_unit, label, status, token_hash, token_expires, "
            "enrolled_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6)", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->org_unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, d->token_expires);
    sqlite3_bind_text(st, 6, d->enrolled_at, -1, SQLITE_STATIC);
    err = step_done(db, st, "store the new device", eb);
    if (err == BB_ERR_CONFLICT)
        return bb_fail(eb, BB_ERR_EXISTS, "device %s already exists", d->id);
    return err;
}

bb_err hq_device_bind(sqlite3 *db, const char *id, const uint8_t *pub, size_t pub_len,
                      const char *device_key, const char *registration, const char *at,
                      bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db,
            "UPDATE devices SET status = 'active', device_pub = ?2, device_key = ?3, "
            "registration = ?4, registered_at = ?5, token_used_at = ?5 "
            "WHERE id = ?1 AND status = 'pending'", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, pub, (int)pub_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, device_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, registration, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
    if ((err = step_done(db, st, "register the device", eb)) != BB_OK)
        return err;
    if (sqlite3_changes(db) != 1)
        return bb_fail(eb, BB_ERR_CONFLICT, "device %s is no longer pending", id);
    return BB_OK;
}

bb_err hq_device_revoke(sqlite3 *db, const char *id, const char *reason, const char *at,
                        bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db,
            "UPDATE devices SET status = 'revoked', revoked_at = ?2, revoke_reason = ?3 "
            "WHERE id = ?1 AND status != 'revoked'", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    if ((err = step_done(db, st, "revoke the device", eb)) != BB_OK)
        return err;
    if (sqlite3_changes(db) != 1)
        return bb_fail(eb, BB_ERR_STATE, "device %s is already revoked", id);
    return BB_OK;
}

bb_err hq_device_touch(sqlite3 *db, const char *id, int64_t seq, const char *at,
                       bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db,
            "UPDATE devices SET last_contact = ?2, "
            "last_seq = CASE WHEN ?3 > coalesce(last_seq, 0) THEN ?3 ELSE last_seq END "
            "WHERE id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    return step_done(db, st, "note the device's contact", eb);
}

bb_err hq_audit(sqlite3 *db, const char *actor, const char *action, const char *device,
                const char *detail, bb_errbuf *eb)
{
    char now[BB_TIME_MAX];
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return bb_fail(eb, err, "audit: cannot format the time");
    if ((err = bb_db_prepare(db,
            "INSERT INTO audit (at, actor, action, device, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    if (device)
        sqlite3_bind_text(st, 4, device, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
    return step_done(db, st, "write the audit log", eb);
}

bb_err hq_meta_put(sqlite3 *db, const char *key, const char *value, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;

    if ((err = bb_db_prepare(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                             &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return step_done(db, st, "save settings", eb);
}

bb_err hq_meta_get(sqlite3 *db, const char *key, char *out, size_t size, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db, "SELECT value FROM meta WHERE key = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        hq_col_text(st, 0, out, size);
    else if (rc == SQLITE_DONE)
        err = bb_fail(eb, BB_ERR_NOTFOUND, "setting %s is not stored", key);
    else
        err = bb_db_err(db, rc, "read settings", eb);
    sqlite3_finalize(st);
    return err;
}
