/*
 * hq_files.c — folders, exclusive durable writes and private reads
 * (see hq_files.h).
 */
#include "hq_files.h"
#include "bb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>


bb_err hq_path_join(char *out, size_t size, const char *dir, const char *name,
                    bb_errbuf *eb)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return bb_fail(eb, BB_ERR_CONFIG, "%s/%s: path too long", dir, name);
    return BB_OK;
}


/* fsync the folder holding path, so that a new name survives a crash. */

bb_err hq_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
                         bb_errbuf *eb)
{
    return bb_file_create(path, data, len, mode, NULL, eb);
}

bb_err hq_read_small_file(const char *path, size_t cap, int private_file, char **out,
                          size_t *out_len, bb_errbuf *eb)
{
    struct stat st;
    size_t got = 0, size;
    char *buf;
    int fd, e;

    *out = NULL;
    *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        return bb_fail(eb, bb_errno_err(e), "open %s: %s", path, strerror(e));
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        close(fd);
        return bb_fail(eb, bb_errno_err(e), "stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return bb_fail(eb, BB_ERR_INVALID, "%s: not a regular file", path);
    }
    if (private_file && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        close(fd);
        return bb_fail(eb, BB_ERR_PERM, "%s: mode %04o lets group or others read a private "
                       "key; refusing to use it (run: chmod 600 %s, and consider the key "
                       "exposed)", path, (unsigned)(st.st_mode & 07777), path);
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > cap) {
        close(fd);
        return bb_fail(eb, BB_ERR_TOOBIG, "%s: larger than the limit of %zu bytes", path, cap);
    }
    size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return bb_fail(eb, BB_ERR_NOMEM, "read %s: out of memory", path);
    }
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            mbedtls_platform_zeroize(buf, size + 1);
            free(buf);
            return bb_fail(eb, bb_errno_err(e), "read %s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return BB_OK;
}
