/*
 * hq_attfile.c — open a stored attachment with its hash checked (see
 * hq_attfile.h).  The hash is streamed (bb_attach_hash_fd, 64 KiB blocks),
 * so memory does not grow with the file.
 */
#include "hq_attfile.h"
#include "hq_attach.h"
#include "bb_attach.h"
#include "bb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bb_err hq_attfile_open(const struct hq_home *h, const char *sha, int *fd, int64_t *size,
                       bb_errbuf *eb)
{
    char path[HQ_PATH_MAX + 200], got[BB_SHA256_HEX_SIZE];
    const char *type = NULL;
    struct stat stt;
    bb_err err;
    int f;

    *fd = -1;
    *size = 0;
    if ((err = hq_attach_stored_path(h, sha, path, sizeof path, eb)) != BB_OK)
        return err;
    if ((f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        int e = errno;
        if (e == ENOENT)
            return bb_fail(eb, BB_ERR_NOTFOUND, "attachment %.12s…: not held at HQ", sha);
        return bb_fail(eb, bb_errno_err(e), "open %s: %s", path, strerror(e));
    }
    if (fstat(f, &stt) != 0 || !S_ISREG(stt.st_mode)) {
        close(f);
        return bb_fail(eb, BB_ERR_CORRUPT, "open %s: not a regular file", path);
    }
    if ((err = bb_attach_hash_fd(f, got, size, &type, eb)) != BB_OK) {
        close(f);
        return err;
    }
    if (strcmp(got, sha) != 0) {
        close(f);
        return bb_fail(eb, BB_ERR_CORRUPT, "read %s: the file is damaged (its SHA-256 is "
                       "no longer its name)", path);
    }
    if (lseek(f, 0, SEEK_SET) != 0) {
        int e = errno;
        close(f);
        return bb_fail(eb, BB_ERR_IO, "seek %s: %s", path, strerror(e));
    }
    *fd = f;
    return BB_OK;
}
