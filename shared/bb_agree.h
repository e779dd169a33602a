/*
 * bb_agree — proof that HQ and a laptop hold the same records (docs/FORMATS.md
 * §2 "Agreement digests"): per (kind, Taipei day of occurred_at) an
 * order-independent digest of each record's (id, rev, SHA-256 of its
 * canonical body), computed the same way on both sides from their current
 * state, so that two sets agree exactly when every digest and count does.
 *
 *   line   = id "\n" rev (decimal) "\n" sha256 hex of the canonical body
 *   digest = XOR over the group's records of SHA-256(line), 64 lowercase hex
 *
 * (A record id appears once per side, so XOR never cancels two entries.)
 * Errors: BB_ERR_NOMEM; BB_ERR_INVALID for a time outside the calendar.
 */
#ifndef BB_AGREE_H
#define BB_AGREE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_err.h"

typedef struct bb_agree bb_agree;

bb_err bb_agree_new(bb_agree **out);
void bb_agree_free(bb_agree *a);

/* Add one record's current revision (body: its canonical JSON). */
bb_err bb_agree_add(bb_agree *a, const char *kind, int64_t occurred_unix, const char *id,
                    int64_t rev, const char *body, size_t len, bb_errbuf *eb);

/* The same with the SHA-256 (64 lowercase hex) of the body already known: a record
 * the laptop purged keeps only that (collector migration 005). */
bb_err bb_agree_add_hashed(bb_agree *a, const char *kind, int64_t occurred_unix,
                           const char *id, int64_t rev, const char *sha256_hex, bb_errbuf *eb);

/* [{"kind","day":"2018-03-15","count","digest"}], sorted by kind then day; NULL: no memory. */
cJSON *bb_agree_digests(bb_agree *a);

/* [{"kind","day","id","rev","sha256"}] of the groups named in want
 * ([{"kind","day"}]), or of every group when want is NULL; sorted. */
cJSON *bb_agree_records(bb_agree *a, const cJSON *want);

#endif
