/*
 * hq_files.c — folders, exclusive durable writes and private reads
 * (see hq_files.h).
 */
#include "hq_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

bb_err hq_errno_code(int e)
{
    switch (e) {
    case ENOENT: case ENOTDIR: return BB_ERR_NOTFOUND;
    case EACCES: case EPERM: return BB_ERR_PERM;
    case EROFS: return BB_ERR_READONLY;
    case EEXIST: return BB_ERR_EXISTS;
    case ENOSPC: case EDQUOT: return BB_ERR_FULL;
    case ENOMEM: return BB_ERR_NOMEM;
    default: return BB_ERR_IO;
    }
}

bb_err hq_path_join(char *out, size_t size, const char *dir, const char *name,
                    bb_errbuf *eb)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return bb_fail(eb, BB_ERR_CONFIG, "%s/%s: path too long", dir, name);
    return BB_OK;
}

bb_err hq_make_dirs(const char *path, mode_t mode, bb_errbuf *eb)
{
    char tmp[4096];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof tmp)
        return bb_fail(eb, BB_ERR_CONFIG, "folder \"%s\": empty or too long a path", path);
    memcpy(tmp, path, n + 1);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = '\0';
    for (i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, c ? 0755 : mode) != 0 && errno != EEXIST)
                return bb_fail(eb, hq_errno_code(errno), "create folder %s: %s", tmp,
                               strerror(errno));
            tmp[i] = c;
        }
    }
    return BB_OK;
}

/* fsync the folder holding path, so that a new name survives a crash. */
static int fsync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n;
    int fd, ret;

    if (!slash) {
        strcpy(dir, ".");
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ret = fsync(fd);
    if (close(fd) != 0)
        ret = -1;
    return ret;
}

bb_err hq_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
                         bb_errbuf *eb)
{
    const char *p = data;
    size_t done = 0;
    int fd, e;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        e = errno;
        if (e == EEXIST)
            return bb_fail(eb, BB_ERR_EXISTS, "create %s: it already exists "
                           "(it is never overwritten; move it away first)", path);
        return bb_fail(eb, hq_errno_code(e), "create %s: %s", path, strerror(e));
    }
    /* The umask may have taken bits away; the mode asked for is the mode meant. */
    if (fchmod(fd, mode) != 0)
        goto fail;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (fsync_parent(path) != 0)
        goto fail;
    return BB_OK;
fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlink(path);
    return bb_fail(eb, hq_errno_code(e), "write %s: %s", path, strerror(e));
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
        return bb_fail(eb, hq_errno_code(e), "open %s: %s", path, strerror(e));
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        close(fd);
        return bb_fail(eb, hq_errno_code(e), "stat %s: %s", path, strerror(e));
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
            return bb_fail(eb, hq_errno_code(e), "read %s: %s", path, strerror(e));
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
