/*
 * bb_embed — files of schema/ compiled into the binaries (record kinds,
 * reference data, plans, SQL migrations).  Generated at build time by
 * tools/embedgen.c; the table is sorted by path.  Contents are
 * NUL-terminated for convenience; len excludes the NUL.
 */
#ifndef BB_EMBED_H
#define BB_EMBED_H

#include <stddef.h>

struct bb_embedded_file {
    const char *path;   /* relative to schema/, e.g. "records/patrol.json" */
    const char *data;
    size_t len;
};

extern const struct bb_embedded_file bb_embedded_files[];
extern const size_t bb_embedded_count;

/* The file at exactly this path, or NULL. */
const struct bb_embedded_file *bb_embed_find(const char *path);

/*
 * Iterate over files whose path starts with prefix, in path order:
 * start with *cursor = 0; returns NULL when done.
 */
const struct bb_embedded_file *bb_embed_next(const char *prefix, size_t *cursor);

#endif
