/*
 * hq_ingest — one sealed batch in, one answer out: the whole of
 * `POST /v1/batches` (docs/PROTOCOL.md) without the HTTP.  The server and
 * `beatbook-hq import` both call hq_ingest, so a batch that travels on a USB
 * stick is checked and merged exactly like one that came over HTTPS.
 *
 * Order of checks, stopping at the first failure; nothing is decrypted
 * before the signature holds, nothing is stored unless the batch is merged
 * or quarantined:
 *   1. size               413 too_large (400 empty_body)
 *   2. container          400 malformed_batch (bb_batch_parse)
 *   3. device             401 unknown_device / not_registered
 *   4. signature          401 bad_signature (bb_batch_verify)
 *   5. revoked device     403 device_revoked, batch kept in quarantine
 *      (rate limit)       429 rate_limited, when opts->admit says so
 *   6. seq/prev           201 stored receipt | 409 seq_conflict | 409 chain_broken
 *   7. decrypt            400 undecryptable (bb_batch_decrypt)
 *   8. merge              201 signed receipt (hq_merge)
 * Store failures answer 503 store_busy (locked; Retry-After) or 500 internal; the
 * cause is logged, never sent.
 */
#ifndef HQ_INGEST_H
#define HQ_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "hq_answer.h"
#include "hq_home.h"

struct hq_ingest_opts {
    const char *source;          /* "https" or "import" (stored and audited) */
    size_t max_bytes;            /* the size cap (<= BB_BATCH_MAX) */
    /*
     * Optional: asked once the signature holds, with the device id.
     * Return 0 to go on, or the seconds the device should wait (→ 429).
     */
    unsigned (*admit)(void *ctx, const char *device);
    void *admit_ctx;
};

/* Ingest len bytes; always fills ans (hq_answer_init'ed by the caller). */
void hq_ingest(struct hq_home *h, sqlite3 *db, const uint8_t *buf, size_t len,
               const struct hq_ingest_opts *opts, struct hq_answer *ans);

/* Answer 503 (busy, Retry-After) or 500 for a store error, and log the cause. */
void hq_ingest_store_error(struct hq_answer *ans, bb_err err, const char *what,
                           const bb_errbuf *eb);

#endif
