/*
 * hq_export_zip.c — the records export as a ZIP with its attachments (see
 * hq_export_zip.h).  libzip writes the archive at zip_close, reading each
 * attachment from its stored path then; the path is content-addressed and
 * never rewritten, so the bytes it reads are the ones hashed just before.
 */
#include "hq_export_zip.h"
#include "hq_attach.h"
#include "hq_attfile.h"
#include "bb_attach.h"
#include "bb_file.h"
#include "bb_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#define MANIFEST_NAME "attachments/MANIFEST.json"

static bb_err zip_fail(bb_errbuf *eb, zip_t *za, const char *what)
{
    return bb_fail(eb, BB_ERR_INTERNAL, "export zip: %s: %s", what,
                   za ? zip_strerror(za) : "cannot start");
}

/* Add a buffer (deflated).  freep: libzip frees data when done with it. */
static bb_err add_buffer(zip_t *za, const char *name, const void *data, size_t len, int freep,
                         bb_errbuf *eb)
{
    zip_source_t *src = zip_source_buffer(za, data, len, freep);

    if (!src)
        return zip_fail(eb, za, name);
    if (zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return zip_fail(eb, za, name);
    }
    return BB_OK;
}

/*
 * Hash one stored file again and add it, stored as it is.  Returns its
 * state for the manifest: "included", "missing" (HQ does not hold it) or
 * "damaged"; BB_OK unless libzip or the disk fails.
 */
static bb_err add_attachment(zip_t *za, const struct hq_home *h, const cJSON *a, const char **state,
                             char *entry, size_t entry_size, bb_errbuf *eb)
{
    const char *sha = bb_json_str(a, "sha256"), *type = bb_json_str(a, "type");
    char path[HQ_PATH_MAX + 200];
    zip_source_t *src;
    zip_int64_t idx;
    int64_t size;
    bb_errbuf sub;
    bb_err err;
    int fd;

    memset(&sub, 0, sizeof sub);
    *state = "missing";
    snprintf(entry, entry_size, "attachments/%s%s", sha ? sha : "", bb_media_ext(type));
    if (!sha || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "stored")))
        return BB_OK;
    err = hq_attfile_open(h, sha, &fd, &size, &sub);
    if (err == BB_ERR_NOTFOUND)
        return BB_OK;
    if (err == BB_ERR_CORRUPT) {
        *state = "damaged";
        return BB_OK;
    }
    if (err != BB_OK)
        return bb_fail(eb, err, "%s", sub.msg);
    close(fd);
    if ((err = hq_attach_stored_path(h, sha, path, sizeof path, eb)) != BB_OK)
        return err;
    if (!(src = zip_source_file(za, path, 0, size)))
        return zip_fail(eb, za, entry);
    if ((idx = zip_file_add(za, entry, src, ZIP_FL_ENC_UTF_8)) < 0) {
        zip_source_free(src);
        return zip_fail(eb, za, entry);
    }
    if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
        return zip_fail(eb, za, entry);
    *state = "included";
    return BB_OK;
}

bb_err hq_export_zip_build(const struct hq_home *h, const char *csv_name, const char *csv,
                           size_t csv_len, const cJSON *attachments, int *fd, int64_t *size,
                           size_t *included, size_t *missing, bb_errbuf *eb)
{
    char tmp[HQ_PATH_MAX + 100], entry[128];
    cJSON *manifest = NULL, *list;
    const cJSON *a;
    zip_t *za = NULL;
    struct stat st;
    char *text;
    bb_err err;
    int zerr = 0, f, e;

    *fd = -1;
    *size = 0;
    *included = *missing = 0;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.export-XXXXXX.zip", h->dir) >= sizeof tmp)
        return bb_fail(eb, BB_ERR_CONFIG, "export zip: the data folder's path is too long");
    if ((f = mkstemps(tmp, 4)) < 0) {
        e = errno;
        return bb_fail(eb, bb_errno_err(e), "create %s: %s", tmp, strerror(e));
    }
    close(f);
    if (!(za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr))) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        err = bb_fail(eb, BB_ERR_IO, "create %s: %s", tmp, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto fail;
    }
    if (!(manifest = cJSON_CreateObject()) || !cJSON_AddNumberToObject(manifest, "v", 1) ||
        !cJSON_AddStringToObject(manifest, "csv", csv_name) ||
        !(list = cJSON_AddArrayToObject(manifest, "attachments"))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "export zip: out of memory");
        goto fail;
    }
    if ((err = add_buffer(za, csv_name, csv, csv_len, 0, eb)) != BB_OK)
        goto fail;
    cJSON_ArrayForEach(a, attachments) {
        const char *state;
        cJSON *m;
        if ((err = add_attachment(za, h, a, &state, entry, sizeof entry, eb)) != BB_OK)
            goto fail;
        if (!(m = cJSON_Duplicate(a, 1)) || !cJSON_AddItemToArray(list, m) ||
            !cJSON_AddStringToObject(m, "state", state) ||
            !(strcmp(state, "included") == 0 ? cJSON_AddStringToObject(m, "path", entry)
                                             : cJSON_AddNullToObject(m, "path"))) {
            err = bb_fail(eb, BB_ERR_NOMEM, "export zip: out of memory");
            goto fail;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(m, "stored");
        if (strcmp(state, "included") == 0)
            (*included)++;
        else
            (*missing)++;
    }
    if (!cJSON_AddNumberToObject(manifest, "included", (double)*included) ||
        !cJSON_AddNumberToObject(manifest, "missing", (double)*missing) ||
        !(text = cJSON_PrintUnformatted(manifest))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "export zip: out of memory");
        goto fail;
    }
    if ((err = add_buffer(za, MANIFEST_NAME, text, strlen(text), 1, eb)) != BB_OK) {
        free(text);
        goto fail;
    }
    if (zip_close(za) != 0) {
        err = bb_fail(eb, BB_ERR_IO, "write %s: %s", tmp, zip_strerror(za));
        goto fail;
    }
    za = NULL;
    if ((f = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(f, &st) != 0) {
        e = errno;
        if (f >= 0)
            close(f);
        err = bb_fail(eb, bb_errno_err(e), "open %s: %s", tmp, strerror(e));
        goto fail;
    }
    unlink(tmp);                      /* freed when the descriptor closes */
    cJSON_Delete(manifest);
    *fd = f;
    *size = (int64_t)st.st_size;
    return BB_OK;
fail:
    if (za)
        zip_discard(za);
    unlink(tmp);
    cJSON_Delete(manifest);
    return err;
}
