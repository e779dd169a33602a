/*
 * sync_progress — the progress bar of `beatbook-syncd --once` on a terminal:
 *   [#########.............]  3/10 batches  1.2/4.5 MiB  850 KiB/s
 * drawn on stderr, at most ten times a second.  When stderr is not a
 * terminal every function is a no-op, so pipes and logs stay quiet.
 */
#ifndef SYNC_PROGRESS_H
#define SYNC_PROGRESS_H

#include <stdint.h>

struct sync_progress {
    int on;                   /* stderr is a terminal and the caller wants a bar */
    long batches_total, batches_done;
    uint64_t bytes_total, bytes_done;   /* bytes_done: of finished batches */
    uint64_t current;                   /* bytes of the batch in flight */
    long long started_ms, drawn_ms;
    int visible;
};

/* Start a bar for `batches` batches of `bytes` bytes (on: wanted by the caller). */
void sync_progress_start(struct sync_progress *p, int on, long batches, uint64_t bytes);

/* libcurl upload progress for the batch in flight (a sync_http_progress). */
void sync_progress_upload(void *p, uint64_t sent, uint64_t total);

/* A batch is finished (acknowledged, refused or given up): count its bytes. */
void sync_progress_batch_done(struct sync_progress *p, uint64_t bytes);

/* Erase the bar (before a log line or the summary). */
void sync_progress_clear(struct sync_progress *p);

#endif
