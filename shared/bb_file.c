/* bb_file.c — exclusive, durable file creation (see bb_file.h). */
#include "bb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bb_err bb_errno_err(int e)
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

int bb_fsync_parent(const char *path)
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

bb_err bb_file_create(const char *path, const void *data, size_t len, mode_t mode,
                      const char *what, bb_errbuf *eb)
{
    const char *p = data, *sep = what ? " " : "";
    size_t done = 0;
    int fd, e;

    if (!what)
        what = "";
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        e = errno;
        if (e == EEXIST)
            return bb_fail(eb, BB_ERR_EXISTS, "create %s%s%s: it already exists (it is never "
                           "overwritten; move it away first)", what, sep, path);
        return bb_fail(eb, bb_errno_err(e), "create %s%s%s: %s", what, sep, path, strerror(e));
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
    if (bb_fsync_parent(path) != 0)
        goto fail;
    return BB_OK;
fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlink(path);
    return bb_fail(eb, bb_errno_err(e), "write %s%s%s: %s", what, sep, path, strerror(e));
}

bb_err bb_make_dirs(const char *path, mode_t mode, bb_errbuf *eb)
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
                return bb_fail(eb, bb_errno_err(errno), "create folder %s: %s", tmp,
                               strerror(errno));
            tmp[i] = c;
        }
    }
    return BB_OK;
}
