/*
 * sync_progress.c — the terminal progress bar (see sync_progress.h).
 */
#include "sync_progress.h"
#include "sync_signal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 24

static void human(uint64_t n, char *out, size_t size)
{
    if (n >= 1024 * 1024)
        snprintf(out, size, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024)
        snprintf(out, size, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, size, "%llu B", (unsigned long long)n);
}

static void draw(struct sync_progress *p, int force)
{
    long long now = sync_now_ms();
    uint64_t done = p->bytes_done + p->current;
    char bar[BAR_WIDTH + 1], a[32], b[32], r[32];
    double secs;
    int fill, i;

    if (!p->on || (!force && now - p->drawn_ms < 100))
        return;
    p->drawn_ms = now;
    if (done > p->bytes_total)
        done = p->bytes_total;
    fill = p->bytes_total ? (int)(done * BAR_WIDTH / p->bytes_total) : 0;
    for (i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    secs = (double)(now - p->started_ms) / 1000.0;
    human(done, a, sizeof a);
    human(p->bytes_total, b, sizeof b);
    human(secs > 0.05 ? (uint64_t)((double)done / secs) : 0, r, sizeof r);
    fprintf(stderr, "\r\033[K[%s] %ld/%ld batches  %s/%s  %s/s", bar, p->batches_done,
            p->batches_total, a, b, r);
    fflush(stderr);
    p->visible = 1;
}

void sync_progress_start(struct sync_progress *p, int on, long batches, uint64_t bytes)
{
    memset(p, 0, sizeof *p);
    p->on = on && isatty(STDERR_FILENO);
    p->batches_total = batches;
    p->bytes_total = bytes;
    p->started_ms = sync_now_ms();
    draw(p, 1);
}

void sync_progress_upload(void *arg, uint64_t sent, uint64_t total)
{
    struct sync_progress *p = arg;

    (void)total;
    if (!p)
        return;
    p->current = sent;
    draw(p, 0);
}

void sync_progress_batch_done(struct sync_progress *p, uint64_t bytes)
{
    p->current = 0;
    p->batches_done++;
    p->bytes_done += bytes;
    draw(p, 1);
}

void sync_progress_clear(struct sync_progress *p)
{
    if (p->on && p->visible) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->visible = 0;
    }
}
