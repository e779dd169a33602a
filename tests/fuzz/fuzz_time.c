/*
 * fuzz_time — libFuzzer target for the time and period parsers
 * (shared/bb_time.h): bb_time_parse (RFC 3339 in every record, batch and
 * signed document HQ receives), bb_time_parse_loose (what an officer types
 * in a date field, on the terminal or the forms page) and bb_period_parse
 * (`--period` of `beatbook report`, `beatbook-hq kpi` and the review API's
 * ?period=).  All of them read text from people or from the network.
 *
 * The input is text; the first byte picks the language of messages, the
 * rest (NUL-terminated in a buffer of exactly its size + 1) is parsed by
 * all three.  Checked: a parsed instant formats (when its offset and year
 * are in range) and that text parses back to the same instant and offset;
 * a loose parse of strict text gives the same instant; a period is
 * non-empty, within 1912-2200, its label parses back to the same days and
 * kind, its ROC label parses to the same days, shifting by -1 and +1 year
 * stays valid, and its month slices add up to its days.  Every failure
 * leaves a one-line message (no newline).  Nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_time/ with replay_main.c.
 * Seeds: the forms of bb_time.h's comments and a few near misses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1521094800      /* 2018-03-15T14:20:00+08:00 */
/* Days of the years 1912-01-01 .. 2201-01-01. */
#define DAY_MIN (-21185)
#define DAY_MAX 84371

static void one_line(const bb_errbuf *eb)
{
    if (strchr(eb->msg, '\n') != NULL || memchr(eb->msg, 0, sizeof eb->msg) == NULL)
        abort();
}

static void check_instant(const char *s, enum bb_lang lang)
{
    int64_t t, t2, t3;
    int off, off2, off3;
    char out[BB_TIME_MAX];
    bb_errbuf eb;

    eb.msg[0] = '\0';
    if (bb_time_parse_lang(s, lang, &t, &off, &eb) != BB_OK) {
        one_line(&eb);
        return;
    }
    if (off < -14 * 60 || off > 14 * 60)
        abort();
    if (bb_time_format(t, off, out) == BB_OK) {
        if (bb_time_parse(out, &t2, &off2, &eb) != BB_OK || t2 != t || off2 != off)
            abort();                    /* what we write we read back */
    }
    if (bb_time_parse_loose(s, NOW, &t3, &off3, &eb) == BB_OK && (t3 != t || off3 != off))
        abort();                        /* strict text means the same when typed */
}

static void check_loose(const char *s, enum bb_lang lang)
{
    int64_t t;
    int off;
    char out[BB_TIME_MAX];
    bb_errbuf eb;

    eb.msg[0] = '\0';
    if (bb_time_parse_loose_lang(s, NOW, lang, &t, &off, &eb) != BB_OK) {
        one_line(&eb);
        return;
    }
    if (off < -14 * 60 || off > 14 * 60)
        abort();
    (void)bb_time_format(t, off, out);
    (void)bb_taipei_day(t);
}

static void check_period(const char *s, enum bb_lang lang)
{
    bb_period p, q, r;
    char roc[BB_PERIOD_LABEL_MAX];
    bb_month_slice m;
    int64_t days = 0;
    int cursor = 0, months = 0;
    bb_errbuf eb;

    eb.msg[0] = '\0';
    if (bb_period_parse_lang(s, lang, &p, &eb) != BB_OK) {
        one_line(&eb);
        return;
    }
    if (p.from_day >= p.to_day || p.from_day < DAY_MIN || p.to_day > DAY_MAX ||
        p.kind < BB_PERIOD_YEAR || p.kind > BB_PERIOD_RANGE ||
        memchr(p.label, 0, sizeof p.label) == NULL)
        abort();
    if (bb_period_parse(p.label, &q, &eb) != BB_OK || q.from_day != p.from_day ||
        q.to_day != p.to_day || q.kind != p.kind || strcmp(q.label, p.label) != 0)
        abort();                        /* the canonical label names the same days */
    if (bb_period_from_days(p.from_day, p.to_day, &r, &eb) != BB_OK ||
        r.kind != p.kind || strcmp(r.label, p.label) != 0)
        abort();
    if (bb_period_roc_label(&p, roc) == BB_OK &&
        (bb_period_parse(roc, &q, &eb) != BB_OK || q.from_day != p.from_day ||
         q.to_day != p.to_day))
        abort();                        /* so does the ROC one */
    if (bb_period_shift_years(&p, -1, &q, &eb) == BB_OK && q.from_day >= q.to_day)
        abort();
    if (bb_period_shift_years(&p, 1, &q, &eb) == BB_OK && q.from_day >= q.to_day)
        abort();
    while (bb_period_months(&p, &cursor, &m)) {
        if (m.from_day >= m.to_day || m.month < 1 || m.month > 12)
            abort();
        days += m.to_day - m.from_day;
        if (++months > 12 * 300)
            abort();
    }
    if (months != bb_period_month_count(&p) || days != p.to_day - p.from_day)
        abort();                        /* per-month counts add up to the period's */
    if (bb_period_contains(&p, bb_period_from_unix(&p) - 1) ||
        !bb_period_contains(&p, bb_period_from_unix(&p)) ||
        bb_period_contains(&p, bb_period_to_unix(&p)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum bb_lang lang;
    char *s;

    if (size < 1 || size > 256)
        return 0;                       /* longer text is no new form */
    lang = (data[0] & 1) ? BB_LANG_EN : BB_LANG_ZH;
    s = malloc(size);                   /* size - 1 bytes of text + NUL */
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    check_instant(s, lang);
    check_loose(s, lang);
    check_period(s, lang);
    free(s);
    return 0;
}
