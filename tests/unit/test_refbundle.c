/*
 * test_refbundle — bb_refbundle: the signed reference bundle (docs/FORMATS.md
 * §2, DESIGN.md §6).
 *
 * A bundle built from the compiled-in data signs, verifies and applies; its
 * version depends on the content only; a tampered bundle, another key or a
 * version that does not match the content is refused; a bundle with one bad
 * kind or list is refused whole; an older bundle never replaces a newer
 * one; and the copy stored in field.db is verified every time it is read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bb_codec.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_refbundle.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"

#define T1 "2018-03-15T18:00:00+08:00"
#define T2 "2018-03-16T09:30:00+08:00"
#define NEW_SEGMENT "{\"code\":\"SEG-9901\",\"label\":{\"zh-TW\":\"測試路段\"," \
                    "\"en\":\"Test Rd\"},\"precinct\":\"P06\"}"

static bb_sign_key *hq, *other;
static char hq_kid[BB_KEY_ID_SIZE], other_kid[BB_KEY_ID_SIZE];

static int group_setup(void **state)
{
    (void)state;
    if (bb_sign_keygen(&hq, NULL) != BB_OK || bb_sign_keygen(&other, NULL) != BB_OK ||
        bb_sign_key_id(hq, hq_kid, NULL) != BB_OK ||
        bb_sign_key_id(other, other_kid, NULL) != BB_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bb_sign_key_free(hq);
    bb_sign_key_free(other);
    return 0;
}

/* The built-in content, optionally with one more listed segment. */
static cJSON *content(int extra_segment)
{
    cJSON *c = NULL;
    bb_errbuf eb = {{0}};

    assert_int_equal(bb_refbundle_content_embedded(&c, &eb), BB_OK);
    if (extra_segment) {
        cJSON *seg = NULL;
        assert_int_equal(bb_json_parse(NEW_SEGMENT, strlen(NEW_SEGMENT), "test", &seg, NULL),
                         BB_OK);
        cJSON_AddItemToArray(cJSON_GetObjectItem(c, "segments"), seg);
    }
    return c;
}

/* content signed by key at issued_at, as canonical text (caller frees). */
static char *signed_text(cJSON *c, const char *issued_at, const bb_sign_key *key)
{
    bb_errbuf eb = {{0}};
    char *text;

    assert_int_equal(bb_refbundle_sign(c, issued_at, key, &eb), BB_OK);
    text = bb_json_canonical(c);
    assert_non_null(text);
    cJSON_Delete(c);
    return text;
}

static bb_err open_text(const char *text, bb_refbundle **b, bb_errbuf *eb)
{
    return bb_refbundle_open(text, strlen(text), hq, hq_kid, b, eb);
}

/* Replace the first `from` in text by `to` (same length or not). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);

    assert_non_null(at);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static void test_build_open_apply(void **state)
{
    bb_errbuf eb = {{0}};
    bb_catalog *emb = NULL, *cat = NULL;
    bb_refbundle *b = NULL;
    char version[BB_REFBUNDLE_VERSION_SIZE];
    cJSON *c = content(1);
    char *text;
    size_t len = 0;

    (void)state;
    assert_int_equal(bb_refbundle_check(c, NULL, &eb), BB_OK);
    assert_int_equal(bb_refbundle_version(c, version, &eb), BB_OK);
    text = signed_text(c, T1, hq);
    assert_int_equal(open_text(text, &b, &eb), BB_OK);
    assert_string_equal(bb_refbundle_version_of(b), version);
    assert_string_equal(bb_refbundle_issued_at(b), T1);
    assert_int_equal(bb_refbundle_issued_unix(b), 1521108000);
    /* What is stored is the canonical text, byte for byte what HQ sent. */
    assert_string_equal(bb_refbundle_text(b, &len), text);
    assert_int_equal(len, strlen(text));

    /* Applied to the built-in catalog: the new segment is listed, nothing is lost. */
    assert_int_equal(bb_catalog_load_embedded(&emb, &eb), BB_OK);
    assert_null(bb_catalog_ref(emb, "segments", "SEG-9901"));
    assert_int_equal(bb_refbundle_apply(b, emb, &eb), BB_OK);
    assert_non_null(bb_catalog_ref(emb, "segments", "SEG-9901"));
    assert_non_null(bb_catalog_ref(emb, "segments", "SEG-0101"));
    assert_non_null(bb_catalog_kind(emb, "parking_citation"));
    /* Applied to an empty catalog it is a whole catalog. */
    assert_int_equal(bb_catalog_new(&cat), BB_OK);
    assert_int_equal(bb_refbundle_apply(b, cat, &eb), BB_OK);
    assert_int_equal(bb_catalog_kind_count(cat), bb_catalog_kind_count(emb));
    assert_int_equal(bb_catalog_ref_count(cat, "units"), bb_catalog_ref_count(emb, "units"));
    assert_true(bb_catalog_unit_within(cat, "P06-S03", "TC"));
    bb_catalog_free(cat);
    bb_catalog_free(emb);
    bb_refbundle_free(b);
    free(text);
}

/* The version is the content's: not when, nor by whom, it was signed. */
static void test_version_is_content(void **state)
{
    bb_errbuf eb = {{0}};
    bb_refbundle *a = NULL, *b = NULL;
    char *t1 = signed_text(content(0), T1, hq), *t2 = signed_text(content(0), T2, hq);
    char *t3 = signed_text(content(1), T1, hq);
    bb_refbundle *c = NULL;

    (void)state;
    assert_int_equal(open_text(t1, &a, &eb), BB_OK);
    assert_int_equal(open_text(t2, &b, &eb), BB_OK);
    assert_int_equal(open_text(t3, &c, &eb), BB_OK);
    assert_string_equal(bb_refbundle_version_of(a), bb_refbundle_version_of(b));
    assert_string_not_equal(bb_refbundle_version_of(a), bb_refbundle_version_of(c));
    assert_string_not_equal(t1, t2);
    bb_refbundle_free(a);
    bb_refbundle_free(b);
    bb_refbundle_free(c);
    free(t1);
    free(t2);
    free(t3);
}

static void test_tampered(void **state)
{
    bb_errbuf eb = {{0}};
    bb_refbundle *b = NULL;
    char *text = signed_text(content(0), T1, hq), *bad;
    cJSON *doc;

    (void)state;
    /* A listed segment added by someone else. */
    bad = replace(text, "\"segments\":[", "\"segments\":[" NEW_SEGMENT ",");
    assert_int_equal(open_text(bad, &b, &eb), BB_ERR_CRYPTO);
    assert_null(b);
    assert_non_null(strstr(eb.msg, "authentication failed"));
    free(bad);
    /* A label changed. */
    bad = replace(text, "Parking citation", "Parking citatioN");
    assert_int_equal(open_text(bad, &b, &eb), BB_ERR_CRYPTO);
    free(bad);
    /* issued_at moved forward (to beat the rollback check). */
    bad = replace(text, T1, T2);
    assert_int_equal(open_text(bad, &b, &eb), BB_ERR_CRYPTO);
    free(bad);
    /* No signature at all. */
    assert_int_equal(bb_json_parse(text, strlen(text), "t", &doc, NULL), BB_OK);
    cJSON_DeleteItemFromObject(doc, "sig");
    bad = bb_json_canonical(doc);
    assert_int_not_equal(open_text(bad, &b, &eb), BB_OK);
    assert_null(b);
    cJSON_Delete(doc);
    free(bad);
    /* Not JSON, empty, too big. */
    assert_int_equal(open_text("{\"v\":1,", &b, &eb), BB_ERR_INVALID);
    assert_int_equal(open_text("", &b, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_refbundle_open(text, BB_REFBUNDLE_MAX + 1, hq, hq_kid, &b, &eb),
                     BB_ERR_TOOBIG);
    free(text);
}

static void test_wrong_key(void **state)
{
    bb_errbuf eb = {{0}};
    bb_refbundle *b = NULL;
    char *text = signed_text(content(0), T1, other), *claimed;
    cJSON *c;

    (void)state;
    /* Signed by another key: its key id is not HQ's. */
    assert_int_equal(open_text(text, &b, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "hq_sign_key"));
    /* ... and claiming HQ's key id does not help. */
    c = content(0);
    assert_int_equal(bb_refbundle_stamp(c, T1, hq_kid, &eb), BB_OK);
    assert_int_equal(bb_sigdoc_sign(c, BB_CTX_REFERENCE, other, &eb), BB_OK);
    claimed = bb_json_canonical(c);
    assert_int_equal(open_text(claimed, &b, &eb), BB_ERR_CRYPTO);
    cJSON_Delete(c);
    free(claimed);
    /* HQ's key, but as another document type (a receipt) is refused too. */
    c = content(0);
    assert_int_equal(bb_refbundle_stamp(c, T1, hq_kid, &eb), BB_OK);
    assert_int_equal(bb_sigdoc_sign(c, BB_CTX_RECEIPT, hq, &eb), BB_OK);
    claimed = bb_json_canonical(c);
    assert_int_equal(open_text(claimed, &b, &eb), BB_ERR_CRYPTO);
    assert_null(b);
    cJSON_Delete(c);
    free(claimed);
    free(text);
}

/* HQ's signature over a "version" that is not the content's hash. */
static void test_version_mismatch(void **state)
{
    bb_errbuf eb = {{0}};
    bb_refbundle *b = NULL;
    cJSON *c = content(0);
    char *text;

    (void)state;
    assert_int_equal(bb_refbundle_stamp(c, T1, hq_kid, &eb), BB_OK);
    cJSON_ReplaceItemInObject(c, "version", cJSON_CreateString(
        "0000000000000000000000000000000000000000000000000000000000000000"));
    assert_int_equal(bb_sigdoc_sign(c, BB_CTX_REFERENCE, hq, &eb), BB_OK);
    text = bb_json_canonical(c);
    assert_int_equal(open_text(text, &b, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "version"));
    cJSON_Delete(c);
    free(text);
}

/* Signed by HQ, yet one part does not load: the whole bundle is refused, and
 * a catalog it would have updated keeps what it had. */
static void test_bad_kind_refused_whole(void **state)
{
    static const char *const bad_parts[][2] = {
        {"kinds", "{\"kind\":\"bad_kind\",\"version\":1,\"label\":{\"en\":\"Bad\"},"
                  "\"fields\":[{\"name\":\"x\",\"type\":\"colour\",\"label\":{\"en\":\"X\"}}]}"},
        {"kinds", "{\"kind\":\"parking_citation\",\"version\":1,\"label\":{\"en\":\"Twice\"},"
                  "\"fields\":[{\"name\":\"x\",\"type\":\"text\",\"label\":{\"en\":\"X\"}}]}"},
        {"kinds", "{\"kind\":\"bad_ref\",\"version\":1,\"label\":{\"en\":\"Bad\"},"
                  "\"fields\":[{\"name\":\"x\",\"type\":\"ref\",\"ref\":\"roads\","
                  "\"label\":{\"en\":\"X\"}}]}"},
        {"units", "{\"code\":\"P99-S01\",\"level\":\"station\",\"parent\":\"P99\","
                  "\"label\":{\"en\":\"Nowhere\"}}"},
        {"segments", "{\"code\":\"SEG-0101\",\"label\":{\"en\":\"Twice\"}}"},
    };
    bb_errbuf eb = {{0}};
    bb_catalog *cat = NULL;
    size_t i;

    (void)state;
    assert_int_equal(bb_catalog_load_embedded(&cat, &eb), BB_OK);
    for (i = 0; i < sizeof bad_parts / sizeof bad_parts[0]; i++) {
        bb_refbundle *b = NULL;
        cJSON *c = content(1), *part = NULL;
        char *text;
        assert_int_equal(bb_json_parse(bad_parts[i][1], strlen(bad_parts[i][1]), "t", &part,
                                       NULL), BB_OK);
        cJSON_AddItemToArray(cJSON_GetObjectItem(c, bad_parts[i][0]), part);
        /* HQ would not build it ... */
        assert_int_equal(bb_refbundle_check(c, NULL, &eb), BB_ERR_INVALID);
        /* ... and a device does not take it, signed or not. */
        text = signed_text(c, T2, hq);
        assert_int_equal(open_text(text, &b, &eb), BB_ERR_INVALID);
        assert_null(b);
        assert_non_null(strstr(eb.msg, "reference bundle"));
        free(text);
    }
    /* Nothing of those bundles reached the catalog: not even the good new segment. */
    assert_null(bb_catalog_ref(cat, "segments", "SEG-9901"));
    assert_null(bb_catalog_kind(cat, "bad_kind"));
    assert_string_equal(bb_label(&bb_catalog_kind(cat, "parking_citation")->label, BB_LANG_EN,
                                 ""), "Parking citation");
    bb_catalog_free(cat);
}

/* Building: a bad list or kind file is refused and the content stays as it was. */
static void test_put_errors(void **state)
{
    static const char dup[] = "{\"version\":1,\"segments\":[{\"code\":\"A\"},{\"code\":\"A\"}]}";
    static const char kind[] = "{\"kind\":\"Bad Name\",\"version\":1,\"fields\":[]}";
    bb_errbuf eb = {{0}};
    char before[BB_REFBUNDLE_VERSION_SIZE], after[BB_REFBUNDLE_VERSION_SIZE];
    cJSON *c = content(0);

    (void)state;
    assert_int_equal(bb_refbundle_version(c, before, &eb), BB_OK);
    assert_int_equal(bb_refbundle_put_list(c, "segments", dup, strlen(dup), "segs.json", &eb),
                     BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "segs.json"));
    assert_int_equal(bb_refbundle_put_list(c, "roads", dup, strlen(dup), "roads.json", &eb),
                     BB_ERR_INVALID);
    assert_int_equal(bb_refbundle_put_kind(c, kind, strlen(kind), "k.json", NULL, &eb),
                     BB_ERR_INVALID);
    assert_int_equal(bb_refbundle_version(c, after, &eb), BB_OK);
    assert_string_equal(before, after);
    cJSON_Delete(c);
}

/* A kind goes in at its place by name; the same name replaces it. */
static void test_put_kind_sorted(void **state)
{
    static const char kind[] = "{\"kind\":\"lost_property\",\"version\":1,"
        "\"label\":{\"en\":\"Lost property\"},\"fields\":[{\"name\":\"item\","
        "\"type\":\"text\",\"label\":{\"en\":\"Item\"}}]}";
    static const char kind2[] = "{\"kind\":\"lost_property\",\"version\":2,"
        "\"label\":{\"en\":\"Lost property\"},\"fields\":[{\"name\":\"item\","
        "\"type\":\"text\",\"label\":{\"en\":\"Item\"}}]}";
    bb_errbuf eb = {{0}};
    cJSON *c = content(0), *k;
    const char *name = NULL, *prev = "";
    int n0 = cJSON_GetArraySize(cJSON_GetObjectItem(c, "kinds")), found = 0;

    (void)state;
    assert_int_equal(bb_refbundle_put_kind(c, kind, strlen(kind), "k.json", &name, &eb), BB_OK);
    assert_string_equal(name, "lost_property");
    assert_int_equal(bb_refbundle_put_kind(c, kind2, strlen(kind2), "k.json", NULL, &eb), BB_OK);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "kinds")), n0 + 1);
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(c, "kinds")) {
        const char *kn = bb_json_str(k, "kind");
        assert_true(strcmp(prev, kn) < 0);
        if (strcmp(kn, "lost_property") == 0) {
            found++;
            assert_int_equal(cJSON_GetObjectItem(k, "version")->valueint, 2);
        }
        prev = kn;
    }
    assert_int_equal(found, 1);
    assert_int_equal(bb_refbundle_check(c, NULL, &eb), BB_OK);
    cJSON_Delete(c);
}

static void test_rollback(void **state)
{
    bb_errbuf eb = {{0}};
    bb_refbundle *old = NULL, *new = NULL, *same = NULL;
    char *t_old = signed_text(content(0), T1, hq), *t_new = signed_text(content(1), T2, hq);
    char *t_same = signed_text(content(1), T1, hq);

    (void)state;
    assert_int_equal(open_text(t_old, &old, &eb), BB_OK);
    assert_int_equal(open_text(t_new, &new, &eb), BB_OK);
    assert_int_equal(open_text(t_same, &same, &eb), BB_OK);
    assert_int_equal(bb_refbundle_newer(new, NULL, 0, &eb), BB_OK);
    assert_int_equal(bb_refbundle_newer(new, bb_refbundle_version_of(old),
                                        bb_refbundle_issued_unix(old), &eb), BB_OK);
    /* Older content: refused. */
    assert_int_equal(bb_refbundle_newer(old, bb_refbundle_version_of(new),
                                        bb_refbundle_issued_unix(new), &eb), BB_ERR_CONFLICT);
    assert_non_null(strstr(eb.msg, "not newer"));
    /* The same content, whenever issued: nothing to refuse. */
    assert_int_equal(bb_refbundle_newer(same, bb_refbundle_version_of(new),
                                        bb_refbundle_issued_unix(new), &eb), BB_OK);
    /* Other content issued at the same second: not newer. */
    assert_int_equal(bb_refbundle_newer(same, bb_refbundle_version_of(old),
                                        bb_refbundle_issued_unix(old), &eb), BB_ERR_CONFLICT);
    bb_refbundle_free(old);
    bb_refbundle_free(new);
    bb_refbundle_free(same);
    free(t_old);
    free(t_new);
    free(t_same);
}

/* ---- the copy in field.db ------------------------------------------------- */

static char dir[64], path[128];

static void remove_store(void)
{
    char p[160];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    rmdir(dir);
}

/* A collector store enrolled with HQ's key `key`. */
static sqlite3 *enrolled_store(const bb_sign_key *key, const char *kid)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *b64 = NULL;

    snprintf(dir, sizeof dir, "/tmp/bbrefXXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/field.db", dir);
    assert_int_equal(bb_db_open(path, "collector", BB_DB_CREATE, &db, NULL), BB_OK);
    assert_int_equal(bb_sign_pub_export_der(key, &der, &der_len, NULL), BB_OK);
    assert_int_equal(bb_base64_encode_alloc(der, der_len, &b64, NULL), BB_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
        "INSERT INTO enrollment (id, hq_url, tls_pin, hq_x25519, hq_x25519_key, hq_sign_pub, "
        "hq_sign_key, label, issued_at, expires_at, device_key, enrolled_at) VALUES (1, "
        "'https://hq', 'sha256//x', 'x', 'x', ?1, ?2, 'lp', '" T1 "', '" T2 "', 'k', '" T1 "')",
        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, b64, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(der);
    free(b64);
    return db;
}

static void test_store(void **state)
{
    bb_errbuf eb = {{0}};
    struct bb_refbundle_stored s;
    bb_refbundle *old = NULL, *new = NULL, *got = NULL;
    char *t_old = signed_text(content(0), T1, hq), *t_new = signed_text(content(1), T2, hq);
    sqlite3 *db = enrolled_store(hq, hq_kid);
    cJSON *sum = NULL;
    int changed = -1;

    (void)state;
    assert_int_equal(bb_refbundle_stored_load(db, &got, &eb), BB_ERR_NOTFOUND);
    assert_int_equal(bb_refbundle_stored_summary(db, &sum, &eb), BB_OK);
    assert_string_equal(bb_json_str(sum, "source"), "built-in");
    cJSON_Delete(sum);
    assert_int_equal(open_text(t_old, &old, &eb), BB_OK);
    assert_int_equal(open_text(t_new, &new, &eb), BB_OK);

    assert_int_equal(bb_refbundle_stored_save(db, new, 1600000000, &changed, &eb), BB_OK);
    assert_int_equal(changed, 1);
    /* An older bundle does not replace it (a replay of what HQ replaced). */
    assert_int_equal(bb_refbundle_stored_save(db, old, 1600000100, &changed, &eb),
                     BB_ERR_CONFLICT);
    assert_int_equal(changed, 0);
    assert_int_equal(bb_refbundle_stored_info(db, &s, &eb), BB_OK);
    assert_string_equal(s.version, bb_refbundle_version_of(new));
    assert_string_equal(s.issued_at, T2);
    /* The same one again only notes the check. */
    assert_int_equal(bb_refbundle_stored_save(db, new, 1600000200, &changed, &eb), BB_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(bb_refbundle_stored_info(db, &s, &eb), BB_OK);
    assert_string_equal(s.fetched_at, "2020-09-13T20:26:40+08:00");
    assert_string_equal(s.checked_at, "2020-09-13T20:30:00+08:00");
    assert_int_equal(bb_refbundle_stored_load(db, &got, &eb), BB_OK);
    assert_string_equal(bb_refbundle_version_of(got), bb_refbundle_version_of(new));
    bb_refbundle_free(got);
    got = NULL;

    /* Altered in the store: never used, and a later bundle replaces it even if older. */
    assert_int_equal(sqlite3_exec(db, "UPDATE reference SET body = replace(body, 'SEG-9901', "
                                      "'SEG-9902')", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(bb_refbundle_stored_load(db, &got, &eb), BB_ERR_CRYPTO);
    assert_null(got);
    assert_int_equal(bb_refbundle_stored_summary(db, &sum, &eb), BB_OK);
    assert_string_equal(bb_json_str(sum, "source"), "built-in");
    assert_non_null(bb_json_obj(sum, "ignored"));
    cJSON_Delete(sum);
    assert_int_equal(bb_refbundle_stored_save(db, old, 1600000300, &changed, &eb), BB_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(bb_refbundle_stored_load(db, &got, &eb), BB_OK);
    assert_string_equal(bb_refbundle_version_of(got), bb_refbundle_version_of(old));
    assert_int_equal(bb_refbundle_stored_summary(db, &sum, &eb), BB_OK);
    assert_string_equal(bb_json_str(sum, "source"), "hq");
    assert_string_equal(bb_json_str(sum, "version"), bb_refbundle_version_of(old));
    cJSON_Delete(sum);

    bb_refbundle_free(got);
    bb_refbundle_free(old);
    bb_refbundle_free(new);
    free(t_old);
    free(t_new);
    bb_db_close(db);
    remove_store();
}

/* A store enrolled with another HQ does not take this HQ's bundle. */
static void test_store_other_hq(void **state)
{
    bb_errbuf eb = {{0}};
    bb_refbundle *b = NULL, *got = NULL;
    sqlite3 *db = enrolled_store(other, other_kid);
    char *text = signed_text(content(0), T1, hq);
    int changed = -1;

    (void)state;
    assert_int_equal(open_text(text, &b, &eb), BB_OK);
    /* Stored by hand (as if syncd had not checked), it does not verify on load. */
    assert_int_equal(bb_refbundle_stored_save(db, b, 1600000000, &changed, &eb), BB_OK);
    assert_int_equal(bb_refbundle_stored_load(db, &got, &eb), BB_ERR_INVALID);
    assert_null(got);
    assert_non_null(strstr(eb.msg, "hq_sign_key"));
    bb_refbundle_free(b);
    free(text);
    bb_db_close(db);
    remove_store();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_open_apply),
        cmocka_unit_test(test_version_is_content),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_bad_kind_refused_whole),
        cmocka_unit_test(test_put_errors),
        cmocka_unit_test(test_put_kind_sorted),
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_store_other_hq),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
