/*
 * hq_files — the few file-system chores of beatbook-hq: folders created
 * with a mode, new files created exclusively and durably, and reading a
 * private file (a TLS key) that group and others must not be able to read.
 *
 * Errors: BB_ERR_EXISTS (never overwrites), BB_ERR_NOTFOUND, BB_ERR_PERM,
 * BB_ERR_READONLY, BB_ERR_FULL, BB_ERR_IO, BB_ERR_TOOBIG, BB_ERR_NOMEM; the
 * message names the path and the cause, never the file's content.
 */
#ifndef HQ_FILES_H
#define HQ_FILES_H

#include <stddef.h>
#include <sys/types.h>
#include "bb_err.h"
#include "bb_file.h"   /* bb_errno_err */


/*
 * Create path (O_EXCL) with exactly `mode`, write len bytes, fsync the file
 * and its folder.  On failure after creating it, the file is removed.
 */
bb_err hq_write_new_file(const char *path, const void *data, size_t len, mode_t mode,
                         bb_errbuf *eb);

/*
 * Read a whole regular file of at most cap bytes into a new NUL-terminated
 * buffer (*out, caller frees — and wipes it when private).  With private,
 * refuse a file that group or others can access (BB_ERR_PERM).
 */
bb_err hq_read_small_file(const char *path, size_t cap, int private_file, char **out,
                          size_t *out_len, bb_errbuf *eb);

/* Join dir and name into out ("dir/name"); BB_ERR_CONFIG when too long. */
bb_err hq_path_join(char *out, size_t size, const char *dir, const char *name,
                    bb_errbuf *eb);

#endif
