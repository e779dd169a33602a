/*
 * col_attach — photos and files on the laptop (docs/FORMATS.md §5): taking
 * a file into the store, and indexing what a saved revision names.
 *
 * The store keeps each file once, by content, beside field.db:
 *   <store folder>/attachments/<sha256[0:2]>/<sha256>     (folders 0700, files 0600)
 * A capture checks the file the officer named (a regular file, not a link,
 * a device, a FIFO or a folder; 1 byte .. the field's max_bytes; its type,
 * told from its bytes, one of the field's media), hashes it and copies it
 * in durably (a temporary file in the same folder, fsync, rename, fsync of
 * the folder) BEFORE any revision naming it commits; a file already there
 * with the same hash is reused.  Memory stays at a few 64 KiB buffers
 * whatever the file's size.
 *
 * The record holds [{"sha256","size","type","name"}]; the attachments row
 * (with the EXIF time and GPS position the file states) and the
 * revision_attachments rows are written by col_attach_index, inside the
 * transaction that saves the revision (col_record.c).
 *
 * A file copied in by a command that then fails (a bad value after it, a
 * refused record) would stay unnamed; col_attach_discard removes those
 * again.  Files uploaded by the forms page stay until a saved record names
 * them, or as orphans when the officer never saves (nothing references
 * them; they hold nothing HQ is owed).
 *
 * Errors: bb_err with the message, in the officer's language, in eb:
 * BB_ERR_INVALID (not a regular file, empty, wrong type, changed while read),
 * BB_ERR_TOOBIG (over max_bytes), BB_ERR_NOTFOUND, BB_ERR_PERM, BB_ERR_IO,
 * BB_ERR_FULL, BB_ERR_NOMEM.
 */
#ifndef COL_ATTACH_H
#define COL_ATTACH_H

#include <cjson/cJSON.h>
#include "bb_attach.h"
#include "bb_catalog.h"
#include "bb_exif.h"
#include "col_cli.h"
#include "col_store.h"

#define COL_ATTACH_DIR "attachments"

struct col_attach_file {
    char sha256[BB_SHA256_HEX_SIZE];
    long long size;
    char type[BB_ATTACH_TYPE_MAX];
    char name[BB_ATTACH_NAME_MAX + 1];   /* display name; "" when it has none */
    int created;                         /* copied in now (0: the store had it) */
    struct bb_exif exif;
};

/* <home>/attachments/<sha[0:2]>/<sha>; BB_ERR_CONFIG when it does not fit. */
bb_err col_attach_path(const char *home, const char *sha256, char *out, size_t n,
                       bb_errbuf *eb);

/*
 * Take the file at path into the store for field f of kind k.  Its name
 * for display is the path's last component.  A file copied in is noted in
 * ctx->fresh (see col_attach_discard).
 */
bb_err col_attach_capture(struct col_ctx *ctx, const struct bb_kind *k,
                          const struct bb_field *f, const char *path,
                          struct col_attach_file *out, bb_errbuf *eb);

/*
 * The same for a file already open (the forms page's upload spool); shown
 * as `shown` in messages, stored with display name `name` ("" for none; it
 * must pass bb_record_attachment_name_ok).  Not noted in ctx->fresh.
 */
bb_err col_attach_capture_fd(struct col_ctx *ctx, const struct bb_kind *k,
                             const struct bb_field *f, int fd, const char *shown,
                             const char *name, struct col_attach_file *out, bb_errbuf *eb);

/* The record's value item {"sha256","size","type","name"}; NULL when out of memory. */
cJSON *col_attach_value(const struct col_attach_file *a);

/*
 * Append files to field f of rec (creating the value): refuses more than
 * max_count and a file the field already holds, naming it.
 */
bb_err col_attach_append(struct col_ctx *ctx, const struct bb_kind *k,
                         const struct bb_field *f, cJSON *rec,
                         const struct col_attach_file *files, size_t n, bb_errbuf *eb);

/*
 * Inside the caller's transaction, after rec was stored: the attachments row
 * of every file rec names (read from the file in the store: it must be there
 * with its size, else BB_ERR_NOTFOUND) and the revision_attachments rows.
 */
bb_err col_attach_index(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                        const cJSON *rec, bb_errbuf *eb);

/* After a command failed: remove the files it copied in that no attachments
 * row names, and forget the list.  Never fails (what it cannot remove stays). */
void col_attach_discard(struct col_ctx *ctx);

/* The list of the media types of f as people read them: "JPEG, PNG, HEIC". */
void col_attach_media_words(const struct bb_field *f, char *out, size_t n);

/* A size as people read it: "812 bytes", "2.4 MiB". */
void col_attach_size_words(long long size, char *out, size_t n);

/*
 * An upload of the forms page, written as it arrives into an unnamed file
 * in the store's folder (O_TMPFILE; it leaves nothing behind on a crash),
 * refused past cap bytes (BB_ERR_TOOBIG).
 */
typedef struct col_attach_spool col_attach_spool;
bb_err col_attach_spool_new(struct col_ctx *ctx, long long cap, col_attach_spool **out,
                            bb_errbuf *eb);
bb_err col_attach_spool_write(col_attach_spool *s, const void *data, size_t n);
int col_attach_spool_fd(const col_attach_spool *s);
void col_attach_spool_free(col_attach_spool *s);

#endif
