/*
 * hq_facts.c — plans and KPI facts in hq.db (see hq_facts.h).  The
 * arithmetic (which record counts where) is shared/bb_kpi.c; this file only
 * moves rows between bb_kpi_facts maps and SQLite.
 */
#include "hq_facts.h"
#include "bb_batch.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rows -------------------------------------------------------------------- */

/* Statements that add to kpi_facts and drop rows that fall to zero. */
struct writer {
    sqlite3 *db;
    sqlite3_stmt *upsert, *drop_zero;
};

static bb_err writer_open(sqlite3 *db, struct writer *w, bb_errbuf *eb)
{
    bb_err err;

    w->db = db;
    w->upsert = w->drop_zero = NULL;
    if ((err = bb_db_prepare(db,
            "INSERT INTO kpi_facts (input, org_unit, grp, day, n, v) VALUES (?1, ?2, ?3, ?4, "
            "?5, ?6) ON CONFLICT (input, org_unit, grp, day) DO UPDATE SET n = n + excluded.n, "
            "v = v + excluded.v", &w->upsert, eb)) != BB_OK ||
        (err = bb_db_prepare(db,
            "DELETE FROM kpi_facts WHERE input = ?1 AND org_unit = ?2 AND grp = ?3 AND "
            "day = ?4 AND n = 0 AND v = 0", &w->drop_zero, eb)) != BB_OK) {
        sqlite3_finalize(w->upsert);
        return err;
    }
    return BB_OK;
}

static void writer_close(struct writer *w)
{
    sqlite3_finalize(w->upsert);
    sqlite3_finalize(w->drop_zero);
}

static void bind_key(sqlite3_stmt *st, int64_t id, const struct bb_kpi_fact *r)
{
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, r->unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->group ? r->group : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->day);
}

/* Add every non-zero row of map to kpi_facts; ids maps input index → kpi_inputs.id. */
static bb_err writer_add_map(struct writer *w, const bb_kpi_facts *map, const int64_t *ids,
                             bb_errbuf *eb)
{
    struct bb_kpi_fact r;
    size_t cur = 0;
    int rc;

    while (bb_kpi_facts_next(map, &cur, &r)) {
        int64_t id = ids[r.input->index];
        bind_key(w->upsert, id, &r);
        sqlite3_bind_int64(w->upsert, 5, r.n);
        sqlite3_bind_int64(w->upsert, 6, r.v);
        rc = sqlite3_step(w->upsert);
        sqlite3_reset(w->upsert);
        if (rc != SQLITE_DONE)
            return bb_db_err(w->db, rc, "update the KPI facts", eb);
        if (r.n < 0 || r.v < 0) {
            bind_key(w->drop_zero, id, &r);
            rc = sqlite3_step(w->drop_zero);
            sqlite3_reset(w->drop_zero);
            if (rc != SQLITE_DONE)
                return bb_db_err(w->db, rc, "update the KPI facts", eb);
        }
    }
    return BB_OK;
}

/* kpi_inputs.id of each input of p, by input index (caller frees *ids). */
static bb_err input_ids(sqlite3 *db, const bb_plan *p, int64_t **ids, bb_errbuf *eb)
{
    size_t n = bb_plan_input_count(p), i, found = 0;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *ids = calloc(n ? n : 1, sizeof **ids);
    if (!*ids)
        return bb_fail(eb, BB_ERR_NOMEM, "KPI facts: out of memory");
    if ((err = bb_db_prepare(db, "SELECT id, input FROM kpi_inputs WHERE plan = ?1", &st, eb)) !=
        BB_OK)
        goto fail;
    sqlite3_bind_text(st, 1, bb_plan_id(p), -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const struct bb_plan_input *in = name ? bb_plan_input(p, name) : NULL;
        if (in && (*ids)[in->index] == 0) {
            (*ids)[in->index] = sqlite3_column_int64(st, 0);
            found++;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read kpi_inputs", eb);
        goto fail;
    }
    if (found != n) {
        for (i = 0; i < n && (*ids)[i]; i++)
            ;
        err = bb_fail(eb, BB_ERR_CORRUPT, "plan %s: input %s has no row in kpi_inputs (load "
                      "the plan again with: beatbook-hq plan load --replace FILE)",
                      bb_plan_id(p), i < n ? bb_plan_input_at(p, i)->id : "?");
        goto fail;
    }
    return BB_OK;
fail:
    free(*ids);
    *ids = NULL;
    return err;
}

/* ---- plans ------------------------------------------------------------------- */

static bb_err step_done(sqlite3 *db, sqlite3_stmt *st, const char *action, bb_errbuf *eb)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BB_OK : bb_db_err(db, rc, action, eb);
}

/* Remove plan id, its inputs and its facts. */
static bb_err plan_delete(sqlite3 *db, const char *id, bb_errbuf *eb)
{
    static const char *const sql[] = {
        "DELETE FROM kpi_facts WHERE input IN (SELECT id FROM kpi_inputs WHERE plan = ?1)",
        "DELETE FROM kpi_inputs WHERE plan = ?1",
        "DELETE FROM plans WHERE id = ?1",
    };
    sqlite3_stmt *st;
    size_t i;
    bb_err err;

    for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if ((err = bb_db_prepare(db, sql[i], &st, eb)) != BB_OK)
            return err;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if ((err = step_done(db, st, "remove the old plan", eb)) != BB_OK)
            return err;
    }
    return BB_OK;
}

/* The facts of plan p from the records HQ holds now (their current state). */
static bb_err backfill(sqlite3 *db, const bb_catalog *cat, const bb_plan *p, const int64_t *ids,
                       size_t *records, bb_errbuf *eb)
{
    bb_kpi_facts *map = NULL;
    struct writer w;
    sqlite3_stmt *st = NULL;
    size_t i, j;
    bb_err err;
    int rc;

    *records = 0;
    if ((err = bb_kpi_facts_new(p, cat, &map)) != BB_OK)
        return bb_fail(eb, err, "KPI facts: out of memory");
    if ((err = bb_db_prepare(db, "SELECT body FROM records WHERE kind = ?1 AND status = 'final'",
                             &st, eb)) != BB_OK)
        goto out;
    for (i = 0; i < bb_plan_input_count(p); i++) {
        const char *kind = bb_plan_input_at(p, i)->kind->name;
        for (j = 0; j < i; j++)
            if (strcmp(bb_plan_input_at(p, j)->kind->name, kind) == 0)
                break;
        if (j < i)
            continue;   /* kind already read */
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *body = (const char *)sqlite3_column_text(st, 0);
            cJSON *rec = body ? cJSON_Parse(body) : NULL;
            if (!rec) {
                err = bb_fail(eb, BB_ERR_CORRUPT, "a stored %s record is not JSON", kind);
                goto out;
            }
            err = bb_kpi_facts_record(map, rec, 1, NULL);
            cJSON_Delete(rec);
            if (err != BB_OK) {
                bb_fail(eb, err, "KPI facts: out of memory");
                goto out;
            }
            (*records)++;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            err = bb_db_err(db, rc, "read records", eb);
            goto out;
        }
    }
    if ((err = writer_open(db, &w, eb)) != BB_OK)
        goto out;
    err = writer_add_map(&w, map, ids, eb);
    writer_close(&w);
out:
    sqlite3_finalize(st);
    bb_kpi_facts_free(map);
    return err;
}

bb_err hq_plan_store(sqlite3 *db, const bb_catalog *cat, const bb_plan *p, const char *source,
                     int replace, enum hq_plan_outcome *outcome, size_t *records,
                     bb_errbuf *eb)
{
    const char *body = bb_plan_canonical(p);
    char sha[BB_SHA256_HEX], stored[80] = "", now[BB_TIME_MAX];
    size_t counted = 0, i;
    int64_t *ids = NULL;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    bb_sha256_hex((const uint8_t *)body, strlen(body), sha);
    if ((err = bb_time_now_taipei(now)) != BB_OK)
        return bb_fail(eb, err, "store the plan: cannot format the time");
    if ((err = bb_db_prepare(db, "SELECT sha256 FROM plans WHERE id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, bb_plan_id(p), -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(stored, sizeof stored, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bb_db_err(db, rc, "read plans", eb);
    *outcome = HQ_PLAN_ADDED;
    if (records)
        *records = 0;
    if (stored[0]) {
        if (strcmp(stored, sha) == 0) {
            *outcome = HQ_PLAN_UNCHANGED;
            return BB_OK;
        }
        if (!replace)
            return bb_fail(eb, BB_ERR_EXISTS, "plan %s is already loaded with other content; "
                           "to replace it (and recompute its facts) add --replace",
                           bb_plan_id(p));
        if ((err = plan_delete(db, bb_plan_id(p), eb)) != BB_OK)
            return err;
        *outcome = HQ_PLAN_REPLACED;
    }
    if ((err = bb_db_prepare(db, "INSERT INTO plans (id, year, sha256, body, source, loaded_at) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, bb_plan_id(p), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, bb_plan_year(p));
    sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
    if ((err = step_done(db, st, "store the plan", eb)) != BB_OK)
        return err;
    if ((err = bb_db_prepare(db, "INSERT INTO kpi_inputs (plan, input) VALUES (?1, ?2)", &st,
                             eb)) != BB_OK)
        return err;
    for (i = 0; i < bb_plan_input_count(p); i++) {
        sqlite3_bind_text(st, 1, bb_plan_id(p), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, bb_plan_input_at(p, i)->id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return bb_db_err(db, rc, "store the plan's inputs", eb);
        }
    }
    sqlite3_finalize(st);
    if ((err = input_ids(db, p, &ids, eb)) != BB_OK)
        return err;
    err = backfill(db, cat, p, ids, &counted, eb);
    free(ids);
    if (err == BB_OK && records)
        *records = counted;
    return err;
}

bb_err hq_plan_list(sqlite3 *db, struct hq_plan_info **list, size_t *n, bb_errbuf *eb)
{
    struct hq_plan_info *l = NULL;
    size_t cap = 0;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    *list = NULL;
    *n = 0;
    if ((err = bb_db_prepare(db, "SELECT id, year, sha256, source, loaded_at FROM plans "
                                 "ORDER BY year, id", &st, eb)) != BB_OK)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct hq_plan_info *pi;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct hq_plan_info *nl = realloc(l, nc * sizeof *nl);
            if (!nl) {
                sqlite3_finalize(st);
                free(l);
                return bb_fail(eb, BB_ERR_NOMEM, "list plans: out of memory");
            }
            l = nl;
            cap = nc;
        }
        pi = &l[(*n)++];
        memset(pi, 0, sizeof *pi);
        snprintf(pi->id, sizeof pi->id, "%s", (const char *)sqlite3_column_text(st, 0));
        pi->year = sqlite3_column_int(st, 1);
        snprintf(pi->sha256, sizeof pi->sha256, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(pi->source, sizeof pi->source, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(pi->loaded_at, sizeof pi->loaded_at, "%s",
                 (const char *)sqlite3_column_text(st, 4));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(l);
        *n = 0;
        return bb_db_err(db, rc, "read plans", eb);
    }
    *list = l;
    return BB_OK;
}

bb_err hq_plan_get(sqlite3 *db, const bb_catalog *cat, const char *id, bb_plan **out,
                   bb_errbuf *eb)
{
    sqlite3_stmt *st;
    char origin[80];
    bb_err err;
    int rc;

    *out = NULL;
    if ((err = bb_db_prepare(db, "SELECT body FROM plans WHERE id = ?1", &st, eb)) != BB_OK)
        return err;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 0);
        snprintf(origin, sizeof origin, "stored plan %.40s", id);
        err = bb_plan_parse(cat, body ? body : "", body ? strlen(body) : 0, origin, out, eb);
    } else if (rc == SQLITE_DONE) {
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no plan \"%.40s\" is loaded (see: beatbook-hq plan "
                      "list)", id);
    } else {
        err = bb_db_err(db, rc, "read plans", eb);
    }
    sqlite3_finalize(st);
    return err;
}

/* ---- facts during a merge ------------------------------------------------------ */

struct plan_state {
    bb_plan *plan;
    int64_t *ids;
    bb_kpi_facts *delta;
};

struct hq_facts {
    sqlite3 *db;
    const bb_catalog *cat;
    struct plan_state *ps;
    size_t n;
};

void hq_facts_end(struct hq_facts *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->n; i++) {
        bb_kpi_facts_free(f->ps[i].delta);
        free(f->ps[i].ids);
        bb_plan_free(f->ps[i].plan);
    }
    free(f->ps);
    free(f);
}

bb_err hq_facts_begin(sqlite3 *db, const bb_catalog *cat, struct hq_facts **out,
                      bb_errbuf *eb)
{
    struct hq_plan_info *list = NULL;
    struct hq_facts *f;
    size_t n, i;
    bb_err err;

    *out = NULL;
    if ((err = hq_plan_list(db, &list, &n, eb)) != BB_OK)
        return err;
    if (!(f = calloc(1, sizeof *f)) || !(f->ps = calloc(n ? n : 1, sizeof *f->ps))) {
        free(f);
        free(list);
        return bb_fail(eb, BB_ERR_NOMEM, "KPI facts: out of memory");
    }
    f->db = db;
    f->cat = cat;
    for (i = 0; i < n; i++) {
        struct plan_state *ps = &f->ps[f->n];
        if ((err = hq_plan_get(db, cat, list[i].id, &ps->plan, eb)) != BB_OK)
            goto fail;
        f->n++;
        if ((err = input_ids(db, ps->plan, &ps->ids, eb)) != BB_OK ||
            (err = bb_kpi_facts_new(ps->plan, cat, &ps->delta)) != BB_OK)
            goto fail;
    }
    free(list);
    *out = f;
    return BB_OK;
fail:
    if (err == BB_ERR_NOMEM)
        bb_fail(eb, err, "KPI facts: out of memory");
    free(list);
    hq_facts_end(f);
    return err;
}

/* Whether any plan counts records of this kind (most kinds of a batch do not). */
static int kind_counts(const struct hq_facts *f, const char *kind)
{
    size_t i, j;

    for (i = 0; i < f->n; i++)
        for (j = 0; j < bb_plan_input_count(f->ps[i].plan); j++)
            if (strcmp(bb_plan_input_at(f->ps[i].plan, j)->kind->name, kind) == 0)
                return 1;
    return 0;
}

bb_err hq_facts_change(struct hq_facts *f, const char *old_body, const cJSON *rec,
                       bb_errbuf *eb)
{
    const char *kind = bb_json_str(rec, "kind");
    cJSON *old = NULL;
    size_t i;
    bb_err err = BB_OK;

    if (!f || f->n == 0 || !kind || !kind_counts(f, kind))
        return BB_OK;
    if (old_body && !(old = cJSON_Parse(old_body)))
        return bb_fail(eb, BB_ERR_CORRUPT, "the stored state of record %.40s is not JSON",
                       bb_json_str(rec, "id") ? bb_json_str(rec, "id") : "?");
    for (i = 0; i < f->n && err == BB_OK; i++) {
        if (old)
            err = bb_kpi_facts_record(f->ps[i].delta, old, -1, NULL);
        if (err == BB_OK)
            err = bb_kpi_facts_record(f->ps[i].delta, rec, 1, NULL);
    }
    cJSON_Delete(old);
    if (err != BB_OK)
        return bb_fail(eb, err, "KPI facts: out of memory");
    return BB_OK;
}

bb_err hq_facts_flush(struct hq_facts *f, bb_errbuf *eb)
{
    struct writer w;
    size_t i;
    bb_err err = BB_OK;

    if (!f || f->n == 0)
        return BB_OK;
    if ((err = writer_open(f->db, &w, eb)) != BB_OK)
        return err;
    for (i = 0; i < f->n && err == BB_OK; i++)
        err = writer_add_map(&w, f->ps[i].delta, f->ps[i].ids, eb);
    writer_close(&w);
    return err;
}

/* ---- sums ------------------------------------------------------------------------ */

static bb_err source_sum(void *ctx, const struct bb_plan_input *in, const char *org,
                         int64_t from_day, int64_t to_day, const char *group, int64_t *n,
                         int64_t *v, bb_errbuf *eb)
{
    struct hq_facts_source *s = ctx;
    /* An ungrouped input keeps grp = '', which lets the key's day range be used. */
    sqlite3_stmt *st = group || !in->group_by ? s->sum_one : s->sum_all;
    int rc;

    sqlite3_bind_int64(st, 1, s->ids[in->index]);
    sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from_day);
    sqlite3_bind_int64(st, 4, to_day);
    if (st == s->sum_one)
        sqlite3_bind_text(st, 5, group ? group : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        *v = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return bb_db_err(s->db, rc, "sum the KPI facts", eb);
    return BB_OK;
}

bb_err hq_facts_source_open(sqlite3 *db, const bb_plan *p, struct hq_facts_source *s,
                            struct bb_kpi_source *src, bb_errbuf *eb)
{
    bb_err err;

    memset(s, 0, sizeof *s);
    s->db = db;
    s->plan = p;
    if ((err = input_ids(db, p, &s->ids, eb)) != BB_OK ||
        (err = bb_db_prepare(db,
            "SELECT coalesce(sum(n), 0), coalesce(sum(v), 0) FROM kpi_facts WHERE input = ?1 "
            "AND org_unit = ?2 AND grp = ?5 AND day >= ?3 AND day < ?4", &s->sum_one, eb)) !=
            BB_OK ||
        (err = bb_db_prepare(db,
            "SELECT coalesce(sum(n), 0), coalesce(sum(v), 0) FROM kpi_facts WHERE input = ?1 "
            "AND org_unit = ?2 AND day >= ?3 AND day < ?4", &s->sum_all, eb)) != BB_OK) {
        hq_facts_source_close(s);
        return err;
    }
    src->ctx = s;
    src->sum = source_sum;
    return BB_OK;
}

void hq_facts_source_close(struct hq_facts_source *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->sum_one);
    sqlite3_finalize(s->sum_all);
    free(s->ids);
    s->ids = NULL;
    s->sum_one = s->sum_all = NULL;
}

/* ---- verification ------------------------------------------------------------------ */

static void note_diff(struct hq_facts_check *c, struct hq_facts_diff *diffs, size_t max,
                      const char *input, const char *org, const char *group, int64_t day,
                      int64_t sn, int64_t sv, int64_t wn, int64_t wv)
{
    if (c->ndiff < max) {
        struct hq_facts_diff *d = &diffs[c->ndiff];
        snprintf(d->input, sizeof d->input, "%s", input);
        snprintf(d->org, sizeof d->org, "%s", org);
        snprintf(d->group, sizeof d->group, "%s", group ? group : "");
        d->day = day;
        d->stored_n = sn;
        d->stored_v = sv;
        d->want_n = wn;
        d->want_v = wv;
    }
    c->ndiff++;
}

/* The facts the raw records give: the highest revision of every record. */
static bb_err recompute(sqlite3 *db, const bb_plan *p, bb_kpi_facts *want,
                        struct hq_facts_check *check, bb_errbuf *eb)
{
    char needles[32][80];
    size_t nneedles = 0, i, j;
    sqlite3_stmt *st;
    bb_err err;
    int rc;

    /* Bodies are canonical JSON, so a kind reads "kind":"NAME" exactly. */
    for (i = 0; i < bb_plan_input_count(p) && nneedles < 32; i++) {
        char nd[80];
        snprintf(nd, sizeof nd, "\"kind\":\"%.60s\"", bb_plan_input_at(p, i)->kind->name);
        for (j = 0; j < nneedles && strcmp(needles[j], nd) != 0; j++)
            ;
        if (j == nneedles)
            memcpy(needles[nneedles++], nd, sizeof nd);
    }
    if ((err = bb_db_prepare(db,
            "SELECT v.body FROM revisions v WHERE v.rev = "
            "(SELECT max(w.rev) FROM revisions w WHERE w.id = v.id)", &st, eb)) != BB_OK)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 0);
        cJSON *rec;
        size_t inputs = 0;
        check->records++;
        if (!body)
            continue;
        for (j = 0; j < nneedles && !strstr(body, needles[j]); j++)
            ;
        if (j == nneedles && nneedles < 32)
            continue;
        if (!(rec = cJSON_Parse(body))) {
            sqlite3_finalize(st);
            return bb_fail(eb, BB_ERR_CORRUPT, "a stored revision is not JSON");
        }
        err = bb_kpi_facts_record(want, rec, 1, &inputs);
        cJSON_Delete(rec);
        if (inputs > 0)
            check->counted++;
        if (err != BB_OK) {
            sqlite3_finalize(st);
            return bb_fail(eb, err, "verify: out of memory");
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return bb_db_err(db, rc, "read revisions", eb);
    return BB_OK;
}

bb_err hq_facts_verify(sqlite3 *db, const bb_catalog *cat, const bb_plan *p,
                       struct hq_facts_check *check, struct hq_facts_diff *diffs, size_t max,
                       bb_errbuf *eb)
{
    bb_kpi_facts *want = NULL, *have = NULL;
    struct bb_kpi_fact r;
    sqlite3_stmt *st = NULL;
    size_t cur;
    bb_err err;
    int rc;

    memset(check, 0, sizeof *check);
    if ((err = bb_kpi_facts_new(p, cat, &want)) != BB_OK ||
        (err = bb_kpi_facts_new(p, cat, &have)) != BB_OK) {
        err = bb_fail(eb, err, "verify: out of memory");
        goto out;
    }
    if ((err = recompute(db, p, want, check, eb)) != BB_OK)
        goto out;
    if ((err = bb_db_prepare(db,
            "SELECT i.input, f.org_unit, f.grp, f.day, f.n, f.v FROM kpi_facts f "
            "JOIN kpi_inputs i ON i.id = f.input WHERE i.plan = ?1", &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, bb_plan_id(p), -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *input = (const char *)sqlite3_column_text(st, 0);
        const char *org = (const char *)sqlite3_column_text(st, 1);
        const char *grp = (const char *)sqlite3_column_text(st, 2);
        struct bb_kpi_fact row;
        check->rows++;
        memset(&row, 0, sizeof row);
        row.input = input ? bb_plan_input(p, input) : NULL;
        row.unit = org;
        row.group = grp && grp[0] ? grp : NULL;
        row.day = sqlite3_column_int64(st, 3);
        row.n = sqlite3_column_int64(st, 4);
        row.v = sqlite3_column_int64(st, 5);
        err = bb_kpi_facts_add(have, &row);
        if (err == BB_ERR_INVALID) {
            /* A row no record could have made: an unknown unit, group or input. */
            note_diff(check, diffs, max, input ? input : "?", org ? org : "?", grp, row.day,
                      row.n, row.v, 0, 0);
            err = BB_OK;
        } else if (err != BB_OK) {
            err = bb_fail(eb, err, "verify: out of memory");
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read kpi_facts", eb);
        goto out;
    }
    cur = 0;
    while (bb_kpi_facts_next(want, &cur, &r)) {
        const struct bb_kpi_fact *h = bb_kpi_facts_get(have, r.input, r.unit, r.day, r.group);
        if (!h || h->n != r.n || h->v != r.v)
            note_diff(check, diffs, max, r.input->id, r.unit, r.group, r.day, h ? h->n : 0,
                      h ? h->v : 0, r.n, r.v);
    }
    cur = 0;
    while (bb_kpi_facts_next(have, &cur, &r)) {
        const struct bb_kpi_fact *w = bb_kpi_facts_get(want, r.input, r.unit, r.day, r.group);
        if (!w || (w->n == 0 && w->v == 0))
            note_diff(check, diffs, max, r.input->id, r.unit, r.group, r.day, r.n, r.v, 0, 0);
    }
out:
    sqlite3_finalize(st);
    bb_kpi_facts_free(want);
    bb_kpi_facts_free(have);
    return err;
}
