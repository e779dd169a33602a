/*
 * col_attach.c — files into the attachment store, and the rows that say
 * which revision names them (see col_attach.h).
 *
 * Order of a capture: open without following a link and without blocking
 * (a FIFO would otherwise hang the open), fstat (a regular file, within the
 * field's size), one streaming pass for hash and type (bb_attach_hash_fd),
 * then the copy into the store, which is hashed again before it is renamed
 * into place: the bytes stored are exactly the bytes the record names, even
 * if the original changed while it was read.
 */
#include "col_attach.h"
#include "bb_file.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BLOCK ((size_t)64 * 1024)

/* ---- words ---------------------------------------------------------------- */

static const char *type_word(const char *type)
{
    static const struct { const char *type, *word; } words[] = {
        {"image/jpeg", "JPEG"}, {"image/png", "PNG"}, {"image/heic", "HEIC"},
        {"image/heif", "HEIF"}, {"application/pdf", "PDF"},
    };
    size_t i;
    for (i = 0; type && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i].type, type) == 0)
            return words[i].word;
    return type ? type : "?";
}

void col_attach_media_words(const struct bb_field *f, char *out, size_t n)
{
    size_t i, used = 0;

    out[0] = '\0';
    for (i = 0; i < f->nmedia && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", type_word(f->media[i]));
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

void col_attach_size_words(long long size, char *out, size_t n)
{
    if (size < 1024)
        snprintf(out, n, "%lld bytes", size);
    else if (size < 1024 * 1024)
        snprintf(out, n, "%.1f KiB", (double)size / 1024.0);
    else
        snprintf(out, n, "%.1f MiB", (double)size / (1024.0 * 1024.0));
}

static int is_image(const char *type)
{
    return strcmp(type, "image/jpeg") == 0 || strcmp(type, "image/heic") == 0 ||
           strcmp(type, "image/heif") == 0;
}

/* ---- paths and folders -------------------------------------------------------- */

bb_err col_attach_path(const char *home, const char *sha256, char *out, size_t n,
                       bb_errbuf *eb)
{
    if (!bb_sha256_hex_valid(sha256))
        return bb_fail(eb, BB_ERR_INTERNAL, "col_attach_path: not a sha256");
    if (snprintf(out, n, "%s/%s/%.2s/%s", home, COL_ATTACH_DIR, sha256, sha256) >= (int)n)
        return bb_fail(eb, BB_ERR_CONFIG, "%s: path too long", home);
    return BB_OK;
}

static bb_err io_fail(struct col_ctx *ctx, bb_errbuf *eb, int e, const char *what_en,
                      const char *what_zh, const char *path)
{
    bb_err err = bb_errno_err(e);
    if (err == BB_ERR_FULL)
        return bb_fail(eb, err, T(ctx, "%s %s: the disk is full; free some space and try again",
                                  "%s %s：磁碟已滿；請清出空間後再試"),
                       T(ctx, what_en, what_zh), path);
    return bb_fail(eb, err, T(ctx, "%s %s: %s", "%s %s：%s"), T(ctx, what_en, what_zh), path,
                   bb_errno_text(e, ctx->lang));
}

/* A folder of the store: made 0700 when missing (and its name made durable),
 * refused when something else (a link, a file) has its name. */
static bb_err ensure_dir(struct col_ctx *ctx, const char *path, bb_errbuf *eb)
{
    struct stat sb;

    if (mkdir(path, 0700) == 0) {
        if (bb_fsync_parent(path) != 0)
            return io_fail(ctx, eb, errno, "make folder", "建立資料夾", path);
        return BB_OK;
    }
    if (errno != EEXIST)
        return io_fail(ctx, eb, errno, "make folder", "建立資料夾", path);
    if (lstat(path, &sb) != 0)
        return io_fail(ctx, eb, errno, "make folder", "建立資料夾", path);
    if (!S_ISDIR(sb.st_mode))
        return bb_fail(eb, BB_ERR_CORRUPT,
                       T(ctx, "%s is not a folder; the attachment store is damaged",
                         "%s 不是資料夾；附件儲存區已損毀"), path);
    return BB_OK;
}

/* <home>/attachments and, when sha256 is given, its <sha[0:2]> folder. */
static bb_err ensure_dirs(struct col_ctx *ctx, const char *sha256, char *dir, size_t n,
                          bb_errbuf *eb)
{
    bb_err err;

    if (snprintf(dir, n, "%s/%s", ctx->home, COL_ATTACH_DIR) >= (int)n)
        return bb_fail(eb, BB_ERR_CONFIG, "%s: path too long", ctx->home);
    if ((err = ensure_dir(ctx, dir, eb)) != BB_OK || !sha256)
        return err;
    if (snprintf(dir, n, "%s/%s/%.2s", ctx->home, COL_ATTACH_DIR, sha256) >= (int)n)
        return bb_fail(eb, BB_ERR_CONFIG, "%s: path too long", ctx->home);
    return ensure_dir(ctx, dir, eb);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, e;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- the copy into the store --------------------------------------------------- */

/*
 * Copy src (hashed as sha256, size bytes) to its place in the store: a
 * temporary file in the final folder, fsynced, checked against the hash,
 * renamed, and the folder fsynced.  A file already there with that size is
 * kept (*created = 0): the same hash is the same content.
 */
static bb_err store_copy(struct col_ctx *ctx, int src, const char *shown, const char *sha256,
                         long long size, int *created, bb_errbuf *eb)
{
    char final[sizeof ctx->home + 160], dir[sizeof ctx->home + 80], tmp[sizeof dir + 24];
    char check[BB_SHA256_HEX_SIZE];
    uint8_t *block = NULL;
    int64_t copied = 0;
    struct stat sb;
    bb_err err;
    int fd = -1;

    *created = 0;
    if ((err = col_attach_path(ctx->home, sha256, final, sizeof final, eb)) != BB_OK)
        return err;
    if (lstat(final, &sb) == 0 && S_ISREG(sb.st_mode) && (long long)sb.st_size == size)
        return BB_OK;
    /* Missing, or damaged (a wrong size): write it anew. */
    if ((err = ensure_dirs(ctx, sha256, dir, sizeof dir, eb)) != BB_OK)
        return err;
    snprintf(tmp, sizeof tmp, "%s/.partial-XXXXXX", dir);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return io_fail(ctx, eb, errno, "create", "建立", dir);
    if (!(block = malloc(COPY_BLOCK))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (fchmod(fd, 0600) != 0 || lseek(src, 0, SEEK_SET) != 0) {
        err = io_fail(ctx, eb, errno, "copy", "複製", shown);
        goto fail;
    }
    for (;;) {
        ssize_t n = read(src, block, COPY_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = io_fail(ctx, eb, errno, "read", "讀取", shown);
            goto fail;
        }
        if (n == 0)
            break;
        copied += n;
        if (copied > size)
            break;                         /* it grew: the check below says so */
        if (write_all(fd, block, (size_t)n) != 0) {
            err = io_fail(ctx, eb, errno, "write", "寫入", tmp);
            goto fail;
        }
    }
    if (fsync(fd) != 0) {
        err = io_fail(ctx, eb, errno, "write", "寫入", tmp);
        goto fail;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        err = io_fail(ctx, eb, errno, "read", "讀取", tmp);
        goto fail;
    }
    if ((err = bb_attach_hash_fd(fd, check, &copied, NULL, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "%s", tmp);
        goto fail;
    }
    if (copied != size || strcmp(check, sha256) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID,
                      T(ctx, "%s changed while it was being copied; try again once nothing "
                             "writes to it",
                        "%s 在複製時被改變了；請等沒有程式寫入它時再試一次"), shown);
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        err = io_fail(ctx, eb, errno, "write", "寫入", tmp);
        goto fail;
    }
    fd = -1;
    if (rename(tmp, final) != 0) {
        err = io_fail(ctx, eb, errno, "store", "儲存", final);
        goto fail;
    }
    free(block);
    if (fsync_dir(dir) != 0)
        return io_fail(ctx, eb, errno, "store", "儲存", final);
    *created = 1;
    return BB_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(block);
    return err;
}

/* ---- capture ------------------------------------------------------------------- */

/* What a path names, when it is not a regular file. */
static bb_err not_a_file(struct col_ctx *ctx, const struct stat *sb, const char *shown,
                         bb_errbuf *eb)
{
    const char *en, *zh;

    if (S_ISDIR(sb->st_mode))
        en = "a folder", zh = "資料夾";
    else if (S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode))
        en = "a device", zh = "裝置";
    else if (S_ISFIFO(sb->st_mode))
        en = "a FIFO (named pipe)", zh = "具名管道（FIFO）";
    else if (S_ISSOCK(sb->st_mode))
        en = "a socket", zh = "socket";
    else
        en = "not a regular file", zh = "非一般檔案";
    return bb_fail(eb, BB_ERR_INVALID,
                   T(ctx, "%s is %s, not a file; give a photo or document file",
                     "%s 是%s，不是檔案；請給照片或文件檔"),
                   shown, T(ctx, en, zh));
}

bb_err col_attach_capture_fd(struct col_ctx *ctx, const struct bb_kind *k,
                             const struct bb_field *f, int fd, const char *shown,
                             const char *name, struct col_attach_file *out, bb_errbuf *eb)
{
    char words[80], have[40], limit[40];
    const char *type = NULL;
    struct stat sb;
    int64_t size = 0;
    bb_err err;

    memset(out, 0, sizeof *out);
    if (fstat(fd, &sb) != 0)
        return io_fail(ctx, eb, errno, "read", "讀取", shown);
    if (!S_ISREG(sb.st_mode))
        return not_a_file(ctx, &sb, shown, eb);
    col_attach_size_words(f->max_bytes, limit, sizeof limit);
    if (sb.st_size == 0)
        return bb_fail(eb, BB_ERR_INVALID, T(ctx, "%s is empty (0 bytes)", "%s 是空的（0 位元組）"),
                       shown);
    if ((long long)sb.st_size > f->max_bytes) {
        col_attach_size_words((long long)sb.st_size, have, sizeof have);
        return bb_fail(eb, BB_ERR_TOOBIG,
                       T(ctx, "%s: %s is %s; %s takes files of at most %s each",
                         "%s：%s 有 %s；%s 每個檔案最大 %s"),
                       k->name, shown, have, f->name, limit);
    }
    if (lseek(fd, 0, SEEK_SET) != 0)
        return io_fail(ctx, eb, errno, "read", "讀取", shown);
    if ((err = bb_attach_hash_fd(fd, out->sha256, &size, &type, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "%s", shown);
        return err;
    }
    if (size != (int64_t)sb.st_size)
        return bb_fail(eb, BB_ERR_INVALID,
                       T(ctx, "%s changed while it was being read; try again once nothing "
                              "writes to it",
                         "%s 在讀取時被改變了；請等沒有程式寫入它時再試一次"), shown);
    col_attach_media_words(f, words, sizeof words);
    if (!type)
        return bb_fail(eb, BB_ERR_INVALID,
                       T(ctx, "%s: %s is not a JPEG, PNG, HEIC, HEIF or PDF file (its first "
                              "bytes are none of them); %s takes %s",
                         "%s：%s 不是 JPEG、PNG、HEIC、HEIF 或 PDF 檔（檔案開頭不符合任何一種）；"
                         "%s 接受 %s"),
                       k->name, shown, f->name, words);
    if (!bb_record_media_allowed(f, type))
        return bb_fail(eb, BB_ERR_INVALID,
                       T(ctx, "%s: %s is a %s file, not one of %s",
                         "%s：%s 是 %s 檔，不是 %s 之一"),
                       k->name, shown, type_word(type), words);
    if ((err = store_copy(ctx, fd, shown, out->sha256, size, &out->created, eb)) != BB_OK)
        return err;
    out->size = size;
    snprintf(out->type, sizeof out->type, "%s", type);
    if (name && bb_record_attachment_name_ok(name))
        snprintf(out->name, sizeof out->name, "%s", name);
    /* EXIF is a help for the reader, never a reason to refuse the file. */
    if (is_image(type))
        (void)bb_exif_read_fd(fd, &out->exif, NULL);
    return BB_OK;
}

/* The last component of a path, or "" when it is no good as a display name. */
static void display_name(const char *path, char *out, size_t n)
{
    size_t len = strlen(path);
    const char *start;

    while (len > 1 && path[len - 1] == '/')
        len--;
    start = path + len;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(out, n, "%.*s", (int)(path + len - start), start);
    if (!bb_record_attachment_name_ok(out))
        out[0] = '\0';
}

static void note_fresh(struct col_ctx *ctx, const char *sha256)
{
    char(*grown)[65] = realloc(ctx->fresh, (ctx->nfresh + 1) * sizeof *ctx->fresh);

    if (!grown)
        return;                            /* then it is only not cleaned up on failure */
    ctx->fresh = grown;
    snprintf(ctx->fresh[ctx->nfresh++], sizeof *ctx->fresh, "%s", sha256);
}

bb_err col_attach_capture(struct col_ctx *ctx, const struct bb_kind *k,
                          const struct bb_field *f, const char *path,
                          struct col_attach_file *out, bb_errbuf *eb)
{
    char name[BB_ATTACH_NAME_MAX + 1];
    bb_err err;
    int fd, e;

    memset(out, 0, sizeof *out);
    if (!*path)
        return bb_fail(eb, BB_ERR_USAGE, T(ctx, "%s: field \"%s\": give a file after @",
                                           "%s：欄位「%s」：@ 後面請給檔案路徑"), k->name, f->name);
    /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        e = errno;
        if (e == ELOOP)
            return bb_fail(eb, BB_ERR_INVALID,
                           T(ctx, "%s is a symbolic link; give the file itself",
                             "%s 是符號連結；請給檔案本身"), path);
        if (e == ENOENT)
            return bb_fail(eb, BB_ERR_NOTFOUND, T(ctx, "%s: no such file", "%s：沒有這個檔案"),
                           path);
        if (e == ENOTDIR)
            return bb_fail(eb, BB_ERR_NOTFOUND,
                           T(ctx, "%s: no such file (a part of the path is not a folder)",
                             "%s：沒有這個檔案（路徑中有一段不是資料夾）"), path);
        if (e == EACCES || e == EPERM)
            return bb_fail(eb, BB_ERR_PERM,
                           T(ctx, "%s cannot be read: permission denied",
                             "%s 無法讀取：權限不足"), path);
        return io_fail(ctx, eb, e, "open", "開啟", path);
    }
    display_name(path, name, sizeof name);
    err = col_attach_capture_fd(ctx, k, f, fd, path, name, out, eb);
    close(fd);
    if (err == BB_OK && out->created)
        note_fresh(ctx, out->sha256);
    return err;
}

void col_attach_discard(struct col_ctx *ctx)
{
    col_store *st = NULL;
    size_t i;

    if (ctx->nfresh && col_store_open(ctx->home, 1, &st, NULL) == BB_OK) {
        for (i = 0; i < ctx->nfresh; i++) {
            struct col_attachment_row row;
            char path[sizeof ctx->home + 160];
            int found = 1;
            /*
             * No row: no committed revision names it.  (Another command that
             * took the same new file at the same moment and saves after this
             * finds it missing when it indexes, and says so: never a record
             * naming a file that is not there.)
             */
            if (col_store_attachment_get(st, ctx->fresh[i], &row, &found, NULL) == BB_OK &&
                !found && col_attach_path(ctx->home, ctx->fresh[i], path, sizeof path, NULL) ==
                              BB_OK)
                unlink(path);
        }
        col_store_close(st);
    }
    free(ctx->fresh);
    ctx->fresh = NULL;
    ctx->nfresh = 0;
}

/* ---- the value ------------------------------------------------------------------ */

cJSON *col_attach_value(const struct col_attach_file *a)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "sha256", a->sha256) ||
        !cJSON_AddNumberToObject(o, "size", (double)a->size) ||
        !cJSON_AddStringToObject(o, "type", a->type) ||
        (a->name[0] && !cJSON_AddStringToObject(o, "name", a->name))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

bb_err col_attach_append(struct col_ctx *ctx, const struct bb_kind *k,
                         const struct bb_field *f, cJSON *rec,
                         const struct col_attach_file *files, size_t n, bb_errbuf *eb)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data"), *arr, *it;
    size_t i;

    if (!cJSON_IsObject(data))
        return bb_fail(eb, BB_ERR_INTERNAL, "col_attach_append: no data");
    arr = cJSON_GetObjectItemCaseSensitive(data, f->name);
    if (!cJSON_IsArray(arr)) {
        cJSON_DeleteItemFromObjectCaseSensitive(data, f->name);
        if (!(arr = cJSON_AddArrayToObject(data, f->name)))
            return BB_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        const struct col_attach_file *a = &files[i];
        const char *shown = a->name[0] ? a->name : a->sha256;
        cJSON *v;
        cJSON_ArrayForEach(it, arr) {
            const char *sha = bb_json_str(it, "sha256");
            if (sha && strcmp(sha, a->sha256) == 0)
                return bb_fail(eb, BB_ERR_INVALID,
                               T(ctx, "%s: field \"%s\": %s is already attached (the same "
                                      "bytes as %s)",
                                 "%s：欄位「%s」：%s 已經附上了（與 %s 內容相同）"),
                               k->name, f->name, shown,
                               bb_json_str(it, "name") ? bb_json_str(it, "name") : sha);
        }
        if (cJSON_GetArraySize(arr) >= f->max_count)
            return bb_fail(eb, BB_ERR_INVALID,
                           T(ctx, "%s: field \"%s\" takes at most %ld files; %s would be one "
                                  "too many",
                             "%s：欄位「%s」最多 %ld 個檔案；加上 %s 就超過了"),
                           k->name, f->name, f->max_count, shown);
        if (!(v = col_attach_value(a)))
            return BB_ERR_NOMEM;
        cJSON_AddItemToArray(arr, v);
    }
    return BB_OK;
}

/* ---- the index, at save time --------------------------------------------------- */

/* The row of a file named by a record but not yet in the store's table:
 * from the file itself, which must be in the store. */
static bb_err row_from_store(struct col_ctx *ctx, const struct bb_kind *k,
                             const struct bb_field *f, const cJSON *item,
                             struct col_attachment_row *row, bb_errbuf *eb)
{
    const char *sha = bb_json_str(item, "sha256"), *type = bb_json_str(item, "type");
    const char *name = bb_json_str(item, "name");
    double size = cJSON_GetObjectItemCaseSensitive(item, "size")->valuedouble;
    char path[sizeof ctx->home + 160];
    struct stat sb;
    bb_err err;
    int fd;

    memset(row, 0, sizeof *row);
    if ((err = col_attach_path(ctx->home, sha, path, sizeof path, eb)) != BB_OK)
        return err;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (double)sb.st_size != size) {
        if (fd >= 0)
            close(fd);
        return bb_fail(eb, BB_ERR_NOTFOUND,
                       T(ctx, "%s: field \"%s\": the file %s (sha256 %.12s…) is not in this "
                              "laptop's attachment store; add the file itself again "
                              "(FIELD=@PATH or beatbook attach)",
                         "%s：欄位「%s」：檔案 %s（sha256 %.12s…）不在本機的附件儲存區；"
                         "請重新加入檔案本身（欄位=@路徑 或 beatbook attach）"),
                       k->name, f->name, name ? name : "", sha);
    }
    snprintf(row->sha256, sizeof row->sha256, "%s", sha);
    row->size = (long long)size;
    snprintf(row->type, sizeof row->type, "%s", type);
    snprintf(row->name, sizeof row->name, "%s", name ? name : "");
    bb_time_format(ctx->now, BB_TAIPEI_OFFSET_MIN, row->added_at);
    if (is_image(type))
        (void)bb_exif_read_fd(fd, &row->exif, NULL);
    close(fd);
    return BB_OK;
}

bb_err col_attach_index(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                        const cJSON *rec, bb_errbuf *eb)
{
    const cJSON *data = bb_json_obj(rec, "data"), *jrev = cJSON_GetObjectItemCaseSensitive(rec, "rev");
    const char *id = bb_json_str(rec, "id");
    size_t i;
    bb_err err;

    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        const cJSON *arr, *item;
        if (f->type != BB_F_ATTACHMENT ||
            !cJSON_IsArray(arr = cJSON_GetObjectItemCaseSensitive(data, f->name)))
            continue;
        cJSON_ArrayForEach(item, arr) {
            const char *sha = bb_json_str(item, "sha256"), *type = bb_json_str(item, "type");
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(item, "size");
            struct col_attachment_row row;
            int found = 0;
            if ((err = col_store_attachment_get(st, sha, &row, &found, eb)) != BB_OK)
                return err;
            if (found && (row.size != (long long)size->valuedouble || strcmp(row.type, type) != 0))
                return bb_fail(eb, BB_ERR_CONFLICT,
                               T(ctx, "%s: field \"%s\": file sha256 %.12s… is stored as %lld "
                                      "bytes of %s, not %lld bytes of %s",
                                 "%s：欄位「%s」：檔案 sha256 %.12s… 儲存的是 %lld 位元組的 %s，"
                                 "不是 %lld 位元組的 %s"),
                               k->name, f->name, sha, row.size, row.type,
                               (long long)size->valuedouble, type);
            if (!found && ((err = row_from_store(ctx, k, f, item, &row, eb)) != BB_OK ||
                           (err = col_store_attachment_add(st, &row, eb)) != BB_OK))
                return err;
            if ((err = col_store_attachment_link(st, id, (long)jrev->valuedouble, f->name, sha,
                                                 eb)) != BB_OK)
                return err;
        }
    }
    return BB_OK;
}

/* ---- the forms page's upload spool -------------------------------------------- */

struct col_attach_spool {
    int fd;
    long long cap, written;
};

bb_err col_attach_spool_new(struct col_ctx *ctx, long long cap, col_attach_spool **out,
                            bb_errbuf *eb)
{
    char dir[sizeof ctx->home + 80], tmp[sizeof dir + 24];
    col_attach_spool *s;
    bb_err err;

    *out = NULL;
    if ((err = ensure_dirs(ctx, NULL, dir, sizeof dir, eb)) != BB_OK)
        return err;
    if (!(s = calloc(1, sizeof *s)))
        return BB_ERR_NOMEM;
    s->cap = cap;
    /* Unnamed from the start: a crash or a cut upload leaves nothing behind. */
    s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (s->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        snprintf(tmp, sizeof tmp, "%s/.upload-XXXXXX", dir);
        if ((s->fd = mkostemp(tmp, O_CLOEXEC)) >= 0)
            unlink(tmp);
    }
    if (s->fd < 0) {
        err = io_fail(ctx, eb, errno, "create", "建立", dir);
        free(s);
        return err;
    }
    *out = s;
    return BB_OK;
}

bb_err col_attach_spool_write(col_attach_spool *s, const void *data, size_t n)
{
    if ((long long)n > s->cap - s->written)
        return BB_ERR_TOOBIG;
    if (write_all(s->fd, data, n) != 0)
        return bb_errno_err(errno);
    s->written += (long long)n;
    return BB_OK;
}

int col_attach_spool_fd(const col_attach_spool *s)
{
    return s->fd;
}

void col_attach_spool_free(col_attach_spool *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s);
}
