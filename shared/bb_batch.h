/*
 * bb_batch — the sealed batch container (DESIGN.md §5, docs/FORMATS.md §1).
 *
 *   offset  size  field
 *   0       8     magic "BBATCH\r\n"
 *   8       2     version = 1
 *   10      2     flags = 0
 *   12      4     header_len H   (2 .. BB_BATCH_MAX_HEADER)
 *   16      4     payload_len P  (16 .. BB_BATCH_MAX_PAYLOAD)
 *   20      H     header: canonical JSON, also the HPKE aad
 *   20+H    P     payload: HPKE(X25519, HKDF-SHA256, AES-256-GCM) base-mode
 *                 ciphertext of zstd(canonical JSON array of records)
 *   20+H+P  64    ECDSA P-256 signature (r||s) by the device over
 *                 SHA-256(bytes [0, 20+H+P))
 *
 * Sealing (device): bb_batch_seal() builds the whole file.
 * Opening (HQ) is three calls so that HQ can look the device up between
 * them and so that nothing is ever decrypted before the signature holds:
 *   bb_batch_parse()   lengths, caps, magic, version, header — no crypto;
 *   bb_batch_verify()  the device signature (marks the view verified);
 *   bb_batch_decrypt() refuses an unverified view; HPKE open, zstd with a
 *                      cap, checks the plaintext is an array of `count`.
 *
 * Ownership: bb_batch_seal returns a malloc'd file the caller frees.  A
 * bb_batch_view points into the caller's buffer (which must outlive it);
 * bb_batch_decrypt returns a malloc'd NUL-terminated JSON text.
 *
 * Errors: BB_ERR_TOOBIG (over a cap), BB_ERR_INVALID (malformed; the
 * message says which part), BB_ERR_CRYPTO (bad signature, or decryption
 * failed: "authentication failed"), BB_ERR_STATE (decrypt before verify),
 * BB_ERR_NOMEM.
 */
#ifndef BB_BATCH_H
#define BB_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "bb_err.h"
#include "bb_hpke.h"
#include "bb_sign.h"

#define BB_BATCH_MAGIC "BBATCH\r\n"
#define BB_BATCH_VERSION 1
#define BB_BATCH_FIXED 20                       /* bytes before the header */
#define BB_BATCH_SIG_LEN 64
#define BB_BATCH_MAX_HEADER 16384
#define BB_BATCH_MAX_PAYLOAD ((size_t)64 * 1024 * 1024 + 16)
#define BB_BATCH_MAX (BB_BATCH_FIXED + BB_BATCH_MAX_HEADER + BB_BATCH_MAX_PAYLOAD + BB_BATCH_SIG_LEN)
#define BB_BATCH_MAX_PLAIN ((size_t)256 * 1024 * 1024)   /* decompressed records */
/* Records per batch: bounds the JSON tree HQ builds from one verified batch. */
#define BB_BATCH_MAX_RECORDS 100000
#define BB_BATCH_SUITE "X25519-HKDF-SHA256-AES-256-GCM"
#define BB_BATCH_INFO "beatbook batch v1"
#define BB_SHA256_HEX 65                        /* 64 hex + NUL */

/* The header's fields, as sealed or as parsed. */
struct bb_batch_header {
    char device[80];
    char batch[37];                  /* UUIDv7 */
    int64_t seq;                     /* >= 1 */
    char prev[BB_SHA256_HEX];        /* hex SHA-256 of batch seq-1, or 64 zeros */
    char created_at[32];
    int64_t count;                   /* records in the payload, >= 1 */
    char hq_key[BB_KEY_ID_SIZE];     /* HQ X25519 key id */
    char device_key[BB_KEY_ID_SIZE]; /* device signing key id */
    uint8_t enc[BB_HPKE_ENC_LEN];    /* filled by seal */
};

/*
 * Seal records_json (a canonical JSON array of `hdr->count` record
 * revisions) to HQ's X25519 public key, sign with the device key.
 * hdr->enc is ignored on input (a fresh ephemeral key is made) and
 * hdr->hq_key / device_key must match the keys given.  The header and the
 * records are checked as the opening side checks them (BB_ERR_INVALID):
 * a device never seals a batch HQ would refuse for its form.
 */
bb_err bb_batch_seal(const struct bb_batch_header *hdr, const char *records_json,
                     size_t records_len, const uint8_t hq_pk[BB_HPKE_PK_LEN],
                     const bb_sign_key *device_key, uint8_t **out, size_t *out_len,
                     bb_errbuf *eb);

struct bb_batch_view {
    const uint8_t *buf;
    size_t len;
    const uint8_t *header_bytes;     /* the canonical header, header_len bytes */
    size_t header_len;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *sig;              /* 64 bytes */
    struct bb_batch_header hdr;
    int verified;                    /* set by bb_batch_verify */
};

/* Structure and header only; no cryptography.  On failure *view is zeroed. */
bb_err bb_batch_parse(const uint8_t *buf, size_t len, struct bb_batch_view *view,
                      bb_errbuf *eb);

/* Check the device signature with its registered public key; the signed
 * header's device_key must also be that key's id.  Clears view->verified
 * first and sets it only on success. */
bb_err bb_batch_verify(struct bb_batch_view *view, const bb_sign_key *device_pub,
                       bb_errbuf *eb);

/* Decrypt and decompress a verified batch; checks it is an array of count
 * objects.  BB_ERR_CRYPTO also when hdr.hq_key is not the id of hq_sk's key.
 * The caller frees (and should wipe) *records_json. */
bb_err bb_batch_decrypt(const struct bb_batch_view *view, const uint8_t hq_sk[BB_HPKE_SK_LEN],
                        char **records_json, size_t *records_len, bb_errbuf *eb);

/* Lowercase hex SHA-256 of a buffer (a whole batch file, for seq/prev and receipts). */
void bb_sha256_hex(const uint8_t *buf, size_t len, char out[BB_SHA256_HEX]);

#endif
