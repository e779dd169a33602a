/*
 * col_store.c — the collector's SQLite store (see col_store.h).
 * All statements are prepared with bound parameters.
 */
#include "col_store.h"
#include "bb_db.h"
#include "bb_file.h"
#include "bb_json.h"
#include "bb_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One language for the process: the collector runs one command per process. */
static enum bb_lang lang = BB_LANG_EN;

void col_store_set_lang(enum bb_lang l)
{
    lang = l;
}

bb_err col_store_home(char *out, size_t n, bb_errbuf *eb)
{
    const char *env = getenv("BEATBOOK_HOME"), *home;

    if (env && *env) {
        if (snprintf(out, n, "%s", env) >= (int)n)
            return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "BEATBOOK_HOME is too long",
                                                   "BEATBOOK_HOME 太長"));
        return BB_OK;
    }
    home = getenv("HOME");
    if (!home || !*home)
        return bb_fail(eb, BB_ERR_CONFIG,
                       BB_L(lang, "neither BEATBOOK_HOME nor HOME is set; set BEATBOOK_HOME to "
                                  "the store folder",
                            "BEATBOOK_HOME 與 HOME 都沒有設定；請將 BEATBOOK_HOME 設為資料庫資料夾"));
    if (snprintf(out, n, "%s/.local/share/beatbook", home) >= (int)n)
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "HOME is too long", "HOME 太長"));
    return BB_OK;
}


static bb_err db_path(const char *home, char *out, size_t n, bb_errbuf *eb)
{
    if (snprintf(out, n, "%s/%s", home, COL_DB_NAME) >= (int)n)
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "%s: path too long", "%s：路徑太長"), home);
    return BB_OK;
}

static bb_err meta_put(sqlite3 *db, const char *key, const char *value, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db, "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                             &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, "save settings", eb);
}

static bb_err meta_get(sqlite3 *db, const char *key, char *out, size_t n, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    out[0] = '\0';
    if ((err = bb_db_prepare(db, "SELECT value FROM meta WHERE key = ?1", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return BB_OK;
    if (rc == SQLITE_DONE)
        return bb_fail(eb, BB_ERR_CORRUPT,
                       BB_L(lang, "the store has no \"%s\" setting; was it made by "
                                  "`beatbook init`?",
                            "資料庫沒有「%s」設定；它是以 beatbook init 建立的嗎？"), key);
    return bb_db_err(db, rc, "read settings", eb);
}

bb_err col_store_create(const char *home, const char *officer, const char *org_unit,
                        const char *device, bb_errbuf *eb)
{
    char path[4096], now[BB_TIME_MAX];
    sqlite3 *db;
    bb_err err;
    int fd;

    if ((err = bb_make_dirs(home, 0700, eb)) != BB_OK ||
        (err = db_path(home, path, sizeof path, eb)) != BB_OK)
        return err;
    /* O_EXCL: of two `init`s racing for the same folder, exactly one wins. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return bb_fail(eb, BB_ERR_EXISTS,
                           BB_L(lang, "%s: a store already exists here (officer and unit are "
                                      "set); use another BEATBOOK_HOME for a second store",
                                "%s：這裡已經有資料庫（員警與單位已設定）；第二個資料庫請用另一個 "
                                "BEATBOOK_HOME"), path);
        return bb_fail(eb, errno == EACCES ? BB_ERR_PERM : BB_ERR_IO,
                       BB_L(lang, "create %s: %s", "建立 %s：%s"), path,
                       bb_errno_text(errno, lang));
    }
    close(fd);
    if ((err = bb_db_open(path, "collector", BB_DB_CREATE, &db, eb)) != BB_OK) {
        unlink(path);
        return err;
    }
    if ((err = bb_time_now_taipei(now)) != BB_OK ||
        (err = bb_db_begin(db, eb)) != BB_OK)
        goto out;
    if ((err = meta_put(db, "officer", officer, eb)) != BB_OK ||
        (err = meta_put(db, "org_unit", org_unit, eb)) != BB_OK ||
        (err = meta_put(db, "device", device, eb)) != BB_OK ||
        (err = meta_put(db, "created_at", now, eb)) != BB_OK) {
        bb_db_rollback(db);
        goto out;
    }
    err = bb_db_commit(db, eb);
out:
    bb_db_close(db);
    if (err != BB_OK)
        unlink(path);
    return err;
}

bb_err col_store_open(const char *home, int readonly, col_store **out, bb_errbuf *eb)
{
    col_store *st;
    bb_err err;

    *out = NULL;
    st = calloc(1, sizeof *st);
    if (!st)
        return BB_ERR_NOMEM;
    if ((err = db_path(home, st->path, sizeof st->path, eb)) != BB_OK)
        goto fail;
    if (access(st->path, F_OK) != 0) {
        err = bb_fail(eb, BB_ERR_NOTFOUND,
                      BB_L(lang, "no store at %s; create one with: beatbook init --officer ID "
                                 "--org-unit CODE",
                           "%s 沒有資料庫；請先建立：beatbook init --officer ID --org-unit CODE"),
                      st->path);
        goto fail;
    }
    /*
     * Commands that only read still open read-write, so that an older store
     * is migrated first (its tables may lack columns the queries use); they
     * then set query_only.  Only a store on read-only media falls back to a
     * read-only open, which works when the store is already current.
     */
    err = bb_db_open(st->path, "collector", 0, &st->db, eb);
    if (err == BB_ERR_READONLY && readonly)
        err = bb_db_open(st->path, "collector", BB_DB_READONLY, &st->db, eb);
    else if (err == BB_OK && readonly)
        err = bb_db_exec(st->db, "PRAGMA query_only=ON", eb);
    if (err == BB_ERR_CORRUPT)
        err = bb_fail(eb, BB_ERR_CORRUPT,
                      BB_L(lang, "%s: not a beatbook store, or it is damaged; restore it from a "
                                 "backup, or start a new store in another folder: "
                                 "BEATBOOK_HOME=DIR beatbook init --officer ID --org-unit CODE",
                           "%s：不是 beatbook 資料庫，或已損毀；請從備份還原，或在另一個資料夾"
                           "建立新資料庫：BEATBOOK_HOME=DIR beatbook init --officer ID "
                           "--org-unit CODE"), st->path);
    if (err != BB_OK)
        goto fail;
    if ((err = meta_get(st->db, "officer", st->officer, sizeof st->officer, eb)) != BB_OK ||
        (err = meta_get(st->db, "org_unit", st->org_unit, sizeof st->org_unit, eb)) != BB_OK ||
        (err = meta_get(st->db, "device", st->device, sizeof st->device, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "%s", st->path);
        goto fail;
    }
    *out = st;
    return BB_OK;
fail:
    col_store_close(st);
    return err;
}

void col_store_close(col_store *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->q_rev);
    sqlite3_finalize(st->q_upsert);
    sqlite3_finalize(st->q_revision);
    bb_db_close(st->db);
    free(st);
}

bb_err col_store_begin(col_store *st, bb_errbuf *eb)
{
    return bb_db_begin(st->db, eb);
}

bb_err col_store_commit(col_store *st, bb_errbuf *eb)
{
    return bb_db_commit(st->db, eb);
}

void col_store_rollback(col_store *st)
{
    bb_db_rollback(st->db);
}

/* Prepare *q once; later calls reset it for reuse. */
static bb_err cached(col_store *st, sqlite3_stmt **q, const char *sql, bb_errbuf *eb)
{
    int rc;

    if (*q) {
        sqlite3_reset(*q);
        sqlite3_clear_bindings(*q);
        return BB_OK;
    }
    rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL);
    return rc == SQLITE_OK ? BB_OK : bb_db_err(st->db, rc, "prepare statement", eb);
}

static long current_rev(col_store *st, const char *id, bb_err *err, bb_errbuf *eb)
{
    long rev = -1;
    int rc;

    if ((*err = cached(st, &st->q_rev, "SELECT rev FROM records WHERE id = ?1", eb)) != BB_OK)
        return -1;
    sqlite3_bind_text(st->q_rev, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st->q_rev);
    if (rc == SQLITE_ROW)
        rev = sqlite3_column_int64(st->q_rev, 0);
    else if (rc != SQLITE_DONE)
        *err = bb_db_err(st->db, rc, "read record", eb);
    sqlite3_reset(st->q_rev);
    return rev;
}

bb_err col_store_put(col_store *st, const cJSON *rec, long expect_rev, bb_errbuf *eb)
{
    const char *id = bb_json_str(rec, "id"), *status = bb_json_str(rec, "status");
    const char *occurred = bb_json_str(rec, "occurred_at");
    const cJSON *jrev = cJSON_GetObjectItemCaseSensitive(rec, "rev");
    int64_t occ_unix;
    int off;
    char *body;
    sqlite3_stmt *q;
    bb_err err = BB_OK;
    int rc;

    if (!id || !status || !occurred || !cJSON_IsNumber(jrev) ||
        bb_time_parse(occurred, &occ_unix, &off, NULL) != BB_OK)
        return bb_fail(eb, BB_ERR_INTERNAL, "col_store_put: record not validated");
    /* A new record (expect_rev -1) needs no look-up: its fresh UUIDv7 id
     * cannot exist, and the primary key would refuse it if it did. */
    if (expect_rev >= 0) {
        long have = current_rev(st, id, &err, eb);
        if (err != BB_OK)
            return err;
        if (have != expect_rev)
            return bb_fail(eb, BB_ERR_CONFLICT,
                           BB_L(lang, "record %s changed while you were editing it (now "
                                      "revision %ld); look at it again with: beatbook show %s",
                                "紀錄 %s 在您修改時已被變更（目前為第 %ld 版）；請重新查看："
                                "beatbook show %s"), id, have, id);
    }
    body = bb_json_canonical(rec);
    if (!body)
        return BB_ERR_NOMEM;
    if (strlen(body) > 256 * 1024) {
        free(body);
        return bb_fail(eb, BB_ERR_TOOBIG, BB_L(lang, "record %s is larger than 256 KiB",
                                               "紀錄 %s 超過 256 KiB"), id);
    }
    err = cached(st, &st->q_upsert,
                 "INSERT INTO records (id, kind, rev, status, org_unit, officer, occurred_at,"
                 " occurred_unix, recorded_at, body) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
                 " ON CONFLICT (id) DO UPDATE SET rev = excluded.rev,"
                 " status = excluded.status, org_unit = excluded.org_unit,"
                 " occurred_at = excluded.occurred_at, occurred_unix = excluded.occurred_unix,"
                 " recorded_at = excluded.recorded_at, body = excluded.body"
                 " WHERE ?11 >= 0", eb);
    if (err != BB_OK)
        goto out;
    q = st->q_upsert;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, bb_json_str(rec, "kind"), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)jrev->valuedouble);
    sqlite3_bind_text(q, 4, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, bb_json_str(rec, "org_unit"), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, bb_json_str(rec, "officer"), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, occurred, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 8, occ_unix);
    sqlite3_bind_text(q, 9, bb_json_str(rec, "recorded_at"), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 11, expect_rev);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(st->db, rc, "save record", eb);
        goto out;
    }
    if (sqlite3_changes(st->db) != 1) {
        err = bb_fail(eb, BB_ERR_CONFLICT, BB_L(lang, "record %s already exists",
                                                "紀錄 %s 已存在"), id);
        goto out;
    }
    if (strcmp(status, "draft") != 0) {
        err = cached(st, &st->q_revision,
                     "INSERT INTO revisions (id, rev, status, recorded_at, body)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)", eb);
        if (err != BB_OK)
            goto out;
        q = st->q_revision;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)jrev->valuedouble);
        sqlite3_bind_text(q, 3, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, bb_json_str(rec, "recorded_at"), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, body, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            err = bb_db_err(st->db, rc, "save revision", eb);
    }
out:
    free(body);
    return err;
}

static bb_err parse_body(const unsigned char *body, cJSON **out, bb_errbuf *eb)
{
    const char *b = (const char *)body;
    return bb_json_parse(b ? b : "", b ? strlen(b) : 0, "stored record", out, eb);
}

bb_err col_store_get(col_store *st, const char *idref, cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    size_t n = strlen(idref);
    char found[64] = "";
    int rc, matches = 0;
    bb_err err;

    *out = NULL;
    if (n < 6 || n > 36)
        return bb_fail(eb, BB_ERR_USAGE,
                       BB_L(lang, "\"%s\": give a record id, or at least its first or last 6 "
                                  "characters",
                            "「%s」：請給紀錄編號，或至少它的前 6 碼或後 6 碼"), idref);
    /* Prefix or suffix match: substr() keeps the pattern free of LIKE wildcards. */
    err = bb_db_prepare(st->db,
                        "SELECT id, body FROM records WHERE substr(id, 1, ?2) = ?1"
                        " OR substr(id, -?2) = ?1 LIMIT 2", &q, eb);
    if (err != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, idref, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, (int)n);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (matches++ == 0) {
            snprintf(found, sizeof found, "%s", (const char *)sqlite3_column_text(q, 0));
            err = parse_body(sqlite3_column_text(q, 1), out, eb);
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(*out);
        *out = NULL;
        return bb_db_err(st->db, rc, "find record", eb);
    }
    if (matches == 0)
        return bb_fail(eb, BB_ERR_NOTFOUND,
                       BB_L(lang, "no record \"%s\" in this store (see: beatbook list)",
                            "此資料庫中沒有紀錄「%s」（請見：beatbook list）"), idref);
    if (matches > 1) {
        cJSON_Delete(*out);
        *out = NULL;
        return bb_fail(eb, BB_ERR_USAGE,
                       BB_L(lang, "\"%s\" matches several records; give more of the id",
                            "「%s」符合多筆紀錄；請給更多碼的編號"), idref);
    }
    return err;
}

static bb_err collect(sqlite3 *db, sqlite3_stmt *q, cJSON **out, bb_errbuf *eb)
{
    cJSON *arr = cJSON_CreateArray();
    int rc;
    bb_err err = BB_OK;

    if (!arr) {
        sqlite3_finalize(q);
        return BB_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *rec;
        if ((err = parse_body(sqlite3_column_text(q, 0), &rec, eb)) != BB_OK)
            break;
        cJSON_AddItemToArray(arr, rec);
    }
    if (err == BB_OK && rc != SQLITE_DONE)
        err = bb_db_err(db, rc, "read records", eb);
    sqlite3_finalize(q);
    if (err != BB_OK) {
        cJSON_Delete(arr);
        return err;
    }
    *out = arr;
    return BB_OK;
}

bb_err col_store_revisions(col_store *st, const char *id, cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    *out = NULL;
    if ((err = bb_db_prepare(st->db, "SELECT body FROM revisions WHERE id = ?1 ORDER BY rev",
                             &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
    return collect(st->db, q, out, eb);
}

bb_err col_store_drafts(col_store *st, const char *kind, cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;

    *out = NULL;
    if ((err = bb_db_prepare(st->db,
                             "SELECT body FROM records WHERE status = 'draft' AND kind = ?1"
                             " ORDER BY occurred_unix, id", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_TRANSIENT);
    return collect(st->db, q, out, eb);
}

bb_err col_store_last(col_store *st, const char *kind, cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    cJSON *arr = NULL;
    bb_err err;

    *out = NULL;
    /* UUIDv7 ids grow with time: the highest is the record made last. */
    if ((err = bb_db_prepare(st->db,
                             "SELECT body FROM records WHERE kind = ?1 AND status <> 'void'"
                             " ORDER BY id DESC LIMIT 1", &q, eb)) != BB_OK)
        return err;
    if (sqlite3_bind_text(q, 1, kind, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(q);
        return bb_db_err(st->db, SQLITE_NOMEM, "read the last record", eb);
    }
    if ((err = collect(st->db, q, &arr, eb)) != BB_OK)
        return err;
    if (cJSON_GetArraySize(arr) == 1) {
        cJSON *rec = cJSON_DetachItemFromArray(arr, 0);
        *out = cJSON_DetachItemFromObjectCaseSensitive(rec, "data");
        cJSON_Delete(rec);
    }
    cJSON_Delete(arr);
    return BB_OK;
}

bb_err col_store_each(col_store *st, const struct col_filter *f,
                      bb_err (*fn)(const cJSON *rec, void *arg), void *arg, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    /* NULL parameters mean "any": one fixed statement, no SQL assembled from input. */
    err = bb_db_prepare(st->db,
                        "SELECT body FROM records WHERE (?1 IS NULL OR kind = ?1)"
                        " AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR org_unit = ?3)"
                        " AND occurred_unix >= ?4 AND (?5 = 0 OR occurred_unix < ?5)"
                        " ORDER BY occurred_unix, id LIMIT ?6", &q, eb);
    if (err != BB_OK)
        return err;
    if (f->kind)
        sqlite3_bind_text(q, 1, f->kind, -1, SQLITE_STATIC);
    if (f->status)
        sqlite3_bind_text(q, 2, f->status, -1, SQLITE_STATIC);
    if (f->org_unit)
        sqlite3_bind_text(q, 3, f->org_unit, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, f->from);
    sqlite3_bind_int64(q, 5, f->to);
    sqlite3_bind_int64(q, 6, f->limit > 0 ? f->limit : -1);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *rec;
        if ((err = parse_body(sqlite3_column_text(q, 0), &rec, eb)) != BB_OK)
            break;
        err = fn(rec, arg);
        cJSON_Delete(rec);
        if (err != BB_OK)
            break;
    }
    if (err == BB_OK && rc != SQLITE_DONE)
        err = bb_db_err(st->db, rc, "read records", eb);
    sqlite3_finalize(q);
    return err;
}

bb_err col_store_unsent(col_store *st, long *out, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(st->db, "SELECT count(*) FROM revisions WHERE batch_seq IS NULL",
                             &q, eb)) != BB_OK)
        return err;
    rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? (long)sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? BB_OK : bb_db_err(st->db, rc, "count outbox", eb);
}

/* ---- attachments ---- */

bb_err col_store_attachment_get(col_store *st, const char *sha256,
                                struct col_attachment_row *row, int *found, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    memset(row, 0, sizeof *row);
    *found = 0;
    if ((err = bb_db_prepare(st->db,
                             "SELECT size, type, name, added_at, exif_time, exif_lat, exif_lon,"
                             " purged_at IS NOT NULL FROM attachments WHERE sha256 = ?1",
                             &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, sha256, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(q, 1);
        const char *name = (const char *)sqlite3_column_text(q, 2);
        const char *added = (const char *)sqlite3_column_text(q, 3);
        const char *t = (const char *)sqlite3_column_text(q, 4);
        *found = 1;
        snprintf(row->sha256, sizeof row->sha256, "%s", sha256);
        row->size = sqlite3_column_int64(q, 0);
        snprintf(row->type, sizeof row->type, "%s", type ? type : "");
        snprintf(row->name, sizeof row->name, "%s", name ? name : "");
        snprintf(row->added_at, sizeof row->added_at, "%s", added ? added : "");
        if (t) {
            row->exif.has_time = 1;
            snprintf(row->exif.time, sizeof row->exif.time, "%s", t);
        }
        if (sqlite3_column_type(q, 5) != SQLITE_NULL && sqlite3_column_type(q, 6) != SQLITE_NULL) {
            row->exif.has_gps = 1;
            row->exif.lat = sqlite3_column_double(q, 5);
            row->exif.lon = sqlite3_column_double(q, 6);
        }
        row->purged = sqlite3_column_int(q, 7);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BB_OK
                                                 : bb_db_err(st->db, rc, "read attachment", eb);
}

bb_err col_store_attachment_add(col_store *st, const struct col_attachment_row *row,
                                bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(st->db,
                             "INSERT OR IGNORE INTO attachments (sha256, size, type, name,"
                             " added_at, exif_time, exif_lat, exif_lon)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, row->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, row->size);
    sqlite3_bind_text(q, 3, row->type, -1, SQLITE_STATIC);
    if (row->name[0])
        sqlite3_bind_text(q, 4, row->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, row->added_at, -1, SQLITE_STATIC);
    if (row->exif.has_time)
        sqlite3_bind_text(q, 6, row->exif.time, -1, SQLITE_STATIC);
    if (row->exif.has_gps) {
        sqlite3_bind_double(q, 7, row->exif.lat);
        sqlite3_bind_double(q, 8, row->exif.lon);
    }
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(st->db, rc, "save attachment", eb);
}

bb_err col_store_attachment_link(col_store *st, const char *id, long rev, const char *field,
                                 const char *sha256, bb_errbuf *eb)
{
    sqlite3_stmt *q;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(st->db,
                             "INSERT OR IGNORE INTO revision_attachments (record_id, rev, field,"
                             " sha256) VALUES (?1, ?2, ?3, ?4)", &q, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, rev);
    sqlite3_bind_text(q, 3, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, sha256, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(st->db, rc, "save attachment index", eb);
}
