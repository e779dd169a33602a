/*
 * test_time.c — unit tests of shared/bb_time: RFC 3339 parsing and
 * formatting, the friendly inputs officers type, the Taipei calendar and KPI
 * periods.  Expected values were computed independently (Python's datetime)
 * rather than with the code under test; messages are checked for the words
 * an officer needs to fix the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bb_time.h"

/* 2018-03-15T14:20:00+08:00 == 2018-03-15T06:20:00Z */
#define T_2018_03_15_1420_TPE INT64_C(1521094800)
/* 2018-03-15T17:00:00Z, i.e. 2018-03-16 01:00 in Taipei: "today" differs
 * between UTC and Taipei, which is what "HH:MM" must get right. */
#define NOW INT64_C(1521133200)

static int64_t must_parse(const char *s)
{
    int64_t t = 0;
    bb_errbuf eb = { "" };

    if (bb_time_parse(s, &t, NULL, &eb) != BB_OK)
        fail_msg("bb_time_parse(%s): %s", s, eb.msg);
    return t;
}

static bb_period must_period(const char *s)
{
    bb_period p;
    bb_errbuf eb = { "" };

    memset(&p, 0, sizeof p);
    if (bb_period_parse(s, &p, &eb) != BB_OK)
        fail_msg("bb_period_parse(%s): %s", s, eb.msg);
    return p;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

/* ---- strict RFC 3339 ---------------------------------------------------- */

static void test_parse_format_roundtrip(void **state)
{
    static const struct {
        const char *s;
        int64_t unix_s;
        int offset;
    } cases[] = {
        { "2018-03-15T14:20:00+08:00", T_2018_03_15_1420_TPE, 480 },
        { "2018-03-15T06:20:00Z", T_2018_03_15_1420_TPE, 0 },
        { "2018-03-15T00:50:00-05:30", T_2018_03_15_1420_TPE, -330 },
        { "2018-03-15T23:30:00+08:00", INT64_C(1521127800), 480 },
        { "2000-02-29T12:00:00+14:00", INT64_C(951775200), 840 },
        { "2000-02-28T08:00:00-14:00", INT64_C(951775200), -840 },
        { "1970-01-01T00:00:00Z", 0, 0 },
        { "1969-12-31T23:59:59Z", -1, 0 },
        { "9999-12-31T23:59:59Z", INT64_C(253402300799), 0 },
        { "0000-03-01T00:00:00Z", INT64_C(-62162035200), 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 42;
        int off = 42;
        char out[BB_TIME_MAX];
        bb_errbuf eb = { "" };

        if (bb_time_parse(cases[i].s, &t, &off, &eb) != BB_OK)
            fail_msg("%s: %s", cases[i].s, eb.msg);
        assert_int_equal(t, cases[i].unix_s);
        assert_int_equal(off, cases[i].offset);
        assert_int_equal(bb_time_format(t, off, out), BB_OK);
        assert_string_equal(out, cases[i].s);
    }
}

static void test_parse_lenient_bits(void **state)
{
    int64_t t;
    int off;

    (void)state;
    /* RFC 3339 allows lowercase t and z; the fraction is truncated. */
    assert_int_equal(bb_time_parse("2018-03-15t06:20:00z", &t, &off, NULL), BB_OK);
    assert_int_equal(t, T_2018_03_15_1420_TPE);
    assert_int_equal(off, 0);
    assert_int_equal(bb_time_parse("2018-03-15T14:20:00.999999999+08:00", &t,
                                   NULL, NULL), BB_OK);
    assert_int_equal(t, T_2018_03_15_1420_TPE);
    assert_int_equal(bb_time_parse("1969-12-31T23:59:59.5Z", &t, NULL, NULL), BB_OK);
    assert_int_equal(t, -1);
    /* "-00:00" (offset unknown, RFC 3339 4.3) is the same instant as Z. */
    assert_int_equal(bb_time_parse("2018-03-15T06:20:00-00:00", &t, &off, NULL), BB_OK);
    assert_int_equal(t, T_2018_03_15_1420_TPE);
    assert_int_equal(off, 0);
}

static void test_format_other_offsets_and_limits(void **state)
{
    char out[BB_TIME_MAX];

    (void)state;
    assert_int_equal(bb_time_format(T_2018_03_15_1420_TPE, 0, out), BB_OK);
    assert_string_equal(out, "2018-03-15T06:20:00Z");
    assert_int_equal(bb_time_format(T_2018_03_15_1420_TPE, -330, out), BB_OK);
    assert_string_equal(out, "2018-03-15T00:50:00-05:30");
    assert_int_equal(bb_time_format(-1, 480, out), BB_OK);
    assert_string_equal(out, "1970-01-01T07:59:59+08:00");
    assert_int_equal(bb_time_format(0, 841, out), BB_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(bb_time_format(0, -841, out), BB_ERR_INVALID);
    assert_int_equal(bb_time_format(INT64_MAX, 0, out), BB_ERR_INVALID);
    assert_int_equal(bb_time_format(INT64_MIN, 0, out), BB_ERR_INVALID);
    /* 9999-12-31T23:59:59Z is year 10000 at +08:00. */
    assert_int_equal(bb_time_format(INT64_C(253402300799), 480, out), BB_ERR_INVALID);
    assert_int_equal(bb_time_format(0, 0, NULL), BB_ERR_INTERNAL);
    assert_int_equal(bb_time_now_taipei(out), BB_OK);
    assert_int_equal(strlen(out), 25);
    assert_string_equal(out + 19, "+08:00");
}

static void test_parse_rejects(void **state)
{
    static const struct {
        const char *s;
        const char *msg;    /* must appear in the message */
    } cases[] = {
        { "2018-02-29T10:00:00+08:00", "day 29 does not exist in 2018-02" },
        { "1900-02-29T00:00:00Z", "day 29 does not exist in 1900-02" },
        { "2100-02-29T00:00:00Z", "day 29 does not exist in 2100-02" },
        { "2018-04-31T00:00:00Z", "day 31 does not exist in 2018-04" },
        { "2018-03-00T00:00:00Z", "day 0 does not exist in 2018-03" },
        { "2018-13-01T00:00:00Z", "month 13 is not 1-12" },
        { "2018-00-01T00:00:00Z", "month 0 is not 1-12" },
        { "2018-03-15T24:00:00Z", "hour 24 is not 0-23" },
        { "2018-03-15T14:60:00Z", "minute 60 is not 0-59" },
        { "2018-03-15T14:20:60Z", "second 60 (a leap second)" },
        { "2018-03-15T14:20:61Z", "second 61 is not 0-59" },
        { "2018-03-15T14:20:00", "no UTC offset; add one, e.g. \"+08:00\"" },
        { "2018-03-15T14:20:00.5", "no UTC offset" },
        { "2018-03-15T14:20:00+08:00x", "unexpected text after the offset at character 26" },
        { "2018-03-15T14:20:00Z ", "unexpected text after the offset" },
        { " 2018-03-15T14:20:00Z", "expected a 4-digit year at character 1" },
        { "99999-01-01T00:00:00Z", "expected a 4-digit year" },
        { "2018-03-15T14:20:00+14:01", "offset +14:01 is not within -14:00..+14:00" },
        { "2018-03-15T14:20:00-15:00", "offset -15:00 is not within" },
        { "2018-03-15T14:20:00+08:60", "offset +08:60 is not within" },
        { "2018-03-15T14:20:00+0800", "must be +HH:MM" },
        { "2018-03-15T14:20:00+08", "must be +HH:MM" },
        { "2018-03-15T14:20:00 +08:00", "expected Z or an offset like +08:00 at character 20" },
        { "2018-03-15 14:20:00+08:00", "expected 'T' between date and time at character 11" },
        { "2018-03-15T14:20+08:00", "':' and 2-digit seconds at character 17" },
        { "2018-3-15T14:20:00Z", "'-' and a 2-digit month at character 6" },
        { "2018-03-15T14:20:00.+08:00", "fraction of a second" },
        { "2018-03-15T14:20:00.1234567890Z", "fraction of a second" },
        { "2018-03-15", "expected 'T' between date and time but the text ends" },
        { "", "expected a 4-digit year but the text ends" },
        { "now", "expected a 4-digit year" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 42;
        int off = 42;
        bb_errbuf eb = { "" };
        char quoted[128];

        if (bb_time_parse(cases[i].s, &t, &off, &eb) != BB_ERR_INVALID)
            fail_msg("%s: accepted", cases[i].s);
        assert_int_equal(t, 42);            /* untouched on failure */
        assert_int_equal(off, 42);
        snprintf(quoted, sizeof quoted, "\"%s\": ", cases[i].s);
        assert_true(strncmp(eb.msg, quoted, strlen(quoted)) == 0);
        assert_contains(eb.msg, cases[i].msg);
    }
}

static void test_parse_messages(void **state)
{
    bb_errbuf eb;
    char long_input[300];
    int64_t t;

    (void)state;
    /* The exact message the brief asks for. */
    assert_int_equal(bb_time_parse("2018-02-30T10:00:00+08:00", &t, NULL, &eb),
                     BB_ERR_INVALID);
    assert_string_equal(eb.msg,
        "\"2018-02-30T10:00:00+08:00\": day 30 does not exist in 2018-02");

    /* Control characters are escaped: a message stays one line. */
    assert_int_equal(bb_time_parse("2018-03-15T14:20:00Z\n\x1b[2J", &t, NULL, &eb),
                     BB_ERR_INVALID);
    assert_null(strchr(eb.msg, '\n'));
    assert_null(strchr(eb.msg, '\x1b'));
    assert_contains(eb.msg, "\\x0A\\x1B[2J");

    /* Valid UTF-8 is shown as is, invalid bytes escaped. */
    assert_int_equal(bb_time_parse("107\xe5\xb9\xb4\xff", &t, NULL, &eb), BB_ERR_INVALID);
    assert_contains(eb.msg, "\"107\xe5\xb9\xb4\\xFF\"");

    /* Long inputs are refused before parsing and cut in the message. */
    memset(long_input, '9', sizeof long_input - 1);
    long_input[sizeof long_input - 1] = '\0';
    assert_int_equal(bb_time_parse(long_input, &t, NULL, &eb), BB_ERR_INVALID);
    assert_contains(eb.msg, "...\": too long");
    assert_true(strlen(eb.msg) < 120);

    /* NULL arguments are a caller's bug, not bad data; eb may be NULL. */
    assert_int_equal(bb_time_parse(NULL, &t, NULL, &eb), BB_ERR_INTERNAL);
    assert_int_equal(bb_time_parse("2018-03-15T14:20:00Z", NULL, NULL, NULL),
                     BB_ERR_INTERNAL);
    assert_int_equal(bb_time_parse("bad", &t, NULL, NULL), BB_ERR_INVALID);
}

/* ---- calendar ---------------------------------------------------------- */

static void test_leap_years(void **state)
{
    int64_t t;

    (void)state;
    assert_true(bb_is_leap_year(2000));
    assert_false(bb_is_leap_year(1900));
    assert_true(bb_is_leap_year(2016));
    assert_false(bb_is_leap_year(2018));
    assert_false(bb_is_leap_year(2100));
    assert_true(bb_is_leap_year(2400));
    assert_int_equal(bb_time_parse("2000-02-29T00:00:00Z", &t, NULL, NULL), BB_OK);
    assert_int_equal(bb_time_parse("2016-02-29T00:00:00Z", &t, NULL, NULL), BB_OK);
    assert_int_equal(bb_time_parse("1900-02-29T00:00:00Z", &t, NULL, NULL),
                     BB_ERR_INVALID);
    assert_int_equal(bb_time_parse("2018-02-29T00:00:00Z", &t, NULL, NULL),
                     BB_ERR_INVALID);
}

static void test_days_civil(void **state)
{
    int y, m, d, dim;
    int64_t day;

    (void)state;
    assert_int_equal(bb_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(bb_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(bb_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(bb_days_from_civil(2018, 3, 15), 17605);
    assert_int_equal(bb_days_from_civil(1, 1, 1), -719162);
    /* Out-of-range months and days carry over. */
    assert_int_equal(bb_days_from_civil(2018, 13, 1), bb_days_from_civil(2019, 1, 1));
    assert_int_equal(bb_days_from_civil(2018, 0, 1), bb_days_from_civil(2017, 12, 1));
    assert_int_equal(bb_days_from_civil(2015, 2, 29), bb_days_from_civil(2015, 3, 1));
    assert_int_equal(bb_days_from_civil(2018, 3, 0), bb_days_from_civil(2018, 2, 28));
    /* Extreme arguments must not overflow (UBSan watches). */
    (void)bb_days_from_civil(INT_MAX, INT_MAX, INT_MAX);
    (void)bb_days_from_civil(INT_MIN, INT_MIN, INT_MIN);

    /* Walk day by day through 1600-2400, checking both directions against
     * a naive calendar. */
    y = 1600, m = 1, d = 1;
    for (day = bb_days_from_civil(1600, 1, 1);
         day < bb_days_from_civil(2401, 1, 1); day++) {
        int cy, cm, cd;

        assert_int_equal(bb_days_from_civil(y, m, d), day);
        assert_int_equal(bb_civil_from_days(day, &cy, &cm, &cd), BB_OK);
        if (cy != y || cm != m || cd != d)
            fail_msg("day %lld: %d-%d-%d, expected %d-%d-%d", (long long)day,
                     cy, cm, cd, y, m, d);
        dim = (m == 4 || m == 6 || m == 9 || m == 11) ? 30
            : m == 2 ? (bb_is_leap_year(y) ? 29 : 28) : 31;
        if (++d > dim) {
            d = 1;
            if (++m > 12)
                m = 1, y++;
        }
    }
    assert_int_equal(bb_civil_from_days(INT64_MAX, &y, &m, &d), BB_ERR_INVALID);
    assert_int_equal(bb_civil_from_days(INT64_MIN, &y, &m, &d), BB_ERR_INVALID);
    assert_int_equal(bb_civil_from_days(0, NULL, &m, &d), BB_ERR_INTERNAL);
}

static void test_taipei_day(void **state)
{
    int64_t a, b;
    int y, m, d;
    char roc[BB_ROC_DATE_MAX];

    (void)state;
    /* The same instant written two ways is the same Taipei day. */
    a = must_parse("2018-03-15T23:30:00+08:00");
    b = must_parse("2018-03-15T15:30:00Z");
    assert_int_equal(a, b);
    assert_int_equal(bb_taipei_day(a), bb_days_from_civil(2018, 3, 15));
    assert_int_equal(bb_taipei_day(b), bb_taipei_day(a));
    /* An hour later it is still 03-15 in UTC but already 03-16 in Taipei:
     * 16:30Z is 00:30+08:00 (not the same instant as 23:30+08:00). */
    b = must_parse("2018-03-15T16:30:00Z");
    assert_int_equal(b - a, 3600);
    assert_int_equal(bb_taipei_day(b), bb_days_from_civil(2018, 3, 16));
    assert_int_equal(bb_taipei_day(must_parse("2018-03-16T00:30:00+08:00")),
                     bb_taipei_day(b));

    /* Across midnight UTC+8: 16:00Z is the next Taipei day. */
    a = must_parse("2018-12-31T16:00:00Z");
    assert_int_equal(bb_taipei_date(a, &y, &m, &d), BB_OK);
    assert_int_equal(y, 2019);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    assert_int_equal(bb_taipei_day(a), bb_days_from_civil(2019, 1, 1));
    assert_int_equal(bb_taipei_day(a - 1), bb_days_from_civil(2018, 12, 31));

    /* Before 1970: floor, not truncation. */
    assert_int_equal(bb_taipei_day(must_parse("1969-12-31T16:00:00Z")), 0);
    assert_int_equal(bb_taipei_day(must_parse("1969-12-31T15:59:59Z")), -1);

    /* The ends of int64_t do not overflow. */
    assert_true(bb_taipei_day(INT64_MAX) > 0);
    assert_true(bb_taipei_day(INT64_MIN) < 0);
    assert_int_equal(bb_taipei_date(INT64_MAX, &y, &m, &d), BB_ERR_INVALID);

    /* ROC dates. */
    assert_int_equal(bb_roc_format_date(T_2018_03_15_1420_TPE, roc), BB_OK);
    assert_string_equal(roc, "107/03/15");
    assert_int_equal(bb_roc_format_date(must_parse("2018-03-15T16:30:00Z"), roc), BB_OK);
    assert_string_equal(roc, "107/03/16");
    assert_int_equal(bb_roc_format_date(must_parse("1990-01-02T00:00:00+08:00"), roc),
                     BB_OK);
    assert_string_equal(roc, "79/01/02");
    assert_int_equal(bb_roc_format_date(must_parse("1911-12-31T16:00:00Z"), roc), BB_OK);
    assert_string_equal(roc, "1/01/01");
    assert_int_equal(bb_roc_format_date(must_parse("1911-12-31T15:59:59Z"), roc),
                     BB_ERR_INVALID);
    assert_string_equal(roc, "");
    assert_int_equal(bb_roc_format_date(INT64_MAX, roc), BB_ERR_INVALID);
}

/* ---- friendly inputs ---------------------------------------------------- */

static void test_loose_accepts(void **state)
{
    static const struct {
        const char *s;
        const char *iso;    /* formatted with the offset returned */
    } cases[] = {
        { "now", "2018-03-16T01:00:00+08:00" },
        { "  NOW ", "2018-03-16T01:00:00+08:00" },
        { "2018-03-15 14:20", "2018-03-15T14:20:00+08:00" },
        { "2018-03-15T14:20", "2018-03-15T14:20:00+08:00" },
        { "2018-03-15   14:20:05", "2018-03-15T14:20:05+08:00" },
        { "2018/03/15 14:20", "2018-03-15T14:20:00+08:00" },
        { "107/03/15 14:20", "2018-03-15T14:20:00+08:00" },
        { "107/3/15 14:20", "2018-03-15T14:20:00+08:00" },
        { "107-03-15 14:20", "2018-03-15T14:20:00+08:00" },
        { "107/03/15 14:20:30", "2018-03-15T14:20:30+08:00" },
        { "107-03-15 14:20:30", "2018-03-15T14:20:30+08:00" },
        { "107/3/5 9:05", "2018-03-05T09:05:00+08:00" },
        { "99/12/31 23:59", "2010-12-31T23:59:00+08:00" },
        { "2018-03-15", "2018-03-15T00:00:00+08:00" },
        { "107/03/15", "2018-03-15T00:00:00+08:00" },
        { " 107/03/15\t", "2018-03-15T00:00:00+08:00" },
        { "1/01/01", "1912-01-01T00:00:00+08:00" },
        /* "today" is the Taipei day of NOW: 2018-03-16, not 03-15 as in UTC */
        { "14:20", "2018-03-16T14:20:00+08:00" },
        { "9:05", "2018-03-16T09:05:00+08:00" },
        { "00:00", "2018-03-16T00:00:00+08:00" },
        { "23:59:59", "2018-03-16T23:59:59+08:00" },
        /* Full RFC 3339 passes through with its own offset. */
        { "2018-03-15T14:20:00-05:30", "2018-03-15T14:20:00-05:30" },
        { "1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z" },
        { "2018-03-15T14:20:00", "2018-03-15T14:20:00+08:00" },
        { "2018-03-15 14:20Z", "2018-03-15T14:20:00Z" },
        { "107/03/15 14:20+09:00", "2018-03-15T14:20:00+09:00" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t;
        int off;
        char out[BB_TIME_MAX];
        bb_errbuf eb = { "" };

        if (bb_time_parse_loose(cases[i].s, NOW, &t, &off, &eb) != BB_OK)
            fail_msg("%s: %s", cases[i].s, eb.msg);
        assert_int_equal(bb_time_format(t, off, out), BB_OK);
        if (strcmp(out, cases[i].iso) != 0)
            fail_msg("%s: got %s, expected %s", cases[i].s, out, cases[i].iso);
    }
}

static void test_loose_rejects(void **state)
{
    static const struct {
        const char *s;
        const char *msg;
    } cases[] = {
        { "", "empty; use 2018-03-15 14:20" },
        { "   ", "empty" },
        { "abc", "not a date and time (at character 1); use" },
        { "yesterday", "not a date and time" },
        { "107/02/29", "day 29 does not exist in 2018-02" },
        { "105/02/30 10:00", "day 30 does not exist in 2016-02" },
        { "107/13/01", "month 13 is not 1-12" },
        { "2018-03-15 24:00", "hour 24 is not 0-23" },
        { "25:00", "hour 25 is not 0-23" },
        { "14:60", "minute 60 is not 0-59" },
        { "14:20:60", "leap second" },
        { "2018-03-15 14", "incomplete date or time" },
        { "2018-03-15 14:20 extra", "at character 17" },
        { "2018-03-15x", "at character 11" },
        { "107/03-15", "not a date and time" },
        { "107/03", "incomplete" },
        { "2018", "not a date and time" },
        { "20180315", "not a date and time" },
        { "300/01/01", "ROC year 300 is outside 1-289" },
        { "0/01/01", "ROC year 0 is outside" },
        { "1900-01-01", "year 1900 is outside 1912-2200" },
        { "12018-01-01", "a year has 4 digits" },
        { "2018-03-15 14:20+15:00", "not within -14:00..+14:00" },
        { "14:20Z", "not a date and time" },
    };
    size_t i;
    int64_t t;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t u = 42;
        bb_errbuf eb = { "" };

        if (bb_time_parse_loose(cases[i].s, NOW, &u, NULL, &eb) != BB_ERR_INVALID)
            fail_msg("%s: accepted", cases[i].s);
        assert_int_equal(u, 42);
        assert_contains(eb.msg, cases[i].msg);
    }
    /* A clock that makes no sense is reported, not wrapped around. */
    assert_int_equal(bb_time_parse_loose("14:20", INT64_MAX, &t, NULL, NULL),
                     BB_ERR_INVALID);
    assert_int_equal(bb_time_parse_loose("now", INT64_MIN, &t, NULL, NULL),
                     BB_ERR_INVALID);
    assert_int_equal(bb_time_parse_loose(NULL, NOW, &t, NULL, NULL), BB_ERR_INTERNAL);
}

/* ---- periods ------------------------------------------------------------ */

static void test_period_forms(void **state)
{
    static const struct {
        const char *s;
        bb_period_kind kind;
        const char *label, *roc;
        int fy, fm, fd, ty, tm, td;     /* [from, to) */
    } cases[] = {
        { "2018", BB_PERIOD_YEAR, "2018", "107", 2018, 1, 1, 2019, 1, 1 },
        { "107", BB_PERIOD_YEAR, "2018", "107", 2018, 1, 1, 2019, 1, 1 },
        { "89", BB_PERIOD_YEAR, "2000", "89", 2000, 1, 1, 2001, 1, 1 },
        { "1", BB_PERIOD_YEAR, "1912", "1", 1912, 1, 1, 1913, 1, 1 },
        { "2200", BB_PERIOD_YEAR, "2200", "289", 2200, 1, 1, 2201, 1, 1 },
        { "2018H1", BB_PERIOD_HALF, "2018H1", "107H1", 2018, 1, 1, 2018, 7, 1 },
        { "107H2", BB_PERIOD_HALF, "2018H2", "107H2", 2018, 7, 1, 2019, 1, 1 },
        { "107h1", BB_PERIOD_HALF, "2018H1", "107H1", 2018, 1, 1, 2018, 7, 1 },
        { "2018Q3", BB_PERIOD_QUARTER, "2018Q3", "107Q3", 2018, 7, 1, 2018, 10, 1 },
        { "107Q1", BB_PERIOD_QUARTER, "2018Q1", "107Q1", 2018, 1, 1, 2018, 4, 1 },
        { "2018q4", BB_PERIOD_QUARTER, "2018Q4", "107Q4", 2018, 10, 1, 2019, 1, 1 },
        { "2018-03", BB_PERIOD_MONTH, "2018-03", "107-03", 2018, 3, 1, 2018, 4, 1 },
        { "107-03", BB_PERIOD_MONTH, "2018-03", "107-03", 2018, 3, 1, 2018, 4, 1 },
        { "107/03", BB_PERIOD_MONTH, "2018-03", "107-03", 2018, 3, 1, 2018, 4, 1 },
        { "107/3", BB_PERIOD_MONTH, "2018-03", "107-03", 2018, 3, 1, 2018, 4, 1 },
        { "2016-02", BB_PERIOD_MONTH, "2016-02", "105-02", 2016, 2, 1, 2016, 3, 1 },
        { "2018-12", BB_PERIOD_MONTH, "2018-12", "107-12", 2018, 12, 1, 2019, 1, 1 },
        { "2018-03-15", BB_PERIOD_DAY, "2018-03-15", "107/03/15", 2018, 3, 15, 2018, 3, 16 },
        { "107/03/15", BB_PERIOD_DAY, "2018-03-15", "107/03/15", 2018, 3, 15, 2018, 3, 16 },
        { "107-3-5", BB_PERIOD_DAY, "2018-03-05", "107/03/05", 2018, 3, 5, 2018, 3, 6 },
        { "2016-02-29", BB_PERIOD_DAY, "2016-02-29", "105/02/29", 2016, 2, 29, 2016, 3, 1 },
        { "2018-12-31", BB_PERIOD_DAY, "2018-12-31", "107/12/31", 2018, 12, 31, 2019, 1, 1 },
        /* Ranges take their canonical kind from the days they cover. */
        { "2018-01..2018-03", BB_PERIOD_QUARTER, "2018Q1", "107Q1", 2018, 1, 1, 2018, 4, 1 },
        { "107H1..107H2", BB_PERIOD_YEAR, "2018", "107", 2018, 1, 1, 2019, 1, 1 },
        { "2018-03-15..2018-03-15", BB_PERIOD_DAY, "2018-03-15", "107/03/15",
          2018, 3, 15, 2018, 3, 16 },
        { "2017-12..2018-01", BB_PERIOD_RANGE, "2017-12..2018-01", "106-12..107-01",
          2017, 12, 1, 2018, 2, 1 },
        { "106-12 .. 107/01", BB_PERIOD_RANGE, "2017-12..2018-01", "106-12..107-01",
          2017, 12, 1, 2018, 2, 1 },
        { "2017..2018", BB_PERIOD_RANGE, "2017..2018", "106..107", 2017, 1, 1, 2019, 1, 1 },
        { "105..2017H1", BB_PERIOD_RANGE, "2016-01..2017-06", "105-01..106-06",
          2016, 1, 1, 2017, 7, 1 },
        /* Three, six and twelve months off the calendar grid stay ranges. */
        { "2018-02..2018-04", BB_PERIOD_RANGE, "2018-02..2018-04", "107-02..107-04",
          2018, 2, 1, 2018, 5, 1 },
        { "2018-04..2018-09", BB_PERIOD_RANGE, "2018-04..2018-09", "107-04..107-09",
          2018, 4, 1, 2018, 10, 1 },
        { "2018H2..2019H1", BB_PERIOD_RANGE, "2018-07..2019-06", "107-07..108-06",
          2018, 7, 1, 2019, 7, 1 },
        { "2018Q4..2019Q1", BB_PERIOD_RANGE, "2018-10..2019-03", "107-10..108-03",
          2018, 10, 1, 2019, 4, 1 },
        { "2017-12-30..2018-01-02", BB_PERIOD_RANGE, "2017-12-30..2018-01-02",
          "106/12/30..107/01/02", 2017, 12, 30, 2018, 1, 3 },
        { "2018-03-10..2018-04", BB_PERIOD_RANGE, "2018-03-10..2018-04-30",
          "107/03/10..107/04/30", 2018, 3, 10, 2018, 5, 1 },
        { "[2018-01-01,2018-07-01)", BB_PERIOD_HALF, "2018H1", "107H1", 2018, 1, 1, 2018, 7, 1 },
        { "[ 2018-03-10 , 107/04/03 )", BB_PERIOD_RANGE, "2018-03-10..2018-04-02",
          "107/03/10..107/04/02", 2018, 3, 10, 2018, 4, 3 },
        { "[2017-12-31,2018-01-01)", BB_PERIOD_DAY, "2017-12-31", "106/12/31",
          2017, 12, 31, 2018, 1, 1 },
        { "  2018Q3\t", BB_PERIOD_QUARTER, "2018Q3", "107Q3", 2018, 7, 1, 2018, 10, 1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bb_period p = must_period(cases[i].s), back;
        char roc[BB_PERIOD_LABEL_MAX];

        if (p.kind != cases[i].kind || strcmp(p.label, cases[i].label) != 0)
            fail_msg("%s: kind %d label %s, expected %d %s", cases[i].s,
                     (int)p.kind, p.label, (int)cases[i].kind, cases[i].label);
        assert_int_equal(p.from_day, bb_days_from_civil(cases[i].fy, cases[i].fm, cases[i].fd));
        assert_int_equal(p.to_day, bb_days_from_civil(cases[i].ty, cases[i].tm, cases[i].td));
        assert_int_equal(bb_period_roc_label(&p, roc), BB_OK);
        assert_string_equal(roc, cases[i].roc);
        /* Both labels parse back to the same period. */
        back = must_period(p.label);
        assert_int_equal(back.from_day, p.from_day);
        assert_int_equal(back.to_day, p.to_day);
        assert_string_equal(back.label, p.label);
        back = must_period(roc);
        assert_int_equal(back.from_day, p.from_day);
        assert_int_equal(back.to_day, p.to_day);
        /* Unix accessors: Taipei midnight. */
        assert_int_equal(bb_period_from_unix(&p), p.from_day * 86400 - 8 * 3600);
        assert_int_equal(bb_period_to_unix(&p), p.to_day * 86400 - 8 * 3600);
    }
}

static void test_period_rejects(void **state)
{
    static const struct {
        const char *s;
        const char *msg;
    } cases[] = {
        { "2018Q5", "\"2018Q5\": quarter 5 is not 1-4" },
        { "2018Q0", "quarter 0 is not 1-4" },
        { "2018H3", "\"2018H3\": half 3 is not 1 or 2" },
        { "107-13", "\"107-13\": month 13 is not 1-12" },
        { "2018-00", "month 0 is not 1-12" },
        { "2018-02-29", "day 29 does not exist in 2018-02" },
        { "2018..2017", "\"2018..2017\": empty period" },
        { "2018-03-15..2018-03-14", "empty period" },
        { "[2018-07-01,2018-01-01)", "empty period" },
        { "[2018-01-01,2018-01-01)", "empty period" },
        { "", "\"\": no period given; expected a year (2018 or 107)" },
        { "   ", "no period given" },
        { "abc", "\"abc\": not a period (at character 1); expected a year" },
        { "2018Q1x", "not a period (at character 7)" },
        { "2018H", "incomplete period" },
        { "2018-", "incomplete period" },
        { "2018-03/15", "not a period (at character 8)" },
        { "2018.5", "not a period" },
        { "1911", "year 1911 is outside 1912-2200" },
        { "2201", "year 2201 is outside 1912-2200" },
        { "290", "ROC year 290 is outside 1-289" },
        { "0", "ROC year 0 is outside" },
        { "20180", "a year has 4 digits (2018)" },
        { "2018..", "needs a period on both sides" },
        { "..2018", "needs a period on both sides" },
        { "2018..2019..2020", "not a period" },
        { "[2018-01-01,2018-07-01]", "half-open" },
        { "[2018-01,2018-07)", "both ends of [FROM,TO) must be days" },
        { "[2018-01-01 2018-07-01)", "the explicit form is [FROM,TO)" },
        { "[2018-01-01,2018-07-01", "the explicit form is [FROM,TO)" },
        { "[", "the explicit form is [FROM,TO)" },
        { "\xe4\xb8\x80\xe3\x80\x87\xe4\xb8\x80\xe5\x85\xab", "not a period" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bb_period p;
        bb_errbuf eb = { "" };

        memset(&p, 0x5a, sizeof p);
        if (bb_period_parse(cases[i].s, &p, &eb) != BB_ERR_INVALID)
            fail_msg("%s: accepted as %s", cases[i].s, p.label);
        assert_int_equal(p.from_day, 0x5a5a5a5a5a5a5a5a);   /* untouched */
        assert_contains(eb.msg, cases[i].msg);
    }
    assert_int_equal(bb_period_parse(NULL, NULL, NULL), BB_ERR_INTERNAL);
}

static void test_period_from_days(void **state)
{
    bb_period p;
    bb_errbuf eb;
    char roc[BB_PERIOD_LABEL_MAX];

    (void)state;
    assert_int_equal(bb_period_from_days(bb_days_from_civil(2018, 4, 1),
                                         bb_days_from_civil(2018, 7, 1), &p, &eb), BB_OK);
    assert_int_equal(p.kind, BB_PERIOD_QUARTER);
    assert_string_equal(p.label, "2018Q2");
    assert_int_equal(bb_period_from_days(5, 5, &p, &eb), BB_ERR_INVALID);
    assert_contains(eb.msg, "empty");
    assert_int_equal(bb_period_from_days(bb_days_from_civil(1911, 12, 31),
                                         bb_days_from_civil(1912, 1, 2), &p, &eb),
                     BB_ERR_INVALID);
    assert_contains(eb.msg, "outside the years 1912-2200");
    assert_int_equal(bb_period_from_days(INT64_MIN, INT64_MAX, &p, NULL), BB_ERR_INVALID);
    /* A hand-made struct that is not a period is refused, not trusted. */
    memset(&p, 0, sizeof p);
    p.from_day = 10, p.to_day = 5;
    assert_int_equal(bb_period_roc_label(&p, roc), BB_ERR_INVALID);
    assert_false(bb_period_contains(&p, 0));
    assert_int_equal(bb_period_month_count(&p), 0);
}

static void assert_shift(const char *in, int years, const char *label,
                         int fy, int fm, int fd, int ty, int tm, int td)
{
    bb_period p = must_period(in), out;
    bb_errbuf eb = { "" };

    if (bb_period_shift_years(&p, years, &out, &eb) != BB_OK)
        fail_msg("shift %s by %d: %s", in, years, eb.msg);
    if (strcmp(out.label, label) != 0)
        fail_msg("shift %s by %d: %s, expected %s", in, years, out.label, label);
    assert_int_equal(out.from_day, bb_days_from_civil(fy, fm, fd));
    assert_int_equal(out.to_day, bb_days_from_civil(ty, tm, td));
}

static void test_period_shift(void **state)
{
    bb_period p, q;
    bb_errbuf eb;
    char roc[BB_PERIOD_LABEL_MAX];

    (void)state;
    /* K5 compares 106H1 with 105H1 and 104H1. */
    assert_shift("106H1", -1, "2016H1", 2016, 1, 1, 2016, 7, 1);
    assert_shift("106H1", -2, "2015H1", 2015, 1, 1, 2015, 7, 1);
    p = must_period("106H1");
    assert_int_equal(bb_period_shift_years(&p, -1, &p, NULL), BB_OK);   /* in place */
    assert_int_equal(bb_period_roc_label(&p, roc), BB_OK);
    assert_string_equal(roc, "105H1");
    assert_int_equal(bb_period_shift_years(&p, -1, &q, NULL), BB_OK);
    assert_int_equal(bb_period_roc_label(&q, roc), BB_OK);
    assert_string_equal(roc, "104H1");
    assert_int_equal(q.kind, BB_PERIOD_HALF);

    assert_shift("2018", -1, "2017", 2017, 1, 1, 2018, 1, 1);
    assert_shift("2018Q3", -2, "2016Q3", 2016, 7, 1, 2016, 10, 1);
    assert_shift("2018-03", -1, "2017-03", 2017, 3, 1, 2017, 4, 1);
    assert_shift("2018-03-15", -1, "2017-03-15", 2017, 3, 15, 2017, 3, 16);
    assert_shift("2017-12..2018-01", -1, "2016-12..2017-01", 2016, 12, 1, 2017, 2, 1);
    assert_shift("2018", 1, "2019", 2019, 1, 1, 2020, 1, 1);
    /* February: a month stays a whole month both ways. */
    assert_shift("2016-02", -1, "2015-02", 2015, 2, 1, 2015, 3, 1);
    assert_shift("2015-02", 1, "2016-02", 2016, 2, 1, 2016, 3, 1);
    /* Feb 29 boundaries move outward. */
    assert_shift("2016-02-29", -1, "2015-02-28", 2015, 2, 28, 2015, 3, 1);
    assert_shift("2016-02-29", -4, "2012-02-29", 2012, 2, 29, 2012, 3, 1);
    assert_shift("[2016-02-01,2016-02-29)", -1, "2015-02", 2015, 2, 1, 2015, 3, 1);
    assert_shift("2016-02-29..2016-03-04", -1, "2015-02-28..2015-03-04",
                 2015, 2, 28, 2015, 3, 5);
    assert_shift("2016-02-10..2016-02-28", -1, "2015-02-10..2015-02-28",
                 2015, 2, 10, 2015, 3, 1);

    /* Leaving the supported years. */
    p = must_period("1912");
    assert_int_equal(bb_period_shift_years(&p, -1, &q, &eb), BB_ERR_INVALID);
    assert_contains(eb.msg, "shift period \"1912\" by -1 years");
    p = must_period("2200H2");
    assert_int_equal(bb_period_shift_years(&p, 1, &q, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_period_shift_years(&p, INT_MIN, &q, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_period_shift_years(&p, INT_MAX, &q, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_period_shift_years(NULL, 1, &q, &eb), BB_ERR_INTERNAL);
}

static void test_period_contains(void **state)
{
    bb_period p = must_period("2018Q1");

    (void)state;
    assert_true(bb_period_contains(&p, must_parse("2018-01-01T00:00:00+08:00")));
    assert_true(bb_period_contains(&p, must_parse("2017-12-31T16:00:00Z")));
    assert_false(bb_period_contains(&p, must_parse("2017-12-31T15:59:59Z")));
    assert_false(bb_period_contains(&p, must_parse("2017-12-31T23:59:59+08:00")));
    assert_true(bb_period_contains(&p, must_parse("2018-03-31T23:59:59+08:00")));
    assert_true(bb_period_contains(&p, must_parse("2018-03-31T15:59:59Z")));
    assert_false(bb_period_contains(&p, must_parse("2018-03-31T16:00:00Z")));
    assert_false(bb_period_contains(&p, must_parse("2018-04-01T00:00:00+08:00")));
    assert_int_equal(bb_period_from_unix(&p), must_parse("2018-01-01T00:00:00+08:00"));
    assert_int_equal(bb_period_to_unix(&p), must_parse("2018-04-01T00:00:00+08:00"));
    assert_false(bb_period_contains(&p, INT64_MAX));
    assert_false(bb_period_contains(&p, INT64_MIN));
    assert_false(bb_period_contains(NULL, 0));
}

static void test_period_months(void **state)
{
    bb_period p = must_period("2017-12-15..2018-02-10");
    bb_month_slice m;
    int i = 0, n = 0;
    int64_t total = 0;

    (void)state;
    assert_int_equal(bb_period_month_count(&p), 3);
    assert_true(bb_period_months(&p, &i, &m));
    assert_int_equal(m.year, 2017);
    assert_int_equal(m.month, 12);
    assert_int_equal(m.from_day, bb_days_from_civil(2017, 12, 15));
    assert_int_equal(m.to_day, bb_days_from_civil(2018, 1, 1));
    assert_false(m.whole);
    assert_true(bb_period_months(&p, &i, &m));
    assert_int_equal(m.year, 2018);
    assert_int_equal(m.month, 1);
    assert_true(m.whole);
    assert_true(bb_period_months(&p, &i, &m));
    assert_int_equal(m.month, 2);
    assert_int_equal(m.from_day, bb_days_from_civil(2018, 2, 1));
    assert_int_equal(m.to_day, bb_days_from_civil(2018, 2, 11));
    assert_false(m.whole);
    assert_false(bb_period_months(&p, &i, &m));
    assert_int_equal(i, 3);

    /* A year: twelve whole months adding up to the year. */
    p = must_period("2016");
    for (i = 0; bb_period_months(&p, &i, &m); n++) {
        assert_int_equal(m.year, 2016);
        assert_int_equal(m.month, n + 1);
        assert_true(m.whole);
        total += m.to_day - m.from_day;
    }
    assert_int_equal(n, 12);
    assert_int_equal(total, 366);

    p = must_period("107/03/15");
    assert_int_equal(bb_period_month_count(&p), 1);
    i = 0;
    assert_true(bb_period_months(&p, &i, &m));
    assert_int_equal(m.month, 3);
    assert_false(m.whole);
    i = -1;
    assert_false(bb_period_months(&p, &i, &m));
    assert_false(bb_period_months(NULL, &i, &m));
}

static void test_now(void **state)
{
    int64_t t = bb_time_now();

    (void)state;
    /* Later than when this test was written, earlier than 2100. */
    assert_true(t > must_parse("2024-01-01T00:00:00Z"));
    assert_true(t < must_parse("2100-01-01T00:00:00Z"));
}

/* The _lang variants: zh-TW words for the same mistakes, English unchanged. */
static void test_messages_in_zh(void **state)
{
    static const struct { const char *in, *en, *zh; } loose[] = {
        { "2018-13-01", "month 13 is not 1-12", "沒有 13 月" },
        { "2018-02-30", "day 30 does not exist in 2018-02", "2018-02 沒有 30 日" },
        { "25:00", "hour 25 is not 0-23", "沒有 25 時" },
        { "昨天", "not a date and time", "不是日期時間" },
        { "", "empty", "空白" },
        { "300/01/01", "ROC year 300 is outside", "民國 300 年" },
    };
    int64_t t;
    bb_period p;
    bb_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof loose / sizeof loose[0]; i++) {
        assert_int_equal(bb_time_parse_loose_lang(loose[i].in, 0, BB_LANG_EN, &t, NULL, &eb),
                         BB_ERR_INVALID);
        assert_contains(eb.msg, loose[i].en);
        assert_int_equal(bb_time_parse_loose_lang(loose[i].in, 0, BB_LANG_ZH, &t, NULL, &eb),
                         BB_ERR_INVALID);
        assert_contains(eb.msg, loose[i].zh);
        assert_null(strstr(eb.msg, loose[i].en));
        /* The old entry point is the English one. */
        assert_int_equal(bb_time_parse_loose(loose[i].in, 0, &t, NULL, &eb), BB_ERR_INVALID);
        assert_contains(eb.msg, loose[i].en);
    }
    assert_int_equal(bb_time_parse_lang("2018-03-15 14:20", BB_LANG_ZH, &t, NULL, &eb),
                     BB_ERR_INVALID);
    assert_contains(eb.msg, "格式為 YYYY-MM-DDTHH:MM:SS");
    assert_int_equal(bb_time_parse_lang("2018-03-15T14:20:00", BB_LANG_ZH, &t, NULL, &eb),
                     BB_ERR_INVALID);
    assert_contains(eb.msg, "沒有時區");
    assert_int_equal(bb_period_parse_lang("2018-13", BB_LANG_ZH, &p, &eb), BB_ERR_INVALID);
    assert_contains(eb.msg, "\"2018-13\"：沒有 13 月");
    assert_int_equal(bb_period_parse_lang("2018Q5", BB_LANG_ZH, &p, &eb), BB_ERR_INVALID);
    assert_contains(eb.msg, "沒有第 5 季");
    assert_int_equal(bb_period_parse_lang("2018-03..2018-01", BB_LANG_ZH, &p, &eb),
                     BB_ERR_INVALID);
    assert_contains(eb.msg, "結束早於開始");
    assert_int_equal(bb_period_parse_lang("2018-03", BB_LANG_ZH, &p, &eb), BB_OK);
    assert_string_equal(p.label, "2018-03");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format_roundtrip),
        cmocka_unit_test(test_parse_lenient_bits),
        cmocka_unit_test(test_format_other_offsets_and_limits),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_messages),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_days_civil),
        cmocka_unit_test(test_taipei_day),
        cmocka_unit_test(test_loose_accepts),
        cmocka_unit_test(test_loose_rejects),
        cmocka_unit_test(test_period_forms),
        cmocka_unit_test(test_period_rejects),
        cmocka_unit_test(test_period_from_days),
        cmocka_unit_test(test_period_shift),
        cmocka_unit_test(test_period_contains),
        cmocka_unit_test(test_period_months),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_messages_in_zh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
