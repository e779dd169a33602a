/*
 * hq_merge — the write side of ingest: the seq/prev chain, quarantine of
 * batches from revoked devices, and the merge of a whole batch in ONE
 * SQLite transaction (docs/PROTOCOL.md `POST /v1/batches`, steps 5, 6, 8).
 *
 * Merge, per record revision, in the batch's order:
 *   - bb_record_validate with the embedded catalog; a draft never syncs;
 *     `device` must be the batch's device; `org_unit` must lie within the
 *     device's precinct (its unit's ancestor of level precinct, or the unit
 *     itself when it lies above or outside every precinct);
 *   - the same id + rev already stored: identical canonical bytes →
 *     "duplicate", different → "rejected";
 *   - an id first created by another device, or of another kind → "rejected";
 *   - else "merged": the revision is kept in `revisions`, and it becomes the
 *     current state in `records` when its rev is the highest.
 * Rejected revisions go to `quarantined_records` with the reason.  The
 * batch row (bytes, seq, prev, sha256, counts, the signed receipt exactly
 * as sent), an audit entry and the device's last contact and seq are
 * written in the same transaction.  A crash leaves all of it or none.
 *
 * Errors: bb_err from SQLite or signing (the caller answers 500/503);
 * protocol outcomes (409, an idempotent 201) are answers, not errors.
 */
#ifndef HQ_MERGE_H
#define HQ_MERGE_H

#include <stdint.h>
#include <sqlite3.h>
#include "bb_batch.h"
#include "bb_err.h"
#include "hq_answer.h"
#include "hq_home.h"
#include "hq_store.h"

enum hq_seq_state {
    HQ_SEQ_NEW = 0,         /* not received: go on */
    HQ_SEQ_SAME,            /* this very batch was received: *receipt holds its receipt */
    HQ_SEQ_CONFLICT,        /* this seq was received with other bytes */
    HQ_SEQ_BROKEN_PREV,     /* prev is not the SHA-256 of the stored batch seq - 1 */
    HQ_SEQ_BROKEN_NEXT      /* the stored batch seq + 1 does not name this one as prev */
};

/*
 * Where batch (device, seq, prev, sha256) stands against what is stored.
 * With HQ_SEQ_SAME, *receipt is the stored receipt (malloc'd; caller frees).
 */
bb_err hq_merge_check_seq(sqlite3 *db, const char *device, int64_t seq, const char *prev,
                          const char *sha256, enum hq_seq_state *state, char **receipt,
                          bb_errbuf *eb);

/*
 * The answer for a state other than HQ_SEQ_NEW: 201 with the stored receipt
 * (takes over *receipt), or 409 seq_conflict / chain_broken.
 */
void hq_merge_seq_answer(enum hq_seq_state state, int64_t seq, char **receipt,
                         struct hq_answer *ans);

/*
 * Keep a verified batch of a revoked device in quarantine (once per
 * sha256), with an audit entry, in one transaction.
 */
bb_err hq_merge_quarantine_batch(sqlite3 *db, const struct bb_batch_view *view,
                                 const char *sha256, const char *source, const char *reason,
                                 bb_errbuf *eb);

struct hq_batch_in {
    const struct bb_batch_view *view;      /* parsed and verified */
    const struct hq_device *device;        /* its device (active) */
    const char *sha256;                    /* of the whole file */
    const char *records_json;              /* decrypted: a JSON array of count objects */
    size_t records_len;
    const char *source;                    /* "https" or "import" */
};

/*
 * Merge one batch (see above).  On success ans is 201 with the new receipt,
 * or — when the same batch was merged meanwhile by another request — the
 * stored one, or a 409 when the chain changed meanwhile.
 */
bb_err hq_merge_batch(struct hq_home *h, sqlite3 *db, const struct hq_batch_in *in,
                      struct hq_answer *ans, bb_errbuf *eb);

/* The unit a device's records must lie within (its precinct; see above). */
const char *hq_merge_scope(const bb_catalog *cat, const char *unit);

#endif
