/*
 * hq_keys.c — HQ's key pairs (see hq_keys.h).
 */
#include "hq_keys.h"
#include "hq_files.h"
#include "bb_codec.h"
#include "bb_sigdoc.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

/* Key ids and public encodings, once both keys are in k. */
static bb_err derive_public(struct hq_keys *k, bb_errbuf *eb)
{
    uint8_t *der = NULL;
    size_t der_len;
    bb_err err;

    if ((err = bb_hpke_public_key(k->x_sk, k->x_pk, eb)) != BB_OK ||
        (err = bb_key_id(k->x_pk, sizeof k->x_pk, k->x_kid, eb)) != BB_OK ||
        (err = bb_base64_encode(k->x_pk, sizeof k->x_pk, k->x_pub_b64, sizeof k->x_pub_b64,
                                NULL, eb)) != BB_OK ||
        (err = bb_sign_key_id(k->sign, k->sign_kid, eb)) != BB_OK ||
        (err = bb_sign_pub_export_der(k->sign, &der, &der_len, eb)) != BB_OK)
        return err;
    err = bb_base64_encode_alloc(der, der_len, &k->sign_pub_b64, eb);
    free(der);
    return err;
}

static bb_err finish(struct hq_keys *k, bb_errbuf *eb)
{
    bb_err err = derive_public(k, eb);
    if (err != BB_OK) {
        hq_keys_free(k);
        return err;
    }
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        hq_keys_free(k);
        return bb_fail(eb, BB_ERR_INTERNAL, "HQ keys: cannot make a mutex");
    }
    k->loaded = 1;
    return BB_OK;
}

bb_err hq_keys_create(const char *dir, struct hq_keys *k, bb_errbuf *eb)
{
    char path[4200];
    uint8_t pk[BB_HPKE_PK_LEN];
    bb_err err;

    memset(k, 0, sizeof *k);
    if ((err = hq_path_join(path, sizeof path, dir, HQ_KEY_X25519, eb)) != BB_OK ||
        (err = bb_hpke_keygen(k->x_sk, pk, eb)) != BB_OK ||
        (err = bb_sign_x25519_key_write(path, k->x_sk, eb)) != BB_OK ||
        (err = hq_path_join(path, sizeof path, dir, HQ_KEY_SIGN, eb)) != BB_OK ||
        (err = bb_sign_keygen(&k->sign, eb)) != BB_OK ||
        (err = bb_sign_key_write(k->sign, path, eb)) != BB_OK) {
        hq_keys_free(k);
        return err;
    }
    return finish(k, eb);
}

bb_err hq_keys_load(const char *dir, struct hq_keys *k, bb_errbuf *eb)
{
    char path[4200];
    bb_err err;

    memset(k, 0, sizeof *k);
    if ((err = hq_path_join(path, sizeof path, dir, HQ_KEY_X25519, eb)) != BB_OK ||
        (err = bb_sign_x25519_key_read(path, k->x_sk, eb)) != BB_OK ||
        (err = hq_path_join(path, sizeof path, dir, HQ_KEY_SIGN, eb)) != BB_OK ||
        (err = bb_sign_key_load(&k->sign, path, eb)) != BB_OK) {
        hq_keys_free(k);
        return err;
    }
    return finish(k, eb);
}

void hq_keys_free(struct hq_keys *k)
{
    if (!k)
        return;
    if (k->loaded)
        pthread_mutex_destroy(&k->lock);
    bb_sign_key_free(k->sign);
    free(k->sign_pub_b64);
    mbedtls_platform_zeroize(k, sizeof *k);
}

bb_err hq_keys_sign_doc(struct hq_keys *k, cJSON *doc, const char *context, bb_errbuf *eb)
{
    bb_err err;

    pthread_mutex_lock(&k->lock);
    err = bb_sigdoc_sign(doc, context, k->sign, eb);
    pthread_mutex_unlock(&k->lock);
    return err;
}
