/*
 * beatbook-syncd — carries the laptop's sealed batches to HQ over HTTPS
 * (DESIGN.md §6, docs/PROTOCOL.md).  This file only parses the command line
 * and maps the result to an exit status; the work is in sync_run.c
 * (the loops), sync_push.c (one pass), sync_http.c (libcurl) and
 * shared/bb_outbox.c (the store).
 */
#include "sync_run.h"
#include "sync_verify.h"
#include "bb_catalog.h"
#include "bb_log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

static void usage(enum bb_lang lang, FILE *out)
{
    if (lang != BB_LANG_EN) {
        fputs("用法：beatbook-syncd [--lang zh-TW|en] [--home DIR] [--once] [-f] [--config FILE]\n"
              "                      [--check-config]\n"
              "\n"
              "以 HTTPS 將本機已封裝的批次送到總局，直到總局以簽章的回執確認每一個批次。\n"
              "需要時先向總局登錄本機，封裝已完成的紀錄，依序傳送批次，並在保留期過後\n"
              "清除總局已確認的資料。\n"
              "\n"
              "選項：\n"
              "  --home DIR        資料庫資料夾（預設：$BEATBOOK_HOME，否則\n"
              "                    ~/.local/share/beatbook）\n"
              "  --once            同步一次：在終端機上顯示進度條，最後印出摘要\n"
              "                    「已傳送 N，已確認 N，重複 N，遭拒 N」（傳送、總局確認與\n"
              "                    拒收的批次數；總局已有的紀錄數）\n"
              "  -f, --foreground  在前景執行常駐程式（一律如此；供 systemd 使用）\n"
              "  --config FILE     設定檔（預設：DIR/syncd.conf，若存在）\n"
              "  --verify-hq [--from DIR]\n"
              "                    總局是否正好保有本機經確認的紀錄？（以 HTTPS 或隨身碟取得\n"
              "                    總局簽署的摘要；一致時結束碼 0，不一致 65；beatbook verify-hq）\n"
              "  --check-config    檢查設定、印出後結束\n"
              "  --lang zh-TW|en   訊息的語言（預設依 LANG，否則為 zh-TW）\n"
              "  -h, --help        本說明；-V, --version 顯示版本\n"
              "\n"
              "設定檔，每行 key = value（# 之後為註解）：\n"
              "  interval = 5m               兩次同步之間的時間（s、m、h；預設 300 秒）\n"
              "  retention_days = 30         總局確認後的資料保留天數\n"
              "  batch_max_records = 5000    每個批次的紀錄筆數上限\n"
              "  batch_max_bytes = 8M        每個批次的紀錄位元組上限（K、M）\n"
              "\n"
              "常駐程式收到 SIGTERM 或 SIGINT 時，會在進行中的請求完成後結束；收到 SIGHUP\n"
              "時重新讀取設定檔。每個資料庫只能有一個 syncd（鎖定檔 DIR/syncd.lock）。\n"
              "結束代碼：0 全部已確認（或常駐程式已停止），64 用法錯誤，\n"
              "          65 總局拒收了批次或紀錄（請見：beatbook status），\n"
              "          66 沒有資料庫，\n"
              "          75 有資料需要稍後再試，或另一個 syncd 正在執行，\n"
              "          78 設定錯誤\n",
              out);
        return;
    }
    fputs("usage: beatbook-syncd [--lang zh-TW|en] [--home DIR] [--once] [-f] [--config FILE]\n"
          "                      [--check-config]\n"
          "\n"
          "Send this laptop's sealed batches to HQ over HTTPS until HQ acknowledges each with\n"
          "a signed receipt.  Registers the laptop with HQ first if needed, seals finalized\n"
          "records, sends batches in order, and purges acknowledged data after the retention.\n"
          "\n"
          "options:\n"
          "  --home DIR        the store folder (default: $BEATBOOK_HOME, else\n"
          "                    ~/.local/share/beatbook)\n"
          "  --once            one pass with a progress bar on a terminal, then a summary:\n"
          "                    \"sent N, acknowledged N, duplicates N, rejected N\" (batches\n"
          "                    sent, acknowledged and refused by HQ; records HQ already had)\n"
          "  -f, --foreground  run the daemon in the foreground (it always does; for systemd)\n"
          "  --config FILE     settings (default: DIR/syncd.conf if it exists)\n"
          "  --check-config    check the settings, print them, and exit\n"
          "  --verify-hq [--from DIR]\n"
          "                    does HQ hold exactly this laptop's acknowledged records?\n"
          "                    (HQ's signed digests over HTTPS, or from a USB stick;\n"
          "                    exit 0 when they agree, 65 when not; beatbook verify-hq)\n"
          "  --lang zh-TW|en   language of messages (default: from LANG, else zh-TW)\n"
          "  -h, --help        this help;  -V, --version  the version\n"
          "\n"
          "config file, key = value ('#' comments):\n"
          "  interval = 5m               time between passes (s, m, h; default 300 s)\n"
          "  retention_days = 30         keep acknowledged data this long\n"
          "  batch_max_records = 5000    records per batch\n"
          "  batch_max_bytes = 8M        bytes of records per batch (K, M)\n"
          "\n"
          "The daemon stops on SIGTERM or SIGINT after the request in flight, and reloads the\n"
          "config file on SIGHUP.  One syncd per store (lock file DIR/syncd.lock).\n"
          "exit status: 0 everything acknowledged (or the daemon was stopped), 64 usage,\n"
          "             65 HQ refused a batch or rejected records (see: beatbook status),\n"
          "             66 no store,\n"
          "             75 something must be retried later or another syncd is running,\n"
          "             78 bad config\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'H'},
        {"once", no_argument, NULL, 'o'},
        {"foreground", no_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"lang", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"verify-hq", no_argument, NULL, 'Q'},
        {"from", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL;
    int verify = 0;
    struct sync_run_opts o;
    enum sync_outcome outcome;
    char home[4096];
    int c, check = 0;
    bb_errbuf eb;
    bb_err err;

    memset(&o, 0, sizeof o);
    memset(&eb, 0, sizeof eb);
    /* As beatbook: LANG decides, zh-TW when it says nothing; --lang overrides. */
    o.lang = getenv("LANG") && *getenv("LANG") ? bb_lang_from_locale(getenv("LANG"))
                                               : BB_LANG_ZH;
    opterr = 0;   /* getopt's own messages are English; ours are in o.lang */
    while ((c = getopt_long(argc, argv, ":fhV", opts, NULL)) != -1) {
        const char *bad = optind > 0 ? argv[optind - 1] : "?";
        switch (c) {
        case 'H': o.home = optarg; break;
        case 'o': o.once = 1; break;
        case 'f': break;
        case 'c': o.config = optarg; break;
        case 'C': check = 1; break;
        case 'Q': verify = 1; break;
        case 'F': from = optarg; break;
        case 'l':
            if (bb_lang_parse(optarg, &o.lang) != BB_OK) {
                fprintf(stderr, BB_L(o.lang, "beatbook-syncd: --lang: \"%s\" is not supported; "
                                             "use zh-TW or en\n",
                                     "beatbook-syncd：--lang：不支援「%s」；請用 zh-TW 或 en\n"),
                        optarg);
                return EX_USAGE;
            }
            break;
        case 'h': usage(o.lang, stdout); return 0;
        case 'V': printf("beatbook-syncd %s\n", BEATBOOK_VERSION); return 0;
        case ':':
            fprintf(stderr, BB_L(o.lang, "beatbook-syncd: option %s needs a value\n",
                                 "beatbook-syncd：選項 %s 需要一個值\n"), bad);
            usage(o.lang, stderr);
            return EX_USAGE;
        default:
            if (strncmp(bad, "--", 2) == 0)
                fprintf(stderr, BB_L(o.lang, "beatbook-syncd: unknown option %.*s\n",
                                     "beatbook-syncd：沒有 %.*s 這個選項\n"),
                        (int)strcspn(bad, "="), bad);
            else
                fprintf(stderr, BB_L(o.lang, "beatbook-syncd: unknown option -%c\n",
                                     "beatbook-syncd：沒有 -%c 這個選項\n"),
                        optopt > ' ' && optopt < 0x7f ? optopt : '?');
            usage(o.lang, stderr);
            return EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, BB_L(o.lang, "beatbook-syncd: unexpected argument \"%s\" (see: "
                                     "beatbook-syncd --help)\n",
                             "beatbook-syncd：多了一個參數「%s」（請見：beatbook-syncd --help）\n"),
                argv[optind]);
        return EX_USAGE;
    }
    /* --once is for a person at day end: only warnings unless BEATBOOK_LOG says more. */
    bb_log_init("beatbook-syncd", o.once || check ? BB_LOG_WARN : BB_LOG_INFO);
    if (!o.home) {
        if ((err = sync_default_home(home, sizeof home, o.lang, &eb)) != BB_OK) {
            fprintf(stderr, "beatbook-syncd: %s\n", eb.msg);
            return bb_err_exit_code(err);
        }
        o.home = home;
    }
    if (check) {
        struct bb_outbox_config conf;
        char path[4200];
        if ((err = sync_load_config(&o, &conf, path, sizeof path, &eb)) != BB_OK) {
            fprintf(stderr, "beatbook-syncd: %s\n", eb.msg);
            return bb_err_exit_code(err);
        }
        printf(BB_L(o.lang, "config %s: ok\n", "設定檔 %s：正確\n"), path);
        printf("interval = %lds\nretention_days = %ld\nbatch_max_records = %ld\n"
               "batch_max_bytes = %ld\n", conf.interval_s, conf.retention_days,
               conf.batch_max_records, conf.batch_max_bytes);
        return 0;
    }
    if (verify || from) {
        /* The proof of agreement with HQ (`beatbook verify-hq`, sync_verify.h). */
        int agree = 0;
        if ((err = sync_verify(&o, from, &agree, &eb)) != BB_OK) {
            fprintf(stderr, "beatbook-syncd: %s\n", eb.msg[0] ? eb.msg
                                                             : bb_strerror_lang(err, o.lang));
            return bb_err_exit_code(err);
        }
        if (fflush(stdout) != 0)
            return EX_IOERR;
        return agree ? 0 : EX_DATAERR;
    }
    if ((err = sync_run(&o, &outcome, &eb)) != BB_OK) {
        fprintf(stderr, "beatbook-syncd: %s\n", eb.msg[0] ? eb.msg : bb_strerror_lang(err, o.lang));
        return bb_err_exit_code(err);
    }
    if (fflush(stdout) != 0)
        return EX_IOERR;
    switch (outcome) {
    case SYNC_ALL_ACKED: return 0;
    case SYNC_RETRY_LATER: return EX_TEMPFAIL;
    case SYNC_REFUSED: return EX_DATAERR;
    }
    return EX_SOFTWARE;
}
