/*
 * hq_store — HQ's SQLite store (hq.db): opening it, the devices table, the
 * audit log and the meta settings.  The batch and record tables belong to
 * hq_merge (writing) and hq_cmd_batches (reading).
 *
 * Every function takes the caller's handle and never opens a transaction of
 * its own unless it says so, so callers compose them inside one
 * BEGIN IMMEDIATE ... COMMIT.  Statements use bound parameters only.
 *
 * Errors: bb_db_err's translation of SQLite codes; BB_ERR_NOTFOUND for an
 * unknown device; BB_ERR_NOMEM.
 */
#ifndef HQ_STORE_H
#define HQ_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "bb_err.h"

#define HQ_DEVICE_ID_LEN 18      /* "d-" + 16 hex */

enum hq_device_status { HQ_DEV_PENDING = 0, HQ_DEV_ACTIVE = 1, HQ_DEV_REVOKED = 2 };

struct hq_device {
    char id[80];
    char org_unit[32];
    char label[256];
    enum hq_device_status status;
    char token_hash[65];
    int64_t token_expires;             /* Unix seconds */
    int token_used;
    uint8_t *pub;                      /* SPKI DER, malloc'd; NULL until registered */
    size_t pub_len;
    char device_key[20];               /* key id; "" until registered */
    char *registration;                /* the signed answer as sent; malloc'd or NULL */
    char enrolled_at[32], registered_at[32], revoked_at[32], last_contact[32];
    char revoke_reason[512];
    int64_t last_seq;                  /* 0 when none */
};

/* Open (or with create, create and migrate) hq.db. */
bb_err hq_store_open(const char *path, int create, sqlite3 **db, bb_errbuf *eb);

const char *hq_device_status_name(enum hq_device_status s);

/* Look a device up; BB_ERR_NOTFOUND when unknown.  Free with hq_device_clear. */
bb_err hq_device_get(sqlite3 *db, const char *id, struct hq_device *d, bb_errbuf *eb);
void hq_device_clear(struct hq_device *d);

/* Insert a new pending device (id, org_unit, label, token_hash, token_expires,
 * enrolled_at).  BB_ERR_EXISTS when the id is taken. */
bb_err hq_device_insert(sqlite3 *db, const struct hq_device *d, bb_errbuf *eb);

/* Bind a key: status active, pub, device_key, registration, registered_at,
 * token used — only if the device is still pending (else BB_ERR_CONFLICT). */
bb_err hq_device_bind(sqlite3 *db, const char *id, const uint8_t *pub, size_t pub_len,
                      const char *device_key, const char *registration, const char *at,
                      bb_errbuf *eb);

/* Status revoked with the time and reason.  BB_ERR_STATE when already revoked. */
bb_err hq_device_revoke(sqlite3 *db, const char *id, const char *reason, const char *at,
                        bb_errbuf *eb);

/* Note a contact (last_contact = at; last_seq = max(last_seq, seq) when seq > 0). */
bb_err hq_device_touch(sqlite3 *db, const char *id, int64_t seq, const char *at,
                       bb_errbuf *eb);

/* Append to the audit log; detail is key=value words, never a secret. */
bb_err hq_audit(sqlite3 *db, const char *actor, const char *action, const char *device,
                const char *detail, bb_errbuf *eb);

/* meta key/value. hq_meta_get: BB_ERR_NOTFOUND when absent. */
bb_err hq_meta_put(sqlite3 *db, const char *key, const char *value, bb_errbuf *eb);
bb_err hq_meta_get(sqlite3 *db, const char *key, char *out, size_t size, bb_errbuf *eb);

/* Copy a possibly-NULL text column into out (""). */
void hq_col_text(sqlite3_stmt *st, int col, char *out, size_t size);

#endif
