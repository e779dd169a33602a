/*
 * hq_attach.c — HQ's side of attachments: heads, chunks, completion into
 * the content-addressed store, receipts, and the links from revisions to
 * files (see hq_attach.h for the contract and the order of durability).
 *
 * Trust: a head's signature is verified with the device's registered key
 * before it is kept; a chunk is opened (AES-GCM with the head's key) before
 * a byte of it is written; the whole file's SHA-256 is checked against the
 * head before it enters the store.  Nothing from the request is put into
 * SQL text: every value is bound, every bind checked.
 */
#include "hq_attach.h"
#include "bb_batch.h"
#include "bb_db.h"
#include "bb_exif.h"
#include "bb_file.h"
#include "bb_json.h"
#include "bb_log.h"
#include "bb_sigdoc.h"
#include "bb_time.h"
#include "hq_ingest.h"
#include "hq_keys.h"
#include "hq_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#define wipe mbedtls_platform_zeroize

/* ---- SQL helpers ------------------------------------------------------------ */

/* Prepare sql and bind the texts (NULL binds NULL) then the integers, in order. */
static bb_err prep(sqlite3 *db, const char *sql, sqlite3_stmt **q, bb_errbuf *eb,
                   int ntext, const char *const *texts, int nint, const int64_t *ints)
{
    bb_err err;
    int i, rc = SQLITE_OK;

    if ((err = bb_db_prepare(db, sql, q, eb)) != BB_OK)
        return err;
    for (i = 0; i < ntext && rc == SQLITE_OK; i++)
        rc = texts[i] ? sqlite3_bind_text(*q, i + 1, texts[i], -1, SQLITE_TRANSIENT)
                      : sqlite3_bind_null(*q, i + 1);
    for (i = 0; i < nint && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_int64(*q, ntext + i + 1, ints[i]);
    if (rc != SQLITE_OK) {
        err = bb_db_err(db, rc, "bind", eb);
        sqlite3_finalize(*q);
        *q = NULL;
    }
    return err;
}

/* Run a statement that returns no rows. */
static bb_err exec(sqlite3 *db, const char *sql, bb_errbuf *eb, int ntext,
                   const char *const *texts, int nint, const int64_t *ints)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    if ((err = prep(db, sql, &q, eb, ntext, texts, nint, ints)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, sql, eb);
}

/* The first column of the first row as an integer; *found 0 when no row. */
static bb_err query_int(sqlite3 *db, const char *sql, bb_errbuf *eb, int ntext,
                        const char *const *texts, int nint, const int64_t *ints,
                        int64_t *out, int *found)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    *out = 0;
    *found = 0;
    if ((err = prep(db, sql, &q, eb, ntext, texts, nint, ints)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(q, 0);
        *found = 1;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, sql, eb);
}

/* The first column of the first row as malloc'd bytes (NUL-terminated); NULL when no row. */
static bb_err query_blob(sqlite3 *db, const char *sql, bb_errbuf *eb, int ntext,
                         const char *const *texts, uint8_t **out, size_t *len)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    *out = NULL;
    *len = 0;
    if ((err = prep(db, sql, &q, eb, ntext, texts, 0, NULL)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        int n = sqlite3_column_bytes(q, 0);
        const void *p = sqlite3_column_blob(q, 0);
        if (!(*out = malloc((size_t)n + 1))) {
            sqlite3_finalize(q);
            return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
        }
        if (n)
            memcpy(*out, p, (size_t)n);
        (*out)[n] = 0;
        *len = (size_t)n;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, sql, eb);
}

/* ---- Paths ------------------------------------------------------------------ */

bb_err hq_attach_stored_path(const struct hq_home *h, const char *sha256, char *out,
                             size_t size, bb_errbuf *eb)
{
    if (!bb_sha256_hex_valid(sha256))
        return bb_fail(eb, BB_ERR_INVALID, "not a SHA-256: 64 lowercase hex characters");
    if ((size_t)snprintf(out, size, "%s/" HQ_ATTACH_DIR "/%.2s/%s", h->dir, sha256, sha256)
        >= size)
        return bb_fail(eb, BB_ERR_CONFIG, "the data folder's path is too long");
    return BB_OK;
}

static bb_err partial_path(const struct hq_home *h, const char *device, const char *sha,
                           char *out, size_t size, bb_errbuf *eb)
{
    if ((size_t)snprintf(out, size, "%s/" HQ_ATTACH_PARTIAL_DIR "/%s.%s", h->dir, device, sha)
        >= size)
        return bb_fail(eb, BB_ERR_CONFIG, "the data folder's path is too long");
    return BB_OK;
}

/* A folder (and its parents under the data folder) with mode 0700. */
static bb_err make_dir(const char *path, bb_errbuf *eb)
{
    return bb_make_dirs(path, 0700, eb);
}

static bb_err fsync_dir_of(const char *path, bb_errbuf *eb)
{
    if (bb_fsync_parent(path) != 0)
        return bb_fail(eb, bb_errno_err(errno), "sync the folder of %s: %s", path,
                       strerror(errno));
    return BB_OK;
}

/* Store errors as answers; a full disk is 507, retried later. */
static void store_error(struct hq_answer *ans, bb_err err, const char *what,
                        const bb_errbuf *eb)
{
    if (err == BB_ERR_FULL) {
        bb_error("%s: %s", what, eb->msg);
        hq_answer_error(ans, 507, "insufficient_storage", "HQ's disk is full; nothing of this "
                        "request was kept, try again later");
        /* A full disk is not freed in seconds: a day-end `--once` gives up
         * at once (exit 75) instead of waiting, a daemon comes back later. */
        ans->retry_after = 120;
        return;
    }
    hq_ingest_store_error(ans, err, what, eb);
}

/* ---- Receipts ----------------------------------------------------------------- */

/*
 * The device's signed receipt for a file HQ holds: the one given before
 * (byte for byte), or a new one kept in attachment_receipts.  Inside the
 * caller's transaction when there is one.
 */
static bb_err receipt_for(struct hq_home *h, sqlite3 *db, const char *device, const char *sha,
                          char **out, bb_errbuf *eb)
{
    const char *keys[2] = { device, sha };
    uint8_t *stored = NULL;
    size_t len = 0;
    sqlite3_stmt *q;
    cJSON *doc = NULL;
    char now[BB_TIME_MAX], type[BB_ATTACH_TYPE_MAX] = "";
    int64_t size = 0;
    bb_err err;
    int rc;

    *out = NULL;
    if ((err = query_blob(db, "SELECT receipt FROM attachment_receipts WHERE device = ?1 AND"
                              " sha256 = ?2", eb, 2, keys, &stored, &len)) != BB_OK)
        return err;
    if (stored) {
        *out = (char *)stored;
        return BB_OK;
    }
    if ((err = prep(db, "SELECT size, type FROM attachments WHERE sha256 = ?1", &q, eb, 1,
                    keys + 1, 0, NULL)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        size = sqlite3_column_int64(q, 0);
        hq_col_text(q, 1, type, sizeof type);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? bb_fail(eb, BB_ERR_NOTFOUND, "HQ does not hold %s", sha)
                                 : bb_db_err(db, rc, "read attachments", eb);
    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return bb_fail(eb, err, "format the time");
    if (!(doc = cJSON_CreateObject()) ||
        !cJSON_AddNumberToObject(doc, "v", 1) ||
        !cJSON_AddStringToObject(doc, "attachment", sha) ||
        !cJSON_AddStringToObject(doc, "device", device) ||
        !cJSON_AddNumberToObject(doc, "size", (double)size) ||
        !cJSON_AddStringToObject(doc, "type", type) ||
        !cJSON_AddStringToObject(doc, "state", "stored") ||
        !cJSON_AddStringToObject(doc, "received_at", now) ||
        !cJSON_AddStringToObject(doc, "hq_sign_key", h->keys.sign_kid)) {
        cJSON_Delete(doc);
        return bb_fail(eb, BB_ERR_NOMEM, "receipt: out of memory");
    }
    if ((err = hq_keys_sign_doc(&h->keys, doc, BB_CTX_ATTACH_RECEIPT, eb)) == BB_OK &&
        !(*out = bb_json_canonical(doc)))
        err = bb_fail(eb, BB_ERR_NOMEM, "receipt: out of memory");
    cJSON_Delete(doc);
    if (err != BB_OK)
        return err;
    {
        const char *ins[3] = { device, sha, *out };
        err = exec(db, "INSERT OR IGNORE INTO attachment_receipts (device, sha256, receipt)"
                       " VALUES (?1, ?2, ?3)", eb, 3, ins, 0, NULL);
    }
    if (err == BB_OK && sqlite3_changes(db) == 0) {
        /* Another request gave one first: answer that one, so there is one. */
        free(*out);
        *out = NULL;
        if ((err = query_blob(db, "SELECT receipt FROM attachment_receipts WHERE device = ?1"
                                  " AND sha256 = ?2", eb, 2, keys, &stored, &len)) == BB_OK)
            *out = (char *)stored;
    }
    if (err != BB_OK) {
        free(*out);
        *out = NULL;
    }
    return err;
}

/* {"state":"partial","chunks":k,"have":[[a,b),...]} from the chunks held. */
static bb_err partial_answer(sqlite3 *db, const char *device, const char *sha, int64_t chunks,
                             struct hq_answer *ans, bb_errbuf *eb)
{
    const char *keys[2] = { device, sha };
    sqlite3_stmt *q;
    cJSON *doc = cJSON_CreateObject(), *have;
    int64_t from = -1, last = -2;
    bb_err err;
    int rc;

    if (!doc || !cJSON_AddStringToObject(doc, "state", "partial") ||
        !cJSON_AddNumberToObject(doc, "chunks", (double)chunks) ||
        !(have = cJSON_AddArrayToObject(doc, "have"))) {
        cJSON_Delete(doc);
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    }
    if ((err = prep(db, "SELECT idx FROM attachment_chunks WHERE device = ?1 AND sha256 = ?2"
                        " ORDER BY idx", &q, eb, 2, keys, 0, NULL)) != BB_OK) {
        cJSON_Delete(doc);
        return err;
    }
    for (;;) {
        int64_t i;
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        i = sqlite3_column_int64(q, 0);
        if (i == last + 1) {
            last = i;
            continue;
        }
        if (from >= 0) {
            cJSON *r = cJSON_CreateArray();
            cJSON_AddItemToArray(r, cJSON_CreateNumber((double)from));
            cJSON_AddItemToArray(r, cJSON_CreateNumber((double)(last + 1)));
            cJSON_AddItemToArray(have, r);
        }
        from = last = i;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(doc);
        return bb_db_err(db, rc, "read attachment chunks", eb);
    }
    if (from >= 0) {
        cJSON *r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, cJSON_CreateNumber((double)from));
        cJSON_AddItemToArray(r, cJSON_CreateNumber((double)(last + 1)));
        cJSON_AddItemToArray(have, r);
    }
    hq_answer_body(ans, 200, HQ_OUT_OK, cJSON_PrintUnformatted(doc));
    cJSON_Delete(doc);
    return BB_OK;
}

/* ---- Completion ------------------------------------------------------------- */

/* Fill the attachments row's EXIF from the stored file (best effort). */
static void read_exif(int fd, struct bb_exif *x)
{
    bb_errbuf eb;

    if (bb_exif_read_fd(fd, x, &eb) != BB_OK)
        memset(x, 0, sizeof *x);
}

/*
 * Every chunk of (device, sha) is held: check the whole file, move it into
 * the store and commit the rows and the receipt.  Runs under the write lock
 * so that of two final chunks exactly one completes.  ans: 201 + receipt,
 * 422 hash_mismatch, or a store error.
 */
static void complete(struct hq_home *h, sqlite3 *db, const char *device, const char *sha,
                     struct hq_answer *ans)
{
    const char *keys[2] = { device, sha };
    char partial[HQ_PATH_MAX + 200], stored[HQ_PATH_MAX + 200], dir[HQ_PATH_MAX + 200];
    char got[BB_SHA256_HEX_SIZE], type[BB_ATTACH_TYPE_MAX] = "", now[BB_TIME_MAX];
    char *receipt = NULL;
    int64_t chunks = 0, held = 0, size = 0, got_size = 0, have_file = 0;
    struct bb_exif x;
    sqlite3_stmt *q;
    bb_errbuf eb;
    bb_err err;
    int found = 0, have_rows = 0, fd = -1, rc;

    memset(&eb, 0, sizeof eb);
    memset(&x, 0, sizeof x);
    if ((err = bb_db_begin(db, &eb)) != BB_OK) {
        store_error(ans, err, "complete attachment", &eb);
        return;
    }
    if ((err = query_int(db, "SELECT 1 FROM attachments WHERE sha256 = ?1", &eb, 1, keys + 1,
                         0, NULL, &have_file, &found)) != BB_OK)
        goto fail;
    if ((err = prep(db, "SELECT chunks, size, type FROM attachment_uploads WHERE device = ?1"
                        " AND sha256 = ?2", &q, &eb, 2, keys, 0, NULL)) != BB_OK)
        goto fail;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        chunks = sqlite3_column_int64(q, 0);
        size = sqlite3_column_int64(q, 1);
        hq_col_text(q, 2, type, sizeof type);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read uploads", &eb);
        goto fail;
    }
    if (rc == SQLITE_DONE) {
        /* Completed by a request that held the lock first. */
        if (!found) {
            bb_db_rollback(db);
            hq_answer_error(ans, 404, "no_upload", "no upload of %.12s… from this device; send "
                            "its head first (POST /v1/attachments)", sha);
            return;
        }
        goto receipt;
    }
    if ((err = query_int(db, "SELECT count(*) FROM attachment_chunks WHERE device = ?1 AND"
                             " sha256 = ?2", &eb, 2, keys, 0, NULL, &held, &have_rows)) != BB_OK)
        goto fail;
    if (held < chunks) {
        bb_db_rollback(db);
        if ((err = partial_answer(db, device, sha, chunks, ans, &eb)) != BB_OK)
            store_error(ans, err, "read chunks", &eb);
        return;
    }
    if ((err = partial_path(h, device, sha, partial, sizeof partial, &eb)) != BB_OK ||
        (err = hq_attach_stored_path(h, sha, stored, sizeof stored, &eb)) != BB_OK)
        goto fail;
    if (!found) {
        const char *t = NULL;
        fd = open(partial, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || (err = bb_attach_hash_fd(fd, got, &got_size, &t, &eb)) != BB_OK) {
            err = fd < 0 ? bb_fail(&eb, bb_errno_err(errno), "open %s: %s", partial,
                                   strerror(errno)) : err;
            goto fail;
        }
        if (strcmp(got, sha) != 0 || got_size != size) {
            /* Every chunk authenticated, so the device itself sealed other
             * bytes than its head names: a collision attempt or a bug. */
            close(fd);
            fd = -1;
            if ((err = exec(db, "DELETE FROM attachment_chunks WHERE device = ?1 AND"
                                " sha256 = ?2", &eb, 2, keys, 0, NULL)) != BB_OK ||
                (err = exec(db, "DELETE FROM attachment_uploads WHERE device = ?1 AND"
                                " sha256 = ?2", &eb, 2, keys, 0, NULL)) != BB_OK ||
                (err = hq_audit(db, "device", "attachment_hash_mismatch", device, sha, &eb))
                    != BB_OK ||
                (err = bb_db_commit(db, &eb)) != BB_OK)
                goto fail;
            unlink(partial);
            bb_warn("attachment=%.12s device=%s result=hash_mismatch", sha, device);
            hq_answer_error(ans, 422, "hash_mismatch", "the file sent is not the SHA-256 its "
                            "head names (%.12s…); the upload was discarded", sha);
            return;
        }
        read_exif(fd, &x);
        if (fsync(fd) != 0) {
            err = bb_fail(&eb, bb_errno_err(errno), "sync %s: %s", partial, strerror(errno));
            goto fail;
        }
        close(fd);
        fd = -1;
        snprintf(dir, sizeof dir, "%s", stored);
        *strrchr(dir, '/') = '\0';
        if ((err = make_dir(dir, &eb)) != BB_OK)
            goto fail;
        if (rename(partial, stored) != 0) {
            err = bb_fail(&eb, bb_errno_err(errno), "move %s into the store: %s", partial,
                          strerror(errno));
            goto fail;
        }
        if ((err = fsync_dir_of(stored, &eb)) != BB_OK)
            goto fail;
        if ((err = bb_time_now_taipei(now)) != BB_OK)
            goto fail;
        {
            const char *t3[4] = { sha, type, now, device };
            sqlite3_stmt *ins;
            if ((err = prep(db, "INSERT OR IGNORE INTO attachments (sha256, type, stored_at,"
                                " device, size, exif_time, exif_lat, exif_lon)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &ins, &eb, 4, t3,
                            1, &size)) != BB_OK)
                goto fail;
            rc = x.has_time ? sqlite3_bind_text(ins, 6, x.time, -1, SQLITE_TRANSIENT)
                            : sqlite3_bind_null(ins, 6);
            if (rc == SQLITE_OK)
                rc = x.has_gps ? sqlite3_bind_double(ins, 7, x.lat) : sqlite3_bind_null(ins, 7);
            if (rc == SQLITE_OK)
                rc = x.has_gps ? sqlite3_bind_double(ins, 8, x.lon) : sqlite3_bind_null(ins, 8);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(ins);
            sqlite3_finalize(ins);
            if (rc != SQLITE_DONE) {
                err = bb_db_err(db, rc, "store the attachment", &eb);
                goto fail;
            }
        }
    } else {
        unlink(partial);       /* HQ already holds these bytes (another device's) */
    }
    if ((err = exec(db, "DELETE FROM attachment_chunks WHERE device = ?1 AND sha256 = ?2",
                    &eb, 2, keys, 0, NULL)) != BB_OK ||
        (err = exec(db, "DELETE FROM attachment_uploads WHERE device = ?1 AND sha256 = ?2",
                    &eb, 2, keys, 0, NULL)) != BB_OK)
        goto fail;
receipt:
    if ((err = receipt_for(h, db, device, sha, &receipt, &eb)) != BB_OK ||
        (err = bb_db_commit(db, &eb)) != BB_OK)
        goto fail;
    bb_info("attachment=%.12s device=%s size=%lld result=stored", sha, device, (long long)size);
    hq_answer_body(ans, 201, HQ_OUT_MERGED, receipt);
    return;
fail:
    if (fd >= 0)
        close(fd);
    free(receipt);
    bb_db_rollback(db);
    store_error(ans, err, "complete attachment", &eb);
}

/* ---- The device behind a request ---------------------------------------------- */

/* Known, registered and active; else an answer.  On BB_OK the caller clears dev. */
static int device_ok(sqlite3 *db, const char *id, struct hq_device *dev, struct hq_answer *ans)
{
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    memset(dev, 0, sizeof *dev);
    err = hq_device_get(db, id, dev, &eb);
    if (err == BB_ERR_NOTFOUND) {
        hq_answer_error(ans, 401, "unknown_device", "device %s is not enrolled at this HQ", id);
        return 0;
    }
    if (err != BB_OK) {
        hq_ingest_store_error(ans, err, "read device", &eb);
        return 0;
    }
    if (!dev->pub) {
        if (dev->status == HQ_DEV_REVOKED)
            hq_answer_error(ans, 403, "device_revoked", "device %s was revoked", dev->id);
        else
            hq_answer_error(ans, 401, "not_registered", "device %s has not registered its key "
                            "yet; it must register (POST /v1/devices/register) first", dev->id);
        hq_device_clear(dev);
        return 0;
    }
    return 1;
}

/* ---- POST /v1/attachments --------------------------------------------------- */

void hq_attach_head(struct hq_home *h, sqlite3 *db, const uint8_t *buf, size_t len,
                    const struct hq_attach_opts *opts, struct hq_answer *ans)
{
    struct bb_attach_view v;
    struct hq_device dev;
    bb_sign_key *pub = NULL;
    char digest[BB_SHA256_HEX_SIZE], partial[HQ_PATH_MAX + 200], now[BB_TIME_MAX];
    char *receipt = NULL;
    uint8_t *old = NULL;
    size_t old_len = 0;
    int64_t named = 0, stored = 0, held = 0;
    unsigned wait;
    bb_errbuf eb;
    bb_err err;
    int found;

    memset(&eb, 0, sizeof eb);
    memset(&dev, 0, sizeof dev);
    if (len > BB_ATTACH_HEAD_MAX) {
        hq_answer_error(ans, 413, "too_large", "an attachment head is at most %d bytes",
                        BB_ATTACH_HEAD_MAX);
        return;
    }
    if (len == 0) {
        hq_answer_error(ans, 400, "empty_body", "the request has no body; send an attachment's "
                        "head");
        return;
    }
    if ((err = bb_attach_parse(buf, len, &v, &eb)) != BB_OK) {
        hq_answer_error(ans, 400, "malformed_attachment", "%s", eb.msg);
        return;
    }
    if (v.head_len != len) {
        hq_answer_error(ans, 400, "malformed_attachment", "the body is %zu bytes but the head "
                        "is %zu: send the head alone, then each chunk with PUT", len,
                        v.head_len);
        return;
    }
    snprintf(ans->device, sizeof ans->device, "%s", v.hdr.device);
    if (!device_ok(db, v.hdr.device, &dev, ans))
        return;
    if ((err = bb_sign_pub_import_der(&pub, dev.pub, dev.pub_len, &eb)) != BB_OK) {
        hq_ingest_store_error(ans, BB_ERR_INTERNAL, "stored device key", &eb);
        goto out;
    }
    if ((err = bb_attach_verify(&v, pub, &eb)) != BB_OK) {
        if (err == BB_ERR_CRYPTO)
            hq_answer_error(ans, 401, "bad_signature", "the head's signature does not verify "
                            "with the key registered for device %s", dev.id);
        else
            hq_ingest_store_error(ans, err, "verify head", &eb);
        goto out;
    }
    if (dev.status == HQ_DEV_REVOKED) {
        /* Unlike a batch, a file is not kept for review: the record that
         * names it is quarantined with its batch, the photo waits with it. */
        hq_answer_error(ans, 403, "device_revoked", "device %s was revoked; HQ takes no files "
                        "from it", dev.id);
        goto out;
    }
    if (opts && opts->admit && (wait = opts->admit(opts->admit_ctx, dev.id)) > 0) {
        hq_answer_error(ans, 429, "rate_limited", "too many requests from device %s; try again "
                        "in %u s", dev.id, wait);
        ans->retry_after = wait;
        goto out;
    }
    if (strcmp(v.hdr.hq_key, h->keys.x_kid) != 0) {
        hq_answer_error(ans, 400, "wrong_hq_key", "the file is sealed to HQ key %s, not this "
                        "HQ's current key %s", v.hdr.hq_key, h->keys.x_kid);
        goto out;
    }
    {
        const char *t[3] = { dev.id, v.hdr.sha256, v.hdr.type };
        if ((err = query_int(db, "SELECT 1 FROM record_attachments WHERE device = ?1 AND"
                                 " sha256 = ?2 AND type = ?3 AND size = ?4 LIMIT 1", &eb, 3, t,
                             1, &v.hdr.size, &named, &found)) != BB_OK) {
            hq_ingest_store_error(ans, err, "read record attachments", &eb);
            goto out;
        }
    }
    if (!found) {
        hq_answer_error(ans, 409, "not_named", "no merged record from this device names "
                        "attachment %.12s… (%lld bytes, %s) — send its batch first",
                        v.hdr.sha256, (long long)v.hdr.size, v.hdr.type);
        goto out;
    }
    {
        const char *t[1] = { v.hdr.sha256 };
        if ((err = query_int(db, "SELECT 1 FROM attachments WHERE sha256 = ?1", &eb, 1, t, 0,
                             NULL, &stored, &found)) != BB_OK) {
            hq_ingest_store_error(ans, err, "read attachments", &eb);
            goto out;
        }
    }
    if (found) {
        /* HQ holds these bytes already: from this record, another one, or
         * another laptop.  Nothing needs to be sent. */
        if ((err = receipt_for(h, db, dev.id, v.hdr.sha256, &receipt, &eb)) != BB_OK) {
            store_error(ans, err, "attachment receipt", &eb);
            goto out;
        }
        hq_answer_body(ans, 200, HQ_OUT_DUPLICATE, receipt);
        receipt = NULL;
        goto out;
    }
    /* Keep the upload: a new head, or the same one again, or another sealing
     * of the same file (the laptop lost its head), which starts over. */
    bb_sha256_hex(v.header_bytes, v.header_len, digest);
    if ((err = partial_path(h, dev.id, v.hdr.sha256, partial, sizeof partial, &eb)) != BB_OK ||
        (err = bb_time_now_taipei(now)) != BB_OK ||
        (err = bb_db_begin(db, &eb)) != BB_OK) {
        store_error(ans, err, "keep the upload", &eb);
        goto out;
    }
    {
        const char *t[2] = { dev.id, v.hdr.sha256 };
        err = query_blob(db, "SELECT head_digest FROM attachment_uploads WHERE device = ?1 AND"
                             " sha256 = ?2", &eb, 2, t, &old, &old_len);
    }
    if (err == BB_OK && (!old || strcmp((const char *)old, digest) != 0)) {
        const char *t[6] = { dev.id, v.hdr.sha256, digest, v.hdr.type, now, NULL };
        int64_t ints[2] = { v.hdr.size, v.hdr.chunks };
        sqlite3_stmt *q;
        if (old)
            bb_info("attachment=%.12s device=%s result=restarted (another head)",
                    v.hdr.sha256, dev.id);
        if ((err = exec(db, "DELETE FROM attachment_chunks WHERE device = ?1 AND sha256 = ?2",
                        &eb, 2, t, 0, NULL)) == BB_OK &&
            (err = prep(db, "INSERT OR REPLACE INTO attachment_uploads (device, sha256,"
                            " head_digest, type, started_at, head, size, chunks)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &q, &eb, 6, t, 2, ints))
                == BB_OK) {
            int rc = sqlite3_bind_blob(q, 6, buf, (int)len, SQLITE_TRANSIENT);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
            sqlite3_finalize(q);
            if (rc != SQLITE_DONE)
                err = bb_db_err(db, rc, "keep the upload", &eb);
        }
        /* Chunks of the old sealing are gone from the table; their bytes in
         * the partial file are overwritten as the new ones arrive. */
    }
    if (err == BB_OK)
        err = bb_db_commit(db, &eb);
    if (err != BB_OK) {
        bb_db_rollback(db);
        store_error(ans, err, "keep the upload", &eb);
        goto out;
    }
    {
        const char *t[2] = { dev.id, v.hdr.sha256 };
        if ((err = query_int(db, "SELECT count(*) FROM attachment_chunks WHERE device = ?1 AND"
                                 " sha256 = ?2", &eb, 2, t, 0, NULL, &held, &found)) != BB_OK) {
            hq_ingest_store_error(ans, err, "read chunks", &eb);
            goto out;
        }
    }
    if (held >= v.hdr.chunks) {
        /* Every chunk arrived before a crash ended the completion. */
        complete(h, db, dev.id, v.hdr.sha256, ans);
        goto out;
    }
    if ((err = partial_answer(db, dev.id, v.hdr.sha256, v.hdr.chunks, ans, &eb)) != BB_OK)
        store_error(ans, err, "read chunks", &eb);
out:
    free(old);
    free(receipt);
    bb_sign_key_free(pub);
    hq_device_clear(&dev);
}

/* ---- PUT /v1/attachments/<sha256>/<i> ------------------------------------------ */

/* Write the plaintext of chunk i at its offset and make it durable. */
static bb_err write_chunk(const struct hq_home *h, const char *device, const char *sha,
                          int64_t offset, const uint8_t *pt, size_t n, bb_errbuf *eb)
{
    char path[HQ_PATH_MAX + 200], dir[HQ_PATH_MAX + 64];
    size_t off = 0;
    bb_err err;
    int fd, e = 0;

    snprintf(dir, sizeof dir, "%s/" HQ_ATTACH_PARTIAL_DIR, h->dir);
    if ((err = make_dir(dir, eb)) != BB_OK ||
        (err = partial_path(h, device, sha, path, sizeof path, eb)) != BB_OK)
        return err;
    fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return bb_fail(eb, bb_errno_err(errno), "open %s: %s", path, strerror(errno));
    while (off < n) {
        ssize_t w = pwrite(fd, pt + off, n - off, (off_t)offset + (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (!e && fdatasync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e)
        return bb_fail(eb, bb_errno_err(e), "write %s: %s", path, strerror(e));
    return BB_OK;
}

void hq_attach_chunk(struct hq_home *h, sqlite3 *db, const char *device, const char *sha256,
                     int64_t index, const uint8_t *buf, size_t len,
                     const struct hq_attach_opts *opts, struct hq_answer *ans)
{
    const char *keys[2] = { device, sha256 };
    struct bb_attach_view v;
    struct hq_device dev;
    uint8_t *head = NULL, *pt = NULL, key[BB_ATTACH_KEY_LEN];
    size_t head_len = 0, n;
    int64_t held = 0, count = 0;
    unsigned wait;
    bb_errbuf eb;
    bb_err err;
    int found;

    memset(&eb, 0, sizeof eb);
    memset(&dev, 0, sizeof dev);
    if (!bb_sha256_hex_valid(sha256)) {
        hq_answer_error(ans, 400, "bad_request", "the path must name the file by its SHA-256 "
                        "(64 lowercase hex characters)");
        return;
    }
    snprintf(ans->device, sizeof ans->device, "%s", device);
    if (!device_ok(db, device, &dev, ans))
        return;
    if ((err = query_blob(db, "SELECT head FROM attachment_uploads WHERE device = ?1 AND"
                              " sha256 = ?2", &eb, 2, keys, &head, &head_len)) != BB_OK) {
        hq_ingest_store_error(ans, err, "read uploads", &eb);
        goto out;
    }
    if (dev.status == HQ_DEV_REVOKED) {
        if (head) {
            exec(db, "DELETE FROM attachment_chunks WHERE device = ?1 AND sha256 = ?2", &eb, 2,
                 keys, 0, NULL);
            exec(db, "DELETE FROM attachment_uploads WHERE device = ?1 AND sha256 = ?2", &eb, 2,
                 keys, 0, NULL);
        }
        hq_answer_error(ans, 403, "device_revoked", "device %s was revoked; HQ takes no files "
                        "from it", dev.id);
        goto out;
    }
    if (!head) {
        hq_answer_error(ans, 404, "no_upload", "no upload of %.12s… from this device; send its "
                        "head first (POST /v1/attachments)", sha256);
        goto out;
    }
    /* The head was verified with the device's key when it was kept. */
    if (bb_attach_parse(head, head_len, &v, &eb) != BB_OK) {
        hq_ingest_store_error(ans, BB_ERR_CORRUPT, "stored head", &eb);
        goto out;
    }
    v.verified = 1;
    if (index < 0 || index >= v.hdr.chunks) {
        hq_answer_error(ans, 416, "out_of_range", "chunk %lld is out of range: the file has "
                        "%lld (0 to %lld)", (long long)index, (long long)v.hdr.chunks,
                        (long long)v.hdr.chunks - 1);
        goto out;
    }
    n = bb_attach_chunk_len(&v.hdr, index);
    if (len != n + BB_ATTACH_TAG_LEN) {
        hq_answer_error(ans, 400, "bad_length", "chunk %lld must be %zu bytes, not %zu",
                        (long long)index, n + BB_ATTACH_TAG_LEN, len);
        goto out;
    }
    if (opts && opts->admit && (wait = opts->admit(opts->admit_ctx, dev.id)) > 0) {
        hq_answer_error(ans, 429, "rate_limited", "too many requests from device %s; try again "
                        "in %u s", dev.id, wait);
        ans->retry_after = wait;
        goto out;
    }
    {
        int64_t i1[1] = { index };
        if ((err = query_int(db, "SELECT 1 FROM attachment_chunks WHERE device = ?1 AND"
                                 " sha256 = ?2 AND idx = ?3", &eb, 2, keys, 1, i1, &held,
                             &found)) != BB_OK) {
            hq_ingest_store_error(ans, err, "read chunks", &eb);
            goto out;
        }
    }
    if (!found) {
        if ((err = bb_attach_open_key(&v, h->keys.x_sk, key, &eb)) != BB_OK) {
            hq_answer_error(ans, 400, "bad_chunk", "%s", eb.msg);
            goto out;
        }
        if (!(pt = malloc(n ? n : 1))) {
            wipe(key, sizeof key);
            hq_ingest_store_error(ans, BB_ERR_NOMEM, "chunk", &eb);
            goto out;
        }
        err = bb_attach_chunk_open(key, v.header_digest, &v.hdr, index, buf, len, pt, &eb);
        wipe(key, sizeof key);
        if (err != BB_OK) {
            hq_answer_error(ans, 400, "bad_chunk", "chunk %lld does not authenticate under its "
                            "head (another file's, another position, or damaged); nothing was "
                            "written", (long long)index);
            goto out;
        }
        err = write_chunk(h, device, sha256, index * v.hdr.chunk_size, pt, n, &eb);
        wipe(pt, n);
        if (err != BB_OK) {
            store_error(ans, err, "write chunk", &eb);
            goto out;
        }
        {
            char now[BB_TIME_MAX];
            const char *t[3] = { device, sha256, now };
            int64_t i1[1] = { index };
            if ((err = bb_time_now_taipei(now)) != BB_OK ||
                (err = exec(db, "INSERT OR IGNORE INTO attachment_chunks (device, sha256,"
                                " received_at, idx) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT"
                                " 1 FROM attachment_uploads WHERE device = ?1 AND sha256 = ?2)",
                            &eb, 3, t, 1, i1)) != BB_OK) {
                store_error(ans, err, "note chunk", &eb);
                goto out;
            }
        }
    }
    if ((err = query_int(db, "SELECT count(*) FROM attachment_chunks WHERE device = ?1 AND"
                             " sha256 = ?2", &eb, 2, keys, 0, NULL, &count, &found)) != BB_OK) {
        hq_ingest_store_error(ans, err, "read chunks", &eb);
        goto out;
    }
    if (count >= v.hdr.chunks)
        complete(h, db, device, sha256, ans);
    else if ((err = partial_answer(db, device, sha256, v.hdr.chunks, ans, &eb)) != BB_OK)
        store_error(ans, err, "read chunks", &eb);
out:
    free(pt);
    free(head);
    hq_device_clear(&dev);
}

/* ---- Links from revisions ------------------------------------------------------ */

bb_err hq_attach_link_revision(sqlite3 *db, const bb_catalog *cat, const cJSON *rec,
                               bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(cat, bb_json_str(rec, "kind"));
    const cJSON *data = bb_json_obj(rec, "data"), *rev = cJSON_GetObjectItemCaseSensitive(rec,
                                                                                        "rev");
    size_t i;
    bb_err err;

    if (!k || !data || !cJSON_IsNumber(rev))
        return BB_OK;
    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        const cJSON *it;
        if (f->type != BB_F_ATTACHMENT)
            continue;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, f->name)) {
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
            const char *t[6] = { bb_json_str(rec, "id"), bb_json_str(rec, "device"), f->name,
                                 bb_json_str(it, "sha256"), bb_json_str(it, "type"),
                                 bb_json_str(it, "name") };
            int64_t ints[2] = { (int64_t)rev->valuedouble,
                                cJSON_IsNumber(size) ? (int64_t)size->valuedouble : 0 };
            if (!t[0] || !t[1] || !t[3] || !t[4])
                continue;      /* validated records always have them */
            if ((err = exec(db, "INSERT OR IGNORE INTO record_attachments (record_id, device,"
                                " field, sha256, type, name, rev, size)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", eb, 6, t, 2, ints))
                != BB_OK)
                return err;
        }
    }
    return BB_OK;
}
