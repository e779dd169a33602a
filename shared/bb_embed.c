/* bb_embed.c — look-ups in the generated table of embedded schema files. */
#include "bb_embed.h"

#include <string.h>

const struct bb_embedded_file *bb_embed_find(const char *path)
{
    size_t lo = 0, hi = bb_embedded_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, bb_embedded_files[mid].path);
        if (c == 0)
            return &bb_embedded_files[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct bb_embedded_file *bb_embed_next(const char *prefix, size_t *cursor)
{
    size_t plen = strlen(prefix);

    while (*cursor < bb_embedded_count) {
        const struct bb_embedded_file *f = &bb_embedded_files[(*cursor)++];
        if (strncmp(f->path, prefix, plen) == 0)
            return f;
    }
    return NULL;
}
