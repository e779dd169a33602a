/*
 * col_cli — what every `beatbook` subcommand shares: the chosen language,
 * the catalog of kinds and reference lists, where the store is, and small
 * output helpers.  Subcommands live in col_entry.c (writing records) and
 * col_view.c (reading them); main.c only dispatches.
 *
 * Each command returns a bb_err; main.c prints eb.msg and maps the code to
 * an exit status (bb_err_exit_code).
 */
#ifndef COL_CLI_H
#define COL_CLI_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"

struct col_ctx {
    enum bb_lang lang;
    bb_catalog *cat;
    char home[4096];
    int interactive;     /* stdin and stdout are a terminal: prompts allowed */
    int64_t now;         /* Unix time the command started */
    /* Files this command copied into the attachment store (col_attach.h):
     * a command that fails removes those no saved revision names. */
    char (*fresh)[65];   /* sha256 hex, BB_SHA256_HEX_SIZE */
    size_t nfresh;
};

/* Pick the string for the context's language. */
#define T(ctx, en, zh) ((ctx)->lang == BB_LANG_EN ? (en) : (zh))

/* ---- shared by the commands (col_cli.c) ---- */

/*
 * A usage error (exit 64): "CMD: WHAT (see: beatbook CMD --help)", or in
 * zh-TW "CMD：WHAT（請見：beatbook CMD --help）"; what is already in the
 * context's language (T(ctx, ...)).
 */
bb_err col_usage(struct col_ctx *ctx, bb_errbuf *eb, const char *cmd, const char *what);

/*
 * After getopt_long returned '?' (unknown option) or ':' (an option without
 * its value; the option string must start with ':'): the usage error that
 * names the option.  main.c turns getopt's own English messages off (opterr).
 * cmd NULL: the global options ("unknown option --x (see: beatbook --help)").
 */
bb_err col_bad_option(struct col_ctx *ctx, bb_errbuf *eb, const char *cmd, int c,
                      char **argv);

/* A record status for people: 草稿 / 已完成 / 已作廢; the code in English. */
const char *col_status_label(const struct col_ctx *ctx, const char *status);

/* An org unit level for people: 分局, 派出所, ...; the code in English. */
const char *col_level_label(const struct col_ctx *ctx, const char *level);

typedef bb_err (*col_command_fn)(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);

/* col_entry.c */
bb_err col_cmd_init(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_add(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_patrol(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_edit(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_attach(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_void(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_attach(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);

/* col_view.c */
bb_err col_cmd_list(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_show(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_kinds(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_ref(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_status(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_report(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);   /* col_report.c */
bb_err col_cmd_ui(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);       /* col_ui.c */

/* col_sync.c: the outbox (shared/bb_outbox.h) from the command line */
bb_err col_cmd_seal(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_export(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_purge(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_import(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);
bb_err col_cmd_verify_hq(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb);

/*
 * `init --enroll FILE --officer ID`: check HQ's signature on the enrollment
 * file, make device.key and the store with the device id and org unit the
 * file gives, all or nothing (col_sync.c).
 */
bb_err col_init_enrolled(struct col_ctx *ctx, const char *officer, const char *file,
                         bb_errbuf *eb);

/*
 * The outbox settings (syncd.conf, or --config FILE) with --days N, when
 * given, as the retention for purging (col_sync.c; `purge` and `import`).
 */
struct bb_outbox_config;
bb_err col_retention(struct col_ctx *ctx, const char *cmd, const char *config, const char *days,
                     struct bb_outbox_config *conf, bb_errbuf *eb);

/* Open the store for writing and its outbox, in the officer's language (col_sync.c);
 * on failure both are closed. */
struct col_store;
struct bb_outbox;
bb_err col_open_outbox(struct col_ctx *ctx, struct col_store **st, struct bb_outbox **ob,
                       bb_errbuf *eb);

/* Print the sync part of `beatbook status` from bb_outbox_summary() (col_sync.c). */
void col_print_outbox(struct col_ctx *ctx, const cJSON *sum);

/* Print a JSON value (pretty) to stdout followed by a newline. */
bb_err col_print_json(const cJSON *v);

#endif
