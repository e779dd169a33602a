/*
 * Unit tests for bb_catalog and bb_record: kind definitions are checked when
 * loaded; every field type and constraint validates and coerces as specified.
 * A small test kind exercises each type; the embedded kinds must all load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bb_catalog.h"
#include "bb_exif.h"
#include "bb_json.h"
#include "bb_record.h"

static const char *test_kind =
    "{\"kind\":\"probe\",\"version\":1,\"label\":{\"zh-TW\":\"測試\",\"en\":\"Probe\"},"
    "\"fields\":["
    "{\"name\":\"t\",\"type\":\"text\",\"label\":{\"en\":\"Text\"},\"max_length\":5},"
    "{\"name\":\"i\",\"type\":\"integer\",\"label\":{\"en\":\"Int\"},\"min\":0,\"max\":10},"
    "{\"name\":\"n\",\"type\":\"number\",\"label\":{\"en\":\"Num\"},\"min\":-1.5,\"max\":2.5},"
    "{\"name\":\"b\",\"type\":\"boolean\",\"label\":{\"en\":\"Bool\"}},"
    "{\"name\":\"e\",\"type\":\"enum\",\"label\":{\"en\":\"Enum\",\"zh-TW\":\"列舉\"},\"required\":true,"
    " \"values\":[{\"code\":\"stop\",\"label\":{\"zh-TW\":\"攔停\",\"en\":\"Stopped\"}},"
    "            {\"code\":\"remote\",\"label\":{\"zh-TW\":\"逕行\",\"en\":\"Remote\"}}]},"
    "{\"name\":\"d\",\"type\":\"datetime\",\"label\":{\"en\":\"When\"}},"
    "{\"name\":\"r\",\"type\":\"ref\",\"ref\":\"segments\",\"label\":{\"en\":\"Segment\"},"
    " \"required_if\":{\"field\":\"e\",\"in\":[\"remote\"]}},"
    "{\"name\":\"g\",\"type\":\"geo\",\"label\":{\"en\":\"Where\"}},"
    "{\"name\":\"x\",\"type\":\"integer\",\"label\":{\"en\":\"Needed if b\"},"
    " \"required_if\":{\"field\":\"b\",\"in\":[true]}}"
    "]}";

static bb_catalog *cat;
static const struct bb_kind *kind;

static int setup(void **state)
{
    bb_errbuf eb;
    (void)state;
    if (bb_catalog_load_embedded(&cat, &eb) != BB_OK)
        return -1;
    if (bb_catalog_add_kind(cat, test_kind, strlen(test_kind), "probe.json", &eb) != BB_OK)
        return -1;
    kind = bb_catalog_kind(cat, "probe");
    return kind ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bb_catalog_free(cat);
    return 0;
}

/* Check data given as JSON text; return the code and keep the message. */
static bb_err check(const char *data_json, bb_errbuf *eb)
{
    cJSON *d;
    bb_err err;
    assert_int_equal(bb_json_parse(data_json, strlen(data_json), "t", &d, NULL), BB_OK);
    err = bb_record_check_data(cat, kind, d, BB_LANG_EN, eb);
    cJSON_Delete(d);
    return err;
}

static void test_embedded_kinds_load(void **state)
{
    static const char *const kinds[] = {"patrol", "traffic_accident", "intersection_duty",
                                        "parking_citation", "roadworks_inspection",
                                        "community_event", "criminal_case", "case_clearance",
                                        "complaint"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_non_null(bb_catalog_kind(cat, kinds[i]));
    assert_int_equal(bb_catalog_ref_count(cat, "intersections"), 25);
    assert_int_equal(bb_catalog_ref_count(cat, "bikepaths"), 3);
    assert_non_null(bb_catalog_ref(cat, "units", "TC"));
    assert_true(bb_catalog_unit_within(cat, "P06-S03", "P06"));
    assert_true(bb_catalog_unit_within(cat, "P06-S03", "TC"));
    assert_false(bb_catalog_unit_within(cat, "P06-S03", "P01"));
}

static void test_valid_data(void **state)
{
    bb_errbuf eb;
    (void)state;
    assert_int_equal(check("{\"e\":\"stop\"}", &eb), BB_OK);
    assert_int_equal(check("{\"t\":\"臺中市中區\",\"i\":10,\"n\":-1.5,\"b\":false,\"e\":\"stop\","
                           "\"d\":\"2018-03-15T14:20:00+08:00\",\"g\":{\"lat\":24.1,\"lon\":120.6}}",
                           &eb), BB_OK);
    assert_int_equal(check("{\"e\":\"remote\",\"r\":\"SEG-0601\"}", &eb), BB_OK);
}

static void expect_invalid(const char *data, const char *needle)
{
    bb_errbuf eb;
    assert_int_equal(check(data, &eb), BB_ERR_INVALID);
    if (!strstr(eb.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, needle);
}

static void test_each_constraint(void **state)
{
    (void)state;
    expect_invalid("{}", "field \"e\" (Enum): a value is required");
    expect_invalid("{\"e\":\"walk\"}", "\"walk\" is not allowed; allowed values: stop, remote");
    expect_invalid("{\"e\":\"stop\",\"t\":\"123456\"}", "longer than the maximum of 5");
    expect_invalid("{\"e\":\"stop\",\"t\":5}", "expected text");
    expect_invalid("{\"e\":\"stop\",\"i\":11}", "11 is above the maximum 10");
    expect_invalid("{\"e\":\"stop\",\"i\":-1}", "-1 is below the minimum 0");
    expect_invalid("{\"e\":\"stop\",\"i\":1.5}", "expected a whole number");
    expect_invalid("{\"e\":\"stop\",\"i\":\"3\"}", "expected a whole number");
    expect_invalid("{\"e\":\"stop\",\"n\":2.6}", "above the maximum 2.5");
    expect_invalid("{\"e\":\"stop\",\"b\":\"yes\"}", "expected true or false");
    expect_invalid("{\"e\":\"stop\",\"d\":\"2018-03-15 14:20\"}", "field \"d\"");
    expect_invalid("{\"e\":\"stop\",\"d\":\"2018-02-30T10:00:00+08:00\"}", "field \"d\"");
    expect_invalid("{\"e\":\"remote\"}", "required when \"e\" is remote");
    expect_invalid("{\"e\":\"stop\",\"r\":\"SEG-9999\"}", "\"SEG-9999\" is not in the list of listed road segments");
    expect_invalid("{\"e\":\"stop\",\"g\":{\"lat\":91,\"lon\":0}}", "latitude");
    expect_invalid("{\"e\":\"stop\",\"g\":{\"lat\":1}}", "expected {\"lat\"");
    expect_invalid("{\"e\":\"stop\",\"zzz\":1}", "unknown field \"zzz\"");
    expect_invalid("{\"e\":\"stop\",\"e\":\"stop\"}", "given twice");
    expect_invalid("{\"e\":\"stop\",\"b\":true}", "required when \"b\" is true");
    expect_invalid("{\"e\":\"stop\",\"t\":\"\xff\"}", "UTF-8");
}

static void test_messages_in_chinese(void **state)
{
    cJSON *d;
    bb_errbuf eb;
    (void)state;
    assert_int_equal(bb_json_parse("{}", 2, "t", &d, NULL), BB_OK);
    assert_int_equal(bb_record_check_data(cat, kind, d, BB_LANG_ZH, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "欄位「e」（列舉）"));
    cJSON_Delete(d);
}

static void coerce_is(const char *field, const char *text, const char *want)
{
    cJSON *v;
    char *s;
    bb_errbuf eb;
    /* 2018-03-15T12:00:00+08:00 */
    if (bb_record_coerce(cat, kind, bb_kind_field(kind, field), text, 1521086400, 1,
                         BB_LANG_EN, &v, &eb) != BB_OK)
        fail_msg("coerce %s=%s: %s", field, text, eb.msg);
    s = bb_json_canonical(v);
    assert_string_equal(s, want);
    free(s);
    cJSON_Delete(v);
}

static void coerce_fails(const char *field, const char *text, const char *needle)
{
    cJSON *v;
    bb_errbuf eb;
    assert_int_equal(bb_record_coerce(cat, kind, bb_kind_field(kind, field), text, 1521086400, 0,
                                      BB_LANG_EN, &v, &eb), BB_ERR_INVALID);
    assert_null(v);
    if (!strstr(eb.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, needle);
}

static void test_coerce(void **state)
{
    (void)state;
    coerce_is("i", "7", "7");
    coerce_is("n", "2.25", "2.25");
    coerce_is("b", "yes", "true");
    coerce_is("b", "否", "false");
    coerce_is("e", "Remote", "\"remote\"");
    coerce_is("e", "攔停", "\"stop\"");
    coerce_is("e", "2", "\"remote\"");            /* menu number, prompts only */
    coerce_is("r", "seg-0601", "\"SEG-0601\"");
    coerce_is("d", "107/03/15 14:20", "\"2018-03-15T14:20:00+08:00\"");
    coerce_is("d", "2018-03-15T06:20:00Z", "\"2018-03-15T06:20:00Z\"");
    coerce_is("g", "24.1477,120.6736", "{\"lat\":24.1477,\"lon\":120.6736}");
    coerce_fails("i", "7x", "\"7x\" is not a whole number");
    coerce_fails("i", "99999999999999999999", "not a whole number");
    coerce_fails("i", "11", "above the maximum");
    coerce_fails("n", "abc", "not a number");
    coerce_fails("b", "maybe", "not yes/no");
    coerce_fails("e", "2", "\"2\" is not allowed");    /* no menu numbers on the command line */
    coerce_fails("d", "2018-13-01", "field \"d\"");
    coerce_fails("g", "24.1", "LAT,LON");
    coerce_fails("r", "SEG-9999", "not in the list");
}

static void expect_bad_kind(const char *json, const char *needle)
{
    bb_errbuf eb;
    assert_int_equal(bb_catalog_add_kind(cat, json, strlen(json), "bad.json", &eb), BB_ERR_INVALID);
    if (!strstr(eb.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, needle);
}

static void test_bad_kind_definitions(void **state)
{
    (void)state;
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\",\"type\":\"blob\","
                    "\"label\":{\"en\":\"A\"}}]}", "\"type\" must be one of");
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\",\"type\":\"enum\","
                    "\"label\":{\"en\":\"A\"}}]}", "non-empty \"values\"");
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\",\"type\":\"ref\","
                    "\"ref\":\"people\",\"label\":{\"en\":\"A\"}}]}", "reference list");
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\",\"type\":\"text\","
                    "\"label\":{\"en\":\"A\"}},{\"name\":\"a\",\"type\":\"text\",\"label\":{\"en\":\"A\"}}]}",
                    "defined twice");
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\",\"type\":\"text\","
                    "\"label\":{\"en\":\"A\"},\"required_if\":{\"field\":\"zz\",\"in\":[\"x\"]}}]}",
                    "required_if");
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[]}", "\"fields\"");
    expect_bad_kind("{\"kind\":\"Bad Name\",\"version\":1,\"fields\":[]}", "snake_case");
    expect_bad_kind("{\"kind\":\"k\",\"fields\":[", "truncated");
    /* the failed loads left the catalog as it was */
    assert_null(bb_catalog_kind(cat, "k"));
    assert_non_null(bb_catalog_kind(cat, "probe"));
}

/* ---- attachment fields -------------------------------------------------------- */

static const char *files_kind =
    "{\"kind\":\"probe_files\",\"version\":1,\"label\":{\"en\":\"Files\"},\"fields\":["
    "{\"name\":\"p\",\"type\":\"attachment\",\"label\":{\"en\":\"Photos\",\"zh-TW\":\"照片\"},"
    " \"media\":[\"image/jpeg\",\"image/png\"],\"max_count\":2,\"max_bytes\":1000},"
    "{\"name\":\"q\",\"type\":\"attachment\",\"label\":{\"en\":\"Needed\"},\"required\":true,"
    " \"media\":[\"application/pdf\"],\"max_count\":1,\"max_bytes\":50}]}";

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define Q_OK "\"q\":[{\"sha256\":\"" SHA_A "\",\"size\":10,\"type\":\"application/pdf\"}]"

static bb_err check_files(const char *data_json, enum bb_lang lang, bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(cat, "probe_files");
    cJSON *d;
    bb_err err;
    assert_non_null(k);
    assert_int_equal(bb_json_parse(data_json, strlen(data_json), "t", &d, NULL), BB_OK);
    err = bb_record_check_data(cat, k, d, lang, eb);
    cJSON_Delete(d);
    return err;
}

static void files_invalid(const char *p_value, const char *needle)
{
    char data[2048];
    bb_errbuf eb;
    snprintf(data, sizeof data, "{%s,\"p\":%s}", Q_OK, p_value);
    assert_int_equal(check_files(data, BB_LANG_EN, &eb), BB_ERR_INVALID);
    if (!strstr(eb.msg, needle))
        fail_msg("for %s: message \"%s\" lacks \"%s\"", p_value, eb.msg, needle);
}

#define ITEM(sha, size, type, rest) \
    "{\"sha256\":\"" sha "\",\"size\":" #size ",\"type\":\"" type "\"" rest "}"

static void test_attachment_values(void **state)
{
    bb_errbuf eb;
    (void)state;
    assert_int_equal(bb_catalog_add_kind(cat, files_kind, strlen(files_kind), "files.json", &eb),
                     BB_OK);
    assert_int_equal(check_files("{" Q_OK "}", BB_LANG_EN, &eb), BB_OK);
    assert_int_equal(check_files("{" Q_OK ",\"p\":[" ITEM(SHA_A, 1000, "image/jpeg",
                                 ",\"name\":\"IMG 0412.JPG\"") "," ITEM(SHA_B, 1, "image/png", "")
                                 "]}", BB_LANG_EN, &eb), BB_OK);
    /* required => at least one file; [] is never the stored form */
    assert_int_equal(check_files("{}", BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "field \"q\" (Needed): a value is required"));
    files_invalid("[]", "empty list");
    files_invalid("{}", "expected a list of files");
    files_invalid("\"@a.jpg\"", "expected a list of files");
    files_invalid("[1]", "file 1: expected {");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", "") "," ITEM(SHA_B, 10, "image/jpeg", "") ","
                  ITEM("cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", 10,
                       "image/jpeg", "") "]", "3 files is more than the 2");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", ",\"name\":\"a.jpg\"") ","
                  ITEM(SHA_A, 10, "image/jpeg", ",\"name\":\"b.jpg\"") "]",
                  "file 2 (b.jpg) is the same file as file 1");
    files_invalid("[" ITEM("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 10,
                           "image/jpeg", "") "]", "64 lowercase hex");
    files_invalid("[" ITEM("abc", 10, "image/jpeg", "") "]", "64 lowercase hex");
    files_invalid("[" ITEM(SHA_A, 0, "image/jpeg", "") "]", "\"size\" must be 1 to 1000");
    files_invalid("[" ITEM(SHA_A, 1001, "image/jpeg", "") "]", "\"size\" must be 1 to 1000");
    files_invalid("[" ITEM(SHA_A, 1.5, "image/jpeg", "") "]", "\"size\"");
    files_invalid("[{\"sha256\":\"" SHA_A "\",\"size\":\"10\",\"type\":\"image/jpeg\"}]",
                  "\"size\"");
    files_invalid("[" ITEM(SHA_A, 10, "application/pdf", "") "]",
                  "type \"application/pdf\" is not allowed here");
    files_invalid("[{\"sha256\":\"" SHA_A "\",\"size\":10}]", "is not allowed here");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", ",\"name\":\"dir/a.jpg\"") "]", "\"name\"");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", ",\"name\":\"a\\nb.jpg\"") "]", "\"name\"");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", ",\"name\":\"\"") "]", "\"name\"");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", ",\"name\":7") "]", "\"name\"");
    files_invalid("[" ITEM(SHA_A, 10, "image/jpeg", ",\"exif\":{}") "]", "unknown key \"exif\"");
    {
        char data[1024], name[300];
        memset(name, 'n', 256);
        name[256] = '\0';
        snprintf(data, sizeof data, "[{\"sha256\":\"%s\",\"size\":10,\"type\":\"image/png\","
                 "\"name\":\"%s\"}]", SHA_A, name);
        files_invalid(data, "\"name\"");
        name[255] = '\0';
        snprintf(data, sizeof data, "{%s,\"p\":[{\"sha256\":\"%s\",\"size\":10,"
                 "\"type\":\"image/png\",\"name\":\"%s\"}]}", Q_OK, SHA_A, name);
        assert_int_equal(check_files(data, BB_LANG_EN, &eb), BB_OK);
    }
    /* zh-TW says it too */
    assert_int_equal(check_files("{" Q_OK ",\"p\":[" ITEM(SHA_A, 10, "application/pdf", "") "]}",
                                 BB_LANG_ZH, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "欄位「p」（照片）"));
    assert_non_null(strstr(eb.msg, "此欄位不接受"));
}

static void test_bad_attachment_definitions(void **state)
{
    (void)state;
#define AF(extra) "{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\"," \
                  "\"type\":\"attachment\",\"label\":{\"en\":\"A\"}" extra "}]}"
    expect_bad_kind(AF(",\"max_count\":1,\"max_bytes\":10"), "needs \"media\"");
    expect_bad_kind(AF(",\"media\":[],\"max_count\":1,\"max_bytes\":10"), "\"media\"");
    expect_bad_kind(AF(",\"media\":[\"image/gif\"],\"max_count\":1,\"max_bytes\":10"),
                    "media[0]");
    expect_bad_kind(AF(",\"media\":[\"image/png\",\"image/png\"],\"max_count\":1,\"max_bytes\":10"),
                    "listed twice");
    expect_bad_kind(AF(",\"media\":[\"image/png\"],\"max_bytes\":10"), "\"max_count\"");
    expect_bad_kind(AF(",\"media\":[\"image/png\"],\"max_count\":51,\"max_bytes\":10"),
                    "\"max_count\"");
    expect_bad_kind(AF(",\"media\":[\"image/png\"],\"max_count\":0,\"max_bytes\":10"),
                    "\"max_count\"");
    expect_bad_kind(AF(",\"media\":[\"image/png\"],\"max_count\":1"), "\"max_bytes\"");
    expect_bad_kind(AF(",\"media\":[\"image/png\"],\"max_count\":1,\"max_bytes\":268435457"),
                    "\"max_bytes\"");
    expect_bad_kind(AF(",\"media\":[\"image/png\"],\"max_count\":1,\"max_bytes\":10,"
                       "\"default\":\"last\""), "\"default\"");
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\",\"type\":\"text\","
                    "\"label\":{\"en\":\"A\"},\"max_count\":3}]}", "only to attachment fields");
    /* a rule may not test files */
    expect_bad_kind("{\"kind\":\"k\",\"version\":1,\"fields\":[{\"name\":\"a\","
                    "\"type\":\"attachment\",\"label\":{\"en\":\"A\"},\"media\":[\"image/png\"],"
                    "\"max_count\":1,\"max_bytes\":10}],\"rules\":[{\"id\":\"r\",\"since\":1,"
                    "\"when\":[{\"field\":\"a\",\"present\":true}],\"require\":[{\"field\":"
                    "\"occurred_at\",\"present\":true}],\"message\":{\"en\":\"m\",\"zh-TW\":\"m\"}}]}",
                    "attachment field");
#undef AF
    assert_null(bb_catalog_kind(cat, "k"));
}

/* ---- bb_exif: a hand-made EXIF block, then garbage ---------------------------- */

static size_t put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); return 2; }
static size_t put32(uint8_t *p, unsigned long v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
    return 4;
}
static size_t entry(uint8_t *p, unsigned tag, unsigned type, unsigned long count, unsigned long value)
{
    return put16(p, tag) + put16(p + 2, type) + put32(p + 4, count) + put32(p + 8, value);
}

/* A JPEG (SOI, APP1 "Exif", EOI) whose little-endian TIFF says 2018:03:15 14:19:02
 * at 24°8'51.72" N, 120°40'24.96" E; returns its length. */
static size_t make_jpeg(uint8_t *out)
{
    static const uint8_t exif[6] = {'E', 'x', 'i', 'f', 0, 0};
    uint8_t *t = out + 4 + 2 + 6;    /* SOI, APP1 marker and length, "Exif\0\0" */
    size_t o = 0, tiff_len = 178;
    static const unsigned long rat[12] = {24, 1, 8, 1, 5172, 100, 120, 1, 40, 1, 2496, 100};
    int i;

    out[0] = 0xFF; out[1] = 0xD8; out[2] = 0xFF; out[3] = 0xE1;
    out[4] = (uint8_t)((tiff_len + 8) >> 8); out[5] = (uint8_t)(tiff_len + 8);
    memcpy(out + 6, exif, 6);
    t[0] = 'I'; t[1] = 'I';                                 /* little-endian TIFF */
    put16(t + 2, 42);
    put32(t + 4, 8);                                        /* IFD0 at 8 */
    o = 8;
    o += put16(t + o, 2);                                   /* IFD0 */
    o += entry(t + o, 0x8769, 4, 1, 38);                    /* Exif IFD pointer */
    o += entry(t + o, 0x8825, 4, 1, 56);                    /* GPS IFD pointer */
    o += put32(t + o, 0);
    o += put16(t + o, 1);                                   /* Exif IFD at 38 */
    o += entry(t + o, 0x9003, 2, 20, 110);                  /* DateTimeOriginal */
    o += put32(t + o, 0);
    o += put16(t + o, 4);                                   /* GPS IFD at 56 */
    o += entry(t + o, 1, 2, 2, 'N');
    o += entry(t + o, 2, 5, 3, 130);
    o += entry(t + o, 3, 2, 2, 'E');
    o += entry(t + o, 4, 5, 3, 154);
    o += put32(t + o, 0);
    memcpy(t + o, "2018:03:15 14:19:02", 20);               /* at 110 */
    o += 20;
    for (i = 0; i < 12; i++)                                /* at 130 and 154 */
        o += put32(t + o, rat[i]);
    assert_int_equal(o, tiff_len);
    t[o] = 0xFF; t[o + 1] = 0xD9;
    return 12 + tiff_len + 2;
}

static void test_exif_reads_time_and_gps(void **state)
{
    uint8_t jpg[256];
    size_t n = make_jpeg(jpg);
    struct bb_exif x;
    char shown[32];
    (void)state;
    bb_exif_parse(jpg, n, &x);
    assert_true(x.has_time);
    assert_string_equal(x.time, "2018:03:15 14:19:02");
    assert_true(x.has_gps);
    assert_true(x.lat > 24.14769 && x.lat < 24.14771);
    assert_true(x.lon > 120.67359 && x.lon < 120.67361);
    assert_int_equal(bb_exif_time_display(x.time, shown, sizeof shown), 1);
    assert_string_equal(shown, "2018/03/15 14:19");
    /* South and west are negative. */
    jpg[12 + 56 + 2 + 8] = 'S';
    jpg[12 + 56 + 2 + 24 + 8] = 'W';
    bb_exif_parse(jpg, n, &x);
    assert_true(x.has_gps && x.lat < -24.1 && x.lon < -120.6);
    /* The same block without the JPEG around it (as HEIF keeps it). */
    bb_exif_parse(jpg + 6, n - 6, &x);
    assert_true(x.has_time);
    assert_int_equal(bb_exif_time_display("    :  :     :  :  ", shown, sizeof shown), 0);
}

/* Never a crash, never a made-up value, whatever the bytes (run under ASan too). */
static void test_exif_on_garbage(void **state)
{
    uint8_t jpg[256], buf[4096];
    size_t n = make_jpeg(jpg), i, len;
    unsigned long seed = 12345;
    struct bb_exif x;
    int round;
    (void)state;
    bb_exif_parse(NULL, 0, &x);
    assert_false(x.has_time || x.has_gps);
    bb_exif_parse(jpg, 0, &x);
    assert_false(x.has_time || x.has_gps);
    for (len = 0; len < n; len++) {                 /* every truncation */
        memcpy(buf, jpg, len);
        bb_exif_parse(buf, len, &x);
        if (x.has_time)
            assert_string_equal(x.time, "2018:03:15 14:19:02");
    }
    for (i = 0; i < n; i++) {                       /* every byte, a few flips each */
        static const uint8_t flips[] = {0x01, 0x80, 0xFF};
        size_t f;
        for (f = 0; f < sizeof flips; f++) {
            memcpy(buf, jpg, n);
            buf[i] ^= flips[f];
            bb_exif_parse(buf, n, &x);
            if (x.has_gps)
                assert_true(x.lat >= -90 && x.lat <= 90 && x.lon >= -180 && x.lon <= 180);
        }
    }
    for (round = 0; round < 2000; round++) {        /* random bytes after real headers */
        len = 1 + (seed = seed * 1103515245 + 12345) % sizeof buf;
        for (i = 0; i < len; i++)
            buf[i] = (uint8_t)((seed = seed * 1103515245 + 12345) >> 16);
        if (round % 3 == 0 && len > 12)
            memcpy(buf, jpg, 12);                   /* SOI + APP1 + "Exif\0\0" */
        else if (round % 3 == 1 && len > 14)
            memcpy(buf, jpg + 6, 14);               /* "Exif\0\0II*\0" + offset */
        bb_exif_parse(buf, len, &x);
        if (x.has_time)
            assert_int_equal(strlen(x.time), BB_EXIF_TIME_SIZE - 1);
    }
}

static void test_full_record(void **state)
{
    const char *ok =
        "{\"id\":\"0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f\",\"kind\":\"parking_citation\",\"rev\":1,"
        "\"status\":\"final\",\"device\":\"d-7f3a\",\"officer\":\"A123456\",\"org_unit\":\"P06-S03\","
        "\"occurred_at\":\"2018-03-15T14:20:00+08:00\",\"recorded_at\":\"2018-03-15T14:21:07+08:00\","
        "\"location\":{\"lat\":24.1477,\"lon\":120.6736},"
        "\"data\":{\"method\":\"stop\",\"source\":\"police\",\"segment\":\"SEG-0601\",\"major\":true,"
        "\"violation\":\"red_line\"}}";
    cJSON *r;
    bb_errbuf eb;
    (void)state;
    assert_int_equal(bb_json_parse(ok, strlen(ok), "r", &r, NULL), BB_OK);
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_OK);
    cJSON_ReplaceItemInObject(r, "status", cJSON_CreateString("void"));
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "void_reason"));
    cJSON_AddStringToObject(r, "void_reason", "duplicate entry");
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_OK);
    cJSON_ReplaceItemInObject(r, "org_unit", cJSON_CreateString("P99"));
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "org_unit"));
    cJSON_ReplaceItemInObject(r, "org_unit", cJSON_CreateString("P06"));
    cJSON_ReplaceItemInObject(r, "occurred_at", cJSON_CreateString("2018-03-15T14:20:00"));
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "occurred_at"));
    cJSON_ReplaceItemInObject(r, "occurred_at", cJSON_CreateString("2018-03-15T14:20:00+08:00"));
    cJSON_AddStringToObject(r, "extra", "x");
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "\"extra\""));
    cJSON_Delete(r);
}

static void test_patrol_needs_end_when_final(void **state)
{
    const char *p =
        "{\"id\":\"0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f\",\"kind\":\"patrol\",\"rev\":0,"
        "\"status\":\"draft\",\"device\":\"d\",\"officer\":\"A1\",\"org_unit\":\"P08\","
        "\"occurred_at\":\"2018-03-15T08:00:00+08:00\",\"recorded_at\":\"2018-03-15T08:00:00+08:00\","
        "\"data\":{\"type\":\"bike_path\",\"mode\":\"bicycle\",\"bike_path\":\"BP-DF\",\"officers\":2,"
        "\"started_at\":\"2018-03-15T08:00:00+08:00\"}}";
    cJSON *r, *d;
    bb_errbuf eb;
    (void)state;
    assert_int_equal(bb_json_parse(p, strlen(p), "p", &r, NULL), BB_OK);
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_OK);   /* draft: no end yet */
    cJSON_ReplaceItemInObject(r, "status", cJSON_CreateString("final"));
    cJSON_ReplaceItemInObject(r, "rev", cJSON_CreateNumber(1));
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "ended_at"));
    d = cJSON_GetObjectItemCaseSensitive(r, "data");
    cJSON_AddStringToObject(d, "ended_at", "2018-03-15T07:00:00+08:00");
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "before the start"));
    cJSON_ReplaceItemInObject(d, "ended_at", cJSON_CreateString("2018-03-15T10:00:00+08:00"));
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_OK);
    cJSON_DeleteItemFromObject(d, "bike_path");
    assert_int_equal(bb_record_validate(cat, r, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "bike_path"));
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_kinds_load),
        cmocka_unit_test(test_valid_data),
        cmocka_unit_test(test_each_constraint),
        cmocka_unit_test(test_messages_in_chinese),
        cmocka_unit_test(test_coerce),
        cmocka_unit_test(test_bad_kind_definitions),
        cmocka_unit_test(test_attachment_values),
        cmocka_unit_test(test_bad_attachment_definitions),
        cmocka_unit_test(test_exif_reads_time_and_gps),
        cmocka_unit_test(test_exif_on_garbage),
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_patrol_needs_end_when_final),
    };
    return cmocka_run_group_tests_name("bb_record", tests, setup, teardown);
}
