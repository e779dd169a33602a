/*
 * bb_file — careful file creation for what must never be half-written or
 * silently replaced: key files, enrollment files, certificates, configs.
 *
 * bb_file_create() makes a NEW file (O_CREAT|O_EXCL|O_NOFOLLOW: an existing
 * file or a planted symlink is refused, never overwritten), sets exactly the
 * mode asked for (whatever the umask), writes all of data, fsyncs the file
 * and its folder (so the name survives a crash), and on any failure removes
 * what it created.
 *
 * Errors: bb_errno_err() of the failing call, with "create|write WHAT PATH:
 * cause" in eb; BB_ERR_EXISTS when the file is already there.
 */
#ifndef BB_FILE_H
#define BB_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include "bb_err.h"

/* errno → bb_err (ENOENT not found, EACCES permission, ENOSPC full, ...). */
bb_err bb_errno_err(int e);

/* mkdir -p: parents 0755, the last component `mode` (an existing one is kept). */
bb_err bb_make_dirs(const char *path, mode_t mode, bb_errbuf *eb);

/* fsync the folder holding path; 0 or -1 with errno set. */
int bb_fsync_parent(const char *path);

/* what names the file in messages ("key file"); NULL for none. */
bb_err bb_file_create(const char *path, const void *data, size_t len, mode_t mode,
                      const char *what, bb_errbuf *eb);

#endif
