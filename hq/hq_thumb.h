/*
 * hq_thumb — the review page's thumbnails of photos HQ holds: a JPEG that
 * fits a 320 px box, made with libvips from the stored file and cached as
 * <data>/attachments/thumbs/<sha256>.jpg (written to a temporary name,
 * fsynced, then renamed: a reader never sees half a thumbnail).
 *
 * Only JPEG, PNG and HEIC/HEIF are decoded, each by its own libvips loader
 * (the loader libvips picks from the bytes must be the one for the stored
 * type), and only up to HQ_THUMB_MAX_PIXELS; PDFs and everything else are
 * BB_ERR_UNSUPPORTED (the web answers 404 with a JSON error).  The cached
 * thumbnail carries no metadata: EXIF, with its GPS position, stays in the
 * original.
 *
 * libvips is started once, lazily, on the first thumbnail (pthread_once),
 * with one worker thread, a small operation cache and untrusted loaders
 * blocked, and one thumbnail is made at a time: HQ's memory stays small
 * however many pages ask at once.  Cached thumbnails are served without
 * that lock.
 *
 * Errors: BB_ERR_UNSUPPORTED (not a photo, or one libvips cannot read),
 * BB_ERR_TOOBIG (over the pixel cap), those of hq_attfile_open, BB_ERR_IO /
 * BB_ERR_FULL writing the cache, BB_ERR_INTERNAL when libvips cannot start.
 */
#ifndef HQ_THUMB_H
#define HQ_THUMB_H

#include <stdint.h>
#include "bb_err.h"
#include "hq_home.h"

#define HQ_THUMB_BOX 320                          /* px: the box a thumbnail fits */
#define HQ_THUMB_MAX_PIXELS ((int64_t)200000000)  /* width × height decoded at most */

/* Whether a stored type gets a thumbnail at all (image/jpeg, png, heic, heif). */
int hq_thumb_type_ok(const char *type);

/*
 * Open the thumbnail of sha (stored type `type`), making and caching it
 * first when needed.  *fd (caller closes) is at offset 0, *size its bytes.
 */
bb_err hq_thumb_open(const struct hq_home *h, const char *sha, const char *type, int *fd,
                     int64_t *size, bb_errbuf *eb);

#endif
