/*
 * hq_reference — the reference data HQ publishes to the laptops: the signed
 * reference bundle of shared/bb_refbundle.h, served at GET /v1/reference
 * (docs/PROTOCOL.md) and changed with `beatbook-hq reference set|unset`.
 *
 * What HQ publishes is the data compiled into the binary (schema/records,
 * schema/reference), with whatever `reference set` stored in its place in
 * hq.db (table reference_data: a whole list, or one kind's definition), and
 * the current plan (the stored plan of the latest year; the built-in one
 * when none is stored).  Every published bundle is kept in
 * reference_bundles: a bundle is signed once, when its content first
 * appears, with an issued_at later than every earlier bundle's, and served
 * byte for byte from then on — so its ETag (the version) and its signature
 * stay the same across restarts.
 *
 * `beatbook-hq serve` publishes once at start (hq_reference_publish), brings
 * its own catalog up to the bundle (hq_reference_apply: HQ validates
 * incoming records against exactly what it told the laptops) and serves
 * that bundle until it stops.  A change made with `reference set` while it
 * runs is published at once in hq.db and served after the next start.
 *
 * Changes are checked before anything is stored: the list or kind itself,
 * the whole bundle it makes (every kind and list loads), and every stored
 * plan still loads against it (a plan naming a listed segment that a new
 * list drops is refused).  One transaction stores the change, the new
 * bundle and an audit entry, or nothing.
 *
 * Errors: bb_err with a message in eb; BB_ERR_INVALID for a bad file (the
 * message names the place), BB_ERR_USAGE for an unknown list, BB_ERR_NOTFOUND
 * for unsetting what is not set; SQLite errors as bb_db_err translates them.
 */
#ifndef HQ_REFERENCE_H
#define HQ_REFERENCE_H

#include <stddef.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"
#include "bb_refbundle.h"
#include "hq_answer.h"
#include "hq_keys.h"

/* A published bundle.  body is malloc'd; hq_reference_clear frees it. */
struct hq_reference {
    char version[BB_REFBUNDLE_VERSION_SIZE];
    char issued_at[32];
    char *body;               /* the signed bundle, canonical JSON */
    size_t len;
};

void hq_reference_clear(struct hq_reference *r);

/* The content HQ would publish now (see above), checked; caller cJSON_Deletes. */
bb_err hq_reference_content(sqlite3 *db, cJSON **out, bb_errbuf *eb);

/*
 * The catalog of that content (caller bb_catalog_frees): what commands other
 * than serve (import, plan load) should validate against, so that they agree
 * with what the laptops are told.
 */
bb_err hq_reference_catalog(sqlite3 *db, bb_catalog **out, bb_errbuf *eb);

/*
 * The bundle of the current content: the latest published one when its
 * version matches, else a new one signed with k and stored (one
 * transaction).  *issued (may be NULL): 1 when a new bundle was signed.
 */
bb_err hq_reference_publish(struct hq_keys *k, sqlite3 *db, struct hq_reference *r,
                            int *issued, bb_errbuf *eb);

/* The latest published bundle; BB_ERR_NOTFOUND when none yet. */
bb_err hq_reference_latest(sqlite3 *db, struct hq_reference *r, bb_errbuf *eb);

/* Verify r with HQ's own key and bring cat up to it (bb_refbundle_apply). */
bb_err hq_reference_apply(struct hq_keys *k, const struct hq_reference *r, bb_catalog *cat,
                          bb_errbuf *eb);

/*
 * The answer to GET /v1/reference: 200 with the bundle, or 304 without a
 * body when if_none_match (the request header, may be NULL) names its
 * ETag (or is "*"); both with ETag and Cache-Control: no-cache.
 */
void hq_reference_answer(const struct hq_reference *r, const char *if_none_match,
                         struct hq_answer *a);

/*
 * Store len bytes of JSON as list `what` ("units", "intersections",
 * "segments", "bikepaths") or, with what "kind", as a kind's definition;
 * then publish.  origin names the file in messages.  On success r holds the
 * new bundle (r may be NULL).
 */
bb_err hq_reference_set(struct hq_keys *k, sqlite3 *db, const char *what, const char *json,
                        size_t len, const char *origin, struct hq_reference *r, bb_errbuf *eb);

/* Drop what `set` stored for list `what` (name NULL) or kind `name` (what
 * "kind"): back to the built-in data; then publish. */
bb_err hq_reference_unset(struct hq_keys *k, sqlite3 *db, const char *what, const char *name,
                          struct hq_reference *r, bb_errbuf *eb);

/* What `set` stored: [{"what","name","sha256","source","set_at"}]. */
bb_err hq_reference_stored(sqlite3 *db, cJSON **out, bb_errbuf *eb);

#endif
