/*
 * hq_thumb.c — thumbnails with libvips, cached on disk (see hq_thumb.h).
 *
 * The stored file is opened once (hq_attfile_open: its hash checked) and
 * libvips reads it through that descriptor, never by name: what is decoded
 * is exactly what was verified.
 */
#include "hq_thumb.h"
#include "hq_attach.h"
#include "hq_attfile.h"
#include "bb_file.h"
#include "bb_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#define THUMB_DIR HQ_ATTACH_DIR "/thumbs"
#define THUMB_QUALITY 80
#define THUMB_CACHE_OPS 16
#define THUMB_CACHE_MEM ((size_t)16 * 1024 * 1024)
#define THUMB_CACHE_FILES 4

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static int vips_ready;                /* set once by start_vips */
/* One decode at a time: a few large photos asked at once must not add up. */
static pthread_mutex_t make_lock = PTHREAD_MUTEX_INITIALIZER;

static void start_vips(void)
{
    if (VIPS_INIT("beatbook-hq") != 0) {
        bb_error("thumbnails: libvips could not start: %s", vips_error_buffer());
        vips_error_clear();
        return;
    }
    vips_concurrency_set(1);          /* no worker pool per image */
    /* A small operation cache: each thumbnail is made once and then read from
     * disk, so a large cache would only hold memory and descriptors. */
    vips_cache_set_max(THUMB_CACHE_OPS);
    vips_cache_set_max_mem(THUMB_CACHE_MEM);
    vips_cache_set_max_files(THUMB_CACHE_FILES);
    vips_block_untrusted_set(TRUE);   /* ImageMagick and the like never run */
    vips_ready = 1;
}

/* The libvips loader (class name part) that must read a stored type. */
static const char *loader_for(const char *type)
{
    if (!type)
        return NULL;
    if (strcmp(type, "image/jpeg") == 0)
        return "Jpeg";
    if (strcmp(type, "image/png") == 0)
        return "Png";
    if (strcmp(type, "image/heic") == 0 || strcmp(type, "image/heif") == 0)
        return "Heif";
    return NULL;
}

int hq_thumb_type_ok(const char *type)
{
    return loader_for(type) != NULL;
}

static bb_err open_cached(const char *path, int *fd, int64_t *size)
{
    struct stat st;
    int f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (f < 0)
        return BB_ERR_NOTFOUND;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        close(f);
        return BB_ERR_NOTFOUND;
    }
    *fd = f;
    *size = (int64_t)st.st_size;
    return BB_OK;
}

static bb_err vips_fail(bb_errbuf *eb, bb_err code, const char *what, const char *sha)
{
    const char *msg = vips_error_buffer();
    char first[200];

    /* libvips' messages run over several lines; the first names the cause. */
    snprintf(first, sizeof first, "%s", msg && *msg ? msg : "unknown error");
    first[strcspn(first, "\n")] = '\0';
    vips_error_clear();
    return bb_fail(eb, code, "thumbnail of %.12s…: %s: %s", sha, what, first);
}

/* Decode the verified file behind fd into a small JPEG (g_free'd by the caller). */
static bb_err make_jpeg(int fd, const char *sha, const char *type, void **jpeg, size_t *len,
                        bb_errbuf *eb)
{
    const char *want = loader_for(type), *found;
    VipsSource *src = vips_source_new_from_descriptor(fd);
    VipsImage *head = NULL, *thumb = NULL;
    bb_err err = BB_OK;

    *jpeg = NULL;
    *len = 0;
    if (!src)
        return vips_fail(eb, BB_ERR_NOMEM, "open", sha);
    found = vips_foreign_find_load_source(src);
    if (!found || !want || !strstr(found, want)) {
        vips_error_clear();
        err = bb_fail(eb, BB_ERR_UNSUPPORTED, "thumbnail of %.12s…: not a %s that can be "
                      "decoded", sha, type);
        goto done;
    }
    /* The header alone, to refuse a decompression bomb before any pixel. */
    if (!(head = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL))) {
        err = vips_fail(eb, BB_ERR_UNSUPPORTED, "read header", sha);
        goto done;
    }
    if ((int64_t)vips_image_get_width(head) * vips_image_get_height(head) > HQ_THUMB_MAX_PIXELS) {
        err = bb_fail(eb, BB_ERR_TOOBIG, "thumbnail of %.12s…: %d × %d pixels is over the "
                      "limit", sha, vips_image_get_width(head), vips_image_get_height(head));
        goto done;
    }
    /* Fit the box, never enlarge; EXIF orientation is applied. */
    if (vips_thumbnail_source(src, &thumb, HQ_THUMB_BOX, "height", HQ_THUMB_BOX,
                              "size", VIPS_SIZE_DOWN, NULL) != 0) {
        err = vips_fail(eb, BB_ERR_UNSUPPORTED, "decode", sha);
        goto done;
    }
    if (vips_jpegsave_buffer(thumb, jpeg, len, "Q", THUMB_QUALITY, "strip", TRUE, NULL) != 0) {
        *jpeg = NULL;
        err = vips_fail(eb, BB_ERR_INTERNAL, "encode", sha);
    }
done:
    if (thumb)
        g_object_unref(thumb);
    if (head)
        g_object_unref(head);
    g_object_unref(src);
    return err;
}

/* Write the thumbnail under a temporary name, fsync, rename into place. */
static bb_err write_cache(const char *dir, const char *path, const void *data, size_t len,
                          bb_errbuf *eb)
{
    char tmp[HQ_PATH_MAX + 200];
    const unsigned char *p = data;
    size_t done = 0;
    int f, e;

    snprintf(tmp, sizeof tmp, "%s/.thumb-XXXXXX", dir);
    if ((f = mkstemp(tmp)) < 0) {
        e = errno;
        return bb_fail(eb, bb_errno_err(e), "create %s: %s", tmp, strerror(e));
    }
    while (done < len) {
        ssize_t n = write(f, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(f) != 0 || close(f) != 0) {
        f = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        f = -1;
        goto fail;
    }
    (void)bb_fsync_parent(path);      /* a lost cache entry is only made again */
    return BB_OK;
fail:
    e = errno;
    if (f >= 0)
        close(f);
    unlink(tmp);
    return bb_fail(eb, bb_errno_err(e), "write %s: %s", path, strerror(e));
}

bb_err hq_thumb_open(const struct hq_home *h, const char *sha, const char *type, int *fd,
                     int64_t *size, bb_errbuf *eb)
{
    char dir[HQ_PATH_MAX + 100], path[HQ_PATH_MAX + 200];
    void *jpeg = NULL;
    size_t len = 0;
    int64_t orig_size;
    int orig = -1;
    bb_err err;

    *fd = -1;
    *size = 0;
    if (!hq_thumb_type_ok(type))
        return bb_fail(eb, BB_ERR_UNSUPPORTED, "thumbnail: %s files have none",
                       type ? type : "unknown");
    if (!bb_sha256_hex_valid(sha))
        return bb_fail(eb, BB_ERR_INVALID, "thumbnail: not a SHA-256 (64 lowercase hex)");
    if ((size_t)snprintf(dir, sizeof dir, "%s/" THUMB_DIR, h->dir) >= sizeof dir ||
        (size_t)snprintf(path, sizeof path, "%s/%s.jpg", dir, sha) >= sizeof path)
        return bb_fail(eb, BB_ERR_CONFIG, "thumbnail: the data folder's path is too long");
    if (open_cached(path, fd, size) == BB_OK)
        return BB_OK;

    pthread_mutex_lock(&make_lock);
    if (open_cached(path, fd, size) == BB_OK) {        /* made while we waited */
        pthread_mutex_unlock(&make_lock);
        return BB_OK;
    }
    pthread_once(&vips_once, start_vips);
    if (!vips_ready) {
        err = bb_fail(eb, BB_ERR_INTERNAL, "thumbnails: libvips could not start");
        goto done;
    }
    if ((err = hq_attfile_open(h, sha, &orig, &orig_size, eb)) != BB_OK ||
        (err = make_jpeg(orig, sha, type, &jpeg, &len, eb)) != BB_OK ||
        (err = bb_make_dirs(dir, 0700, eb)) != BB_OK ||
        (err = write_cache(dir, path, jpeg, len, eb)) != BB_OK)
        goto done;
    if (open_cached(path, fd, size) != BB_OK)
        err = bb_fail(eb, BB_ERR_IO, "open %s: made but cannot be read", path);
done:
    if (vips_ready)
        vips_thread_shutdown();       /* this server thread's libvips buffers */
    pthread_mutex_unlock(&make_lock);
    if (orig >= 0)
        close(orig);
    g_free(jpeg);
    return err;
}
