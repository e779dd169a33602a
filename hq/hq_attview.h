/*
 * hq_attview — attachments as the review side reads them from hq.db
 * (schema/migrations/hq/006_attachments.sql): record_attachments (which
 * merged revision names which file, written at merge) joined with
 * attachments (the files HQ holds, with the EXIF time and place read when
 * stored).  For the record page, the Devices page, the fetch of a file by
 * its hash and the ZIP export.  No HTTP and no scope here: hq_api decides
 * who may ask (hq_api_attachment); these calls only read.  Every query is a
 * prepared statement with bound parameters.
 *
 * Errors: BB_ERR_NOTFOUND (hq_attview_lookup: no record in scope names it),
 * the store's errors (bb_db), BB_ERR_NOMEM.
 */
#ifndef HQ_ATTVIEW_H
#define HQ_ATTVIEW_H

#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_attach.h"
#include "bb_catalog.h"
#include "bb_err.h"

/* EXIF further than this from the record's own time or place: the page says so. */
#define HQ_ATTVIEW_TIME_NOTE_S 3600
#define HQ_ATTVIEW_PLACE_NOTE_KM 1.0
#define HQ_ATTVIEW_DEVICE_LIST_MAX 200     /* missing files listed per device */

/*
 * The attachments revision `rev` of record `id` names, in the order of the
 * kind's fields and of each field's value (rec: that revision's body):
 *   {"items": [{"field", "sha256", "name", "type", "size", "stored": bool,
 *               "stored_at", "url", "thumb" (null: no thumbnail),
 *               "exif": {"time", "lat", "lon"} or null,
 *               "notes": [{"code": "time_differs", "seconds": n} |
 *                         {"code": "place_differs", "km": x}],
 *               "display": {"field", "size", "exif_time", "exif_place",
 *                           "notes": [pair]}}],
 *    "stored": n, "pending": {"photos": n, "files": n, "bytes": n},
 *    "display": {"pending": pair or null, "record_time": pair or null,
 *                "record_place": pair ("24.147700, 120.673600") or null}}
 * "pending" counts the files named but not yet held at HQ
 * ("2 張照片傳送中" / "2 photos on their way").
 */
bb_err hq_attview_record(sqlite3 *db, const bb_catalog *cat, const char *id, int64_t rev,
                         const cJSON *rec, cJSON **out, bb_errbuf *eb);

/* A stored file one may fetch: what the answer needs. */
struct hq_attview_file {
    char sha256[BB_SHA256_HEX_SIZE];
    char type[BB_ATTACH_TYPE_MAX];
    int64_t size;
    char name[BB_ATTACH_NAME_MAX + 1];   /* a display name a record gave it ("" if none) */
};

/*
 * Whether HQ holds sha and a record within scope (org unit `root` and the
 * units under it; NULL: every unit) names it in any merged revision.
 * BB_ERR_NOTFOUND otherwise — whether the file is absent, pending, or only
 * named by records outside the scope: the caller cannot tell which.
 */
bb_err hq_attview_lookup(sqlite3 *db, const bb_catalog *cat, const char *root, const char *sha,
                         struct hq_attview_file *f, bb_errbuf *eb);

/*
 * Add to device object d what its merged records (their current revisions)
 * name that HQ does not hold yet:
 *   "attachments_missing": n, "attachments_missing_bytes": n,
 *   "attachments_missing_list": [{"sha256", "type", "size", "name",
 *                                 "record_id"}] (at most
 *   HQ_ATTVIEW_DEVICE_LIST_MAX; "attachments_missing_truncated" says so),
 *   display.attachments_missing: pair ("2 個附件未到（3.1 MB）") or null.
 */
bb_err hq_attview_device_missing(sqlite3 *db, const char *device, cJSON *d, bb_errbuf *eb);

/*
 * Every file the listed records (items of a records answer: "id" and "rev")
 * name, once each, by sha256:
 *   [{"sha256", "type", "size", "name", "stored": bool, "records": [id]}]
 */
bb_err hq_attview_for_records(sqlite3 *db, const cJSON *items, cJSON **out, bb_errbuf *eb);

#endif
