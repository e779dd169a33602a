/*
 * bb_sign — ECDSA P-256 signatures, key files and key ids.
 *
 * Devices sign their batches and HQ signs receipts, reference data and
 * enrollment files (DESIGN.md §4, §5) with ECDSA P-256 over SHA-256.  This
 * module owns those keys and also the on-disk form of HQ's X25519 private
 * key (the HPKE recipient key of bb_hpke), so that every private key file of
 * Beatbook is written and read by the same careful code.
 *
 * Formats:
 *   signature        64 bytes r || s, each 32 bytes big-endian (IEEE P1363,
 *                    as in JWS ES256), not DER.  Signing is deterministic
 *                    (RFC 6979), so it does not depend on the RNG for safety.
 *   ECDSA private    PEM "EC PRIVATE KEY" (SEC1, RFC 5915), as mbedtls and
 *                    openssl write it.
 *   ECDSA public     SubjectPublicKeyInfo (RFC 5480) as DER or PEM, or the
 *                    raw 65-byte uncompressed point 0x04 || X || Y.
 *   X25519 private   PEM "PRIVATE KEY" (PKCS#8, RFC 8410; `openssl pkey`
 *                    reads it), holding the raw 32-byte key of bb_hpke.
 *   key id           the first 8 bytes of SHA-256 of the public key, as 16
 *                    lowercase hex characters.  The bytes hashed are the
 *                    65-byte uncompressed point for ECDSA P-256 keys and the
 *                    raw 32-byte public key for X25519 keys.
 *
 * Private key files are created with O_CREAT|O_EXCL and mode 0600: an
 * existing file is never overwritten (BB_ERR_EXISTS), and a failed write
 * leaves no file behind.  Loading refuses a key file that group or others
 * can access (BB_ERR_PERM, with the chmod to run).  Key material never
 * appears in an error message and is wiped from memory on every path.
 *
 * Ownership: bb_sign_key is opaque; functions that return one give the
 * caller a key to release with bb_sign_key_free.  Functions that return a
 * buffer (*der, *pem) allocate it; the caller frees it with free().
 *
 * Errors: BB_ERR_CRYPTO "authentication failed" when a signature does not
 * verify; BB_ERR_INVALID for a malformed key or a key of the wrong type;
 * BB_ERR_EXISTS, BB_ERR_PERM, BB_ERR_NOTFOUND, BB_ERR_IO, BB_ERR_FULL for
 * files; BB_ERR_STATE for signing with a public-only key; BB_ERR_NOMEM.
 */
#ifndef BB_SIGN_H
#define BB_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "bb_err.h"

#define BB_SIGN_SIG_LEN     64   /* r || s */
#define BB_SIGN_PUB_RAW_LEN 65   /* 0x04 || X || Y */
#define BB_KEY_ID_LEN       16   /* hex characters */
#define BB_KEY_ID_SIZE      (BB_KEY_ID_LEN + 1)
#define BB_X25519_KEY_LEN   32

/* The largest key file or encoded public key we read. */
#define BB_SIGN_MAX_KEY_FILE 16384

typedef struct bb_sign_key bb_sign_key;

/* ---- ECDSA P-256 keys -------------------------------------------------- */

/* A fresh key pair. */
bb_err bb_sign_keygen(bb_sign_key **out, bb_errbuf *eb);

/* Wipe and free a key; NULL is a no-op. */
void bb_sign_key_free(bb_sign_key *key);

/* Whether key has its private half (keygen, load) or only the public one. */
int bb_sign_key_has_private(const bb_sign_key *key);

/* Write the private key as PEM to a new file at path (0600, O_EXCL). */
bb_err bb_sign_key_write(const bb_sign_key *key, const char *path,
                         bb_errbuf *eb);

/* Load a private key written by bb_sign_key_write (or openssl ecparam). */
bb_err bb_sign_key_load(bb_sign_key **out, const char *path, bb_errbuf *eb);

/* ---- Public keys ------------------------------------------------------- */

/* SubjectPublicKeyInfo DER in a new buffer (*der, caller frees). */
bb_err bb_sign_pub_export_der(const bb_sign_key *key, uint8_t **der,
                              size_t *der_len, bb_errbuf *eb);

/* SubjectPublicKeyInfo PEM as a new NUL-terminated string (caller frees). */
bb_err bb_sign_pub_export_pem(const bb_sign_key *key, char **pem,
                              bb_errbuf *eb);

/* The uncompressed point. */
bb_err bb_sign_pub_export_raw(const bb_sign_key *key,
                              uint8_t raw[BB_SIGN_PUB_RAW_LEN], bb_errbuf *eb);

/* A public-only key from DER (exactly one canonical SubjectPublicKeyInfo,
 * no trailing bytes), PEM (a NUL-terminated string), or a raw point. */
bb_err bb_sign_pub_import_der(bb_sign_key **out, const uint8_t *der,
                              size_t der_len, bb_errbuf *eb);
bb_err bb_sign_pub_import_pem(bb_sign_key **out, const char *pem,
                              bb_errbuf *eb);
bb_err bb_sign_pub_import_raw(bb_sign_key **out,
                              const uint8_t raw[BB_SIGN_PUB_RAW_LEN],
                              bb_errbuf *eb);

/* ---- Signatures -------------------------------------------------------- */

/* Sign SHA-256(msg) with a private key. */
bb_err bb_sign(const bb_sign_key *key, const uint8_t *msg, size_t msg_len,
               uint8_t sig[BB_SIGN_SIG_LEN], bb_errbuf *eb);

/* BB_OK if sig is key's signature of msg, else BB_ERR_CRYPTO. */
bb_err bb_sign_verify(const bb_sign_key *key, const uint8_t *msg,
                      size_t msg_len, const uint8_t sig[BB_SIGN_SIG_LEN],
                      bb_errbuf *eb);

/* ---- Key ids ----------------------------------------------------------- */

/* Key id of any public key given as bytes (see the header comment). */
bb_err bb_key_id(const uint8_t *pub, size_t pub_len, char id[BB_KEY_ID_SIZE],
                 bb_errbuf *eb);

/* Key id of an ECDSA key: bb_key_id of its 65-byte uncompressed point. */
bb_err bb_sign_key_id(const bb_sign_key *key, char id[BB_KEY_ID_SIZE],
                      bb_errbuf *eb);

/* ---- X25519 private key files ------------------------------------------ */

/* Write sk (bb_hpke's raw 32 bytes) to a new PKCS#8 PEM file (0600, O_EXCL). */
bb_err bb_sign_x25519_key_write(const char *path,
                                const uint8_t sk[BB_X25519_KEY_LEN],
                                bb_errbuf *eb);

/* Read such a file back into sk (wiped on error). */
bb_err bb_sign_x25519_key_read(const char *path,
                               uint8_t sk[BB_X25519_KEY_LEN], bb_errbuf *eb);

#endif
