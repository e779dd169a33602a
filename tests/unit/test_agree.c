/* Unit tests for bb_agree: order independence, groups by kind and Taipei day, the
 * digest of one record by hand, and that any change of id, rev or body shows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mbedtls/sha256.h>

#include "bb_agree.h"
#include "bb_batch.h"
#include "bb_json.h"

/* 2018-03-15T14:20:00+08:00 and 2018-03-15T23:59:00+08:00 (same Taipei day), and
 * 2018-03-15T16:30:00Z = 2018-03-16T00:30:00+08:00 (the next Taipei day). */
#define T1 1521094800LL
#define T2 1521129540LL
#define T3 1521131400LL

static cJSON *digests(int order, const char *rev2_body)
{
    bb_agree *a = NULL;
    cJSON *d;
    static const char *const ids[] = {"id-a", "id-b", "id-c"};
    int i;

    assert_int_equal(bb_agree_new(&a), BB_OK);
    for (i = 0; i < 3; i++) {
        int k = order ? 2 - i : i;
        const char *body = k == 1 && rev2_body ? rev2_body : "{\"x\":1}";
        assert_int_equal(bb_agree_add(a, "patrol", k == 2 ? T3 : (k ? T2 : T1), ids[k], 1,
                                      body, strlen(body), NULL), BB_OK);
    }
    assert_non_null(d = bb_agree_digests(a));
    bb_agree_free(a);
    return d;
}

static void test_order_independent_and_grouped(void **state)
{
    cJSON *x = digests(0, NULL), *y = digests(1, NULL);
    char *a = bb_json_canonical(x), *b = bb_json_canonical(y);
    (void)state;
    assert_string_equal(a, b);
    assert_int_equal(cJSON_GetArraySize(x), 2);
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(x, 0), "day"), "2018-03-15");
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(x, 1), "day"), "2018-03-16");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(x, 0),
                                                                   "count")), 2);
    free(a);
    free(b);
    cJSON_Delete(x);
    cJSON_Delete(y);
}

static void test_one_record_by_hand(void **state)
{
    char body_sha[BB_SHA256_HEX], line[200], hex[65];
    unsigned char h[32];
    bb_agree *a = NULL;
    cJSON *d, *r;
    int i;
    (void)state;
    bb_sha256_hex((const uint8_t *)"{}", 2, body_sha);
    snprintf(line, sizeof line, "id-z\n3\n%s", body_sha);
    assert_int_equal(mbedtls_sha256_ret((const unsigned char *)line, strlen(line), h, 0), 0);
    for (i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_int_equal(bb_agree_new(&a), BB_OK);
    assert_int_equal(bb_agree_add(a, "complaint", T1, "id-z", 3, "{}", 2, NULL), BB_OK);
    assert_non_null(d = bb_agree_digests(a));
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(d, 0), "digest"), hex);
    assert_non_null(r = bb_agree_records(a, NULL));
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(r, 0), "sha256"), body_sha);
    cJSON_Delete(d);
    cJSON_Delete(r);
    bb_agree_free(a);
}

static void test_a_changed_body_shows(void **state)
{
    cJSON *x = digests(0, NULL), *y = digests(0, "{\"x\":2}");
    (void)state;
    assert_string_not_equal(bb_json_str(cJSON_GetArrayItem(x, 0), "digest"),
                            bb_json_str(cJSON_GetArrayItem(y, 0), "digest"));
    assert_string_equal(bb_json_str(cJSON_GetArrayItem(x, 1), "digest"),
                        bb_json_str(cJSON_GetArrayItem(y, 1), "digest"));
    cJSON_Delete(x);
    cJSON_Delete(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_independent_and_grouped),
        cmocka_unit_test(test_one_record_by_hand),
        cmocka_unit_test(test_a_changed_body_shows),
    };
    return cmocka_run_group_tests_name("bb_agree", tests, NULL, NULL);
}
