/*
 * test_enroll — bb_enroll: the enrollment file (docs/FORMATS.md §2).
 *
 * Round trip through a real file (mode 0600, never overwritten), every
 * member malformed in a file that is otherwise correctly signed (so the
 * member check, not the signature, is what refuses it), tampering after
 * signing, key ids that do not match their keys, an expired file read as
 * data, and the token helpers.
 *
 * Every test works in its own mkdtemp directory, removed afterwards.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bb_codec.h"
#include "bb_enroll.h"
#include "bb_hpke.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"

#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
static char ca_pem[] = CA_PEM;

static bb_sign_key *hq_sign, *other_sign;
static uint8_t hq_x_pk[BB_HPKE_PK_LEN], other_x_pk[BB_HPKE_PK_LEN];

static int group_setup(void **state)
{
    uint8_t sk[BB_HPKE_SK_LEN];

    (void)state;
    if (bb_sign_keygen(&hq_sign, NULL) != BB_OK ||
        bb_sign_keygen(&other_sign, NULL) != BB_OK ||
        bb_hpke_keygen(sk, hq_x_pk, NULL) != BB_OK ||
        bb_hpke_keygen(sk, other_x_pk, NULL) != BB_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bb_sign_key_free(hq_sign);
    bb_sign_key_free(other_sign);
    return 0;
}

/* ---- Fixture: a temporary directory ------------------------------------ */

struct tmp {
    char dir[64];
    char path[128];
};

static int setup_tmp(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);

    if (!t)
        return -1;
    strcpy(t->dir, "/tmp/bb_test_enroll_XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    struct dirent *de;
    char p[512];
    DIR *d = opendir(t->dir);

    if (d) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", t->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t->dir);
    free(t);
    return 0;
}

static const char *tpath(struct tmp *t, const char *name)
{
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    return t->path;
}

/* ---- Helpers ------------------------------------------------------------ */

static void fill(struct bb_enrollment *e)
{
    uint8_t pin[32];
    char b64[BB_BASE64_SIZE(32)];

    memset(e, 0, sizeof *e);
    memset(pin, 0x11, sizeof pin);
    assert_int_equal(bb_base64_encode(pin, 32, b64, sizeof b64, NULL, NULL), BB_OK);
    strcpy(e->hq_url, "https://hq.example:8443");
    snprintf(e->tls_pin, sizeof e->tls_pin, "sha256//%s", b64);
    e->tls_ca = ca_pem;                     /* the caller's; write does not free */
    memcpy(e->hq_x25519, hq_x_pk, sizeof hq_x_pk);
    strcpy(e->device, "d-0123456789abcdef");
    strcpy(e->org_unit, "P06-S03");
    strcpy(e->label, "P06-S03 laptop 2 筆電");
    assert_int_equal(bb_enroll_new_token(e->token), BB_OK);
    strcpy(e->issued_at, "2018-03-15T18:00:02+08:00");
    strcpy(e->expires_at, "2018-03-22T18:00:02+08:00");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The whole file as a NUL-terminated string (caller frees). */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(f);
    assert_non_null(text);
    n = fread(text, 1, (1 << 20) - 1, f);
    assert_int_equal(ferror(f), 0);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Write a good enrollment file at t/name and return its parsed tree. */
static cJSON *good_doc(struct tmp *t, const char *name)
{
    struct bb_enrollment e;
    bb_errbuf eb = {{0}};
    cJSON *d = NULL;
    char *text;

    fill(&e);
    assert_int_equal(bb_enroll_write(&e, hq_sign, tpath(t, name), &eb), BB_OK);
    text = read_text(t->path);
    assert_int_equal(bb_json_parse(text, strlen(text), "test", &d, NULL), BB_OK);
    free(text);
    return d;
}

/* Write d (signed again with key when key != NULL) to t/name; read it. */
static bb_err read_doc(struct tmp *t, const char *name, cJSON *d,
                       const bb_sign_key *key, bb_errbuf *eb)
{
    struct bb_enrollment e;
    char *text;
    bb_err rc;

    if (key)
        assert_int_equal(bb_sigdoc_sign(d, BB_CTX_ENROLLMENT, key, NULL), BB_OK);
    text = bb_json_canonical(d);
    assert_non_null(text);
    write_text(tpath(t, name), text);
    free(text);
    memset(&e, 0xaa, sizeof e);
    rc = bb_enroll_read(t->path, &e, eb);
    if (rc == BB_OK) {
        bb_enroll_clear(&e);
    } else {
        /* On failure e is left cleared: nothing to free. */
        assert_null(e.tls_ca);
        assert_null(e.hq_sign);
    }
    return rc;
}

static void set_str(cJSON *d, const char *key, const char *value)
{
    if (cJSON_GetObjectItem(d, key))
        cJSON_ReplaceItemInObject(d, key, cJSON_CreateString(value));
    else
        cJSON_AddStringToObject(d, key, value);
}

/* ---- Tests ------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    struct tmp *t = *state;
    struct bb_enrollment e, r;
    bb_errbuf eb = {{0}};
    char kid[BB_KEY_ID_SIZE];
    struct stat st;
    size_t i;

    fill(&e);
    assert_int_equal(bb_enroll_write(&e, hq_sign, tpath(t, "enroll.json"), &eb), BB_OK);
    /* write filled in the key ids */
    assert_int_equal(bb_sign_key_id(hq_sign, kid, NULL), BB_OK);
    assert_string_equal(e.hq_sign_key, kid);
    assert_int_equal(bb_key_id(hq_x_pk, sizeof hq_x_pk, kid, NULL), BB_OK);
    assert_string_equal(e.hq_x25519_key, kid);

    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    assert_int_equal(bb_enroll_read(t->path, &r, &eb), BB_OK);
    assert_string_equal(r.hq_url, e.hq_url);
    assert_string_equal(r.tls_pin, e.tls_pin);
    assert_non_null(r.tls_ca);
    assert_string_equal(r.tls_ca, CA_PEM);
    assert_memory_equal(r.hq_x25519, hq_x_pk, sizeof hq_x_pk);
    assert_string_equal(r.hq_x25519_key, e.hq_x25519_key);
    assert_non_null(r.hq_sign);
    assert_int_equal(bb_sign_key_has_private(r.hq_sign), 0);
    assert_int_equal(bb_sign_key_id(r.hq_sign, kid, NULL), BB_OK);
    assert_string_equal(kid, e.hq_sign_key);
    assert_string_equal(r.hq_sign_key, e.hq_sign_key);
    assert_string_equal(r.device, e.device);
    assert_string_equal(r.org_unit, e.org_unit);
    assert_string_equal(r.label, e.label);
    assert_string_equal(r.token, e.token);
    assert_string_equal(r.issued_at, e.issued_at);
    assert_string_equal(r.expires_at, e.expires_at);

    bb_enroll_clear(&r);
    for (i = 0; i < sizeof r.token; i++)
        assert_int_equal(r.token[i], 0);
    assert_null(r.tls_ca);
    assert_null(r.hq_sign);
    bb_enroll_clear(NULL);

    /* Without tls_ca (a real certificate): absent in the file, NULL back. */
    e.tls_ca = NULL;
    assert_int_equal(bb_enroll_write(&e, hq_sign, tpath(t, "no-ca.json"), &eb), BB_OK);
    {
        char *text = read_text(t->path);
        assert_null(strstr(text, "tls_ca"));
        free(text);
    }
    assert_int_equal(bb_enroll_read(t->path, &r, &eb), BB_OK);
    assert_null(r.tls_ca);
    bb_enroll_clear(&r);
}

static void test_mode_and_no_overwrite(void **state)
{
    struct tmp *t = *state;
    struct bb_enrollment e;
    bb_errbuf eb = {{0}};
    struct stat st;
    char *before, *after;
    mode_t old = umask(0);

    fill(&e);
    assert_int_equal(bb_enroll_write(&e, hq_sign, tpath(t, "e.json"), &eb), BB_OK);
    umask(old);
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    before = read_text(t->path);

    fill(&e);                               /* another token */
    assert_int_equal(bb_enroll_write(&e, hq_sign, t->path, &eb), BB_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, "already exists"));
    after = read_text(t->path);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* Nothing written when e is not valid, and no file left behind. */
    fill(&e);
    strcpy(e.device, "laptop-2");
    assert_int_equal(bb_enroll_write(&e, hq_sign, tpath(t, "bad.json"), &eb),
                     BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"device\""));
    assert_int_not_equal(access(t->path, F_OK), 0);
    /* Nor with a public-only key. */
    {
        uint8_t raw[65];
        bb_sign_key *pub = NULL;
        assert_int_equal(bb_sign_pub_export_raw(hq_sign, raw, NULL), BB_OK);
        assert_int_equal(bb_sign_pub_import_raw(&pub, raw, NULL), BB_OK);
        fill(&e);
        assert_int_not_equal(bb_enroll_write(&e, pub, tpath(t, "pub.json"), &eb), BB_OK);
        assert_int_not_equal(access(t->path, F_OK), 0);
        bb_sign_key_free(pub);
    }
}

/* Changed after signing: the signature no longer holds. */
static void test_tampered(void **state)
{
    struct tmp *t = *state;
    bb_errbuf eb = {{0}};
    cJSON *d = good_doc(t, "good.json");
    char token[80];
    const char *fields[] = { "org_unit", "hq_url", "label", "token", "device" };
    const char *values[] = { "P06-S04", "https://evil.example", "x",
                             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                             "d-ffffffffffffffff" };
    size_t i;

    snprintf(token, sizeof token, "%s", bb_json_str(d, "token"));
    assert_int_equal(read_doc(t, "same.json", d, NULL, &eb), BB_OK);
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cJSON *c = cJSON_Duplicate(d, 1);
        set_str(c, fields[i], values[i]);
        assert_int_equal(read_doc(t, "tampered.json", c, NULL, &eb), BB_ERR_CRYPTO);
        assert_non_null(strstr(eb.msg, "\"sig\""));
        assert_null(strstr(eb.msg, token));
        cJSON_Delete(c);
    }
    /* tls_ca added, removed */
    {
        cJSON *c = cJSON_Duplicate(d, 1);
        cJSON_DeleteItemFromObject(c, "tls_ca");
        assert_int_equal(read_doc(t, "tampered.json", c, NULL, &eb), BB_ERR_CRYPTO);
        cJSON_Delete(c);
    }
    /* HQ's public key and its id swapped for another key's (consistent
     * with each other) while the signature is still HQ's: refused. */
    {
        cJSON *c = cJSON_Duplicate(d, 1);
        uint8_t *der = NULL;
        size_t der_len = 0;
        char *b64 = NULL, kid[BB_KEY_ID_SIZE];
        assert_int_equal(bb_sign_pub_export_der(other_sign, &der, &der_len, NULL), BB_OK);
        assert_int_equal(bb_base64_encode_alloc(der, der_len, &b64, NULL), BB_OK);
        assert_int_equal(bb_sign_key_id(other_sign, kid, NULL), BB_OK);
        set_str(c, "hq_sign_pub", b64);
        set_str(c, "hq_sign_key", kid);
        assert_int_equal(read_doc(t, "swapped.json", c, NULL, &eb), BB_ERR_CRYPTO);
        cJSON_Delete(c);
        free(b64);
        free(der);
    }
    /* The file's bytes: a flipped bit in the middle of the signature. */
    {
        char *text = read_text(tpath(t, "good.json"));
        size_t at;
        assert_non_null(strstr(text, "\"sig\":\""));
        at = (size_t)(strstr(text, "\"sig\":\"") - text) + 7 + 20;
        text[at] = text[at] == 'A' ? 'B' : 'A';
        write_text(tpath(t, "flipped.json"), text);
        free(text);
        {
            struct bb_enrollment e;
            assert_int_equal(bb_enroll_read(t->path, &e, &eb), BB_ERR_CRYPTO);
        }
    }
    cJSON_Delete(d);
}

/* Each member malformed, in a file re-signed by HQ: the member check speaks. */
static void test_bad_members(void **state)
{
    struct tmp *t = *state;
    bb_errbuf eb = {{0}};
    cJSON *d = good_doc(t, "good.json");
    const struct { const char *key, *value; } m[] = {
        { "hq_url", "http://hq.example:8080" },
        { "hq_url", "https://" },
        { "hq_url", "https://hq example" },
        { "tls_pin", "sha256//abc" },
        { "tls_pin", "sha1//EREREREREREREREREREREREREREREREREREREREREREQ=" },
        { "tls_ca", "not a certificate" },
        { "tls_ca", "-----BEGIN CERTIFICATE-----\x01" },
        { "hq_x25519", "AAAA" },
        { "hq_x25519_key", "0011223344556677" },
        { "hq_x25519_key", "00112233445566" },
        { "hq_sign_pub", "AAAA" },
        { "hq_sign_pub", "!!" },
        { "hq_sign_key", "0011223344556677" },
        { "hq_sign_key", "ABCDEF0123456789" },
        { "device", "laptop-2" },
        { "device", "d-0123456789ABCDEF" },
        { "device", "d-0123456789abcde" },
        { "org_unit", "" },
        { "org_unit", "P06 S03" },
        { "label", "line\nbreak" },
        { "label", "bad \xff utf-8" },
        { "token", "0123" },
        { "token", "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF" },
        { "issued_at", "2018-03-15 18:00" },
        { "expires_at", "tomorrow" },
        { "expires_at", "2018-03-15T18:00:02+08:00" },     /* == issued_at */
    };
    size_t i;

    for (i = 0; i < sizeof m / sizeof m[0]; i++) {
        cJSON *c = cJSON_Duplicate(d, 1);
        bb_err rc;
        set_str(c, m[i].key, m[i].value);
        rc = read_doc(t, "bad.json", c, hq_sign, &eb);
        if (rc != BB_ERR_INVALID || !strstr(eb.msg, m[i].key))
            fail_msg("member %s = \"%s\": rc %d, message \"%s\"", m[i].key,
                     m[i].value, rc, eb.msg);
        assert_non_null(strstr(eb.msg, t->path));
        cJSON_Delete(c);
    }

    /* Missing members, wrong types, unknown members, other versions. */
    {
        const char *required[] = { "v", "hq_url", "tls_pin", "hq_x25519",
            "hq_x25519_key", "hq_sign_pub", "hq_sign_key", "device", "org_unit",
            "label", "token", "issued_at", "expires_at" };
        for (i = 0; i < sizeof required / sizeof required[0]; i++) {
            cJSON *c = cJSON_Duplicate(d, 1);
            cJSON_DeleteItemFromObject(c, required[i]);
            assert_int_equal(read_doc(t, "bad.json", c, hq_sign, &eb), BB_ERR_INVALID);
            assert_non_null(strstr(eb.msg, required[i]));
            cJSON_Delete(c);
        }
    }
    {
        cJSON *c = cJSON_Duplicate(d, 1);
        cJSON_ReplaceItemInObject(c, "org_unit", cJSON_CreateNumber(6));
        assert_int_equal(read_doc(t, "bad.json", c, hq_sign, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "org_unit"));
        cJSON_Delete(c);
        c = cJSON_Duplicate(d, 1);
        cJSON_ReplaceItemInObject(c, "v", cJSON_CreateNumber(2));
        assert_int_equal(read_doc(t, "bad.json", c, hq_sign, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "\"v\""));
        cJSON_Delete(c);
        c = cJSON_Duplicate(d, 1);
        cJSON_AddStringToObject(c, "admin", "yes");
        assert_int_equal(read_doc(t, "bad.json", c, hq_sign, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "unknown member \"admin\""));
        cJSON_Delete(c);
        c = cJSON_Duplicate(d, 1);
        cJSON_DeleteItemFromObject(c, "sig");
        assert_int_equal(read_doc(t, "bad.json", c, NULL, &eb), BB_ERR_INVALID);
        assert_non_null(strstr(eb.msg, "\"sig\""));
        cJSON_Delete(c);
    }
    /* Not JSON, not an object, not there, too big. */
    {
        struct bb_enrollment e;
        write_text(tpath(t, "junk.json"), "{\"v\":1,");
        assert_int_equal(bb_enroll_read(t->path, &e, &eb), BB_ERR_INVALID);
        write_text(tpath(t, "arr.json"), "[1]");
        assert_int_equal(bb_enroll_read(t->path, &e, &eb), BB_ERR_INVALID);
        assert_int_equal(bb_enroll_read(tpath(t, "missing.json"), &e, &eb),
                         BB_ERR_NOTFOUND);
        {
            FILE *f = fopen(tpath(t, "big.json"), "w");
            char chunk[4096];
            assert_non_null(f);
            memset(chunk, ' ', sizeof chunk);
            for (i = 0; i <= BB_ENROLL_MAX_FILE / sizeof chunk; i++)
                assert_int_equal(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
            assert_int_equal(fclose(f), 0);
        }
        assert_int_equal(bb_enroll_read(t->path, &e, &eb), BB_ERR_TOOBIG);
    }
    cJSON_Delete(d);
}

/* Key ids that are well-formed but not those of the keys in the file. */
static void test_key_id_mismatch(void **state)
{
    struct tmp *t = *state;
    bb_errbuf eb = {{0}};
    cJSON *d = good_doc(t, "good.json");
    char kid[BB_KEY_ID_SIZE], b64[BB_BASE64_SIZE(32)];
    cJSON *c;

    assert_int_equal(bb_sign_key_id(other_sign, kid, NULL), BB_OK);
    c = cJSON_Duplicate(d, 1);
    set_str(c, "hq_sign_key", kid);
    assert_int_equal(read_doc(t, "k1.json", c, hq_sign, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"hq_sign_key\" is not the key id"));
    cJSON_Delete(c);

    assert_int_equal(bb_key_id(other_x_pk, sizeof other_x_pk, kid, NULL), BB_OK);
    c = cJSON_Duplicate(d, 1);
    set_str(c, "hq_x25519_key", kid);
    assert_int_equal(read_doc(t, "k2.json", c, hq_sign, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"hq_x25519_key\" is not the key id"));
    cJSON_Delete(c);

    /* Another X25519 key under the old id. */
    assert_int_equal(bb_base64_encode(other_x_pk, 32, b64, sizeof b64, NULL, NULL), BB_OK);
    c = cJSON_Duplicate(d, 1);
    set_str(c, "hq_x25519", b64);
    assert_int_equal(read_doc(t, "k3.json", c, hq_sign, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "hq_x25519_key"));
    cJSON_Delete(c);
    cJSON_Delete(d);
}

/* Expiry is HQ's business: an expired file reads like any other. */
static void test_expired_is_data(void **state)
{
    struct tmp *t = *state;
    struct bb_enrollment e, r;
    bb_errbuf eb = {{0}};

    fill(&e);
    strcpy(e.issued_at, "2000-01-01T00:00:00Z");
    strcpy(e.expires_at, "2000-01-08T00:00:00+08:00");
    assert_int_equal(bb_enroll_write(&e, hq_sign, tpath(t, "old.json"), &eb), BB_OK);
    assert_int_equal(bb_enroll_read(t->path, &r, &eb), BB_OK);
    assert_string_equal(r.expires_at, "2000-01-08T00:00:00+08:00");
    bb_enroll_clear(&r);
}

static void test_tokens(void **state)
{
    char a[BB_ENROLL_TOKEN_HEX], b[BB_ENROLL_TOKEN_HEX], h[BB_TOKEN_HASH_HEX];
    size_t i;

    (void)state;
    assert_int_equal(bb_enroll_new_token(a), BB_OK);
    assert_int_equal(bb_enroll_new_token(b), BB_OK);
    assert_int_equal(strlen(a), 64);
    for (i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_string_not_equal(a, b);

    assert_int_equal(bb_token_hash("00112233445566778899aabbccddeeff"
                                   "00112233445566778899aabbccddeeff", h), BB_OK);
    assert_string_equal(h, "2a8abfa8cb9906290437854193ca6bca41d4d4e26d1d454bd66a35158095e737");
    assert_int_equal(bb_token_hash("00112233445566778899AABBCCDDEEFF"
                                   "00112233445566778899aabbccddeeff", h), BB_ERR_INVALID);
    assert_int_equal(bb_token_hash("0011", h), BB_ERR_INVALID);
    assert_int_equal(bb_token_hash("00112233445566778899aabbccddeeff"
                                   "00112233445566778899aabbccddeeff0", h), BB_ERR_INVALID);

    assert_int_equal(bb_ct_equal("abcdef", "abcdef", 6), 1);
    assert_int_equal(bb_ct_equal("abcdef", "abcdeg", 6), 0);
    assert_int_equal(bb_ct_equal("xbcdef", "abcdef", 6), 0);
    assert_int_equal(bb_ct_equal("abcdef", "abcxyz", 3), 1);
    assert_int_equal(bb_ct_equal("a", "b", 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_mode_and_no_overwrite, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_tampered, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_bad_members, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_key_id_mismatch, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_expired_is_data, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_tokens),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
