/*
 * col_verify.c — `beatbook verify-hq [--from DIR]`: does HQ hold exactly the
 * records this laptop sent?  The proof (shared/bb_agree.h) needs HQ's signed
 * digests, over HTTPS or from a USB stick; the laptop's HTTPS client is
 * beatbook-syncd's, so this command runs `beatbook-syncd --verify-hq` (next to
 * this program, or $BEATBOOK_SYNCD) on the same store and language, and its
 * output and exit status are this command's: 0 agree, 65 differ.
 */
#include "col_cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bb_err col_cmd_verify_hq(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL, *env = getenv("BEATBOOK_SYNCD");
    char prog[PATH_MAX + 32], self[PATH_MAX];
    char *args[10];
    ssize_t n;
    int c, i = 0;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook verify-hq [--from DIR]\n"
                    "Ask HQ for its signed digests of this laptop's records per kind and day\n"
                    "(over HTTPS, or from DIR: a USB stick written by beatbook-hq\n"
                    "export-receipts) and compare them with the records HQ acknowledged here:\n"
                    "\"HQ agrees with this laptop: 1,284 records (...)\", or the days and kinds\n"
                    "that differ and the records behind them.  Exit 0 agree, 65 differ.\n",
                    "用法：beatbook verify-hq [--from DIR]\n"
                    "向總局取得本機紀錄依種類與日期的簽署摘要（經 HTTPS，或自 DIR：由\n"
                    "beatbook-hq export-receipts 寫入的隨身碟），與本機經總局確認的紀錄比對：\n"
                    "「HQ 與本機一致：1,284 筆紀錄（…）」，或列出不同的日期、種類及其紀錄。\n"
                    "一致時結束碼 0，不一致 65。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "verify-hq", c, argv);
        }
    }
    if (optind < argc)
        return col_usage(ctx, eb, "verify-hq", T(ctx, "unexpected argument", "多了參數"));
    if (env && *env) {
        snprintf(prog, sizeof prog, "%s", env);
    } else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
        char *slash;
        self[n] = '\0';
        if ((slash = strrchr(self, '/')) != NULL)
            *slash = '\0';
        snprintf(prog, sizeof prog, "%s/beatbook-syncd", self);
    } else {
        snprintf(prog, sizeof prog, "beatbook-syncd");
    }
    args[i++] = prog;
    args[i++] = (char *)"--lang";
    args[i++] = (char *)(ctx->lang == BB_LANG_EN ? "en" : "zh-TW");
    args[i++] = (char *)"--home";
    args[i++] = (char *)ctx->home;
    args[i++] = (char *)"--verify-hq";
    if (from) {
        args[i++] = (char *)"--from";
        args[i++] = (char *)from;
    }
    args[i] = NULL;
    fflush(stdout);
    execv(prog, args);
    return bb_fail(eb, BB_ERR_UNAVAILABLE,
                   T(ctx, "verify-hq: cannot run %s (install beatbook-syncd next to beatbook)",
                     "verify-hq：無法執行 %s（請將 beatbook-syncd 安裝在 beatbook 同一目錄）"),
                   prog);
}
