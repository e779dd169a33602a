/*
 * bb_exif — when and where a photo says it was taken: EXIF DateTimeOriginal
 * and the GPS position, read with libexif (docs/FORMATS.md §5).  The
 * collector keeps them beside an attachment and shows them next to the
 * record's own occurred_at and location; the file itself is never changed.
 *
 * The EXIF block is looked for in the first BB_EXIF_SCAN bytes: a JPEG's
 * APP1 segment that starts "Exif\0\0" (the segments are walked by their
 * lengths), or in any other file (HEIF keeps EXIF in an item) the first
 * "Exif\0\0" marker.  Input is untrusted: any bytes give a result, at worst
 * "nothing found"; nothing here fails on content.
 *
 * Errors: bb_exif_read_fd returns BB_ERR_IO (message names the cause) or
 * BB_ERR_NOMEM; bb_exif_parse cannot fail.
 */
#ifndef BB_EXIF_H
#define BB_EXIF_H

#include <stddef.h>
#include <stdint.h>
#include "bb_err.h"

#define BB_EXIF_SCAN ((size_t)1024 * 1024)
#define BB_EXIF_TIME_SIZE 20            /* "YYYY:MM:DD HH:MM:SS" + NUL */

struct bb_exif {
    int has_time;
    char time[BB_EXIF_TIME_SIZE];       /* DateTimeOriginal as written: "2018:03:15 14:19:02" */
    int has_gps;
    double lat, lon;                    /* decimal degrees, south and west negative */
};

/* What buf (the start of a file) says; *out is zeroed when it says nothing. */
void bb_exif_parse(const uint8_t *buf, size_t len, struct bb_exif *out);

/* The same for the first BB_EXIF_SCAN bytes of fd, read with pread from
 * offset 0 (the file position is left alone). */
bb_err bb_exif_read_fd(int fd, struct bb_exif *out, bb_errbuf *eb);

/* "2018/03/15 14:19" from an EXIF time (out: at least 17 bytes); 0 when
 * the time is not of the form "YYYY:MM:DD HH:MM:SS". */
int bb_exif_time_display(const char *exif_time, char *out, size_t n);

#endif
