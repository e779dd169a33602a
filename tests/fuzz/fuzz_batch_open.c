/*
 * fuzz_batch_open — libFuzzer target for what HQ does with a batch once its
 * signature holds (shared/bb_batch.h): bb_batch_decrypt's HPKE open, its
 * zstd decompression with caps (declared size, one whole frame), and the
 * check that the plaintext is a JSON array of exactly `count` objects.
 * beatbook-hq runs it in hq_ingest on every POST /v1/batches and every
 * `beatbook-hq import` from a USB stick, after bb_batch_verify; a device
 * whose key was stolen, or a buggy one, chooses these bytes.
 * (fuzz_batch_parse covers the container and the signature before it.)
 *
 * The target builds a real, validly signed batch around the input with
 * fixed keys (HQ's X25519 key from fuzz_keys.h, a device key made once per
 * process, a fixed HPKE ephemeral so runs repeat), then parses, verifies
 * and decrypts it:
 *   byte 0 % 3 = 0  the rest is the records' plaintext: zstd-compressed
 *                   and HPKE-sealed (reaches the JSON count check);
 *            = 1  the rest is the zstd frame, HPKE-sealed (reaches the
 *                   decompressor and its caps with any frame);
 *            = 2  the rest is the HPKE ciphertext itself (never opens);
 *   byte 1 % 4 + 1  the header's "count".
 * Checked: the batch built parses and verifies; decrypt refuses the view
 * before verify (BB_ERR_STATE); in mode 0 it succeeds exactly when the
 * plaintext is an array of `count` objects (bb_json_scan_objects, no NUL) and then
 * gives back the same bytes, NUL-terminated; in mode 1 any success is an
 * array of `count` objects; mode 2 never succeeds.  The whole raw input is
 * also given to bb_batch_parse, and decrypting that view is refused.
 * Everything is freed; nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_batch_open/ with replay_main.c.
 * Seeds: mode bytes + small record arrays (1-3 records), a short zstd
 * frame, a frame with a wrong declared size, a frame without one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bb_batch.h"
#include "bb_codec.h"
#include "bb_hpke.h"
#include "bb_json.h"
#include "bb_sign.h"

#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_MAX ((size_t)256 * 1024)
#define IKM_E "beatbook fuzz: batch ephemeral key, for repeatable runs"

static bb_sign_key *device;
static uint8_t hq_sk[BB_HPKE_SK_LEN], hq_pk[BB_HPKE_PK_LEN];
static char hq_kid[BB_KEY_ID_SIZE], dev_kid[BB_KEY_ID_SIZE];

static void put_be(uint8_t *p, uint32_t v, int n)
{
    while (n--) {
        p[n] = (uint8_t)v;
        v >>= 8;
    }
}

/* The canonical header, as bb_batch_seal writes it. */
static char *header_text(const uint8_t enc[BB_HPKE_ENC_LEN], int count)
{
    char b64[BB_BASE64_SIZE(BB_HPKE_ENC_LEN)];
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;

    if (o && bb_base64_encode(enc, BB_HPKE_ENC_LEN, b64, sizeof b64, NULL, NULL) == BB_OK &&
        cJSON_AddNumberToObject(o, "v", BB_BATCH_VERSION) &&
        cJSON_AddStringToObject(o, "device", "d-00000000000000f2") &&
        cJSON_AddStringToObject(o, "batch", "0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f") &&
        cJSON_AddNumberToObject(o, "seq", 1) &&
        cJSON_AddStringToObject(o, "prev", "0000000000000000000000000000000000000000"
                                           "000000000000000000000000") &&
        cJSON_AddStringToObject(o, "created_at", "2018-03-15T14:20:00+08:00") &&
        cJSON_AddNumberToObject(o, "count", count) &&
        cJSON_AddStringToObject(o, "suite", BB_BATCH_SUITE) &&
        cJSON_AddStringToObject(o, "hq_key", hq_kid) &&
        cJSON_AddStringToObject(o, "device_key", dev_kid) &&
        cJSON_AddStringToObject(o, "enc", b64))
        text = bb_json_canonical(o);
    cJSON_Delete(o);
    return text;
}

/*
 * A signed batch file around payload: sealed with HPKE (the header as aad)
 * unless raw, in which case payload is the ciphertext.  NULL if out of memory.
 */
static uint8_t *build(const uint8_t *payload, size_t plen, int raw, int count, size_t *out_len)
{
    bb_hpke_setup s = { .mode = BB_HPKE_MODE_BASE, .suite = BB_HPKE_SUITE_BATCH,
                        .pkR = hq_pk, .info = (const uint8_t *)BB_BATCH_INFO,
                        .info_len = sizeof BB_BATCH_INFO - 1,
                        .ikmE = (const uint8_t *)IKM_E, .ikmE_len = sizeof IKM_E - 1 };
    uint8_t enc[BB_HPKE_ENC_LEN] = { 0 };
    bb_hpke_ctx *ctx = NULL;
    char *htext = NULL;
    uint8_t *buf = NULL;
    size_t hlen, ct_len = raw ? plen : plen + BB_HPKE_TAG_LEN, total;

    if (!raw && bb_hpke_setup_sender(&s, &ctx, enc, NULL) != BB_OK)
        abort();
    if (raw)
        memset(enc, 0x09, sizeof enc);  /* a usable point: 9 is X25519's base u */
    if (!(htext = header_text(enc, count)))
        goto out;
    hlen = strlen(htext);
    total = BB_BATCH_FIXED + hlen + ct_len + BB_BATCH_SIG_LEN;
    if (!(buf = malloc(total)))
        goto out;
    memcpy(buf, BB_BATCH_MAGIC, 8);
    put_be(buf + 8, BB_BATCH_VERSION, 2);
    put_be(buf + 10, 0, 2);
    put_be(buf + 12, (uint32_t)hlen, 4);
    put_be(buf + 16, (uint32_t)ct_len, 4);
    memcpy(buf + BB_BATCH_FIXED, htext, hlen);
    if (raw) {
        if (plen)
            memcpy(buf + BB_BATCH_FIXED + hlen, payload, plen);
    } else {
        size_t got = 0;
        if (bb_hpke_ctx_seal(ctx, (const uint8_t *)htext, hlen, payload, plen,
                             buf + BB_BATCH_FIXED + hlen, ct_len, &got, NULL) != BB_OK ||
            got != ct_len)
            abort();
    }
    if (bb_sign(device, buf, total - BB_BATCH_SIG_LEN, buf + total - BB_BATCH_SIG_LEN,
                NULL) != BB_OK)
        abort();
    *out_len = total;
out:
    bb_hpke_ctx_free(ctx);
    free(htext);
    return buf;
}

static int is_array_of(const uint8_t *text, size_t len, int count)
{
    long long n = -1;
    return memchr(text, '\0', len) == NULL &&
           bb_json_scan_objects((const char *)text, len, "fuzz", &n, NULL) == BB_OK &&
           n == count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bb_batch_view view;
    uint8_t *copy, *z = NULL, *file = NULL;
    const uint8_t *body, *payload;
    size_t body_len, plen, file_len = 0, out_len = 0;
    char *out = NULL;
    int mode, count;
    bb_errbuf eb;
    bb_err rc;

    if (!device) {
        if (fuzz_hq_keypair(hq_sk, hq_pk) != 0 || fuzz_device_key(&device) != 0 ||
            bb_key_id(hq_pk, sizeof hq_pk, hq_kid, NULL) != BB_OK ||
            bb_sign_key_id(device, dev_kid, NULL) != BB_OK)
            abort();
    }
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);

    /* The raw input as a whole batch file: never decrypted unverified. */
    if (bb_batch_parse(size ? copy : NULL, size, &view, &eb) == BB_OK &&
        bb_batch_decrypt(&view, hq_sk, &out, &out_len, &eb) != BB_ERR_STATE)
        abort();
    free(out);
    out = NULL;

    if (size < 2 || size - 2 > BODY_MAX)
        goto done;
    mode = copy[0] % 3;
    count = copy[1] % 4 + 1;
    body = copy + 2;
    body_len = size - 2;
    payload = body;
    plen = body_len;
    if (mode == 0) {
        size_t cap = ZSTD_compressBound(body_len), zl;
        if (!(z = malloc(cap)))
            goto done;
        zl = ZSTD_compress(z, cap, body, body_len, 1);
        if (ZSTD_isError(zl))
            abort();
        payload = z;
        plen = zl;
    }
    if (!(file = build(payload, plen, mode == 2, count, &file_len)))
        goto done;
    if (bb_batch_parse(file, file_len, &view, &eb) != BB_OK) {
        if (mode == 2 && plen < BB_HPKE_TAG_LEN)
            goto done;                  /* a payload too short for a tag is malformed */
        abort();
    }
    if (bb_batch_decrypt(&view, hq_sk, &out, &out_len, &eb) != BB_ERR_STATE)
        abort();
    free(out);
    out = NULL;
    if (bb_batch_verify(&view, device, &eb) != BB_OK || !view.verified)
        abort();
    rc = bb_batch_decrypt(&view, hq_sk, &out, &out_len, &eb);
    if (rc == BB_OK) {
        if (!out || out[out_len] != '\0' || mode == 2 ||
            !is_array_of((const uint8_t *)out, out_len, count))
            abort();
        if (mode == 0 && (out_len != body_len || memcmp(out, body, body_len) != 0))
            abort();
    } else if (mode == 0 && rc != BB_ERR_NOMEM && rc != BB_ERR_TOOBIG &&
               is_array_of(body, body_len, count)) {
        abort();                        /* sealed records of the right count refused */
    } else if (rc == BB_OK || (out != NULL)) {
        abort();
    }
done:
    free(out);
    free(file);
    free(z);
    free(copy);
    return 0;
}
