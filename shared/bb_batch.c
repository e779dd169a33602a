/*
 * bb_batch.c — sealing and opening the batch container (see bb_batch.h and
 * docs/FORMATS.md §1, which fixes the bytes).
 *
 * The parser trusts nothing: the fixed part is read only after the size is
 * known to cover it, both lengths are capped before they are added, and the
 * header must be exactly its own canonical JSON with the eleven keys and
 * nothing else, so one batch has one encoding and its hash identifies it.
 * The sealer builds its header with the same validator the parser uses, so
 * a device never produces a batch HQ would refuse for its form.
 *
 * The signature is ECDSA P-256 with SHA-256 over bytes [0, 20+H+P): bb_sign
 * and bb_sign_verify hash the message themselves, so they are given those
 * bytes, not a digest (a digest would be hashed twice).
 *
 * Secrets: the records are police data.  Every intermediate buffer holding
 * them in the clear (compressed or not) is wiped before it is freed, on
 * every path; the caller owns and wipes what bb_batch_decrypt returns.
 */
#include "bb_batch.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <zstd.h>

#include "bb_codec.h"
#include "bb_json.h"
#include "bb_time.h"
#include "bb_uuid.h"

#define wipe mbedtls_platform_zeroize

#define ZSTD_LEVEL 3
#define MAX_SAFE_INT 9007199254740992.0       /* 2^53: integers below are exact */
#define ENC_B64_LEN 44                        /* base64 of 32 bytes */
#define HEADER_KEYS 11

/* ---- Small helpers ----------------------------------------------------- */

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

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int is_lower_hex(const char *s, size_t n)
{
    size_t i;

    if (strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* A UUID as bb_uuid7 writes it: lowercase, so that it has one spelling. */
static int is_lower_uuid(const char *s)
{
    size_t i;

    if (!bb_uuid_valid(s))
        return 0;
    for (i = 0; s[i]; i++)
        if (s[i] >= 'A' && s[i] <= 'F')
            return 0;
    return 1;
}

/* A device id: 1..79 bytes of UTF-8 without control characters. */
static int device_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n < 1 || n >= sizeof ((struct bb_batch_header *)0)->device)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return bb_utf8_length(s) >= 1;
}

/*
 * A key name from input, made safe for a one-line message: printable ASCII
 * only (others become '?'), cut to 32 characters.
 */
static const char *safe_name(const char *s, char out[40])
{
    size_t i;

    for (i = 0; s[i] && i < 32; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

void bb_sha256_hex(const uint8_t *buf, size_t len, char out[BB_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    static const uint8_t empty[1];
    uint8_t h[32];
    size_t i;

    if (mbedtls_sha256_ret(buf ? buf : empty, buf ? len : 0, h, 0) != 0) {
        /* Cannot happen with the software SHA-256; never leave garbage. */
        memset(out, 0, BB_SHA256_HEX);
        return;
    }
    for (i = 0; i < sizeof h; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 0x0f];
    }
    out[64] = '\0';
}

/* ---- Header fields ----------------------------------------------------- */

/*
 * Check every field of a header as a struct (enc excepted: it is bytes).
 * Used by the sealer on its input and by the parser on what it read, so
 * the two can never disagree on what a valid header is.
 */
static bb_err header_check(const struct bb_batch_header *h, bb_errbuf *eb)
{
    int64_t t;

    if (memchr(h->device, '\0', sizeof h->device) == NULL || !device_ok(h->device))
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"device\" must be "
                       "1 to %zu bytes of UTF-8 without control characters",
                       sizeof h->device - 1);
    if (memchr(h->batch, '\0', sizeof h->batch) == NULL || !is_lower_uuid(h->batch))
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"batch\" must be a "
                       "lowercase UUID");
    if (h->seq < 1 || (double)h->seq >= MAX_SAFE_INT)
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"seq\" must be a "
                       "positive integer below 2^53");
    if (memchr(h->prev, '\0', sizeof h->prev) == NULL || !is_lower_hex(h->prev, 64))
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"prev\" must be 64 "
                       "lowercase hex characters (SHA-256 of the previous batch)");
    if (h->seq == 1 && strcmp(h->prev, "0000000000000000000000000000000000000000"
                                       "000000000000000000000000") != 0)
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"prev\" must be 64 "
                       "zeros for seq 1");
    if (memchr(h->created_at, '\0', sizeof h->created_at) == NULL ||
        bb_time_parse(h->created_at, &t, NULL, NULL) != BB_OK)
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"created_at\" must be "
                       "an RFC 3339 time with an offset, e.g. "
                       "2018-03-15T18:00:02+08:00");
    if (h->count < 1 || h->count > BB_BATCH_MAX_RECORDS)
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"count\" must be 1 to %d",
                       BB_BATCH_MAX_RECORDS);
    if (memchr(h->hq_key, '\0', sizeof h->hq_key) == NULL ||
        !is_lower_hex(h->hq_key, BB_KEY_ID_LEN))
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"hq_key\" must be a "
                       "key id of %d lowercase hex characters", BB_KEY_ID_LEN);
    if (memchr(h->device_key, '\0', sizeof h->device_key) == NULL ||
        !is_lower_hex(h->device_key, BB_KEY_ID_LEN))
        return bb_fail(eb, BB_ERR_INVALID, "batch header: \"device_key\" must "
                       "be a key id of %d lowercase hex characters", BB_KEY_ID_LEN);
    return BB_OK;
}

/* The canonical header text (malloc'd, NUL-terminated) of a checked header. */
static bb_err header_build(const struct bb_batch_header *h, char **out,
                           size_t *out_len, bb_errbuf *eb)
{
    char enc_b64[BB_BASE64_SIZE(BB_HPKE_ENC_LEN)];
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    bb_err rc;

    *out = NULL;
    *out_len = 0;
    if (!o)
        return bb_fail(eb, BB_ERR_NOMEM, "batch header: out of memory");
    rc = bb_base64_encode(h->enc, BB_HPKE_ENC_LEN, enc_b64, sizeof enc_b64,
                          NULL, eb);
    if (rc != BB_OK) {
        cJSON_Delete(o);
        return rc;
    }
    if (!cJSON_AddNumberToObject(o, "v", BB_BATCH_VERSION) ||
        !cJSON_AddStringToObject(o, "device", h->device) ||
        !cJSON_AddStringToObject(o, "batch", h->batch) ||
        !cJSON_AddNumberToObject(o, "seq", (double)h->seq) ||
        !cJSON_AddStringToObject(o, "prev", h->prev) ||
        !cJSON_AddStringToObject(o, "created_at", h->created_at) ||
        !cJSON_AddNumberToObject(o, "count", (double)h->count) ||
        !cJSON_AddStringToObject(o, "suite", BB_BATCH_SUITE) ||
        !cJSON_AddStringToObject(o, "hq_key", h->hq_key) ||
        !cJSON_AddStringToObject(o, "device_key", h->device_key) ||
        !cJSON_AddStringToObject(o, "enc", enc_b64) ||
        !(text = bb_json_canonical(o))) {
        cJSON_Delete(o);
        return bb_fail(eb, BB_ERR_NOMEM, "batch header: out of memory");
    }
    cJSON_Delete(o);
    *out_len = strlen(text);
    if (*out_len > BB_BATCH_MAX_HEADER) {
        bb_fail(eb, BB_ERR_TOOBIG, "batch header: %zu bytes is over the limit "
                "of %d", *out_len, BB_BATCH_MAX_HEADER);
        free(text);
        *out_len = 0;
        return BB_ERR_TOOBIG;
    }
    *out = text;
    return BB_OK;
}

/* Copy a string member into a fixed field; 0 if it is not a string or too long. */
static int take_str(const cJSON *it, char *dst, size_t dst_size)
{
    size_t n;

    if (!cJSON_IsString(it) || !it->valuestring)
        return 0;
    n = strlen(it->valuestring);
    if (n >= dst_size)
        return 0;
    memcpy(dst, it->valuestring, n + 1);
    return 1;
}

/* An integer member in [1, 2^53); 0 if it is anything else. */
static int take_int(const cJSON *it, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(it))
        return 0;
    d = it->valuedouble;
    if (!(d >= 1.0 && d < MAX_SAFE_INT) || d != (double)(int64_t)d)
        return 0;
    *out = (int64_t)d;
    return 1;
}

/*
 * Parse and check the header bytes into h.  The text must be one JSON
 * object, byte-identical to its canonical form, with exactly the eleven
 * keys of FORMATS.md §1, each well-formed.
 */
static bb_err header_parse(const uint8_t *bytes, size_t len,
                           struct bb_batch_header *h, bb_errbuf *eb)
{
    static const char *const keys[HEADER_KEYS] = {
        "v", "device", "batch", "seq", "prev", "created_at", "count", "suite",
        "hq_key", "device_key", "enc"
    };
    const cJSON *it[HEADER_KEYS] = {0};
    const cJSON *c;
    cJSON *root = NULL;
    char *canon = NULL;
    char name[40];
    size_t i, enc_len = 0;
    bb_err rc;

    memset(h, 0, sizeof *h);
    /* cJSON would stop at a NUL; the header must not hide bytes after one. */
    if (memchr(bytes, '\0', len) != NULL)
        return bb_fail(eb, BB_ERR_INVALID, "batch header: contains a NUL byte");
    rc = bb_json_parse((const char *)bytes, len, "batch header", &root, eb);
    if (rc != BB_OK)
        return rc;
    if (!cJSON_IsObject(root)) {
        rc = bb_fail(eb, BB_ERR_INVALID, "batch header: must be a JSON object");
        goto out;
    }
    canon = bb_json_canonical(root);
    if (!canon) {
        rc = bb_fail(eb, BB_ERR_NOMEM, "batch header: out of memory");
        goto out;
    }
    if (strlen(canon) != len || memcmp(canon, bytes, len) != 0) {
        rc = bb_fail(eb, BB_ERR_INVALID, "batch header: not in canonical JSON "
                     "form (sorted keys, no whitespace, minimal escapes, plain "
                     "integers)");
        goto out;
    }
    cJSON_ArrayForEach(c, root) {
        size_t k;
        for (k = 0; k < HEADER_KEYS; k++)
            if (c->string && strcmp(c->string, keys[k]) == 0)
                break;
        if (k == HEADER_KEYS) {
            rc = bb_fail(eb, BB_ERR_INVALID, "batch header: unknown key \"%s\"",
                         safe_name(c->string ? c->string : "", name));
            goto out;
        }
        if (it[k]) {
            rc = bb_fail(eb, BB_ERR_INVALID, "batch header: key \"%s\" appears "
                         "twice", keys[k]);
            goto out;
        }
        it[k] = c;
    }
    for (i = 0; i < HEADER_KEYS; i++) {
        if (!it[i]) {
            rc = bb_fail(eb, BB_ERR_INVALID, "batch header: key \"%s\" is "
                         "missing", keys[i]);
            goto out;
        }
    }
    /* Now exactly the eleven keys, each once. */

    rc = BB_ERR_INVALID;
    if (!cJSON_IsNumber(it[0]) || it[0]->valuedouble != BB_BATCH_VERSION) {
        bb_fail(eb, rc, "batch header: \"v\" must be %d (this program reads "
                "version %d headers)", BB_BATCH_VERSION, BB_BATCH_VERSION);
        goto out;
    }
    if (!take_str(it[1], h->device, sizeof h->device)) {
        bb_fail(eb, rc, "batch header: \"device\" must be a string of 1 to "
                "%zu bytes", sizeof h->device - 1);
        goto out;
    }
    if (!take_str(it[2], h->batch, sizeof h->batch)) {
        bb_fail(eb, rc, "batch header: \"batch\" must be a lowercase UUID");
        goto out;
    }
    if (!take_int(it[3], &h->seq)) {
        bb_fail(eb, rc, "batch header: \"seq\" must be a positive integer");
        goto out;
    }
    if (!take_str(it[4], h->prev, sizeof h->prev)) {
        bb_fail(eb, rc, "batch header: \"prev\" must be 64 lowercase hex "
                "characters");
        goto out;
    }
    if (!take_str(it[5], h->created_at, sizeof h->created_at)) {
        bb_fail(eb, rc, "batch header: \"created_at\" must be an RFC 3339 "
                "time with an offset");
        goto out;
    }
    if (!take_int(it[6], &h->count)) {
        bb_fail(eb, rc, "batch header: \"count\" must be a positive integer");
        goto out;
    }
    if (!cJSON_IsString(it[7]) || strcmp(it[7]->valuestring, BB_BATCH_SUITE) != 0) {
        bb_fail(eb, rc, "batch header: \"suite\" must be \"%s\"", BB_BATCH_SUITE);
        goto out;
    }
    if (!take_str(it[8], h->hq_key, sizeof h->hq_key)) {
        bb_fail(eb, rc, "batch header: \"hq_key\" must be a key id of %d "
                "lowercase hex characters", BB_KEY_ID_LEN);
        goto out;
    }
    if (!take_str(it[9], h->device_key, sizeof h->device_key)) {
        bb_fail(eb, rc, "batch header: \"device_key\" must be a key id of %d "
                "lowercase hex characters", BB_KEY_ID_LEN);
        goto out;
    }
    if (!cJSON_IsString(it[10]) || strlen(it[10]->valuestring) != ENC_B64_LEN ||
        bb_base64_decode(it[10]->valuestring, ENC_B64_LEN, h->enc, sizeof h->enc,
                         &enc_len, NULL) != BB_OK ||
        enc_len != BB_HPKE_ENC_LEN) {
        bb_fail(eb, rc, "batch header: \"enc\" must be base64 of %d bytes",
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


/*
 * Check that text (len bytes) is a JSON array of exactly count objects.
 * `what` names it in messages.  No NUL may hide anything after the value.
 */
static bb_err records_check(const char *text, size_t len, int64_t count,
                            const char *what, bb_errbuf *eb)
{
    long long n = 0;
    bb_err rc;

    /* A structural scan, not a parse: the device seals its own canonical
     * records, and HQ parses and validates every record when it merges. */
    if (memchr(text, '\0', len) != NULL)
        return bb_fail(eb, BB_ERR_INVALID, "%s: contains a NUL byte", what);
    if ((rc = bb_json_scan_objects(text, len, what, &n, eb)) != BB_OK)
        return rc;
    if (n != count)
        return bb_fail(eb, BB_ERR_INVALID, "%s: holds %lld records but the "
                       "header's \"count\" is %lld", what, n, (long long)count);
    return BB_OK;
}

/* ---- Seal --------------------------------------------------------------- */

bb_err bb_batch_seal(const struct bb_batch_header *hdr, const char *records_json,
                     size_t records_len, const uint8_t hq_pk[BB_HPKE_PK_LEN],
                     const bb_sign_key *device_key, uint8_t **out, size_t *out_len,
                     bb_errbuf *eb)
{
    struct bb_batch_header h;
    bb_hpke_setup s = { .mode = BB_HPKE_MODE_BASE, .suite = BB_HPKE_SUITE_BATCH,
                        .pkR = hq_pk, .info = (const uint8_t *)BB_BATCH_INFO,
                        .info_len = sizeof BB_BATCH_INFO - 1 };
    char kid[BB_KEY_ID_SIZE];
    char *htext = NULL;
    size_t hlen = 0, zcap = 0, zlen = 0, ct_len = 0, total;
    uint8_t *z = NULL, *ct = NULL, *buf = NULL;
    bb_err rc;

    if (!out || !out_len)
        return bb_fail(eb, BB_ERR_INTERNAL, "seal batch: no output");
    *out = NULL;
    *out_len = 0;
    if (!hdr || !records_json || !hq_pk || !device_key)
        return bb_fail(eb, BB_ERR_INTERNAL, "seal batch: missing argument");
    if (records_len > BB_BATCH_MAX_PLAIN)
        return bb_fail(eb, BB_ERR_TOOBIG, "seal batch: %zu bytes of records is "
                       "over the limit of %zu", records_len, BB_BATCH_MAX_PLAIN);
    h = *hdr;
    rc = header_check(&h, eb);
    if (rc != BB_OK)
        return rc;
    rc = bb_key_id(hq_pk, BB_HPKE_PK_LEN, kid, eb);
    if (rc != BB_OK)
        return rc;
    if (strcmp(kid, h.hq_key) != 0)
        return bb_fail(eb, BB_ERR_INVALID, "seal batch: \"hq_key\" %s is not "
                       "the id of the HQ key given (%s)", h.hq_key, kid);
    rc = bb_sign_key_id(device_key, kid, eb);
    if (rc != BB_OK)
        return rc;
    if (strcmp(kid, h.device_key) != 0)
        return bb_fail(eb, BB_ERR_INVALID, "seal batch: \"device_key\" %s is "
                       "not the id of the device key given (%s)", h.device_key,
                       kid);
    rc = records_check(records_json, records_len, h.count, "seal batch: records",
                       eb);
    if (rc != BB_OK)
        return rc;

    zcap = ZSTD_compressBound(records_len);
    if (ZSTD_isError(zcap) || !(z = malloc(zcap ? zcap : 1)))
        return bb_fail(eb, BB_ERR_NOMEM, "seal batch: out of memory");
    {
        /* One compression context per thread, kept: making a fresh one per
         * batch (ZSTD_compress) costs megabytes of page faults each time. */
        static _Thread_local ZSTD_CCtx *cctx;
        if (!cctx && !(cctx = ZSTD_createCCtx()))
            zlen = (size_t)-1;
        else
            zlen = ZSTD_compressCCtx(cctx, z, zcap, records_json, records_len, ZSTD_LEVEL);
    }
    if (ZSTD_isError(zlen)) {
        rc = bb_fail(eb, BB_ERR_INTERNAL, "seal batch: zstd: %s",
                     ZSTD_getErrorName(zlen));
        zlen = 0;
        goto out;
    }
    if (zlen + BB_HPKE_TAG_LEN > BB_BATCH_MAX_PAYLOAD) {
        rc = bb_fail(eb, BB_ERR_TOOBIG, "seal batch: %zu compressed bytes is "
                     "over the limit of %zu", zlen,
                     BB_BATCH_MAX_PAYLOAD - BB_HPKE_TAG_LEN);
        goto out;
    }

    /* The header carries enc, and enc comes from the HPKE setup whose aad is
     * the header: so set up the sender context first, then build the header
     * and seal with it as aad. */
    {
        bb_hpke_ctx *ctx = NULL;
        rc = bb_hpke_setup_sender(&s, &ctx, h.enc, eb);
        if (rc != BB_OK)
            goto out;
        rc = header_build(&h, &htext, &hlen, eb);
        if (rc == BB_OK) {
            ct = malloc(zlen + BB_HPKE_TAG_LEN);
            if (!ct)
                rc = bb_fail(eb, BB_ERR_NOMEM, "seal batch: out of memory");
        }
        if (rc == BB_OK)
            rc = bb_hpke_ctx_seal(ctx, (const uint8_t *)htext, hlen, z, zlen, ct,
                                  zlen + BB_HPKE_TAG_LEN, &ct_len, eb);
        bb_hpke_ctx_free(ctx);
        if (rc != BB_OK)
            goto out;
    }
    if (ct_len < 16 || ct_len > BB_BATCH_MAX_PAYLOAD) {
        rc = bb_fail(eb, BB_ERR_INTERNAL, "seal batch: unexpected ciphertext "
                     "length %zu", ct_len);
        goto out;
    }

    total = BB_BATCH_FIXED + hlen + ct_len + BB_BATCH_SIG_LEN;
    buf = malloc(total);
    if (!buf) {
        rc = bb_fail(eb, BB_ERR_NOMEM, "seal batch: out of memory");
        goto out;
    }
    memcpy(buf, BB_BATCH_MAGIC, 8);
    put_be16(buf + 8, BB_BATCH_VERSION);
    put_be16(buf + 10, 0);
    put_be32(buf + 12, (uint32_t)hlen);
    put_be32(buf + 16, (uint32_t)ct_len);
    memcpy(buf + BB_BATCH_FIXED, htext, hlen);
    memcpy(buf + BB_BATCH_FIXED + hlen, ct, ct_len);
    rc = bb_sign(device_key, buf, total - BB_BATCH_SIG_LEN,
                 buf + total - BB_BATCH_SIG_LEN, eb);
    if (rc != BB_OK) {
        bb_errbuf_prefix(eb, "seal batch");
        free(buf);
        buf = NULL;
        goto out;
    }
    *out = buf;
    *out_len = total;
out:
    if (z) {
        wipe(z, zlen && !ZSTD_isError(zlen) ? zlen : zcap);
        free(z);
    }
    free(ct);           /* ciphertext: nothing secret */
    free(htext);
    wipe(&h, sizeof h);
    return rc;
}

/* ---- Open: parse, verify, decrypt ------------------------------------- */

bb_err bb_batch_parse(const uint8_t *buf, size_t len, struct bb_batch_view *view,
                      bb_errbuf *eb)
{
    uint32_t hl, pl;
    uint16_t version, flags;
    bb_err rc;

    if (!view)
        return bb_fail(eb, BB_ERR_INTERNAL, "batch: no view");
    memset(view, 0, sizeof *view);
    if (!buf && len)
        return bb_fail(eb, BB_ERR_INTERNAL, "batch: a length without data");
    if (len > BB_BATCH_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "batch: %zu bytes is over the limit "
                       "of %zu", len, (size_t)BB_BATCH_MAX);
    if (len < BB_BATCH_FIXED + 2 + 16 + BB_BATCH_SIG_LEN)
        return bb_fail(eb, BB_ERR_INVALID, "batch: %zu bytes is too short for a "
                       "batch (at least %d)", len,
                       BB_BATCH_FIXED + 2 + 16 + BB_BATCH_SIG_LEN);
    if (memcmp(buf, BB_BATCH_MAGIC, 8) != 0)
        return bb_fail(eb, BB_ERR_INVALID, "batch: not a Beatbook batch (bad "
                       "magic; a file copied in text mode?)");
    version = get_be16(buf + 8);
    if (version != BB_BATCH_VERSION)
        return bb_fail(eb, BB_ERR_INVALID, "batch: version %u is not supported "
                       "(this program reads version %d)", version,
                       BB_BATCH_VERSION);
    flags = get_be16(buf + 10);
    if (flags != 0)
        return bb_fail(eb, BB_ERR_INVALID, "batch: flags 0x%04x must be 0",
                       flags);
    hl = get_be32(buf + 12);
    pl = get_be32(buf + 16);
    if (hl > BB_BATCH_MAX_HEADER)
        return bb_fail(eb, BB_ERR_TOOBIG, "batch: header_len %lu is over the "
                       "limit of %d", (unsigned long)hl, BB_BATCH_MAX_HEADER);
    if (hl < 2)
        return bb_fail(eb, BB_ERR_INVALID, "batch: header_len %lu is too small",
                       (unsigned long)hl);
    if (pl > BB_BATCH_MAX_PAYLOAD)
        return bb_fail(eb, BB_ERR_TOOBIG, "batch: payload_len %lu is over the "
                       "limit of %zu", (unsigned long)pl, BB_BATCH_MAX_PAYLOAD);
    if (pl < BB_HPKE_TAG_LEN)
        return bb_fail(eb, BB_ERR_INVALID, "batch: payload_len %lu is too small "
                       "(at least %d)", (unsigned long)pl, BB_HPKE_TAG_LEN);
    /* Both capped above: the sum cannot overflow. */
    if ((size_t)BB_BATCH_FIXED + hl + pl + BB_BATCH_SIG_LEN != len)
        return bb_fail(eb, BB_ERR_INVALID, "batch: length %zu does not match "
                       "header_len + payload_len (%zu expected)", len,
                       (size_t)BB_BATCH_FIXED + hl + pl + BB_BATCH_SIG_LEN);

    rc = header_parse(buf + BB_BATCH_FIXED, hl, &view->hdr, eb);
    if (rc != BB_OK) {
        memset(view, 0, sizeof *view);
        return rc;
    }
    view->buf = buf;
    view->len = len;
    view->header_bytes = buf + BB_BATCH_FIXED;
    view->header_len = hl;
    view->payload = buf + BB_BATCH_FIXED + hl;
    view->payload_len = pl;
    view->sig = buf + BB_BATCH_FIXED + hl + pl;
    view->verified = 0;
    return BB_OK;
}

bb_err bb_batch_verify(struct bb_batch_view *view, const bb_sign_key *device_pub,
                       bb_errbuf *eb)
{
    char kid[BB_KEY_ID_SIZE];
    bb_err rc;

    if (!view || !view->buf || !view->sig)
        return bb_fail(eb, BB_ERR_STATE, "batch: verify before a successful parse");
    view->verified = 0;
    if (!device_pub)
        return bb_fail(eb, BB_ERR_INTERNAL, "batch: verify without a key");
    /* The view's pointers must be the ones parse set up. */
    if (view->sig != view->buf + view->len - BB_BATCH_SIG_LEN)
        return bb_fail(eb, BB_ERR_INTERNAL, "batch: inconsistent view");
    rc = bb_sign_verify(device_pub, view->buf, view->len - BB_BATCH_SIG_LEN,
                        view->sig, NULL);
    if (rc == BB_ERR_NOMEM)
        return bb_fail(eb, rc, "batch signature: out of memory");
    if (rc != BB_OK)
        return bb_fail(eb, BB_ERR_CRYPTO, "batch signature: authentication failed");
    /* The signed header names the signing key: it must be this one. */
    rc = bb_sign_key_id(device_pub, kid, eb);
    if (rc != BB_OK)
        return rc;
    if (strcmp(kid, view->hdr.device_key) != 0)
        return bb_fail(eb, BB_ERR_CRYPTO, "batch signature: the header names "
                       "device key %s but the batch verifies with key %s",
                       view->hdr.device_key, kid);
    view->verified = 1;
    return BB_OK;
}

/*
 * Decompress one zstd frame of known size within BB_BATCH_MAX_PLAIN into
 * a new NUL-terminated buffer.  The declared size is checked before any
 * allocation and the output buffer is exactly that size, so a frame that
 * lies about its size fails instead of writing past it.
 */
static bb_err unzstd(const uint8_t *z, size_t zlen, char **out, size_t *out_len,
                     bb_errbuf *eb)
{
    unsigned long long declared;
    size_t frame, got;
    char *plain;

    *out = NULL;
    *out_len = 0;
    declared = ZSTD_getFrameContentSize(z, zlen);
    if (declared == ZSTD_CONTENTSIZE_ERROR)
        return bb_fail(eb, BB_ERR_INVALID, "batch payload: not a zstd frame");
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN)
        return bb_fail(eb, BB_ERR_INVALID, "batch payload: the zstd frame does "
                       "not declare its size");
    if (declared > BB_BATCH_MAX_PLAIN)
        return bb_fail(eb, BB_ERR_TOOBIG, "batch payload: decompresses to %llu "
                       "bytes, over the limit of %zu", declared,
                       BB_BATCH_MAX_PLAIN);
    if (declared == 0)
        return bb_fail(eb, BB_ERR_INVALID, "batch payload: empty");
    frame = ZSTD_findFrameCompressedSize(z, zlen);
    if (ZSTD_isError(frame) || frame != zlen)
        return bb_fail(eb, BB_ERR_INVALID, "batch payload: must be exactly one "
                       "zstd frame");
    plain = malloc((size_t)declared + 1);
    if (!plain)
        return bb_fail(eb, BB_ERR_NOMEM, "batch payload: out of memory for %llu "
                       "bytes", declared);
    got = ZSTD_decompress(plain, (size_t)declared, z, zlen);
    if (ZSTD_isError(got) || got != declared) {
        wipe(plain, (size_t)declared + 1);
        free(plain);
        return bb_fail(eb, BB_ERR_INVALID, "batch payload: zstd: %s",
                       ZSTD_isError(got) ? ZSTD_getErrorName(got) :
                       "size differs from the frame header");
    }
    plain[got] = '\0';
    *out = plain;
    *out_len = got;
    return BB_OK;
}

bb_err bb_batch_decrypt(const struct bb_batch_view *view, const uint8_t hq_sk[BB_HPKE_SK_LEN],
                        char **records_json, size_t *records_len, bb_errbuf *eb)
{
    bb_hpke_setup s = { .mode = BB_HPKE_MODE_BASE, .suite = BB_HPKE_SUITE_BATCH,
                        .skR = hq_sk, .info = (const uint8_t *)BB_BATCH_INFO,
                        .info_len = sizeof BB_BATCH_INFO - 1 };
    uint8_t pk[BB_HPKE_PK_LEN];
    char kid[BB_KEY_ID_SIZE];
    uint8_t *z = NULL;
    size_t zlen = 0, plen = 0;
    char *plain = NULL;
    bb_err rc;

    if (!records_json || !records_len)
        return bb_fail(eb, BB_ERR_INTERNAL, "batch: decrypt without output");
    *records_json = NULL;
    *records_len = 0;
    if (!view || !view->verified || !view->buf)
        return bb_fail(eb, BB_ERR_STATE, "batch: refusing to decrypt before the "
                       "device signature is verified");
    if (!hq_sk)
        return bb_fail(eb, BB_ERR_INTERNAL, "batch: decrypt without a key");

    /* A batch sealed to another (older?) HQ key: say so rather than only
     * "authentication failed", since key ids are public. */
    rc = bb_hpke_public_key(hq_sk, pk, eb);
    if (rc == BB_OK)
        rc = bb_key_id(pk, sizeof pk, kid, eb);
    if (rc != BB_OK)
        return rc;
    if (strcmp(kid, view->hdr.hq_key) != 0)
        return bb_fail(eb, BB_ERR_CRYPTO, "batch: sealed to HQ key %s, not to "
                       "this HQ key (%s)", view->hdr.hq_key, kid);

    rc = bb_hpke_open(&s, view->hdr.enc, view->header_bytes, view->header_len,
                      view->payload, view->payload_len, &z, &zlen, NULL);
    if (rc == BB_ERR_NOMEM)
        return bb_fail(eb, rc, "batch payload: out of memory");
    if (rc != BB_OK)
        return bb_fail(eb, BB_ERR_CRYPTO, "batch payload: authentication failed");
    rc = unzstd(z, zlen, &plain, &plen, eb);
    wipe(z, zlen);
    free(z);
    if (rc != BB_OK)
        return rc;
    rc = records_check(plain, plen, view->hdr.count, "batch payload", eb);
    if (rc != BB_OK) {
        wipe(plain, plen);
        free(plain);
        return rc;
    }
    *records_json = plain;
    *records_len = plen;
    return BB_OK;
}
