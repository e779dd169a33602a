/*
 * Unit tests for bb_rules and bb_form: every operator of a rule condition,
 * "when" / "require" / "require_any", the kind-version gate (a rule added
 * later never rejects a record made before it), void records, bad rule
 * definitions refused at load, the shipped kinds' rules (A3, A1, the future
 * date, a patrol's end), and the form model: question order, pages,
 * relevance, defaults, KPI notes, display, problems.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bb_catalog.h"
#include "bb_embed.h"
#include "bb_form.h"
#include "bb_json.h"
#include "bb_plan.h"
#include "bb_record.h"
#include "bb_rules.h"

/* A kind with one field of each comparable type and one rule per operator. */
static const char *probe_kind =
    "{\"kind\":\"probe\",\"version\":3,\"label\":{\"zh-TW\":\"測試\",\"en\":\"Probe\"},"
    "\"pages\":[{\"id\":\"one\",\"title\":{\"en\":\"One\"}},{\"id\":\"two\",\"title\":{\"en\":\"Two\"}}],"
    "\"fields\":["
    "{\"name\":\"e\",\"type\":\"enum\",\"label\":{\"en\":\"E\"},\"required\":true,\"page\":\"one\","
    " \"values\":[{\"code\":\"a\",\"label\":{\"en\":\"A\"}},{\"code\":\"b\",\"label\":{\"en\":\"B\"}}]},"
    "{\"name\":\"i\",\"type\":\"integer\",\"label\":{\"en\":\"I\"},\"page\":\"one\"},"
    "{\"name\":\"j\",\"type\":\"integer\",\"label\":{\"en\":\"J\"},\"default\":\"last\","
    " \"relevant_if\":{\"field\":\"e\",\"in\":[\"b\"]},\"page\":\"two\"},"
    "{\"name\":\"f\",\"type\":\"boolean\",\"label\":{\"en\":\"F\"}},"
    "{\"name\":\"t\",\"type\":\"text\",\"label\":{\"en\":\"T\"}},"
    "{\"name\":\"s\",\"type\":\"datetime\",\"label\":{\"en\":\"S\"},\"default\":\"now\"},"
    "{\"name\":\"u\",\"type\":\"datetime\",\"label\":{\"en\":\"U\"}},"
    "{\"name\":\"hidden\",\"type\":\"text\",\"label\":{\"en\":\"H\"},\"ask\":\"never\"}"
    "],\"rules\":["
    "{\"id\":\"eq\",\"since\":1,\"when\":[{\"field\":\"e\",\"in\":[\"a\"]}],"
    " \"require\":[{\"field\":\"i\",\"eq\":0}],\"message\":{\"zh-TW\":\"甲\",\"en\":\"A means i = 0\"}},"
    "{\"id\":\"ge\",\"since\":1,\"when\":[{\"field\":\"e\",\"in\":[\"b\"]}],"
    " \"require\":[{\"field\":\"i\",\"ge\":1}],\"message\":{\"zh-TW\":\"乙\",\"en\":\"B means i >= 1\"}},"
    "{\"id\":\"any\",\"since\":2,\"require_any\":[{\"field\":\"t\",\"present\":true},"
    " {\"field\":\"f\",\"eq\":true}],\"message\":{\"zh-TW\":\"丙\",\"en\":\"t or f\"}},"
    "{\"id\":\"order\",\"since\":3,\"require\":[{\"field\":\"u\",\"ge_field\":\"s\"}],"
    " \"message\":{\"zh-TW\":\"丁\",\"en\":\"u after s\"}},"
    "{\"id\":\"future\",\"since\":3,\"require\":[{\"field\":\"s\",\"le_field\":\"recorded_at\","
    " \"plus_minutes\":10}],\"message\":{\"zh-TW\":\"戊\",\"en\":\"not in the future\"}},"
    "{\"id\":\"floor\",\"since\":3,\"require\":[{\"field\":\"s\",\"ge\":\"2012-01-01T00:00:00+08:00\"}],"
    " \"message\":{\"zh-TW\":\"己\",\"en\":\"not before 2012\"}},"
    "{\"id\":\"absent\",\"since\":3,\"when\":[{\"field\":\"f\",\"eq\":false}],"
    " \"require\":[{\"field\":\"t\",\"absent\":true}],\"message\":{\"zh-TW\":\"庚\",\"en\":\"no t without f\"}},"
    "{\"id\":\"ne\",\"since\":3,\"require\":[{\"field\":\"t\",\"ne\":\"bad\"}],"
    " \"message\":{\"zh-TW\":\"辛\",\"en\":\"t is not bad\"}}"
    "]}";

static bb_catalog *cat;
static const struct bb_kind *probe;

static int setup(void **state)
{
    bb_errbuf eb;
    (void)state;
    if (bb_catalog_load_embedded(&cat, &eb) != BB_OK) {
        fprintf(stderr, "%s\n", eb.msg);
        return -1;
    }
    if (bb_catalog_add_kind(cat, probe_kind, strlen(probe_kind), "probe.json", &eb) != BB_OK) {
        fprintf(stderr, "%s\n", eb.msg);
        return -1;
    }
    probe = bb_catalog_kind(cat, "probe");
    return probe ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bb_catalog_free(cat);
    return 0;
}

/* A record of kind with this data, kind_version (0: none), status. */
static cJSON *record(const char *kind, const char *data, int version, const char *status)
{
    char text[2048];
    cJSON *rec;
    snprintf(text, sizeof text,
             "{\"id\":\"0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f\",\"kind\":\"%s\",\"rev\":1,"
             "\"status\":\"%s\",\"device\":\"d-1\",\"officer\":\"A1\",\"org_unit\":\"P06-S03\","
             "\"occurred_at\":\"2018-03-15T10:00:00+08:00\","
             "\"recorded_at\":\"2018-03-15T10:05:00+08:00\",\"data\":%s%s}",
             kind, status, data, strcmp(status, "void") == 0 ? ",\"void_reason\":\"x\"" : "");
    rec = cJSON_Parse(text);
    assert_non_null(rec);
    if (version > 0)
        cJSON_AddNumberToObject(rec, "kind_version", version);
    return rec;
}

static bb_err validate(const char *kind, const char *data, int version, bb_errbuf *eb)
{
    cJSON *rec = record(kind, data, version, "final");
    bb_err err;
    memset(eb, 0, sizeof *eb);
    err = bb_record_validate(cat, rec, BB_LANG_EN, eb);
    cJSON_Delete(rec);
    return err;
}

static void ok(const char *kind, const char *data, int version)
{
    bb_errbuf eb;
    if (validate(kind, data, version, &eb) != BB_OK)
        fail_msg("expected valid: %s: %s", data, eb.msg);
}

static void bad(const char *kind, const char *data, int version, const char *want)
{
    bb_errbuf eb;
    if (validate(kind, data, version, &eb) != BB_ERR_INVALID)
        fail_msg("expected a rule to refuse: %s", data);
    if (!strstr(eb.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", eb.msg, want);
}

static void test_operators(void **state)
{
    (void)state;
    /* in + eq */
    ok("probe", "{\"e\":\"a\",\"i\":0,\"t\":\"x\",\"f\":true}", 3);
    bad("probe", "{\"e\":\"a\",\"i\":2,\"t\":\"x\",\"f\":true}", 3, "A means i = 0 (now 2)");
    /* ge; a field not given holds in "require" (required-ness is not a rule's business) */
    bad("probe", "{\"e\":\"b\",\"i\":0,\"t\":\"x\",\"f\":true}", 3, "B means i >= 1");
    ok("probe", "{\"e\":\"b\",\"t\":\"x\",\"f\":true}", 3);
    /* require_any: present / eq true */
    ok("probe", "{\"e\":\"b\",\"f\":true}", 3);
    bad("probe", "{\"e\":\"b\"}", 3, "t or f");
    bad("probe", "{\"e\":\"b\",\"f\":false}", 3, "t or f");
    /* ge_field between datetimes; le_field with plus_minutes against the envelope */
    ok("probe", "{\"e\":\"b\",\"f\":true,\"s\":\"2018-03-15T09:00:00+08:00\","
                "\"u\":\"2018-03-15T09:00:00+08:00\"}", 3);
    bad("probe", "{\"e\":\"b\",\"f\":true,\"s\":\"2018-03-15T09:00:00+08:00\","
                 "\"u\":\"2018-03-15T08:59:59+08:00\"}", 3, "u after s");
    /* the same instant written at another offset compares as the instant */
    ok("probe", "{\"e\":\"b\",\"f\":true,\"s\":\"2018-03-15T01:00:00Z\","
                "\"u\":\"2018-03-15T09:00:00+08:00\"}", 3);
    ok("probe", "{\"e\":\"b\",\"f\":true,\"s\":\"2018-03-15T10:15:00+08:00\"}", 3);
    bad("probe", "{\"e\":\"b\",\"f\":true,\"s\":\"2018-03-15T10:15:01+08:00\"}", 3,
        "not in the future");
    /* ge against a fixed datetime */
    bad("probe", "{\"e\":\"b\",\"f\":true,\"s\":\"2011-12-31T23:59:59+08:00\"}", 3,
        "not before 2012");
    /* absent, ne */
    bad("probe", "{\"e\":\"b\",\"f\":false,\"t\":\"x\"}", 3, "no t without f");
    bad("probe", "{\"e\":\"b\",\"f\":true,\"t\":\"bad\"}", 3, "t is not bad");
}

static void test_version_gate_and_void(void **state)
{
    bb_errbuf eb;
    cJSON *rec;
    (void)state;
    /* "any" holds from version 2: a version-1 record (or one without a version) is not held
     * to it, nor to version 3's rules. */
    ok("probe", "{\"e\":\"b\",\"i\":1}", 1);
    ok("probe", "{\"e\":\"b\",\"i\":1}", 0);
    bad("probe", "{\"e\":\"b\",\"i\":1}", 2, "t or f");
    ok("probe", "{\"e\":\"b\",\"i\":1,\"f\":true,\"s\":\"2030-01-01T00:00:00+08:00\"}", 2);
    bad("probe", "{\"e\":\"b\",\"i\":1,\"f\":true,\"s\":\"2030-01-01T00:00:00+08:00\"}", 3,
        "not in the future");
    /* since 1 holds for records without a version too */
    bad("probe", "{\"e\":\"a\",\"i\":2}", 0, "A means i = 0");
    /* a void record is withdrawn: rules do not hold it */
    rec = record("probe", "{\"e\":\"a\",\"i\":2}", 3, "void");
    assert_int_equal(bb_record_validate(cat, rec, BB_LANG_EN, &eb), BB_OK);
    cJSON_Delete(rec);
    /* a bad kind_version is refused */
    rec = record("probe", "{\"e\":\"a\",\"i\":0}", 0, "final");
    cJSON_AddNumberToObject(rec, "kind_version", 0.5);
    assert_int_equal(bb_record_validate(cat, rec, BB_LANG_EN, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "kind_version"));
    cJSON_Delete(rec);
}

static void test_messages_name_field_in_both_languages(void **state)
{
    cJSON *rec = record("traffic_accident", "{\"class\":\"a3\",\"deaths\":1,\"injuries\":2,"
                                            "\"intersection\":\"INT-13\"}", 2, "final");
    const char *blamed = NULL;
    bb_errbuf eb;
    size_t i;
    const struct bb_kind *k = bb_catalog_kind(cat, "traffic_accident");
    (void)state;
    assert_int_equal(bb_record_validate(cat, rec, BB_LANG_ZH, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "欄位「deaths」（死亡人數）"));
    assert_non_null(strstr(eb.msg, "A3"));
    assert_non_null(strstr(eb.msg, "（目前為 1）"));
    for (i = 0; i < k->nrules; i++)
        if (strcmp(k->rules[i].id, "a3_no_casualties") == 0)
            break;
    assert_true(i < k->nrules);
    assert_int_equal(bb_rule_check(k, &k->rules[i], rec, BB_LANG_EN, &blamed, &eb),
                     BB_ERR_INVALID);
    assert_string_equal(blamed, "deaths");
    assert_non_null(strstr(eb.msg, "property damage only"));
    cJSON_Delete(rec);
}

static void test_shipped_rules(void **state)
{
    (void)state;
    ok("traffic_accident", "{\"class\":\"a3\",\"deaths\":0,\"injuries\":0,\"place\":\"x\"}", 2);
    bad("traffic_accident", "{\"class\":\"a3\",\"deaths\":0,\"injuries\":2,\"place\":\"x\"}", 2,
        "property damage only");
    bad("traffic_accident", "{\"class\":\"a1\",\"deaths\":0,\"injuries\":2,\"place\":\"x\"}", 2,
        "at least 1");
    /* the same records, made before the rules (version 1), stay valid */
    ok("traffic_accident", "{\"class\":\"a3\",\"deaths\":1,\"injuries\":2}", 1);
    ok("traffic_accident", "{\"class\":\"a3\",\"deaths\":1,\"injuries\":2}", 0);
    ok("parking_citation", "{\"method\":\"stop\",\"source\":\"police\",\"major\":false,"
                           "\"violation\":\"red_line\"}", 2);
    /* a patrol's end before its start: a version-1 rule, so old records are held to it too */
    bad("patrol", "{\"type\":\"small_area\",\"mode\":\"foot\",\"officers\":1,"
                  "\"started_at\":\"2018-03-15T09:00:00+08:00\","
                  "\"ended_at\":\"2018-03-15T08:00:00+08:00\"}", 0, "before the start");
    bad("patrol", "{\"type\":\"small_area\",\"mode\":\"foot\",\"officers\":1,"
                  "\"started_at\":\"2018-03-15T09:00:00+08:00\","
                  "\"ended_at\":\"2018-03-15T11:00:00+08:00\"}", 2, "more than 10 minutes");
}

/* Each bad rule definition is refused with a message naming what is wrong. */
static void test_bad_rule_definitions(void **state)
{
    static const struct { const char *rule, *want; } cases[] = {
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"nope\",\"eq\":1}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "not a field"},
        {"{\"id\":\"x\",\"since\":2,\"require\":[{\"field\":\"i\",\"eq\":1}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "since"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"i\",\"eq\":1}],"
         "\"message\":{\"en\":\"b\"}}", "zh-TW and en"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"i\",\"eq\":1,\"gt\":2}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "exactly one operator"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"i\",\"ge_field\":\"e\"}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "cannot be compared"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"i\",\"eq\":\"one\"}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "does not fit"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"e\",\"in\":[\"zzz\"]}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "not one of its values"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"i\",\"eq\":1,\"plus_minutes\":5}],"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "plus_minutes"},
        {"{\"id\":\"x\",\"since\":1,\"require\":[],\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}",
         "1..20 conditions"},
        {"{\"id\":\"x\",\"since\":1,\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}",
         "either \"require\" or \"require_any\""},
        {"{\"id\":\"x\",\"since\":1,\"require\":[{\"field\":\"i\",\"eq\":1}],\"oops\":1,"
         "\"message\":{\"zh-TW\":\"a\",\"en\":\"b\"}}", "unknown key"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        bb_catalog *c2;
        bb_errbuf eb;
        snprintf(text, sizeof text,
                 "{\"kind\":\"k\",\"version\":1,\"label\":{\"en\":\"K\"},\"fields\":["
                 "{\"name\":\"i\",\"type\":\"integer\",\"label\":{\"en\":\"I\"}},"
                 "{\"name\":\"e\",\"type\":\"enum\",\"label\":{\"en\":\"E\"},"
                 "\"values\":[{\"code\":\"a\",\"label\":{\"en\":\"A\"}}]}],\"rules\":[%s]}",
                 cases[i].rule);
        assert_int_equal(bb_catalog_new(&c2), BB_OK);
        memset(&eb, 0, sizeof eb);
        if (bb_catalog_add_kind(c2, text, strlen(text), "k.json", &eb) != BB_ERR_INVALID)
            fail_msg("case %zu was accepted", i);
        if (!strstr(eb.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, eb.msg, cases[i].want);
        bb_catalog_free(c2);
    }
}

static void test_bad_form_definitions(void **state)
{
    static const struct { const char *field, *want; } cases[] = {
        {"{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"},\"ask\":\"sometimes\"}", "ask"},
        {"{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"},\"default\":\"now\"}", "does not fit"},
        {"{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"},\"page\":\"nowhere\"}", "page"},
        {"{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"},\"required\":true,"
         "\"relevant_if\":{\"field\":\"e\",\"in\":[\"a\"]}}", "relevant_if"},
        {"{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"},"
         "\"relevant_if\":{\"field\":\"e\",\"in\":[\"zz\"]}}", "not a value"},
        {"{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"},\"required\":true,"
         "\"ask\":\"never\"}", "never asked"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        bb_catalog *c2;
        bb_errbuf eb;
        snprintf(text, sizeof text,
                 "{\"kind\":\"k\",\"version\":1,\"label\":{\"en\":\"K\"},\"fields\":["
                 "{\"name\":\"e\",\"type\":\"enum\",\"label\":{\"en\":\"E\"},"
                 "\"values\":[{\"code\":\"a\",\"label\":{\"en\":\"A\"}}]},%s]}", cases[i].field);
        assert_int_equal(bb_catalog_new(&c2), BB_OK);
        memset(&eb, 0, sizeof eb);
        if (bb_catalog_add_kind(c2, text, strlen(text), "k.json", &eb) != BB_ERR_INVALID)
            fail_msg("case %zu was accepted", i);
        if (!strstr(eb.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, eb.msg, cases[i].want);
        bb_catalog_free(c2);
    }
}

static void test_form_questions(void **state)
{
    bb_form *form;
    bb_errbuf eb;
    cJSON *rec, *last;
    char out[128];
    (void)state;
    assert_int_equal(bb_form_new(cat, probe, NULL, &form, &eb), BB_OK);
    /* the kind's fields in order, then occurred_at, org_unit, location */
    assert_int_equal(bb_form_count(form), probe->nfields + 3);
    assert_string_equal(bb_form_at(form, 0)->field->name, "e");
    assert_string_equal(bb_form_at(form, probe->nfields)->field->name, "occurred_at");
    assert_true(bb_form_at(form, probe->nfields)->envelope);
    assert_string_equal(bb_form_at(form, probe->nfields + 2)->field->name, "location");
    /* pages: fields' own, envelope questions on the last page */
    assert_string_equal(bb_form_find(form, "i")->page->id, "one");
    assert_string_equal(bb_form_find(form, "j")->page->id, "two");
    assert_string_equal(bb_form_find(form, "org_unit")->page->id, "two");
    /* relevance: j only when e is b; ask never */
    rec = record("probe", "{\"e\":\"a\",\"j\":4,\"hidden\":\"kept\"}", 3, "final");
    assert_false(bb_form_relevant(bb_form_find(form, "j"), rec));
    assert_false(bb_form_relevant(bb_form_find(form, "hidden"), rec));
    bb_form_prune(form, rec);
    assert_null(bb_form_answer(bb_form_find(form, "j"), rec));
    assert_string_equal(bb_json_str(bb_json_obj(rec, "data"), "hidden"), "kept");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(rec, "data"), "e", cJSON_CreateString("b"));
    assert_true(bb_form_relevant(bb_form_find(form, "j"), rec));
    /* defaults: now (Taipei), unit, last */
    last = cJSON_Parse("{\"j\":7}");
    bb_form_default(bb_form_find(form, "s"), "P06-S03", last, 1521079200, out, sizeof out);
    assert_string_equal(out, "2018-03-15 10:00");
    bb_form_default(bb_form_find(form, "org_unit"), "P06-S03", last, 0, out, sizeof out);
    assert_string_equal(out, "P06-S03");
    bb_form_default(bb_form_find(form, "j"), "P06-S03", last, 0, out, sizeof out);
    assert_string_equal(out, "7");
    bb_form_default(bb_form_find(form, "j"), "P06-S03", NULL, 0, out, sizeof out);
    assert_string_equal(out, "");
    cJSON_Delete(last);
    cJSON_Delete(rec);
    bb_form_free(form);
}

static void test_form_display_and_problems(void **state)
{
    const struct bb_kind *k = bb_catalog_kind(cat, "traffic_accident");
    const struct bb_field *f;
    bb_form *form;
    bb_errbuf eb;
    cJSON *rec, *v, *problems;
    char out[200];
    (void)state;
    f = bb_kind_field(k, "intersection");
    v = cJSON_CreateString("INT-01");
    bb_form_display(cat, f, v, BB_LANG_ZH, out, sizeof out);
    assert_string_equal(out, "臺灣大道與民權路口（INT-01）");
    cJSON_Delete(v);
    v = cJSON_CreateString("2018-03-15T00:42:00Z");
    bb_form_display(cat, bb_record_envelope_field("occurred_at"), v, BB_LANG_ZH, out, sizeof out);
    assert_string_equal(out, "107/03/15 08:42");
    cJSON_Delete(v);
    v = cJSON_CreateString("a3");
    bb_form_display(cat, bb_kind_field(k, "class"), v, BB_LANG_EN, out, sizeof out);
    assert_string_equal(out, "A3 (property damage only)");
    cJSON_Delete(v);

    assert_int_equal(bb_form_new(cat, k, NULL, &form, &eb), BB_OK);
    rec = record("traffic_accident", "{\"class\":\"a3\",\"deaths\":1,\"injuries\":-1}", 2,
                 "final");
    assert_int_equal(bb_form_problems(form, cat, rec, BB_LANG_EN, &problems), BB_OK);
    /* injuries out of range, deaths against the A3 rule: one per field, at once */
    assert_int_equal(cJSON_GetArraySize(problems), 2);
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(problems, 0), "field"), "injuries");
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(problems, 1), "field"), "deaths");
    /* beside the field, the message without the field's name */
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(problems, 1), "hint"),
                        "An A3 accident is property damage only: deaths and injuries must be 0 "
                        "(now 1)");
    assert_string_equal(bb_form_hint("k：欄位「location」（位置（緯度,經度））：超出範圍"), "超出範圍");
    assert_string_equal(bb_form_hint("k: field \"location\" (Location (lat,lon)): out of range"),
                        "out of range");
    assert_string_equal(bb_form_hint("nothing to strip"), "nothing to strip");
    cJSON_Delete(problems);
    cJSON_Delete(rec);
    rec = record("traffic_accident", "{\"class\":\"a2\",\"deaths\":0,\"injuries\":1,"
                                     "\"place\":\"x\"}", 2, "final");
    assert_int_equal(bb_form_problems(form, cat, rec, BB_LANG_EN, &problems), BB_OK);
    assert_int_equal(cJSON_GetArraySize(problems), 0);
    cJSON_Delete(problems);
    cJSON_Delete(rec);
    bb_form_free(form);
}

/* The plan's KPIs read parking_citation.segment: left empty, K4 cannot count it. */
static void test_kpi_notes_and_json(void **state)
{
    const struct bb_embedded_file *pf = bb_embed_find("plans/taichung-107.json");
    const struct bb_kind *k = bb_catalog_kind(cat, "parking_citation");
    bb_plan *plan;
    bb_form *form;
    bb_errbuf eb;
    cJSON *j, *q;
    int found = 0;
    (void)state;
    assert_non_null(pf);
    assert_int_equal(bb_plan_parse(cat, pf->data, pf->len, pf->path, &plan, &eb), BB_OK);
    assert_int_equal(bb_form_new(cat, k, plan, &form, &eb), BB_OK);
    assert_non_null(bb_form_find(form, "segment")->kpi_note.zh);
    assert_non_null(strstr(bb_form_find(form, "segment")->kpi_note.zh,
                           "此欄位空白時，本筆不列入 K4"));
    assert_non_null(strstr(bb_form_find(form, "segment")->kpi_note.en, "K4"));
    /* required fields need no note: they cannot be left empty */
    assert_null(bb_form_find(form, "method")->kpi_note.zh);
    j = bb_form_json(form, cat);
    assert_non_null(j);
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "questions"))
        if (strcmp(bb_json_str(q, "name"), "segment") == 0) {
            found = 1;
            assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(q, "options")) > 10);
            assert_non_null(bb_json_obj(q, "kpi_note"));
            assert_string_equal(bb_json_str(q, "default"), "last");
        }
    assert_true(found);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rules")), (int)k->nrules);
    cJSON_Delete(j);
    bb_form_free(form);
    bb_plan_free(plan);
}

/* Reference values by name, alias or a part that only one entry has. */
static void test_reference_by_name(void **state)
{
    const struct bb_kind *k = bb_catalog_kind(cat, "patrol");
    const struct bb_kind *ta = bb_catalog_kind(cat, "traffic_accident");
    bb_errbuf eb;
    cJSON *v = NULL;
    (void)state;
    assert_int_equal(bb_record_coerce(cat, k, bb_kind_field(k, "bike_path"), "東豐", 0, 0,
                                      BB_LANG_ZH, &v, &eb), BB_OK);
    assert_string_equal(v->valuestring, "BP-DF");
    cJSON_Delete(v);
    assert_int_equal(bb_record_coerce(cat, k, bb_kind_field(k, "bike_path"), "bp-df", 0, 0,
                                      BB_LANG_ZH, &v, &eb), BB_OK);
    assert_string_equal(v->valuestring, "BP-DF");
    cJSON_Delete(v);
    /* 中港路 is the old name of 臺灣大道: several listed intersections, so it asks for more */
    assert_int_equal(bb_record_coerce(cat, ta, bb_kind_field(ta, "intersection"), "中港", 0, 0,
                                      BB_LANG_ZH, &v, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "符合"));
    assert_non_null(strstr(eb.msg, "INT-01"));
    assert_int_equal(bb_record_coerce(cat, ta, bb_kind_field(ta, "intersection"), "不存在的路",
                                      0, 0, BB_LANG_EN, &v, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "is not in the list"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_version_gate_and_void),
        cmocka_unit_test(test_messages_name_field_in_both_languages),
        cmocka_unit_test(test_shipped_rules),
        cmocka_unit_test(test_bad_rule_definitions),
        cmocka_unit_test(test_bad_form_definitions),
        cmocka_unit_test(test_form_questions),
        cmocka_unit_test(test_form_display_and_problems),
        cmocka_unit_test(test_kpi_notes_and_json),
        cmocka_unit_test(test_reference_by_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
