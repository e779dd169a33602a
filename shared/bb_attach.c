/*
 * bb_attach.c — media sniffing and the sealed attachment object (see
 * bb_attach.h and docs/FORMATS.md §5, which fixes the bytes).
 *
 * The head is parsed as strictly as a batch header: lengths checked before
 * use, the header exactly its own canonical JSON with the twelve keys and
 * nothing else.  Chunks are AES-256-GCM under one key per object with the
 * chunk index as the nonce, so any chunk can be sealed again or opened on
 * its own; the aad binds each to its object (the header's digest), its
 * position and the count, so chunks cannot be moved between objects or
 * positions and the last one cannot be cut short.
 *
 * Secrets: the chunk key and every plaintext buffer that fails to
 * authenticate are wiped; the HPKE context is wiped by bb_hpke_ctx_free.
 */
#include "bb_attach.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "bb_codec.h"
#include "bb_file.h"
#include "bb_json.h"
#include "bb_time.h"

#define wipe mbedtls_platform_zeroize

#define HEADER_KEYS 12
#define ENC_B64_LEN 44
#define SUITE "X25519-HKDF-SHA256-AES-256-GCM"
#define AAD_LABEL "BBATTCH chunk"
#define AAD_LEN (sizeof AAD_LABEL - 1 + 32 + 8 + 8)
#define HASH_BLOCK 65536

/* ---- Media types --------------------------------------------------------- */

static const struct { const char *type, *ext; } media[] = {
    { "image/jpeg", ".jpg" }, { "image/png", ".png" }, { "image/heic", ".heic" },
    { "image/heif", ".heif" }, { "application/pdf", ".pdf" },
};

/* An ISO BMFF brand (4 bytes) that marks HEIC or HEIF, or NULL. */
static const char *heif_brand(const uint8_t *b)
{
    static const char *const heic[] = { "heic", "heix", "heim", "heis", "hevc", "hevx" };
    static const char *const heif[] = { "mif1", "msf1" };
    size_t i;

    for (i = 0; i < sizeof heic / sizeof heic[0]; i++)
        if (memcmp(b, heic[i], 4) == 0)
            return "image/heic";
    for (i = 0; i < sizeof heif / sizeof heif[0]; i++)
        if (memcmp(b, heif[i], 4) == 0)
            return "image/heif";
    return NULL;
}

const char *bb_media_sniff(const uint8_t *buf, size_t len)
{
    static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };

    if (!buf)
        return NULL;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return "image/jpeg";
    if (len >= 8 && memcmp(buf, png, 8) == 0)
        return "image/png";
    if (len >= 5 && memcmp(buf, "%PDF-", 5) == 0)
        return "application/pdf";
    /* ISO BMFF: box size (be32), "ftyp", major brand, minor version, then
     * compatible brands up to the box's end.  A phone's HEIC names heic as
     * the major brand; some files name mif1 first and heic as compatible:
     * the major brand decides when it is one of ours, then the list. */
    if (len >= 16 && memcmp(buf + 4, "ftyp", 4) == 0) {
        uint32_t box = ((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) |
                       ((uint32_t)buf[2] << 8) | buf[3];
        const char *t = heif_brand(buf + 8), *any = NULL;
        size_t end, off;

        if (box < 16)
            return NULL;
        end = box < len ? box : len;
        for (off = 16; off + 4 <= end; off += 4) {
            const char *c = heif_brand(buf + off);
            if (c && (!any || strcmp(c, "image/heic") == 0))
                any = c;
        }
        if (t && strcmp(t, "image/heif") == 0 && any)
            return any;      /* mif1 major brand with heic compatible: HEIC */
        return t ? t : any;
    }
    return NULL;
}

const char *bb_media_ext(const char *type)
{
    size_t i;

    for (i = 0; type && i < sizeof media / sizeof media[0]; i++)
        if (strcmp(type, media[i].type) == 0)
            return media[i].ext;
    return ".bin";
}

int bb_media_known(const char *type)
{
    size_t i;

    for (i = 0; type && i < sizeof media / sizeof media[0]; i++)
        if (strcmp(type, media[i].type) == 0)
            return 1;
    return 0;
}

static int is_lower_hex(const char *s, size_t n)
{
    size_t i;

    if (!s || strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int bb_sha256_hex_valid(const char *s)
{
    return is_lower_hex(s, 64);
}

static void hex_of(const uint8_t h[32], char out[BB_SHA256_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < 32; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 0x0f];
    }
    out[64] = '\0';
}

bb_err bb_attach_hash_fd(int fd, char sha256[BB_SHA256_HEX_SIZE], int64_t *size,
                         const char **type, bb_errbuf *eb)
{
    mbedtls_sha256_context c;
    uint8_t *block = malloc(HASH_BLOCK), head[64], h[32];
    size_t have_head = 0;
    int64_t total = 0;
    bb_err rc = BB_OK;

    if (type)
        *type = NULL;
    if (!block)
        return bb_fail(eb, BB_ERR_NOMEM, "hash file: out of memory");
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    for (;;) {
        ssize_t n = read(fd, block, HASH_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = bb_fail(eb, bb_errno_err(errno), "read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (have_head < sizeof head) {
            size_t take = sizeof head - have_head;
            if (take > (size_t)n)
                take = (size_t)n;
            memcpy(head + have_head, block, take);
            have_head += take;
        }
        mbedtls_sha256_update_ret(&c, block, (size_t)n);
        total += n;
    }
    mbedtls_sha256_finish_ret(&c, h);
    mbedtls_sha256_free(&c);
    free(block);
    if (rc != BB_OK)
        return rc;
    hex_of(h, sha256);
    if (size)
        *size = total;
    if (type)
        *type = bb_media_sniff(head, have_head);
    return BB_OK;
}

/* ---- Header -------------------------------------------------------------- */

int64_t bb_attach_chunk_count(int64_t size, int64_t chunk_size)
{
    if (size < 1 || chunk_size < 1)
        return 0;
    return (size + chunk_size - 1) / chunk_size;
}

size_t bb_attach_chunk_len(const struct bb_attach_header *h, int64_t i)
{
    int64_t start, left;

    if (!h || i < 0 || i >= h->chunks || h->chunk_size < 1)
        return 0;
    start = i * h->chunk_size;
    left = h->size - start;
    return (size_t)(left < h->chunk_size ? left : h->chunk_size);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static int fixed_str(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL && s[0] != '\0';
}

/* A device id: 1..79 bytes without control characters (as in batches). */
static int device_ok(const char *s, size_t size)
{
    size_t i;

    if (!fixed_str(s, size))
        return 0;
    for (i = 0; s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* Every field as a struct (enc excepted); the sealer and the parser both
 * use it, so the two agree on what a valid head is. */
static bb_err header_check(const struct bb_attach_header *h, bb_errbuf *eb)
{
    int64_t t;

    if (!device_ok(h->device, sizeof h->device))
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"device\" must be 1 to "
                       "%zu bytes without control characters", sizeof h->device - 1);
    if (!fixed_str(h->device_key, sizeof h->device_key) ||
        !is_lower_hex(h->device_key, BB_KEY_ID_LEN))
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"device_key\" must be "
                       "a key id of %d lowercase hex characters", BB_KEY_ID_LEN);
    if (!fixed_str(h->sha256, sizeof h->sha256) || !bb_sha256_hex_valid(h->sha256))
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"sha256\" must be 64 "
                       "lowercase hex characters");
    if (h->size < 1 || h->size > BB_ATTACH_MAX_SIZE)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"size\" must be 1 to "
                       "%lld bytes", (long long)BB_ATTACH_MAX_SIZE);
    if (!fixed_str(h->type, sizeof h->type) || !bb_media_known(h->type))
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"type\" must be one of "
                       "image/jpeg, image/png, image/heic, image/heif, application/pdf");
    if (h->chunk_size != BB_ATTACH_CHUNK)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"chunk_size\" must be "
                       "%lld", (long long)BB_ATTACH_CHUNK);
    if (h->chunks != bb_attach_chunk_count(h->size, h->chunk_size))
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"chunks\" must be %lld "
                       "for %lld bytes", (long long)bb_attach_chunk_count(h->size,
                       h->chunk_size), (long long)h->size);
    if (!fixed_str(h->created_at, sizeof h->created_at) ||
        bb_time_parse(h->created_at, &t, NULL, NULL) != BB_OK)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"created_at\" must be "
                       "an RFC 3339 time with an offset");
    if (!fixed_str(h->hq_key, sizeof h->hq_key) || !is_lower_hex(h->hq_key, BB_KEY_ID_LEN))
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: \"hq_key\" must be a "
                       "key id of %d lowercase hex characters", BB_KEY_ID_LEN);
    return BB_OK;
}

static bb_err header_build(const struct bb_attach_header *h, char **out, size_t *out_len,
                           bb_errbuf *eb)
{
    char enc_b64[BB_BASE64_SIZE(BB_HPKE_ENC_LEN)];
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    bb_err rc;

    *out = NULL;
    *out_len = 0;
    if (!o)
        return bb_fail(eb, BB_ERR_NOMEM, "attachment head: out of memory");
    rc = bb_base64_encode(h->enc, BB_HPKE_ENC_LEN, enc_b64, sizeof enc_b64, NULL, eb);
    if (rc != BB_OK) {
        cJSON_Delete(o);
        return rc;
    }
    if (!cJSON_AddNumberToObject(o, "v", BB_ATTACH_VERSION) ||
        !cJSON_AddStringToObject(o, "device", h->device) ||
        !cJSON_AddStringToObject(o, "device_key", h->device_key) ||
        !cJSON_AddStringToObject(o, "sha256", h->sha256) ||
        !cJSON_AddNumberToObject(o, "size", (double)h->size) ||
        !cJSON_AddStringToObject(o, "type", h->type) ||
        !cJSON_AddNumberToObject(o, "chunk_size", (double)h->chunk_size) ||
        !cJSON_AddNumberToObject(o, "chunks", (double)h->chunks) ||
        !cJSON_AddStringToObject(o, "created_at", h->created_at) ||
        !cJSON_AddStringToObject(o, "hq_key", h->hq_key) ||
        !cJSON_AddStringToObject(o, "suite", SUITE) ||
        !cJSON_AddStringToObject(o, "enc", enc_b64) ||
        !(text = bb_json_canonical(o))) {
        cJSON_Delete(o);
        return bb_fail(eb, BB_ERR_NOMEM, "attachment head: out of memory");
    }
    cJSON_Delete(o);
    *out_len = strlen(text);
    if (*out_len > BB_ATTACH_MAX_HEADER) {
        free(text);
        *out_len = 0;
        return bb_fail(eb, BB_ERR_TOOBIG, "attachment head: header over %d bytes",
                       BB_ATTACH_MAX_HEADER);
    }
    *out = text;
    return BB_OK;
}

static int take_str(const cJSON *it, char *dst, size_t size)
{
    size_t n;

    if (!cJSON_IsString(it) || !it->valuestring)
        return 0;
    n = strlen(it->valuestring);
    if (n >= size)
        return 0;
    memcpy(dst, it->valuestring, n + 1);
    return 1;
}

static int take_int(const cJSON *it, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(it))
        return 0;
    d = it->valuedouble;
    if (!(d >= 1.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return 0;
    *out = (int64_t)d;
    return 1;
}

static bb_err header_parse(const uint8_t *bytes, size_t len, struct bb_attach_header *h,
                           bb_errbuf *eb)
{
    static const char *const keys[HEADER_KEYS] = {
        "v", "device", "device_key", "sha256", "size", "type", "chunk_size", "chunks",
        "created_at", "hq_key", "suite", "enc"
    };
    const cJSON *it[HEADER_KEYS] = {0}, *c;
    cJSON *root = NULL;
    char *canon = NULL;
    size_t i, enc_len = 0;
    bb_err rc;

    memset(h, 0, sizeof *h);
    if (memchr(bytes, '\0', len) != NULL)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: contains a NUL byte");
    rc = bb_json_parse((const char *)bytes, len, "attachment head", &root, eb);
    if (rc != BB_OK)
        return rc;
    rc = BB_ERR_INVALID;
    if (!cJSON_IsObject(root)) {
        bb_fail(eb, rc, "attachment head: must be a JSON object");
        goto out;
    }
    if (!(canon = bb_json_canonical(root))) {
        rc = bb_fail(eb, BB_ERR_NOMEM, "attachment head: out of memory");
        goto out;
    }
    if (strlen(canon) != len || memcmp(canon, bytes, len) != 0) {
        bb_fail(eb, rc, "attachment head: not in canonical JSON form");
        goto out;
    }
    cJSON_ArrayForEach(c, root) {
        size_t k;
        for (k = 0; k < HEADER_KEYS; k++)
            if (c->string && strcmp(c->string, keys[k]) == 0)
                break;
        if (k == HEADER_KEYS || it[k]) {
            bb_fail(eb, rc, "attachment head: unknown or repeated key");
            goto out;
        }
        it[k] = c;
    }
    for (i = 0; i < HEADER_KEYS; i++)
        if (!it[i]) {
            bb_fail(eb, rc, "attachment head: key \"%s\" is missing", keys[i]);
            goto out;
        }
    if (!cJSON_IsNumber(it[0]) || it[0]->valuedouble != BB_ATTACH_VERSION) {
        bb_fail(eb, rc, "attachment head: \"v\" must be %d", BB_ATTACH_VERSION);
        goto out;
    }
    if (!take_str(it[1], h->device, sizeof h->device) ||
        !take_str(it[2], h->device_key, sizeof h->device_key) ||
        !take_str(it[3], h->sha256, sizeof h->sha256) ||
        !take_int(it[4], &h->size) ||
        !take_str(it[5], h->type, sizeof h->type) ||
        !take_int(it[6], &h->chunk_size) ||
        !take_int(it[7], &h->chunks) ||
        !take_str(it[8], h->created_at, sizeof h->created_at) ||
        !take_str(it[9], h->hq_key, sizeof h->hq_key)) {
        bb_fail(eb, rc, "attachment head: a field has the wrong type or length");
        goto out;
    }
    if (!cJSON_IsString(it[10]) || strcmp(it[10]->valuestring, SUITE) != 0) {
        bb_fail(eb, rc, "attachment head: \"suite\" must be \"%s\"", SUITE);
        goto out;
    }
    if (!cJSON_IsString(it[11]) || strlen(it[11]->valuestring) != ENC_B64_LEN ||
        bb_base64_decode(it[11]->valuestring, ENC_B64_LEN, h->enc, sizeof h->enc,
                         &enc_len, NULL) != BB_OK || enc_len != BB_HPKE_ENC_LEN) {
        bb_fail(eb, rc, "attachment head: \"enc\" must be base64 of %d bytes",
                BB_HPKE_ENC_LEN);
        goto out;
    }
    rc = header_check(h, eb);
out:
    free(canon);
    cJSON_Delete(root);
    if (rc != BB_OK)
        memset(h, 0, sizeof *h);
    return rc;
}

/* ---- Keys ---------------------------------------------------------------- */

static bb_hpke_setup setup_for(const uint8_t *pk, const uint8_t *sk)
{
    bb_hpke_setup s = { .mode = BB_HPKE_MODE_BASE, .suite = BB_HPKE_SUITE_BATCH,
                        .pkR = pk, .skR = sk, .info = (const uint8_t *)BB_ATTACH_INFO,
                        .info_len = sizeof BB_ATTACH_INFO - 1 };
    return s;
}

static bb_err export_key(bb_hpke_ctx *ctx, uint8_t key[BB_ATTACH_KEY_LEN], bb_errbuf *eb)
{
    return bb_hpke_ctx_export(ctx, (const uint8_t *)BB_ATTACH_EXPORT_LABEL,
                              sizeof BB_ATTACH_EXPORT_LABEL - 1, key, BB_ATTACH_KEY_LEN, eb);
}

bb_err bb_attach_seal_head(struct bb_attach_header *hdr, const uint8_t hq_pk[BB_HPKE_PK_LEN],
                           const bb_sign_key *device_key, uint8_t **head, size_t *head_len,
                           uint8_t chunk_key[BB_ATTACH_KEY_LEN], bb_errbuf *eb)
{
    bb_hpke_setup s = setup_for(hq_pk, NULL);
    bb_hpke_ctx *ctx = NULL;
    char kid[BB_KEY_ID_SIZE], *text = NULL;
    size_t tlen = 0, total;
    uint8_t *buf;
    bb_err rc;

    if (!head || !head_len || !hdr || !hq_pk || !device_key || !chunk_key)
        return bb_fail(eb, BB_ERR_INTERNAL, "seal attachment: missing argument");
    *head = NULL;
    *head_len = 0;
    hdr->chunk_size = BB_ATTACH_CHUNK;
    hdr->chunks = bb_attach_chunk_count(hdr->size, hdr->chunk_size);
    if ((rc = header_check(hdr, eb)) != BB_OK)
        return rc;
    if ((rc = bb_key_id(hq_pk, BB_HPKE_PK_LEN, kid, eb)) != BB_OK)
        return rc;
    if (strcmp(kid, hdr->hq_key) != 0)
        return bb_fail(eb, BB_ERR_INVALID, "seal attachment: \"hq_key\" is not the "
                       "id of the HQ key given");
    if ((rc = bb_sign_key_id(device_key, kid, eb)) != BB_OK)
        return rc;
    if (strcmp(kid, hdr->device_key) != 0)
        return bb_fail(eb, BB_ERR_INVALID, "seal attachment: \"device_key\" is not "
                       "the id of the device key given");
    if ((rc = bb_hpke_setup_sender(&s, &ctx, hdr->enc, eb)) != BB_OK)
        return rc;
    rc = export_key(ctx, chunk_key, eb);
    bb_hpke_ctx_free(ctx);
    if (rc != BB_OK)
        return rc;
    if ((rc = header_build(hdr, &text, &tlen, eb)) != BB_OK)
        goto fail;
    total = BB_ATTACH_FIXED + tlen + BB_ATTACH_SIG_LEN;
    if (!(buf = malloc(total))) {
        free(text);
        rc = bb_fail(eb, BB_ERR_NOMEM, "seal attachment: out of memory");
        goto fail;
    }
    memcpy(buf, BB_ATTACH_MAGIC, 8);
    put_be16(buf + 8, BB_ATTACH_VERSION);
    put_be16(buf + 10, 0);
    put_be32(buf + 12, (uint32_t)tlen);
    memcpy(buf + BB_ATTACH_FIXED, text, tlen);
    free(text);
    rc = bb_sign(device_key, buf, BB_ATTACH_FIXED + tlen, buf + BB_ATTACH_FIXED + tlen, eb);
    if (rc != BB_OK) {
        bb_errbuf_prefix(eb, "seal attachment");
        free(buf);
        goto fail;
    }
    *head = buf;
    *head_len = total;
    return BB_OK;
fail:
    wipe(chunk_key, BB_ATTACH_KEY_LEN);
    return rc;
}

bb_err bb_attach_parse(const uint8_t *buf, size_t len, struct bb_attach_view *v,
                       bb_errbuf *eb)
{
    uint32_t hl;
    bb_err rc;

    if (!v)
        return bb_fail(eb, BB_ERR_INTERNAL, "attachment head: no view");
    memset(v, 0, sizeof *v);
    if (!buf || len < BB_ATTACH_FIXED + 2 + BB_ATTACH_SIG_LEN)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: %zu bytes is too short",
                       buf ? len : 0);
    if (memcmp(buf, BB_ATTACH_MAGIC, 8) != 0)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: not a Beatbook attachment "
                       "(bad magic)");
    if (((buf[8] << 8) | buf[9]) != BB_ATTACH_VERSION)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: version %d is not %d",
                       (buf[8] << 8) | buf[9], BB_ATTACH_VERSION);
    if (buf[10] || buf[11])
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: flags must be 0");
    hl = ((uint32_t)buf[12] << 24) | ((uint32_t)buf[13] << 16) |
         ((uint32_t)buf[14] << 8) | buf[15];
    if (hl < 2 || hl > BB_ATTACH_MAX_HEADER)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: header length %u is not "
                       "2 to %d", hl, BB_ATTACH_MAX_HEADER);
    if (len < BB_ATTACH_FIXED + (size_t)hl + BB_ATTACH_SIG_LEN)
        return bb_fail(eb, BB_ERR_INVALID, "attachment head: cut short");
    rc = header_parse(buf + BB_ATTACH_FIXED, hl, &v->hdr, eb);
    if (rc != BB_OK) {
        memset(v, 0, sizeof *v);
        return rc;
    }
    v->buf = buf;
    v->header_bytes = buf + BB_ATTACH_FIXED;
    v->header_len = hl;
    v->sig = buf + BB_ATTACH_FIXED + hl;
    v->head_len = BB_ATTACH_FIXED + hl + BB_ATTACH_SIG_LEN;
    mbedtls_sha256_ret(v->header_bytes, hl, v->header_digest, 0);
    return BB_OK;
}

bb_err bb_attach_verify(struct bb_attach_view *v, const bb_sign_key *device_pub,
                        bb_errbuf *eb)
{
    char kid[BB_KEY_ID_SIZE];
    bb_err rc;

    if (!v || !v->buf || !device_pub)
        return bb_fail(eb, BB_ERR_INTERNAL, "verify attachment: missing argument");
    v->verified = 0;
    if ((rc = bb_sign_key_id(device_pub, kid, eb)) != BB_OK)
        return rc;
    if (strcmp(kid, v->hdr.device_key) != 0)
        return bb_fail(eb, BB_ERR_CRYPTO, "attachment head: signed with key %s, not "
                       "this device's key %s", v->hdr.device_key, kid);
    rc = bb_sign_verify(device_pub, v->buf, BB_ATTACH_FIXED + v->header_len, v->sig, eb);
    if (rc != BB_OK)
        return rc;
    v->verified = 1;
    return BB_OK;
}

bb_err bb_attach_open_key(const struct bb_attach_view *v, const uint8_t hq_sk[BB_HPKE_SK_LEN],
                          uint8_t chunk_key[BB_ATTACH_KEY_LEN], bb_errbuf *eb)
{
    uint8_t pk[BB_HPKE_PK_LEN];
    char kid[BB_KEY_ID_SIZE];
    bb_hpke_setup s = setup_for(NULL, hq_sk);
    bb_hpke_ctx *ctx = NULL;
    bb_err rc;

    if (!v || !v->verified)
        return bb_fail(eb, BB_ERR_STATE, "open attachment: the head's signature has "
                       "not been verified");
    if ((rc = bb_hpke_public_key(hq_sk, pk, eb)) != BB_OK ||
        (rc = bb_key_id(pk, sizeof pk, kid, eb)) != BB_OK)
        return rc;
    if (strcmp(kid, v->hdr.hq_key) != 0)
        return bb_fail(eb, BB_ERR_CRYPTO, "attachment head: sealed to HQ key %s, not "
                       "this HQ's key %s", v->hdr.hq_key, kid);
    if ((rc = bb_hpke_setup_receiver(&s, v->hdr.enc, &ctx, eb)) != BB_OK)
        return rc;
    rc = export_key(ctx, chunk_key, eb);
    bb_hpke_ctx_free(ctx);
    return rc;
}

/* ---- Chunks -------------------------------------------------------------- */

static void chunk_nonce_aad(const uint8_t digest[32], const struct bb_attach_header *h,
                            int64_t i, uint8_t nonce[12], uint8_t aad[AAD_LEN])
{
    memset(nonce, 0, 4);
    put_be64(nonce + 4, (uint64_t)i);
    memcpy(aad, AAD_LABEL, sizeof AAD_LABEL - 1);
    memcpy(aad + sizeof AAD_LABEL - 1, digest, 32);
    put_be64(aad + sizeof AAD_LABEL - 1 + 32, (uint64_t)i);
    put_be64(aad + sizeof AAD_LABEL - 1 + 40, (uint64_t)h->chunks);
}

bb_err bb_attach_chunk_seal(const uint8_t key[BB_ATTACH_KEY_LEN], const uint8_t header_digest[32],
                            const struct bb_attach_header *h, int64_t i, const uint8_t *pt,
                            size_t pt_len, uint8_t *out, bb_errbuf *eb)
{
    mbedtls_gcm_context g;
    uint8_t nonce[12], aad[AAD_LEN];
    int r;

    if (!h || i < 0 || i >= h->chunks || pt_len != bb_attach_chunk_len(h, i) || !out)
        return bb_fail(eb, BB_ERR_INVALID, "seal chunk: chunk %lld of %lld must be "
                       "%zu bytes", (long long)i, h ? (long long)h->chunks : 0LL,
                       bb_attach_chunk_len(h, i));
    chunk_nonce_aad(header_digest, h, i, nonce, aad);
    mbedtls_gcm_init(&g);
    r = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (r == 0)
        r = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, pt_len, nonce, sizeof nonce,
                                      aad, sizeof aad, pt, out, BB_ATTACH_TAG_LEN,
                                      out + pt_len);
    mbedtls_gcm_free(&g);
    if (r != 0)
        return bb_fail(eb, BB_ERR_CRYPTO, "seal chunk: AES-GCM failed");
    return BB_OK;
}

bb_err bb_attach_chunk_open(const uint8_t key[BB_ATTACH_KEY_LEN], const uint8_t header_digest[32],
                            const struct bb_attach_header *h, int64_t i, const uint8_t *ct,
                            size_t ct_len, uint8_t *out, bb_errbuf *eb)
{
    mbedtls_gcm_context g;
    uint8_t nonce[12], aad[AAD_LEN];
    size_t want;
    int r;

    if (!h || i < 0 || i >= h->chunks)
        return bb_fail(eb, BB_ERR_INVALID, "chunk %lld is out of range (the file has "
                       "%lld)", (long long)i, h ? (long long)h->chunks : 0LL);
    want = bb_attach_chunk_len(h, i);
    if (!ct || ct_len != want + BB_ATTACH_TAG_LEN)
        return bb_fail(eb, BB_ERR_INVALID, "chunk %lld must be %zu bytes, not %zu",
                       (long long)i, want + BB_ATTACH_TAG_LEN, ct_len);
    chunk_nonce_aad(header_digest, h, i, nonce, aad);
    mbedtls_gcm_init(&g);
    r = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (r == 0)
        r = mbedtls_gcm_auth_decrypt(&g, want, nonce, sizeof nonce, aad, sizeof aad,
                                     ct + want, BB_ATTACH_TAG_LEN, ct, out);
    mbedtls_gcm_free(&g);
    if (r != 0) {
        wipe(out, want);
        return bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
    }
    return BB_OK;
}

int64_t bb_attach_chunk_offset(const struct bb_attach_view *v, int64_t i)
{
    return (int64_t)v->head_len + i * (v->hdr.chunk_size + BB_ATTACH_TAG_LEN);
}
