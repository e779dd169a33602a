/*
 * test_sigdoc — bb_sigdoc: signed JSON documents (docs/FORMATS.md §2).
 *
 * A signature verifies after any re-serialisation of the same content (it
 * covers the canonical form), and fails for a tampered, added or removed
 * member, another context (document type), another key, and a missing,
 * garbled or bit-flipped "sig".  The bytes signed are pinned by checking
 * the signature by hand over context || 0x00 || canonical JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bb_codec.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"

static bb_sign_key *hq, *other;

static int group_setup(void **state)
{
    (void)state;
    if (bb_sign_keygen(&hq, NULL) != BB_OK || bb_sign_keygen(&other, NULL) != BB_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bb_sign_key_free(hq);
    bb_sign_key_free(other);
    return 0;
}

#define RECEIPT "{\"v\":1,\"batch\":\"01890a5d-ac96-774b-bcce-b302099a8000\"," \
    "\"device\":\"d-0123456789abcdef\",\"seq\":12,\"sha256\":\"ab\"," \
    "\"received_at\":\"2018-03-15T18:00:02+08:00\",\"hq_sign_key\":\"00\"," \
    "\"records\":[{\"id\":\"r1\",\"rev\":2,\"result\":\"merged\"}," \
    "{\"id\":\"r2\",\"rev\":1,\"result\":\"rejected\",\"reason\":\"欄位錯誤\"}]}"

static cJSON *parse(const char *text)
{
    cJSON *d = NULL;

    assert_int_equal(bb_json_parse(text, strlen(text), "test", &d, NULL), BB_OK);
    return d;
}

static cJSON *signed_receipt(void)
{
    cJSON *d = parse(RECEIPT);
    bb_errbuf eb = {{0}};

    assert_int_equal(bb_sigdoc_sign(d, BB_CTX_RECEIPT, hq, &eb), BB_OK);
    return d;
}

static void test_sign_verify(void **state)
{
    bb_errbuf eb = {{0}};
    cJSON *d = signed_receipt(), *again;
    const char *sig = bb_json_str(d, "sig");
    char *pretty, *first;

    (void)state;
    assert_non_null(sig);
    assert_int_equal(strlen(sig), 88);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_OK);

    /* Any serialisation of the same content verifies: pretty-printed, keys
     * in insertion order, parsed back. */
    pretty = cJSON_Print(d);
    assert_non_null(pretty);
    again = parse(pretty);
    assert_int_equal(bb_sigdoc_verify(again, BB_CTX_RECEIPT, hq, &eb), BB_OK);
    cJSON_Delete(again);
    free(pretty);

    /* Signing again replaces "sig" (one member, deterministic RFC 6979). */
    first = strdup(sig);
    assert_int_equal(bb_sigdoc_sign(d, BB_CTX_RECEIPT, hq, &eb), BB_OK);
    assert_int_equal(cJSON_GetArraySize(d), 9);
    assert_string_equal(bb_json_str(d, "sig"), first);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_OK);
    free(first);
    cJSON_Delete(d);
}

/* The signature is over context || 0x00 || canonical JSON without "sig". */
static void test_signed_bytes(void **state)
{
    cJSON *d = signed_receipt(), *copy;
    uint8_t sig[64], *msg;
    size_t n = 0, clen = strlen(BB_CTX_RECEIPT), jlen;
    char *json;

    (void)state;
    assert_int_equal(bb_base64_decode(bb_json_str(d, "sig"), 88, sig, sizeof sig, &n,
                                      NULL), BB_OK);
    assert_int_equal(n, 64);
    copy = cJSON_Duplicate(d, 1);
    cJSON_DeleteItemFromObject(copy, "sig");
    json = bb_json_canonical(copy);
    jlen = strlen(json);
    msg = malloc(clen + 1 + jlen);
    assert_non_null(msg);
    memcpy(msg, BB_CTX_RECEIPT, clen);
    msg[clen] = 0;
    memcpy(msg + clen + 1, json, jlen);
    assert_int_equal(bb_sign_verify(hq, msg, clen + 1 + jlen, sig, NULL), BB_OK);
    /* Without the separator it is another message. */
    assert_int_equal(bb_sign_verify(hq, (const uint8_t *)json, jlen, sig, NULL), BB_ERR_CRYPTO);
    free(msg);
    free(json);
    cJSON_Delete(copy);
    cJSON_Delete(d);
}

static void test_tampered(void **state)
{
    bb_errbuf eb = {{0}};
    cJSON *d;

    (void)state;
    /* A changed string */
    d = signed_receipt();
    cJSON_ReplaceItemInObject(d, "device", cJSON_CreateString("d-0123456789abcdee"));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    assert_string_equal(eb.msg, "authentication failed");
    cJSON_Delete(d);
    /* A changed number */
    d = signed_receipt();
    cJSON_ReplaceItemInObject(d, "seq", cJSON_CreateNumber(13));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    cJSON_Delete(d);
    /* Deep inside: a rejected record turned into a merged one */
    d = signed_receipt();
    {
        cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "records"), 1);
        cJSON_ReplaceItemInObject(rec, "result", cJSON_CreateString("merged"));
    }
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    cJSON_Delete(d);
    /* An added member, a removed member */
    d = signed_receipt();
    cJSON_AddStringToObject(d, "note", "x");
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    cJSON_Delete(d);
    d = signed_receipt();
    cJSON_DeleteItemFromObject(d, "received_at");
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    cJSON_Delete(d);
}

static void test_context_and_key(void **state)
{
    bb_errbuf eb = {{0}};
    cJSON *d = signed_receipt();

    (void)state;
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_REFERENCE, hq, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_ENROLLMENT, hq, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_REGISTER, hq, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_REGISTERED, hq, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sigdoc_verify(d, "beatbook receipt v", hq, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, other, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_OK);
    /* Signing needs the private key. */
    {
        uint8_t raw[65];
        bb_sign_key *pub = NULL;
        assert_int_equal(bb_sign_pub_export_raw(hq, raw, NULL), BB_OK);
        assert_int_equal(bb_sign_pub_import_raw(&pub, raw, NULL), BB_OK);
        assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, pub, &eb), BB_OK);
        assert_int_not_equal(bb_sigdoc_sign(d, BB_CTX_RECEIPT, pub, &eb), BB_OK);
        bb_sign_key_free(pub);
    }
    cJSON_Delete(d);
}

static void test_bad_sig(void **state)
{
    bb_errbuf eb = {{0}};
    char b64[BB_BASE64_SIZE(64)];
    uint8_t sig[64];
    size_t n = 0;
    cJSON *d;

    (void)state;
    /* missing */
    d = parse(RECEIPT);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"sig\" is missing"));
    cJSON_Delete(d);

    d = signed_receipt();
    assert_int_equal(bb_base64_decode(bb_json_str(d, "sig"), 88, sig, sizeof sig, &n,
                                      NULL), BB_OK);
    /* not a string; not base64; base64 of 63 bytes; with whitespace */
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateNumber(1));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"sig\""));
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateString("not base64!"));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_base64_encode(sig, 63, b64, sizeof b64, NULL, NULL), BB_OK);
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateString(b64));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_base64_encode(sig, 64, b64, sizeof b64, NULL, NULL), BB_OK);
    b64[10] = ' ';
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateString(b64));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    /* well-formed but one bit off: r, then s; all zeros */
    sig[5] ^= 0x01;
    assert_int_equal(bb_base64_encode(sig, 64, b64, sizeof b64, NULL, NULL), BB_OK);
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateString(b64));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    sig[5] ^= 0x01;
    sig[60] ^= 0x80;
    assert_int_equal(bb_base64_encode(sig, 64, b64, sizeof b64, NULL, NULL), BB_OK);
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateString(b64));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    memset(sig, 0, sizeof sig);
    assert_int_equal(bb_base64_encode(sig, 64, b64, sizeof b64, NULL, NULL), BB_OK);
    cJSON_ReplaceItemInObject(d, "sig", cJSON_CreateString(b64));
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_CRYPTO);
    cJSON_Delete(d);
}

static void test_malformed_docs(void **state)
{
    bb_errbuf eb = {{0}};
    cJSON *d;

    (void)state;
    /* not an object */
    d = parse("[1,2]");
    assert_int_equal(bb_sigdoc_sign(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    cJSON_Delete(d);
    /* A repeated key (at the top or deeper) is refused both ways: a reader
     * would see only the first copy while the signature covers both. */
    d = parse("{\"v\":1,\"device\":\"a\",\"device\":\"b\"}");
    assert_int_equal(bb_sigdoc_sign(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "repeats"));
    cJSON_Delete(d);
    d = signed_receipt();
    cJSON_AddStringToObject(d, "device", "d-ffffffffffffffff");
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    cJSON_Delete(d);
    d = parse("{\"v\":1,\"records\":[{\"id\":\"a\",\"id\":\"b\"}]}");
    assert_int_equal(bb_sigdoc_sign(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    cJSON_Delete(d);
    /* Two "sig" members */
    d = signed_receipt();
    cJSON_AddStringToObject(d, "sig", "x");
    assert_int_equal(bb_sigdoc_verify(d, BB_CTX_RECEIPT, hq, &eb), BB_ERR_INVALID);
    cJSON_Delete(d);
    /* No context */
    d = parse(RECEIPT);
    assert_int_not_equal(bb_sigdoc_sign(d, "", hq, &eb), BB_OK);
    assert_int_not_equal(bb_sigdoc_sign(d, NULL, hq, &eb), BB_OK);
    assert_null(cJSON_GetObjectItem(d, "sig"));
    cJSON_Delete(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_signed_bytes),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_context_and_key),
        cmocka_unit_test(test_bad_sig),
        cmocka_unit_test(test_malformed_docs),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
