/*
 * hq_cmd_import.c — `beatbook-hq import PATH...`: batch files carried on a
 * USB stick, ingested by the very function that serves POST /v1/batches
 * (hq_ingest), so they are checked, deduplicated and merged the same way.
 * A laptop that has never reached HQ also puts its signed registration on
 * the stick (DEVICE.register.json); it goes through hq_register, exactly
 * like POST /v1/devices/register, before the batches.
 *
 * Files are taken in seq order per device (a folder may hold them in any
 * order); files whose header cannot be read come last and are reported as
 * refused.  One line per file; the exit status is 65 when any was refused.
 */
#include "hq_cli.h"
#include "hq_home.h"
#include "hq_ingest.h"
#include "hq_register.h"
#include "hq_status.h"
#include "hq_store.h"
#include "bb_batch.h"
#include "bb_db.h"
#include "hq_attach.h"
#include "bb_json.h"

#include <dirent.h>
#include <mbedtls/platform_util.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 100000

struct item {
    char *path;
    int registration;        /* a DEVICE.register.json, taken before any batch */
    int status;              /* a DEVICE.status.json, taken after the batches */
    int attachment;          /* a DEVICE-SHA256.bba, taken after the batches */
    int parsed;              /* header readable: device and seq are set */
    char device[80];
    long long seq;
};

static void help(void)
{
    fputs("usage: beatbook-hq import [--data DIR] PATH...\n"
          "\n"
          "Merge sealed batch files (*.bbatch, as written by `beatbook export`), or every\n"
          "*.bbatch in a folder, exactly as if they had come over HTTPS: signatures,\n"
          "seq/prev chain, duplicates and revoked devices are handled the same way, and a\n"
          "batch already received is not counted twice.  Files are taken in seq order per\n"
          "device.  A laptop's registration (DEVICE.register.json, written by\n"
          "`beatbook export` until the laptop is registered) is taken first, its signed\n"
          "status report (DEVICE.status.json) last; photos and files (DEVICE-SHA256.bba)\n"
          "after the batches whose records name them.  Prints one\n"
          "line per file; exits 65 if any file was refused.\n",
          stdout);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static bb_err add_item(struct item **items, size_t *n, size_t *cap, const char *path,
                       bb_errbuf *eb)
{
    if (*n >= MAX_FILES)
        return bb_fail(eb, BB_ERR_TOOBIG, "more than %d files to import at once", MAX_FILES);
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct item *ni = realloc(*items, nc * sizeof *ni);
        if (!ni)
            return bb_fail(eb, BB_ERR_NOMEM, "import: out of memory");
        *items = ni;
        *cap = nc;
    }
    memset(&(*items)[*n], 0, sizeof **items);
    if (!((*items)[*n].path = strdup(path)))
        return bb_fail(eb, BB_ERR_NOMEM, "import: out of memory");
    (*n)++;
    return BB_OK;
}

/* A file as given, or every *.bbatch in a folder. */
static bb_err collect(const char *arg, struct item **items, size_t *n, size_t *cap,
                      bb_errbuf *eb)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    bb_err err = BB_OK;

    if (stat(arg, &st) != 0)
        return bb_fail(eb, errno == ENOENT ? BB_ERR_NOTFOUND : BB_ERR_IO, "%s: %s", arg,
                       strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return add_item(items, n, cap, arg, eb);
    if (!(d = opendir(arg)))
        return bb_fail(eb, BB_ERR_IO, "%s: %s", arg, strerror(errno));
    while (err == BB_OK && (de = readdir(d)) != NULL) {
        char path[8192];
        if (de->d_name[0] == '.' || !(has_suffix(de->d_name, ".bbatch") ||
                                      has_suffix(de->d_name, ".register.json") ||
                                      has_suffix(de->d_name, ".bba") ||
                                      has_suffix(de->d_name, ".status.json")))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", arg, de->d_name) >= (int)sizeof path)
            continue;
        err = add_item(items, n, cap, path, eb);
    }
    closedir(d);
    return err;
}

/* Read the header of each file so the list can be put in seq order. */
static void peek(struct item *it, size_t max_bytes)
{
    struct bb_batch_view view;
    char *buf = NULL;
    size_t len;

    if (has_suffix(it->path, ".register.json")) {
        it->registration = 1;
        return;
    }
    if (has_suffix(it->path, ".status.json")) {
        it->status = 1;
        return;
    }
    if (has_suffix(it->path, ".bba")) {
        it->attachment = 1;
        return;
    }
    if (bb_read_file(it->path, max_bytes, &buf, &len, NULL) == BB_OK &&
        bb_batch_parse((const uint8_t *)buf, len, &view, NULL) == BB_OK) {
        it->parsed = 1;
        snprintf(it->device, sizeof it->device, "%s", view.hdr.device);
        it->seq = (long long)view.hdr.seq;
    }
    free(buf);
}

static int by_device_seq(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c;

    if (x->registration != y->registration)
        return x->registration ? -1 : 1;
    if (x->status != y->status)
        return x->status ? 1 : -1;
    if (x->status)
        return strcmp(x->path, y->path);
    /* Files after every batch: HQ takes a file only once a record names it. */
    if (x->attachment != y->attachment)
        return x->attachment ? 1 : -1;
    if (x->attachment)
        return strcmp(x->path, y->path);
    if (x->parsed != y->parsed)
        return x->parsed ? -1 : 1;
    if (!x->parsed)
        return strcmp(x->path, y->path);
    if ((c = strcmp(x->device, y->device)) != 0)
        return c;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* A registration carried by hand: the same checks as over HTTPS. */
static int register_one(struct hq_home *h, sqlite3 *db, const struct item *it)
{
    struct hq_answer ans;
    char *buf = NULL, msg[1200];
    size_t len = 0;
    bb_errbuf eb;
    int refused = 0;

    memset(&eb, 0, sizeof eb);
    if (bb_read_file(it->path, HQ_REGISTER_MAX_BYTES, &buf, &len, &eb) != BB_OK) {
        printf("%s: refused: %s\n", it->path, eb.msg);
        return 1;
    }
    hq_answer_init(&ans);
    hq_register(h, db, buf, len, &ans);
    if (ans.status == 201)
        printf("%s: registered: the laptop's key is bound; its batches can now be merged\n",
               it->path);
    else if (ans.status == 200)
        printf("%s: already registered with this key; nothing changed\n", it->path);
    else {
        printf("%s: refused: %s (%s)\n", it->path, hq_answer_message(&ans, msg, sizeof msg),
               ans.error[0] ? ans.error : "error");
        refused = 1;
    }
    hq_answer_clear(&ans);
    /* The document holds the laptop's one-time token. */
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    return refused;
}

/* A laptop's status report carried by hand: the same checks as over HTTPS.  The
 * report HQ already keeps (the stick imported again), or an older one, is not an
 * error: nothing changes. */
static int status_one(struct hq_home *h, sqlite3 *db, const struct item *it)
{
    struct hq_answer ans;
    char *buf = NULL, msg[1200];
    size_t len = 0;
    bb_errbuf eb;
    int refused = 0, same = 0;

    memset(&eb, 0, sizeof eb);
    if (bb_read_file(it->path, HQ_STATUS_MAX_BYTES, &buf, &len, &eb) != BB_OK) {
        printf("%s: refused: %s\n", it->path, eb.msg);
        return 1;
    }
    hq_answer_init(&ans);
    hq_status_receive(h, db, buf, len, "usb", &same, &ans);
    if (ans.status == 200)
        printf("%s: status report of %s kept (the Devices page shows it)\n", it->path,
               ans.device);
    else if (ans.status == 409 && same)
        printf("%s: status report of %s already received; nothing changed\n", it->path,
               ans.device);
    else if (ans.status == 409)
        /* Signed and genuine, but the laptop has told HQ something newer since (it
         * synced over HTTPS after writing the stick): kept out, not an error. */
        printf("%s: status report of %s is older than the one HQ already has; nothing "
               "changed\n", it->path, ans.device);
    else {
        printf("%s: refused: %s (%s)\n", it->path, hq_answer_message(&ans, msg, sizeof msg),
               ans.error[0] ? ans.error : "error");
        refused = 1;
    }
    hq_answer_clear(&ans);
    free(buf);
    return refused;
}

/* One file: read, ingest, print its line; returns 1 when refused. */
static int import_one(struct hq_home *h, sqlite3 *db, const struct item *it)
{
    struct hq_ingest_opts opts;
    struct hq_answer ans;
    char *buf = NULL, msg[1200];
    size_t len = 0;
    bb_errbuf eb;
    bb_err err;
    int refused = 0;

    memset(&eb, 0, sizeof eb);
    err = bb_read_file(it->path, h->conf.max_batch_bytes, &buf, &len, &eb);
    if (err != BB_OK) {
        printf("%s: refused: %s\n", it->path, eb.msg);
        return 1;
    }
    memset(&opts, 0, sizeof opts);
    opts.source = "import";
    opts.max_bytes = h->conf.max_batch_bytes;
    hq_answer_init(&ans);
    hq_ingest(h, db, (const uint8_t *)buf, len, &opts, &ans);
    switch (ans.outcome) {
    case HQ_OUT_MERGED:
        printf("%s: merged: batch %lld of %s, %ld records (%ld merged, %ld duplicate, "
               "%ld rejected)\n", it->path, (long long)ans.seq, ans.device, ans.records,
               ans.merged, ans.duplicates, ans.rejected);
        break;
    case HQ_OUT_DUPLICATE:
        printf("%s: duplicate batch: batch %lld of %s was already received; nothing "
               "changed\n", it->path, (long long)ans.seq, ans.device);
        break;
    default:
        printf("%s: refused: %s (%s)\n", it->path, hq_answer_message(&ans, msg, sizeof msg),
               ans.error[0] ? ans.error : "error");
        refused = 1;
        break;
    }
    hq_answer_clear(&ans);
    free(buf);
    return refused;
}

/* Read exactly n bytes at off; 0 on success. */
static int read_at(int fd, uint8_t *buf, size_t n, off_t off)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Mark in held[] the chunks a partial answer says HQ holds. */
static void held_of(const struct hq_answer *ans, unsigned char *held, int64_t chunks)
{
    cJSON *doc = NULL;
    const cJSON *r;

    if (!ans->body || bb_json_parse(ans->body, ans->body_len, "answer", &doc, NULL) != BB_OK)
        return;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "have")) {
        const cJSON *f = cJSON_GetArrayItem(r, 0), *t = cJSON_GetArrayItem(r, 1);
        int64_t i;
        if (!cJSON_IsNumber(f) || !cJSON_IsNumber(t))
            continue;
        for (i = (int64_t)f->valuedouble; i >= 0 && i < (int64_t)t->valuedouble && i < chunks;
             i++)
            held[i] = 1;
    }
    cJSON_Delete(doc);
}

/*
 * A photo or file carried by hand (DEVICE-SHA256.bba: the head, then every
 * chunk): through the same functions as POST /v1/attachments and the chunk
 * PUTs, one chunk in memory at a time.  Returns 1 when refused.
 */
static int attachment_one(struct hq_home *h, sqlite3 *db, const struct item *it)
{
    struct hq_attach_opts opts = { .source = "import" };
    struct bb_attach_view v;
    struct hq_answer ans;
    struct stat st;
    uint8_t head[BB_ATTACH_HEAD_MAX], *chunk = NULL;
    unsigned char *held = NULL;
    char msg[1200];
    size_t head_len;
    int64_t i, want;
    bb_errbuf eb;
    int fd, refused = 1;

    memset(&eb, 0, sizeof eb);
    hq_answer_init(&ans);
    fd = open(it->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        printf("%s: refused: %s\n", it->path, fd < 0 ? strerror(errno) : "not a regular file");
        goto out;
    }
    head_len = st.st_size < (off_t)sizeof head ? (size_t)st.st_size : sizeof head;
    if (read_at(fd, head, head_len, 0) != 0 ||
        bb_attach_parse(head, head_len, &v, &eb) != BB_OK) {
        printf("%s: refused: %s\n", it->path, eb.msg[0] ? eb.msg : "cannot read the head");
        goto out;
    }
    want = (int64_t)v.head_len + v.hdr.size + v.hdr.chunks * BB_ATTACH_TAG_LEN;
    if ((int64_t)st.st_size != want) {
        printf("%s: refused: the file is %lld bytes but its head makes it %lld (cut short or "
               "padded)\n", it->path, (long long)st.st_size, (long long)want);
        goto out;
    }
    hq_attach_head(h, db, head, v.head_len, &opts, &ans);
    if (ans.status == 200 && ans.outcome == HQ_OUT_DUPLICATE) {
        printf("%s: attachment already held: %.12s… of %s; nothing changed\n", it->path,
               v.hdr.sha256, v.hdr.device);
        refused = 0;
        goto out;
    }
    if (ans.status == 409 && strcmp(ans.error, "not_named") == 0) {
        printf("%s: waiting: %s (import its batch, then this file again)\n", it->path,
               hq_answer_message(&ans, msg, sizeof msg));
        refused = 0;
        goto out;
    }
    if (ans.status != 200 && ans.status != 201) {
        printf("%s: refused: %s (%s)\n", it->path, hq_answer_message(&ans, msg, sizeof msg),
               ans.error[0] ? ans.error : "error");
        goto out;
    }
    if (!(held = calloc((size_t)v.hdr.chunks, 1)) || !(chunk = malloc(BB_ATTACH_CHUNK_MAX))) {
        printf("%s: refused: out of memory\n", it->path);
        goto out;
    }
    if (ans.status == 200)
        held_of(&ans, held, v.hdr.chunks);
    for (i = 0; ans.status == 200 && i < v.hdr.chunks; i++) {
        size_t n = bb_attach_chunk_len(&v.hdr, i) + BB_ATTACH_TAG_LEN;
        if (held[i])
            continue;
        if (read_at(fd, chunk, n, (off_t)bb_attach_chunk_offset(&v, i)) != 0) {
            printf("%s: refused: cannot read chunk %lld: %s\n", it->path, (long long)i,
                   strerror(errno));
            goto out;
        }
        hq_answer_clear(&ans);
        hq_answer_init(&ans);
        hq_attach_chunk(h, db, v.hdr.device, v.hdr.sha256, i, chunk, n, &opts, &ans);
    }
    if (ans.status == 201) {
        printf("%s: attachment stored: %.12s… of %s, %lld bytes (%s)\n", it->path,
               v.hdr.sha256, v.hdr.device, (long long)v.hdr.size, v.hdr.type);
        refused = 0;
    } else {
        printf("%s: refused: %s (%s)\n", it->path, hq_answer_message(&ans, msg, sizeof msg),
               ans.error[0] ? ans.error : "error");
    }
out:
    if (fd >= 0)
        close(fd);
    free(held);
    free(chunk);
    hq_answer_clear(&ans);
    return refused;
}

bb_err hq_cmd_import(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    struct item *items = NULL;
    size_t n = 0, cap = 0, i;
    struct hq_home h;
    sqlite3 *db = NULL;
    char dir[HQ_PATH_MAX];
    long refused = 0;
    int c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind >= argc)
        return hq_usage(eb, "which files? give batch files (*.bbatch) or folders");
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK)
        return err;
    for (i = (size_t)optind; i < (size_t)argc; i++)
        if ((err = collect(argv[i], &items, &n, &cap, eb)) != BB_OK)
            goto out_items;
    if (n == 0) {
        err = bb_fail(eb, BB_ERR_NOTFOUND, "no *.bbatch files in %s", argv[optind]);
        goto out_items;
    }
    if ((err = hq_home_open(&h, dir, HQ_HOME_CONF | HQ_HOME_KEYS | HQ_HOME_CATALOG,
                            eb)) != BB_OK)
        goto out_items;
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK)
        goto out;
    for (i = 0; i < n; i++)
        peek(&items[i], h.conf.max_batch_bytes);
    qsort(items, n, sizeof *items, by_device_seq);
    for (i = 0; i < n; i++)
        refused += items[i].registration ? register_one(&h, db, &items[i])
                 : items[i].status ? status_one(&h, db, &items[i])
                 : items[i].attachment ? attachment_one(&h, db, &items[i])
                                   : import_one(&h, db, &items[i]);
    if (refused)
        err = bb_fail(eb, BB_ERR_INVALID, "%ld of %zu file(s) refused", refused, n);
out:
    bb_db_close(db);
    hq_home_close(&h);
out_items:
    for (i = 0; i < n; i++)
        free(items[i].path);
    free(items);
    return err;
}
