/*
 * hq_attfile — reading back a file HQ holds (schema/migrations/hq/
 * 006_attachments.sql): <data>/attachments/<first 2 hex>/<sha256>, written
 * once by ingest (hq_attach, which owns the layout: hq_attach_stored_path)
 * and never changed.  The review side serves, thumbnails and exports these
 * files; it opens them only through here, so every byte it hands out was
 * hashed again on the way.
 *
 * Errors: BB_ERR_INVALID (not 64 lowercase hex), BB_ERR_NOTFOUND (HQ does
 * not hold it), BB_ERR_CORRUPT (the bytes are not the hash: damaged on
 * disk, the message says so), BB_ERR_IO / BB_ERR_PERM (the message names
 * the path and the cause).
 */
#ifndef HQ_ATTFILE_H
#define HQ_ATTFILE_H

#include <stddef.h>
#include <stdint.h>
#include "bb_err.h"
#include "hq_home.h"

/*
 * Open the stored file of sha for reading (O_NOFOLLOW: a symlink planted in
 * the store is refused), stream its SHA-256 and compare, then rewind.  On
 * success *fd (the caller closes it) is at offset 0 and *size its length.
 */
bb_err hq_attfile_open(const struct hq_home *h, const char *sha, int *fd, int64_t *size,
                       bb_errbuf *eb);

#endif
