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
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_batch_parse/ with replay_main.c.
 * Seeds: small sealed batches made by tests/fuzz/seedgen.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_batch.h"
#include "bb_sign.h"

#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bb_sign_key *key;
    struct bb_batch_view view;
    bb_errbuf eb;
    uint8_t *copy;

    if (!key && bb_sign_pub_import_raw(&key, fuzz_p256_g, NULL) != BB_OK)
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
