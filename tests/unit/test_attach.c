/*
 * test_attach — bb_attach: media sniffing and the sealed attachment object
 * (docs/FORMATS.md §5).
 *
 * The round trip (seal head → parse → verify → open key → every chunk), and
 * what an attacker or a damaged stick does: a bit flipped anywhere in the
 * head, a head cut short, a head re-signed by another device, opening
 * before verifying, the wrong HQ key, a chunk flipped, moved to another
 * index, moved to another object, cut short, or offered for an index past
 * the end.  Sniffing decides by the bytes alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bb_attach.h"
#include "bb_hpke.h"
#include "bb_sign.h"

static uint8_t hq_sk[BB_HPKE_SK_LEN], hq_pk[BB_HPKE_PK_LEN];
static uint8_t hq2_sk[BB_HPKE_SK_LEN], hq2_pk[BB_HPKE_PK_LEN];
static char hq_kid[BB_KEY_ID_SIZE];
static bb_sign_key *dev, *dev2;
static char dev_kid[BB_KEY_ID_SIZE];

static int group_setup(void **state)
{
    (void)state;
    if (bb_hpke_keygen(hq_sk, hq_pk, NULL) != BB_OK ||
        bb_hpke_keygen(hq2_sk, hq2_pk, NULL) != BB_OK ||
        bb_key_id(hq_pk, sizeof hq_pk, hq_kid, NULL) != BB_OK ||
        bb_sign_keygen(&dev, NULL) != BB_OK || bb_sign_keygen(&dev2, NULL) != BB_OK ||
        bb_sign_key_id(dev, dev_kid, NULL) != BB_OK)
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

static void make_header(struct bb_attach_header *h, int64_t size)
{
    memset(h, 0, sizeof *h);
    strcpy(h->device, "d-0123456789abcdef");
    strcpy(h->device_key, dev_kid);
    strcpy(h->sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    h->size = size;
    strcpy(h->type, "image/jpeg");
    strcpy(h->created_at, "2018-03-15T14:21:07+08:00");
    strcpy(h->hq_key, hq_kid);
}

static void test_sniff(void **state)
{
    static const uint8_t jpeg[] = { 0xff, 0xd8, 0xff, 0xe1, 0, 0 };
    static const uint8_t png[] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0 };
    static const uint8_t heic[] = { 0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c',
                                    0, 0, 0, 0, 'm', 'i', 'f', '1', 'h', 'e', 'i', 'c' };
    static const uint8_t heif[] = { 0, 0, 0, 20, 'f', 't', 'y', 'p', 'm', 'i', 'f', '1',
                                    0, 0, 0, 0, 'm', 'i', 'f', '1' };
    static const uint8_t mif1_heic[] = { 0, 0, 0, 24, 'f', 't', 'y', 'p', 'm', 'i', 'f',
                                         '1', 0, 0, 0, 0, 'm', 'i', 'f', '1', 'h', 'e',
                                         'i', 'c' };
    static const uint8_t mp4[] = { 0, 0, 0, 20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm',
                                   0, 0, 0, 0, 'm', 'p', '4', '1' };
    (void)state;
    assert_string_equal(bb_media_sniff(jpeg, sizeof jpeg), "image/jpeg");
    assert_string_equal(bb_media_sniff(png, sizeof png), "image/png");
    assert_string_equal(bb_media_sniff((const uint8_t *)"%PDF-1.7\n", 9), "application/pdf");
    assert_string_equal(bb_media_sniff(heic, sizeof heic), "image/heic");
    assert_string_equal(bb_media_sniff(heif, sizeof heif), "image/heif");
    assert_string_equal(bb_media_sniff(mif1_heic, sizeof mif1_heic), "image/heic");
    assert_null(bb_media_sniff(mp4, sizeof mp4));
    assert_null(bb_media_sniff((const uint8_t *)"GIF89a", 6));
    assert_null(bb_media_sniff(jpeg, 2));
    assert_null(bb_media_sniff(NULL, 0));
    assert_string_equal(bb_media_ext("image/heic"), ".heic");
    assert_string_equal(bb_media_ext("text/html"), ".bin");
    assert_true(bb_sha256_hex_valid("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    assert_false(bb_sha256_hex_valid("9F86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    assert_false(bb_sha256_hex_valid("9f86"));
}

static void test_hash_fd(void **state)
{
    char path[] = "/tmp/test_attach_XXXXXX", sha[BB_SHA256_HEX_SIZE];
    int fd = mkstemp(path);
    int64_t size = 0;
    const char *type = NULL;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "test", 4), 4);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(bb_attach_hash_fd(fd, sha, &size, &type, NULL), BB_OK);
    assert_string_equal(sha, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert_int_equal(size, 4);
    assert_null(type);
    close(fd);
    unlink(path);
}

/* A 2.5-chunk plaintext: sealed, opened, every chunk back as it was. */
static void test_round_trip(void **state)
{
    struct bb_attach_header h;
    struct bb_attach_view v;
    int64_t size = 2 * BB_ATTACH_CHUNK + 12345, i;
    uint8_t *pt = malloc((size_t)size), *ct = malloc(BB_ATTACH_CHUNK_MAX), *back =
        malloc(BB_ATTACH_CHUNK);
    uint8_t key[BB_ATTACH_KEY_LEN], key2[BB_ATTACH_KEY_LEN], *head = NULL;
    size_t head_len = 0;
    (void)state;
    for (i = 0; i < size; i++)
        pt[i] = (uint8_t)(i * 7 + 3);
    make_header(&h, size);
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, NULL), BB_OK);
    assert_int_equal(h.chunks, 3);
    assert_int_equal(bb_attach_parse(head, head_len, &v, NULL), BB_OK);
    assert_int_equal(v.head_len, head_len);
    assert_string_equal(v.hdr.sha256, h.sha256);
    assert_int_equal(v.hdr.size, size);
    /* Opening before verifying is refused. */
    assert_int_equal(bb_attach_open_key(&v, hq_sk, key2, NULL), BB_ERR_STATE);
    assert_int_equal(bb_attach_verify(&v, dev2, NULL), BB_ERR_CRYPTO);
    assert_int_equal(bb_attach_verify(&v, dev, NULL), BB_OK);
    assert_int_equal(bb_attach_open_key(&v, hq2_sk, key2, NULL), BB_ERR_CRYPTO);
    assert_int_equal(bb_attach_open_key(&v, hq_sk, key2, NULL), BB_OK);
    assert_memory_equal(key, key2, sizeof key);
    for (i = 0; i < h.chunks; i++) {
        size_t n = bb_attach_chunk_len(&h, i);
        assert_int_equal(bb_attach_chunk_seal(key, v.header_digest, &h, i,
                                              pt + i * BB_ATTACH_CHUNK, n, ct, NULL), BB_OK);
        assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, i, ct,
                                              n + BB_ATTACH_TAG_LEN, back, NULL), BB_OK);
        assert_memory_equal(back, pt + i * BB_ATTACH_CHUNK, n);
        /* The same chunk at another index does not authenticate. */
        if (n == BB_ATTACH_CHUNK && i + 1 < h.chunks && bb_attach_chunk_len(&h, i + 1) == n)
            assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, i + 1, ct,
                                                  n + BB_ATTACH_TAG_LEN, back, NULL),
                             BB_ERR_CRYPTO);
        ct[n / 2] ^= 1;
        assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, i, ct,
                                              n + BB_ATTACH_TAG_LEN, back, NULL),
                         BB_ERR_CRYPTO);
        ct[n / 2] ^= 1;
        /* Cut short, or too long: refused on the length before any crypto. */
        assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, i, ct,
                                              n + BB_ATTACH_TAG_LEN - 1, back, NULL),
                         BB_ERR_INVALID);
    }
    assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, 3, ct, 16, back,
                                          NULL), BB_ERR_INVALID);
    assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, -1, ct, 16, back,
                                          NULL), BB_ERR_INVALID);

    /* A chunk of another sealing of the same file (another enc, another
     * header digest) does not open under this head. */
    {
        struct bb_attach_header h2;
        struct bb_attach_view v2;
        uint8_t k2[BB_ATTACH_KEY_LEN], *head2 = NULL;
        size_t head2_len = 0, n = bb_attach_chunk_len(&h, 0);
        make_header(&h2, size);
        assert_int_equal(bb_attach_seal_head(&h2, hq_pk, dev, &head2, &head2_len, k2, NULL),
                         BB_OK);
        assert_int_equal(bb_attach_parse(head2, head2_len, &v2, NULL), BB_OK);
        assert_int_equal(bb_attach_chunk_seal(k2, v2.header_digest, &h2, 0, pt, n, ct, NULL),
                         BB_OK);
        assert_int_equal(bb_attach_chunk_open(key2, v.header_digest, &v.hdr, 0, ct,
                                              n + BB_ATTACH_TAG_LEN, back, NULL),
                         BB_ERR_CRYPTO);
        free(head2);
    }
    free(head);
    free(pt);
    free(ct);
    free(back);
}

/* Every single-bit flip in the head fails parse or verify; every cut fails parse. */
static void test_head_tamper(void **state)
{
    struct bb_attach_header h;
    struct bb_attach_view v;
    uint8_t key[BB_ATTACH_KEY_LEN], *head = NULL;
    size_t head_len = 0, i;
    (void)state;
    make_header(&h, 5000);
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, NULL), BB_OK);
    for (i = 0; i < head_len; i++) {
        head[i] ^= 0x10;
        if (bb_attach_parse(head, head_len, &v, NULL) == BB_OK)
            assert_int_not_equal(bb_attach_verify(&v, dev, NULL), BB_OK);
        head[i] ^= 0x10;
    }
    for (i = 0; i < head_len; i++)
        assert_int_not_equal(bb_attach_parse(head, i, &v, NULL), BB_OK);
    /* Longer input (a whole .bba) parses: the head ends where it says. */
    {
        uint8_t *more = malloc(head_len + 100);
        memcpy(more, head, head_len);
        memset(more + head_len, 0xab, 100);
        assert_int_equal(bb_attach_parse(more, head_len + 100, &v, NULL), BB_OK);
        assert_int_equal(v.head_len, head_len);
        assert_int_equal(bb_attach_chunk_offset(&v, 1),
                         (int64_t)head_len + BB_ATTACH_CHUNK + BB_ATTACH_TAG_LEN);
        free(more);
    }
    free(head);
}

static void test_seal_refuses_bad_headers(void **state)
{
    struct bb_attach_header h;
    uint8_t key[BB_ATTACH_KEY_LEN], *head = NULL;
    size_t head_len = 0;
    (void)state;
    make_header(&h, 0);
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, NULL),
                     BB_ERR_INVALID);
    make_header(&h, BB_ATTACH_MAX_SIZE + 1);
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, NULL),
                     BB_ERR_INVALID);
    make_header(&h, 10);
    strcpy(h.type, "text/html");
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, NULL),
                     BB_ERR_INVALID);
    make_header(&h, 10);
    strcpy(h.sha256, "ABC");
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, NULL),
                     BB_ERR_INVALID);
    make_header(&h, 10);
    assert_int_equal(bb_attach_seal_head(&h, hq2_pk, dev, &head, &head_len, key, NULL),
                     BB_ERR_INVALID);
    assert_int_equal(bb_attach_seal_head(&h, hq_pk, dev2, &head, &head_len, key, NULL),
                     BB_ERR_INVALID);
    assert_null(head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_hash_fd),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_head_tamper),
        cmocka_unit_test(test_seal_refuses_bad_headers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
