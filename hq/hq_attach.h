/*
 * hq_attach — photos and files on records, HQ's side (docs/FORMATS.md §5,
 * docs/PROTOCOL.md "Attachments"): the head of an upload, its chunks, the
 * content-addressed store, and which merged revision names which file.
 *
 * Like hq_ingest for batches, these functions are the whole of
 * `POST /v1/attachments` and `PUT /v1/attachments/<sha256>/<i>` without the
 * HTTP: the server and `beatbook-hq import` (*.bba files on a USB stick) call
 * the same ones, so a file carried by hand is checked exactly like one sent.
 *
 * On disk, beside hq.db (folders 0700, files 0600, opened O_NOFOLLOW):
 *   <data>/attachments/<first 2 hex>/<sha256>      complete, hash verified
 *   <data>/attachments/partial/<device>.<sha256>   an upload in progress
 *
 * Durability, in this order, so that a kill -9 anywhere leaves a state the
 * next try continues from: a chunk's row is inserted only after its bytes
 * are fdatasync'ed; the completed file is hashed, fsynced, renamed into the
 * store and the folder fsynced before its attachments row and the receipt
 * are committed.  Completion runs under BEGIN IMMEDIATE, so of two final
 * chunks arriving together exactly one moves the file and writes the rows.
 * A head or chunk that finds every chunk held but no file stored (a crash
 * between the rename and the commit) completes the upload itself.
 *
 * Errors: answers (status + JSON body, hq_answer.h) for protocol outcomes;
 * bb_err for the functions that do not answer.  Store errors answer 503/500
 * (hq_ingest_store_error); a full disk answers 507 with Retry-After.
 */
#ifndef HQ_ATTACH_H
#define HQ_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_attach.h"
#include "bb_catalog.h"
#include "hq_answer.h"
#include "hq_home.h"

#define HQ_ATTACH_DIR "attachments"
#define HQ_ATTACH_PARTIAL_DIR "attachments/partial"

struct hq_attach_opts {
    const char *source;          /* "https" or "import" (audited) */
    /*
     * Optional: asked once the request has proven it comes from the device
     * (a head whose signature holds, a chunk that authenticates), with the
     * device id.  Return 0 to go on, or the seconds to wait (→ 429).
     */
    unsigned (*admit)(void *ctx, const char *device);
    void *admit_ctx;
};

/*
 * POST /v1/attachments: len bytes that must be exactly one head.  In
 * protocol order: size 413 too_large (400 empty_body), container 400
 * malformed_attachment, device 401 unknown_device / not_registered,
 * signature 401 bad_signature, revoked 403 device_revoked (nothing stored),
 * rate 429, hq_key 400 wrong_hq_key, naming 409 not_named.  Then 200 with
 * the device's signed receipt when HQ holds the file (ans->outcome
 * HQ_OUT_DUPLICATE), or 200 {"state":"partial","chunks":k,"have":[[a,b],..]}
 * (HQ_OUT_OK) after keeping the upload (a head with another header for the
 * same device and file starts it over).  Always fills ans.
 */
void hq_attach_head(struct hq_home *h, sqlite3 *db, const uint8_t *buf, size_t len,
                    const struct hq_attach_opts *opts, struct hq_answer *ans);

/*
 * PUT /v1/attachments/<sha256>/<index>: sealed chunk `index` of device's
 * upload of sha256.  404 no_upload, 403 device_revoked (the upload is
 * dropped), 416 out_of_range, 400 bad_length, 400 bad_chunk (nothing
 * written), 429, 507 insufficient_storage (not noted; try again), 200
 * {"state":"partial",..} after the chunk is durable (a chunk already held is
 * not written again), and — for the chunk that completes the file — 201
 * with the signed receipt (HQ_OUT_MERGED), or 422 hash_mismatch when the
 * whole file is not the head's SHA-256 (the upload is discarded).
 */
void hq_attach_chunk(struct hq_home *h, sqlite3 *db, const char *device, const char *sha256,
                     int64_t index, const uint8_t *buf, size_t len,
                     const struct hq_attach_opts *opts, struct hq_answer *ans);

/*
 * Note which files a merged revision names: one record_attachments row per
 * value of each attachment field of its kind (rec is the validated record,
 * its device the revision's).  Every merge path calls this in the merge's
 * transaction (hq_merge for batches, the quarantine release), so the rows
 * exist exactly when the revision does.  A revision naming none writes
 * nothing.
 */
bb_err hq_attach_link_revision(sqlite3 *db, const bb_catalog *cat, const cJSON *rec,
                               bb_errbuf *eb);

/* The path of a stored file (whether or not it exists). */
bb_err hq_attach_stored_path(const struct hq_home *h, const char *sha256, char *out,
                             size_t size, bb_errbuf *eb);

#endif
