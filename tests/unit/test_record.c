/*
 * Unit tests for bb_catalog and bb_record: kind definitions are checked when
 * loaded; every field type and constraint validates and coerces as specified.
 * A small test kind exercises each type; the embedded kinds must all load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bb_catalog.h"
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
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_patrol_needs_end_when_final),
    };
    return cmocka_run_group_tests_name("bb_record", tests, setup, teardown);
}
