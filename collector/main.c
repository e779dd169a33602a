/*
 * beatbook — the field collector CLI.  This file only parses the global
 * options, loads the catalog (the one compiled in, then HQ's reference
 * bundle stored by beatbook-syncd, if any), dispatches to a subcommand and
 * maps its bb_err to an exit status (sysexits.h).  See col_cli.h for the
 * commands.
 */
#include "col_attach.h"
#include "col_cli.h"
#include "bb_db.h"
#include "bb_log.h"
#include "bb_refbundle.h"
#include "bb_time.h"
#include "col_store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

static const struct {
    const char *name;
    col_command_fn fn;
} commands[] = {
    {"init", col_cmd_init},     {"add", col_cmd_add},       {"patrol", col_cmd_patrol},
    {"edit", col_cmd_edit},     {"attach", col_cmd_attach}, {"void", col_cmd_void},
    {"list", col_cmd_list},
    {"show", col_cmd_show},     {"kinds", col_cmd_kinds},   {"ref", col_cmd_ref},
    {"status", col_cmd_status}, {"report", col_cmd_report},   {"seal", col_cmd_seal},
    {"export", col_cmd_export}, {"purge", col_cmd_purge},
    {"import", col_cmd_import}, {"verify-hq", col_cmd_verify_hq}, {"ui", col_cmd_ui},
};

/*
 * Bring ctx->cat up to the reference bundle HQ sent (shared/bb_refbundle.h),
 * so that validation, prompts, `kinds` and `ref` follow HQ's data.  Every
 * start verifies it with HQ's key from the enrollment: a bundle that does
 * not verify or load is ignored with a warning and the built-in data is
 * used.  Anything else wrong with the store is left for the command to
 * report (a store that is missing, damaged, locked or older).
 */
static void load_reference(struct col_ctx *ctx)
{
    char path[sizeof ctx->home + 16];
    sqlite3 *db = NULL;
    bb_refbundle *b = NULL;
    bb_errbuf eb;
    bb_err err;

    if (snprintf(path, sizeof path, "%s/%s", ctx->home, COL_DB_NAME) >= (int)sizeof path ||
        access(path, F_OK) != 0 ||
        bb_db_open(path, "collector", BB_DB_READONLY, &db, NULL) != BB_OK)
        return;
    memset(&eb, 0, sizeof eb);
    err = bb_refbundle_stored_load(db, &b, &eb);
    if (err == BB_OK && (err = bb_refbundle_apply(b, ctx->cat, &eb)) != BB_OK) {
        /* Out of memory half-way: start again from the built-in data alone. */
        bb_catalog *fresh = NULL;
        if (bb_catalog_load_embedded(&fresh, NULL) == BB_OK) {
            bb_catalog_free(ctx->cat);
            ctx->cat = fresh;
        }
    }
    if (err != BB_OK && err != BB_ERR_NOTFOUND && err != BB_ERR_STATE)
        fprintf(stderr, "%s%s\n",
                T(ctx, "beatbook: warning: HQ's reference data stored here is not used, the "
                       "built-in data is (the next sync fetches it again): ",
                  "beatbook：警告：本機儲存的總局參考資料無法使用，改用內建資料"
                  "（下次同步會重新下載）："),
                eb.msg);
    bb_refbundle_free(b);
    bb_db_close(db);
}

static void usage(const struct col_ctx *ctx, FILE *out)
{
    if (ctx->lang != BB_LANG_EN) {
        fputs("用法：beatbook [--lang zh-TW|en] COMMAND [ARGS...]\n"
              "\n"
              "離線記錄外勤工作；每一筆在指令結束時就已寫入磁碟。\n"
              "\n"
              "指令：\n"
              "  init --enroll FILE --officer ID     以總局的註冊檔建立本機資料庫（之後可同步）\n"
              "  init --officer ID --org-unit CODE   建立只能記錄、不能同步的資料庫\n"
              "  add KIND [FIELD=VALUE...]           記錄一筆（在終端機上會詢問缺少的欄位）；\n"
              "                                      印出新紀錄的編號\n"
              "  add KIND --json FILE|-              匯入一筆或一整個陣列，全部成功或全部不存\n"
              "  patrol start [FIELD=VALUE...]       開始巡邏（結束前為草稿）\n"
              "  patrol end [ID] [FIELD=VALUE...]    結束進行中的巡邏\n"
              "  list [--kind K] [--status S] [--period P] [--from T] [--to T]\n"
              "       [--org-unit CODE] [--limit N] [--json]\n"
              "  show ID [--json]                    一筆紀錄及其每一次修改\n"
              "  edit ID FIELD=VALUE...              更正紀錄（新增一版，保留歷史）\n"
              "  attach ID [FIELD] FILE...           為紀錄加上照片或檔案（新增一版）\n"
              "  void ID --reason TEXT               作廢紀錄（新增一版，保留歷史）\n"
              "  kinds [show KIND] [--json]          可以記錄哪些類別，逐欄說明\n"
              "  ref units|intersections|segments|bikepaths [--json]\n"
              "  status [--json]                     草稿、紀錄、各類別筆數、待傳送批次\n"
              "  report --period P [--json]          各類別筆數與本單位的 KPI 輸入\n"
              "  seal                                將已完成的紀錄封裝成要送總局的批次\n"
              "  export --to DIR                     將總局尚未確認的批次複製到隨身碟\n"
              "  purge [--days N]                    刪除總局確認已超過 N 天的資料\n"
              "  import DIR [--days N]               套用隨身碟上總局的回執與參考資料\n"
              "  verify-hq [--from DIR]              比對總局與本機的紀錄是否一致\n"
              "                                      （傳送由 beatbook-syncd 負責）\n"
              "  ui [--port N] [--no-browser]        在 http://127.0.0.1 開啟填報表單頁面（瀏覽器）\n"
              "\n"
              "除了類別的欄位，FIELD 還可以是 occurred_at（發生時間，預設為現在）、\n"
              "location（緯度,經度）或 org_unit。時間：2018-03-15T14:20:00+08:00、\n"
              "\"2018-03-15 14:20\"、\"107/03/15 14:20\"（民國）、14:20（今天）或 now。\n"
              "期間：2018、107、107H1、2018Q3、2018-03、107-03、2018-01..2018-03。\n"
              "\n"
              "選項：\n"
              "  --lang zh-TW|en   標籤與訊息的語言（預設依 LANG，否則為 zh-TW）\n"
              "  -h, --help        本說明；COMMAND --help 為單一指令的說明\n"
              "  -V, --version     顯示版本\n"
              "\n"
              "環境變數：BEATBOOK_HOME（資料庫資料夾，預設 ~/.local/share/beatbook）\n"
              "結束代碼：0 成功，64 用法錯誤，65 資料錯誤，66 找不到，73 已存在，\n"
              "          74 讀寫錯誤或資料庫損毀，75 資料庫忙碌中，77 權限不足\n",
              out);
        return;
    }
    fputs("usage: beatbook [--lang zh-TW|en] COMMAND [ARGS...]\n"
          "\n"
          "Record field work offline; every entry is on disk when the command returns.\n"
          "\n"
          "commands:\n"
          "  init --enroll FILE --officer ID     create this laptop's store from HQ's\n"
          "                                      enrollment file (it can then sync)\n"
          "  init --officer ID --org-unit CODE   create a store that records but cannot sync\n"
          "  add KIND [FIELD=VALUE...]           record one entry (asks for missing fields\n"
          "                                      on a terminal); prints the new id\n"
          "  add KIND --json FILE|-              import one record or an array, all or nothing\n"
          "  patrol start [FIELD=VALUE...]       open a patrol (a draft until it ends)\n"
          "  patrol end [ID] [FIELD=VALUE...]    finish the open patrol\n"
          "  list [--kind K] [--status S] [--period P] [--from T] [--to T]\n"
          "       [--org-unit CODE] [--limit N] [--json]\n"
          "  show ID [--json]                    a record and every revision of it\n"
          "  edit ID FIELD=VALUE...              correct a record (new revision, history kept)\n"
          "  attach ID [FIELD] FILE...           add photos or files to a record (new revision)\n"
          "  void ID --reason TEXT               void a record (new revision, history kept)\n"
          "  kinds [show KIND] [--json]          what can be recorded, field by field\n"
          "  ref units|intersections|segments|bikepaths [--json]\n"
          "  status [--json]                     drafts, records, counts per kind, outbox\n"
          "  report --period P [--json]          counts per kind and this unit's KPI inputs\n"
          "  seal                                seal finalized records into batches for HQ\n"
          "  export --to DIR                     copy unacknowledged batches to a USB stick\n"
          "  purge [--days N]                    remove data HQ acknowledged N+ days ago\n"
          "  import DIR [--days N]               apply HQ's receipts and reference data from a USB stick\n"
          "  verify-hq [--from DIR]              does HQ hold exactly this laptop's records?\n"
          "                                      (sending is beatbook-syncd's job)\n"
          "  ui [--port N] [--no-browser]        the forms page on http://127.0.0.1 (a browser)\n"
          "\n"
          "Besides a kind's fields, FIELD may be occurred_at (when it happened; default now),\n"
          "location (LAT,LON) or org_unit.  Times: 2018-03-15T14:20:00+08:00,\n"
          "\"2018-03-15 14:20\", \"107/03/15 14:20\" (ROC), 14:20 (today) or now.\n"
          "Periods: 2018, 107, 107H1, 2018Q3, 2018-03, 107-03, 2018-01..2018-03.\n"
          "\n"
          "options:\n"
          "  --lang zh-TW|en   language of labels and messages (default: from LANG, else zh-TW)\n"
          "  -h, --help        this help;  COMMAND --help for one command\n"
          "  -V, --version     print the version\n"
          "\n"
          "environment: BEATBOOK_HOME (store folder, default ~/.local/share/beatbook)\n"
          "exit status: 0 ok, 64 usage, 65 bad data, 66 not found, 73 exists,\n"
          "             74 I/O or damaged store, 75 store busy, 77 permission\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"lang", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct col_ctx ctx;
    bb_errbuf eb;
    bb_err err;
    size_t i;
    int c;

    memset(&ctx, 0, sizeof ctx);
    bb_log_init("beatbook", BB_LOG_WARN);
    ctx.lang = bb_lang_from_locale(getenv("LANG"));
    if (getenv("LANG") == NULL || !*getenv("LANG"))
        ctx.lang = BB_LANG_ZH;
    /* getopt's own messages are English: every command names a bad option
     * itself, in the officer's language (col_bad_option). */
    opterr = 0;
    /* "+": stop at the command name; the command parses its own options. */
    while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (bb_lang_parse(optarg, &ctx.lang) != BB_OK) {
                fprintf(stderr, T(&ctx, "beatbook: --lang: \"%s\" is not supported; use zh-TW or en\n",
                                  "beatbook：--lang：不支援「%s」；請用 zh-TW 或 en\n"),
                        optarg);
                return bb_err_exit_code(BB_ERR_USAGE);
            }
            break;
        case 'h':
            usage(&ctx, stdout);
            return 0;
        case 'V':
            printf("beatbook %s\n", BEATBOOK_VERSION);
            return 0;
        default:
            col_bad_option(&ctx, &eb, NULL, c, argv);
            fprintf(stderr, "beatbook: %s\n", eb.msg);
            usage(&ctx, stderr);
            return bb_err_exit_code(BB_ERR_USAGE);
        }
    }
    if (optind >= argc) {
        usage(&ctx, stderr);
        return bb_err_exit_code(BB_ERR_USAGE);
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            break;
    if (i == sizeof commands / sizeof commands[0]) {
        fprintf(stderr, T(&ctx, "beatbook: unknown command \"%s\" (see: beatbook --help)\n",
                          "beatbook：沒有「%s」這個指令（請見：beatbook --help）\n"),
                argv[optind]);
        return bb_err_exit_code(BB_ERR_USAGE);
    }
    col_store_set_lang(ctx.lang);
    memset(&eb, 0, sizeof eb);
    if ((err = bb_catalog_load_embedded(&ctx.cat, &eb)) != BB_OK) {
        fprintf(stderr, T(&ctx, "beatbook: built-in record kinds: %s\n",
                          "beatbook：內建的紀錄類別：%s\n"), eb.msg);
        return bb_err_exit_code(BB_ERR_INTERNAL);
    }
    if ((err = col_store_home(ctx.home, sizeof ctx.home, &eb)) == BB_OK) {
        if (strcmp(commands[i].name, "init") != 0)
            load_reference(&ctx);
        ctx.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        ctx.now = bb_time_now();
        argv += optind;
        argc -= optind;
        optind = 0;   /* glibc: 0 re-initialises getopt for the subcommand */
        err = commands[i].fn(&ctx, argc, argv, &eb);
        /* Files this command copied into the store that no saved revision
         * names (it failed after taking them) are removed again. */
        col_attach_discard(&ctx);
    }
    bb_catalog_free(ctx.cat);
    if (err != BB_OK) {
        fprintf(stderr, "beatbook: %s\n", eb.msg[0] ? eb.msg : bb_strerror_lang(err, ctx.lang));
        return bb_err_exit_code(err);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, T(&ctx, "beatbook: write output: %s\n", "beatbook：寫出結果：%s\n"),
                bb_errno_text(errno, ctx.lang));
        return bb_err_exit_code(BB_ERR_IO);
    }
    return 0;
}
