/*
 * fuzz_batch_parse — libFuzzer target for the batch container parser
 * (bb_batch_parse), and the signature check behind it (bb_batch_verify),
 * which is what HQ runs on bytes from the network before anything else.
 *
 * The verify key is fixed (the P-256 generator point, a valid public key),
 * so no input will ever verify; what is fuzzed is that parsing and
 * verifying any bytes neither crash, read out of bounds, leak, nor leave a
 * view marked verified.  The input is copied into a buffer of exactly its
 * size so that AddressSanitizer catches any read past it.
 *
 * Build (not part of the Makefile; needs clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ishared \
 *     tests/fuzz/fuzz_batch_parse.c shared/bb_batch.c shared/bb_sign.c \
 *     shared/bb_hpke.c shared/bb_codec.c shared/bb_json.c shared/bb_err.c \
 *     shared/bb_rand.c shared/bb_time.c shared/bb_uuid.c \
 *     -lzstd -lcjson -lmbedcrypto -lm -o fuzz_batch_parse
 *   ./fuzz_batch_parse -max_len=4096 -max_total_time=60 CORPUS_DIR
 * Seeds: any real *.bbatch files (a few small sealed batches).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_batch.h"
#include "bb_sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The uncompressed P-256 base point G. */
static const uint8_t fixed_pub[BB_SIGN_PUB_RAW_LEN] = {
    0x04,
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
    0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
    0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a,
    0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce,
    0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bb_sign_key *key;
    struct bb_batch_view view;
    bb_errbuf eb;
    uint8_t *copy;

    if (!key && bb_sign_pub_import_raw(&key, fixed_pub, NULL) != BB_OK)
        abort();
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    if (bb_batch_parse(size ? copy : NULL, size, &view, &eb) == BB_OK) {
        /* A parsed view points into the input and names sane fields. */
        if (view.buf != copy || view.len != size ||
            view.header_len + view.payload_len + 84 != size ||
            view.hdr.seq < 1 || view.hdr.count < 1 || view.verified)
            abort();
        if (bb_batch_verify(&view, key, &eb) == BB_OK || view.verified)
            abort();    /* nobody holds the key to G's discrete log here */
    }
    free(copy);
    return 0;
}
