/*
 * seedgen — writes the binary seeds of the fuzz corpora (the JSON and text
 * seeds are written by hand): sealed attachment heads and small whole .bba
 * files for fuzz_attach, sealed to the fixed HQ key of fuzz_keys.h so that
 * fuzz_attach's open path is reached; small sealed batches for
 * fuzz_batch_parse; zstd frames for fuzz_batch_open; enrollment files for fuzz_enroll and a signed cut
 * reference bundle for fuzz_refbundle (both behind their mode byte 0; the
 * bundle's content, mode byte 1, is tests/fuzz/corpus/fuzz_refbundle/
 * content-min, which this reads).  Not part of the build; run once by hand
 * when the formats change:
 *   cc -D_GNU_SOURCE -Ishared tests/fuzz/seedgen.c build/libbb.a \
 *     $(pkg-config --libs libzstd libcjson) -lmbedtls -lmbedx509 -lmbedcrypto \
 *     -lm -o /tmp/seedgen && /tmp/seedgen tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_attach.h"
#include "bb_batch.h"
#include "bb_enroll.h"
#include "bb_json.h"
#include "bb_refbundle.h"
#include "bb_uuid.h"
#include <unistd.h>
#include <zstd.h>

#include "fuzz_keys.h"

static void put(const char *dir, const char *name, const uint8_t *a, size_t alen,
                const uint8_t *b, size_t blen)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "wb")) || fwrite(a, 1, alen, f) != alen ||
        (blen && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void attach_seed(const char *dir, const char *name, const bb_sign_key *dev,
                        const uint8_t hq_pk[BB_HPKE_PK_LEN], const char *type,
                        const uint8_t *file, size_t n, int with_chunk)
{
    struct bb_attach_header h;
    uint8_t *head, key[BB_ATTACH_KEY_LEN], *ct;
    size_t head_len;
    bb_errbuf eb;
    struct bb_attach_view v;

    memset(&h, 0, sizeof h);
    strcpy(h.device, "d-00000000000000f2");
    if (bb_sign_key_id(dev, h.device_key, &eb) != BB_OK ||
        bb_key_id(hq_pk, BB_HPKE_PK_LEN, h.hq_key, &eb) != BB_OK)
        goto fail;
    bb_sha256_hex(file, n, h.sha256);
    h.size = (int64_t)n;
    strcpy(h.type, type);
    strcpy(h.created_at, "2018-03-15T14:20:00+08:00");
    if (bb_attach_seal_head(&h, hq_pk, dev, &head, &head_len, key, &eb) != BB_OK ||
        bb_attach_parse(head, head_len, &v, &eb) != BB_OK)
        goto fail;
    ct = malloc(n + BB_ATTACH_TAG_LEN);
    if (!ct || bb_attach_chunk_seal(key, v.header_digest, &v.hdr, 0, file, n, ct, &eb) != BB_OK)
        goto fail;
    put(dir, name, head, head_len, ct, with_chunk ? n + BB_ATTACH_TAG_LEN : 0);
    free(ct);
    free(head);
    return;
fail:
    fprintf(stderr, "seedgen: %s: %s\n", name, eb.msg);
    exit(1);
}

static void batch_seed(const char *dir, const char *name, const bb_sign_key *dev,
                       const uint8_t hq_pk[BB_HPKE_PK_LEN], const char *records, int count)
{
    struct bb_batch_header h;
    uint8_t *out;
    size_t len;
    bb_errbuf eb;

    memset(&h, 0, sizeof h);
    strcpy(h.device, "d-00000000000000f2");
    strcpy(h.batch, "0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f");
    h.seq = 1;
    memset(h.prev, '0', 64);
    strcpy(h.created_at, "2018-03-15T14:20:00+08:00");
    h.count = count;
    if (bb_sign_key_id(dev, h.device_key, &eb) != BB_OK ||
        bb_key_id(hq_pk, BB_HPKE_PK_LEN, h.hq_key, &eb) != BB_OK ||
        bb_batch_seal(&h, records, strlen(records), hq_pk, dev, &out, &len, &eb) != BB_OK) {
        fprintf(stderr, "seedgen: %s: %s\n", name, eb.msg);
        exit(1);
    }
    put(dir, name, out, len, NULL, 0);
    free(out);
}

/* A zstd frame (with its content size) behind mode 1 and a count byte;
 * damage: 0 none, 1 the declared size one too large, 2 a byte after it. */
static void frame_seed(const char *dir, const char *name, const char *json, int count,
                       int damage)
{
    uint8_t buf[4096];
    size_t n;

    buf[0] = 1;
    buf[1] = (uint8_t)(count - 1);
    n = ZSTD_compress(buf + 2, sizeof buf - 3, json, strlen(json), 3);
    if (ZSTD_isError(n))
        exit(1);
    if (damage == 1)
        buf[2 + 5]++;       /* single-segment frame: the size byte after the descriptor */
    if (damage == 2)
        buf[2 + n++] = 0;
    put(dir, name, buf, n + 2, NULL, 0);
}

/* An enrollment file by bb_enroll_write, behind the mode byte 0. */
static void enroll_seed(const char *dir, const char *name, const bb_sign_key *hq,
                        const uint8_t hq_pk[BB_HPKE_PK_LEN], char *ca)
{
    static const uint8_t zero = 0;
    struct bb_enrollment e;
    char tmp[] = "/tmp/seedgen_enroll_XXXXXX", path[64];
    char *text;
    size_t len;
    bb_errbuf eb;

    memset(&e, 0, sizeof e);
    strcpy(e.hq_url, "https://hq.example:8443");
    strcpy(e.tls_pin, "sha256//ERERERERERERERERERERERERERERERERERERERERERE=");
    e.tls_ca = ca;
    memcpy(e.hq_x25519, hq_pk, BB_HPKE_PK_LEN);
    strcpy(e.device, "d-0123456789abcdef");
    strcpy(e.org_unit, "P06-S03");
    strcpy(e.label, "P06-S03 laptop 2 \xe7\xad\x86\xe9\x9b\xbb");
    memset(e.token, 'a', 64);
    strcpy(e.issued_at, "2018-03-15T18:00:02+08:00");
    strcpy(e.expires_at, "2018-03-22T18:00:02+08:00");
    if (!mkdtemp(tmp))
        exit(1);
    snprintf(path, sizeof path, "%s/e.json", tmp);
    if (bb_enroll_write(&e, hq, path, &eb) != BB_OK ||
        bb_read_file(path, 1 << 20, &text, &len, &eb) != BB_OK) {
        fprintf(stderr, "seedgen: %s: %s\n", name, eb.msg);
        exit(1);
    }
    put(dir, name, &zero, 1, (const uint8_t *)text, len);
    free(text);
    unlink(path);
    rmdir(tmp);
}

/* The cut content, signed as HQ does, behind the mode byte 0. */
static void bundle_seed(const char *dir, const char *name, const bb_sign_key *hq)
{
    static const uint8_t zero = 0;
    char path[512], *text, *out;
    size_t len;
    cJSON *doc;
    bb_errbuf eb;

    snprintf(path, sizeof path, "%s/content-min", dir);
    if (bb_read_file(path, 1 << 20, &text, &len, &eb) != BB_OK ||
        bb_json_parse(text + 1, len - 1, path, &doc, &eb) != BB_OK ||
        bb_refbundle_sign(doc, "2018-03-15T18:00:02+08:00", hq, &eb) != BB_OK ||
        !(out = bb_json_canonical(doc))) {
        fprintf(stderr, "seedgen: %s: %s\n", name, eb.msg);
        exit(1);
    }
    put(dir, name, &zero, 1, (const uint8_t *)out, strlen(out));
    free(out);
    free(text);
    cJSON_Delete(doc);
}

int main(int argc, char **argv)
{
    static const uint8_t jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F',
                                    0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9 };
    static const uint8_t pdf[] = "%PDF-1.4\n%%EOF\n";
    uint8_t sk[BB_HPKE_SK_LEN], pk[BB_HPKE_PK_LEN];
    bb_sign_key *dev;
    char a[512], b[512];

    if (argc != 2 || fuzz_hq_keypair(sk, pk) != 0 || fuzz_device_key(&dev) != 0)
        return 64;
    snprintf(a, sizeof a, "%s/fuzz_attach", argv[1]);
    snprintf(b, sizeof b, "%s/fuzz_batch_parse", argv[1]);
    attach_seed(a, "head-jpeg.bba", dev, pk, "image/jpeg", jpeg, sizeof jpeg, 0);
    attach_seed(a, "whole-jpeg.bba", dev, pk, "image/jpeg", jpeg, sizeof jpeg, 1);
    attach_seed(a, "whole-pdf.bba", dev, pk, "application/pdf", pdf, sizeof pdf - 1, 1);
    batch_seed(b, "one.bbatch", dev, pk, "[{\"id\":\"x\"}]", 1);
    batch_seed(b, "three.bbatch", dev, pk, "[{},{\"a\":[1,2]},{\"b\":\"\\u00e9\"}]", 3);
    {
        static char ca[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        snprintf(a, sizeof a, "%s/fuzz_enroll", argv[1]);
        enroll_seed(a, "raw-no-ca", dev, pk, NULL);
        enroll_seed(a, "raw-with-ca", dev, pk, ca);
        snprintf(a, sizeof a, "%s/fuzz_batch_open", argv[1]);
        frame_seed(a, "frame-2.bin", "[{\"a\":1},{\"b\":2}]", 2, 0);
        frame_seed(a, "frame-bad-size.bin", "[{\"a\":1},{\"b\":2}]", 2, 1);
        frame_seed(a, "frame-trailing.bin", "[{}]", 1, 2);
        snprintf(a, sizeof a, "%s/fuzz_refbundle", argv[1]);
        bundle_seed(a, "signed-min", dev);
    }
    bb_sign_key_free(dev);
    return 0;
}
