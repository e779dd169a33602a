/*
 * fuzz_conf — libFuzzer target for the two config files: syncd.conf, read
 * by beatbook and beatbook-syncd (bb_outbox_config_load, shared/bb_outbox.h)
 * and hq.conf, read by every beatbook-hq command (hq_conf_parse and
 * hq_conf_load, hq/hq_conf.h; this target links hq/hq_conf.c and
 * hq/hq_files.c).  Both are edited by hand by whoever runs the machine, so
 * a typo, a binary file or a truncated copy must give a message naming the
 * line, never a crash.
 *
 * Byte 0 of the input picks the file (even: syncd.conf, odd: hq.conf); the
 * rest is its text, written to a temporary file (one per process) for the
 * readers that take a path.  Checked:
 *   syncd.conf  on error *c is unchanged (as documented); on success
 *               every value is within its documented range;
 *   hq.conf     hq_conf_parse and hq_conf_load of the same bytes agree;
 *               on success url and listen are set, the numbers are in
 *               range, and hq_conf_write's output loads back to the same
 *               settings (rate_per_sec to %g's precision).
 * Every error has a message.  Nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_conf/ with replay_main.c.
 * Seeds: syncd/syncd.conf.example, an hq.conf as `beatbook-hq init`
 * writes it, and near misses (a key twice, units, a line without '=').
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb_batch.h"
#include "bb_outbox.h"
#include "../../hq/hq_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT ((size_t)HQ_CONF_MAX_BYTES)   /* hq_conf_load refuses more */

static char dir[64], in_path[128], out_path[128];

static void cleanup(void)
{
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
}

static int write_input(const char *text, size_t len)
{
    FILE *f = fopen(in_path, "wb");
    int ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static void check_syncd(void)
{
    struct bb_outbox_config c, before;
    bb_errbuf eb;

    bb_outbox_config_defaults(&c);
    before = c;
    eb.msg[0] = '\0';
    if (bb_outbox_config_load(in_path, 0, &c, &eb) != BB_OK) {
        if (memcmp(&c, &before, sizeof c) != 0 || eb.msg[0] == '\0')
            abort();                    /* unchanged on error, with a reason */
        return;
    }
    if (c.interval_s < 1 || c.interval_s > 86400 || c.retention_days < 0 ||
        c.retention_days > 3650 || c.batch_max_records < 1 ||
        c.batch_max_records > 100000 || c.batch_max_bytes < 64L * 1024 ||
        c.batch_max_bytes > 32L * 1024 * 1024)
        abort();
}

static int same(const struct hq_conf *a, const struct hq_conf *b)
{
    return strcmp(a->url, b->url) == 0 && strcmp(a->listen, b->listen) == 0 &&
           strcmp(a->tls_cert, b->tls_cert) == 0 && strcmp(a->tls_key, b->tls_key) == 0 &&
           strcmp(a->lang, b->lang) == 0 && a->threads == b->threads &&
           a->max_ingests == b->max_ingests && a->rate_burst == b->rate_burst &&
           fabs(a->rate_per_sec - b->rate_per_sec) <= 1e-5 * a->rate_per_sec &&
           a->timeout_s == b->timeout_s && a->max_batch_bytes == b->max_batch_bytes;
}

static void check_hq(const char *text, size_t len)
{
    struct hq_conf c, d;
    bb_errbuf eb;
    bb_err rc, rc2;

    eb.msg[0] = '\0';
    rc = hq_conf_parse(text, len, "hq.conf", &c, &eb);
    if (rc != BB_OK && eb.msg[0] == '\0')
        abort();
    rc2 = hq_conf_load(in_path, &d, &eb);
    if ((rc == BB_OK) != (rc2 == BB_OK) || (rc == BB_OK && !same(&c, &d)))
        abort();                        /* the file says what its bytes say */
    if (rc != BB_OK)
        return;
    if (!c.url[0] || !c.listen[0] || c.threads < 1 || c.threads > 64 ||
        c.max_ingests < 1 || c.max_ingests > 64 || c.rate_burst < 1 ||
        c.rate_burst > 10000 || !(c.rate_per_sec >= 0.01 && c.rate_per_sec <= 10000) ||
        c.timeout_s < 1 || c.timeout_s > 3600 || c.max_batch_bytes < 1024 ||
        c.max_batch_bytes > BB_BATCH_MAX)
        abort();
    unlink(out_path);
    if (hq_conf_write(out_path, &c, &eb) != BB_OK)
        return;                         /* e.g. settings too long for one file */
    if (hq_conf_load(out_path, &d, &eb) != BB_OK || !same(&c, &d))
        abort();                        /* what HQ writes it reads back */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;

    if (!dir[0]) {
        strcpy(dir, "/tmp/fuzz_conf_XXXXXX");
        if (!mkdtemp(dir))
            abort();
        snprintf(in_path, sizeof in_path, "%s/in.conf", dir);
        snprintf(out_path, sizeof out_path, "%s/out.conf", dir);
        atexit(cleanup);
    }
    if (size < 1 || size - 1 > MAX_INPUT)
        return 0;
    copy = malloc(size);                /* size - 1 bytes of text; +1 spare */
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (write_input(copy, size - 1) != 0)
        abort();
    if (data[0] & 1)
        check_hq(copy, size - 1);
    else
        check_syncd();
    free(copy);
    return 0;
}
