/*
 * bb_codec.c — hex and base64 (see bb_codec.h).
 *
 * Base64 goes through mbedtls/base64.h for the conversion itself; mbedtls
 * is lenient (it skips whitespace and line breaks), so we validate the text
 * first and only hand it canonical input.  Error messages name offsets, never
 * characters: a caller may be decoding a key.
 */
#include "bb_codec.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

static const char hexdigits[] = "0123456789abcdef";

bb_err bb_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size,
                     bb_errbuf *eb)
{
    if (len > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "hex encode: %zu bytes is over the "
                       "limit of %zu", len, BB_CODEC_MAX);
    if (out_size < BB_HEX_SIZE(len))
        return bb_fail(eb, BB_ERR_TOOBIG, "hex encode: %zu bytes need a buffer "
                       "of %zu, have %zu", len, BB_HEX_SIZE(len), out_size);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return BB_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bb_err bb_hex_decode(const char *hex, size_t hex_len, uint8_t *out,
                     size_t out_size, size_t *out_len, bb_errbuf *eb)
{
    *out_len = 0;
    if (hex_len % 2 != 0)
        return bb_fail(eb, BB_ERR_INVALID, "hex decode: odd length %zu",
                       hex_len);
    if (hex_len / 2 > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "hex decode: %zu characters is over "
                       "the limit", hex_len);
    if (hex_len / 2 > out_size)
        return bb_fail(eb, BB_ERR_TOOBIG, "hex decode: %zu bytes do not fit "
                       "in %zu", hex_len / 2, out_size);
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            mbedtls_platform_zeroize(out, i / 2);
            return bb_fail(eb, BB_ERR_INVALID, "hex decode: invalid hex digit "
                           "at offset %zu", hi < 0 ? i : i + 1);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = hex_len / 2;
    return BB_OK;
}

bb_err bb_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len,
                           bb_errbuf *eb)
{
    size_t n = strlen(hex);
    uint8_t *buf;
    bb_err rc;

    *out = NULL;
    *out_len = 0;
    if (n / 2 > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "hex decode: %zu characters is over "
                       "the limit", n);
    /* +1 so that an empty string still gets a non-NULL buffer. */
    buf = malloc(n / 2 + 1);
    if (!buf)
        return bb_fail(eb, BB_ERR_NOMEM, "hex decode: out of memory");
    rc = bb_hex_decode(hex, n, buf, n / 2, out_len, eb);
    if (rc != BB_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return BB_OK;
}

bb_err bb_base64_encode(const uint8_t *in, size_t len, char *out,
                        size_t out_size, size_t *out_len, bb_errbuf *eb)
{
    size_t olen = 0;

    if (out_len)
        *out_len = 0;
    if (len > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "base64 encode: %zu bytes is over "
                       "the limit of %zu", len, BB_CODEC_MAX);
    if (out_size < BB_BASE64_SIZE(len))
        return bb_fail(eb, BB_ERR_TOOBIG, "base64 encode: %zu bytes need a "
                       "buffer of %zu, have %zu", len, BB_BASE64_SIZE(len),
                       out_size);
    /* mbedtls leaves out untouched (no NUL) for empty input. */
    out[0] = '\0';
    if (len > 0 && mbedtls_base64_encode((unsigned char *)out, out_size,
                                         &olen, in, len) != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "base64 encode: mbedtls refused "
                       "a buffer of the documented size");
    if (out_len)
        *out_len = olen;
    return BB_OK;
}

bb_err bb_base64_encode_alloc(const uint8_t *in, size_t len, char **out,
                              bb_errbuf *eb)
{
    char *buf;
    bb_err rc;

    *out = NULL;
    if (len > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "base64 encode: %zu bytes is over "
                       "the limit of %zu", len, BB_CODEC_MAX);
    buf = malloc(BB_BASE64_SIZE(len));
    if (!buf)
        return bb_fail(eb, BB_ERR_NOMEM, "base64 encode: out of memory");
    rc = bb_base64_encode(in, len, buf, BB_BASE64_SIZE(len), NULL, eb);
    if (rc != BB_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return BB_OK;
}

/* Value of one base64 alphabet character, or -1. */
static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Check that b64 is canonical padded base64 and compute its decoded size.
 * Canonical: length a multiple of 4, alphabet characters only, '=' only as
 * the last one or two characters, and the bits that padding leaves over in
 * the last character are zero ("QR==" is rejected, "QQ==" accepted).
 */
static bb_err b64_check(const char *b64, size_t n, size_t *decoded,
                        bb_errbuf *eb)
{
    size_t pad = 0;

    if (n % 4 != 0)
        return bb_fail(eb, BB_ERR_INVALID, "base64 decode: length %zu is not "
                       "a multiple of 4", n);
    if (n >= 1 && b64[n - 1] == '=')
        pad = (n >= 2 && b64[n - 2] == '=') ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++)
        if (b64val(b64[i]) < 0)
            return bb_fail(eb, BB_ERR_INVALID, "base64 decode: invalid "
                           "character at offset %zu", i);
    if (pad > 0) {
        int last = b64val(b64[n - pad - 1]);
        int mask = pad == 1 ? 0x03 : 0x0f;
        if (last & mask)
            return bb_fail(eb, BB_ERR_INVALID, "base64 decode: non-zero "
                           "padding bits at offset %zu", n - pad - 1);
    }
    *decoded = n / 4 * 3 - pad;
    return BB_OK;
}

bb_err bb_base64_decode(const char *b64, size_t b64_len, uint8_t *out,
                        size_t out_size, size_t *out_len, bb_errbuf *eb)
{
    size_t want = 0, olen = 0;
    bb_err rc;

    *out_len = 0;
    if (b64_len / 4 * 3 > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "base64 decode: %zu characters is "
                       "over the limit", b64_len);
    rc = b64_check(b64, b64_len, &want, eb);
    if (rc != BB_OK)
        return rc;
    if (want > out_size)
        return bb_fail(eb, BB_ERR_TOOBIG, "base64 decode: %zu bytes do not "
                       "fit in %zu", want, out_size);
    if (want == 0)
        return BB_OK;
    if (mbedtls_base64_decode(out, out_size, &olen,
                              (const unsigned char *)b64, b64_len) != 0
        || olen != want) {
        mbedtls_platform_zeroize(out, out_size);
        return bb_fail(eb, BB_ERR_INTERNAL, "base64 decode: mbedtls disagrees "
                       "with the validated input");
    }
    *out_len = olen;
    return BB_OK;
}

bb_err bb_base64_decode_alloc(const char *b64, size_t b64_len, uint8_t **out,
                              size_t *out_len, bb_errbuf *eb)
{
    size_t want = 0;
    uint8_t *buf;
    bb_err rc;

    *out = NULL;
    *out_len = 0;
    if (b64_len / 4 * 3 > BB_CODEC_MAX)
        return bb_fail(eb, BB_ERR_TOOBIG, "base64 decode: %zu characters is "
                       "over the limit", b64_len);
    rc = b64_check(b64, b64_len, &want, eb);
    if (rc != BB_OK)
        return rc;
    buf = malloc(want + 1);
    if (!buf)
        return bb_fail(eb, BB_ERR_NOMEM, "base64 decode: out of memory");
    rc = bb_base64_decode(b64, b64_len, buf, want, out_len, eb);
    if (rc != BB_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return BB_OK;
}
