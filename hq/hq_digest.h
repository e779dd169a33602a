/*
 * hq_digest — proof of agreement with a laptop (docs/FORMATS.md §2
 * "Agreement digests", docs/PROTOCOL.md `POST /v1/devices/digests`): HQ's
 * digests of a device's records per (kind, Taipei day) (shared/bb_agree.h),
 * and on request the records behind some of them, signed by HQ.
 *
 * The request is signed by the device (context "beatbook digest request v1"):
 *   {"v":1,"device","device_key","counter","clock","nonce","want":[{"kind","day"}],"sig"}
 *   400 malformed; 401 unknown_device / wrong_key / bad_signature;
 *   403 device_revoked; 409 replayed (counter not greater than the last
 *   request's); 200 the signed answer (context "beatbook digests v1"):
 *   {"v":1,"device","nonce","as_of","count","digests":[..],"records":[..],
 *    "hq_sign_key","sig"}
 * `beatbook-hq export-receipts` writes the same answer, with every record and
 * "nonce": null, as DEVICE.digests.json for a laptop without network.
 */
#ifndef HQ_DIGEST_H
#define HQ_DIGEST_H

#include <stddef.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "hq_answer.h"
#include "hq_home.h"

#define HQ_DIGEST_MAX_BYTES 65536
#define HQ_DIGEST_MAX_WANT 500

/* The signed answer for device as canonical JSON (*out, caller frees): nonce may be
 * NULL; records of the groups in want, of every group when all. */
bb_err hq_digest_build(struct hq_home *h, sqlite3 *db, const char *device, const char *nonce,
                       const cJSON *want, int all, char **out, bb_errbuf *eb);

/* Handle one request body; always fills ans. */
void hq_digest_request(struct hq_home *h, sqlite3 *db, const char *body, size_t len,
                       struct hq_answer *ans);

#endif
