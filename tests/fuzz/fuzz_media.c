/*
 * fuzz_media — libFuzzer target for what is read from the bytes of a photo
 * or file: the media type (bb_media_sniff, shared/bb_attach.h) and the EXIF
 * time and GPS position (bb_exif_parse, shared/bb_exif.h, which walks JPEG
 * segments itself and hands the EXIF block to libexif).  The collector runs
 * both on every file an officer attaches (`beatbook add ... photos=@x.jpg`)
 * and HQ on every file it receives, so the bytes are anyone's.
 *
 * Checked: a sniffed type is one bb_media_known accepts with a real
 * extension, and JPEG, PNG and PDF are told by their first 8 bytes alone; EXIF
 * results are in range (a NUL-terminated time, |lat| <= 90, |lon| <= 180),
 * a result that says nothing is all zeros, bb_exif_time_display stays
 * within its buffer.  The input is copied into a buffer of exactly its
 * size; nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_media/ with replay_main.c.
 * Seeds: tiny JPEGs with and without EXIF (DateTimeOriginal, GPS), PNG,
 * PDF and HEIC/HEIF starts, a JPEG whose segment length runs past the end.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_attach.h"
#include "bb_exif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct bb_exif nothing;
    struct bb_exif x;
    const char *type;
    char shown[17 + 8];
    uint8_t *copy = malloc(size ? size : 1);

    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);

    type = bb_media_sniff(size ? copy : NULL, size);
    if (type && (!bb_media_known(type) || strcmp(bb_media_ext(type), ".bin") == 0))
        abort();
    /* JPEG, PNG and PDF are told by their first 8 bytes alone */
    if (type && strncmp(type, "image/hei", 9) != 0) {
        const char *t8 = bb_media_sniff(copy, size < 8 ? size : 8);
        if (!t8 || strcmp(t8, type) != 0)
            abort();
    }

    bb_exif_parse(size ? copy : NULL, size, &x);
    if (x.has_time) {
        if (memchr(x.time, 0, sizeof x.time) == NULL)
            abort();
        /* 17 bytes is the documented minimum: guard bytes after it must stay */
        memset(shown, 0x5a, sizeof shown);
        (void)bb_exif_time_display(x.time, shown, 17);
        if (shown[17] != 0x5a || memchr(shown, 0, 17) == NULL)
            abort();
    }
    if (x.has_gps && (!isfinite(x.lat) || !isfinite(x.lon) ||
                      fabs(x.lat) > 90.0 || fabs(x.lon) > 180.0))
        abort();
    if (!x.has_time && !x.has_gps && memcmp(&x, &nothing, sizeof x) != 0)
        abort();
    free(copy);
    return 0;
}
