/*
 * Unit tests for bb_plan: the built-in 107 plan holds what Part 2 and Part 4
 * of the plan say (weights, titles, reference figures that add up), next
 * year's plan is a new file that parses with no new code, and every kind of
 * mistake in a plan file is refused with a message naming its place in JSON
 * path style.
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
#include "bb_json.h"
#include "bb_plan.h"
#include "bb_time.h"

static bb_catalog *cat;

static int setup(void **state)
{
    bb_errbuf eb;
    (void)state;
    return bb_catalog_load_embedded(&cat, &eb) == BB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bb_catalog_free(cat);
    return 0;
}

static cJSON *builtin_tree(void)
{
    const struct bb_embedded_file *f = bb_embed_find("plans/taichung-107.json");
    cJSON *t;
    assert_non_null(f);
    t = cJSON_Parse(f->data);
    assert_non_null(t);
    return t;
}

/* The node at a path of object keys and array indexes: "kpis/0/params". */
static cJSON *at(cJSON *root, const char *path)
{
    char buf[200], *save = NULL, *seg;
    cJSON *n = root;

    snprintf(buf, sizeof buf, "%s", path);
    for (seg = strtok_r(buf, "/", &save); seg && n; seg = strtok_r(NULL, "/", &save)) {
        if (cJSON_IsArray(n))
            n = cJSON_GetArrayItem(n, atoi(seg));
        else
            n = cJSON_GetObjectItemCaseSensitive(n, seg);
    }
    assert_non_null(n);
    return n;
}

static bb_err parse_tree(const cJSON *t, bb_plan **p, bb_errbuf *eb)
{
    char *text = cJSON_PrintUnformatted(t);
    bb_err err;
    assert_non_null(text);
    err = bb_plan_parse(cat, text, strlen(text), "plan.json", p, eb);
    free(text);
    return err;
}

static void test_builtin_plan_is_part_2(void **state)
{
    const struct bb_plan_kpi *k;
    bb_plan *p;
    bb_errbuf eb;
    int64_t v;
    static const char *const titles[] = {
        "每十萬人刑事案件發生率", "刑案破獲率", "易肇事路口改善完成率",
        "取締重大違規停車成長率", "道路違規施工查察取締案件數下降率", "投訴案件數下降率"};
    static const int weights[] = {10, 15, 10, 10, 15, 10};
    size_t i;
    (void)state;

    assert_int_equal(bb_plan_load_embedded(cat, "taichung-107", &p, &eb), BB_OK);
    assert_string_equal(bb_plan_id(p), "taichung-107");
    assert_int_equal(bb_plan_year(p), 2018);
    assert_string_equal(bb_plan_org_root(p), "TC");
    assert_int_equal(bb_plan_goal_count(p), 3);
    assert_string_equal(bb_plan_goal_at(p, 0)->title.zh, "積極查緝犯罪，確保社會安寧");
    assert_string_equal(bb_plan_goal_at(p, 1)->title.zh, "精進交通執法，促進交通順暢");
    assert_string_equal(bb_plan_goal_at(p, 2)->title.zh, "重視民眾感受，精進服務效能");
    assert_int_equal(bb_plan_goal_at(p, 0)->weight, 25);
    assert_int_equal(bb_plan_goal_at(p, 1)->weight, 35);
    assert_int_equal(bb_plan_goal_at(p, 2)->weight, 10);
    assert_int_equal(bb_plan_kpi_count(p), 6);
    assert_int_equal(bb_plan_total_weight(p), 70);
    for (i = 0; i < 6; i++) {
        assert_string_equal(bb_plan_kpi_at(p, i)->title.zh, titles[i]);
        assert_int_equal(bb_plan_kpi_at(p, i)->weight, weights[i]);
    }
    /* Numbered as the plan's Part 4 numbers them: goals 一、二、三, KPIs 1、2、3 within
     * each goal (Part 2 numbers the fifth KPI 四 under G2; one indicator was dropped). */
    {
        static const char *const nums[] = {"1", "2", "1", "2", "3", "1"};
        for (i = 0; i < 6; i++)
            assert_string_equal(bb_plan_kpi_at(p, i)->number, nums[i]);
        assert_string_equal(bb_plan_goal_at(p, 0)->number, "一");
        assert_string_equal(bb_plan_goal_at(p, 1)->number, "二");
        assert_string_equal(bb_plan_goal_at(p, 2)->number, "三");
    }
    k = bb_plan_kpi(p, "K1");
    assert_int_equal(k->method, BB_KPI_PER_CAPITA_CHANGE);
    assert_true(k->baseline == 1037.71);
    assert_true(!k->target_ge && k->target == -0.5);
    assert_true(bb_plan_kpi(p, "K2")->baseline == 80.20);
    assert_true(bb_plan_kpi(p, "K4")->baseline == 43.06);
    assert_int_equal(bb_plan_kpi(p, "K5")->decimals, 1);
    assert_int_equal(bb_plan_kpi(p, "K5")->nyears_back, 2);
    assert_int_equal(bb_plan_kpi(p, "K3")->list->n, 25);
    assert_string_equal(bb_plan_kpi(p, "K3")->input->time_name, "occurred_at");
    assert_string_equal(bb_plan_kpi(p, "K2")->numerator->time_name, "data.cleared_at");
    assert_string_equal(bb_plan_kpi(p, "K6")->input->time_name, "data.received_at");
    /* KPIS.md's figures, and precincts that add up exactly to the city. */
    for (i = 2015; i <= 2018; i++) {
        const char *names[] = {"population", "officers"};
        int64_t want[] = {2800000, 6040};
        size_t j, pr;
        for (j = 0; j < 2; j++) {
            int64_t sum = 0;
            assert_int_equal(bb_plan_reference(p, names[j], (int)i, "TC", &v), BB_OK);
            assert_int_equal(v, want[j]);
            for (pr = 1; pr <= 15; pr++) {
                char code[8];
                snprintf(code, sizeof code, "P%02zu", pr);
                assert_int_equal(bb_plan_reference(p, names[j], (int)i, code, &v), BB_OK);
                sum += v;
            }
            assert_int_equal(sum, want[j]);
        }
    }
    assert_int_equal(bb_plan_reference(p, "population", 2019, "TC", &v), BB_ERR_NOTFOUND);
    assert_int_equal(bb_plan_reference(p, "population", 2017, "P06-S03", &v), BB_ERR_NOTFOUND);
    assert_true(bb_plan_list_has(bb_plan_kpi(p, "K3")->list, "INT-13"));
    assert_false(bb_plan_list_has(bb_plan_kpi(p, "K3")->list, "INT-26"));
    /* Stored form: canonical JSON that parses back to the same plan. */
    {
        bb_plan *q;
        const char *c = bb_plan_canonical(p);
        assert_int_equal(bb_plan_parse(cat, c, strlen(c), "stored", &q, &eb), BB_OK);
        assert_string_equal(bb_plan_canonical(q), c);
        bb_plan_free(q);
    }
    bb_plan_free(p);
}

/* Next year: a new file — other id, year, targets and figures — and no new code. */
static void test_next_years_plan_is_a_new_file(void **state)
{
    cJSON *t = builtin_tree(), *years;
    bb_plan *p;
    bb_errbuf eb;
    int64_t v;
    (void)state;

    cJSON_ReplaceItemInObject(t, "id", cJSON_CreateString("taichung-108"));
    cJSON_ReplaceItemInObject(t, "year", cJSON_CreateNumber(2019));
    cJSON_ReplaceItemInObject(at(t, "kpis/4/target"), "value", cJSON_CreateNumber(-25));
    years = at(t, "reference/population/years");
    cJSON_AddItemToObject(years, "2019", cJSON_Parse("{\"TC\": 2803894}"));
    cJSON_ReplaceItemInObject(t, "history", cJSON_Parse(
        "[{\"input\": \"roadworks_violations\", \"period\": \"107H1\", \"org\": \"TC\", "
        "\"value\": 412, \"source\": \"交通局統計\"}]"));
    assert_int_equal(parse_tree(t, &p, &eb), BB_OK);
    assert_string_equal(bb_plan_id(p), "taichung-108");
    assert_true(bb_plan_kpi(p, "K5")->target == -25);
    assert_int_equal(bb_plan_reference(p, "population", 2019, "TC", &v), BB_OK);
    assert_int_equal(v, 2803894);
    {
        const char *src = NULL;
        bb_period per;
        assert_int_equal(bb_period_parse("2018H1", &per, &eb), BB_OK);
        assert_true(bb_plan_history(p, bb_plan_input(p, "roadworks_violations"), per.from_day,
                                    per.to_day, "TC", NULL, &v, &src));
        assert_int_equal(v, 412);
        assert_string_equal(src, "交通局統計");
        assert_false(bb_plan_history(p, bb_plan_input(p, "roadworks_violations"), per.from_day,
                                     per.to_day, "P01", NULL, &v, &src));
    }
    bb_plan_free(p);
    cJSON_Delete(t);
}

struct bad {
    const char *path;       /* parent node */
    const char *key;        /* member to change (NULL: an array element = index) */
    const char *json;       /* new value; NULL deletes */
    const char *want;       /* substring of the message */
};

static const struct bad bad_plans[] = {
    /* missing fields */
    {"kpis/0", "weight", NULL, "plan.json: $.kpis[0]: missing \"weight\""},
    {"", "inputs", NULL, "$: missing \"inputs\""},
    {"inputs/3", "measure", NULL, "$.inputs[3]: missing \"measure\""},
    {"kpis/1/params", "denominator", NULL, "$.kpis[1].params: missing \"denominator\""},
    {"goals/2", "title", NULL, "$.goals[2]: missing \"title\""},
    {"kpis/0/target/text", "en", NULL, "$.kpis[0].target.text: missing \"en\""},
    /* unknown record kind or field in an input */
    {"inputs/0", "kind", "\"burglary\"", "$.inputs[0].kind: unknown record kind \"burglary\""},
    {"inputs/5/where/0", "field", "\"violation_fnd\"",
     "$.inputs[5].where[0].field: record kind roadworks_inspection has no field "
     "\"violation_fnd\""},
    {"inputs/6/where/0", "eq", "\"rude\"",
     "$.inputs[6].where[0].eq: \"rude\" is not a value of field \"category\""},
    {"inputs/4/where/1/in", NULL, "\"walk\"", "$.inputs[4].where[1].in[2]: \"walk\""},
    {"inputs/5/where/0", "eq", "\"yes\"",
     "$.inputs[5].where[0].eq: field \"violation_found\" is a boolean"},
    {"inputs/4/where/0", "in_list", "\"bikes\"", "the plan has no list \"bikes\""},
    {"inputs/0/where", NULL, "{\"field\": \"category\", \"eq\": \"theft\", \"in\": [\"fraud\"]}",
     "$.inputs[0].where[0]: give exactly one of eq, in, in_list, present"},
    {"inputs/1", "time", "\"data.category\"",
     "$.inputs[1].time: field \"category\" is enum, not a datetime"},
    {"inputs/1", "time", "\"cleared_at\"", "$.inputs[1].time: expected \"occurred_at\""},
    {"inputs/2", "measure", "{\"sum\": [\"class\"]}",
     "$.inputs[2].measure.sum[0]: field \"class\" is enum; only integer and boolean"},
    {"inputs/2", "group_by", "\"deaths\"", "$.inputs[2].group_by: field \"deaths\" is integer"},
    /* photos and files are never read by a plan */
    {"inputs/5/where/0", "field", "\"photos\"",
     "$.inputs[5].where[0].field: field \"photos\" of roadworks_inspection is an attachment "
     "field, which a plan cannot read"},
    {"inputs/2", "group_by", "\"photos\"",
     "$.inputs[2].group_by: field \"photos\" of traffic_accident is an attachment field"},
    {"inputs/2", "measure", "{\"sum\": [\"photos\"]}",
     "$.inputs[2].measure.sum[0]: field \"photos\" of traffic_accident is an attachment field"},
    {"inputs/2", "kind", "\"parking_citation\"",
     "$.inputs[2].where[0].field: record kind parking_citation has no field \"intersection\""},
    /* methods and parameters */
    {"kpis/2", "method", "\"share\"",
     "$.kpis[2].method: unknown method \"share\" (known: per_capita_change, ratio_vs_baseline"},
    {"kpis/1/params", "numerator", "\"nope\"",
     "$.kpis[1].params.numerator: the plan has no input \"nope\""},
    {"kpis/0/params", "reference", "\"households\"",
     "$.kpis[0].params.reference: the plan has no reference figure \"households\""},
    {"kpis/0/params", "compare", "\"sometimes\"", "$.kpis[0].params.compare: unknown comparison"},
    {"kpis/2/params", "input", "\"criminal_cases\"",
     "$.kpis[2].params.input: input \"criminal_cases\" must be grouped"},
    {"kpis/4/params", "years_back", "[]", "$.kpis[4].params.years_back: expected an array"},
    {"kpis/5/params", "years_back", "0", "$.kpis[5].params.years_back: 0 is out of range"},
    {"kpis/0/params", "colour", "\"red\"", "$.kpis[0].params: unknown key \"colour\""},
    {"kpis/3/target", "unit", "\"%\"",
     "$.kpis[3].target.unit: method ratio_vs_baseline gives a value in pt"},
    {"kpis/0/target", "op", "\"<\"", "$.kpis[0].target.op: expected \"<=\" or \">=\""},
    {"kpis/0", "direction", "\"higher\"",
     "$.kpis[0].direction: \"higher\" is better, but the target says <="},
    {"kpis/0", "goal", "\"G9\"", "$.kpis[0].goal: the plan has no goal \"G9\""},
    {"kpis/1", "id", "\"K1\"", "$.kpis[1]: KPI id \"K1\" is used twice"},
    {"kpis/0", "wieght", "10", "$.kpis[0]: unknown key \"wieght\""},
    /* bad numbers */
    {"kpis/0", "weight", "-3", "$.kpis[0].weight: -3 is out of range"},
    {"kpis/0", "weight", "10.5", "$.kpis[0].weight: 10.5 is not an integer"},
    {"kpis/0", "weight", "\"10\"", "$.kpis[0].weight: expected an integer, found a string"},
    {"kpis/0/params", "baseline", "\"1037.71\"",
     "$.kpis[0].params.baseline: expected a number, found a string"},
    {"kpis/0/params", "per", "0", "$.kpis[0].params.per: 0 is out of range"},
    {"kpis/0", "decimals", "9", "$.kpis[0].decimals: 9 is out of range"},
    {"goals/0", "weight", "30",
     "$.goals[0].weight: goal G1 weighs 30, but its KPIs weigh 25 together"},
    {"reference/population/years/2017", "TC", "0",
     "$.reference.population.years.2017.TC: expected a whole number above 0"},
    {"reference/population/years/2017", "P01", "3000000",
     "$.reference.population.years.2017: the units under TC add up to"},
    {"reference/officers/years", "17", "{\"TC\": 1}",
     "$.reference.officers.years.17: expected a Gregorian year"},
    {"reference/officers/years/2016", "P99", "5",
     "$.reference.officers.years.2016.P99: no org unit \"P99\""},
    {"", "year", "1800", "$.year: 1800 is out of range"},
    /* lists, history, header */
    {"lists/intersections", NULL, "\"INT-99\"",
     "$.lists.intersections[25]: \"INT-99\" is not in the reference list intersections"},
    {"lists", "roads", "[\"SEG-0101\"]", "$.lists.roads: not a reference list"},
    {"", "history", "[{\"input\": \"criminal_cases\", \"period\": \"2016H3\", \"org\": \"TC\", "
     "\"value\": 1}]", "$.history[0].period: "},
    {"", "history", "[{\"input\": \"criminal_cases\", \"period\": \"2016H1\", \"org\": \"P99\", "
     "\"value\": 1}]", "$.history[0].org: no org unit \"P99\""},
    {"", "history", "[{\"input\": \"cases\", \"period\": \"2016H1\", \"org\": \"TC\", "
     "\"value\": 1}]", "$.history[0].input: the plan has no input \"cases\""},
    {"", "history", "[{\"input\": \"criminal_cases\", \"period\": \"2016H1\", \"org\": \"TC\", "
     "\"value\": -1}]", "$.history[0].value: -1 is out of range"},
    {"", "format", "\"plan\"", "$.format: expected \"beatbook-plan\""},
    {"", "version", "2", "$.version: 2 is out of range"},
    {"", "org_root", "\"XX\"", "$.org_root: no org unit \"XX\""},
    {"", "id", "\"taichung 107\"", "$.id: \"taichung 107\" may only hold"},
};

static void test_bad_plans_name_the_place(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof bad_plans / sizeof bad_plans[0]; i++) {
        const struct bad *b = &bad_plans[i];
        cJSON *t = builtin_tree();
        cJSON *parent = b->path[0] ? at(t, b->path) : t;
        bb_plan *p = (bb_plan *)1;
        bb_errbuf eb;
        bb_err err;
        if (!b->key) {
            cJSON *v = cJSON_Parse(b->json);
            assert_non_null(v);
            if (cJSON_GetArraySize(parent) > 0 && cJSON_IsString(v))
                cJSON_AddItemToArray(parent, v);            /* one more element */
            else if (cJSON_GetArraySize(parent) > 0)
                cJSON_ReplaceItemInArray(parent, 0, v);     /* the first one */
            else
                cJSON_AddItemToArray(parent, v);
        } else if (!b->json) {
            cJSON_DeleteItemFromObjectCaseSensitive(parent, b->key);
        } else {
            cJSON *v = cJSON_Parse(b->json);
            assert_non_null(v);
            if (cJSON_GetObjectItemCaseSensitive(parent, b->key))
                cJSON_ReplaceItemInObjectCaseSensitive(parent, b->key, v);
            else
                cJSON_AddItemToObject(parent, b->key, v);
        }
        memset(&eb, 0, sizeof eb);
        err = parse_tree(t, &p, &eb);
        if (err != BB_ERR_INVALID || !strstr(eb.msg, b->want))
            fail_msg("case %zu (%s %s): err %d, message \"%s\", wanted \"%s\"", i, b->path,
                     b->key ? b->key : "[]", err, eb.msg, b->want);
        assert_null(p);
        cJSON_Delete(t);
    }
}

static void test_not_json_and_not_an_object(void **state)
{
    bb_plan *p;
    bb_errbuf eb;
    (void)state;

    assert_int_equal(bb_plan_parse(cat, "{\"format\": ", 11, "x.json", &p, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "line 1"));
    assert_int_equal(bb_plan_parse(cat, "[1, 2]", 6, "x.json", &p, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "x.json: $: expected a JSON object, found an array"));
    assert_int_equal(bb_plan_load_embedded(cat, "taichung-999", &p, &eb), BB_ERR_NOTFOUND);
    assert_int_equal(bb_plan_load_embedded(cat, "../records/patrol", &p, &eb), BB_ERR_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_plan_is_part_2),
        cmocka_unit_test(test_next_years_plan_is_a_new_file),
        cmocka_unit_test(test_bad_plans_name_the_place),
        cmocka_unit_test(test_not_json_and_not_an_object),
    };
    return cmocka_run_group_tests_name("bb_plan", tests, setup, teardown);
}
