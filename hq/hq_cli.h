/*
 * hq_cli — the subcommands of `beatbook-hq`.  main.c parses the global
 * options and dispatches; each command parses its own options (getopt_long,
 * --help on stdout), does its work through the hq_ modules and returns a
 * bb_err with a message in eb, which main.c prints and maps to an exit
 * status (bb_err_exit_code: 64 usage, 65 bad data, 66 not found, 73 exists,
 * 74 I/O, 75 busy, 77 permission, 78 config).
 *
 *   init       hq_cmd_init.c      create the data folder, keys, TLS, store
 *   device     hq_cmd_device.c    enroll, list, revoke
 *   serve      hq_cmd_serve.c     the HTTPS server (and --check-config)
 *   import     hq_cmd_import.c    batch files from a USB stick
 *   batches    hq_cmd_batches.c   received seqs, gaps and quarantine per device
 *   plan       hq_cmd_plan.c      load, list, show the plans (goals, KPIs, inputs)
 *   kpi        hq_cmd_kpi.c       the plan's scorecard for a period and org unit
 *   reference  hq_cmd_reference.c the reference data published to the laptops
 *   user       hq_cmd_user.c      users of the review UI and API: add, list, disable, token
 *   devices    hq_cmd_devices.c   the precinct admin's day-end view of the devices
 *   export-receipts hq_cmd_receipts.c receipts and the reference bundle for a USB stick
 */
#ifndef HQ_CLI_H
#define HQ_CLI_H

#include <stdio.h>
#include "bb_err.h"

typedef bb_err (*hq_command_fn)(int argc, char **argv, bb_errbuf *eb);

bb_err hq_cmd_init(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_device(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_serve(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_import(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_batches(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_plan(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_kpi(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_reference(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_user(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_devices(int argc, char **argv, bb_errbuf *eb);
bb_err hq_cmd_export_receipts(int argc, char **argv, bb_errbuf *eb);

/*
 * For commands: a usage error with the message in eb, after which main.c
 * prints "see: beatbook-hq COMMAND --help".
 */
bb_err hq_usage(bb_errbuf *eb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Commands with verbs (`device enroll`, `plan load`, `user add`): argv[1]
 * names the verb, which then parses its own options with argv[1..] as its
 * argv.  No verb is a usage error listing the verbs; --help calls help.
 */
struct hq_verb {
    const char *name;
    bb_err (*fn)(int argc, char **argv, bb_errbuf *eb);
};
bb_err hq_dispatch(const char *command, const struct hq_verb *verbs, size_t n,
                   void (*help)(FILE *out), int argc, char **argv, bb_errbuf *eb);

/* Print a JSON value (pretty) and a newline to stdout. */
bb_err hq_print_json(const void *cjson_item);

#endif
