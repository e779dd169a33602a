/*
 * beatbook-hq — the HQ server and its admin commands.  This file only parses
 * the global options, dispatches to a subcommand (hq_cli.h) and maps its
 * bb_err to an exit status (sysexits.h).
 */
#include "hq_cli.h"
#include "bb_log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

static const struct {
    const char *name;
    hq_command_fn fn;
} commands[] = {
    {"init", hq_cmd_init},     {"device", hq_cmd_device},   {"serve", hq_cmd_serve},
    {"import", hq_cmd_import}, {"batches", hq_cmd_batches},   {"plan", hq_cmd_plan},
    {"kpi", hq_cmd_kpi},       {"reference", hq_cmd_reference},
    {"user", hq_cmd_user},     {"devices", hq_cmd_devices},
    {"export-receipts", hq_cmd_export_receipts},
};

static void usage(FILE *out)
{
    fputs("usage: beatbook-hq COMMAND [ARGS...]\n"
          "\n"
          "HQ of Beatbook: receives sealed batches from field laptops over HTTPS (or from\n"
          "a USB stick), verifies them and merges every record exactly once.\n"
          "\n"
          "commands:\n"
          "  init --data DIR [--url URL] [--listen ADDR:PORT] [--hostname NAME]...\n"
          "       [--tls-cert FILE --tls-key FILE] [--json]\n"
          "                                 create the data folder: store, keys, TLS, hq.conf\n"
          "  device enroll --org-unit CODE --label TEXT --out FILE [--expires-days N]\n"
          "                                 enroll a laptop: writes its signed enrollment file\n"
          "  device list [--json]           devices, their state and last contact\n"
          "  device revoke DEVICE --reason TEXT\n"
          "                                 refuse the device's later batches (quarantined)\n"
          "  serve [--listen ADDR:PORT] [--check-config]\n"
          "                                 the HTTPS server (SIGTERM/SIGINT: finish, exit)\n"
          "  import PATH...                 merge batch files (*.bbatch) or folders of them,\n"
          "                                 with laptops' registrations and status reports\n"
          "  batches --device ID [--json]   received batches, gaps and quarantine\n"
          "  plan load FILE [--replace] | plan load --builtin ID | plan list [--json] |\n"
          "  plan show ID                   the plans whose KPIs HQ computes (plans as data)\n"
          "  kpi --period P [--org CODE] [--plan ID] [--format table|json|csv]\n"
          "      [--lang zh-TW|en] [--explain] [--verify]\n"
          "                                 the plan's scorecard for a period and org unit\n"
          "  reference [show] | reference set LIST|kind FILE | reference unset LIST|kind NAME\n"
          "                                 the reference data published to the laptops\n"
          "  user add --name NAME --role hq|precinct [--org CODE] [--password-file FILE] |\n"
          "  user list | user disable NAME | user enable NAME | user password NAME |\n"
          "  user token NAME [--days N]     people who sign in to the review UI and API\n"
          "  devices [--org CODE] [--json]  day-end view: last contact, last seq, missing\n"
          "                                 batches, rejected records per device, and what\n"
          "                                 each laptop reported it still holds\n"
          "  export-receipts (--device ID | --org CODE) --to DIR\n"
          "                                 signed receipts and the reference bundle for a\n"
          "                                 USB stick (on the laptop: beatbook import DIR)\n"
          "\n"
          "Every command takes --data DIR (default: $BEATBOOK_HQ_DATA) and --help.\n"
          "\n"
          "options:\n"
          "  -h, --help        this help;  COMMAND --help for one command\n"
          "  -V, --version     print the version\n"
          "\n"
          "environment: BEATBOOK_HQ_DATA (data folder), BEATBOOK_LOG (debug|info|warn|error)\n"
          "exit status: 0 ok, 64 usage, 65 bad data or a refused batch, 66 not found,\n"
          "             69 cannot serve, 73 already exists, 74 I/O, 75 busy, 77 permission,\n"
          "             78 configuration\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bb_errbuf eb;
    bb_err err;
    size_t i;
    int c;

    bb_log_init("beatbook-hq", BB_LOG_INFO);
    /* HQ's files hold police data and secrets: nothing it creates is for others. */
    umask(077);
    /* "+": stop at the command name; the command parses its own options. */
    while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("beatbook-hq %s\n", BEATBOOK_VERSION);
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
        fprintf(stderr, "beatbook-hq: unknown command \"%s\" (see: beatbook-hq --help)\n",
                argv[optind]);
        return bb_err_exit_code(BB_ERR_USAGE);
    }
    memset(&eb, 0, sizeof eb);
    argv += optind;
    argc -= optind;
    optind = 0;   /* glibc: 0 re-initialises getopt for the subcommand */
    err = commands[i].fn(argc, argv, &eb);
    if (err != BB_OK) {
        if (err == BB_ERR_USAGE)
            fprintf(stderr, "beatbook-hq %s: %s\n(see: beatbook-hq %s --help)\n",
                    commands[i].name, eb.msg[0] ? eb.msg : bb_strerror(err), commands[i].name);
        else
            fprintf(stderr, "beatbook-hq %s: %s\n", commands[i].name,
                    eb.msg[0] ? eb.msg : bb_strerror(err));
        return bb_err_exit_code(err);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("beatbook-hq: write output");
        return bb_err_exit_code(BB_ERR_IO);
    }
    return 0;
}
