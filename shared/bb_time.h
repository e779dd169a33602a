/*
 * bb_time — instants, Taipei calendar days and KPI periods.
 *
 * Instants.  A moment is an int64_t count of Unix seconds (UTC, leap seconds
 * not counted) plus the UTC offset, in minutes, it was written with, so that
 * "2018-03-15T14:20:00+08:00" comes back out exactly as it went in.  Stored
 * and exchanged text is strict RFC 3339 with a mandatory offset
 * (bb_time_parse / bb_time_format); officers may type friendlier forms that
 * bb_time_parse_loose turns into the same thing.
 *
 * Taipei.  KPIs are counted per Asia/Taipei calendar day.  Taiwan has kept
 * UTC+08:00 without daylight saving time since 1980, so this module treats
 * Asia/Taipei as a fixed +08:00 and never consults TZ or the system time zone
 * database.  Local times before 1980-01-01 are out of scope: they are handled
 * as +08:00 too, which is an hour off for the summers Taiwan kept DST (last
 * in 1979) and for 1937-1945 (+09:00).  A "day number" is the count of days
 * since 1970-01-01 in the proleptic Gregorian calendar; bb_taipei_day() gives
 * the Taipei day of an instant.  ROC (Minguo) year = Gregorian year - 1911.
 *
 * Periods.  A bb_period is a half-open range [from_day, to_day) of Taipei
 * days within the years 1912-2200 (ROC 1-289), with a kind and a canonical
 * label derived from the days alone: two inputs that name the same days get
 * the same kind and label ("2018-01..2018-03" is the quarter "2018Q1").  See
 * docs/KPIS.md for how KPIs use periods and "the same period last year".
 *
 * Errors.  Functions that can fail return a bb_err (BB_ERR_INVALID for bad
 * input, BB_ERR_INTERNAL for a NULL required argument) and, when eb is not
 * NULL, write a message that quotes the input and says what was expected:
 *   "2018-02-30T10:00:00+08:00": day 30 does not exist in 2018-02
 * The parsers people type into have a _lang variant that writes the message
 * in zh-TW or English; the plain ones write English (HQ's logs and tools):
 *   "2018-02-30T10:00:00+08:00"：2018-02 沒有 30 日
 * Out-parameters are written only on success.  Quoted inputs are cut to a
 * few dozen characters and control characters are escaped, so a message is
 * always one safe line.  Nothing here allocates memory.
 */
#ifndef BB_TIME_H
#define BB_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include "bb_err.h"
#include "bb_lang.h"

#define BB_TAIPEI_OFFSET_MIN 480   /* Asia/Taipei: UTC+08:00, no DST since 1980 */

#define BB_TIME_MAX 32          /* bb_time_format output incl. NUL (26 used) */
#define BB_ROC_DATE_MAX 16      /* bb_roc_format_date output incl. NUL */
#define BB_PERIOD_LABEL_MAX 32  /* a period label incl. NUL */

/* ---- instants ---------------------------------------------------------- */

/* The current time in Unix seconds (CLOCK_REALTIME). */
int64_t bb_time_now(void);

/*
 * Parse strict RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM).
 * 'T' and 'Z' may be lowercase (RFC 3339 allows it).  The offset is
 * required: a local time without one is ambiguous and is refused with a
 * message saying to add "+08:00".  Years are 0000-9999; the fraction (1-9
 * digits) is accepted and dropped (the instant is truncated to the second);
 * second 60 (a leap second) is refused since Unix time cannot hold it;
 * offsets are at most 14:00 either way.  offset_min may be NULL.
 */
bb_err bb_time_parse(const char *s, int64_t *unix_s, int *offset_min,
                     bb_errbuf *eb);
/* The same, with the message in lang. */
bb_err bb_time_parse_lang(const char *s, enum bb_lang lang, int64_t *unix_s,
                          int *offset_min, bb_errbuf *eb);

/*
 * Write the instant as seen at offset_min, e.g. "2018-03-15T14:20:00+08:00";
 * offset 0 is written "Z".  Fails (BB_ERR_INVALID, out set to "") when the
 * offset is beyond +-14:00 or the local year is outside 0000-9999.
 */
bb_err bb_time_format(int64_t unix_s, int offset_min, char out[BB_TIME_MAX]);

/* bb_time_format(bb_time_now(), BB_TAIPEI_OFFSET_MIN, out). */
bb_err bb_time_now_taipei(char out[BB_TIME_MAX]);

/*
 * Parse what an officer types in a date/time field.  Accepted, with leading
 * and trailing blanks ignored:
 *   now                                   the instant `now`
 *   2018-03-15T14:20:00+08:00             any strict RFC 3339 form, as above
 *   2018-03-15 14:20, 2018-03-15T14:20    Taipei local time (+08:00)
 *   107/03/15 14:20, 107/3/15 14:20:05    ROC dates, '/' or '-' separators
 *   2018-03-15, 107/03/15                 00:00 Taipei on that day
 *   14:20, 14:20:05                       that time today, today being the
 *                                         Taipei day of `now`
 * A date and a time may also carry an explicit offset ("2018-03-15 14:20Z").
 * Gregorian years have 4 digits (1912-2200), ROC years 1-3 digits (1-289).
 * *offset_min receives the offset written, else BB_TAIPEI_OFFSET_MIN; it may
 * be NULL.  Format the result with bb_time_format to store it.
 */
bb_err bb_time_parse_loose(const char *s, int64_t now, int64_t *unix_s,
                           int *offset_min, bb_errbuf *eb);
/* The same, with the message in lang. */
bb_err bb_time_parse_loose_lang(const char *s, int64_t now, enum bb_lang lang,
                                int64_t *unix_s, int *offset_min, bb_errbuf *eb);

/* ---- calendar ---------------------------------------------------------- */

/* Whether y is a Gregorian leap year (2000 yes, 1900 no, 2016 yes). */
bool bb_is_leap_year(int y);

/*
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-d (the civil-
 * days algorithm published by Howard Hinnant).  Total: a month outside 1-12
 * or a day outside the month carries over, so 2018-13-01 is 2019-01-01 and
 * 2015-02-29 is 2015-03-01.
 */
int64_t bb_days_from_civil(int y, int m, int d);

/*
 * The inverse: the date of day number `days`.  Fails (BB_ERR_INVALID) only
 * when the year would not fit in an int (|days| > 700,000,000,000).
 */
bb_err bb_civil_from_days(int64_t days, int *y, int *m, int *d);

/* The Taipei day number of an instant (floor of local time / 86400). Total. */
int64_t bb_taipei_day(int64_t unix_s);

/* The Taipei calendar date of an instant; fails as bb_civil_from_days. */
bb_err bb_taipei_date(int64_t unix_s, int *y, int *m, int *d);

/*
 * The Taipei date of an instant in ROC form, "107/03/15" (the year is not
 * zero-padded: 1990-01-02 is "79/01/02").  Fails (BB_ERR_INVALID, out set to
 * "") for dates before 1912-01-01, which have no positive ROC year.
 */
bb_err bb_roc_format_date(int64_t unix_s, char out[BB_ROC_DATE_MAX]);

/* ---- periods ----------------------------------------------------------- */

typedef enum bb_period_kind {
    BB_PERIOD_YEAR = 1,     /* 2018        ROC 107     */
    BB_PERIOD_HALF = 2,     /* 2018H1      107H1       */
    BB_PERIOD_QUARTER = 3,  /* 2018Q3      107Q3       */
    BB_PERIOD_MONTH = 4,    /* 2018-03     107-03      */
    BB_PERIOD_DAY = 5,      /* 2018-03-15  107/03/15   */
    BB_PERIOD_RANGE = 6     /* anything else; labels below */
} bb_period_kind;

/*
 * Fields are read-only for callers; build periods with bb_period_parse or
 * bb_period_from_days so that kind and label always match the days.  A
 * RANGE is labelled by whole years when both ends fall on 1 January
 * ("2016..2017"), else by months when both fall on the 1st
 * ("2017-12..2018-01"), else by days, inclusive ("2018-03-10..2018-04-02");
 * every label parses back to the same period.
 */
typedef struct bb_period {
    bb_period_kind kind;
    int64_t from_day;   /* first Taipei day in the period */
    int64_t to_day;     /* first Taipei day after it (exclusive) */
    char label[BB_PERIOD_LABEL_MAX];    /* canonical, Gregorian */
} bb_period;

/*
 * Parse a period (leading and trailing blanks ignored):
 *   year     2018, 107
 *   half     2018H1, 107H2 (or h)
 *   quarter  2018Q3, 107Q1 (or q)
 *   month    2018-03, 107-03, 107/03
 *   day      2018-03-15, 107/03/15 (and 107-03-15, 2018/03/15, 107/3/5)
 *   range    FROM..TO, each end one of the above: from the start of FROM to
 *            the end of TO ("2018-01..2018-03" is 2018Q1)
 *   explicit [2018-01-01,2018-07-01) with day dates, the end excluded
 * Gregorian years have 4 digits and lie in 1912-2200; ROC years have 1-3
 * digits and lie in 1-289 (1912-2200).  Empty periods are refused.
 */
bb_err bb_period_parse(const char *s, bb_period *p, bb_errbuf *eb);
/* The same, with the message in lang. */
bb_err bb_period_parse_lang(const char *s, enum bb_lang lang, bb_period *p, bb_errbuf *eb);

/*
 * The period [from_day, to_day) of Taipei days, with its kind and label.
 * Fails when it is empty or leaves the years 1912-2200.
 */
bb_err bb_period_from_days(int64_t from_day, int64_t to_day, bb_period *p,
                           bb_errbuf *eb);

/* The ROC label: "107", "107H1", "107Q3", "107-03", "107/03/15", ranges
 * "106-12..107-01", "107/03/10..107/04/02". */
bb_err bb_period_roc_label(const bb_period *p, char out[BB_PERIOD_LABEL_MAX]);

/* Unix seconds of Taipei midnight starting the period, and ending it
 * (exclusive): the period holds the instants from <= t < to. */
int64_t bb_period_from_unix(const bb_period *p);
int64_t bb_period_to_unix(const bb_period *p);

/* Whether the instant falls in the period (by its Taipei time). */
bool bb_period_contains(const bb_period *p, int64_t unix_s);

/*
 * The same period `years` calendar years later (earlier when negative);
 * -1 is "the same period last year".  Both ends move by whole calendar
 * years, so a year stays a year, 106H1 becomes 105H1, 2018-03 becomes
 * 2017-03.  A boundary on 29 February moves outward when the target year
 * has none: a start on Feb 29 becomes Feb 28, an (exclusive) end on Feb 29
 * becomes Mar 1.  Thus the day 2016-02-29 becomes 2015-02-28, and
 * [2016-02-01, 2016-02-29) becomes [2015-02-01, 2015-03-01): a shifted
 * period is never empty and never loses the end of February.  out may be p.
 */
bb_err bb_period_shift_years(const bb_period *p, int years, bb_period *out,
                             bb_errbuf *eb);

/* ---- months of a period (for per-month charts) ------------------------- */

typedef struct bb_month_slice {
    int year;           /* Gregorian */
    int month;          /* 1-12 */
    int64_t from_day;   /* the part of the month inside the period, */
    int64_t to_day;     /* [from_day, to_day) */
    bool whole;         /* the period covers the whole month */
} bb_month_slice;

/* How many calendar months the period touches (1 for a day); 0 if p is not
 * a valid period. */
int bb_period_month_count(const bb_period *p);

/*
 * Iterate over the months the period touches, in order:
 *   int i = 0; bb_month_slice m;
 *   while (bb_period_months(p, &i, &m)) ...
 * Each call fills *m and advances *cursor; returns false when done (or when
 * p or *cursor is not valid).  A month the period covers only in part comes
 * with just that part, so per-month counts add up to the period's count.
 */
bool bb_period_months(const bb_period *p, int *cursor, bb_month_slice *m);

#endif
