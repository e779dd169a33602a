/*
 * hq_attview.c — attachments for the review pages (see hq_attview.h).
 */
#include "hq_attview.h"
#include "hq_display.h"
#include "hq_store.h"
#include "hq_thumb.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_time.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_PREFIX "/api/attachments/"
#define EARTH_KM 6371.0088
#define TAIPEI_OFFSET_MIN (8 * 60)

static bb_err oom(bb_errbuf *eb)
{
    return bb_fail(eb, BB_ERR_NOMEM, "attachments: out of memory");
}

static int is_photo(const char *type)
{
    return type && strncmp(type, "image/", 6) == 0;
}

static int add_text(cJSON *o, const char *k, const char *v)
{
    return (v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k)) != NULL;
}

static int add_col(cJSON *o, const char *k, sqlite3_stmt *st, int col)
{
    return add_text(o, k, (const char *)sqlite3_column_text(st, col));
}

static int add_item(cJSON *o, const char *k, cJSON *item)
{
    if (!item)
        return 0;
    cJSON_AddItemToObject(o, k, item);
    return 1;
}

/* "2.4 MB", "380 KB", "912 bytes" (the same in both languages). */
static void size_text(int64_t n, char *out, size_t size)
{
    if (n >= 1000 * 1000)
        snprintf(out, size, "%.1f MB", (double)n / 1e6);
    else if (n >= 1000)
        snprintf(out, size, "%" PRId64 " KB", (n + 500) / 1000);
    else
        snprintf(out, size, "%" PRId64 " bytes", n);
}

static cJSON *size_pair(int64_t n)
{
    char s[40];
    size_text(n, s, sizeof s);
    return hq_display_pair(s, s);
}

/*
 * An EXIF time as RFC 3339.  EXIF's DateTimeOriginal ("2018:03:15
 * 08:40:12") has no zone unless OffsetTimeOriginal was kept; a camera keeps
 * the local clock, so a time without one is read as Taipei time.  0 when it
 * does not parse.
 */
static int exif_time_rfc3339(const char *s, char out[BB_TIME_MAX], int64_t *unix_s)
{
    int y, mo, d, h, mi, sec, n = 0;
    int64_t t;

    if (!s)
        return 0;
    if (bb_time_parse(s, unix_s, NULL, NULL) == BB_OK) {
        snprintf(out, BB_TIME_MAX, "%s", s);
        return 1;
    }
    if (sscanf(s, "%4d%*1[-:]%2d%*1[-:]%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        s[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    t = bb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - TAIPEI_OFFSET_MIN * 60;
    if (bb_time_format(t, TAIPEI_OFFSET_MIN, out) != BB_OK)
        return 0;
    *unix_s = t;
    return 1;
}

static double km_between(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * EARTH_KM * asin(fmin(1.0, sqrt(a)));
}

/* "3 小時 20 分" / "3 h 20 min". */
static void span_text(int64_t s, enum bb_lang lang, char *out, size_t size)
{
    int64_t days = s / 86400, hours = s % 86400 / 3600, mins = s % 3600 / 60;

    if (days > 0)
        snprintf(out, size, lang == BB_LANG_EN ? "%" PRId64 " d %" PRId64 " h"
                                               : "%" PRId64 " 天 %" PRId64 " 小時", days, hours);
    else
        snprintf(out, size, lang == BB_LANG_EN ? "%" PRId64 " h %" PRId64 " min"
                                               : "%" PRId64 " 小時 %" PRId64 " 分", hours, mins);
}

/*
 * EXIF beside the record: "exif" with the photo's own time and place, and a
 * note when they are far from the record's occurred_at or location.
 * Columns: 7 exif_time, 8 exif_lat, 9 exif_lon.
 */
static int add_exif(cJSON *it, cJSON *disp, sqlite3_stmt *st, const cJSON *rec)
{
    const char *etime = (const char *)sqlite3_column_text(st, 7);
    int has_time = etime != NULL, has_place = sqlite3_column_type(st, 8) != SQLITE_NULL &&
                                              sqlite3_column_type(st, 9) != SQLITE_NULL;
    double lat = sqlite3_column_double(st, 8), lon = sqlite3_column_double(st, 9);
    const cJSON *loc = bb_json_obj(rec, "location");
    const cJSON *rlat = loc ? cJSON_GetObjectItemCaseSensitive(loc, "lat") : NULL;
    const cJSON *rlon = loc ? cJSON_GetObjectItemCaseSensitive(loc, "lon") : NULL;
    const char *occurred = bb_json_str(rec, "occurred_at");
    cJSON *exif, *notes, *dnotes;
    char when[BB_TIME_MAX] = "", place[64];
    int64_t et = 0, rt = 0;

    if (!(notes = cJSON_AddArrayToObject(it, "notes")) ||
        !(dnotes = cJSON_AddArrayToObject(disp, "notes")))
        return 0;
    if (!has_time && !has_place)
        return cJSON_AddNullToObject(it, "exif") && cJSON_AddNullToObject(disp, "exif_time") &&
               cJSON_AddNullToObject(disp, "exif_place");
    if (!(exif = cJSON_AddObjectToObject(it, "exif")) || !add_text(exif, "time", etime) ||
        !(has_place ? cJSON_AddNumberToObject(exif, "lat", lat) && cJSON_AddNumberToObject(exif, "lon", lon)
                    : cJSON_AddNullToObject(exif, "lat") && cJSON_AddNullToObject(exif, "lon")))
        return 0;
    snprintf(place, sizeof place, "%.6f, %.6f", lat, lon);
    if (!add_item(disp, "exif_time", has_time && exif_time_rfc3339(etime, when, &et)
                                         ? hq_display_time(when)
                                         : (has_time ? hq_display_pair(etime, etime) : cJSON_CreateNull())) ||
        !add_item(disp, "exif_place", has_place ? hq_display_pair(place, place) : cJSON_CreateNull()))
        return 0;
    if (when[0] && occurred && bb_time_parse(occurred, &rt, NULL, NULL) == BB_OK &&
        llabs(et - rt) > HQ_ATTVIEW_TIME_NOTE_S) {
        int64_t d = llabs(et - rt);
        char zh[160], en[160], szh[60], sen[60];
        cJSON *n = cJSON_CreateObject();
        span_text(d, BB_LANG_ZH, szh, sizeof szh);
        span_text(d, BB_LANG_EN, sen, sizeof sen);
        snprintf(zh, sizeof zh, "拍攝時間與紀錄的發生時間相差 %s", szh);
        snprintf(en, sizeof en, "taken %s %s the record's time", sen, et < rt ? "before" : "after");
        if (!n || !cJSON_AddItemToArray(notes, n) || !add_text(n, "code", "time_differs") ||
            !cJSON_AddNumberToObject(n, "seconds", (double)(et - rt)) ||
            !cJSON_AddItemToArray(dnotes, hq_display_pair(zh, en)))
            return 0;
    }
    if (has_place && cJSON_IsNumber(rlat) && cJSON_IsNumber(rlon)) {
        double km = km_between(rlat->valuedouble, rlon->valuedouble, lat, lon);
        if (km > HQ_ATTVIEW_PLACE_NOTE_KM) {
            char zh[120], en[120];
            cJSON *n = cJSON_CreateObject();
            snprintf(zh, sizeof zh, "拍攝位置距紀錄的位置 %.1f 公里", km);
            snprintf(en, sizeof en, "taken %.1f km from the record's location", km);
            if (!n || !cJSON_AddItemToArray(notes, n) || !add_text(n, "code", "place_differs") ||
                !cJSON_AddNumberToObject(n, "km", round(km * 10) / 10) ||
                !cJSON_AddItemToArray(dnotes, hq_display_pair(zh, en)))
                return 0;
        }
    }
    return 1;
}

/* Where an attachment sits in the record: kind field index × 1000 + position. */
static long order_in(const bb_catalog *cat, const cJSON *rec, const char *field, const char *sha)
{
    const struct bb_kind *k = bb_catalog_kind(cat, bb_json_str(rec, "kind"));
    const cJSON *data = bb_json_obj(rec, "data");
    const cJSON *arr = data && field ? cJSON_GetObjectItemCaseSensitive(data, field) : NULL;
    const cJSON *v;
    long fi = 999, pos = 999, i = 0;
    size_t j;

    for (j = 0; k && field && j < k->nfields; j++)
        if (strcmp(k->fields[j].name, field) == 0)
            fi = (long)j;
    cJSON_ArrayForEach(v, arr) {
        if (sha && bb_json_str(v, "sha256") && strcmp(bb_json_str(v, "sha256"), sha) == 0) {
            pos = i;
            break;
        }
        i++;
    }
    return fi * 1000 + pos;
}

static int cmp_order(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double ox = cJSON_GetNumberValue(cJSON_GetObjectItem(x, "_order"));
    double oy = cJSON_GetNumberValue(cJSON_GetObjectItem(y, "_order"));
    return ox < oy ? -1 : ox > oy;
}

/* Sort the items by their "_order" and drop it. */
static int sort_items(cJSON *items)
{
    int n = cJSON_GetArraySize(items), i;
    cJSON **v;

    if (n < 2) {
        if (n == 1)
            cJSON_DeleteItemFromObject(cJSON_GetArrayItem(items, 0), "_order");
        return 1;
    }
    if (!(v = malloc((size_t)n * sizeof *v)))
        return 0;
    for (i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(items, 0);
    qsort(v, (size_t)n, sizeof *v, cmp_order);
    for (i = 0; i < n; i++) {
        cJSON_DeleteItemFromObject(v[i], "_order");
        cJSON_AddItemToArray(items, v[i]);
    }
    free(v);
    return 1;
}

/* "2 張照片、1 個檔案傳送中" / "2 photos and 1 file on their way"; NULL pair when none. */
static cJSON *pending_pair(int64_t photos, int64_t files)
{
    char zh[120] = "", en[160] = "", p_en[40] = "", f_en[40] = "";
    int64_t total = photos + files;

    if (!total)
        return cJSON_CreateNull();
    if (photos)
        snprintf(p_en, sizeof p_en, "%" PRId64 " photo%s", photos, photos == 1 ? "" : "s");
    if (files)
        snprintf(f_en, sizeof f_en, "%" PRId64 " file%s", files, files == 1 ? "" : "s");
    if (photos && files)
        snprintf(zh, sizeof zh, "%" PRId64 " 張照片、%" PRId64 " 個檔案傳送中", photos, files);
    else if (photos)
        snprintf(zh, sizeof zh, "%" PRId64 " 張照片傳送中", photos);
    else
        snprintf(zh, sizeof zh, "%" PRId64 " 個檔案傳送中", files);
    snprintf(en, sizeof en, "%s%s%s on %s way", p_en, photos && files ? " and " : "", f_en,
             total == 1 ? "its" : "their");
    return hq_display_pair(zh, en);
}

/* The record's own time and place, to read beside each photo's EXIF. */
static int add_record_place(cJSON *disp, const cJSON *rec)
{
    const char *occurred = bb_json_str(rec, "occurred_at");
    const cJSON *loc = bb_json_obj(rec, "location");
    const cJSON *lat = loc ? cJSON_GetObjectItemCaseSensitive(loc, "lat") : NULL;
    const cJSON *lon = loc ? cJSON_GetObjectItemCaseSensitive(loc, "lon") : NULL;
    char place[64];

    if (!add_item(disp, "record_time", occurred ? hq_display_time(occurred) : cJSON_CreateNull()))
        return 0;
    if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon))
        return cJSON_AddNullToObject(disp, "record_place") != NULL;
    snprintf(place, sizeof place, "%.6f, %.6f", lat->valuedouble, lon->valuedouble);
    return add_item(disp, "record_place", hq_display_pair(place, place));
}

bb_err hq_attview_record(sqlite3 *db, const bb_catalog *cat, const char *id, int64_t rev,
                         const cJSON *rec, cJSON **out, bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(cat, bb_json_str(rec, "kind"));
    sqlite3_stmt *st = NULL;
    cJSON *o, *items, *pend, *odisp;
    int64_t photos = 0, files = 0, bytes = 0, stored = 0;
    bb_err err;
    int rc;

    *out = NULL;
    if (!(o = cJSON_CreateObject()) || !(items = cJSON_AddArrayToObject(o, "items"))) {
        cJSON_Delete(o);
        return oom(eb);
    }
    if ((err = bb_db_prepare(db,
            "SELECT ra.field, ra.sha256, ra.name, ra.type, ra.size, a.sha256 IS NOT NULL, "
            "  a.stored_at, a.exif_time, a.exif_lat, a.exif_lon "
            "FROM record_attachments ra LEFT JOIN attachments a ON a.sha256 = ra.sha256 "
            "WHERE ra.record_id = ?1 AND ra.rev = ?2 ORDER BY ra.rowid", &st, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rev);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *field = (const char *)sqlite3_column_text(st, 0);
        const char *sha = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 3);
        const struct bb_field *f = k && field ? bb_kind_field(k, field) : NULL;
        int64_t size = sqlite3_column_int64(st, 4);
        int held = sqlite3_column_int(st, 5);
        char url[128], thumb[140];
        cJSON *it = cJSON_CreateObject(), *disp;

        snprintf(url, sizeof url, API_PREFIX "%s", sha ? sha : "");
        snprintf(thumb, sizeof thumb, "%s/thumb", url);
        if (!it || !cJSON_AddItemToArray(items, it) || !add_text(it, "field", field) ||
            !add_text(it, "sha256", sha) || !add_col(it, "name", st, 2) ||
            !add_text(it, "type", type) || !cJSON_AddNumberToObject(it, "size", (double)size) ||
            !cJSON_AddBoolToObject(it, "stored", held) || !add_col(it, "stored_at", st, 6) ||
            !add_text(it, "url", held ? url : NULL) ||
            !add_text(it, "thumb", held && hq_thumb_type_ok(type) ? thumb : NULL) ||
            !cJSON_AddNumberToObject(it, "_order", (double)order_in(cat, rec, field, sha)) ||
            !(disp = cJSON_AddObjectToObject(it, "display")) ||
            !add_item(disp, "field", f ? hq_display_label(&f->label, field)
                                       : hq_display_pair(field, field)) ||
            !add_item(disp, "size", size_pair(size)) ||
            !add_item(disp, "stored_at", held ? hq_display_time((const char *)sqlite3_column_text(st, 6))
                                              : cJSON_CreateNull()) ||
            !add_exif(it, disp, st, rec)) {
            err = oom(eb);
            goto fail;
        }
        if (held) {
            stored++;
        } else {
            bytes += size;
            if (is_photo(type))
                photos++;
            else
                files++;
        }
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read record_attachments", eb);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!sort_items(items) || !cJSON_AddNumberToObject(o, "stored", (double)stored) ||
        !(pend = cJSON_AddObjectToObject(o, "pending")) ||
        !cJSON_AddNumberToObject(pend, "photos", (double)photos) ||
        !cJSON_AddNumberToObject(pend, "files", (double)files) ||
        !cJSON_AddNumberToObject(pend, "bytes", (double)bytes) ||
        !(odisp = cJSON_AddObjectToObject(o, "display")) ||
        !add_item(odisp, "pending", pending_pair(photos, files)) ||
        !add_record_place(odisp, rec)) {
        err = oom(eb);
        goto fail;
    }
    *out = o;
    return BB_OK;
fail:
    sqlite3_finalize(st);
    cJSON_Delete(o);
    return err;
}

bb_err hq_attview_lookup(sqlite3 *db, const bb_catalog *cat, const char *root, const char *sha,
                         struct hq_attview_file *f, bb_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    bb_err err;
    int rc, found = 0;

    memset(f, 0, sizeof *f);
    /* The names records gave it, in scope or not: checked in C with the org tree,
     * as the record pages are (no SQL from the caller's scope). */
    if ((err = bb_db_prepare(db,
            "SELECT r.org_unit, ra.name, a.type, a.size FROM record_attachments ra "
            "JOIN records r ON r.id = ra.record_id JOIN attachments a ON a.sha256 = ra.sha256 "
            "WHERE ra.sha256 = ?1 ORDER BY ra.name IS NULL, ra.rowid", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *unit = (const char *)sqlite3_column_text(st, 0);
        if (root && !(unit && bb_catalog_unit_within(cat, unit, root)))
            continue;
        found = 1;
        snprintf(f->sha256, sizeof f->sha256, "%s", sha);
        hq_col_text(st, 1, f->name, sizeof f->name);
        hq_col_text(st, 2, f->type, sizeof f->type);
        f->size = sqlite3_column_int64(st, 3);
    }
    if (!found && rc != SQLITE_DONE)
        err = bb_db_err(db, rc, "read record_attachments", eb);
    else if (!found)
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no such attachment");
    sqlite3_finalize(st);
    return err;
}

bb_err hq_attview_device_missing(sqlite3 *db, const char *device, cJSON *d, bb_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    cJSON *list, *disp;
    int64_t count = 0, bytes = 0;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db,
            "SELECT ra.sha256, max(ra.type), max(ra.size), max(ra.name), min(ra.record_id) "
            "FROM record_attachments ra JOIN records r ON r.id = ra.record_id AND r.rev = ra.rev "
            "LEFT JOIN attachments a ON a.sha256 = ra.sha256 "
            "WHERE ra.device = ?1 AND a.sha256 IS NULL "
            "GROUP BY ra.sha256 ORDER BY min(r.occurred_unix), ra.sha256", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    if (!(list = cJSON_AddArrayToObject(d, "attachments_missing_list"))) {
        err = oom(eb);
        goto done;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *it;
        count++;
        bytes += sqlite3_column_int64(st, 2);
        if (count > HQ_ATTVIEW_DEVICE_LIST_MAX)
            continue;
        if (!(it = cJSON_CreateObject()) || !cJSON_AddItemToArray(list, it) ||
            !add_col(it, "sha256", st, 0) || !add_col(it, "type", st, 1) ||
            !cJSON_AddNumberToObject(it, "size", (double)sqlite3_column_int64(st, 2)) ||
            !add_col(it, "name", st, 3) || !add_col(it, "record_id", st, 4) ||
            !add_item(it, "display", cJSON_CreateObject()) ||
            !add_item(cJSON_GetObjectItem(it, "display"), "size",
                      size_pair(sqlite3_column_int64(st, 2)))) {
            err = oom(eb);
            goto done;
        }
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read record_attachments", eb);
        goto done;
    }
    disp = cJSON_GetObjectItem(d, "display");
    if (!cJSON_AddNumberToObject(d, "attachments_missing", (double)count) ||
        !cJSON_AddNumberToObject(d, "attachments_missing_bytes", (double)bytes) ||
        !cJSON_AddBoolToObject(d, "attachments_missing_truncated",
                               count > HQ_ATTVIEW_DEVICE_LIST_MAX)) {
        err = oom(eb);
        goto done;
    }
    if (disp) {
        char zh[120], en[120], sz[40];
        size_text(bytes, sz, sizeof sz);
        snprintf(zh, sizeof zh, "%" PRId64 " 個附件未到（%s）", count, sz);
        snprintf(en, sizeof en, "%" PRId64 " attachment%s not yet at HQ (%s)", count,
                 count == 1 ? "" : "s", sz);
        if (!add_item(disp, "attachments_missing",
                      count ? hq_display_pair(zh, en) : cJSON_CreateNull()))
            err = oom(eb);
    }
done:
    sqlite3_finalize(st);
    return err;
}

/* One (record, file) row of an export, before the files are merged by hash. */
struct named {
    char sha[BB_SHA256_HEX_SIZE];
    char type[BB_ATTACH_TYPE_MAX];
    char name[BB_ATTACH_NAME_MAX + 1];
    char record[64];
    int64_t size;
    int stored;
    size_t seq;                       /* arrival order: keeps records in export order */
};

static int cmp_named(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->sha, y->sha);
    return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

bb_err hq_attview_for_records(sqlite3 *db, const cJSON *items, cJSON **out, bb_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    struct named *rows = NULL, *grown;
    size_t n = 0, cap = 0, i;
    const cJSON *it;
    cJSON *arr = NULL, *cur = NULL, *recs = NULL;
    bb_err err;
    int rc;

    *out = NULL;
    if ((err = bb_db_prepare(db,
            "SELECT ra.sha256, ra.type, ra.size, ra.name, a.sha256 IS NOT NULL "
            "FROM record_attachments ra LEFT JOIN attachments a ON a.sha256 = ra.sha256 "
            "WHERE ra.record_id = ?1 AND ra.rev = ?2 ORDER BY ra.rowid", &st, eb)) != BB_OK)
        return err;
    cJSON_ArrayForEach(it, items) {
        const char *id = bb_json_str(it, "id");
        const cJSON *rev = cJSON_GetObjectItemCaseSensitive(it, "rev");
        if (!id || !cJSON_IsNumber(rev))
            continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)rev->valuedouble);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct named *r;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                if (!(grown = realloc(rows, cap * sizeof *rows))) {
                    err = oom(eb);
                    goto done;
                }
                rows = grown;
            }
            r = &rows[n];
            memset(r, 0, sizeof *r);
            hq_col_text(st, 0, r->sha, sizeof r->sha);
            hq_col_text(st, 1, r->type, sizeof r->type);
            r->size = sqlite3_column_int64(st, 2);
            hq_col_text(st, 3, r->name, sizeof r->name);
            r->stored = sqlite3_column_int(st, 4);
            snprintf(r->record, sizeof r->record, "%s", id);
            r->seq = n++;
        }
        if (rc != SQLITE_DONE) {
            err = bb_db_err(db, rc, "read record_attachments", eb);
            goto done;
        }
    }
    if (n)
        qsort(rows, n, sizeof *rows, cmp_named);
    if (!(arr = cJSON_CreateArray())) {
        err = oom(eb);
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (!cur || strcmp(rows[i].sha, rows[i - 1].sha) != 0) {
            if (!(cur = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, cur) ||
                !add_text(cur, "sha256", rows[i].sha) || !add_text(cur, "type", rows[i].type) ||
                !cJSON_AddNumberToObject(cur, "size", (double)rows[i].size) ||
                !add_text(cur, "name", rows[i].name[0] ? rows[i].name : NULL) ||
                !cJSON_AddBoolToObject(cur, "stored", rows[i].stored) ||
                !(recs = cJSON_AddArrayToObject(cur, "records"))) {
                err = oom(eb);
                goto done;
            }
        }
        if (!cJSON_AddItemToArray(recs, cJSON_CreateString(rows[i].record))) {
            err = oom(eb);
            goto done;
        }
    }
    *out = arr;
    arr = NULL;
done:
    sqlite3_finalize(st);
    free(rows);
    cJSON_Delete(arr);
    return err;
}
