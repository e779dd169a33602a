/*
 * col_sync.c — the collector's side of sync: `init --enroll`, `seal`,
 * `export --to DIR` (the USB stick), `purge`, and the outbox part of
 * `status`.  The work is in shared/bb_outbox.c; beatbook-syncd uses the
 * same module, so a batch sealed here is the one the daemon sends, and an
 * exported file is byte for byte what it would POST.
 */
#include "col_cli.h"
#include "col_store.h"
#include "bb_db.h"
#include "bb_enroll.h"
#include "bb_file.h"
#include "bb_json.h"
#include "bb_outbox.h"
#include "bb_sign.h"
#include "bb_time.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The config file named with --config, else $BEATBOOK_HOME/syncd.conf if present. */
static bb_err load_config(struct col_ctx *ctx, const char *path, struct bb_outbox_config *c,
                          bb_errbuf *eb)
{
    char def[4200];

    bb_outbox_config_defaults(c);
    if (path)
        return bb_outbox_config_load_lang(path, 0, ctx->lang, c, eb);
    snprintf(def, sizeof def, "%s/%s", ctx->home, BB_OUTBOX_CONF_FILE);
    return bb_outbox_config_load_lang(def, 1, ctx->lang, c, eb);
}

bb_err col_retention(struct col_ctx *ctx, const char *cmd, const char *config, const char *days,
                     struct bb_outbox_config *conf, bb_errbuf *eb)
{
    char *end;
    long d;
    bb_err err;

    if ((err = load_config(ctx, config, conf, eb)) != BB_OK || !days)
        return err;
    errno = 0;
    d = strtol(days, &end, 10);
    if (errno || end == days || *end || d < 0 || d > 3650)
        return bb_fail(eb, BB_ERR_USAGE,
                       T(ctx, "%s: --days \"%s\": give a number of days from 0 to 3650",
                         "%s：--days「%s」：請給 0 到 3650 之間的天數"), cmd, days);
    conf->retention_days = d;
    return BB_OK;
}

bb_err col_open_outbox(struct col_ctx *ctx, col_store **st, bb_outbox **ob, bb_errbuf *eb)
{
    bb_err err;

    *ob = NULL;
    if ((err = col_store_open(ctx->home, 0, st, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_open((*st)->db, ctx->home, ob, eb)) != BB_OK) {
        col_store_close(*st);
        *st = NULL;
        return err;
    }
    bb_outbox_set_lang(*ob, ctx->lang);
    return BB_OK;
}

static void print_sealed(struct col_ctx *ctx, const struct bb_outbox_sealed *r)
{
    if (r->batches == 0)
        return;
    if (r->batches == 1)
        printf(T(ctx, "sealed batch %lld: %ld records\n", "已封裝批次 %lld：%ld 筆紀錄\n"),
               (long long)r->first_seq, r->records);
    else
        printf(T(ctx, "sealed %ld batches (%lld-%lld): %ld records\n",
                 "已封裝 %ld 個批次（%lld-%lld）：%ld 筆紀錄\n"),
               r->batches, (long long)r->first_seq, (long long)r->last_seq, r->records);
}

/* ---- seal ---- */

bb_err col_cmd_seal(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bb_outbox_config conf;
    struct bb_outbox_sealed r;
    const char *config = NULL;
    col_store *st = NULL;
    bb_outbox *ob = NULL;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook seal [--config FILE]\n"
                    "Seal every finalized record not yet sent into encrypted, signed batches\n"
                    "(at most batch_max_records / batch_max_bytes each, from FILE or\n"
                    "$BEATBOOK_HOME/syncd.conf).  beatbook-syncd sends them; beatbook export\n"
                    "copies them to a USB stick.  Drafts (open patrols) are never sealed.\n",
                    "用法：beatbook seal [--config FILE]\n"
                    "將尚未傳送的已完成紀錄封裝成加密並簽章的批次（每批最多\n"
                    "batch_max_records 筆、batch_max_bytes 位元組，取自 FILE 或\n"
                    "$BEATBOOK_HOME/syncd.conf）。由 beatbook-syncd 傳送；beatbook export\n"
                    "可複製到隨身碟。草稿（進行中的巡邏）永遠不會被封裝。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "seal", c, argv);
        }
    }
    if (optind < argc)
        return col_usage(ctx, eb, "seal", T(ctx, "unexpected argument", "多了參數"));
    if ((err = load_config(ctx, config, &conf, eb)) != BB_OK)
        return err;
    if ((err = col_open_outbox(ctx, &st, &ob, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_seal(ob, &conf, &r, eb)) == BB_OK) {
        if (r.batches == 0)
            printf(T(ctx, "nothing to seal: no finalized record is waiting\n",
                     "沒有需要封裝的紀錄\n"));
        print_sealed(ctx, &r);
    }
    bb_outbox_free(ob);
    col_store_close(st);
    return err;
}

/* ---- export ---- */

bb_err col_cmd_export(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bb_outbox_config conf;
    struct bb_outbox_sealed r;
    const char *to = NULL, *config = NULL;
    col_store *st = NULL;
    bb_outbox *ob = NULL;
    long n = 0, files = 0;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': to = optarg; break;
        case 'c': config = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook export --to DIR [--config FILE]\n"
                    "Seal what is waiting, then copy every batch HQ has not acknowledged to DIR\n"
                    "(a mounted USB stick) as DEVICE-NNNNNN.bbatch, byte for byte what\n"
                    "beatbook-syncd would send, and the photos and files their records name as\n"
                    "DEVICE-SHA256.bba.  At HQ: beatbook-hq import DIR.  Batches stay in\n"
                    "the outbox until HQ acknowledges them, so exporting twice is harmless.\n",
                    "用法：beatbook export --to DIR [--config FILE]\n"
                    "先封裝等待中的紀錄，再將總局尚未確認的每個批次複製到 DIR（已掛載的\n"
                    "隨身碟），檔名為 DEVICE-NNNNNN.bbatch，內容與 beatbook-syncd 傳送的\n"
                    "完全相同，紀錄所附的照片與檔案則為 DEVICE-SHA256.bba。在總局：beatbook-hq import DIR。批次會留在待傳送區直到總局\n"
                    "確認，所以重複匯出沒有關係。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "export", c, argv);
        }
    }
    if (optind < argc)
        return col_usage(ctx, eb, "export", T(ctx, "unexpected argument", "多了參數"));
    if (!to || !*to)
        return col_usage(ctx, eb, "export",
                         T(ctx, "--to DIR is required (the folder on the USB stick)",
                           "必須指定 --to DIR（隨身碟上的資料夾）"));
    if ((err = load_config(ctx, config, &conf, eb)) != BB_OK)
        return err;
    if ((err = col_open_outbox(ctx, &st, &ob, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_seal(ob, &conf, &r, eb)) != BB_OK)
        goto out;
    print_sealed(ctx, &r);
    if ((err = bb_outbox_export(ob, to, &n, &files, eb)) != BB_OK)
        goto out;
    if (n == 0 && files == 0)
        printf(T(ctx, "nothing to export: HQ has acknowledged every batch\n",
                 "沒有需要匯出的批次：總局已確認所有批次\n"));
    else if (n > 0)
        printf(T(ctx, "exported %ld batch file(s) to %s\n", "已匯出 %ld 個批次檔到 %s\n"), n, to);
    if (files > 0)
        printf(T(ctx, "exported %ld photo/file attachment(s) to %s (DEVICE-SHA256.bba)\n",
                 "已匯出 %ld 個照片／附件檔到 %s（DEVICE-SHA256.bba）\n"), files, to);
    {
        char reg[4200];
        snprintf(reg, sizeof reg, "%s/%s.register.json", to, bb_outbox_device(ob));
        if (bb_outbox_hq(ob) && !bb_outbox_hq(ob)->registered && access(reg, F_OK) == 0)
            printf(T(ctx, "and this laptop's registration (%s.register.json): it has never "
                          "reached HQ, so HQ binds its key from the stick first\n",
                     "以及本機的裝置登錄檔（%s.register.json）：本機尚未連上總局，總局匯入時會先登錄\n"),
                   bb_outbox_device(ob));
    }
out:
    bb_outbox_free(ob);
    col_store_close(st);
    return err;
}

/* ---- purge ---- */

bb_err col_cmd_purge(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"days", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bb_outbox_config conf;
    struct bb_outbox_purged r;
    const char *config = NULL, *days = NULL;
    col_store *st = NULL;
    bb_outbox *ob = NULL;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': days = optarg; break;
        case 'c': config = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook purge [--days N] [--config FILE]\n"
                    "Delete from this laptop what HQ acknowledged more than N days ago (default:\n"
                    "retention_days from FILE or $BEATBOOK_HOME/syncd.conf, else 30): the batch\n"
                    "files, the local copies of their records, and the photos and files HQ's\n"
                    "receipts name.  Never a draft, never anything\n"
                    "HQ has not acknowledged.  beatbook-syncd runs this after each pass.\n",
                    "用法：beatbook purge [--days N] [--config FILE]\n"
                    "從本機刪除總局確認已超過 N 天的資料（預設為 FILE 或\n"
                    "$BEATBOOK_HOME/syncd.conf 的 retention_days，否則 30）：批次檔及其紀錄的\n"
                    "本機副本。絕不刪除草稿，也絕不刪除總局尚未確認的資料。\n"
                    "beatbook-syncd 每次同步後都會執行。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "purge", c, argv);
        }
    }
    if (optind < argc)
        return col_usage(ctx, eb, "purge", T(ctx, "unexpected argument", "多了參數"));
    if ((err = col_retention(ctx, "purge", config, days, &conf, eb)) != BB_OK)
        return err;
    if ((err = col_open_outbox(ctx, &st, &ob, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_purge(ob, conf.retention_days, ctx->now, &r, eb)) == BB_OK)
        printf(T(ctx, "purged %ld acknowledged batch(es): %ld revisions and %ld records removed "
                      "from this laptop (kept %ld days after HQ's receipt)\n",
                 "已清除 %ld 個已確認批次：自本機移除 %ld 筆修訂與 %ld 筆紀錄"
                 "（總局確認後保留 %ld 天）\n"),
               r.batches, r.revisions, r.records, conf.retention_days);
    if (err == BB_OK && r.files > 0)
        printf(T(ctx, "freed %ld photo/file attachment(s) (%llu bytes) that HQ's receipts name\n",
                 "已釋放 %ld 個總局回執所載的照片／附件（%llu 位元組）\n"),
               r.files, (unsigned long long)r.file_bytes);
    bb_outbox_free(ob);
    col_store_close(st);
    return err;
}

/* ---- init --enroll ---- */


static void remove_tmp_store(const char *dir)
{
    static const char *const names[] = {COL_DB_NAME, COL_DB_NAME "-wal", COL_DB_NAME "-shm",
                                        COL_DB_NAME "-journal", BB_OUTBOX_KEY_FILE};
    char p[4300];
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static bb_err fsync_dir(const char *dir, enum bb_lang lang, bb_errbuf *eb)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return bb_fail(eb, BB_ERR_IO, BB_L(lang, "sync folder %s: %s", "同步資料夾 %s：%s"), dir,
                       bb_errno_text(e, lang));
    }
    close(fd);
    return BB_OK;
}

/*
 * The store and device.key are made complete in a private folder inside
 * home, then linked into place: link(2) never replaces an existing file, so
 * an existing store is never touched, and a crash leaves either no store or
 * a whole enrolled one (at worst a device.key with no store, which the next
 * attempt reports).
 */
bb_err col_init_enrolled(struct col_ctx *ctx, const char *officer, const char *file,
                         bb_errbuf *eb)
{
    struct bb_enrollment e;
    const struct bb_ref_item *u;
    char tmpdir[4200], db_path[4200], key_path[4200], tmp_db[4300], tmp_key[4300];
    char tmp_wal[4400];
    char kid[BB_KEY_ID_SIZE];
    bb_sign_key *key = NULL;
    col_store *st = NULL;
    int key_linked = 0, have_tmp = 0;
    bb_err err;

    memset(&e, 0, sizeof e);
    if ((err = bb_enroll_read(file, &e, eb)) != BB_OK) {
        if (err == BB_ERR_CRYPTO)
            bb_fail(eb, err, T(ctx, "init: enrollment file %s: HQ's signature does not verify; "
                                    "the file was changed or is not from HQ (ask HQ for a new one)",
                               "init：註冊檔 %s：總局的簽章驗證失敗；檔案被修改過或不是總局發的"
                               "（請向總局索取新檔）"), file);
        else if (ctx->lang == BB_LANG_EN)
            bb_errbuf_prefix(eb, "init: enrollment file %s", file);
        else if (access(file, R_OK) != 0)
            /* bb_enroll's own words are English: say it plainly in zh-TW. */
            bb_fail(eb, err, "init：無法讀取註冊檔 %s：%s", file, bb_errno_text(errno, ctx->lang));
        else
            bb_fail(eb, err, "init：註冊檔 %s 無效（不是總局的註冊檔、已損毀或版本不符；"
                    "請向總局索取新檔）", file);
        return err;
    }
    {
        int64_t expires;
        if (bb_time_parse(e.expires_at, &expires, NULL, NULL) == BB_OK && expires < ctx->now)
            fprintf(stderr, T(ctx, "note: this enrollment file expired on %s; the laptop can "
                                   "record, but HQ will refuse to register it (ask HQ for a new "
                                   "file before the first sync)\n",
                              "提醒：此註冊檔已於 %s 過期；可以記錄，但總局將拒絕登錄"
                              "（首次同步前請向總局索取新檔）\n"), e.expires_at);
    }
    u = bb_catalog_ref(ctx->cat, "units", e.org_unit);
    if (!u) {
        err = bb_fail(eb, BB_ERR_INVALID,
                      T(ctx, "init: enrollment file %s: org unit \"%s\" is not known to this "
                             "version of beatbook (see: beatbook ref units)",
                        "init：註冊檔 %s：此版本的 beatbook 不認得單位「%s」"
                        "（請見：beatbook ref units）"), file, e.org_unit);
        goto out;
    }
    snprintf(db_path, sizeof db_path, "%s/%s", ctx->home, COL_DB_NAME);
    snprintf(key_path, sizeof key_path, "%s/%s", ctx->home, BB_OUTBOX_KEY_FILE);
    if (access(db_path, F_OK) == 0) {
        err = bb_fail(eb, BB_ERR_EXISTS,
                      T(ctx, "%s: a store already exists here; use another BEATBOOK_HOME for a "
                             "new enrollment",
                        "%s：這裡已經有資料庫；新的註冊請用另一個 BEATBOOK_HOME"), db_path);
        goto out;
    }
    if (access(key_path, F_OK) == 0) {
        err = bb_fail(eb, BB_ERR_EXISTS,
                      T(ctx, "%s exists but there is no store next to it (an earlier init was "
                             "interrupted?); move it away and run init again",
                        "%s 已存在，但旁邊沒有資料庫（之前的 init 被中斷？）；請把它移走後"
                        "再執行 init"), key_path);
        goto out;
    }
    if ((err = bb_make_dirs(ctx->home, 0700, eb)) != BB_OK)
        goto out;
    snprintf(tmpdir, sizeof tmpdir, "%s/.init-XXXXXX", ctx->home);
    if (!mkdtemp(tmpdir)) {
        err = bb_fail(eb, errno == EACCES ? BB_ERR_PERM : BB_ERR_IO,
                      T(ctx, "create folder in %s: %s", "在 %s 建立資料夾：%s"), ctx->home,
                      bb_errno_text(errno, ctx->lang));
        goto out;
    }
    have_tmp = 1;
    snprintf(tmp_db, sizeof tmp_db, "%s/%s", tmpdir, COL_DB_NAME);
    snprintf(tmp_key, sizeof tmp_key, "%s/%s", tmpdir, BB_OUTBOX_KEY_FILE);
    if ((err = bb_sign_keygen(&key, eb)) != BB_OK || (err = bb_sign_key_id(key, kid, eb)) != BB_OK ||
        (err = bb_sign_key_write(key, tmp_key, eb)) != BB_OK)
        goto out;
    if ((err = col_store_create(tmpdir, officer, e.org_unit, e.device, eb)) != BB_OK ||
        (err = col_store_open(tmpdir, 0, &st, eb)) != BB_OK)
        goto out;
    if ((err = col_store_begin(st, eb)) != BB_OK)
        goto out;
    if ((err = bb_outbox_save_enrollment(st->db, &e, kid, eb)) != BB_OK) {
        col_store_rollback(st);
        goto out;
    }
    if ((err = col_store_commit(st, eb)) != BB_OK)
        goto out;
    /* Leaving WAL mode checkpoints and removes the WAL, so field.db alone is the
     * whole store when it is linked into place (the next open turns WAL on again). */
    if ((err = bb_db_exec(st->db, "PRAGMA journal_mode=DELETE", eb)) != BB_OK)
        goto out;
    col_store_close(st);
    st = NULL;
    snprintf(tmp_wal, sizeof tmp_wal, "%s-wal", tmp_db);
    if (access(tmp_wal, F_OK) == 0) {
        err = bb_fail(eb, BB_ERR_IO, T(ctx, "init: the new store was not closed cleanly; try again",
                                       "init：新資料庫沒有正常關閉；請再試一次"));
        goto out;
    }
    /* It holds the enrollment token until the first sync: owner only. */
    if (chmod(tmp_db, 0600) != 0) {
        err = bb_fail(eb, BB_ERR_IO, T(ctx, "chmod %s: %s", "設定權限 %s：%s"), tmp_db,
                      bb_errno_text(errno, ctx->lang));
        goto out;
    }
    if ((err = fsync_dir(tmpdir, ctx->lang, eb)) != BB_OK)
        goto out;
    if (link(tmp_key, key_path) != 0) {
        err = bb_fail(eb, errno == EEXIST ? BB_ERR_EXISTS : BB_ERR_IO,
                      T(ctx, "create %s: %s", "建立 %s：%s"), key_path,
                      bb_errno_text(errno, ctx->lang));
        goto out;
    }
    key_linked = 1;
    if (link(tmp_db, db_path) != 0) {
        err = bb_fail(eb, errno == EEXIST ? BB_ERR_EXISTS : BB_ERR_IO,
                      T(ctx, "create %s: %s%s", "建立 %s：%s%s"), db_path,
                      bb_errno_text(errno, ctx->lang),
                      errno == EEXIST ? T(ctx, " (another init made a store meanwhile)",
                                          "（另一個 init 同時建立了資料庫）") : "");
        goto out;
    }
    key_linked = 0;   /* both in place: keep them */
    if ((err = fsync_dir(ctx->home, ctx->lang, eb)) != BB_OK)
        goto out;
    printf(T(ctx, "store created: %s\nofficer %s, unit %s (%s), device %s\n"
                  "enrolled with HQ %s (%s); this laptop registers on its first sync\n"
                  "%s holds a one-time secret and is no longer needed: delete it\n",
             "已建立資料庫：%s\n員警 %s，單位 %s（%s），裝置 %s\n"
             "已向總局 %s 註冊（%s）；首次同步時完成裝置登錄\n"
             "%s 含一次性密碼，已不再需要：請刪除\n"),
           db_path, officer, e.org_unit, bb_label(&u->label, ctx->lang, e.org_unit), e.device,
           e.hq_url, e.label, file);
out:
    col_store_close(st);
    if (key_linked)
        unlink(key_path);
    if (have_tmp)
        remove_tmp_store(tmpdir);
    bb_sign_key_free(key);
    bb_enroll_clear(&e);
    return err;
}

/* ---- status ---- */

static long num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key, const char *deflt)
{
    const char *s = bb_json_str(o, key);
    return s ? s : deflt;
}

/* 3.4 MB, 812 kB, 96 B: sizes as people read them. */
static void human_bytes(double n, char *out, size_t size)
{
    if (n >= 1e9)
        snprintf(out, size, "%.1f GB", n / 1e9);
    else if (n >= 1e6)
        snprintf(out, size, "%.1f MB", n / 1e6);
    else if (n >= 1e3)
        snprintf(out, size, "%.0f kB", n / 1e3);
    else
        snprintf(out, size, "%.0f B", n);
}

/* Photos and files: waiting, at HQ (receipted), freed, refused (with why). */
static void print_attachments(struct col_ctx *ctx, const cJSON *att)
{
    char waiting[32], at_hq[32], here[32];
    const cJSON *it;

    if (!att)
        return;
    human_bytes((double)num(att, "waiting_bytes"), waiting, sizeof waiting);
    human_bytes((double)num(att, "at_hq_bytes"), at_hq, sizeof at_hq);
    human_bytes((double)num(att, "bytes_on_laptop"), here, sizeof here);
    printf(T(ctx, "photos and files: %ld waiting (%s), %ld at HQ (%s), %ld freed; %s on this "
                  "laptop\n",
             "照片與檔案：待傳送 %ld 個（%s），總局已收 %ld 個（%s），已釋放 %ld 個；本機占用 %s\n"),
           num(att, "waiting"), waiting, num(att, "at_hq"), at_hq, num(att, "freed"), here);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(att, "refused"))
        printf(T(ctx, "  file %.12s… (%s) REFUSED by HQ: %s\n",
                 "  檔案 %.12s…（%s）遭總局拒收：%s\n"),
               str(it, "sha256", "?"), str(it, "name", ""), str(it, "reason", "?"));
}

void col_print_outbox(struct col_ctx *ctx, const cJSON *sum)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(sum, "batches"), *it;

    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "enrolled"))) {
        printf("%s\n", T(ctx, "sync: this store is not enrolled: it can record, but not seal or "
                              "sync (a store made with beatbook init --enroll FILE can)",
                         "同步：此資料庫未向總局註冊，可以記錄但不能封裝或同步"
                         "（請以 beatbook init --enroll FILE 建立）"));
        return;
    }
    printf(T(ctx, "HQ:      %s (%s), %s\n", "總局：  %s（%s），%s\n"), str(sum, "hq_url", "?"),
           str(sum, "label", ""),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "registered"))
               ? T(ctx, "registered", "已登錄")
               : T(ctx, "not registered yet (on the first sync)", "尚未登錄（首次同步時登錄）"));
    printf(T(ctx, "batches: %ld sealed, %ld sent, %ld acknowledged, %ld rejected, %ld waiting "
                  "(%ld records)\n",
             "批次：  已封裝 %ld，已傳送 %ld，已確認 %ld，遭拒 %ld，待傳送 %ld（%ld 筆紀錄）\n"),
           num(b, "sealed"), num(b, "sent"), num(b, "acknowledged"), num(b, "rejected"),
           num(b, "waiting"), num(sum, "records_in_waiting_batches"));
    printf(T(ctx, "records waiting to be sealed: %ld\n", "待封裝的紀錄：%ld\n"),
           num(sum, "records_waiting"));
    printf(T(ctx, "HQ's receipts: %ld records merged, %ld duplicates, %ld rejected\n",
             "總局回執：合併 %ld 筆，重複 %ld 筆，拒收 %ld 筆\n"),
           num(sum, "records_merged"), num(sum, "records_duplicate"), num(sum, "records_rejected"));
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sum, "rejected_batches"))
        printf(T(ctx, "  batch %ld (%ld records) REFUSED by HQ (HTTP %ld): %s\n",
                 "  批次 %ld（%ld 筆）遭總局拒收（HTTP %ld）：%s\n"),
               num(it, "seq"), num(it, "count"), num(it, "status"), str(it, "reason", "?"));
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sum, "rejected_records"))
        printf(T(ctx, "  record %s rev %ld (%s) rejected by HQ: %s — correct it with: beatbook edit %s\n",
                 "  紀錄 %s 第 %ld 版（%s）遭總局拒收：%s — 請以 beatbook edit %s 更正\n"),
               str(it, "id", "?"), num(it, "rev"), str(it, "kind", "?"), str(it, "reason", "?"),
               str(it, "id", "?"));
    print_attachments(ctx, cJSON_GetObjectItemCaseSensitive(sum, "attachments"));
    it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sum, "waiting_batches"), 0);
    if (it && bb_json_str(it, "last_error"))
        printf(T(ctx, "  batch %ld: %ld attempt(s), last error: %s\n",
                 "  批次 %ld：已嘗試 %ld 次，最近錯誤：%s\n"),
               num(it, "seq"), num(it, "attempts"), str(it, "last_error", ""));
    if (bb_json_str(sum, "last_sync_at"))
        printf(T(ctx, "last sync: %s, %s%s\n", "最近同步：%s，%s%s\n"), str(sum, "last_sync_at", ""),
               bb_json_str(sum, "last_sync_error") ? T(ctx, "failed: ", "失敗：")
                                                   : T(ctx, "ok", "成功"),
               str(sum, "last_sync_error", ""));
    else
        printf("%s\n", T(ctx, "last sync: never", "最近同步：尚未同步"));
}
