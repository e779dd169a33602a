/*
 * bb_codec — hex and base64 text encodings of byte strings.
 *
 * Hex is lowercase on output; decoding accepts either case.  Base64 is the
 * standard alphabet of RFC 4648 §4 with '=' padding, and decoding is strict:
 * no whitespace, no missing or extra padding, no stray bits after the last
 * byte, so every byte string has exactly one accepted encoding (batch headers
 * and key files rely on that to compare encodings as strings).
 *
 * Ownership: the *_buf functions write into a buffer the caller owns and
 * never write past out_size; the *_alloc functions return a malloc'd buffer
 * that the caller frees with free().  Encoded text is always NUL-terminated.
 *
 * Errors: BB_ERR_INVALID for bad input (the message gives the offset of the
 * first bad character, never the input itself, which may be a secret),
 * BB_ERR_TOOBIG when the output does not fit out_size or the input is over
 * BB_CODEC_MAX, BB_ERR_NOMEM when malloc fails.  On error nothing useful is
 * left in the output and *out_len is 0.
 */
#ifndef BB_CODEC_H
#define BB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "bb_err.h"

/* Largest decoded size any codec function accepts or produces (128 MiB):
 * above the largest sealed batch, far below what could overflow a size_t. */
#define BB_CODEC_MAX ((size_t)128 * 1024 * 1024)

/* Sizes of encodings of n bytes, including the terminating NUL. */
#define BB_HEX_SIZE(n) (2 * (size_t)(n) + 1)
#define BB_BASE64_SIZE(n) (4 * (((size_t)(n) + 2) / 3) + 1)

/* Encode len bytes as lowercase hex into out (out_size >= BB_HEX_SIZE(len)). */
bb_err bb_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size,
                     bb_errbuf *eb);

/*
 * Decode hex_len characters of hex (NUL not required) into out.  The input
 * must have an even length and decode to at most out_size bytes.
 */
bb_err bb_hex_decode(const char *hex, size_t hex_len, uint8_t *out,
                     size_t out_size, size_t *out_len, bb_errbuf *eb);

/* Decode a NUL-terminated hex string into a new buffer (caller frees).  An
 * empty string gives *out != NULL and *out_len == 0. */
bb_err bb_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len,
                           bb_errbuf *eb);

/* Encode len bytes as padded base64 into out (out_size >= BB_BASE64_SIZE(len));
 * *out_len (may be NULL) receives the length without the NUL. */
bb_err bb_base64_encode(const uint8_t *in, size_t len, char *out,
                        size_t out_size, size_t *out_len, bb_errbuf *eb);

/* Encode into a new NUL-terminated string (caller frees). */
bb_err bb_base64_encode_alloc(const uint8_t *in, size_t len, char **out,
                              bb_errbuf *eb);

/* Decode b64_len characters of strict base64 into out. */
bb_err bb_base64_decode(const char *b64, size_t b64_len, uint8_t *out,
                        size_t out_size, size_t *out_len, bb_errbuf *eb);

/* Decode into a new buffer (caller frees); *out is never NULL on success. */
bb_err bb_base64_decode_alloc(const char *b64, size_t b64_len, uint8_t **out,
                              size_t *out_len, bb_errbuf *eb);

#endif
