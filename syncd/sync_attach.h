/*
 * sync_attach — the attachments part of a sync pass (docs/PROTOCOL.md
 * "Attachments"): after the batches, each photo or file whose record HQ
 * has acknowledged and whose receipt the laptop lacks is offered by its
 * head and sent chunk by chunk, only the chunks HQ lacks.
 *
 *   receipt that verifies            stored (bb_outbox_att_ack)
 *   409 not_named                    its record is not merged at HQ yet:
 *                                    the next pass tries again
 *   400 401 403 413 416 422          refused for good, the reason kept for
 *                                    `beatbook status`; the next file goes
 *   anything else, or no answer      retried with backoff within the pass
 *                                    (o->tries), then left for later
 */
#ifndef SYNC_ATTACH_H
#define SYNC_ATTACH_H

#include "bb_err.h"
#include "sync_http.h"
#include "sync_push.h"

/* BB_OK: every file offered is stored, refused or waits for its record.
 * BB_ERR_UNAVAILABLE: something must be retried later (*retry_after). */
bb_err sync_push_attachments(const struct sync_opts *o, sync_http *http, struct sync_counts *c,
                             long *retry_after, bb_errbuf *eb);

#endif
