/*
 * sync_signal — what makes beatbook-syncd a well-behaved daemon: the lock
 * file (one syncd per store), signals, interruptible sleeps on the
 * monotonic clock, and the retry backoff.
 *
 * Signals: the handlers only set volatile sig_atomic_t flags.  SIGTERM,
 * SIGINT and SIGHUP stay blocked while the daemon works — a request in
 * flight is never interrupted — and are let in at two places only: when the
 * daemon asks (sync_stop_requested, between requests) and while it sleeps
 * (ppoll with the signals unblocked, so none is lost between the check and
 * the sleep).
 */
#ifndef SYNC_SIGNAL_H
#define SYNC_SIGNAL_H

#include "bb_err.h"

#define SYNC_LOCK_FILE "syncd.lock"

/*
 * Take $home/syncd.lock (flock, held until exit) and write our pid in it.
 * BB_ERR_BUSY with the other instance's pid when another syncd holds it.
 */
bb_err sync_lock(const char *home, enum bb_lang lang, int *fd, bb_errbuf *eb);

/* Install the handlers and block the signals (see above). */
bb_err sync_signals_init(bb_errbuf *eb);

/* Let pending signals in; 1 if SIGTERM or SIGINT has arrived. */
int sync_stop_requested(void);

/* 1 once after each SIGHUP (the flag is cleared). */
int sync_reload_requested(void);

/* Sleep ms milliseconds on the monotonic clock; returns early on a signal. */
void sync_sleep_ms(long ms);

/*
 * Delay before retry number `failures` (1, 2, ...): full jitter, uniform
 * in [0, min(5 min, 1 s * 2^(failures-1))], at least 200 ms, and never less
 * than HQ's Retry-After (seconds, -1 when none).
 */
long sync_backoff_ms(int failures, long retry_after_s);

/* Milliseconds on the monotonic clock. */
long long sync_now_ms(void);

#endif
