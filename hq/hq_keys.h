/*
 * hq_keys — HQ's two key pairs (DESIGN.md §4): the X25519 key batches are
 * sealed to (keys/hq-x25519.key) and the ECDSA P-256 key that signs
 * receipts, registration answers and enrollment files (keys/hq-sign.key).
 *
 * Both files are created once by `beatbook-hq init` (0600, O_EXCL, via
 * bb_sign) and loaded by every command that needs them.  Signing goes
 * through hq_keys_sign_doc, which holds a mutex: mbedtls caches per-curve
 * tables inside the key on first use, so one key must not sign from two
 * threads at once.
 *
 * Ownership: struct hq_keys owns the secret material; hq_keys_free wipes
 * it.  Errors: those of bb_sign / bb_sigdoc.
 */
#ifndef HQ_KEYS_H
#define HQ_KEYS_H

#include <pthread.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_err.h"
#include "bb_hpke.h"
#include "bb_sign.h"

#define HQ_KEY_X25519 "keys/hq-x25519.key"
#define HQ_KEY_SIGN   "keys/hq-sign.key"

struct hq_keys {
    uint8_t x_sk[BB_HPKE_SK_LEN];       /* secret */
    uint8_t x_pk[BB_HPKE_PK_LEN];
    char x_kid[BB_KEY_ID_SIZE];
    char x_pub_b64[64];                 /* base64 of x_pk */
    bb_sign_key *sign;                  /* secret */
    char sign_kid[BB_KEY_ID_SIZE];
    char *sign_pub_b64;                 /* base64 of the SubjectPublicKeyInfo DER */
    pthread_mutex_t lock;               /* serialises signing */
    int loaded;
};

/* Make both key pairs and write them under dir (keys/ must exist). */
bb_err hq_keys_create(const char *dir, struct hq_keys *k, bb_errbuf *eb);

/* Load both key pairs from dir. */
bb_err hq_keys_load(const char *dir, struct hq_keys *k, bb_errbuf *eb);

/* Wipe and release; a zeroed struct is a no-op. */
void hq_keys_free(struct hq_keys *k);

/* bb_sigdoc_sign with the HQ signing key, under the lock. */
bb_err hq_keys_sign_doc(struct hq_keys *k, cJSON *doc, const char *context, bb_errbuf *eb);

#endif
