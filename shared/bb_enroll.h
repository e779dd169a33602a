/*
 * bb_enroll — the enrollment file (DESIGN.md §4, docs/FORMATS.md §2).
 *
 * HQ writes one per device (`beatbook-hq device enroll`); the device reads
 * it once (`beatbook init --enroll FILE`) to learn where HQ is, how to pin
 * its TLS key, HQ's two public keys, its own device id and org unit, and a
 * one-time token for its first contact.  The file is a signed JSON document
 * (bb_sigdoc, context BB_CTX_ENROLLMENT) signed by HQ's ECDSA key, whose
 * public half travels inside it:
 *
 *   {"v":1,"hq_url":"https://...","tls_pin":"sha256//<base64 of 32 bytes>",
 *    "tls_ca":"-----BEGIN CERTIFICATE-----..." (optional),
 *    "hq_x25519":"<base64 32 bytes>","hq_x25519_key":"<kid>",
 *    "hq_sign_pub":"<base64 SPKI DER>","hq_sign_key":"<kid>",
 *    "device":"d-<16 hex>","org_unit":"P06-S03","label":"...",
 *    "token":"<64 hex>","issued_at":"<RFC 3339>","expires_at":"<RFC 3339>",
 *    "sig":"<base64 of 64 bytes>"}
 *
 * Reading checks every member (messages name it), that the key ids are
 * those of the keys in the file, and the signature.  It does not check the
 * time: expiry is HQ's decision when the token is used (an expired file is
 * read like any other).  Unknown members are refused.
 *
 * The token is a secret: the file is created with O_CREAT|O_EXCL and mode
 * 0600 (never overwritten), and every copy of the token in memory is wiped.
 * HQ stores only bb_token_hash() of it and compares with bb_ct_equal().
 *
 * Ownership: a struct bb_enrollment filled by bb_enroll_read owns tls_ca
 * (malloc'd) and hq_sign (a bb_sign_key); release both and wipe the token
 * with bb_enroll_clear.  A caller filling one for bb_enroll_write owns what
 * it put there.
 *
 * Errors: BB_ERR_INVALID (a member is missing or malformed, a key id does
 * not match its key), BB_ERR_CRYPTO (the signature does not verify),
 * BB_ERR_EXISTS (write: the file exists), BB_ERR_NOTFOUND / BB_ERR_PERM /
 * BB_ERR_IO / BB_ERR_FULL (files), BB_ERR_TOOBIG (read: file over
 * BB_ENROLL_MAX_FILE), BB_ERR_NOMEM.  Never the token in a message.
 */
#ifndef BB_ENROLL_H
#define BB_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include "bb_err.h"
#include "bb_hpke.h"
#include "bb_sign.h"
#include "bb_time.h"

#define BB_ENROLL_MAX_FILE   ((size_t)256 * 1024)
#define BB_ENROLL_MAX_CA     ((size_t)128 * 1024)   /* tls_ca PEM */
#define BB_ENROLL_TOKEN_HEX  65                     /* 64 hex + NUL */
#define BB_TOKEN_HASH_HEX    65                     /* 64 hex + NUL */

struct bb_enrollment {
    char hq_url[256];                      /* "https://host[:port][/path]" */
    char tls_pin[64];                      /* "sha256//<base64 of 32 bytes>" */
    char *tls_ca;                          /* PEM certificate(s), or NULL */
    uint8_t hq_x25519[BB_HPKE_PK_LEN];     /* HQ's HPKE public key */
    char hq_x25519_key[BB_KEY_ID_SIZE];    /* its key id */
    bb_sign_key *hq_sign;                  /* HQ's ECDSA public key (read) */
    char hq_sign_key[BB_KEY_ID_SIZE];      /* its key id */
    char device[80];                       /* "d-<16 lowercase hex>" */
    char org_unit[32];                     /* "P06-S03": letters, digits, '-' */
    char label[256];                       /* free text, UTF-8, may be empty */
    char token[BB_ENROLL_TOKEN_HEX];       /* 64 lowercase hex, one-time */
    char issued_at[BB_TIME_MAX];           /* RFC 3339 with offset */
    char expires_at[BB_TIME_MAX];          /* after issued_at */
};

/*
 * Write e as a new enrollment file at path (O_CREAT|O_EXCL, 0600), signed
 * with hq_sign_priv.  Fills e->hq_x25519_key from e->hq_x25519 and
 * e->hq_sign_key from hq_sign_priv; the public key written as hq_sign_pub
 * is that of hq_sign_priv (e->hq_sign is ignored and may be NULL).  Every
 * other member is checked as bb_enroll_read would, so HQ never writes a
 * file a device refuses.  On failure no file is left behind.
 */
bb_err bb_enroll_write(struct bb_enrollment *e, const bb_sign_key *hq_sign_priv,
                       const char *path, bb_errbuf *eb);

/*
 * Read and check the enrollment file at path into *e.  On success the
 * caller releases e with bb_enroll_clear; on failure e is left cleared
 * (nothing to free).
 */
bb_err bb_enroll_read(const char *path, struct bb_enrollment *e, bb_errbuf *eb);

/* Free what e owns (tls_ca, hq_sign) and wipe all of it; NULL is a no-op. */
void bb_enroll_clear(struct bb_enrollment *e);

/* A new one-time token: 32 random bytes as 64 lowercase hex + NUL. */
bb_err bb_enroll_new_token(char out[BB_ENROLL_TOKEN_HEX]);

/*
 * What HQ stores instead of a token: lowercase hex SHA-256 of the token's
 * 64 ASCII characters.  BB_ERR_INVALID if token is not 64 lowercase hex.
 */
bb_err bb_token_hash(const char *token, char out_hex[BB_TOKEN_HASH_HEX]);

/* 1 if the n bytes at a and b are equal, else 0, in time that depends on
 * n only (for tokens and their hashes). */
int bb_ct_equal(const void *a, const void *b, size_t n);

#endif
