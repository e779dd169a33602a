/*
 * beatbook — the field collector CLI.  This file only parses the global
 * options, loads the catalog (the one compiled in, then HQ's reference
 * bundle stored by beatbook-syncd, if any), dispatches to a subcommand and
 * maps its bb_err to an exit status (sysexits.h).  See col_cli.h for the
 * commands.
 */
#include "col_cli.h"
#include "bb_db.h"
#include "bb_log.h"
#include "bb_refbundle.h"
#include "bb_time.h"
#include "col_store.h"

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
    {"edit", col_cmd_edit},     {"void", col_cmd_void},     {"list", col_cmd_list},
    {"show", col_cmd_show},     {"kinds", col_cmd_kinds},   {"ref", col_cmd_ref},
    {"status", col_cmd_status}, {"report", col_cmd_report},   {"seal", col_cmd_seal},
    {"export", col_cmd_export}, {"purge", col_cmd_purge},
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

static void usage(FILE *out)
{
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
          "  void ID --reason TEXT               void a record (new revision, history kept)\n"
          "  kinds [show KIND] [--json]          what can be recorded, field by field\n"
          "  ref units|intersections|segments|bikepaths [--json]\n"
          "  status [--json]                     drafts, records, counts per kind, outbox\n"
          "  report --period P [--json]          counts per kind and this unit's KPI inputs\n"
          "  seal                                seal finalized records into batches for HQ\n"
          "  export --to DIR                     copy unacknowledged batches to a USB stick\n"
          "  purge [--days N]                    remove data HQ acknowledged N+ days ago\n"
          "                                      (sending is beatbook-syncd's job)\n"
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
    /* "+": stop at the command name; the command parses its own options. */
    while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (bb_lang_parse(optarg, &ctx.lang) != BB_OK) {
                fprintf(stderr, "beatbook: --lang: \"%s\" is not supported; use zh-TW or en\n",
                        optarg);
                return bb_err_exit_code(BB_ERR_USAGE);
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("beatbook %s\n", BEATBOOK_VERSION);
            return 0;
        default:
            usage(stderr);
            return bb_err_exit_code(BB_ERR_USAGE);
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return bb_err_exit_code(BB_ERR_USAGE);
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            break;
    if (i == sizeof commands / sizeof commands[0]) {
        fprintf(stderr, "beatbook: unknown command \"%s\" (see: beatbook --help)\n", argv[optind]);
        return bb_err_exit_code(BB_ERR_USAGE);
    }
    memset(&eb, 0, sizeof eb);
    if ((err = bb_catalog_load_embedded(&ctx.cat, &eb)) != BB_OK) {
        fprintf(stderr, "beatbook: built-in record kinds: %s\n", eb.msg);
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
    }
    bb_catalog_free(ctx.cat);
    if (err != BB_OK) {
        fprintf(stderr, "beatbook: %s\n", eb.msg[0] ? eb.msg : bb_strerror(err));
        return bb_err_exit_code(err);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("beatbook: write output");
        return bb_err_exit_code(BB_ERR_IO);
    }
    return 0;
}
