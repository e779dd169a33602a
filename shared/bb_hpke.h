/*
 * bb_hpke — Hybrid Public Key Encryption (RFC 9180) on mbedtls 2.28.
 *
 * Sealed batches (DESIGN.md §5) are HPKE base mode to HQ's X25519 key:
 *   Seal(pkR = HQ, info = "beatbook batch v1", aad = header, pt = payload).
 * This module implements one KEM, DHKEM(X25519, HKDF-SHA256), with the KDF
 * HKDF-SHA256 and the AEADs AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 and
 * export-only, in all four modes (base, psk, auth, auth_psk).  It passes the
 * RFC 9180 test vectors (tests/vectors/, checked by bb_hpke_vectors).
 *
 * Keys are raw bytes as RFC 9180 serializes them: a private key is 32 bytes
 * (RFC 7748 scalar, clamped when used, not when stored), a public key and
 * an enc are 32-byte little-endian u-coordinates.
 *
 * Two layers:
 *   - bb_hpke_seal / bb_hpke_open: single shot, one message per enc.  They
 *     allocate their output; the caller frees it with free().
 *   - bb_hpke_ctx: the RFC's context, for several messages under one enc
 *     (seal/open with the context's sequence number) and for secret export.
 *     Created by bb_hpke_setup_sender / bb_hpke_setup_receiver, released
 *     (and wiped) by bb_hpke_ctx_free.
 * Below them, the RFC's building blocks (DeriveKeyPair, Encap/Decap,
 * KeySchedule) are exported for the test-vector checker.
 *
 * Errors: BB_ERR_CRYPTO with the message "authentication failed" and
 * nothing more whenever a ciphertext, enc, aad, info, psk or key does not
 * authenticate; no plaintext, not even a partial one, is returned then.
 * BB_ERR_INVALID for bad arguments (wrong mode/suite, missing key, psk
 * inputs inconsistent with the mode), BB_ERR_UNSUPPORTED for suites we do
 * not implement, BB_ERR_TOOBIG over the caps below, BB_ERR_STATE for
 * using a context against its role or past its last sequence number,
 * BB_ERR_NOMEM.  Secrets never appear in messages.
 *
 * Every secret this module computes (DH outputs, shared secrets, keys,
 * nonces, ephemeral private keys) is wiped with mbedtls_platform_zeroize
 * before its memory is released, on every path.
 */
#ifndef BB_HPKE_H
#define BB_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "bb_err.h"

/* Algorithm identifiers (RFC 9180 §7). */
#define BB_HPKE_KEM_X25519_SHA256 0x0020
#define BB_HPKE_KDF_HKDF_SHA256   0x0001
#define BB_HPKE_AEAD_AES128GCM    0x0001
#define BB_HPKE_AEAD_AES256GCM    0x0002
#define BB_HPKE_AEAD_CHACHA20     0x0003
#define BB_HPKE_AEAD_EXPORT_ONLY  0xFFFF

typedef enum bb_hpke_mode {
    BB_HPKE_MODE_BASE = 0x00,
    BB_HPKE_MODE_PSK = 0x01,
    BB_HPKE_MODE_AUTH = 0x02,
    BB_HPKE_MODE_AUTH_PSK = 0x03
} bb_hpke_mode;

typedef struct bb_hpke_suite {
    uint16_t kem_id;
    uint16_t kdf_id;
    uint16_t aead_id;
} bb_hpke_suite;

/* The suite of sealed batches: "X25519-HKDF-SHA256-AES-256-GCM". */
#define BB_HPKE_SUITE_BATCH ((bb_hpke_suite){ BB_HPKE_KEM_X25519_SHA256, \
    BB_HPKE_KDF_HKDF_SHA256, BB_HPKE_AEAD_AES256GCM })

/* Sizes for DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256. */
#define BB_HPKE_SK_LEN     32  /* Nsk: private key */
#define BB_HPKE_PK_LEN     32  /* Npk: public key */
#define BB_HPKE_ENC_LEN    32  /* Nenc: encapsulated key */
#define BB_HPKE_SECRET_LEN 32  /* Nsecret = Nh */
#define BB_HPKE_TAG_LEN    16  /* Nt of every AEAD here */
#define BB_HPKE_NONCE_LEN  12  /* Nn of every AEAD here */
#define BB_HPKE_KEY_MAX    32  /* largest Nk */

/* Caps.  A sealed batch is at most BB_HPKE_MAX_PT of compressed records. */
#define BB_HPKE_MAX_PT     ((size_t)64 * 1024 * 1024)
#define BB_HPKE_MAX_AAD    ((size_t)1024 * 1024)
/* info, psk, psk_id, exporter_context and ikm are each at most this long. */
#define BB_HPKE_MAX_INPUT  ((size_t)64 * 1024)
/* Export length L: at most 255 * Nh (RFC 9180 §5.3). */
#define BB_HPKE_MAX_EXPORT (255 * BB_HPKE_SECRET_LEN)
/* The RFC asks a PSK to carry at least 32 bytes of entropy (§5.1.2). */
#define BB_HPKE_MIN_PSK    32

/*
 * Everything a setup needs.  Fields a side or mode does not use are ignored
 * and may stay NULL/0; use designated initializers:
 *   bb_hpke_setup s = { .mode = BB_HPKE_MODE_BASE, .suite = BB_HPKE_SUITE_BATCH,
 *                       .pkR = hq_pk, .info = info, .info_len = info_len };
 */
typedef struct bb_hpke_setup {
    bb_hpke_mode mode;
    bb_hpke_suite suite;
    const uint8_t *pkR;      /* sender: recipient's public key */
    const uint8_t *skR;      /* receiver: own private key */
    const uint8_t *skS;      /* sender, auth modes: own private key */
    const uint8_t *pkS;      /* receiver, auth modes: sender's public key */
    const uint8_t *psk;      /* psk modes: pre-shared key, >= 32 bytes */
    size_t psk_len;
    const uint8_t *psk_id;   /* psk modes: its identifier, non-empty */
    size_t psk_id_len;
    const uint8_t *info;     /* application info; may be empty */
    size_t info_len;
    /* Sender, known-answer tests only: derive the ephemeral key pair from
     * this ikm instead of fresh randomness.  Leave NULL in real use. */
    const uint8_t *ikmE;
    size_t ikmE_len;
} bb_hpke_setup;

/* ---- Keys ------------------------------------------------------------- */

/* A fresh random key pair (sk from bb_random). */
bb_err bb_hpke_keygen(uint8_t sk[BB_HPKE_SK_LEN], uint8_t pk[BB_HPKE_PK_LEN],
                      bb_errbuf *eb);

/* DeriveKeyPair(ikm) of RFC 9180 §7.1.3: deterministic, ikm >= 32 bytes
 * recommended, at most BB_HPKE_MAX_INPUT. */
bb_err bb_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len,
                              uint8_t sk[BB_HPKE_SK_LEN],
                              uint8_t pk[BB_HPKE_PK_LEN], bb_errbuf *eb);

/* The public key of a private key. */
bb_err bb_hpke_public_key(const uint8_t sk[BB_HPKE_SK_LEN],
                          uint8_t pk[BB_HPKE_PK_LEN], bb_errbuf *eb);

/* ---- Single shot ------------------------------------------------------ */

/*
 * Seal pt for s->pkR (base, psk, auth or auth_psk per s->mode; the AEAD
 * must not be export-only).  On success *ct is a new buffer of
 * *ct_len = pt_len + BB_HPKE_TAG_LEN bytes that the caller frees, and enc
 * receives the encapsulated key to send along.  On error *ct is NULL.
 */
bb_err bb_hpke_seal(const bb_hpke_setup *s, const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t pt_len,
                    uint8_t enc[BB_HPKE_ENC_LEN], uint8_t **ct,
                    size_t *ct_len, bb_errbuf *eb);

/*
 * Open ct with s->skR (and s->pkS in auth modes).  On success *pt is a new
 * buffer of *pt_len bytes (never NULL, even for an empty plaintext) that the
 * caller frees.  On any failure *pt is NULL and *pt_len 0; tampering gives
 * BB_ERR_CRYPTO "authentication failed".
 */
bb_err bb_hpke_open(const bb_hpke_setup *s, const uint8_t enc[BB_HPKE_ENC_LEN],
                    const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                    size_t ct_len, uint8_t **pt, size_t *pt_len,
                    bb_errbuf *eb);

/* ---- Contexts --------------------------------------------------------- */

typedef struct bb_hpke_ctx bb_hpke_ctx;

/* SetupS (RFC 9180 §5.1.*): a sender context in *ctx (free it with
 * bb_hpke_ctx_free) and the enc to send. */
bb_err bb_hpke_setup_sender(const bb_hpke_setup *s, bb_hpke_ctx **ctx,
                            uint8_t enc[BB_HPKE_ENC_LEN], bb_errbuf *eb);

/* SetupR: a receiver context for enc.  A wrong key or a tampered enc or
 * info is not detected here but by the first open (as in the RFC); only an
 * enc that is not a usable X25519 point (low order) fails here, with
 * BB_ERR_CRYPTO "authentication failed". */
bb_err bb_hpke_setup_receiver(const bb_hpke_setup *s,
                              const uint8_t enc[BB_HPKE_ENC_LEN],
                              bb_hpke_ctx **ctx, bb_errbuf *eb);

/* Wipe and free a context; NULL is a no-op. */
void bb_hpke_ctx_free(bb_hpke_ctx *ctx);

/*
 * ContextS.Seal: encrypt with nonce = base_nonce XOR seq, then seq += 1.
 * ct must have room for pt_len + BB_HPKE_TAG_LEN bytes (ct_size); ct may
 * not overlap pt.  Sender contexts only.
 */
bb_err bb_hpke_ctx_seal(bb_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                        const uint8_t *pt, size_t pt_len, uint8_t *ct,
                        size_t ct_size, size_t *ct_len, bb_errbuf *eb);

/*
 * ContextR.Open: decrypt into pt (pt_size >= ct_len - BB_HPKE_TAG_LEN).
 * On success seq += 1; on failure pt is wiped, seq is unchanged, and the
 * error is BB_ERR_CRYPTO "authentication failed".  Receiver contexts only.
 */
bb_err bb_hpke_ctx_open(bb_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                        const uint8_t *ct, size_t ct_len, uint8_t *pt,
                        size_t pt_size, size_t *pt_len, bb_errbuf *eb);

/* Context.Export: L bytes (L <= BB_HPKE_MAX_EXPORT) into out.  Both roles. */
bb_err bb_hpke_ctx_export(const bb_hpke_ctx *ctx,
                          const uint8_t *exporter_context, size_t ec_len,
                          uint8_t *out, size_t L, bb_errbuf *eb);

/* The sequence number the next seal/open will use. */
uint64_t bb_hpke_ctx_seq(const bb_hpke_ctx *ctx);

/* ---- Building blocks (for the test-vector checker) ------------------- */

/*
 * Encap / AuthEncap (RFC 9180 §4.1): skS NULL for Encap.  ikmE NULL means
 * a fresh random ephemeral key.  Writes the shared secret (a secret: wipe
 * it) and enc.
 */
bb_err bb_hpke_encap(const uint8_t pkR[BB_HPKE_PK_LEN],
                     const uint8_t *skS, const uint8_t *ikmE, size_t ikmE_len,
                     uint8_t shared_secret[BB_HPKE_SECRET_LEN],
                     uint8_t enc[BB_HPKE_ENC_LEN], bb_errbuf *eb);

/* Decap / AuthDecap: pkS NULL for Decap. */
bb_err bb_hpke_decap(const uint8_t enc[BB_HPKE_ENC_LEN],
                     const uint8_t skR[BB_HPKE_SK_LEN], const uint8_t *pkS,
                     uint8_t shared_secret[BB_HPKE_SECRET_LEN],
                     bb_errbuf *eb);

/* What KeySchedule derives.  All of it is secret: wipe it after use. */
typedef struct bb_hpke_schedule {
    uint8_t key_schedule_context[1 + 2 * BB_HPKE_SECRET_LEN];
    uint8_t secret[BB_HPKE_SECRET_LEN];
    uint8_t key[BB_HPKE_KEY_MAX];
    size_t key_len;                    /* Nk: 0 for export-only */
    uint8_t base_nonce[BB_HPKE_NONCE_LEN];
    size_t nonce_len;                  /* Nn: 0 for export-only */
    uint8_t exporter_secret[BB_HPKE_SECRET_LEN];
} bb_hpke_schedule;

/* KeySchedule (RFC 9180 §5.1) from a KEM shared secret, with the mode,
 * suite, info and psk inputs of s (its keys are ignored). */
bb_err bb_hpke_key_schedule(const bb_hpke_setup *s,
                            const uint8_t shared_secret[BB_HPKE_SECRET_LEN],
                            bb_hpke_schedule *out, bb_errbuf *eb);

/* "base", "psk", "auth", "auth_psk", or "?" */
const char *bb_hpke_mode_name(int mode);

#endif
