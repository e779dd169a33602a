/*
 * hq_facts — plans and KPI facts in hq.db (schema/migrations/hq/002_kpi.sql):
 * storing plans, keeping the facts in step with every merge, summing them
 * for `beatbook-hq kpi`, and verifying them against the raw records.
 *
 * Facts are what shared/bb_kpi.h describes: per (plan input, org unit,
 * group, Taipei day), kept for the record's own unit and every unit above
 * it.  The merge opens an hq_facts at the start of its transaction, reports
 * each record whose current state changes (hq_facts_change: old body out,
 * new record in), and flushes the collected deltas before it commits, so
 * the facts move with the records or not at all.
 *
 * Like hq_store, nothing here opens a transaction unless it says so; callers
 * compose these inside one BEGIN IMMEDIATE ... COMMIT.
 *
 * Errors: bb_db_err's translation of SQLite codes; BB_ERR_INVALID for a
 * stored plan that no longer checks against the catalog; BB_ERR_NOTFOUND
 * for an unknown plan; BB_ERR_NOMEM.
 */
#ifndef HQ_FACTS_H
#define HQ_FACTS_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"
#include "bb_kpi.h"
#include "bb_plan.h"

#define HQ_PLAN_BUILTIN "taichung-107"   /* loaded by `beatbook-hq init` */

/* ---- plans ---------------------------------------------------------------- */

struct hq_plan_info {
    char id[BB_PLAN_ID_MAX];
    int year;
    char sha256[65];
    char source[512];
    char loaded_at[32];
};

enum hq_plan_outcome {
    HQ_PLAN_ADDED = 1,      /* a new plan */
    HQ_PLAN_UNCHANGED,      /* the same id with the same content: nothing to do */
    HQ_PLAN_REPLACED        /* the same id, new content, and replace was asked */
};

/*
 * Store plan p (already checked) and compute its facts from the records HQ
 * holds, in the caller's transaction.  The same id with other content is
 * BB_ERR_EXISTS unless replace is set, in which case the old plan and its
 * facts give way.  *records (may be NULL) receives how many records were
 * counted.
 */
bb_err hq_plan_store(sqlite3 *db, const bb_catalog *cat, const bb_plan *p, const char *source,
                     int replace, enum hq_plan_outcome *outcome, size_t *records,
                     bb_errbuf *eb);

/* The stored plans, by year then id (*n of them; caller frees *list). */
bb_err hq_plan_list(sqlite3 *db, struct hq_plan_info **list, size_t *n, bb_errbuf *eb);

/* A stored plan, parsed (free with bb_plan_free); BB_ERR_NOTFOUND when absent. */
bb_err hq_plan_get(sqlite3 *db, const bb_catalog *cat, const char *id, bb_plan **out,
                   bb_errbuf *eb);

/* ---- facts during a merge ------------------------------------------------- */

struct hq_facts;

/* Load every stored plan and start collecting deltas (none: a no-op). */
bb_err hq_facts_begin(sqlite3 *db, const bb_catalog *cat, struct hq_facts **out,
                      bb_errbuf *eb);

/*
 * A record's current state changes: old_body is the canonical JSON it had
 * (NULL for a new record), rec the state it now has.  Drafts and voided
 * records count nothing, so a void takes the old state out and puts
 * nothing in.
 */
bb_err hq_facts_change(struct hq_facts *f, const char *old_body, const cJSON *rec,
                       bb_errbuf *eb);

/* Add the collected deltas to kpi_facts (caller's transaction). */
bb_err hq_facts_flush(struct hq_facts *f, bb_errbuf *eb);

/* Free (NULL is fine); unflushed deltas are dropped. */
void hq_facts_end(struct hq_facts *f);

/* ---- sums for bb_kpi_evaluate ---------------------------------------------- */

struct hq_facts_source {
    sqlite3 *db;
    const bb_plan *plan;
    int64_t *ids;               /* kpi_inputs.id per input index */
    sqlite3_stmt *sum_all, *sum_one;
};

/* A source over the stored facts of plan p; close with hq_facts_source_close. */
bb_err hq_facts_source_open(sqlite3 *db, const bb_plan *p, struct hq_facts_source *s,
                            struct bb_kpi_source *src, bb_errbuf *eb);
void hq_facts_source_close(struct hq_facts_source *s);

/* ---- verification ---------------------------------------------------------- */

struct hq_facts_diff {
    char input[BB_PLAN_ID_MAX];
    char org[40];
    char group[40];
    int64_t day;                /* Taipei day number */
    int64_t stored_n, stored_v; /* what kpi_facts holds (0 when no row) */
    int64_t want_n, want_v;     /* what the records give */
};

struct hq_facts_check {
    size_t records;             /* records read (highest revision of each) */
    size_t counted;             /* of them, counted by at least one input */
    size_t rows;                /* fact rows stored for the plan */
    size_t ndiff;               /* differences found (diffs holds the first max) */
};

/*
 * Recompute plan p's facts from the raw records — the highest revision of
 * each in `revisions`, drafts and voids counting nothing — and compare them
 * with kpi_facts, row by row.  Differences go to diffs (at most max); the
 * function itself fails only when it cannot read.
 */
bb_err hq_facts_verify(sqlite3 *db, const bb_catalog *cat, const bb_plan *p,
                       struct hq_facts_check *check, struct hq_facts_diff *diffs, size_t max,
                       bb_errbuf *eb);

#endif
