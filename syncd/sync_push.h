/*
 * sync_push — one sync pass of beatbook-syncd (docs/PROTOCOL.md, "Device
 * behaviour"): seal what is waiting, register the laptop with HQ if it is
 * not yet, then POST every unacknowledged batch in seq order and act on
 * each answer:
 *
 *   201 + a receipt that verifies   acknowledged (bb_outbox_ack)
 *   400 401 403 409 413             refused for good: the batch is marked
 *                                   rejected with a plain explanation and
 *                                   the pass goes on with the next batch
 *   anything else, or no answer     retry later (429/503 with Retry-After,
 *                                   5xx, a captive portal's 200, TLS or
 *                                   network failure): the pass stops there
 *
 * Then, whenever HQ could be reached, the reference data is brought up to
 * date (sync_reference.h: GET /v1/reference with If-None-Match); its
 * failures are logged and change nothing about the batches or the result.
 *
 * After a pass that acknowledged something, acknowledged data older than
 * the retention is purged.  The pass notes its time and error in the store
 * for `beatbook status`.  Log lines: one per event, key=value, never a
 * token or a key.
 */
#ifndef SYNC_PUSH_H
#define SYNC_PUSH_H

#include <stdint.h>
#include <sqlite3.h>
#include "bb_err.h"
#include "bb_outbox.h"
#include "sync_http.h"
#include "sync_progress.h"

struct sync_opts {
    bb_outbox *ob;
    sqlite3 *db;                    /* the store ob is attached to (reference data) */
    const struct bb_outbox_config *conf;
    int tries;                      /* attempts per batch within one pass (>= 1) */
    long max_wait_s;                /* give up a retry that would wait longer */
    struct sync_progress *progress; /* NULL: no bar */
    int want_bar;
    enum bb_lang lang;              /* of messages: eb, and the errors kept for status */
};

struct sync_counts {
    long sealed_batches, sealed_records;
    long sent;                      /* batches POSTed in this pass */
    long acked;                     /* ... and acknowledged */
    long refused;                   /* ... and refused for good */
    long rec_merged, rec_duplicates, rec_rejected;   /* per-record results */
    long purged;                    /* acknowledged batches purged */
    int stopped;                    /* a stop signal ended the pass early */
    int registration_refused;       /* HQ refused to register this laptop */
    int reference;                  /* enum sync_ref_result; -1: not checked */
    long att_sent;                  /* attachment files offered to HQ in this pass */
    long att_stored;                /* ... HQ's receipt stored */
    long att_refused;               /* ... refused for good */
    long att_later;                 /* ... their record not merged at HQ yet */
    long att_chunks;                /* chunks PUT */
    uint64_t att_bytes;             /* ... and their bytes */
    long att_freed;                 /* files freed after the pass */
};

/* HQ's error answer {"error":..,"message":..}, made safe to store and show:
 * printable characters only, the message capped at 300 bytes. */
void sync_hq_message(const struct sync_http_answer *a, char *code, size_t code_n, char *msg,
                     size_t msg_n);

/*
 * One pass.  BB_OK: every batch is acknowledged or refused (or the pass was
 * stopped by a signal: c->stopped).  BB_ERR_UNAVAILABLE or BB_ERR_CRYPTO:
 * something must be retried later, *retry_after holds HQ's hint (seconds,
 * -1 none).  BB_ERR_STATE: HQ refused to register the laptop (or the store
 * is not enrolled), nothing can be sent.  Others: the store failed.
 */
bb_err sync_pass(const struct sync_opts *o, struct sync_counts *c, long *retry_after,
                 bb_errbuf *eb);

#endif
