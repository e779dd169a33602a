/*
 * hq_api — what the review UI shows and the JSON API answers, independent
 * of HTTP: the KPI scorecard and its months, the records behind a KPI
 * figure, record lists and pages, the devices' day-end facts, quarantine and
 * the reviewer's actions on it, and CSV for every list.  hq_web turns
 * requests into these calls; `beatbook-hq devices` calls hq_api_devices.
 *
 * Scope.  Every call takes the caller (struct hq_api_ctx.user).  A precinct
 * admin's scope is its org unit and the units under it; an HQ reviewer's is
 * every unit.  An org asked for outside the scope is 403, unless it lies
 * above the scope (the city, for a precinct admin), in which case the
 * answer is narrowed to the scope and says so ("limited": true) for lists;
 * KPIs are computed for the org asked only when it is within the scope.  A
 * record, device or quarantined item outside the scope is 404, exactly as if
 * it did not exist.  Quarantine actions are for HQ reviewers only.
 *
 * Paging is by keyset, newest first: "next" is an opaque cursor
 * ("<occurred_unix>.<rowid>") to pass back as `after`; a page holds at most
 * HQ_API_PAGE_MAX items.  Every query is a prepared statement with bound
 * parameters over indexed columns (records_by_kind, records_by_unit,
 * records_by_time); the KPI figure's record conditions are checked again in
 * C with the engine's own test (bb_kpi_record_contribs), so a drill-down
 * lists exactly the records a figure counts.
 *
 * Results.  Each call returns the HTTP status (200, or the 4xx/5xx of the
 * failure) and fills res: json on success (caller frees with
 * hq_api_result_clear), else code and message (plain words, never SQL,
 * paths or secrets) in the caller's language (hq_api_ctx.lang).  A query
 * parameter a message names keeps its name in both languages ("period：…").
 *
 * Codes and labels.  Answers carry the stored codes (kind, status, org_unit,
 * data as the laptop sent it, RFC 3339 times) for scripts, and beside them
 * what a person reads: an object that holds codes has a "display" object
 * with the same keys, each a pair {"zh-TW": ..., "en": ...} from
 * hq_display.h — kind and value labels, 是/否, "name (code)" of listed
 * codes, Taipei times (107/03/15 16:30 / 2018-03-15 16:30), status words.
 * A record's display also has "fields": [{"name", "type", "label", "text"}]
 * in the kind's order.  The pages show only the display texts, in their own
 * language; the older one-language names (kind_label, org_unit_name, in
 * `lang`) stay for scripts and the CSV.
 */
#ifndef HQ_API_H
#define HQ_API_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "hq_attview.h"
#include "hq_auth.h"
#include "hq_home.h"

#define HQ_API_PAGE_DEFAULT 50
#define HQ_API_PAGE_MAX 200
#define HQ_API_EXPORT_MAX 100000      /* rows in one export */
#define HQ_API_SCAN_MAX 20000         /* candidate rows examined for one page */
#define HQ_API_NOTE_MAX 500           /* characters of a reviewer's note */

struct hq_api_ctx {
    struct hq_home *home;             /* catalog, conf */
    sqlite3 *db;
    const struct hq_user *user;       /* the caller; its role and org are the scope */
    enum bb_lang lang;
};

struct hq_api_result {
    unsigned status;
    cJSON *json;                      /* on success */
    char code[40];                    /* on failure: "forbidden", "bad_request", ... */
    char message[600];
    int truncated;                    /* an export stopped at HQ_API_EXPORT_MAX rows */
};

void hq_api_result_clear(struct hq_api_result *r);

/* Query parameters of the list calls; NULL = not given. */
struct hq_api_query {
    const char *period, *org, *plan, *kind, *device, *officer, *status, *state;
    const char *kpi, *figure, *group, *after, *limit, *year;
    const char *header;               /* CSV: "codes" for the column codes as headers */
    int export_all;                   /* every page, up to HQ_API_EXPORT_MAX (export) */
};

/* GET /v1/catalog: for the pickers, the org units within the caller's scope, the
 * record kinds and the plans loaded. */
unsigned hq_api_catalog(const struct hq_api_ctx *c, struct hq_api_result *res);

/*
 * GET /v1/kpi: the scorecard of `beatbook-hq kpi --format json` (with every
 * figure: the explain data) for period, org (default: the caller's unit, or
 * the plan's root for HQ) and plan (default as the kpi command chooses).
 */
unsigned hq_api_kpi(const struct hq_api_ctx *c, const struct hq_api_query *q,
                    struct hq_api_result *res);

/* GET /v1/kpi/months: per KPI, the value of each month of `year` (or of the
 * year of `period`), for the charts. */
unsigned hq_api_kpi_months(const struct hq_api_ctx *c, const struct hq_api_query *q,
                           struct hq_api_result *res);

/* GET /v1/kpi/records: the records behind figure `figure` of KPI `kpi` for
 * period and org (and group, for a listed code of improved_share).
 * input.counts is the condition for scripts (codes); display.counts says it
 * in words in both languages (hq_display_input). */
unsigned hq_api_drill(const struct hq_api_ctx *c, const struct hq_api_query *q,
                      struct hq_api_result *res);

/* GET /v1/records: records by period, org, kind, device, officer, status. */
unsigned hq_api_records(const struct hq_api_ctx *c, const struct hq_api_query *q,
                        struct hq_api_result *res);

/* GET /v1/records/ID: a record, every revision with its batch (sha256,
 * receipt), its device and the batch signature checked again now; each
 * revision's display.changes lists what it changed from the one before
 * (hq_display_changes).  "attachments" lists the files the current
 * revision names (hq_attview_record): held, with their EXIF time and place
 * beside the record's own, or still on their way. */
unsigned hq_api_record(const struct hq_api_ctx *c, const char *id, struct hq_api_result *res);

/* GET /v1/devices: the day-end view, per device (see hq_api_devices). */
unsigned hq_api_devices_get(const struct hq_api_ctx *c, const struct hq_api_query *q,
                            struct hq_api_result *res);

/*
 * The devices within org (NULL: all) as JSON: per device its unit, label,
 * status, last contact, batches received, last seq, the seqs missing below
 * it (as ranges), records held, records rejected, quarantined batches, and
 * pending: what the laptop last reported as not yet sent (null: laptops do
 * not report it yet, so only HQ's own facts are shown), and the files its
 * records name that HQ does not hold yet (attachments_missing, _bytes,
 * _list: hq_attview_device_missing).  For the Devices page and
 * `beatbook-hq devices`.
 */
bb_err hq_api_devices(sqlite3 *db, const bb_catalog *cat, const char *org, enum bb_lang lang,
                      cJSON **out, bb_errbuf *eb);

/* GET /v1/quarantine: rejected records and quarantined batches in scope;
 * state "open" (default: not yet acted on) or "all". */
unsigned hq_api_quarantine(const struct hq_api_ctx *c, const struct hq_api_query *q,
                           struct hq_api_result *res);

/*
 * POST /v1/quarantine/{records|batches}/ID/{release|review}: an HQ
 * reviewer's action, audited.  release (records only) validates the
 * revision again as a merge would and, when it now passes, merges it — the
 * record, the revision, the KPI facts, the action and the audit entry in one
 * transaction; an item already acted on is 409, so it happens once.
 */
unsigned hq_api_quarantine_act(const struct hq_api_ctx *c, const char *item, int64_t id,
                               const char *action, const char *note,
                               struct hq_api_result *res);

/*
 * CSV of a list answer (`what`: "records" and "kpi-records": the record
 * envelope, then a column "data.FIELD" per field found; "devices";
 * "quarantine"; "kpi": a row per KPI as the Part 4 table reads, then the
 * weighted score): UTF-8 with a BOM and CRLF line ends, every cell quoted,
 * and a cell that a spreadsheet would execute (starting with = + @, a tab
 * or a CR, or a '-' not followed by a plain number such as 0.5%) prefixed
 * with an apostrophe; -0.5% stays as it is.  The header row is in lang
 * (類別, 狀態（代碼）, a data field's label) unless codes is set
 * (header=codes: kind, status, data.segment, data.segment_label).  The CSV is for people in a spreadsheet, so every coded
 * column keeps its code and is followed by a column "NAME_label" with its
 * display text in lang: status_label (已完成), occurred_at_label
 * (107/03/15 16:30), data.segment_label (name (code)), for enum, ref,
 * boolean, datetime and geo fields; the JSON export is the answer as it is.
 * Returns malloc'd text and its length, or NULL when out of memory.
 */
char *hq_api_csv(const cJSON *answer, const char *what, enum bb_lang lang, int codes,
                 size_t *len);

/*
 * GET /api/attachments/SHA (and /thumb): whether the caller may fetch the
 * file: HQ holds it and a record within the caller's scope names it (any
 * merged revision).  200 and *f filled; 400 for a hash that is not 64
 * lowercase hex; 404 otherwise — also for a file only other precincts'
 * records name, exactly as for one that does not exist.
 */
unsigned hq_api_attachment(const struct hq_api_ctx *c, const char *sha,
                           struct hq_attview_file *f, struct hq_api_result *res);

/* Audit an export (who, what, how many rows). */
void hq_api_audit_export(const struct hq_api_ctx *c, const char *what, const char *format,
                         size_t rows);

#endif
