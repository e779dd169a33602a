/*
 * sync_run — beatbook-syncd's two ways to run, on one store:
 *
 *   --once   one pass (sync_push.c) with up to three tries per batch, a
 *            progress bar on a terminal, and a summary line on stdout;
 *   daemon   the default: pass, sleep `interval` (or the retry backoff
 *            after a failure) on the monotonic clock, again, until SIGTERM
 *            or SIGINT (the request in flight finishes first); SIGHUP
 *            reloads the config file.
 *
 * Both hold the store's lock file for their whole life.
 */
#ifndef SYNC_RUN_H
#define SYNC_RUN_H

#include "bb_err.h"
#include "bb_outbox.h"

struct sync_run_opts {
    const char *home;         /* the store folder */
    const char *config;       /* --config FILE, or NULL: $home/syncd.conf if present */
    int once;
    enum bb_lang lang;        /* of what people read: output, errors, what status shows */
};

enum sync_outcome {
    SYNC_ALL_ACKED = 0,       /* nothing left to send (exit 0) */
    SYNC_RETRY_LATER,         /* something must be retried (exit 75) */
    SYNC_REFUSED              /* HQ refused something (exit 65) */
};

/* Where the store is: $BEATBOOK_HOME, else ~/.local/share/beatbook. */
bb_err sync_default_home(char *out, size_t n, enum bb_lang lang, bb_errbuf *eb);

/* The config file to read (o->config or the default) into *c; prints nothing. */
bb_err sync_load_config(const struct sync_run_opts *o, struct bb_outbox_config *c,
                        char *path, size_t path_n, bb_errbuf *eb);

/*
 * Run (see above).  A bb_err means syncd could not do its job at all (no
 * store, busy lock, bad config, not enrolled); otherwise *outcome says how
 * the --once pass ended (the daemon ends with SYNC_ALL_ACKED when stopped).
 */
bb_err sync_run(const struct sync_run_opts *o, enum sync_outcome *outcome, bb_errbuf *eb);

#endif
