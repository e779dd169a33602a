/*
 * col_receipts.c — `beatbook import DIR`: HQ's signed receipts (and its
 * reference bundle) carried back on a USB stick, written there by
 * `beatbook-hq export-receipts`.  Everything on the stick for this laptop is
 * checked first — each receipt with bb_outbox_ack_check (HQ's signature,
 * batch, device, seq, sha256, every record), the bundle with bb_refbundle_open
 * — and only when all of it holds is it applied, through the very calls
 * beatbook-syncd makes (bb_outbox_ack, bb_refbundle_stored_save); then what
 * the retention allows is purged.  A receipt for another laptop, or one that
 * does not verify, applies nothing.
 */
#include "col_cli.h"
#include "col_store.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_outbox.h"
#include "bb_time.h"
#include "bb_refbundle.h"
#include "bb_sign.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECEIPT_FILE_MAX ((size_t)64 * 1024 * 1024)
#define MAX_RECEIPTS 100000

struct receipt {
    char *path, *text;
    size_t len;
    int64_t seq;                     /* a batch receipt's */
    char sha256[BB_SHA256_HEX_SIZE]; /* an attachment receipt's */
};

#define ATT_RECEIPT_SUFFIX ".att-receipt.json"

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static void receipts_free(struct receipt *r, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(r[i].path);
        free(r[i].text);
    }
    free(r);
}

/* Append r to *arr (capped at MAX_RECEIPTS). */
static bb_err push(struct receipt **arr, size_t *n, size_t *cap, const struct receipt *r)
{
    if (*n >= MAX_RECEIPTS)
        return BB_ERR_TOOBIG;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct receipt *nr = realloc(*arr, nc * sizeof *nr);
        if (!nr)
            return BB_ERR_NOMEM;
        *arr = nr;
        *cap = nc;
    }
    (*arr)[(*n)++] = *r;
    return BB_OK;
}

static int by_seq(const void *a, const void *b)
{
    const struct receipt *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

bb_err col_cmd_import(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"days", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bb_outbox_config conf;
    struct bb_outbox_purged purged;
    struct receipt *rs = NULL, *as = NULL;   /* batch and attachment receipts */
    size_t n = 0, cap = 0, na = 0, acap = 0, i;
    const char *config = NULL, *days = NULL, *dir;
    char other[80] = "", refpath[4200];
    long others = 0, applied = 0, already = 0, rejected = 0, att_applied = 0, att_already = 0;
    col_store *st = NULL;
    bb_outbox *ob = NULL;
    bb_refbundle *bundle = NULL;
    bb_sign_key *hq_key = NULL;
    char hq_kid[BB_KEY_ID_SIZE];
    struct dirent *de;
    DIR *d = NULL;
    int have_ref = 0, ref_changed = 0, ref_older = 0;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': days = optarg; break;
        case 'c': config = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook import DIR [--days N] [--config FILE]\n"
                    "Take HQ's signed receipts and reference data from DIR (a USB stick written\n"
                    "by `beatbook-hq export-receipts`): every receipt for this laptop and the\n"
                    "reference bundle are verified first and applied only if all of them hold,\n"
                    "exactly as beatbook-syncd applies them; then acknowledged data older than\n"
                    "N days (default: retention_days, else 30) is purged.\n",
                    "用法：beatbook import DIR [--days N] [--config FILE]\n"
                    "從 DIR（由 `beatbook-hq export-receipts` 寫入的隨身碟）取得總局簽署的回執\n"
                    "與參考資料：本機的每張回執與參考資料包都先驗證，全部無誤才套用，與\n"
                    "beatbook-syncd 的做法相同；之後清除總局確認已超過 N 天的資料（預設為\n"
                    "retention_days，否則 30）。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "import", c, argv);
        }
    }
    if (optind >= argc)
        return col_usage(ctx, eb, "import", T(ctx, "which folder? give DIR (the USB stick)",
                                              "哪個資料夾？請給 DIR（隨身碟）"));
    if (optind + 1 < argc)
        return col_usage(ctx, eb, "import", T(ctx, "unexpected argument", "多了參數"));
    dir = argv[optind];
    if ((err = col_retention(ctx, "import", config, days, &conf, eb)) != BB_OK)
        return err;
    if ((err = col_open_outbox(ctx, &st, &ob, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_require_enrollment(ob, T(ctx, "importing HQ's receipts",
                                                  "匯入總局的回執"), eb)) != BB_OK)
        goto out;
    if (!(d = opendir(dir))) {
        err = bb_fail(eb, errno == ENOENT ? BB_ERR_NOTFOUND : BB_ERR_IO,
                      T(ctx, "import from %s: %s", "自 %s 匯入：%s"), dir,
                      bb_errno_text(errno, ctx->lang));
        goto out;
    }
    /* Read every receipt on the stick; sort out this laptop's. */
    while ((de = readdir(d)) != NULL) {
        char path[4200];
        cJSON *doc = NULL;
        const cJSON *seq;
        const char *dev;
        struct receipt r;
        int is_att;
        if (de->d_name[0] == '.')
            continue;
        is_att = has_suffix(de->d_name, ATT_RECEIPT_SUFFIX);
        if (!is_att && !has_suffix(de->d_name, ".receipt.json"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        memset(&r, 0, sizeof r);
        if ((err = bb_read_file(path, RECEIPT_FILE_MAX, &r.text, &r.len, eb)) != BB_OK)
            goto refuse;
        seq = NULL;
        if (bb_json_parse(r.text, r.len, path, &doc, eb) != BB_OK ||
            !(dev = bb_json_str(doc, "device")) ||
            (is_att ? !bb_sha256_hex_valid(bb_json_str(doc, "attachment"))
                    : (!cJSON_IsNumber(seq = cJSON_GetObjectItemCaseSensitive(doc, "seq")) ||
                       seq->valuedouble < 1))) {
            cJSON_Delete(doc);
            free(r.text);
            err = bb_fail(eb, BB_ERR_INVALID, T(ctx, "%s: not a receipt from HQ",
                                                "%s：這不是總局的回執"), path);
            goto refuse;
        }
        if (strcmp(dev, bb_outbox_device(ob)) != 0) {
            int named_mine = strncmp(de->d_name, bb_outbox_device(ob),
                                     strlen(bb_outbox_device(ob))) == 0;
            if (!others)
                snprintf(other, sizeof other, "%.70s", dev);
            others++;
            cJSON_Delete(doc);
            free(r.text);
            if (named_mine) {
                err = bb_fail(eb, BB_ERR_INVALID,
                              T(ctx, "%s: this receipt is for device %s, not this laptop (%s)",
                                "%s：這張回執屬於裝置 %s，不是本機（%s）"), path, other,
                              bb_outbox_device(ob));
                goto refuse;
            }
            continue;
        }
        if (is_att) {
            snprintf(r.sha256, sizeof r.sha256, "%s", bb_json_str(doc, "attachment"));
            cJSON_Delete(doc);
            if (!(r.path = strdup(path)) || push(&as, &na, &acap, &r) != BB_OK) {
                free(r.path);
                free(r.text);
                err = bb_fail(eb, BB_ERR_NOMEM, "import: out of memory");
                goto out;
            }
            continue;
        }
        r.seq = (int64_t)seq->valuedouble;
        cJSON_Delete(doc);
        if (n >= MAX_RECEIPTS) {
            free(r.text);
            err = bb_fail(eb, BB_ERR_TOOBIG, "import: more than %d receipts", MAX_RECEIPTS);
            goto out;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct receipt *nr = realloc(rs, nc * sizeof *nr);
            if (!nr) {
                free(r.text);
                err = bb_fail(eb, BB_ERR_NOMEM, "import: out of memory");
                goto out;
            }
            rs = nr;
            cap = nc;
        }
        if (!(r.path = strdup(path))) {
            free(r.text);
            err = bb_fail(eb, BB_ERR_NOMEM, "import: out of memory");
            goto out;
        }
        rs[n++] = r;
    }
    snprintf(refpath, sizeof refpath, "%s/reference.json", dir);
    have_ref = access(refpath, F_OK) == 0;
    if (n == 0 && na == 0 && others > 0) {
        err = bb_fail(eb, BB_ERR_INVALID,
                      T(ctx, "%s holds receipts of device %s (%ld file(s)), none of this laptop "
                             "(%s); ask HQ for: beatbook-hq export-receipts --device %s",
                        "%s 裡是裝置 %s 的回執（%ld 個檔案），沒有本機（%s）的；請總局執行："
                        "beatbook-hq export-receipts --device %s"),
                      dir, other, others, bb_outbox_device(ob), bb_outbox_device(ob));
        goto refuse;
    }
    if (n == 0 && na == 0 && !have_ref) {
        err = bb_fail(eb, BB_ERR_NOTFOUND,
                      T(ctx, "no receipts from HQ in %s (DEVICE-NNNNNN.receipt.json, written by "
                             "beatbook-hq export-receipts)",
                        "%s 裡沒有總局的回執（DEVICE-NNNNNN.receipt.json，由 "
                        "beatbook-hq export-receipts 寫入）"), dir);
        goto out;
    }
    qsort(rs, n, sizeof *rs, by_seq);
    /* Check everything before applying anything. */
    for (i = 0; i < n; i++) {
        struct bb_outbox_ack a;
        if ((err = bb_outbox_ack_check(ob, rs[i].seq, rs[i].text, rs[i].len, &a, eb)) != BB_OK) {
            bb_errbuf_prefix(eb, "%s", rs[i].path);
            goto refuse;
        }
    }
    for (i = 0; i < na; i++) {
        if ((err = bb_outbox_att_ack(ob, as[i].sha256, as[i].text, as[i].len, 1, NULL, eb))
            != BB_OK) {
            bb_errbuf_prefix(eb, "%s", as[i].path);
            goto refuse;
        }
    }
    if (have_ref) {
        char *text = NULL;
        size_t len = 0;
        if ((err = bb_read_file(refpath, BB_REFBUNDLE_MAX, &text, &len, eb)) == BB_OK &&
            (err = bb_refbundle_hq_key(st->db, &hq_key, hq_kid, eb)) == BB_OK)
            err = bb_refbundle_open(text, len, hq_key, hq_kid, &bundle, eb);
        free(text);
        if (err != BB_OK) {
            bb_errbuf_prefix(eb, "%s", refpath);
            goto refuse;
        }
    }
    /* Apply: the same calls as beatbook-syncd. */
    for (i = 0; i < n; i++) {
        struct bb_outbox_ack a;
        if ((err = bb_outbox_ack(ob, rs[i].seq, rs[i].text, rs[i].len, &a, eb)) != BB_OK) {
            bb_errbuf_prefix(eb, "%s", rs[i].path);
            goto out;
        }
        if (a.already)
            already++;
        else
            applied++;
        rejected += a.rejected;
    }
    for (i = 0; i < na; i++) {
        int was = 0;
        if ((err = bb_outbox_att_ack(ob, as[i].sha256, as[i].text, as[i].len, 0, &was, eb))
            != BB_OK) {
            bb_errbuf_prefix(eb, "%s", as[i].path);
            goto out;
        }
        if (was)
            att_already++;
        else
            att_applied++;
    }
    if (bundle) {
        err = bb_refbundle_stored_save(st->db, bundle, ctx->now, &ref_changed, eb);
        if (err == BB_ERR_CONFLICT) {
            ref_older = 1;
            err = BB_OK;
        } else if (err != BB_OK) {
            goto out;
        }
    }
    /* Now, not when the command started: the receipts were acknowledged just now, and a
     * retention of 0 days must free them even when the second has turned since. */
    if ((err = bb_outbox_purge(ob, conf.retention_days, bb_time_now(), &purged, eb)) != BB_OK)
        goto out;
    printf(T(ctx, "receipts: %ld applied, %ld already here (%ld record(s) rejected by HQ: see "
                  "beatbook status)\n",
             "回執：套用 %ld 張，%ld 張本機已有（總局退回 %ld 筆紀錄：請見 beatbook status）\n"),
           applied, already, rejected);
    if (na)
        printf(T(ctx, "photo/file receipts: %ld applied, %ld already here\n",
                 "照片／附件回執：套用 %ld 張，%ld 張本機已有\n"), att_applied, att_already);
    if (purged.files)
        printf(T(ctx, "freed %ld photo/file attachment(s) that HQ's receipts name\n",
                 "已釋放 %ld 個總局回執所載的照片／附件\n"), purged.files);
    if (others)
        printf(T(ctx, "left alone: %ld receipt(s) of other laptops\n",
                 "略過：其他筆電的回執 %ld 張\n"), others);
    if (bundle)
        printf(ref_older ? T(ctx, "reference data: the stick's bundle is older than this "
                                  "laptop's; kept this laptop's\n",
                             "參考資料：隨身碟上的資料包比本機的舊；保留本機的\n")
               : ref_changed ? T(ctx, "reference data: updated to version %.12s (used from the "
                                      "next start)\n", "參考資料：已更新為版本 %.12s（下次啟動起使用）\n")
                             : T(ctx, "reference data: already version %.12s\n",
                                 "參考資料：已是版本 %.12s\n"),
               bb_refbundle_version_of(bundle));
    printf(T(ctx, "purged %ld acknowledged batch(es): %ld revisions and %ld records removed "
                  "from this laptop (kept %ld days after HQ's receipt)\n",
             "已清除 %ld 個已確認批次：自本機移除 %ld 筆修訂與 %ld 筆紀錄"
             "（總局確認後保留 %ld 天）\n"),
           purged.batches, purged.revisions, purged.records, conf.retention_days);
    goto out;
refuse:
    if (eb) {
        size_t l = strlen(eb->msg);
        snprintf(eb->msg + l, sizeof eb->msg - l, "%s",
                 T(ctx, "; nothing was applied", "；未套用任何內容"));
    }
out:
    if (d)
        closedir(d);
    receipts_free(rs, n);
    receipts_free(as, na);
    bb_refbundle_free(bundle);
    bb_sign_key_free(hq_key);
    bb_outbox_free(ob);
    col_store_close(st);
    return err;
}
