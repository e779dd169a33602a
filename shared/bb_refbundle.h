/*
 * bb_refbundle — the signed reference bundle (DESIGN.md §3, §6;
 * docs/FORMATS.md §2): HQ's reference data — org units, listed
 * intersections and road segments, bike paths, every record kind's
 * definition and the current plan — in one document that HQ signs and
 * serves at GET /v1/reference, beatbook-syncd fetches and keeps in field.db,
 * and beatbook validates against.  Kinds are data: a new field or a new
 * listed segment reaches the laptops as a new bundle, not a new binary.
 *
 *   {"v":1,"version":"<64 hex>","issued_at":"2018-03-15T18:00:02+08:00",
 *    "units":[..],"intersections":[..],"segments":[..],"bikepaths":[..],
 *    "kinds":[<kind definition>, ...],           sorted by "kind"
 *    "plan":<plan JSON>|null,"hq_sign_key":"<kid>","sig":"<base64>"}
 *
 *  - The four lists are the arrays of schema/reference/<list>.json; each
 *    kind is the object of schema/records/<kind>.json.
 *  - "version" is the lowercase hex SHA-256 of the canonical JSON of the
 *    bundle without "version", "issued_at", "hq_sign_key" and "sig": the
 *    same content always has the same version (it is the HTTP ETag), and any
 *    change of content changes it.
 *  - "issued_at" (RFC 3339) is when HQ first published this content; HQ
 *    makes it later than every bundle it published before, so a device can
 *    refuse an older bundle (no rollback to data HQ has replaced).
 *  - "sig": bb_sigdoc with context BB_CTX_REFERENCE by HQ's signing key.
 *
 * Building (HQ): bb_refbundle_content_embedded() gives the content compiled
 * into the binary; bb_refbundle_put_list/put_kind/put_plan replace parts of
 * it (each checked as it goes in); bb_refbundle_check() loads the whole
 * into a fresh catalog; bb_refbundle_stamp() adds version, issued_at and
 * the key id, after which the caller signs (bb_refbundle_sign does both).
 *
 * Using (device): bb_refbundle_open() checks size, form, key id, signature
 * and version, and that every kind and list loads; only then may
 * bb_refbundle_apply() bring a catalog up to the bundle.  A bundle that
 * fails any check is refused whole: nothing of it is used.
 *
 * The device keeps one bundle in field.db (table `reference`, migration
 * schema/migrations/collector/004_reference.sql); the bb_refbundle_stored_*
 * functions use the caller's handle and verify with HQ's signing key from
 * the store's enrollment every time a stored bundle is read, so a stored
 * bundle that was altered is never used.
 *
 * Ownership: a bb_refbundle owns its parsed tree and canonical text; free
 * with bb_refbundle_free (NULL is a no-op).  cJSON trees from the content
 * functions are the caller's (cJSON_Delete).
 *
 * Errors: BB_ERR_TOOBIG (over BB_REFBUNDLE_MAX), BB_ERR_INVALID (malformed,
 * wrong key id, version does not match, a kind or list does not load; the
 * message names the part), BB_ERR_CRYPTO (signature: "authentication
 * failed"), BB_ERR_CONFLICT (older than the bundle the device has),
 * BB_ERR_NOTFOUND (no stored bundle), BB_ERR_STATE (store not enrolled),
 * SQLite errors as bb_db_err translates them, BB_ERR_NOMEM.
 */
#ifndef BB_REFBUNDLE_H
#define BB_REFBUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"
#include "bb_sign.h"

#define BB_REFBUNDLE_V 1
#define BB_REFBUNDLE_MAX ((size_t)16 * 1024 * 1024)   /* bytes of a bundle */
#define BB_REFBUNDLE_VERSION_SIZE 65                   /* 64 hex + NUL */
#define BB_REFBUNDLE_MAX_KINDS 200

/* ---- Building (HQ) ----------------------------------------------------- */

/*
 * The content compiled into this binary: {"v":1, the four lists, every
 * kind of schema/records/, "plan": the first file of schema/plans/ or null}.
 */
bb_err bb_refbundle_content_embedded(cJSON **out, bb_errbuf *eb);

/*
 * Replace list `list` ("units", "intersections", "segments", "bikepaths")
 * with the array of a list file (len bytes of JSON {"<list>": [...], ...}).
 * The file is checked as bb_catalog_set_list checks it; on error the
 * content is unchanged.
 */
bb_err bb_refbundle_put_list(cJSON *content, const char *list, const char *json, size_t len,
                             const char *origin, bb_errbuf *eb);

/* Add or replace (by its "kind") a kind definition, checked as
 * bb_catalog_add_kind checks it.  *name (may be NULL) gets the kind's name,
 * pointing into the content. */
bb_err bb_refbundle_put_kind(cJSON *content, const char *json, size_t len, const char *origin,
                             const char **name, bb_errbuf *eb);

/* Set "plan" to a JSON object (json NULL: null). */
bb_err bb_refbundle_put_plan(cJSON *content, const char *json, size_t len, const char *origin,
                             bb_errbuf *eb);

/*
 * Check that content is a complete bundle content and that every kind and
 * list loads into an empty catalog.  With out not NULL, that catalog is
 * returned (caller frees with bb_catalog_free).
 */
bb_err bb_refbundle_check(const cJSON *content, bb_catalog **out, bb_errbuf *eb);

/* The version of a bundle or content (see above). */
bb_err bb_refbundle_version(const cJSON *doc, char out[BB_REFBUNDLE_VERSION_SIZE],
                            bb_errbuf *eb);

/* Set "version", "issued_at" and "hq_sign_key" (removes any "sig"); the
 * caller then signs with bb_sigdoc_sign(doc, BB_CTX_REFERENCE, key). */
bb_err bb_refbundle_stamp(cJSON *doc, const char *issued_at, const char *hq_sign_key,
                          bb_errbuf *eb);

/* bb_refbundle_stamp, then sign with key. */
bb_err bb_refbundle_sign(cJSON *doc, const char *issued_at, const bb_sign_key *key,
                         bb_errbuf *eb);

/* ---- Using (device) ------------------------------------------------------ */

typedef struct bb_refbundle bb_refbundle;

/*
 * Parse and verify len bytes of a bundle with HQ's signing key (hq_key,
 * whose key id is hq_kid): size, JSON form, "v", the key id, the
 * signature, the version, issued_at, and that every kind and list loads
 * (bb_refbundle_check).
 */
bb_err bb_refbundle_open(const char *text, size_t len, const bb_sign_key *hq_key,
                         const char *hq_kid, bb_refbundle **out, bb_errbuf *eb);
void bb_refbundle_free(bb_refbundle *b);

const char *bb_refbundle_version_of(const bb_refbundle *b);
const char *bb_refbundle_issued_at(const bb_refbundle *b);
int64_t bb_refbundle_issued_unix(const bb_refbundle *b);
/* The bundle as canonical JSON (what is stored), NUL-terminated; owned by b
 * (made on first call; NULL only when out of memory). */
const char *bb_refbundle_text(const bb_refbundle *b, size_t *len);
const cJSON *bb_refbundle_doc(const bb_refbundle *b);

/*
 * May b replace a bundle of version have_version issued at have_issued
 * (Unix seconds)?  BB_OK when have_version is NULL (none), equal to b's
 * version, or b was issued later; else BB_ERR_CONFLICT saying so.
 */
bb_err bb_refbundle_newer(const bb_refbundle *b, const char *have_version,
                          int64_t have_issued, bb_errbuf *eb);

/*
 * Bring cat up to b: every kind of b added or replaced, every list
 * replaced.  b was checked by bb_refbundle_open, so this fails only when
 * memory runs out (then cat may be partly updated and must be dropped).
 */
bb_err bb_refbundle_apply(const bb_refbundle *b, bb_catalog *cat, bb_errbuf *eb);

/* ---- The device's stored bundle (field.db) -------------------------------- */

struct bb_refbundle_stored {
    char version[BB_REFBUNDLE_VERSION_SIZE];
    char issued_at[32];
    int64_t issued_unix;
    char fetched_at[32];      /* when this bundle was stored */
    char checked_at[32];      /* the last time HQ was asked (200 or 304) */
};

/* HQ's signing key and its key id from the store's enrollment (caller
 * frees *key).  BB_ERR_STATE when the store is not enrolled. */
bb_err bb_refbundle_hq_key(sqlite3 *db, bb_sign_key **key, char kid[BB_KEY_ID_SIZE],
                           bb_errbuf *eb);

/* What is stored, unverified.  BB_ERR_NOTFOUND when nothing is (or the
 * store predates the table). */
bb_err bb_refbundle_stored_info(sqlite3 *db, struct bb_refbundle_stored *s, bb_errbuf *eb);

/* The stored bundle, verified with the enrollment's key (bb_refbundle_open).
 * BB_ERR_NOTFOUND when there is none. */
bb_err bb_refbundle_stored_load(sqlite3 *db, bb_refbundle **out, bb_errbuf *eb);

/*
 * Store b (already verified) in one transaction at time now: refused with
 * BB_ERR_CONFLICT when the stored bundle verifies and is newer than b
 * (bb_refbundle_newer); the same version only notes checked_at.  *changed
 * (may be NULL): 1 when b replaced what was stored.
 */
bb_err bb_refbundle_stored_save(sqlite3 *db, const bb_refbundle *b, int64_t now, int *changed,
                                bb_errbuf *eb);

/* Note that HQ was asked at time now and had nothing newer (HTTP 304). */
bb_err bb_refbundle_stored_touch(sqlite3 *db, int64_t now, bb_errbuf *eb);

/*
 * For `beatbook status`: {"source":"hq","version","issued_at","fetched_at",
 * "checked_at"} when a stored bundle verifies, {"source":"built-in"} when
 * there is none, and {"source":"built-in","ignored":{version..,"error":..}}
 * when the stored one does not verify.  Caller cJSON_Deletes.
 */
bb_err bb_refbundle_stored_summary(sqlite3 *db, cJSON **out, bb_errbuf *eb);

#endif
