/*
 * test_batch — bb_batch: the sealed batch container (docs/FORMATS.md §1).
 *
 * What a device does (seal, and the round trip through parse / verify /
 * decrypt) and what an attacker or a damaged USB stick does: a bit flipped
 * at every offset, truncation at every length, trailing bytes, lying
 * lengths, every header field malformed, a batch re-signed by another
 * device, a header edited and re-signed by its own device (HPKE's aad must
 * still catch it), decrypting before verifying, the wrong HQ key, zstd
 * bombs and payloads that are not `count` records.
 *
 * Hand-made batches are assembled here byte by byte (assemble()) with the
 * real HPKE and real signatures, so each test reaches the check it aims at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zstd.h>

#include "bb_batch.h"
#include "bb_codec.h"
#include "bb_hpke.h"
#include "bb_json.h"
#include "bb_sign.h"

#define RECORDS "[{\"id\":\"01890a5d-ac96-774b-bcce-b302099a8057\",\"kind\":\"patrol\"," \
                "\"rev\":1},{\"id\":\"01890a5d-ac96-774b-bcce-b302099a8058\"," \
                "\"kind\":\"patrol\",\"note\":\"巡邏 ok\",\"rev\":2}]"
#define PREV3 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- Fixture: keys made once ------------------------------------------- */

static uint8_t hq_sk[BB_HPKE_SK_LEN], hq_pk[BB_HPKE_PK_LEN];
static uint8_t hq2_sk[BB_HPKE_SK_LEN], hq2_pk[BB_HPKE_PK_LEN];
static char hq_kid[BB_KEY_ID_SIZE], hq2_kid[BB_KEY_ID_SIZE];
static bb_sign_key *dev, *dev2;
static char dev_kid[BB_KEY_ID_SIZE], dev2_kid[BB_KEY_ID_SIZE];

static int group_setup(void **state)
{
    (void)state;
    if (bb_hpke_keygen(hq_sk, hq_pk, NULL) != BB_OK ||
        bb_hpke_keygen(hq2_sk, hq2_pk, NULL) != BB_OK ||
        bb_key_id(hq_pk, sizeof hq_pk, hq_kid, NULL) != BB_OK ||
        bb_key_id(hq2_pk, sizeof hq2_pk, hq2_kid, NULL) != BB_OK ||
        bb_sign_keygen(&dev, NULL) != BB_OK ||
        bb_sign_keygen(&dev2, NULL) != BB_OK ||
        bb_sign_key_id(dev, dev_kid, NULL) != BB_OK ||
        bb_sign_key_id(dev2, dev2_kid, NULL) != BB_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bb_sign_key_free(dev);
    bb_sign_key_free(dev2);
    return 0;
}

/* ---- Helpers ------------------------------------------------------------ */

static void make_hdr(struct bb_batch_header *h, int64_t seq, int64_t count)
{
    memset(h, 0, sizeof *h);
    strcpy(h->device, "d-0123456789abcdef");
    strcpy(h->batch, "01890a5d-ac96-774b-bcce-b302099a8000");
    h->seq = seq;
    strcpy(h->prev, seq == 1 ? ZEROS : PREV3);
    strcpy(h->created_at, "2018-03-15T18:00:02+08:00");
    h->count = count;
    strcpy(h->hq_key, hq_kid);
    strcpy(h->device_key, dev_kid);
}

/* A normal batch: seq 3, the two records of RECORDS, sealed to hq. */
static void seal_default(uint8_t **out, size_t *len)
{
    struct bb_batch_header h;
    bb_errbuf eb = {{0}};

    make_hdr(&h, 3, 2);
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, out,
                                   len, &eb), BB_OK);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The container around header and payload, signed by key (exact-size buffer). */
static uint8_t *assemble(const char *header, size_t hlen, const uint8_t *payload,
                         size_t plen, const bb_sign_key *key, size_t *len)
{
    size_t n = 20 + hlen + plen + 64;
    uint8_t *b = malloc(n);

    assert_non_null(b);
    memcpy(b, "BBATCH\r\n", 8);
    b[8] = 0;
    b[9] = 1;
    b[10] = b[11] = 0;
    put32(b + 12, (uint32_t)hlen);
    put32(b + 16, (uint32_t)plen);
    memcpy(b + 20, header, hlen);
    memcpy(b + 20 + hlen, payload, plen);
    assert_int_equal(bb_sign(key, b, n - 64, b + n - 64, NULL), BB_OK);
    *len = n;
    return b;
}

/* The canonical header text of h with the given enc (malloc'd). */
static char *header_text(const struct bb_batch_header *h, const uint8_t enc[32])
{
    char b64[BB_BASE64_SIZE(32)];
    cJSON *o = cJSON_CreateObject();
    char *t;

    assert_int_equal(bb_base64_encode(enc, 32, b64, sizeof b64, NULL, NULL), BB_OK);
    cJSON_AddNumberToObject(o, "v", 1);
    cJSON_AddStringToObject(o, "device", h->device);
    cJSON_AddStringToObject(o, "batch", h->batch);
    cJSON_AddNumberToObject(o, "seq", (double)h->seq);
    cJSON_AddStringToObject(o, "prev", h->prev);
    cJSON_AddStringToObject(o, "created_at", h->created_at);
    cJSON_AddNumberToObject(o, "count", (double)h->count);
    cJSON_AddStringToObject(o, "suite", BB_BATCH_SUITE);
    cJSON_AddStringToObject(o, "hq_key", h->hq_key);
    cJSON_AddStringToObject(o, "device_key", h->device_key);
    cJSON_AddStringToObject(o, "enc", b64);
    t = bb_json_canonical(o);
    assert_non_null(t);
    cJSON_Delete(o);
    return t;
}

/*
 * A batch built by hand: header from h (with the enc HPKE makes), the
 * payload is pt (whatever bytes: a crafted zstd frame, say) HPKE-sealed to
 * pk with the header as aad, signed by the device key.
 */
static uint8_t *seal_raw(const struct bb_batch_header *h, const uint8_t *pt,
                         size_t pt_len, const uint8_t *pk, size_t *len)
{
    bb_hpke_setup s = { .mode = BB_HPKE_MODE_BASE, .suite = BB_HPKE_SUITE_BATCH,
                        .pkR = pk, .info = (const uint8_t *)BB_BATCH_INFO,
                        .info_len = strlen(BB_BATCH_INFO) };
    bb_hpke_ctx *ctx = NULL;
    uint8_t enc[32];
    uint8_t *ct, *b;
    size_t ct_len = 0;
    char *ht;

    assert_int_equal(bb_hpke_setup_sender(&s, &ctx, enc, NULL), BB_OK);
    ht = header_text(h, enc);
    ct = malloc(pt_len + 16);
    assert_non_null(ct);
    assert_int_equal(bb_hpke_ctx_seal(ctx, (const uint8_t *)ht, strlen(ht), pt,
                                      pt_len, ct, pt_len + 16, &ct_len, NULL), BB_OK);
    bb_hpke_ctx_free(ctx);
    b = assemble(ht, strlen(ht), ct, ct_len, dev, len);
    free(ct);
    free(ht);
    return b;
}

/* zstd (level 3) of text, for seal_raw. */
static uint8_t *zstd_of(const char *text, size_t len, size_t *zlen)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *z = malloc(cap);

    assert_non_null(z);
    *zlen = ZSTD_compress(z, cap, text, len, 3);
    assert_false(ZSTD_isError(*zlen));
    return z;
}

/* parse + verify + decrypt; returns the first failure (or BB_OK). */
static bb_err open_all(const uint8_t *b, size_t len, const uint8_t *sk,
                       char **plain, size_t *plen, bb_errbuf *eb)
{
    struct bb_batch_view v;
    bb_err rc;

    *plain = NULL;
    *plen = 0;
    rc = bb_batch_parse(b, len, &v, eb);
    if (rc == BB_OK)
        rc = bb_batch_verify(&v, dev, eb);
    if (rc == BB_OK)
        rc = bb_batch_decrypt(&v, sk, plain, plen, eb);
    return rc;
}

/* A copy of s with the first `from` replaced by `to`; the pattern must be there. */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    size_t n;
    char *r;

    assert_non_null(at);
    n = strlen(s) - strlen(from) + strlen(to);
    r = malloc(n + 1);
    assert_non_null(r);
    memcpy(r, s, (size_t)(at - s));
    strcpy(r + (at - s), to);
    strcat(r, at + strlen(from));
    return r;
}

/* ---- Round trip -------------------------------------------------------- */

static void test_round_trip(void **state)
{
    struct bb_batch_header h;
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL, *b2 = NULL;
    size_t len = 0, len2 = 0, plen = 0;
    char *plain = NULL;
    uint32_t hl, pl;

    (void)state;
    make_hdr(&h, 3, 2);
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b,
                                   &len, &eb), BB_OK);
    assert_memory_equal(b, "BBATCH\r\n\0\1\0\0", 12);
    hl = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
    pl = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    assert_int_equal(len, 84 + (size_t)hl + pl);

    assert_int_equal(bb_batch_parse(b, len, &v, &eb), BB_OK);
    assert_ptr_equal(v.buf, b);
    assert_int_equal(v.len, len);
    assert_ptr_equal(v.header_bytes, b + 20);
    assert_int_equal(v.header_len, hl);
    assert_ptr_equal(v.payload, b + 20 + hl);
    assert_int_equal(v.payload_len, pl);
    assert_ptr_equal(v.sig, b + len - 64);
    assert_int_equal(v.verified, 0);
    assert_string_equal(v.hdr.device, h.device);
    assert_string_equal(v.hdr.batch, h.batch);
    assert_int_equal(v.hdr.seq, 3);
    assert_string_equal(v.hdr.prev, PREV3);
    assert_string_equal(v.hdr.created_at, h.created_at);
    assert_int_equal(v.hdr.count, 2);
    assert_string_equal(v.hdr.hq_key, hq_kid);
    assert_string_equal(v.hdr.device_key, dev_kid);
    /* The header is canonical JSON starting with its first sorted key. */
    assert_memory_equal(v.header_bytes, "{\"batch\":\"01890a5d", 18);
    assert_int_equal(v.header_bytes[hl - 1], '}');

    assert_int_equal(bb_batch_verify(&v, dev, &eb), BB_OK);
    assert_int_equal(v.verified, 1);
    assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, &eb), BB_OK);
    assert_int_equal(plen, strlen(RECORDS));
    assert_memory_equal(plain, RECORDS, plen);
    assert_int_equal(plain[plen], '\0');
    free(plain);

    /* A fresh ephemeral key per seal: same input, different bytes. */
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b2,
                                   &len2, &eb), BB_OK);
    assert_int_equal(len2, len);
    assert_memory_not_equal(b, b2, len);
    free(b);
    free(b2);
}

static void test_round_trip_large(void **state)
{
    struct bb_batch_header h;
    bb_errbuf eb = {{0}};
    size_t n = 5000, cap = n * 128 + 2, used = 0, len = 0, plen = 0, i;
    char *text = malloc(cap), *plain = NULL;
    uint8_t *b = NULL;

    (void)state;
    assert_non_null(text);
    text[used++] = '[';
    for (i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used,
                                 "%s{\"id\":\"r%06zu\",\"kind\":\"patrol\",\"rev\":1}",
                                 i ? "," : "", i);
    text[used++] = ']';
    text[used] = '\0';
    make_hdr(&h, 1, (int64_t)n);
    assert_int_equal(bb_batch_seal(&h, text, used, hq_pk, dev, &b, &len, &eb), BB_OK);
    assert_true(len < used / 4);        /* it was compressed */
    assert_int_equal(open_all(b, len, hq_sk, &plain, &plen, &eb), BB_OK);
    assert_int_equal(plen, used);
    assert_memory_equal(plain, text, used);
    free(plain);
    free(b);
    free(text);
}

static void test_sha256_hex(void **state)
{
    char hex[BB_SHA256_HEX];

    (void)state;
    bb_sha256_hex((const uint8_t *)"abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bb_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* ---- Seal refuses what HQ would refuse --------------------------------- */

static void test_seal_refuses(void **state)
{
    struct bb_batch_header h;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL;
    size_t len = 0;

    (void)state;
    make_hdr(&h, 3, 2);
    strcpy(h.hq_key, hq2_kid);              /* not the key given */
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b,
                                   &len, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "hq_key"));
    assert_null(b);

    make_hdr(&h, 3, 2);
    strcpy(h.device_key, dev2_kid);
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b,
                                   &len, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "device_key"));

    make_hdr(&h, 3, 3);                     /* RECORDS holds 2 */
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b,
                                   &len, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "count"));

    make_hdr(&h, 0, 2);
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b,
                                   &len, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"seq\""));

    make_hdr(&h, 1, 2);
    strcpy(h.prev, PREV3);                  /* seq 1 has no previous batch */
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq_pk, dev, &b,
                                   &len, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"prev\""));

    make_hdr(&h, 3, 1);
    assert_int_equal(bb_batch_seal(&h, "{\"a\":1}", 7, hq_pk, dev, &b, &len, &eb),
                     BB_ERR_INVALID);
    make_hdr(&h, 3, 1);
    strcpy(h.created_at, "2018-03-15 18:00");
    assert_int_equal(bb_batch_seal(&h, "[{}]", 4, hq_pk, dev, &b, &len, &eb),
                     BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "created_at"));
    make_hdr(&h, 3, 1);
    memset(h.device, 'x', sizeof h.device); /* not terminated */
    assert_int_equal(bb_batch_seal(&h, "[{}]", 4, hq_pk, dev, &b, &len, &eb),
                     BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "device"));
    assert_null(b);
}

/* ---- Damage ---------------------------------------------------------- */

/* A flipped bit at every offset: parse or verify refuses, never decrypt. */
static void test_bit_flips(void **state)
{
    uint8_t *b = NULL, *c;
    size_t len = 0, i, parse_fail = 0, verify_fail = 0;
    int m;

    (void)state;
    seal_default(&b, &len);
    c = malloc(len);
    assert_non_null(c);
    for (i = 0; i < len; i++) {
        for (m = 0; m < 2; m++) {
            struct bb_batch_view v;
            char *plain = NULL;
            size_t plen = 0;
            memcpy(c, b, len);
            c[i] ^= m == 0 ? (uint8_t)(1u << (i % 8)) : 0xff;
            if (bb_batch_parse(c, len, &v, NULL) != BB_OK) {
                parse_fail++;
                continue;
            }
            assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, NULL),
                             BB_ERR_STATE);
            if (bb_batch_verify(&v, dev, NULL) != BB_OK) {
                assert_int_equal(v.verified, 0);
                assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, NULL),
                                 BB_ERR_STATE);
                verify_fail++;
                continue;
            }
            fail_msg("flip 0x%02x at offset %zu of %zu was accepted",
                     m == 0 ? 1u << (i % 8) : 0xffu, i, len);
        }
    }
    assert_int_equal(parse_fail + verify_fail, 2 * len);
    /* Both layers were exercised. */
    assert_true(parse_fail > 0);
    assert_true(verify_fail > 0);
    print_message("      %zu flips: %zu refused by parse, %zu by verify\n",
                  2 * len, parse_fail, verify_fail);
    free(c);
    free(b);
}

static void test_truncation_and_trailing(void **state)
{
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL, *c;
    size_t len = 0, n;

    (void)state;
    seal_default(&b, &len);
    for (n = 0; n < len; n++) {
        /* Exactly n bytes, so that a read past them is caught by ASan. */
        c = malloc(n ? n : 1);
        assert_non_null(c);
        memcpy(c, b, n);
        assert_int_not_equal(bb_batch_parse(n ? c : NULL, n, &v, NULL), BB_OK);
        assert_null(v.buf);
        free(c);
    }
    c = malloc(len + 1);
    assert_non_null(c);
    memcpy(c, b, len);
    c[len] = 0;
    assert_int_equal(bb_batch_parse(c, len + 1, &v, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "does not match header_len + payload_len"));
    free(c);
    free(b);
}

static void test_lengths_and_fixed_fields(void **state)
{
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL, *c;
    size_t len = 0;

    (void)state;
    seal_default(&b, &len);
    c = malloc(len);
    assert_non_null(c);

#define TRY(off, val32, code, text)                                          \
    do {                                                                     \
        memcpy(c, b, len);                                                   \
        put32(c + (off), (val32));                                           \
        assert_int_equal(bb_batch_parse(c, len, &v, &eb), (code));           \
        assert_non_null(strstr(eb.msg, (text)));                             \
    } while (0)
    TRY(12, 0xffffffffu, BB_ERR_TOOBIG, "header_len");
    TRY(12, BB_BATCH_MAX_HEADER + 1, BB_ERR_TOOBIG, "header_len");
    TRY(12, 1, BB_ERR_INVALID, "header_len");
    TRY(12, 0, BB_ERR_INVALID, "header_len");
    TRY(16, 0xffffffffu, BB_ERR_TOOBIG, "payload_len");
    TRY(16, (uint32_t)BB_BATCH_MAX_PAYLOAD + 1, BB_ERR_TOOBIG, "payload_len");
    TRY(16, 15, BB_ERR_INVALID, "payload_len");
    /* Within the caps but not this file's size. */
    TRY(12, BB_BATCH_MAX_HEADER, BB_ERR_INVALID, "does not match");
    TRY(16, (uint32_t)BB_BATCH_MAX_PAYLOAD, BB_ERR_INVALID, "does not match");
#undef TRY

    memcpy(c, b, len);
    c[7] = '\n' + 1;
    assert_int_equal(bb_batch_parse(c, len, &v, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "magic"));
    memcpy(c, b, len);
    c[9] = 2;
    assert_int_equal(bb_batch_parse(c, len, &v, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "version"));
    memcpy(c, b, len);
    c[11] = 1;
    assert_int_equal(bb_batch_parse(c, len, &v, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "flags"));

    /* A size over the whole cap is refused before any byte is read. */
    assert_int_equal(bb_batch_parse(c, (size_t)BB_BATCH_MAX + 1, &v, &eb),
                     BB_ERR_TOOBIG);
    assert_int_equal(bb_batch_parse(c, 83, &v, &eb), BB_ERR_INVALID);
    free(c);
    free(b);
}

/* Each header field malformed, in a batch otherwise fine and signed. */
static void test_header_fields(void **state)
{
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL;
    size_t len = 0;
    char *hdr, hq_up[64], hq_kv[64], dk_short[64], dk_kv[64];
    const uint8_t *payload;
    size_t hl, pl;
    size_t i;

    (void)state;
    seal_default(&b, &len);
    assert_int_equal(bb_batch_parse(b, len, &v, &eb), BB_OK);
    hl = v.header_len;
    pl = v.payload_len;
    payload = v.payload;
    hdr = malloc(hl + 1);
    assert_non_null(hdr);
    memcpy(hdr, v.header_bytes, hl);
    hdr[hl] = '\0';

    snprintf(hq_kv, sizeof hq_kv, "\"hq_key\":\"%s\"", hq_kid);
    snprintf(hq_up, sizeof hq_up, "\"hq_key\":\"%s\"", hq_kid);
    for (i = 10; hq_up[i]; i++)
        if (hq_up[i] >= 'a' && hq_up[i] <= 'f')
            hq_up[i] = (char)(hq_up[i] - 'a' + 'A');
    if (strcmp(hq_up, hq_kv) == 0)          /* a key id of digits only */
        hq_up[10] = 'G';
    snprintf(dk_kv, sizeof dk_kv, "\"device_key\":\"%s\"", dev_kid);
    snprintf(dk_short, sizeof dk_short, "\"device_key\":\"%.15s\"", dev_kid);

    {
        const struct { const char *from, *to, *msg; } m[] = {
            { "\"seq\":3", "\"seq\":0", "\"seq\"" },
            { "\"seq\":3", "\"seq\":-3", "\"seq\"" },
            { "\"seq\":3", "\"seq\":1.5", "\"seq\"" },
            { "\"seq\":3", "\"seq\":\"3\"", "\"seq\"" },
            { "\"seq\":3", "\"seq\":9007199254740992", "\"seq\"" },
            { "\"seq\":3", "\"seq\":null", "\"seq\"" },
            { "\"v\":1", "\"v\":2", "\"v\"" },
            { "\"v\":1", "\"v\":true", "\"v\"" },
            { "\"count\":2", "\"count\":0", "\"count\"" },
            { "\"count\":2", "\"count\":2.5", "\"count\"" },
            { "\"prev\":\"9f86", "\"prev\":\"9F86", "\"prev\"" },
            { "\"prev\":\"9f86", "\"prev\":\"9f8", "\"prev\"" },
            { "\"prev\":\"9f86", "\"prev\":\"9f86a", "\"prev\"" },
            { "\"batch\":\"01890a5d-ac96", "\"batch\":\"01890a5d+ac96", "\"batch\"" },
            { "\"batch\":\"01890a5d-ac96", "\"batch\":\"01890A5D-ac96", "\"batch\"" },
            { "+08:00\"", "\"", "\"created_at\"" },
            { "2018-03-15T18", "2018-02-30T18", "\"created_at\"" },
            { "\"device\":\"d-0123456789abcdef\"", "\"device\":\"\"", "\"device\"" },
            { "\"device\":\"d-0123456789abcdef\"",
              "\"device\":\"d-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
              "0123456789abcdef\"", "\"device\"" },
            { "\"device\":\"d-0123456789abcdef\"", "\"device\":\"d-\\u0001\"", "\"device\"" },
            { "\"device\":\"d-0123456789abcdef\"", "\"device\":\"d-\xff\xfe\"", "\"device\"" },
            { "\"device\":\"d-0123456789abcdef\"", "\"device\":7", "\"device\"" },
            { hq_kv, hq_up, "\"hq_key\"" },
            { dk_kv, dk_short, "\"device_key\"" },
            { "\"enc\":\"", "\"enc\":\"!", "\"enc\"" },
            { "\"suite\":\"X25519-HKDF-SHA256-AES-256-GCM\"",
              "\"suite\":\"X25519-HKDF-SHA256-AES-128-GCM\"", "\"suite\"" },
            /* structure */
            { "\"suite\":\"X25519-HKDF-SHA256-AES-256-GCM\",", "", "\"suite\" is missing" },
            { "\"v\":1}", "\"v\":1,\"zz\":1}", "unknown key \"zz\"" },
            { "\"v\":1}", "\"v\":1,\"v\":1}", "twice" },
            { "{\"batch\"", "{ \"batch\"", "canonical" },
            { "\"v\":1}", "\"v\":1} ", "canonical" },
            { "\"v\":1}", "\"v\":1.0}", "canonical" },
            { "\"v\":1}", "\"v\":1e0}", "canonical" },
            { "\"device\":\"d-0", "\"device\":\"d\\u002d0", "canonical" },
            { "\"count\":2,\"created_at\"", "\"created_at\":\"x\",\"count\":2,\"created_at\"",
              "canonical" },
            { "\"v\":1}", "\"v\":1", "JSON" },
        };
        for (i = 0; i < sizeof m / sizeof m[0]; i++) {
            char *h2 = replace(hdr, m[i].from, m[i].to);
            size_t l2 = 0;
            uint8_t *b2 = assemble(h2, strlen(h2), payload, pl, dev, &l2);
            bb_err rc = bb_batch_parse(b2, l2, &v, &eb);
            if (rc != BB_ERR_INVALID || !strstr(eb.msg, m[i].msg))
                fail_msg("case %zu (%s -> %s): rc %d, message \"%s\"", i,
                         m[i].from, m[i].to, rc, eb.msg);
            assert_null(v.buf);
            assert_int_equal(v.verified, 0);
            free(b2);
            free(h2);
        }
    }

    /* The enc of 31 bytes: base64 that decodes, but to the wrong length. */
    {
        char b64[BB_BASE64_SIZE(32)], from[80], to[80];
        uint8_t e31[31] = {0};
        uint8_t *b2;
        size_t l2 = 0;
        char *h2, *p = strstr(hdr, "\"enc\":\"");
        assert_non_null(p);
        snprintf(from, sizeof from, "%.51s", p);         /* "enc":" + 44 */
        assert_int_equal(bb_base64_encode(e31, sizeof e31, b64, sizeof b64, NULL,
                                          NULL), BB_OK);
        snprintf(to, sizeof to, "\"enc\":\"%s", b64);
        h2 = replace(hdr, from, to);
        b2 = assemble(h2, strlen(h2), payload, pl, dev, &l2);
        assert_int_equal(bb_batch_parse(b2, l2, &v, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "\"enc\""));
        free(b2);
        free(h2);
    }

    /* Not an object; a NUL inside. */
    {
        uint8_t *b2;
        size_t l2 = 0;
        b2 = assemble("[1]", 3, payload, pl, dev, &l2);
        assert_int_equal(bb_batch_parse(b2, l2, &v, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "object"));
        free(b2);
        hdr[hl - 1] = '\0';
        b2 = assemble(hdr, hl, payload, pl, dev, &l2);
        assert_int_equal(bb_batch_parse(b2, l2, &v, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "NUL"));
        free(b2);
    }
    free(hdr);
    free(b);
}

/* ---- Signatures and keys ------------------------------------------------ */

static void test_other_device(void **state)
{
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL;
    size_t len = 0;
    char *plain = NULL;
    size_t plen = 0;

    (void)state;
    seal_default(&b, &len);
    /* Re-signed by another device: the original device's key refuses it. */
    assert_int_equal(bb_sign(dev2, b, len - 64, b + len - 64, NULL), BB_OK);
    assert_int_equal(bb_batch_parse(b, len, &v, &eb), BB_OK);
    assert_int_equal(bb_batch_verify(&v, dev, &eb), BB_ERR_CRYPTO);
    assert_string_equal(eb.msg, "batch signature: authentication failed");
    assert_int_equal(v.verified, 0);
    assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, &eb), BB_ERR_STATE);
    /* And with the other device's key the header names the wrong key. */
    assert_int_equal(bb_batch_verify(&v, dev2, &eb), BB_ERR_CRYPTO);
    assert_non_null(strstr(eb.msg, dev_kid));
    assert_int_equal(v.verified, 0);
    free(b);
}

/* The device edits its own header and signs again: the signature holds,
 * but the header is HPKE's aad, so decryption fails. */
static void test_header_bound_by_hpke(void **state)
{
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL, *b2;
    size_t len = 0, l2 = 0, plen = 0;
    char *hdr, *h2, *plain = NULL;

    (void)state;
    seal_default(&b, &len);
    assert_int_equal(bb_batch_parse(b, len, &v, &eb), BB_OK);
    hdr = malloc(v.header_len + 1);
    assert_non_null(hdr);
    memcpy(hdr, v.header_bytes, v.header_len);
    hdr[v.header_len] = '\0';
    h2 = replace(hdr, "\"seq\":3", "\"seq\":4");
    b2 = assemble(h2, strlen(h2), v.payload, v.payload_len, dev, &l2);
    assert_int_equal(bb_batch_parse(b2, l2, &v, &eb), BB_OK);
    assert_int_equal(v.hdr.seq, 4);
    assert_int_equal(bb_batch_verify(&v, dev, &eb), BB_OK);
    assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, &eb), BB_ERR_CRYPTO);
    assert_null(plain);
    assert_int_equal(plen, 0);
    free(b2);
    free(h2);
    free(hdr);
    free(b);
}

static void test_decrypt_before_verify(void **state)
{
    struct bb_batch_view v;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL;
    size_t len = 0, plen = 1;
    char *plain = (char *)1;

    (void)state;
    seal_default(&b, &len);
    assert_int_equal(bb_batch_parse(b, len, &v, &eb), BB_OK);
    assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, &eb), BB_ERR_STATE);
    assert_null(plain);
    assert_int_equal(plen, 0);
    assert_int_equal(bb_batch_decrypt(NULL, hq_sk, &plain, &plen, &eb), BB_ERR_STATE);
    /* A failed verify after a good one clears the mark. */
    assert_int_equal(bb_batch_verify(&v, dev, &eb), BB_OK);
    assert_int_equal(bb_batch_verify(&v, dev2, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_batch_decrypt(&v, hq_sk, &plain, &plen, &eb), BB_ERR_STATE);
    /* Verify needs a parsed view. */
    memset(&v, 0, sizeof v);
    assert_int_equal(bb_batch_verify(&v, dev, &eb), BB_ERR_STATE);
    free(b);
}

static void test_other_hq_key(void **state)
{
    struct bb_batch_header h;
    bb_errbuf eb = {{0}};
    uint8_t *b = NULL, *z;
    size_t len = 0, plen = 0, zlen = 0;
    char *plain = NULL;

    (void)state;
    /* Sealed (properly) to HQ key 2, opened with HQ key 1. */
    make_hdr(&h, 3, 2);
    strcpy(h.hq_key, hq2_kid);
    assert_int_equal(bb_batch_seal(&h, RECORDS, strlen(RECORDS), hq2_pk, dev, &b,
                                   &len, &eb), BB_OK);
    assert_int_equal(open_all(b, len, hq_sk, &plain, &plen, &eb), BB_ERR_CRYPTO);
    assert_null(plain);
    assert_non_null(strstr(eb.msg, hq2_kid));
    assert_int_equal(open_all(b, len, hq2_sk, &plain, &plen, &eb), BB_OK);
    assert_memory_equal(plain, RECORDS, plen);
    free(plain);
    free(b);

    /* The header claims HQ key 1 but HPKE went to key 2: HPKE refuses. */
    make_hdr(&h, 3, 2);
    z = zstd_of(RECORDS, strlen(RECORDS), &zlen);
    b = seal_raw(&h, z, zlen, hq2_pk, &len);
    assert_int_equal(open_all(b, len, hq_sk, &plain, &plen, &eb), BB_ERR_CRYPTO);
    assert_string_equal(eb.msg, "batch payload: authentication failed");
    assert_null(plain);
    free(b);

    /* Control: the same hand-made batch to the right key opens. */
    b = seal_raw(&h, z, zlen, hq_pk, &len);
    assert_int_equal(open_all(b, len, hq_sk, &plain, &plen, &eb), BB_OK);
    assert_memory_equal(plain, RECORDS, plen);
    free(plain);
    free(b);
    free(z);
}

/* ---- The payload ------------------------------------------------------- */

/* Seal pt by hand (count records declared) and return decrypt's result. */
static bb_err decrypt_raw(const uint8_t *pt, size_t pt_len, int64_t count,
                          bb_errbuf *eb)
{
    struct bb_batch_header h;
    struct bb_batch_view v;
    uint8_t *b;
    size_t len = 0, plen = 0;
    char *plain = NULL;
    bb_err rc;

    make_hdr(&h, 3, count);
    b = seal_raw(&h, pt, pt_len, hq_pk, &len);
    assert_int_equal(bb_batch_parse(b, len, &v, eb), BB_OK);
    assert_int_equal(bb_batch_verify(&v, dev, eb), BB_OK);
    rc = bb_batch_decrypt(&v, hq_sk, &plain, &plen, eb);
    if (rc != BB_OK) {
        assert_null(plain);
        assert_int_equal(plen, 0);
    }
    free(plain);
    free(b);
    return rc;
}

static bb_err decrypt_text(const char *text, size_t len, int64_t count, bb_errbuf *eb)
{
    size_t zlen = 0;
    uint8_t *z = zstd_of(text, len, &zlen);
    bb_err rc = decrypt_raw(z, zlen, count, eb);

    free(z);
    return rc;
}

/* A zstd frame header declaring fcs bytes (8-byte field, single segment),
 * then one raw last block with content. */
static size_t zstd_frame(uint8_t *out, unsigned long long fcs, const char *content)
{
    size_t n = 0, i, clen = strlen(content);
    uint32_t bh = 1u | (uint32_t)(clen << 3);

    out[n++] = 0x28; out[n++] = 0xb5; out[n++] = 0x2f; out[n++] = 0xfd;
    out[n++] = 0xe0;                        /* FCS 8 bytes, single segment */
    for (i = 0; i < 8; i++)
        out[n++] = (uint8_t)(fcs >> (8 * i));
    out[n++] = (uint8_t)bh;
    out[n++] = (uint8_t)(bh >> 8);
    out[n++] = (uint8_t)(bh >> 16);
    memcpy(out + n, content, clen);
    return n + clen;
}

static void test_zstd_bombs(void **state)
{
    bb_errbuf eb = {{0}};
    uint8_t f[64];
    size_t n;

    (void)state;
    /* Control: the hand-made frame format is right. */
    n = zstd_frame(f, 4, "[{}]");
    assert_int_equal(decrypt_raw(f, n, 1, &eb), BB_OK);

    /* Declares 1 TiB, or one byte over the cap: refused from the header. */
    n = zstd_frame(f, 1ull << 40, "[{}]");
    assert_int_equal(decrypt_raw(f, n, 1, &eb), BB_ERR_TOOBIG);
    assert_non_null(strstr(eb.msg, "over the limit"));
    n = zstd_frame(f, (unsigned long long)BB_BATCH_MAX_PLAIN + 1, "[{}]");
    assert_int_equal(decrypt_raw(f, n, 1, &eb), BB_ERR_TOOBIG);

    /* Declares less than it holds, or more: the cap while decompressing. */
    n = zstd_frame(f, 4, "[{},{}]");
    assert_int_equal(decrypt_raw(f, n, 1, &eb), BB_ERR_INVALID);
    n = zstd_frame(f, 40, "[{},{}]");
    assert_int_equal(decrypt_raw(f, n, 2, &eb), BB_ERR_INVALID);
    n = zstd_frame(f, 0, "");
    assert_int_equal(decrypt_raw(f, n, 1, &eb), BB_ERR_INVALID);

    /* Not zstd; two frames. */
    assert_int_equal(decrypt_raw((const uint8_t *)"[{}]", 4, 1, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "zstd"));
    n = zstd_frame(f, 4, "[{}]");
    memcpy(f + n, f, n);
    assert_int_equal(decrypt_raw(f, 2 * n, 1, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "one zstd frame"));
}

/* A real bomb: 257 MiB of spaces compressed to a few KiB, with its size in
 * the frame header, and the same without it (streamed, size unknown). */
static void test_zstd_real_bomb(void **state)
{
    const size_t chunk = 1 << 20, total = BB_BATCH_MAX_PLAIN + chunk;
    size_t zcap = 1 << 20, zlen, done;
    uint8_t *in = malloc(chunk), *z = malloc(zcap);
    bb_errbuf eb = {{0}};
    int known;

    (void)state;
    assert_non_null(in);
    assert_non_null(z);
    memset(in, ' ', chunk);
    in[0] = '[';
    for (known = 1; known >= 0; known--) {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_outBuffer ob = { z, zcap, 0 };
        assert_non_null(cc);
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1)));
        if (known)
            assert_false(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cc, total)));
        for (done = 0; done < total; done += chunk) {
            ZSTD_inBuffer ib = { in, chunk, 0 };
            ZSTD_EndDirective end = done + chunk == total ? ZSTD_e_end : ZSTD_e_continue;
            size_t left;
            do {
                left = ZSTD_compressStream2(cc, &ob, &ib, end);
                assert_false(ZSTD_isError(left));
            } while (ib.pos < ib.size || (end == ZSTD_e_end && left != 0));
            in[0] = ' ';
        }
        in[0] = '[';
        zlen = ob.pos;
        ZSTD_freeCCtx(cc);
        assert_true(zlen < zcap);
        if (known) {
            assert_int_equal(ZSTD_getFrameContentSize(z, zlen), total);
            assert_int_equal(decrypt_raw(z, zlen, 1, &eb), BB_ERR_TOOBIG);
        } else {
            assert_true(ZSTD_getFrameContentSize(z, zlen) == ZSTD_CONTENTSIZE_UNKNOWN);
            assert_int_equal(decrypt_raw(z, zlen, 1, &eb), BB_ERR_INVALID);
            assert_non_null(strstr(eb.msg, "size"));
        }
    }
    free(in);
    free(z);
}

static void test_payload_records(void **state)
{
    bb_errbuf eb = {{0}};

    (void)state;
    assert_int_equal(decrypt_text(RECORDS, strlen(RECORDS), 2, &eb), BB_OK);
    /* count mismatch, both ways */
    assert_int_equal(decrypt_text(RECORDS, strlen(RECORDS), 3, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "count"));
    assert_int_equal(decrypt_text(RECORDS, strlen(RECORDS), 1, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "count"));
    /* not an array of objects */
    assert_int_equal(decrypt_text("{\"a\":1}", 7, 1, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "array"));
    assert_int_equal(decrypt_text("[{},1]", 6, 2, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "element 1"));
    assert_int_equal(decrypt_text("[{},[]]", 7, 2, &eb), BB_ERR_INVALID);
    /* not JSON, trailing text, a NUL hiding bytes */
    assert_int_equal(decrypt_text("[{},", 4, 1, &eb), BB_ERR_INVALID);
    assert_int_equal(decrypt_text("[{}] x", 6, 1, &eb), BB_ERR_INVALID);
    assert_int_equal(decrypt_text("[{}]\0[{}]", 9, 1, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "NUL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_large),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_seal_refuses),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_truncation_and_trailing),
        cmocka_unit_test(test_lengths_and_fixed_fields),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_other_device),
        cmocka_unit_test(test_header_bound_by_hpke),
        cmocka_unit_test(test_decrypt_before_verify),
        cmocka_unit_test(test_other_hq_key),
        cmocka_unit_test(test_zstd_bombs),
        cmocka_unit_test(test_zstd_real_bomb),
        cmocka_unit_test(test_payload_records),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
