/*
 * bb_exif.c — DateTimeOriginal and GPS from a photo's EXIF block (see
 * bb_exif.h).  Finding the block is ours (bounded walks over the buffer);
 * decoding it is libexif's.  Every value libexif hands back is checked
 * again (format, count, size, ranges) before it is used.
 */
#include "bb_exif.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

static const uint8_t exif_marker[6] = {'E', 'x', 'i', 'f', 0, 0};

/*
 * A JPEG's segments, from SOI up to the start of the image data: the APP1
 * segment whose payload starts "Exif\0\0".  NULL when there is none in buf.
 */
static const uint8_t *jpeg_app1(const uint8_t *b, size_t len, size_t *out_len)
{
    size_t pos = 2;

    while (pos + 4 <= len) {
        uint8_t marker;
        size_t seglen;
        if (b[pos] != 0xFF)
            return NULL;                  /* not a marker: not a JPEG we can walk */
        marker = b[pos + 1];
        if (marker == 0xFF) {             /* fill byte */
            pos++;
            continue;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
            pos += 2;                     /* markers without a length */
            continue;
        }
        if (marker == 0xDA || marker == 0xD9)
            return NULL;                  /* image data or the end: no EXIF before it */
        seglen = ((size_t)b[pos + 2] << 8) | b[pos + 3];
        if (seglen < 2 || seglen > len - pos - 2)
            return NULL;                  /* a length past what we hold */
        if (marker == 0xE1 && seglen - 2 >= sizeof exif_marker &&
            memcmp(b + pos + 4, exif_marker, sizeof exif_marker) == 0) {
            *out_len = seglen - 2;
            return b + pos + 4;
        }
        pos += 2 + seglen;
    }
    return NULL;
}

/* Where the EXIF block starts ("Exif\0\0") and how many bytes it may span. */
static const uint8_t *find_exif(const uint8_t *b, size_t len, size_t *out_len)
{
    const uint8_t *p;

    if (len >= 4 && b[0] == 0xFF && b[1] == 0xD8)
        return jpeg_app1(b, len, out_len);
    /* HEIF keeps EXIF as an item (a 4-byte offset, then "Exif\0\0", then TIFF). */
    p = memmem(b, len, exif_marker, sizeof exif_marker);
    if (!p)
        return NULL;
    *out_len = len - (size_t)(p - b);
    return p;
}

static int time_like(const char *s)
{
    static const char pattern[] = "dddd:dd:dd dd:dd:dd";
    size_t i;

    for (i = 0; pattern[i]; i++) {
        if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
            return 0;
    }
    return 1;
}

static void read_time(ExifData *ed, struct bb_exif *out)
{
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL);
    char s[BB_EXIF_TIME_SIZE];

    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size < BB_EXIF_TIME_SIZE - 1)
        return;
    memcpy(s, e->data, BB_EXIF_TIME_SIZE - 1);
    s[BB_EXIF_TIME_SIZE - 1] = '\0';
    if (!time_like(s))
        return;                           /* e.g. "    :  :     :  :  " from a camera without a clock */
    memcpy(out->time, s, sizeof s);
    out->has_time = 1;
}

/* Degrees, minutes, seconds (three rationals) and a reference letter. */
static int read_coord(ExifData *ed, ExifTag tag, ExifTag ref_tag, char neg, double max,
                      double *out)
{
    ExifContent *gps = ed->ifd[EXIF_IFD_GPS];
    ExifEntry *e = exif_content_get_entry(gps, tag);
    ExifEntry *ref = exif_content_get_entry(gps, ref_tag);
    ExifByteOrder order = exif_data_get_byte_order(ed);
    double parts[3], v;
    int i;

    if (!e || !ref || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || !e->data ||
        e->size < 3 * 8 || ref->format != EXIF_FORMAT_ASCII || !ref->data || ref->size < 1)
        return 0;
    for (i = 0; i < 3; i++) {
        ExifRational r = exif_get_rational(e->data + 8 * i, order);
        if (r.denominator == 0)
            return 0;                     /* 0/0: the receiver had no fix */
        parts[i] = (double)r.numerator / (double)r.denominator;
    }
    v = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0;
    if (!isfinite(v) || v > max)
        return 0;
    if (ref->data[0] == neg)
        v = -v;
    else if (ref->data[0] != (neg == 'S' ? 'N' : 'E'))
        return 0;
    *out = v;
    return 1;
}

void bb_exif_parse(const uint8_t *buf, size_t len, struct bb_exif *out)
{
    const uint8_t *block;
    size_t block_len = 0;
    ExifData *ed;

    memset(out, 0, sizeof *out);
    if (!buf || !(block = find_exif(buf, len, &block_len)) || block_len > 0xFFFFFFFFu)
        return;
    if (!(ed = exif_data_new()))
        return;
    /* Read what the file says, nothing more: following the specification
     * would make libexif add mandatory tags with invented values. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, block, (unsigned int)block_len);
    read_time(ed, out);
    if (read_coord(ed, (ExifTag)EXIF_TAG_GPS_LATITUDE, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, 'S',
                   90.0, &out->lat) &&
        read_coord(ed, (ExifTag)EXIF_TAG_GPS_LONGITUDE, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, 'W',
                   180.0, &out->lon))
        out->has_gps = 1;
    else
        out->lat = out->lon = 0;
    exif_data_unref(ed);
}

bb_err bb_exif_read_fd(int fd, struct bb_exif *out, bb_errbuf *eb)
{
    uint8_t *buf = malloc(BB_EXIF_SCAN);
    size_t have = 0;

    memset(out, 0, sizeof *out);
    if (!buf)
        return bb_fail(eb, BB_ERR_NOMEM, "read EXIF: out of memory");
    while (have < BB_EXIF_SCAN) {
        ssize_t n = pread(fd, buf + have, BB_EXIF_SCAN - have, (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return bb_fail(eb, BB_ERR_IO, "read EXIF: %s", strerror(e));
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    bb_exif_parse(buf, have, out);
    free(buf);
    return BB_OK;
}

int bb_exif_time_display(const char *t, char *out, size_t n)
{
    if (!t || strlen(t) < BB_EXIF_TIME_SIZE - 1 || !time_like(t) || n < 17) {
        if (n)
            out[0] = '\0';
        return 0;
    }
    /* "2018:03:15 14:19:02" → "2018/03/15 14:19" */
    memcpy(out, t, 16);
    out[4] = out[7] = '/';
    out[16] = '\0';
    return 1;
}
