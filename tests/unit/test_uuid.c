/* Unit tests for bb_uuid: format, version bits, order within and across milliseconds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bb_uuid.h"

static void test_format_and_version(void **state)
{
    char id[BB_UUID_STRLEN + 1];
    (void)state;
    assert_int_equal(bb_uuid7(id), BB_OK);
    assert_int_equal(strlen(id), 36);
    assert_true(bb_uuid_valid(id));
    assert_int_equal(id[14], '7');                       /* version 7 */
    assert_non_null(strchr("89ab", id[19]));             /* RFC 9562 variant */
}

static void test_time_prefix(void **state)
{
    char id[BB_UUID_STRLEN + 1];
    (void)state;
    /* 2018-03-15T06:20:00Z = 1521094800000 ms = 0x01622850b280.  Runs first:
     * later tests move the generator's clock forward. */
    assert_int_equal(bb_uuid7_at(1521094800000ULL, id), BB_OK);
    assert_memory_equal(id, "01622850-b280-7", 15);
}

static void test_monotonic_same_ms(void **state)
{
    char prev[BB_UUID_STRLEN + 1], cur[BB_UUID_STRLEN + 1];
    int i;
    (void)state;
    assert_int_equal(bb_uuid7_at(1600000000000ULL, prev), BB_OK);
    for (i = 0; i < 10000; i++) {   /* more than the 12-bit counter holds */
        assert_int_equal(bb_uuid7_at(1600000000000ULL, cur), BB_OK);
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof cur);
    }
}

static void test_monotonic_clock_steps_back(void **state)
{
    char a[BB_UUID_STRLEN + 1], b[BB_UUID_STRLEN + 1];
    (void)state;
    assert_int_equal(bb_uuid7_at(1700000000000ULL, a), BB_OK);
    assert_int_equal(bb_uuid7_at(1699999999000ULL, b), BB_OK);   /* clock stepped back */
    assert_true(strcmp(a, b) < 0);
}

static void test_unique(void **state)
{
    char a[BB_UUID_STRLEN + 1], b[BB_UUID_STRLEN + 1];
    (void)state;
    assert_int_equal(bb_uuid7(a), BB_OK);
    assert_int_equal(bb_uuid7(b), BB_OK);
    assert_string_not_equal(a, b);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(bb_uuid_valid("0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6f"));
    assert_false(bb_uuid_valid("0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6"));
    assert_false(bb_uuid_valid("0190f3a2x7c1e-7b3a-9f2d-6c1e0a4b5d6f"));
    assert_false(bb_uuid_valid("0190f3a2-7c1e-7b3a-9f2d-6c1e0a4b5d6g"));
    assert_false(bb_uuid_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_prefix),
        cmocka_unit_test(test_format_and_version),
        cmocka_unit_test(test_monotonic_same_ms),
        cmocka_unit_test(test_monotonic_clock_steps_back),
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_valid),
    };
    return cmocka_run_group_tests_name("bb_uuid", tests, NULL, NULL);
}
