/*
 * fuzz_attach — libFuzzer target for the sealed attachment object
 * (shared/bb_attach.h, docs/FORMATS.md §5): what beatbook-hq runs on the
 * bytes of POST /v1/attachments/head, on PUT chunk bodies, and on .bba
 * files from a USB stick (`beatbook-hq import`).
 *
 * The input is a whole .bba file: a head, then its sealed chunks.  Checked:
 *   - bb_attach_parse accepts only a head whose fields are sane (lengths
 *     add up, the view points into the input, chunks = ceil(size/chunk))
 *     and zeroes the view when it refuses;
 *   - bb_attach_verify with a fixed device key (the P-256 generator point:
 *     nobody can sign for it) never succeeds and never marks the view;
 *   - bb_attach_open_key refuses the unverified view (BB_ERR_STATE);
 *   - with the view marked verified by hand (as if the device's signature
 *     held), bb_attach_open_key on a fixed HQ X25519 key takes any enc and
 *     hq_key, and when it yields a key the chunks after the head are opened
 *     with it (the seeds carry heads sealed to that HQ key, so this path is
 *     reached); a chunk one byte short is refused as BB_ERR_INVALID;
 *   - bb_attach_chunk_open on the bytes after the head never authenticates
 *     under a key that did not come from the head;
 *   - a chunk sealed with bb_attach_chunk_seal for the parsed header opens
 *     back to the same bytes, and one flipped bit makes it BB_ERR_CRYPTO.
 * The input is copied into a buffer of exactly its size (ASan catches any
 * read past it); everything is freed; nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_attach/ with replay_main.c.
 * Seeds: heads and small whole .bba files made by tests/fuzz/seedgen.c with
 * the same fixed HQ key, and a near-valid head or two.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_attach.h"
#include "bb_hpke.h"
#include "bb_sign.h"

#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes of plaintext sealed and opened again per input, at most. */
#define ROUNDTRIP_MAX 4096

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n--)
        if (*b++)
            return 0;
    return 1;
}

/* Open chunk i of a whole file with key; BB_OK only if it authenticates. */
static bb_err open_chunk(const struct bb_attach_view *v, const uint8_t key[BB_ATTACH_KEY_LEN],
                         int64_t i, const uint8_t *file, size_t size, int short_by)
{
    int64_t off = bb_attach_chunk_offset(v, i);
    size_t want = bb_attach_chunk_len(&v->hdr, i) + BB_ATTACH_TAG_LEN;
    size_t ct_len;
    uint8_t *out;
    bb_errbuf eb;
    bb_err rc;

    if (off < 0 || (uint64_t)off > size)
        return BB_ERR_INVALID;
    ct_len = size - (size_t)off;        /* what is there, be it short or long */
    if (ct_len > want)
        ct_len = want;
    if (short_by && ct_len >= (size_t)short_by)
        ct_len -= (size_t)short_by;
    if (ct_len < BB_ATTACH_TAG_LEN)
        return BB_ERR_INVALID;
    out = malloc(ct_len - BB_ATTACH_TAG_LEN + 1);
    if (!out)
        return BB_ERR_NOMEM;
    rc = bb_attach_chunk_open(key, v->header_digest, &v->hdr, i, file + off, ct_len,
                              out, &eb);
    if (rc == BB_ERR_CRYPTO && !all_zero(out, ct_len - BB_ATTACH_TAG_LEN))
        abort();                        /* a failed open must wipe what it wrote */
    free(out);
    return rc;
}

/* Seal a chunk of the parsed header and open it again. */
static void roundtrip(const struct bb_attach_view *v, const uint8_t key[BB_ATTACH_KEY_LEN],
                      const uint8_t *fill, size_t fill_len)
{
    int64_t i = v->hdr.chunks - 1;      /* the last chunk is the short one */
    size_t n = bb_attach_chunk_len(&v->hdr, i), k;
    uint8_t *pt, *ct, *back;
    bb_errbuf eb;

    if (n == 0 || n > ROUNDTRIP_MAX)
        return;
    pt = malloc(n);
    ct = malloc(n + BB_ATTACH_TAG_LEN);
    back = malloc(n);
    if (pt && ct && back) {
        for (k = 0; k < n; k++)
            pt[k] = fill_len ? fill[k % fill_len] : (uint8_t)k;
        if (bb_attach_chunk_seal(key, v->header_digest, &v->hdr, i, pt, n, ct, &eb) != BB_OK)
            abort();
        if (bb_attach_chunk_open(key, v->header_digest, &v->hdr, i, ct,
                                 n + BB_ATTACH_TAG_LEN, back, &eb) != BB_OK ||
            memcmp(pt, back, n) != 0)
            abort();
        ct[n / 2] ^= 0x01;
        if (bb_attach_chunk_open(key, v->header_digest, &v->hdr, i, ct,
                                 n + BB_ATTACH_TAG_LEN, back, &eb) != BB_ERR_CRYPTO ||
            !all_zero(back, n))
            abort();
        /* the same bytes at another index (when there is one) do not open */
        if (v->hdr.chunks > 1 && bb_attach_chunk_len(&v->hdr, 0) == n &&
            bb_attach_chunk_open(key, v->header_digest, &v->hdr, 0, ct,
                                 n + BB_ATTACH_TAG_LEN, back, &eb) == BB_OK)
            abort();
    }
    free(pt);
    free(ct);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bb_sign_key *nobody;
    static uint8_t hq_sk[BB_HPKE_SK_LEN], hq_pk[BB_HPKE_PK_LEN];
    static const uint8_t other_key[BB_ATTACH_KEY_LEN] = { 0x42, 0x42, 0x42 };
    struct bb_attach_view v, t;
    uint8_t key[BB_ATTACH_KEY_LEN];
    bb_errbuf eb;
    uint8_t *copy;
    bb_err rc;

    if (!nobody && (fuzz_nobody_key(&nobody) != 0 || fuzz_hq_keypair(hq_sk, hq_pk) != 0))
        abort();
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);

    rc = bb_attach_parse(size ? copy : NULL, size, &v, &eb);
    if (rc != BB_OK) {
        if (!all_zero(&v, sizeof v))
            abort();                    /* a refused head leaves nothing behind */
        goto out;
    }
    if (v.buf != copy || v.head_len > size ||
        v.head_len != BB_ATTACH_FIXED + v.header_len + BB_ATTACH_SIG_LEN ||
        v.header_len > BB_ATTACH_MAX_HEADER || v.header_bytes != copy + BB_ATTACH_FIXED ||
        v.sig != copy + BB_ATTACH_FIXED + v.header_len || v.verified ||
        v.hdr.size < 1 || v.hdr.size > BB_ATTACH_MAX_SIZE ||
        v.hdr.chunk_size != BB_ATTACH_CHUNK ||
        v.hdr.chunks != bb_attach_chunk_count(v.hdr.size, v.hdr.chunk_size) ||
        !bb_media_known(v.hdr.type) || !bb_sha256_hex_valid(v.hdr.sha256) ||
        memchr(v.hdr.device, 0, sizeof v.hdr.device) == NULL)
        abort();

    if (bb_attach_verify(&v, nobody, &eb) == BB_OK || v.verified)
        abort();                        /* nobody holds the key to G's discrete log */
    if (bb_attach_open_key(&v, hq_sk, key, &eb) != BB_ERR_STATE)
        abort();                        /* never a key before the signature holds */

    /* Chunks after the head, under a key the head did not give: never open. */
    if (open_chunk(&v, other_key, 0, copy, size, 0) == BB_OK)
        abort();

    t = v;
    t.verified = 1;                     /* as if the device's signature held */
    rc = bb_attach_open_key(&t, hq_sk, key, &eb);
    if (rc == BB_OK) {
        int64_t i;
        for (i = 0; i < t.hdr.chunks && i < 4; i++) {
            if (open_chunk(&t, key, i, copy, size, 0) == BB_OK &&
                open_chunk(&t, key, i, copy, size, 1) != BB_ERR_INVALID)
                abort();                /* a chunk one byte short is malformed */
        }
        roundtrip(&t, key, copy + v.head_len, size - v.head_len);
    }
    roundtrip(&t, other_key, copy, size);
    memset(key, 0, sizeof key);
out:
    free(copy);
    return 0;
}
