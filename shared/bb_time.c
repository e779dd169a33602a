/*
 * bb_time.c — parsing and formatting of instants, the Taipei calendar and
 * KPI periods (see bb_time.h for the contract).
 *
 * Everything is integer arithmetic on day numbers and Unix seconds: no
 * struct tm, no mktime, no TZ, so results do not depend on the machine's
 * time zone or locale.  Parsers scan a (begin, end) slice of the caller's
 * string with a tiny cursor (struct scan) and never copy the input; inputs
 * longer than INPUT_MAX are refused up front, so every loop is bounded and
 * every number read has at most 9 digits (no overflow).
 */
#include "bb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY_S 86400
#define TAIPEI_S (BB_TAIPEI_OFFSET_MIN * 60)
#define OFFSET_MAX_MIN (14 * 60)    /* RFC 3339 allows more; no zone uses it */
#define INPUT_MAX 128               /* longest input we look at, in bytes */
#define QUOTE_SHOWN 48              /* input bytes shown in a message */
#define ROC_BASE 1911               /* ROC year = Gregorian - 1911 */
#define YEAR_FIRST 1912             /* periods and friendly inputs: 1912-2200 */
#define YEAR_LAST 2200
#define ROC_LAST (YEAR_LAST - ROC_BASE)
#define FRACTION_DIGITS_MAX 9       /* nanoseconds; more is not a real clock */
/* Beyond this many days the year no longer fits in an int. */
#define CIVIL_DAYS_LIMIT INT64_C(700000000000)

static const char PERIOD_FORMS[] =
    "expected a year (2018 or 107), a half (2018H1, 107H2), a quarter "
    "(2018Q3), a month (2018-03, 107-03, 107/03), a day (2018-03-15, "
    "107/03/15), a range FROM..TO of those (2018-01..2018-03), or "
    "[2018-01-01,2018-07-01)";
static const char PERIOD_FORMS_ZH[] =
    "應為年（2018 或 107）、半年（2018H1、107H2）、季（2018Q3）、"
    "月（2018-03、107-03、107/03）、日（2018-03-15、107/03/15）、"
    "以上兩者組成的區間 FROM..TO（2018-01..2018-03），或 "
    "[2018-01-01,2018-07-01)";
static const char RFC3339_FORM[] =
    "YYYY-MM-DDTHH:MM:SS followed by Z or +HH:MM, "
    "e.g. 2018-03-15T14:20:00+08:00";
static const char RFC3339_FORM_ZH[] =
    "YYYY-MM-DDTHH:MM:SS 後接 Z 或 +HH:MM，例如 2018-03-15T14:20:00+08:00";
static const char LOOSE_FORMS[] =
    "use 2018-03-15 14:20, 107/03/15 14:20, 2018-03-15, 107/03/15, "
    "14:20 (today), now, or 2018-03-15T14:20:00+08:00";
static const char LOOSE_FORMS_ZH[] =
    "請用 2018-03-15 14:20、107/03/15 14:20、2018-03-15、107/03/15、"
    "14:20（今天）、now 或 2018-03-15T14:20:00+08:00";

/* ---- small helpers ----------------------------------------------------- */

/* Floor division for b > 0: rounds toward minus infinity, unlike `/`. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b < 0)
        q--;
    return q;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Length of a valid, printable UTF-8 sequence at p, or 0.  C1 controls
 * (U+0080-U+009F) count as unprintable: some terminals obey them.
 */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n, i;

    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    for (i = 1; i < n; i++)     /* stops at the NUL too: 0x00 is no 10xxxxxx */
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xC2 && p[1] < 0xA0) || (c == 0xE0 && p[1] < 0xA0) ||
        (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

/* Room for QUOTE_SHOWN bytes escaped as \xNN, the quotes, "..." and NUL. */
typedef struct quoted {
    char s[QUOTE_SHOWN * 4 + 16];
} quoted;

/*
 * The input as it goes into a message: in double quotes, cut after about
 * QUOTE_SHOWN bytes, control and invalid bytes as \xNN, so that whatever an
 * officer or an attacker typed stays on one harmless line.
 */
static const char *quote(const char *in, quoted *q)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, shown = 0;

    q->s[o++] = '"';
    while (*p && shown < QUOTE_SHOWN) {
        size_t n = *p >= 0x80 ? utf8_len(p) : 0;

        if (n > 0) {
            memcpy(q->s + o, p, n);
            o += n, p += n, shown += n;
        } else if (*p < 0x20 || *p >= 0x7F) {
            snprintf(q->s + o, 5, "\\x%02X", (unsigned)*p);
            o += 4, p++, shown++;
        } else {
            if (*p == '"' || *p == '\\')
                q->s[o++] = '\\';
            q->s[o++] = (char)*p++;
            shown++;
        }
    }
    if (*p) {
        memcpy(q->s + o, "...", 3);
        o += 3;
    }
    q->s[o++] = '"';
    q->s[o] = '\0';
    return q->s;
}

/* A cursor over [p, end) of the string that starts at `start`. */
typedef struct scan {
    const char *p, *end, *start;
} scan;

static bool sc_eof(const scan *sc)
{
    return sc->p >= sc->end;
}

static bool sc_peek(const scan *sc, char c)
{
    return sc->p < sc->end && *sc->p == c;
}

static bool sc_take(scan *sc, char c)
{
    if (!sc_peek(sc, c))
        return false;
    sc->p++;
    return true;
}

static int sc_count_digits(const scan *sc)
{
    const char *q = sc->p;

    while (q < sc->end && is_digit(*q))
        q++;
    return (int)(q - sc->p);
}

/* Read a number of min..max digits (max <= 9); false, unmoved, otherwise. */
static bool sc_num(scan *sc, int min, int max, int *v)
{
    int n = sc_count_digits(sc), i, x = 0;

    if (n < min || n > max)
        return false;
    for (i = 0; i < n; i++)
        x = x * 10 + (*sc->p++ - '0');
    *v = x;
    return true;
}

/* 1-based byte position of the cursor, for messages. */
static int sc_pos(const scan *sc)
{
    return (int)(sc->p - sc->start) + 1;
}

/* Refuse inputs over INPUT_MAX bytes; *len is the length of the rest. */
static bb_err check_length(const char *s, size_t *len, enum bb_lang lang,
                           bb_errbuf *eb)
{
    quoted q;

    *len = strnlen(s, INPUT_MAX + 1);
    if (*len > INPUT_MAX)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: too long (over %d characters)",
                            "%s：太長（超過 %d 個字元）"), quote(s, &q), INPUT_MAX);
    return BB_OK;
}

/* Narrow [*b, *e) to exclude leading and trailing blanks. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_blank(**b))
        (*b)++;
    while (*e > *b && is_blank((*e)[-1]))
        (*e)--;
}

/* The input, length-checked, as a trimmed slice [*b, *e). */
static bb_err slice_input(const char *s, const char **b, const char **e,
                          enum bb_lang lang, bb_errbuf *eb)
{
    size_t len;
    bb_err rc;

    if ((rc = check_length(s, &len, lang, eb)) != BB_OK)
        return rc;
    *b = s;
    *e = s + len;
    trim(b, e);
    return BB_OK;
}

/* ---- calendar ---------------------------------------------------------- */

bool bb_is_leap_year(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && bb_is_leap_year(y) ? 29 : dim[m - 1];
}

/*
 * Hinnant's days_from_civil: count from 0000-03-01 in 400-year eras of
 * 146097 days, with March as the first month so that Feb 29 is the last day
 * of a year.  Done in int64_t with the month normalised first, so any int
 * arguments are fine.
 */
int64_t bb_days_from_civil(int y, int m, int d)
{
    int64_t carry = floor_div((int64_t)m - 1, 12);
    int64_t yy = (int64_t)y + carry;
    int64_t mm = (int64_t)m - 12 * carry;             /* 1..12 */
    int64_t era, yoe, doy, doe;

    yy -= mm <= 2;
    era = floor_div(yy, 400);
    yoe = yy - era * 400;                             /* 0..399 */
    doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5; /* Mar 1 = 0 */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;      /* 0..146096 */
    return era * 146097 + doe - 719468 + ((int64_t)d - 1);
}

/* Hinnant's civil_from_days, for |z| <= CIVIL_DAYS_LIMIT. */
static void civil(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

bb_err bb_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t yy;
    int mm, dd;

    if (!y || !m || !d)
        return BB_ERR_INTERNAL;
    if (days < -CIVIL_DAYS_LIMIT || days > CIVIL_DAYS_LIMIT)
        return BB_ERR_INVALID;
    civil(days, &yy, &mm, &dd);
    *y = (int)yy;
    *m = mm;
    *d = dd;
    return BB_OK;
}

/*
 * floor((unix_s + 8 h) / 1 day), computed from the truncated quotient and
 * remainder so that neither unix_s + 8 h nor q * DAY_S can overflow at the
 * ends of the int64_t range.
 */
int64_t bb_taipei_day(int64_t unix_s)
{
    int64_t q = unix_s / DAY_S, r = unix_s % DAY_S;

    if (r < 0) {
        q--;
        r += DAY_S;                                   /* now 0..86399 */
    }
    return r + TAIPEI_S >= DAY_S ? q + 1 : q;
}

bb_err bb_taipei_date(int64_t unix_s, int *y, int *m, int *d)
{
    return bb_civil_from_days(bb_taipei_day(unix_s), y, m, d);
}

bb_err bb_roc_format_date(int64_t unix_s, char out[BB_ROC_DATE_MAX])
{
    int y, m, d, r;

    if (!out)
        return BB_ERR_INTERNAL;
    out[0] = '\0';
    if (bb_taipei_date(unix_s, &y, &m, &d) != BB_OK || y <= ROC_BASE)
        return BB_ERR_INVALID;
    r = snprintf(out, BB_ROC_DATE_MAX, "%d/%02d/%02d", y - ROC_BASE, m, d);
    if (r < 0 || r >= BB_ROC_DATE_MAX) {
        out[0] = '\0';
        return BB_ERR_INVALID;      /* a year beyond ROC 99999999 */
    }
    return BB_OK;
}

/* ---- instants ---------------------------------------------------------- */

int64_t bb_time_now(void)
{
    struct timespec ts;

    /* CLOCK_REALTIME cannot fail on Linux; time() is the belt and braces. */
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

/* Instants whose UTC date lies in years 0000-9999. */
static bool unix_in_range(int64_t t)
{
    return t >= bb_days_from_civil(0, 1, 1) * DAY_S &&
           t < bb_days_from_civil(10000, 1, 1) * DAY_S;
}

bb_err bb_time_format(int64_t unix_s, int offset_min, char out[BB_TIME_MAX])
{
    int64_t local, day, sod, y;
    int m, d, r, a;

    if (!out)
        return BB_ERR_INTERNAL;
    out[0] = '\0';
    if (offset_min < -OFFSET_MAX_MIN || offset_min > OFFSET_MAX_MIN ||
        !unix_in_range(unix_s))
        return BB_ERR_INVALID;
    local = unix_s + (int64_t)offset_min * 60;
    day = floor_div(local, DAY_S);
    sod = local - day * DAY_S;
    civil(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        return BB_ERR_INVALID;
    if (offset_min == 0) {
        r = snprintf(out, BB_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                     (int)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                     (int)(sod % 60));
    } else {
        a = offset_min < 0 ? -offset_min : offset_min;
        r = snprintf(out, BB_TIME_MAX,
                     "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                     (int)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                     (int)(sod % 60), offset_min < 0 ? '-' : '+', a / 60,
                     a % 60);
    }
    if (r < 0 || r >= BB_TIME_MAX) {
        out[0] = '\0';
        return BB_ERR_INTERNAL;
    }
    return BB_OK;
}

bb_err bb_time_now_taipei(char out[BB_TIME_MAX])
{
    return bb_time_format(bb_time_now(), BB_TAIPEI_OFFSET_MIN, out);
}

static bb_err check_date(const char *s, int y, int m, int d, enum bb_lang lang,
                         bb_errbuf *eb)
{
    quoted q;

    if (m < 1 || m > 12)
        return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: month %d is not 1-12",
                                                "%s：沒有 %d 月（月份為 1-12）"),
                       quote(s, &q), m);
    if (d < 1 || d > days_in_month(y, m))
        return lang == BB_LANG_EN
                   ? bb_fail(eb, BB_ERR_INVALID, "%s: day %d does not exist in %04d-%02d",
                             quote(s, &q), d, y, m)
                   : bb_fail(eb, BB_ERR_INVALID, "%s：%04d-%02d 沒有 %d 日", quote(s, &q), y,
                             m, d);
    return BB_OK;
}

static bb_err check_clock(const char *s, int h, int mi, int sec, enum bb_lang lang,
                          bb_errbuf *eb)
{
    quoted q;

    if (h > 23)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: hour %d is not 0-23 (midnight is 00:00 of the next day)",
                            "%s：沒有 %d 時（時為 0-23；午夜 12 點是隔天的 00:00）"),
                       quote(s, &q), h);
    if (mi > 59)
        return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: minute %d is not 0-59",
                                                "%s：沒有 %d 分（分為 0-59）"),
                       quote(s, &q), mi);
    if (sec == 60)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: second 60 (a leap second) cannot be stored; use 59",
                            "%s：無法儲存第 60 秒（閏秒）；請用 59"), quote(s, &q));
    if (sec > 60)
        return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: second %d is not 0-59",
                                                "%s：沒有 %d 秒（秒為 0-59）"),
                       quote(s, &q), sec);
    return BB_OK;
}

/* An optional ".digits" after the seconds; the digits are dropped. */
static bool skip_fraction(scan *sc)
{
    int n;

    if (!sc_peek(sc, '.'))
        return true;
    sc->p++;
    n = sc_count_digits(sc);
    if (n < 1 || n > FRACTION_DIGITS_MAX)
        return false;
    sc->p += n;
    return true;
}

/*
 * "Z", "z" or "+HH:MM"/"-HH:MM" at the cursor.  The caller has checked that
 * one of Z, z, + or - is there; anything malformed after it is an error.
 */
static bb_err parse_offset(const char *s, scan *sc, int *off, enum bb_lang lang,
                           bb_errbuf *eb)
{
    int sign, h, mi;
    quoted q;

    if (sc_take(sc, 'Z') || sc_take(sc, 'z')) {
        *off = 0;
        return BB_OK;
    }
    sign = *sc->p++ == '-' ? -1 : 1;
    if (!sc_num(sc, 2, 2, &h) || !sc_take(sc, ':') || !sc_num(sc, 2, 2, &mi))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: the UTC offset must be +HH:MM or -HH:MM (e.g. +08:00), or Z",
                            "%s：時區須為 +HH:MM 或 -HH:MM（例如 +08:00），或 Z"),
                       quote(s, &q));
    if (mi > 59 || h * 60 + mi > OFFSET_MAX_MIN)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: offset %c%02d:%02d is not within -14:00..+14:00",
                            "%s：時區 %c%02d:%02d 不在 -14:00..+14:00 之間"),
                       quote(s, &q), sign < 0 ? '-' : '+', h, mi);
    *off = sign * (h * 60 + mi);
    return BB_OK;
}

static bool offset_ahead(const scan *sc)
{
    return sc_peek(sc, 'Z') || sc_peek(sc, 'z') || sc_peek(sc, '+') ||
           sc_peek(sc, '-');
}

/* what: what was expected, in lang. */
static bb_err strict_syntax(const char *s, const scan *sc, const char *what,
                            enum bb_lang lang, bb_errbuf *eb)
{
    quoted q;

    if (lang != BB_LANG_EN) {
        if (sc_eof(sc))
            return bb_fail(eb, BB_ERR_INVALID, "%s：應有%s，但文字已結束；格式為 %s",
                           quote(s, &q), what, RFC3339_FORM_ZH);
        return bb_fail(eb, BB_ERR_INVALID, "%s：第 %d 個字元應為%s；格式為 %s",
                       quote(s, &q), sc_pos(sc), what, RFC3339_FORM_ZH);
    }
    if (sc_eof(sc))
        return bb_fail(eb, BB_ERR_INVALID, "%s: expected %s but the text ends; "
                       "the form is %s", quote(s, &q), what, RFC3339_FORM);
    return bb_fail(eb, BB_ERR_INVALID, "%s: expected %s at character %d; "
                   "the form is %s", quote(s, &q), what, sc_pos(sc),
                   RFC3339_FORM);
}

/* Strict RFC 3339 over the slice in sc; s is the whole input, for messages. */
static bb_err parse_rfc3339(const char *s, scan *sc, int64_t *unix_s,
                            int *offset_min, enum bb_lang lang, bb_errbuf *eb)
{
    int y, m, d, h, mi, sec, off;
    bb_err rc;
    quoted q;

    if (!sc_num(sc, 4, 4, &y))
        return strict_syntax(s, sc, BB_L(lang, "a 4-digit year", " 4 位數的年份"), lang, eb);
    if (!sc_take(sc, '-') || !sc_num(sc, 2, 2, &m))
        return strict_syntax(s, sc, BB_L(lang, "'-' and a 2-digit month", "「-」和 2 位數的月份"),
                             lang, eb);
    if (!sc_take(sc, '-') || !sc_num(sc, 2, 2, &d))
        return strict_syntax(s, sc, BB_L(lang, "'-' and a 2-digit day", "「-」和 2 位數的日"),
                             lang, eb);
    if ((rc = check_date(s, y, m, d, lang, eb)) != BB_OK)
        return rc;
    if (!sc_take(sc, 'T') && !sc_take(sc, 't'))
        return strict_syntax(s, sc, BB_L(lang, "'T' between date and time",
                                         "日期與時間之間的「T」"), lang, eb);
    if (!sc_num(sc, 2, 2, &h))
        return strict_syntax(s, sc, BB_L(lang, "a 2-digit hour", " 2 位數的時"), lang, eb);
    if (!sc_take(sc, ':') || !sc_num(sc, 2, 2, &mi))
        return strict_syntax(s, sc, BB_L(lang, "':' and 2-digit minutes", "「:」和 2 位數的分"),
                             lang, eb);
    if (!sc_take(sc, ':') || !sc_num(sc, 2, 2, &sec))
        return strict_syntax(s, sc, BB_L(lang, "':' and 2-digit seconds", "「:」和 2 位數的秒"),
                             lang, eb);
    if ((rc = check_clock(s, h, mi, sec, lang, eb)) != BB_OK)
        return rc;
    if (!skip_fraction(sc))
        return strict_syntax(s, sc, BB_L(lang, "1-9 digits of a fraction of a second",
                                         " 1-9 位數的秒小數"), lang, eb);
    if (sc_eof(sc))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: no UTC offset; add one, e.g. \"+08:00\" for Taipei "
                                  "time or \"Z\" for UTC",
                            "%s：沒有時區；請加上，例如臺北時間「+08:00」或世界標準時間「Z」"),
                       quote(s, &q));
    if (!offset_ahead(sc))
        return strict_syntax(s, sc, BB_L(lang, "Z or an offset like +08:00",
                                         " Z 或時區（例如 +08:00）"), lang, eb);
    if ((rc = parse_offset(s, sc, &off, lang, eb)) != BB_OK)
        return rc;
    if (!sc_eof(sc))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: unexpected text after the offset at character %d",
                            "%s：時區後面第 %d 個字元起有多餘的文字"), quote(s, &q), sc_pos(sc));
    *unix_s = bb_days_from_civil(y, m, d) * DAY_S + h * 3600 + mi * 60 + sec -
              (int64_t)off * 60;
    if (offset_min)
        *offset_min = off;
    return BB_OK;
}

bb_err bb_time_parse(const char *s, int64_t *unix_s, int *offset_min,
                     bb_errbuf *eb)
{
    return bb_time_parse_lang(s, BB_LANG_EN, unix_s, offset_min, eb);
}

bb_err bb_time_parse_lang(const char *s, enum bb_lang lang, int64_t *unix_s,
                          int *offset_min, bb_errbuf *eb)
{
    size_t len;
    scan sc;
    bb_err rc;

    if (!s || !unix_s)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_time_parse: NULL argument");
    if ((rc = check_length(s, &len, lang, eb)) != BB_OK)
        return rc;
    /* Strict: no trimming, blanks are not part of RFC 3339. */
    sc = (scan){ s, s + len, s };
    return parse_rfc3339(s, &sc, unix_s, offset_min, lang, eb);
}

/*
 * The digits of a year as a Gregorian year: 4 digits are Gregorian, 1-3
 * are ROC.  Both must land in YEAR_FIRST..YEAR_LAST.
 */
static bb_err year_from_digits(const char *s, int ndigits, int v, int *y,
                               enum bb_lang lang, bb_errbuf *eb)
{
    quoted q;

    if (ndigits == 4) {
        if (v < YEAR_FIRST || v > YEAR_LAST)
            return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: year %d is outside %d-%d",
                                                    "%s：%d 年不在 %d-%d 年之間"),
                           quote(s, &q), v, YEAR_FIRST, YEAR_LAST);
        *y = v;
        return BB_OK;
    }
    if (v < 1 || v > ROC_LAST)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: ROC year %d is outside 1-%d (write Gregorian years "
                                  "with 4 digits)",
                            "%s：民國 %d 年不在 1-%d 年之間（西元年請寫 4 位數）"),
                       quote(s, &q), v, ROC_LAST);
    *y = v + ROC_BASE;
    return BB_OK;
}

/* A year of 1-4 digits at the cursor (see year_from_digits). */
static bb_err scan_year(const char *s, scan *sc, int *y, enum bb_lang lang, bb_errbuf *eb)
{
    int n = sc_count_digits(sc), v;
    quoted q;

    if (n > 4)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: a year has 4 digits (2018) or, in the ROC calendar, "
                                  "1-3 (107)",
                            "%s：西元年為 4 位數（2018），民國年為 1-3 位數（107）"),
                       quote(s, &q));
    if (!sc_num(sc, 1, 4, &v))
        return BB_ERR_INVALID;          /* caller checked there are digits */
    return year_from_digits(s, n, v, y, lang, eb);
}

static bb_err loose_syntax(const char *s, const scan *sc, enum bb_lang lang, bb_errbuf *eb)
{
    quoted q;

    if (lang != BB_LANG_EN) {
        if (sc_eof(sc))
            return bb_fail(eb, BB_ERR_INVALID, "%s：日期或時間不完整；%s", quote(s, &q),
                           LOOSE_FORMS_ZH);
        return bb_fail(eb, BB_ERR_INVALID, "%s：不是日期時間（第 %d 個字元）；%s",
                       quote(s, &q), sc_pos(sc), LOOSE_FORMS_ZH);
    }
    if (sc_eof(sc))
        return bb_fail(eb, BB_ERR_INVALID, "%s: incomplete date or time; %s",
                       quote(s, &q), LOOSE_FORMS);
    return bb_fail(eb, BB_ERR_INVALID, "%s: not a date and time (at character "
                   "%d); %s", quote(s, &q), sc_pos(sc), LOOSE_FORMS);
}

/* H[H]:MM[:SS[.fraction]] -> seconds into the day. */
static bb_err loose_clock(const char *s, scan *sc, int *secs, enum bb_lang lang,
                          bb_errbuf *eb)
{
    int h, mi, sec = 0;
    bb_err rc;

    if (!sc_num(sc, 1, 2, &h) || !sc_take(sc, ':') || !sc_num(sc, 2, 2, &mi))
        return loose_syntax(s, sc, lang, eb);
    if (sc_take(sc, ':')) {
        if (!sc_num(sc, 2, 2, &sec) || !skip_fraction(sc))
            return loose_syntax(s, sc, lang, eb);
    }
    if ((rc = check_clock(s, h, mi, sec, lang, eb)) != BB_OK)
        return rc;
    *secs = h * 3600 + mi * 60 + sec;
    return BB_OK;
}

bb_err bb_time_parse_loose(const char *s, int64_t now, int64_t *unix_s,
                           int *offset_min, bb_errbuf *eb)
{
    return bb_time_parse_loose_lang(s, now, BB_LANG_EN, unix_s, offset_min, eb);
}

bb_err bb_time_parse_loose_lang(const char *s, int64_t now, enum bb_lang lang,
                                int64_t *unix_s, int *offset_min, bb_errbuf *eb)
{
    const char *b, *e;
    int y, m, d, secs = 0, off = BB_TAIPEI_OFFSET_MIN, n;
    int64_t t;
    char sep;
    scan sc;
    bb_err rc;
    quoted q;

    if (!s || !unix_s)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_time_parse_loose: NULL argument");
    if ((rc = slice_input(s, &b, &e, lang, eb)) != BB_OK)
        return rc;
    if (b == e)
        return lang == BB_LANG_EN
                   ? bb_fail(eb, BB_ERR_INVALID, "%s: empty; %s", quote(s, &q), LOOSE_FORMS)
                   : bb_fail(eb, BB_ERR_INVALID, "%s：空白；%s", quote(s, &q), LOOSE_FORMS_ZH);
    sc = (scan){ b, e, s };

    /* A full RFC 3339 timestamp is taken as it is, whatever its year. */
    if (parse_rfc3339(s, &sc, &t, &off, lang, NULL) == BB_OK) {
        *unix_s = t;
        if (offset_min)
            *offset_min = off;
        return BB_OK;
    }
    sc.p = b;
    off = BB_TAIPEI_OFFSET_MIN;

    if (e - b == 3 && (b[0] | 0x20) == 'n' && (b[1] | 0x20) == 'o' &&
        (b[2] | 0x20) == 'w') {
        t = now;
    } else {
        n = sc_count_digits(&sc);
        if (n == 0 || n >= e - b)
            return loose_syntax(s, &sc, lang, eb);
        sep = b[n];
        if (sep == ':') {
            /* A time alone: today, in Taipei, relative to now. */
            if ((rc = loose_clock(s, &sc, &secs, lang, eb)) != BB_OK)
                return rc;
            if (!sc_eof(&sc))
                return loose_syntax(s, &sc, lang, eb);
            if (!unix_in_range(now))
                return bb_fail(eb, BB_ERR_INVALID,
                               BB_L(lang, "%s: the current time (%" PRId64 ") is outside "
                                          "years 0000-9999",
                                    "%s：目前時間（%" PRId64 "）不在 0000-9999 年之間"),
                               quote(s, &q), now);
            t = bb_taipei_day(now) * DAY_S - TAIPEI_S + secs;
        } else if (sep == '-' || sep == '/') {
            if ((rc = scan_year(s, &sc, &y, lang, eb)) != BB_OK)
                return rc;
            sc.p++;                                 /* the separator */
            if (!sc_num(&sc, 1, 2, &m) || !sc_take(&sc, sep) ||
                !sc_num(&sc, 1, 2, &d))
                return loose_syntax(s, &sc, lang, eb);
            if ((rc = check_date(s, y, m, d, lang, eb)) != BB_OK)
                return rc;
            if (!sc_eof(&sc)) {
                if (sc_take(&sc, 'T') || sc_take(&sc, 't')) {
                    /* 2018-03-15T14:20 */
                } else if (is_blank(*sc.p)) {
                    while (!sc_eof(&sc) && is_blank(*sc.p))
                        sc.p++;
                } else {
                    return loose_syntax(s, &sc, lang, eb);
                }
                if ((rc = loose_clock(s, &sc, &secs, lang, eb)) != BB_OK)
                    return rc;
                if (offset_ahead(&sc) &&
                    (rc = parse_offset(s, &sc, &off, lang, eb)) != BB_OK)
                    return rc;
                if (!sc_eof(&sc))
                    return loose_syntax(s, &sc, lang, eb);
            }
            t = bb_days_from_civil(y, m, d) * DAY_S + secs - (int64_t)off * 60;
        } else {
            sc.p += n;
            return loose_syntax(s, &sc, lang, eb);
        }
    }
    if (!unix_in_range(t))
        return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: outside years 0000-9999",
                                                "%s：不在 0000-9999 年之間"),
                       quote(s, &q));
    *unix_s = t;
    if (offset_min)
        *offset_min = off;
    return BB_OK;
}

/* ---- periods ----------------------------------------------------------- */

static int64_t domain_first(void)
{
    return bb_days_from_civil(YEAR_FIRST, 1, 1);
}

static int64_t domain_end(void)
{
    return bb_days_from_civil(YEAR_LAST + 1, 1, 1);
}

static bool days_valid(int64_t from, int64_t to)
{
    return from < to && from >= domain_first() && to <= domain_end();
}

static bool period_valid(const bb_period *p)
{
    return p && days_valid(p->from_day, p->to_day);
}

/* A period's date, for days inside the domain (civil cannot fail there). */
static void date_of(int64_t day, int *y, int *m, int *d)
{
    int64_t yy;

    civil(day, &yy, m, d);
    *y = (int)yy;
}

/*
 * Kind and label of [from, to), Gregorian or ROC.  The kind depends only on
 * the days, which is what makes labels canonical.
 */
static bb_err period_label(int64_t from, int64_t to, bool roc,
                           bb_period_kind *kind, char out[BB_PERIOD_LABEL_MAX])
{
    int y1, m1, d1, y2, m2, d2, yl, ml, dl, months, r;
    bb_period_kind k;

    date_of(from, &y1, &m1, &d1);
    date_of(to, &y2, &m2, &d2);
    date_of(to - 1, &yl, &ml, &dl);                   /* the last day */
    months = (y2 * 12 + m2) - (y1 * 12 + m1);
    if (roc) {
        y1 -= ROC_BASE, y2 -= ROC_BASE, yl -= ROC_BASE;
    }
    if (to - from == 1) {
        k = BB_PERIOD_DAY;
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%d/%02d/%02d", y1, m1, d1)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04d-%02d-%02d", y1, m1, d1);
    } else if (d1 != 1 || d2 != 1) {
        k = BB_PERIOD_RANGE;
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%d/%02d/%02d..%d/%02d/%02d",
                           y1, m1, d1, yl, ml, dl)
                : snprintf(out, BB_PERIOD_LABEL_MAX,
                           "%04d-%02d-%02d..%04d-%02d-%02d", y1, m1, d1, yl, ml, dl);
    } else if (months == 1) {
        k = BB_PERIOD_MONTH;
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%d-%02d", y1, m1)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04d-%02d", y1, m1);
    } else if (months == 3 && m1 % 3 == 1) {
        k = BB_PERIOD_QUARTER;
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%dQ%d", y1, (m1 + 2) / 3)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04dQ%d", y1, (m1 + 2) / 3);
    } else if (months == 6 && (m1 == 1 || m1 == 7)) {
        k = BB_PERIOD_HALF;
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%dH%d", y1, m1 == 1 ? 1 : 2)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04dH%d", y1, m1 == 1 ? 1 : 2);
    } else if (months == 12 && m1 == 1) {
        k = BB_PERIOD_YEAR;
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%d", y1)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04d", y1);
    } else if (m1 == 1 && m2 == 1) {
        k = BB_PERIOD_RANGE;                          /* whole years */
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%d..%d", y1, yl)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04d..%04d", y1, yl);
    } else {
        k = BB_PERIOD_RANGE;                          /* whole months */
        r = roc ? snprintf(out, BB_PERIOD_LABEL_MAX, "%d-%02d..%d-%02d",
                           y1, m1, yl, ml)
                : snprintf(out, BB_PERIOD_LABEL_MAX, "%04d-%02d..%04d-%02d",
                           y1, m1, yl, ml);
    }
    if (r < 0 || r >= BB_PERIOD_LABEL_MAX) {
        out[0] = '\0';
        return BB_ERR_INTERNAL;     /* cannot happen for years 1912-2200 */
    }
    if (kind)
        *kind = k;
    return BB_OK;
}

bb_err bb_period_from_days(int64_t from_day, int64_t to_day, bb_period *p,
                           bb_errbuf *eb)
{
    bb_period tmp;
    bb_err rc;

    if (!p)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_period_from_days: NULL argument");
    if (from_day >= to_day)
        return bb_fail(eb, BB_ERR_INVALID, "period of days [%" PRId64 ", %"
                       PRId64 "): empty", from_day, to_day);
    if (!days_valid(from_day, to_day))
        return bb_fail(eb, BB_ERR_INVALID, "period of days [%" PRId64 ", %"
                       PRId64 "): outside the years %d-%d", from_day, to_day,
                       YEAR_FIRST, YEAR_LAST);
    tmp.from_day = from_day;
    tmp.to_day = to_day;
    if ((rc = period_label(from_day, to_day, false, &tmp.kind, tmp.label)) != BB_OK)
        return bb_fail(eb, rc, "period of days [%" PRId64 ", %" PRId64 "): "
                       "label does not fit", from_day, to_day);
    *p = tmp;
    return BB_OK;
}

static bb_err period_syntax(const char *s, const scan *sc, enum bb_lang lang,
                            bb_errbuf *eb)
{
    quoted q;

    if (lang != BB_LANG_EN) {
        if (sc_eof(sc))
            return bb_fail(eb, BB_ERR_INVALID, "%s：期間不完整；%s", quote(s, &q),
                           PERIOD_FORMS_ZH);
        return bb_fail(eb, BB_ERR_INVALID, "%s：不是期間（第 %d 個字元）；%s", quote(s, &q),
                       sc_pos(sc), PERIOD_FORMS_ZH);
    }
    if (sc_eof(sc))
        return bb_fail(eb, BB_ERR_INVALID, "%s: incomplete period; %s",
                       quote(s, &q), PERIOD_FORMS);
    return bb_fail(eb, BB_ERR_INVALID, "%s: not a period (at character %d); %s",
                   quote(s, &q), sc_pos(sc), PERIOD_FORMS);
}

/*
 * One of year, half, quarter, month, day in [b, e) (already trimmed): its
 * first day, first day after it, and which form it was written in.
 */
static bb_err parse_single(const char *s, const char *b, const char *e,
                           int64_t *from, int64_t *to, bb_period_kind *kind,
                           enum bb_lang lang, bb_errbuf *eb)
{
    scan sc = { b, e, s };
    int y, m, d, x;
    char c;
    bb_err rc;
    quoted q;

    if (sc_count_digits(&sc) == 0)
        return period_syntax(s, &sc, lang, eb);
    if ((rc = scan_year(s, &sc, &y, lang, eb)) != BB_OK)
        return rc;
    if (sc_eof(&sc)) {
        *from = bb_days_from_civil(y, 1, 1);
        *to = bb_days_from_civil(y + 1, 1, 1);
        *kind = BB_PERIOD_YEAR;
        return BB_OK;
    }
    c = *sc.p++;
    if (c == 'H' || c == 'h' || c == 'Q' || c == 'q') {
        bool half = c == 'H' || c == 'h';

        if (!sc_num(&sc, 1, 2, &x) || !sc_eof(&sc))
            return period_syntax(s, &sc, lang, eb);
        if (half && (x < 1 || x > 2))
            return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: half %d is not 1 or 2",
                                                    "%s：沒有第 %d 個半年（應為 1 或 2）"),
                           quote(s, &q), x);
        if (!half && (x < 1 || x > 4))
            return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: quarter %d is not 1-4",
                                                    "%s：沒有第 %d 季（應為 1-4）"),
                           quote(s, &q), x);
        m = half ? 6 * (x - 1) + 1 : 3 * (x - 1) + 1;
        *from = bb_days_from_civil(y, m, 1);
        *to = bb_days_from_civil(y, m + (half ? 6 : 3), 1);
        *kind = half ? BB_PERIOD_HALF : BB_PERIOD_QUARTER;
        return BB_OK;
    }
    if (c != '-' && c != '/') {
        sc.p--;
        return period_syntax(s, &sc, lang, eb);
    }
    if (!sc_num(&sc, 1, 2, &m))
        return period_syntax(s, &sc, lang, eb);
    if (m < 1 || m > 12)
        return bb_fail(eb, BB_ERR_INVALID, BB_L(lang, "%s: month %d is not 1-12",
                                                "%s：沒有 %d 月（月份為 1-12）"),
                       quote(s, &q), m);
    if (sc_eof(&sc)) {
        *from = bb_days_from_civil(y, m, 1);
        *to = bb_days_from_civil(y, m + 1, 1);
        *kind = BB_PERIOD_MONTH;
        return BB_OK;
    }
    if (!sc_take(&sc, c) || !sc_num(&sc, 1, 2, &d) || !sc_eof(&sc))
        return period_syntax(s, &sc, lang, eb);
    if ((rc = check_date(s, y, m, d, lang, eb)) != BB_OK)
        return rc;
    *from = bb_days_from_civil(y, m, d);
    *to = *from + 1;
    *kind = BB_PERIOD_DAY;
    return BB_OK;
}

/* The first occurrence of the two bytes "xy" in [b, e), or NULL. */
static const char *find2(const char *b, const char *e, char x, char y)
{
    for (; e - b >= 2; b++)
        if (b[0] == x && b[1] == y)
            return b;
    return NULL;
}

/* [FROM,TO) with day dates; b..e is trimmed and starts with '['. */
static bb_err parse_explicit(const char *s, const char *b, const char *e,
                             int64_t *from, int64_t *to, enum bb_lang lang, bb_errbuf *eb)
{
    const char *comma, *q1, *q2;
    int64_t f1, t1, f2, t2;
    bb_period_kind k1, k2;
    bb_err rc;
    quoted q;

    if (e[-1] == ']')
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: the explicit form is half-open, [FROM,TO) with the day "
                                  "TO excluded; end it with ')'",
                            "%s：明確寫法為半開區間 [FROM,TO)，不含 TO 那天；請以「)」結尾"),
                       quote(s, &q));
    comma = memchr(b, ',', (size_t)(e - b));
    if (e - b < 2 || e[-1] != ')' || !comma ||
        memchr(comma + 1, ',', (size_t)(e - comma - 1)))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: the explicit form is [FROM,TO) with two days, e.g. "
                                  "[2018-01-01,2018-07-01)",
                            "%s：明確寫法為兩個日期組成的 [FROM,TO)，例如 [2018-01-01,2018-07-01)"),
                       quote(s, &q));
    q1 = b + 1, q2 = comma;
    trim(&q1, &q2);
    if ((rc = parse_single(s, q1, q2, &f1, &t1, &k1, lang, eb)) != BB_OK)
        return rc;
    q1 = comma + 1, q2 = e - 1;
    trim(&q1, &q2);
    if ((rc = parse_single(s, q1, q2, &f2, &t2, &k2, lang, eb)) != BB_OK)
        return rc;
    if (k1 != BB_PERIOD_DAY || k2 != BB_PERIOD_DAY)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: both ends of [FROM,TO) must be days, e.g. "
                                  "[2018-01-01,2018-07-01)",
                            "%s：[FROM,TO) 的兩端都必須是日期，例如 [2018-01-01,2018-07-01)"),
                       quote(s, &q));
    *from = f1;
    *to = f2;
    return BB_OK;
}

bb_err bb_period_parse(const char *s, bb_period *p, bb_errbuf *eb)
{
    return bb_period_parse_lang(s, BB_LANG_EN, p, eb);
}

bb_err bb_period_parse_lang(const char *s, enum bb_lang lang, bb_period *p, bb_errbuf *eb)
{
    const char *b, *e, *dots;
    int64_t from, to, f2, t2;
    bb_period_kind kind;
    bb_err rc;
    quoted q;

    if (!s || !p)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_period_parse: NULL argument");
    if ((rc = slice_input(s, &b, &e, lang, eb)) != BB_OK)
        return rc;
    if (b == e)
        return lang == BB_LANG_EN
                   ? bb_fail(eb, BB_ERR_INVALID, "%s: no period given; %s", quote(s, &q),
                             PERIOD_FORMS)
                   : bb_fail(eb, BB_ERR_INVALID, "%s：沒有給期間；%s", quote(s, &q),
                             PERIOD_FORMS_ZH);
    if (*b == '[') {
        rc = parse_explicit(s, b, e, &from, &to, lang, eb);
    } else if ((dots = find2(b, e, '.', '.')) != NULL) {
        const char *lb = b, *le = dots, *rb = dots + 2, *re = e;

        trim(&lb, &le);
        trim(&rb, &re);
        if (lb == le || rb == re)
            return bb_fail(eb, BB_ERR_INVALID,
                           BB_L(lang, "%s: a range FROM..TO needs a period on both sides, "
                                      "e.g. 2018-01..2018-03",
                                "%s：區間 FROM..TO 兩邊都要有期間，例如 2018-01..2018-03"),
                           quote(s, &q));
        if ((rc = parse_single(s, lb, le, &from, &t2, &kind, lang, eb)) != BB_OK)
            return rc;
        rc = parse_single(s, rb, re, &f2, &to, &kind, lang, eb);
    } else {
        rc = parse_single(s, b, e, &from, &to, &kind, lang, eb);
    }
    if (rc != BB_OK)
        return rc;
    if (to <= from)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%s: empty period: its end comes before its start",
                            "%s：期間是空的：結束早於開始"), quote(s, &q));
    if ((rc = bb_period_from_days(from, to, p, eb)) != BB_OK)
        bb_errbuf_prefix(eb, "%s", quote(s, &q));   /* cannot fail for parsed ends */
    return rc;
}

bb_err bb_period_roc_label(const bb_period *p, char out[BB_PERIOD_LABEL_MAX])
{
    if (!p || !out)
        return BB_ERR_INTERNAL;
    out[0] = '\0';
    if (!period_valid(p))
        return BB_ERR_INVALID;
    return period_label(p->from_day, p->to_day, true, NULL, out);
}

int64_t bb_period_from_unix(const bb_period *p)
{
    return p ? p->from_day * DAY_S - TAIPEI_S : 0;
}

int64_t bb_period_to_unix(const bb_period *p)
{
    return p ? p->to_day * DAY_S - TAIPEI_S : 0;
}

bool bb_period_contains(const bb_period *p, int64_t unix_s)
{
    int64_t day;

    if (!period_valid(p))
        return false;
    day = bb_taipei_day(unix_s);
    return day >= p->from_day && day < p->to_day;
}

bb_err bb_period_shift_years(const bb_period *p, int years, bb_period *out,
                             bb_errbuf *eb)
{
    int y1, m1, d1, y2, m2, d2;
    int64_t from, to;
    quoted q;

    if (!p || !out)
        return bb_fail(eb, BB_ERR_INTERNAL, "bb_period_shift_years: NULL argument");
    if (!period_valid(p))
        return bb_fail(eb, BB_ERR_INVALID, "shift period: not a valid period");
    /* Past this bound every result is outside the domain; it also keeps
     * the additions below far from int overflow. */
    if (years < -(YEAR_LAST - YEAR_FIRST + 1) || years > YEAR_LAST - YEAR_FIRST + 1)
        goto out_of_range;
    date_of(p->from_day, &y1, &m1, &d1);
    date_of(p->to_day, &y2, &m2, &d2);
    y1 += years;
    y2 += years;
    /* Feb 29 boundaries move outward (see bb_time.h): a start goes back to
     * Feb 28; an end on Feb 29 carries over to Mar 1 in bb_days_from_civil. */
    if (m1 == 2 && d1 == 29 && !bb_is_leap_year(y1))
        d1 = 28;
    from = bb_days_from_civil(y1, m1, d1);
    to = bb_days_from_civil(y2, m2, d2);
    if (!days_valid(from, to))
        goto out_of_range;
    return bb_period_from_days(from, to, out, eb);

out_of_range:
    return bb_fail(eb, BB_ERR_INVALID, "shift period %s by %d years: the "
                   "result leaves the years %d-%d",
                   quote(p->label, &q), years, YEAR_FIRST, YEAR_LAST);
}

int bb_period_month_count(const bb_period *p)
{
    int y1, m1, d1, yl, ml, dl;

    if (!period_valid(p))
        return 0;
    date_of(p->from_day, &y1, &m1, &d1);
    date_of(p->to_day - 1, &yl, &ml, &dl);
    return (yl * 12 + ml) - (y1 * 12 + m1) + 1;
}

bool bb_period_months(const bb_period *p, int *cursor, bb_month_slice *m)
{
    int y1, m1, d1, ym, n;
    int64_t start, end;

    if (!cursor || !m || (n = bb_period_month_count(p)) == 0 ||
        *cursor < 0 || *cursor >= n)
        return false;
    date_of(p->from_day, &y1, &m1, &d1);
    ym = y1 * 12 + (m1 - 1) + *cursor;
    m->year = ym / 12;
    m->month = ym % 12 + 1;
    start = bb_days_from_civil(m->year, m->month, 1);
    end = bb_days_from_civil(m->year, m->month + 1, 1);
    m->from_day = start > p->from_day ? start : p->from_day;
    m->to_day = end < p->to_day ? end : p->to_day;
    m->whole = m->from_day == start && m->to_day == end;
    (*cursor)++;
    return true;
}
