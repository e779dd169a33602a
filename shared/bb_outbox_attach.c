/*
 * bb_outbox_attach.c — the laptop's side of attachments: which files to
 * send, their sealed heads and chunks, HQ's receipts, USB export and the
 * freeing of acknowledged files (see bb_outbox.h, "Attachments").
 *
 * The head and its chunk key are made once per file and kept in the row,
 * so every retry, resumed upload and USB stick carries the same bytes and
 * HQ can keep the chunks it already holds.  The key is dropped with the
 * head when HQ's receipt is stored.
 *
 * Every statement uses bound parameters, and every bind is checked.
 */
#include "bb_outbox.h"
#include "bb_outbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "bb_db.h"
#include "bb_file.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_time.h"

#define wipe mbedtls_platform_zeroize

#define RECEIPT_MAX ((size_t)64 * 1024)

/* ---- Small helpers ------------------------------------------------------- */

static bb_err bind_text(sqlite3 *db, sqlite3_stmt *q, int i, const char *v, bb_errbuf *eb)
{
    int rc = v ? sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(q, i);
    return rc == SQLITE_OK ? BB_OK : bb_db_err(db, rc, "bind", eb);
}

static bb_err bind_int(sqlite3 *db, sqlite3_stmt *q, int i, int64_t v, bb_errbuf *eb)
{
    int rc = sqlite3_bind_int64(q, i, v);
    return rc == SQLITE_OK ? BB_OK : bb_db_err(db, rc, "bind", eb);
}

static bb_err bind_blob(sqlite3 *db, sqlite3_stmt *q, int i, const void *v, size_t n,
                        bb_errbuf *eb)
{
    int rc = sqlite3_bind_blob(q, i, v, (int)n, SQLITE_TRANSIENT);
    return rc == SQLITE_OK ? BB_OK : bb_db_err(db, rc, "bind", eb);
}

static void file_path(const bb_outbox *ob, const char *sha, char *out, size_t n)
{
    snprintf(out, n, "%s/attachments/%.2s/%s", ob->home, sha, sha);
}

void bb_outbox_att_clear(struct bb_outbox_att *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a->head);
    wipe(a->key, sizeof a->key);
    memset(a, 0, sizeof *a);
    a->fd = -1;
}

/* Open the stored file without following a link; it must be regular and of its size. */
static bb_err open_file(const bb_outbox *ob, const char *sha, int64_t size, int *fd_out,
                        bb_errbuf *eb)
{
    char path[4400];
    struct stat st;
    int fd;

    file_path(ob, sha, path, sizeof path);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return bb_outbox_i_errno_fail(eb, ob->lang, errno, BB_L(ob->lang, "open", "開啟"), path);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != size) {
        close(fd);
        return bb_fail(eb, BB_ERR_STATE,
                       BB_L(ob->lang, "%s is not the %lld-byte file this laptop stored",
                            "%s 不是本機存下的 %lld 位元組檔案"), path, (long long)size);
    }
    *fd_out = fd;
    return BB_OK;
}

/* ---- Which file next, and its head ---------------------------------------- */

/* Make, sign and keep the head and key of a (the first time it is sent). */
static bb_err seal_head(bb_outbox *ob, struct bb_outbox_att *a, bb_errbuf *eb)
{
    struct bb_attach_header h;
    char sha[BB_SHA256_HEX_SIZE], now[BB_TIME_MAX];
    int64_t size = 0;
    const char *type = NULL;
    sqlite3_stmt *q;
    bb_err err;

    /* The file must still be what the record names: HQ would refuse it
     * only after every chunk, and the laptop can say why now. */
    if (lseek(a->fd, 0, SEEK_SET) != 0 ||
        (err = bb_attach_hash_fd(a->fd, sha, &size, &type, eb)) != BB_OK)
        return bb_fail(eb, BB_ERR_IO, BB_L(ob->lang, "read attachment %.12s", "讀取附件 %.12s"),
                       a->sha256);
    if (strcmp(sha, a->sha256) != 0 || size != a->size)
        return bb_fail(eb, BB_ERR_STATE,
                       BB_L(ob->lang, "attachment %.12s… on this laptop no longer has the "
                                      "content its record names (the file was changed or "
                                      "damaged)",
                            "本機的附件 %.12s… 內容已與紀錄所載不符（檔案被更動或損壞）"),
                       a->sha256);
    if ((err = bb_outbox_i_device_key(ob, eb)) != BB_OK)
        return err;
    memset(&h, 0, sizeof h);
    snprintf(h.device, sizeof h.device, "%s", ob->device);
    snprintf(h.device_key, sizeof h.device_key, "%s", ob->device_key_id);
    snprintf(h.sha256, sizeof h.sha256, "%s", a->sha256);
    h.size = a->size;
    snprintf(h.type, sizeof h.type, "%s", a->type);
    if (bb_time_format(bb_time_now(), BB_TAIPEI_OFFSET_MIN, now) != BB_OK)
        return bb_fail(eb, BB_ERR_INTERNAL, "format the time");
    snprintf(h.created_at, sizeof h.created_at, "%s", now);
    snprintf(h.hq_key, sizeof h.hq_key, "%s", ob->hq_x25519_key);
    if ((err = bb_attach_seal_head(&h, ob->hq_x25519, ob->dev, &a->head, &a->head_len, a->key,
                                   eb)) != BB_OK)
        return err;
    /* Only if no other process (beatbook export beside syncd) sealed it
     * first; then use theirs, so there is one head per file. */
    if ((err = bb_db_prepare(ob->db, "UPDATE attachments SET head = ?1, chunk_key = ?2"
                                     " WHERE sha256 = ?3 AND head IS NULL", &q, eb)) != BB_OK)
        return err;
    if ((err = bind_blob(ob->db, q, 1, a->head, a->head_len, eb)) != BB_OK ||
        (err = bind_blob(ob->db, q, 2, a->key, sizeof a->key, eb)) != BB_OK ||
        (err = bind_text(ob->db, q, 3, a->sha256, eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err;
    }
    if ((err = bb_outbox_i_step_done(ob->db, q, "keep the attachment's head", eb)) != BB_OK)
        return err;
    if (sqlite3_changes(ob->db) == 0) {
        free(a->head);
        a->head = NULL;
        return BB_ERR_CONFLICT;         /* read the stored one */
    }
    return BB_OK;
}

bb_err bb_outbox_att_next(bb_outbox *ob, int acked_only, int64_t after,
                          struct bb_outbox_att *a, bb_errbuf *eb)
{
    static const char sql[] =
        "SELECT a.rowid, a.sha256, a.size, a.type, a.name, a.attempts, a.head, a.chunk_key"
        " FROM attachments a"
        " WHERE a.rowid > ?1 AND a.receipt IS NULL AND a.refused IS NULL AND a.purged_at IS NULL"
        " AND EXISTS (SELECT 1 FROM revision_attachments ra"
        "   JOIN revisions r ON r.id = ra.record_id AND r.rev = ra.rev"
        "   JOIN batches b ON b.seq = r.batch_seq"
        "   WHERE ra.sha256 = a.sha256 AND (b.state = 'acked' OR (?2 = 0 AND b.state = 'sealed')))"
        " ORDER BY a.rowid LIMIT 1";
    int tries;
    bb_err err;

    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (!bb_outbox_i_table_exists(ob->db, "attachments"))
        return BB_ERR_NOTFOUND;
    for (tries = 0; tries < 3; tries++) {
        sqlite3_stmt *q;
        int rc;
        if ((err = bb_db_prepare(ob->db, sql, &q, eb)) != BB_OK)
            return err;
        if ((err = bind_int(ob->db, q, 1, after, eb)) != BB_OK ||
            (err = bind_int(ob->db, q, 2, acked_only ? 1 : 0, eb)) != BB_OK) {
            sqlite3_finalize(q);
            return err;
        }
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
            sqlite3_finalize(q);
            return BB_ERR_NOTFOUND;
        }
        if (rc != SQLITE_ROW) {
            sqlite3_finalize(q);
            return bb_db_err(ob->db, rc, "read attachments", eb);
        }
        a->rowid = sqlite3_column_int64(q, 0);
        snprintf(a->sha256, sizeof a->sha256, "%s", (const char *)sqlite3_column_text(q, 1));
        a->size = sqlite3_column_int64(q, 2);
        snprintf(a->type, sizeof a->type, "%s", (const char *)sqlite3_column_text(q, 3));
        if (sqlite3_column_type(q, 4) == SQLITE_TEXT)
            snprintf(a->name, sizeof a->name, "%s", (const char *)sqlite3_column_text(q, 4));
        a->attempts = (long)sqlite3_column_int64(q, 5);
        if (sqlite3_column_type(q, 6) == SQLITE_BLOB &&
            sqlite3_column_bytes(q, 7) == BB_ATTACH_KEY_LEN) {
            int n = sqlite3_column_bytes(q, 6);
            if (n > 0 && (a->head = malloc((size_t)n))) {
                memcpy(a->head, sqlite3_column_blob(q, 6), (size_t)n);
                a->head_len = (size_t)n;
                memcpy(a->key, sqlite3_column_blob(q, 7), BB_ATTACH_KEY_LEN);
            } else if (n > 0) {
                sqlite3_finalize(q);
                return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
            }
        }
        sqlite3_finalize(q);
        if ((err = open_file(ob, a->sha256, a->size, &a->fd, eb)) != BB_OK)
            goto fail;
        if (!a->head) {
            err = seal_head(ob, a, eb);
            if (err == BB_ERR_CONFLICT) {
                bb_outbox_att_clear(a);
                continue;
            }
            if (err != BB_OK)
                goto fail;
        }
        if ((err = bb_attach_parse(a->head, a->head_len, &a->view, eb)) != BB_OK)
            goto fail;
        return BB_OK;
    }
    return bb_fail(eb, BB_ERR_BUSY, "attachment heads keep changing under this process");
fail:
    {
        /* Name the file in the message, and keep the reason for status. */
        char sha[BB_SHA256_HEX_SIZE];
        int64_t rowid = a->rowid;
        snprintf(sha, sizeof sha, "%s", a->sha256);
        bb_outbox_att_clear(a);
        a->rowid = rowid;
        snprintf(a->sha256, sizeof a->sha256, "%s", sha);
    }
    return err;
}

bb_err bb_outbox_att_chunk(const bb_outbox *ob, const struct bb_outbox_att *a, int64_t i,
                           uint8_t *out, size_t *out_len, bb_errbuf *eb)
{
    size_t n = bb_attach_chunk_len(&a->view.hdr, i), got = 0;
    off_t at = (off_t)(i * a->view.hdr.chunk_size);
    uint8_t *pt;
    bb_err err;

    *out_len = 0;
    if (n == 0)
        return bb_fail(eb, BB_ERR_INVALID, "chunk %lld is out of range", (long long)i);
    if (!(pt = malloc(n)))
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    while (got < n) {
        ssize_t r = pread(a->fd, pt + got, n - got, at + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            char path[4400];
            file_path(ob, a->sha256, path, sizeof path);
            err = bb_outbox_i_errno_fail(eb, ob->lang, r < 0 ? errno : EIO,
                                         BB_L(ob->lang, "read", "讀取"), path);
            free(pt);
            return err;
        }
        got += (size_t)r;
    }
    err = bb_attach_chunk_seal(a->key, a->view.header_digest, &a->view.hdr, i, pt, n, out, eb);
    wipe(pt, n);
    free(pt);
    if (err == BB_OK)
        *out_len = n + BB_ATTACH_TAG_LEN;
    return err;
}

/* ---- Receipts and attempts ------------------------------------------------ */

bb_err bb_outbox_att_ack(bb_outbox *ob, const char *sha256, const char *receipt, size_t len,
                         int check_only, int *already, bb_errbuf *eb)
{
    const char *what = BB_L(ob->lang, "attachment receipt", "附件回執");
    sqlite3_stmt *q;
    cJSON *doc = NULL;
    const cJSON *size;
    int64_t want_size = 0;
    char want_type[BB_ATTACH_TYPE_MAX] = "";
    int have_receipt = 0, rc;
    bb_err err;

    if (already)
        *already = 0;
    if ((err = bb_db_prepare(ob->db, "SELECT size, type, receipt IS NOT NULL FROM attachments"
                                     " WHERE sha256 = ?1", &q, eb)) != BB_OK)
        return err;
    if ((err = bind_text(ob->db, q, 1, sha256, eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err;
    }
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        want_size = sqlite3_column_int64(q, 0);
        snprintf(want_type, sizeof want_type, "%s", (const char *)sqlite3_column_text(q, 1));
        have_receipt = sqlite3_column_int(q, 2);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return bb_fail(eb, BB_ERR_NOTFOUND, BB_L(ob->lang, "%s names attachment %.12s…, which "
                                                           "this laptop does not hold",
                                                 "%s 所載附件 %.12s… 不在本機"), what, sha256);
    if (rc != SQLITE_ROW)
        return bb_db_err(ob->db, rc, "read attachments", eb);
    if ((err = bb_outbox_i_parse_signed(ob, receipt, len, RECEIPT_MAX, BB_CTX_ATTACH_RECEIPT,
                                        what, &doc, eb)) != BB_OK)
        return err;
    size = cJSON_GetObjectItemCaseSensitive(doc, "size");
    if (!bb_json_str(doc, "attachment") || strcmp(bb_json_str(doc, "attachment"), sha256) != 0 ||
        !bb_json_str(doc, "device") || strcmp(bb_json_str(doc, "device"), ob->device) != 0 ||
        !cJSON_IsNumber(size) || size->valuedouble != (double)want_size ||
        !bb_json_str(doc, "type") || strcmp(bb_json_str(doc, "type"), want_type) != 0 ||
        !bb_json_str(doc, "received_at")) {
        cJSON_Delete(doc);
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(ob->lang, "%s from HQ: it does not name this laptop's file %.12s… "
                                      "(device, size and type must be this file's)",
                            "總局的%s：所載並非本機的檔案 %.12s…（裝置、大小與類型須相符）"),
                       what, sha256);
    }
    cJSON_Delete(doc);
    if (have_receipt) {
        if (already)
            *already = 1;
        return BB_OK;
    }
    if (check_only)
        return BB_OK;
    if ((err = bb_db_prepare(ob->db, "UPDATE attachments SET receipt = ?1, acked_at = ?2,"
                                     " head = NULL, chunk_key = NULL, last_error = NULL"
                                     " WHERE sha256 = ?3 AND receipt IS NULL", &q, eb)) != BB_OK)
        return err;
    if (sqlite3_bind_text(q, 1, receipt, (int)len, SQLITE_TRANSIENT) != SQLITE_OK ||
        (err = bind_int(ob->db, q, 2, bb_time_now(), eb)) != BB_OK ||
        (err = bind_text(ob->db, q, 3, sha256, eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err != BB_OK ? err : bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    }
    return bb_outbox_i_step_done(ob->db, q, "store the attachment receipt", eb);
}

bb_err bb_outbox_att_attempt(bb_outbox *ob, const char *sha256, const char *error,
                             bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    if ((err = bb_db_prepare(ob->db, error
                             ? "UPDATE attachments SET last_error = ?2, last_attempt_at = ?3"
                               " WHERE sha256 = ?1"
                             : "UPDATE attachments SET attempts = attempts + 1,"
                               " last_attempt_at = ?3 WHERE sha256 = ?1 AND ?2 IS NULL",
                             &q, eb)) != BB_OK)
        return err;
    if ((err = bind_text(ob->db, q, 1, sha256, eb)) != BB_OK ||
        (err = bind_text(ob->db, q, 2, error, eb)) != BB_OK ||
        (err = bind_int(ob->db, q, 3, bb_time_now(), eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err;
    }
    return bb_outbox_i_step_done(ob->db, q, "note the attempt", eb);
}

bb_err bb_outbox_att_refuse(bb_outbox *ob, const char *sha256, const char *reason,
                            bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    if ((err = bb_db_prepare(ob->db, "UPDATE attachments SET refused = ?2, last_error = ?2,"
                                     " last_attempt_at = ?3 WHERE sha256 = ?1", &q, eb)) != BB_OK)
        return err;
    if ((err = bind_text(ob->db, q, 1, sha256, eb)) != BB_OK ||
        (err = bind_text(ob->db, q, 2, reason, eb)) != BB_OK ||
        (err = bind_int(ob->db, q, 3, bb_time_now(), eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err;
    }
    return bb_outbox_i_step_done(ob->db, q, "note the refusal", eb);
}

bb_err bb_outbox_att_pending(bb_outbox *ob, long *files, uint64_t *bytes, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    *files = 0;
    *bytes = 0;
    if (!bb_outbox_i_table_exists(ob->db, "attachments"))
        return BB_OK;
    if ((err = bb_db_prepare(ob->db, "SELECT count(*), coalesce(sum(size), 0) FROM attachments"
                                     " WHERE receipt IS NULL AND refused IS NULL"
                                     " AND purged_at IS NULL", &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *files = (long)sqlite3_column_int64(q, 0);
        *bytes = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? BB_OK : bb_db_err(ob->db, rc, "read attachments", eb);
}

/* ---- USB export ------------------------------------------------------------ */

static bb_err write_all(int fd, const uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? bb_errno_err(errno) : BB_ERR_IO;
        off += (size_t)w;
    }
    return BB_OK;
}

/* One .bba: head then every chunk, to a temporary name, fsync, rename. */
static bb_err export_one(bb_outbox *ob, const struct bb_outbox_att *a, int dirfd,
                         const char *dir, uint8_t *chunk, bb_errbuf *eb)
{
    char name[200], tmp[220], path[4400];
    int64_t i;
    bb_err err = BB_OK;
    int fd, e = 0;

    snprintf(name, sizeof name, "%s-%s.bba", ob->device, a->sha256);
    snprintf(tmp, sizeof tmp, ".%s.tmp", name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return bb_outbox_i_errno_fail(eb, ob->lang, errno, BB_L(ob->lang, "create", "建立"), path);
    if (write_all(fd, a->head, a->head_len) != BB_OK)
        e = errno ? errno : EIO;
    for (i = 0; !e && i < a->view.hdr.chunks; i++) {
        size_t n = 0;
        if ((err = bb_outbox_att_chunk(ob, a, i, chunk, &n, eb)) != BB_OK)
            break;
        if (write_all(fd, chunk, n) != BB_OK)
            e = errno ? errno : EIO;
    }
    if (!e && err == BB_OK && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e && err == BB_OK)
        e = errno;
    if (!e && err == BB_OK && renameat(dirfd, tmp, dirfd, name) != 0)
        e = errno;
    if (e || err != BB_OK) {
        unlinkat(dirfd, tmp, 0);
        return err != BB_OK ? err : bb_outbox_i_errno_fail(eb, ob->lang, e,
                                                         BB_L(ob->lang, "write", "寫入"), path);
    }
    return BB_OK;
}

bb_err bb_outbox_att_export(bb_outbox *ob, int dirfd, const char *dir, long *written,
                            bb_errbuf *eb)
{
    struct bb_outbox_att a;
    uint8_t *chunk = malloc(BB_ATTACH_CHUNK_MAX);
    int64_t after = 0;
    bb_err err;

    *written = 0;
    if (!chunk)
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    for (;;) {
        err = bb_outbox_att_next(ob, 0, after, &a, eb);
        if (err == BB_ERR_NOTFOUND) {
            err = BB_OK;
            break;
        }
        if (err != BB_OK)
            break;
        after = a.rowid;
        err = export_one(ob, &a, dirfd, dir, chunk, eb);
        bb_outbox_att_clear(&a);
        if (err != BB_OK)
            break;
        (*written)++;
    }
    free(chunk);
    return err;
}

/* ---- Purge ----------------------------------------------------------------- */

bb_err bb_outbox_att_purge(bb_outbox *ob, int64_t cutoff, int64_t now, long *freed,
                           uint64_t *bytes, bb_errbuf *eb)
{
    sqlite3_stmt *q, *upd;
    bb_err err;
    int rc;

    *freed = 0;
    *bytes = 0;
    if (!bb_outbox_i_table_exists(ob->db, "attachments"))
        return BB_OK;
    if ((err = bb_db_prepare(ob->db, "SELECT sha256, size FROM attachments WHERE receipt IS NOT"
                                     " NULL AND acked_at <= ?1 AND purged_at IS NULL", &q, eb))
        != BB_OK)
        return err;
    if ((err = bb_db_prepare(ob->db, "UPDATE attachments SET purged_at = ?2 WHERE sha256 = ?1",
                             &upd, eb)) != BB_OK) {
        sqlite3_finalize(q);
        return err;
    }
    if ((err = bind_int(ob->db, q, 1, cutoff, eb)) != BB_OK)
        goto out;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(q, 0);
        char path[4400];
        /* HQ's signed receipt names this file: unlinking before the commit
         * loses nothing (a rollback leaves a row whose file HQ holds). */
        file_path(ob, sha, path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT) {
            err = bb_outbox_i_errno_fail(eb, ob->lang, errno, BB_L(ob->lang, "remove", "刪除"),
                                         path);
            goto out;
        }
        sqlite3_reset(upd);
        if ((err = bind_text(ob->db, upd, 1, sha, eb)) != BB_OK ||
            (err = bind_int(ob->db, upd, 2, now, eb)) != BB_OK)
            goto out;
        if ((rc = sqlite3_step(upd)) != SQLITE_DONE) {
            err = bb_db_err(ob->db, rc, "free attachments", eb);
            goto out;
        }
        (*freed)++;
        *bytes += (uint64_t)sqlite3_column_int64(q, 1);
    }
    if (rc != SQLITE_DONE)
        err = bb_db_err(ob->db, rc, "free attachments", eb);
out:
    sqlite3_finalize(q);
    sqlite3_finalize(upd);
    return err;
}

/* ---- Status ---------------------------------------------------------------- */

bb_err bb_outbox_att_summary(sqlite3 *db, cJSON *o, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    cJSON *att, *refused;
    bb_err err = BB_OK;
    int rc;

    if (!bb_outbox_i_table_exists(db, "attachments"))
        return BB_OK;
    if (!(att = cJSON_AddObjectToObject(o, "attachments")))
        return BB_ERR_NOMEM;
    if ((err = bb_db_prepare(db,
                             "SELECT"
                             " coalesce(sum(receipt IS NULL AND refused IS NULL), 0),"
                             " coalesce(sum(CASE WHEN receipt IS NULL AND refused IS NULL"
                             "   THEN size END), 0),"
                             " coalesce(sum(receipt IS NOT NULL), 0),"
                             " coalesce(sum(CASE WHEN receipt IS NOT NULL THEN size END), 0),"
                             " coalesce(sum(purged_at IS NOT NULL), 0),"
                             " coalesce(sum(CASE WHEN purged_at IS NULL THEN size END), 0),"
                             " coalesce(sum(refused IS NOT NULL), 0)"
                             " FROM attachments", &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        static const char *const keys[] = { "waiting", "waiting_bytes", "at_hq", "at_hq_bytes",
                                            "freed", "bytes_on_laptop", "refused_count" };
        size_t i;
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (!cJSON_AddNumberToObject(att, keys[i], (double)sqlite3_column_int64(q, (int)i)))
                err = BB_ERR_NOMEM;
    } else {
        err = bb_db_err(db, rc, "read attachments", eb);
    }
    sqlite3_finalize(q);
    if (err != BB_OK)
        return err;
    if (!(refused = cJSON_AddArrayToObject(att, "refused")))
        return BB_ERR_NOMEM;
    if ((err = bb_db_prepare(db, "SELECT sha256, coalesce(name, ''), refused FROM attachments"
                                 " WHERE refused IS NOT NULL ORDER BY rowid LIMIT 50", &q, eb))
        != BB_OK)
        return err;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *row = cJSON_CreateObject();
        if (!row || !cJSON_AddItemToArray(refused, row) ||
            !cJSON_AddStringToObject(row, "sha256", (const char *)sqlite3_column_text(q, 0)) ||
            !cJSON_AddStringToObject(row, "name", (const char *)sqlite3_column_text(q, 1)) ||
            !cJSON_AddStringToObject(row, "reason", (const char *)sqlite3_column_text(q, 2))) {
            err = BB_ERR_NOMEM;
            break;
        }
    }
    if (err == BB_OK && rc != SQLITE_DONE)
        err = bb_db_err(db, rc, "read attachments", eb);
    sqlite3_finalize(q);
    return err;
}
