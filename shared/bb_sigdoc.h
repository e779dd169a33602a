/*
 * bb_sigdoc — signed JSON documents (docs/FORMATS.md §2): enrollment files,
 * device registrations and their answers, batch receipts, reference bundles.
 *
 * The signature is ECDSA P-256 (r||s, base64 in the member "sig") over
 *     context || 0x00 || canonical JSON of the object without "sig"
 * so a signature made for one document type never verifies as another.
 *
 * Errors: BB_ERR_INVALID (not an object, "sig" missing or malformed),
 * BB_ERR_CRYPTO (signature does not verify: "authentication failed"),
 * BB_ERR_NOMEM.
 */
#ifndef BB_SIGDOC_H
#define BB_SIGDOC_H

#include <cjson/cJSON.h>
#include "bb_err.h"
#include "bb_sign.h"

#define BB_CTX_ENROLLMENT "beatbook enrollment v1"
#define BB_CTX_REGISTER   "beatbook register v1"
#define BB_CTX_REGISTERED "beatbook registered v1"
#define BB_CTX_RECEIPT    "beatbook receipt v1"
#define BB_CTX_REFERENCE  "beatbook reference v1"
#define BB_CTX_STATUS     "beatbook status v1"
#define BB_CTX_DIGEST_REQ "beatbook digest request v1"
#define BB_CTX_DIGESTS    "beatbook digests v1"
#define BB_CTX_ATTACH_RECEIPT "beatbook attachment receipt v1"

/* Sign doc in place: removes any "sig", then adds the new one. */
bb_err bb_sigdoc_sign(cJSON *doc, const char *context, const bb_sign_key *key,
                      bb_errbuf *eb);

/* Verify doc's "sig" with key under context.  doc is not modified. */
bb_err bb_sigdoc_verify(const cJSON *doc, const char *context, const bb_sign_key *key,
                        bb_errbuf *eb);

#endif
