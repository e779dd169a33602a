/* Unit tests for bb_json: canonical form, parse errors, capped reads, UTF-8 length. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_json.h"

static void canon_is(const char *in, const char *want)
{
    cJSON *j;
    char *out;
    assert_int_equal(bb_json_parse(in, strlen(in), "test", &j, NULL), BB_OK);
    out = bb_json_canonical(j);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
    cJSON_Delete(j);
}

static void test_canonical(void **state)
{
    (void)state;
    canon_is("{ \"b\" : 1, \"a\": [true, false, null], \"c\": {\"z\":1,\"y\":2} }",
             "{\"a\":[true,false,null],\"b\":1,\"c\":{\"y\":2,\"z\":1}}");
    canon_is("{\"n\": 1.5, \"i\": 42.0, \"neg\": -7, \"big\": 1e300, \"small\": 0.1}",
             "{\"big\":1e+300,\"i\":42,\"n\":1.5,\"neg\":-7,\"small\":0.1}");
    canon_is("\"line\\nbreak \\\"q\\\" \\\\ \\u0001 中文\"",
             "\"line\\nbreak \\\"q\\\" \\\\ \\u0001 中文\"");
    /* sorted by bytes: upper case before lower case, shorter prefix first */
    canon_is("{\"ab\":1,\"a\":2,\"B\":3}", "{\"B\":3,\"a\":2,\"ab\":1}");
    canon_is("24.1477", "24.1477");
}

static void test_canonical_stable_across_order(void **state)
{
    cJSON *a, *b;
    char *ca, *cb;
    const char *x = "{\"kind\":\"patrol\",\"data\":{\"mode\":\"car\",\"officers\":2}}";
    const char *y = "{\"data\":{\"officers\":2,\"mode\":\"car\"},\"kind\":\"patrol\"}";
    (void)state;
    assert_int_equal(bb_json_parse(x, strlen(x), "x", &a, NULL), BB_OK);
    assert_int_equal(bb_json_parse(y, strlen(y), "y", &b, NULL), BB_OK);
    ca = bb_json_canonical(a);
    cb = bb_json_canonical(b);
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_parse_errors(void **state)
{
    bb_errbuf eb;
    cJSON *j;
    (void)state;
    assert_int_equal(bb_json_parse("{\"a\":1", 6, "f.json", &j, &eb), BB_ERR_INVALID);
    assert_null(j);
    assert_non_null(strstr(eb.msg, "f.json"));
    assert_non_null(strstr(eb.msg, "truncated"));
    assert_int_equal(bb_json_parse("{\n\"a\": x}", 9, "g.json", &j, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "line 2"));
    assert_int_equal(bb_json_parse("{} {}", 5, "h", &j, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "after the value"));
    assert_int_equal(bb_json_parse("", 0, "e", &j, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_json_parse("{} \n", 4, "ws", &j, &eb), BB_OK);
    cJSON_Delete(j);
}

static void test_read_file_cap(void **state)
{
    char path[] = "/tmp/bbjsonXXXXXX", *buf;
    size_t len;
    bb_errbuf eb;
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    assert_int_equal(bb_read_file(path, 10, &buf, &len, &eb), BB_OK);
    assert_int_equal(len, 10);
    assert_string_equal(buf, "0123456789");
    free(buf);
    assert_int_equal(bb_read_file(path, 9, &buf, &len, &eb), BB_ERR_TOOBIG);
    assert_null(buf);
    unlink(path);
    assert_int_equal(bb_read_file(path, 9, &buf, &len, &eb), BB_ERR_NOTFOUND);
    assert_non_null(strstr(eb.msg, path));
}

static void test_utf8_length(void **state)
{
    (void)state;
    assert_int_equal(bb_utf8_length("abc"), 3);
    assert_int_equal(bb_utf8_length("臺中市"), 3);
    assert_int_equal(bb_utf8_length(""), 0);
    assert_int_equal(bb_utf8_length("\xff"), -1);
    assert_int_equal(bb_utf8_length("\xe8\x87"), -1);      /* truncated sequence */
    assert_int_equal(bb_utf8_length("\xc0\xaf"), -1);      /* overlong */
}

static void scan_is(const char *text, bb_err want, long long n)
{
    long long got = -1;
    bb_errbuf eb;
    assert_int_equal(bb_json_scan_objects(text, strlen(text), "t", &got, &eb), want);
    if (want == BB_OK)
        assert_int_equal(got, n);
}

static void test_scan_objects(void **state)
{
    (void)state;
    scan_is("[]", BB_OK, 0);
    scan_is(" [ {} , {\"a\":[1,{\"b\":\"}]\\\"\"}]} ] \n", BB_OK, 2);
    scan_is("[{\"s\":\"[{\"},{}]", BB_OK, 2);      /* brackets inside strings */
    scan_is("{}", BB_ERR_INVALID, 0);                  /* not an array */
    scan_is("[{},1]", BB_ERR_INVALID, 0);               /* element not an object */
    scan_is("[{]", BB_ERR_INVALID, 0);                  /* mismatched */
    scan_is("[{\"a\":[}]", BB_ERR_INVALID, 0);
    scan_is("[{}", BB_ERR_INVALID, 0);                  /* truncated */
    scan_is("[{\"a\":\"x", BB_ERR_INVALID, 0);
    scan_is("[{}]x", BB_ERR_INVALID, 0);                /* trailing text */
    scan_is("[{} {}]", BB_ERR_INVALID, 0);              /* missing comma */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_canonical_stable_across_order),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_read_file_cap),
        cmocka_unit_test(test_utf8_length),
        cmocka_unit_test(test_scan_objects),
    };
    return cmocka_run_group_tests_name("bb_json", tests, NULL, NULL);
}
