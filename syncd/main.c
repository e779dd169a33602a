/*
 * beatbook-syncd — carries the laptop's sealed batches to HQ over HTTPS
 * (DESIGN.md §6, docs/PROTOCOL.md).  This file only parses the command line
 * and maps the result to an exit status; the work is in sync_run.c
 * (the loops), sync_push.c (one pass), sync_http.c (libcurl) and
 * shared/bb_outbox.c (the store).
 */
#include "sync_run.h"
#include "bb_log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
    fputs("usage: beatbook-syncd [--home DIR] [--once] [-f] [--config FILE] [--check-config]\n"
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
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct sync_run_opts o;
    enum sync_outcome outcome;
    char home[4096];
    int c, check = 0;
    bb_errbuf eb;
    bb_err err;

    memset(&o, 0, sizeof o);
    memset(&eb, 0, sizeof eb);
    while ((c = getopt_long(argc, argv, "fhV", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o.home = optarg; break;
        case 'o': o.once = 1; break;
        case 'f': break;
        case 'c': o.config = optarg; break;
        case 'C': check = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("beatbook-syncd %s\n", BEATBOOK_VERSION); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "beatbook-syncd: unexpected argument \"%s\" (see: beatbook-syncd --help)\n",
                argv[optind]);
        return EX_USAGE;
    }
    /* --once is for a person at day end: only warnings unless BEATBOOK_LOG says more. */
    bb_log_init("beatbook-syncd", o.once || check ? BB_LOG_WARN : BB_LOG_INFO);
    if (!o.home) {
        if ((err = sync_default_home(home, sizeof home, &eb)) != BB_OK) {
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
        printf("config %s: ok\ninterval = %lds\nretention_days = %ld\nbatch_max_records = %ld\n"
               "batch_max_bytes = %ld\n", path, conf.interval_s, conf.retention_days,
               conf.batch_max_records, conf.batch_max_bytes);
        return 0;
    }
    if ((err = sync_run(&o, &outcome, &eb)) != BB_OK) {
        fprintf(stderr, "beatbook-syncd: %s\n", eb.msg[0] ? eb.msg : bb_strerror(err));
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
