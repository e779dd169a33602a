/*
 * hq_merge.c — seq/prev chain, batch quarantine and the one-transaction
 * merge (see hq_merge.h).
 */
#include "hq_merge.h"
#include "hq_attach.h"
#include "hq_facts.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_sigdoc.h"
#include "bb_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- seq / prev ---------------------------------------------------------- */

/*
 * Run a query on batches with (device, seq) bound, and copy column 0 of its
 * row, if any, into out (and column 1 into a new *dup2 when dup2 is given).
 */
static bb_err batch_column(sqlite3 *db, const char *sql, const char *device, int64_t seq,
                           char *out, size_t size, char **dup2, int *found, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *found = 0;
    if ((err = bb_db_prepare(db, sql, &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = 1;
        hq_col_text(st, 0, out, size);
        if (dup2) {
            const unsigned char *t = sqlite3_column_text(st, 1);
            *dup2 = strdup(t ? (const char *)t : "");
            if (!*dup2)
                err = bb_fail(eb, BB_ERR_NOMEM, "read batch receipt: out of memory");
        }
    } else if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read batches", eb);
    }
    sqlite3_finalize(st);
    return err;
}

bb_err hq_merge_check_seq(sqlite3 *db, const char *device, int64_t seq, const char *prev,
                          const char *sha256, enum hq_seq_state *state, char **receipt,
                          bb_errbuf *eb)
{
    char sha[80];
    int found;
    bb_err err;

    *state = HQ_SEQ_NEW;
    *receipt = NULL;
    if ((err = batch_column(db, "SELECT sha256, receipt FROM batches WHERE device = ?1 AND "
                                "seq = ?2", device, seq, sha, sizeof sha, receipt, &found,
                            eb)) != BB_OK)
        return err;
    if (found) {
        if (strcmp(sha, sha256) == 0) {
            *state = HQ_SEQ_SAME;
        } else {
            *state = HQ_SEQ_CONFLICT;
            free(*receipt);
            *receipt = NULL;
        }
        return BB_OK;
    }
    if (seq > 1) {
        if ((err = batch_column(db, "SELECT sha256 FROM batches WHERE device = ?1 AND "
                                    "seq = ?2", device, seq - 1, sha, sizeof sha, NULL,
                                &found, eb)) != BB_OK)
            return err;
        if (found && strcmp(sha, prev) != 0) {
            *state = HQ_SEQ_BROKEN_PREV;
            return BB_OK;
        }
    }
    if ((err = batch_column(db, "SELECT prev FROM batches WHERE device = ?1 AND seq = ?2",
                            device, seq + 1, sha, sizeof sha, NULL, &found, eb)) != BB_OK)
        return err;
    if (found && strcmp(sha, sha256) != 0)
        *state = HQ_SEQ_BROKEN_NEXT;
    return BB_OK;
}

void hq_merge_seq_answer(enum hq_seq_state state, int64_t seq, char **receipt,
                         struct hq_answer *ans)
{
    long long s = (long long)seq;

    switch (state) {
    case HQ_SEQ_NEW:
        break;
    case HQ_SEQ_SAME:
        hq_answer_body(ans, 201, HQ_OUT_DUPLICATE, *receipt);
        *receipt = NULL;
        break;
    case HQ_SEQ_CONFLICT:
        hq_answer_error(ans, 409, "seq_conflict", "batch %lld of this device was already "
                        "received with different content — was the laptop restored from a "
                        "backup?", s);
        break;
    case HQ_SEQ_BROKEN_PREV:
        hq_answer_error(ans, 409, "chain_broken", "batch %lld does not follow batch %lld as "
                        "received here: its \"prev\" is not the SHA-256 of that batch", s,
                        s - 1);
        break;
    case HQ_SEQ_BROKEN_NEXT:
        hq_answer_error(ans, 409, "chain_broken", "batch %lld received here names another "
                        "batch as its previous one than this batch %lld", s + 1, s);
        break;
    }
}

/* ---- quarantine of a whole batch ----------------------------------------- */

bb_err hq_merge_quarantine_batch(sqlite3 *db, const struct bb_batch_view *view,
                                 const char *sha256, const char *source, const char *reason,
                                 bb_errbuf *eb)
{
    const struct bb_batch_header *hdr = &view->hdr;
    char now[BB_TIME_MAX], detail[400];
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return bb_fail(eb, err, "quarantine: cannot format the time");
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        return err;
    /* Once per batch; and a batch merged before the revocation is kept already. */
    if ((err = bb_db_prepare(db,
            "INSERT OR IGNORE INTO quarantined_batches (device, seq, batch, sha256, "
            "received_at, source, reason, bytes) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
            "WHERE NOT EXISTS (SELECT 1 FROM batches WHERE sha256 = ?4)",
            &st, eb)) != BB_OK)
        goto fail;
    sqlite3_bind_text(st, 1, hdr->device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, hdr->seq);
    sqlite3_bind_text(st, 3, hdr->batch, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, reason, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 8, view->buf, view->len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "quarantine the batch", eb);
        goto fail;
    }
    if (sqlite3_changes(db) == 1) {
        snprintf(detail, sizeof detail, "seq=%lld batch=%s sha256=%s source=%s reason=%s",
                 (long long)hdr->seq, hdr->batch, sha256, source, reason);
        if ((err = hq_audit(db, source, "quarantine", hdr->device, detail, eb)) != BB_OK)
            goto fail;
    }
    if ((err = hq_device_touch(db, hdr->device, 0, now, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto fail;
    return BB_OK;
fail:
    bb_db_rollback(db);
    return err;
}

/* ---- merge ----------------------------------------------------------------- */

const char *hq_merge_scope(const bb_catalog *cat, const char *unit)
{
    const struct bb_ref_item *u = bb_catalog_ref(cat, "units", unit);
    int depth = 0;

    while (u && depth++ < 16) {
        if (u->level && strcmp(u->level, "precinct") == 0)
            return u->code;
        u = u->parent ? bb_catalog_ref(cat, "units", u->parent) : NULL;
    }
    return unit;
}

struct merge {
    sqlite3 *db;
    const bb_catalog *cat;
    enum bb_lang lang;
    const char *device;
    const char *scope;
    sqlite3_int64 batch_id;
    sqlite3_stmt *sel_rev, *sel_rec, *ins_rec, *upd_rec, *ins_revision, *ins_quar;
    long merged, duplicates, rejected;
    struct hq_facts *facts;     /* KPI facts move with the records (hq_facts.h) */
};

#define L(m, en, zh) ((m)->lang == BB_LANG_EN ? (en) : (zh))

static void reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static bb_err add_result(cJSON *results, const char *id, int64_t rev, const char *result,
                         const char *reason, bb_errbuf *eb)
{
    cJSON *r = cJSON_CreateObject();

    if (!r || !cJSON_AddItemToArray(results, r))
        goto oom;
    if (!(id ? cJSON_AddStringToObject(r, "id", id) : cJSON_AddNullToObject(r, "id")) ||
        !(rev > 0 ? cJSON_AddNumberToObject(r, "rev", (double)rev)
                  : cJSON_AddNullToObject(r, "rev")) ||
        !cJSON_AddStringToObject(r, "result", result) ||
        (reason && !cJSON_AddStringToObject(r, "reason", reason)))
        goto oom;
    return BB_OK;
oom:
    return bb_fail(eb, BB_ERR_NOMEM, "receipt: out of memory");
}

static bb_err reject(struct merge *m, cJSON *results, int index, const char *id, int64_t rev,
                     const char *canon, const char *reason, bb_errbuf *eb)
{
    int rc;

    sqlite3_bind_int64(m->ins_quar, 1, m->batch_id);
    sqlite3_bind_int(m->ins_quar, 2, index);
    if (id)
        sqlite3_bind_text(m->ins_quar, 3, id, -1, SQLITE_STATIC);
    if (rev > 0)
        sqlite3_bind_int64(m->ins_quar, 4, rev);
    sqlite3_bind_text(m->ins_quar, 5, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(m->ins_quar, 6, canon, -1, SQLITE_STATIC);
    rc = sqlite3_step(m->ins_quar);
    reset(m->ins_quar);
    if (rc != SQLITE_DONE)
        return bb_db_err(m->db, rc, "quarantine a record", eb);
    m->rejected++;
    return add_result(results, id, rev, "rejected", reason, eb);
}

/* Merge or reject one record revision (see hq_merge.h for the rules). */
static bb_err merge_one(struct merge *m, cJSON *results, int index, const cJSON *rec,
                        bb_errbuf *eb)
{
    const cJSON *rv = cJSON_IsObject(rec) ? cJSON_GetObjectItemCaseSensitive(rec, "rev") : NULL;
    const char *id = cJSON_IsObject(rec) ? bb_json_str(rec, "id") : NULL;
    const char *status, *device, *unit, *kind, *occurred;
    char reason[1100], cur_device[80], cur_kind[64];
    int64_t rev = 0, occurred_unix = 0, cur_rev = 0;
    char *canon, *old_body = NULL;
    bb_errbuf sub;
    int rc, have_record = 0;
    bb_err err = BB_OK;

    /* The receipt echoes id and rev so the device can match its records; what is not
     * a short string or a revision number is left out (null). */
    if (id && (strlen(id) > 64 || bb_utf8_length(id) < 0))
        id = NULL;
    if (cJSON_IsNumber(rv) && rv->valuedouble >= 1 && rv->valuedouble <= 1e6 &&
        rv->valuedouble == floor(rv->valuedouble))
        rev = (int64_t)rv->valuedouble;
    canon = bb_json_canonical(rec);
    if (!canon)
        return bb_fail(eb, BB_ERR_NOMEM, "merge: out of memory");
    memset(&sub, 0, sizeof sub);
    if (strlen(canon) > BB_RECORD_MAX_BYTES) {
        snprintf(reason, sizeof reason, L(m, "record %d is over the limit of %d bytes",
                                          "第 %d 筆紀錄超過 %d 位元組的上限"),
                 index + 1, BB_RECORD_MAX_BYTES);
        goto rejected;
    }
    if (bb_record_validate(m->cat, rec, m->lang, &sub) != BB_OK) {
        snprintf(reason, sizeof reason, "%s", sub.msg);
        goto rejected;
    }
    status = bb_json_str(rec, "status");
    device = bb_json_str(rec, "device");
    unit = bb_json_str(rec, "org_unit");
    kind = bb_json_str(rec, "kind");
    occurred = bb_json_str(rec, "occurred_at");
    if (strcmp(status, "draft") == 0) {
        snprintf(reason, sizeof reason, "%s", L(m, "a draft is never synced; finish it first",
                                                 "草稿不會同步；請先完成它"));
        goto rejected;
    }
    if (strcmp(device, m->device) != 0) {
        snprintf(reason, sizeof reason, L(m, "the record names device %.80s, but the batch "
                                             "comes from device %s",
                                          "紀錄的裝置是 %.80s，但此批次來自裝置 %s"),
                 device, m->device);
        goto rejected;
    }
    if (!bb_catalog_unit_within(m->cat, unit, m->scope)) {
        snprintf(reason, sizeof reason, L(m, "org unit %s is outside this device's precinct %s",
                                          "單位 %s 不在此裝置所屬分局 %s 的範圍內"),
                 unit, m->scope);
        goto rejected;
    }
    if (bb_time_parse(occurred, &occurred_unix, NULL, NULL) != BB_OK) {
        snprintf(reason, sizeof reason, "%s: occurred_at", kind);
        goto rejected;
    }

    /* Single writer: only the device that created a record may revise it. */
    sqlite3_bind_text(m->sel_rec, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(m->sel_rec);
    if (rc == SQLITE_ROW) {
        have_record = 1;
        hq_col_text(m->sel_rec, 0, cur_device, sizeof cur_device);
        hq_col_text(m->sel_rec, 1, cur_kind, sizeof cur_kind);
        cur_rev = sqlite3_column_int64(m->sel_rec, 2);
        /* The state this revision replaces leaves the KPI facts. */
        if (rev > cur_rev && sqlite3_column_text(m->sel_rec, 3) &&
            !(old_body = strdup((const char *)sqlite3_column_text(m->sel_rec, 3)))) {
            reset(m->sel_rec);
            err = bb_fail(eb, BB_ERR_NOMEM, "merge: out of memory");
            goto out;
        }
    }
    reset(m->sel_rec);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = bb_db_err(m->db, rc, "read records", eb);
        goto out;
    }
    /* The same revision again?  Revisions exist only beside their record,
     * so a record HQ has never seen (most of them) needs no look-up. */
    if (have_record) {
        sqlite3_bind_text(m->sel_rev, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(m->sel_rev, 2, rev);
        rc = sqlite3_step(m->sel_rev);
        if (rc == SQLITE_ROW) {
            int same = strcmp((const char *)sqlite3_column_text(m->sel_rev, 0), canon) == 0;
            reset(m->sel_rev);
            if (same) {
                m->duplicates++;
                err = add_result(results, id, rev, "duplicate", NULL, eb);
                goto out;
            }
            snprintf(reason, sizeof reason, L(m, "revision %lld of this record was already "
                                                 "received with different content",
                                              "此紀錄的第 %lld 版已收過，但內容不同"),
                     (long long)rev);
            goto rejected;
        }
        reset(m->sel_rev);
        if (rc != SQLITE_DONE) {
            err = bb_db_err(m->db, rc, "read revisions", eb);
            goto out;
        }
    }
    if (have_record && strcmp(cur_device, m->device) != 0) {
        snprintf(reason, sizeof reason, L(m, "record %s was created by another device; only "
                                             "that device may revise it",
                                          "紀錄 %s 由另一台裝置建立；只有該裝置可以修改"),
                 id);
        goto rejected;
    }
    if (have_record && strcmp(cur_kind, kind) != 0) {
        snprintf(reason, sizeof reason, L(m, "record %s is a %s; a revision cannot make it a %s",
                                          "紀錄 %s 的類別是 %s，修訂版不能改為 %s"),
                 id, cur_kind, kind);
        goto rejected;
    }
    if (!have_record || rev > cur_rev) {
        sqlite3_stmt *w = have_record ? m->upd_rec : m->ins_rec;
        if ((err = hq_facts_change(m->facts, old_body, rec, eb)) != BB_OK)
            goto out;
        sqlite3_bind_text(w, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(w, 2, m->device, -1, SQLITE_STATIC);
        sqlite3_bind_text(w, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(w, 4, rev);
        sqlite3_bind_text(w, 5, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(w, 6, unit, -1, SQLITE_STATIC);
        sqlite3_bind_text(w, 7, bb_json_str(rec, "officer"), -1, SQLITE_STATIC);
        sqlite3_bind_text(w, 8, occurred, -1, SQLITE_STATIC);
        sqlite3_bind_int64(w, 9, occurred_unix);
        sqlite3_bind_text(w, 10, bb_json_str(rec, "recorded_at"), -1, SQLITE_STATIC);
        sqlite3_bind_int64(w, 11, m->batch_id);
        sqlite3_bind_text(w, 12, canon, -1, SQLITE_STATIC);
        rc = sqlite3_step(w);
        reset(w);
        if (rc != SQLITE_DONE) {
            err = bb_db_err(m->db, rc, "store the record", eb);
            goto out;
        }
    }
    sqlite3_bind_text(m->ins_revision, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(m->ins_revision, 2, rev);
    sqlite3_bind_int64(m->ins_revision, 3, m->batch_id);
    sqlite3_bind_text(m->ins_revision, 4, canon, -1, SQLITE_STATIC);
    rc = sqlite3_step(m->ins_revision);
    reset(m->ins_revision);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(m->db, rc, "store the revision", eb);
        goto out;
    }
    /* The files it names, so their uploads are accepted and the record page
     * knows what is on its way (hq_attach.h). */
    if ((err = hq_attach_link_revision(m->db, m->cat, rec, eb)) != BB_OK)
        goto out;
    m->merged++;
    err = add_result(results, id, rev, "merged", NULL, eb);
    goto out;
rejected:
    err = reject(m, results, index, id, rev, canon, reason, eb);
out:
    free(old_body);
    free(canon);
    return err;
}

static void finalize_all(struct merge *m)
{
    hq_facts_end(m->facts);
    m->facts = NULL;
    sqlite3_finalize(m->sel_rev);
    sqlite3_finalize(m->sel_rec);
    sqlite3_finalize(m->ins_rec);
    sqlite3_finalize(m->upd_rec);
    sqlite3_finalize(m->ins_revision);
    sqlite3_finalize(m->ins_quar);
}

static bb_err prepare_all(struct merge *m, bb_errbuf *eb)
{
    bb_err err;

    if ((err = bb_db_prepare(m->db, "SELECT body FROM revisions WHERE id = ?1 AND rev = ?2",
                             &m->sel_rev, eb)) != BB_OK ||
        (err = bb_db_prepare(m->db, "SELECT device, kind, rev, body FROM records WHERE id = ?1",
                             &m->sel_rec, eb)) != BB_OK ||
        (err = bb_db_prepare(m->db,
            "INSERT INTO records (id, device, kind, rev, status, org_unit, officer, "
            "occurred_at, occurred_unix, recorded_at, batch_id, body) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            &m->ins_rec, eb)) != BB_OK ||
        (err = bb_db_prepare(m->db,
            "UPDATE records SET device = ?2, kind = ?3, rev = ?4, status = ?5, org_unit = ?6, "
            "officer = ?7, occurred_at = ?8, occurred_unix = ?9, recorded_at = ?10, "
            "batch_id = ?11, body = ?12 WHERE id = ?1", &m->upd_rec, eb)) != BB_OK ||
        (err = bb_db_prepare(m->db,
            "INSERT INTO revisions (id, rev, batch_id, body) VALUES (?1, ?2, ?3, ?4)",
            &m->ins_revision, eb)) != BB_OK ||
        (err = bb_db_prepare(m->db,
            "INSERT INTO quarantined_records (batch_id, record_index, record_id, record_rev, "
            "reason, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &m->ins_quar, eb)) != BB_OK)
        return err;
    return BB_OK;
}

static bb_err insert_batch(sqlite3 *db, const struct hq_batch_in *in, const char *now,
                           sqlite3_int64 *id, bb_errbuf *eb)
{
    const struct bb_batch_header *hdr = &in->view->hdr;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db,
            "INSERT INTO batches (device, seq, batch, sha256, prev, created_at, received_at, "
            "source, count, merged, duplicates, rejected, bytes, receipt) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, 0, ?10, '')", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, hdr->device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, hdr->seq);
    sqlite3_bind_text(st, 3, hdr->batch, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, hdr->prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, hdr->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, in->source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, hdr->count);
    sqlite3_bind_blob64(st, 10, in->view->buf, in->view->len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return bb_db_err(db, rc, "store the batch", eb);
    *id = sqlite3_last_insert_rowid(db);
    return BB_OK;
}

static bb_err finish_batch(sqlite3 *db, sqlite3_int64 id, const struct merge *m,
                           const char *receipt, bb_errbuf *eb)
{
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    if ((err = bb_db_prepare(db, "UPDATE batches SET merged = ?2, duplicates = ?3, "
                                 "rejected = ?4, receipt = ?5 WHERE id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, m->merged);
    sqlite3_bind_int64(st, 3, m->duplicates);
    sqlite3_bind_int64(st, 4, m->rejected);
    sqlite3_bind_text(st, 5, receipt, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, "store the receipt", eb);
}

/* The signed receipt (FORMATS.md §2) as canonical JSON; takes over results. */
static bb_err make_receipt(struct hq_home *h, const struct hq_batch_in *in, const char *now,
                           cJSON *results, char **out, bb_errbuf *eb)
{
    const struct bb_batch_header *hdr = &in->view->hdr;
    cJSON *doc = cJSON_CreateObject();
    bb_err err;

    *out = NULL;
    if (!doc) {
        cJSON_Delete(results);
        return bb_fail(eb, BB_ERR_NOMEM, "receipt: out of memory");
    }
    if (!cJSON_AddNumberToObject(doc, "v", 1) ||
        !cJSON_AddStringToObject(doc, "batch", hdr->batch) ||
        !cJSON_AddStringToObject(doc, "device", hdr->device) ||
        !cJSON_AddNumberToObject(doc, "seq", (double)hdr->seq) ||
        !cJSON_AddStringToObject(doc, "sha256", in->sha256) ||
        !cJSON_AddStringToObject(doc, "received_at", now) ||
        !cJSON_AddStringToObject(doc, "hq_sign_key", h->keys.sign_kid) ||
        !cJSON_AddItemToObject(doc, "records", results)) {
        cJSON_Delete(doc);
        return bb_fail(eb, BB_ERR_NOMEM, "receipt: out of memory");
    }
    if ((err = hq_keys_sign_doc(&h->keys, doc, BB_CTX_RECEIPT, eb)) == BB_OK) {
        *out = bb_json_canonical(doc);
        if (!*out)
            err = bb_fail(eb, BB_ERR_NOMEM, "receipt: out of memory");
    }
    cJSON_Delete(doc);
    return err;
}

bb_err hq_merge_batch(struct hq_home *h, sqlite3 *db, const struct hq_batch_in *in,
                      struct hq_answer *ans, bb_errbuf *eb)
{
    const struct bb_batch_header *hdr = &in->view->hdr;
    struct merge m;
    enum hq_seq_state state;
    char now[BB_TIME_MAX], detail[400], *stored = NULL, *receipt = NULL;
    cJSON *records = NULL, *results = NULL;
    const cJSON *rec;
    sqlite3_int64 batch_id = 0;
    int index = 0;
    bb_err err;

    memset(&m, 0, sizeof m);
    if ((err = bb_json_parse(in->records_json, in->records_len, "batch payload", &records,
                             eb)) != BB_OK)
        return err;
    if ((err = bb_time_now_taipei(now)) != BB_OK) {
        cJSON_Delete(records);
        return bb_fail(eb, err, "merge: cannot format the time");
    }
    if ((err = bb_db_begin(db, eb)) != BB_OK) {
        cJSON_Delete(records);
        return err;
    }
    /* Checked again under the write lock: another request may have won the race. */
    if ((err = hq_merge_check_seq(db, hdr->device, hdr->seq, hdr->prev, in->sha256, &state,
                                  &stored, eb)) != BB_OK)
        goto fail;
    if (state != HQ_SEQ_NEW) {
        bb_db_rollback(db);
        cJSON_Delete(records);
        hq_merge_seq_answer(state, hdr->seq, &stored, ans);
        return BB_OK;
    }
    if ((err = insert_batch(db, in, now, &batch_id, eb)) != BB_OK)
        goto fail;
    m.db = db;
    m.cat = h->cat;
    m.lang = h->lang;
    m.device = hdr->device;
    m.scope = hq_merge_scope(h->cat, in->device->org_unit);
    m.batch_id = batch_id;
    if ((err = prepare_all(&m, eb)) != BB_OK ||
        (err = hq_facts_begin(db, h->cat, &m.facts, eb)) != BB_OK)
        goto fail;
    if (!(results = cJSON_CreateArray())) {
        err = bb_fail(eb, BB_ERR_NOMEM, "merge: out of memory");
        goto fail;
    }
    cJSON_ArrayForEach(rec, records) {
        if ((err = merge_one(&m, results, index++, rec, eb)) != BB_OK)
            goto fail;
    }
    err = make_receipt(h, in, now, results, &receipt, eb);
    results = NULL;
    if (err != BB_OK)
        goto fail;
    snprintf(detail, sizeof detail, "seq=%lld batch=%s sha256=%s source=%s records=%d "
             "merged=%ld duplicates=%ld rejected=%ld", (long long)hdr->seq, hdr->batch,
             in->sha256, in->source, index, m.merged, m.duplicates, m.rejected);
    if ((err = hq_facts_flush(m.facts, eb)) != BB_OK ||
        (err = finish_batch(db, batch_id, &m, receipt, eb)) != BB_OK ||
        (err = hq_device_touch(db, hdr->device, hdr->seq, now, eb)) != BB_OK ||
        (err = hq_audit(db, in->source, "merge", hdr->device, detail, eb)) != BB_OK)
        goto fail;
    finalize_all(&m);
    if ((err = bb_db_commit(db, eb)) != BB_OK) {
        cJSON_Delete(records);
        free(receipt);
        return err;
    }
    cJSON_Delete(records);
    ans->records = index;
    ans->merged = m.merged;
    ans->duplicates = m.duplicates;
    ans->rejected = m.rejected;
    hq_answer_body(ans, 201, HQ_OUT_MERGED, receipt);
    return BB_OK;
fail:
    finalize_all(&m);
    bb_db_rollback(db);
    cJSON_Delete(results);
    cJSON_Delete(records);
    free(stored);
    free(receipt);
    return err;
}
