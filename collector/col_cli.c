/*
 * col_cli.c — what the commands share (see col_cli.h): usage errors that
 * name what was wrong in the officer's language, and the words for record
 * statuses and org unit levels.  Codes stay codes in English and in --json.
 */
#include "col_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

bb_err col_usage(struct col_ctx *ctx, bb_errbuf *eb, const char *cmd, const char *what)
{
    if (ctx->lang == BB_LANG_EN)
        return bb_fail(eb, BB_ERR_USAGE, "%s: %s (see: beatbook %s --help)", cmd, what, cmd);
    return bb_fail(eb, BB_ERR_USAGE, "%s：%s（請見：beatbook %s --help）", cmd, what, cmd);
}

bb_err col_bad_option(struct col_ctx *ctx, bb_errbuf *eb, const char *cmd, int c,
                      char **argv)
{
    const char *see = cmd ? cmd : "";
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    char opt[64];

    /* A long option is named as typed (without any =VALUE); a short one by optopt. */
    if (arg && strncmp(arg, "--", 2) == 0)
        snprintf(opt, sizeof opt, "%.*s", (int)strcspn(arg, "="), arg);
    else if (optopt > ' ' && optopt < 0x7f)
        snprintf(opt, sizeof opt, "-%c", optopt);
    else
        snprintf(opt, sizeof opt, "%s", arg ? arg : "?");
    if (c == ':')
        return ctx->lang == BB_LANG_EN
                   ? bb_fail(eb, BB_ERR_USAGE, "%s%soption %s needs a value (see: beatbook %s%s"
                             "--help)", see, cmd ? ": " : "", opt, see, cmd ? " " : "")
                   : bb_fail(eb, BB_ERR_USAGE, "%s%s選項 %s 需要一個值（請見：beatbook %s%s--help）",
                             see, cmd ? "：" : "", opt, see, cmd ? " " : "");
    return ctx->lang == BB_LANG_EN
               ? bb_fail(eb, BB_ERR_USAGE, "%s%sunknown option %s (see: beatbook %s%s--help)",
                         see, cmd ? ": " : "", opt, see, cmd ? " " : "")
               : bb_fail(eb, BB_ERR_USAGE, "%s%s沒有 %s 這個選項（請見：beatbook %s%s--help）",
                         see, cmd ? "：" : "", opt, see, cmd ? " " : "");
}

const char *col_status_label(const struct col_ctx *ctx, const char *status)
{
    if (!status || ctx->lang == BB_LANG_EN)
        return status ? status : "?";
    if (strcmp(status, "draft") == 0)
        return "草稿";
    if (strcmp(status, "final") == 0)
        return "已完成";
    if (strcmp(status, "void") == 0)
        return "已作廢";
    return status;
}

const char *col_level_label(const struct col_ctx *ctx, const char *level)
{
    static const struct { const char *code, *zh; } t[] = {
        {"city", "警察局"}, {"precinct", "分局"}, {"station", "派出所"}, {"unit", "大隊"},
    };
    size_t i;

    if (!level || ctx->lang == BB_LANG_EN)
        return level ? level : "";
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(level, t[i].code) == 0)
            return t[i].zh;
    return level;
}
