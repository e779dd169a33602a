/*
 * sync_verify — `beatbook-syncd --verify-hq [--from DIR]`, which `beatbook
 * verify-hq` runs: the proof that HQ holds exactly the records this laptop
 * sent (shared/bb_agree.h, docs/PROTOCOL.md `POST /v1/devices/digests`).
 * HQ's digests per (kind, Taipei day) come signed by HQ, over HTTPS in answer
 * to a request signed by this laptop, or from DEVICE.digests.json on a USB
 * stick written by `beatbook-hq export-receipts`; they are compared with the
 * same digests of this laptop's records whose current revision HQ has
 * acknowledged, and for every group that differs the records behind it.
 */
#ifndef SYNC_VERIFY_H
#define SYNC_VERIFY_H

#include "sync_run.h"

/* Print the comparison on stdout; *agree: 1 when every group agrees. */
bb_err sync_verify(const struct sync_run_opts *o, const char *from, int *agree, bb_errbuf *eb);

#endif
