/*
 * test_sign — bb_sign: ECDSA P-256 signatures (RFC 6979 known answers,
 * forgeries that must fail), key files (0600, O_EXCL, refusal of readable
 * files), public key encodings, key ids, and X25519 key files (RFC 8410).
 *
 * Every test works in its own mkdtemp directory, removed afterwards.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "bb_codec.h"
#include "bb_hpke.h"
#include "bb_rand.h"
#include "bb_sign.h"

/* ---- Fixture: a temporary directory ------------------------------------ */

struct tmp {
    char dir[64];
    char path[128];
};

static int setup_tmp(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);

    if (!t)
        return -1;
    strcpy(t->dir, "/tmp/bb_test_sign_XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    struct dirent *de;
    char p[512];
    DIR *d = opendir(t->dir);

    if (d) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", t->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t->dir);
    free(t);
    return 0;
}

/* t->path = dir/name */
static const char *tpath(struct tmp *t, const char *name)
{
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    return t->path;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    n = read(fd, buf, sizeof buf - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
    return buf;
}

static mode_t file_mode(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(bb_hex_decode(hex, strlen(hex), out, cap, &n, NULL),
                     BB_OK);
    return n;
}

/* ---- Signatures ----------------------------------------------------------- */

static void test_sign_verify(void **state)
{
    static const uint8_t msg[] = "BBATCH\x01 header payload";
    const size_t len = sizeof msg - 1;
    bb_sign_key *key = NULL, *other = NULL;
    uint8_t sig[64], sig2[64], bad[64], m[sizeof msg];
    bb_errbuf eb;

    (void)state;
    assert_int_equal(bb_sign_keygen(&key, &eb), BB_OK);
    assert_int_equal(bb_sign_keygen(&other, &eb), BB_OK);
    assert_int_equal(bb_sign(key, msg, len, sig, &eb), BB_OK);
    assert_int_equal(bb_sign_verify(key, msg, len, sig, &eb), BB_OK);

    /* RFC 6979: the same message gives the same signature. */
    assert_int_equal(bb_sign(key, msg, len, sig2, &eb), BB_OK);
    assert_memory_equal(sig, sig2, 64);

    /* A flipped bit anywhere in the message or the signature fails. */
    memcpy(m, msg, sizeof m);
    for (size_t i = 0; i < len; i++) {
        m[i] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(bb_sign_verify(key, m, len, sig, &eb),
                         BB_ERR_CRYPTO);
        assert_string_equal(eb.msg, "authentication failed");
        m[i] ^= (uint8_t)(1u << (i % 8));
    }
    assert_int_equal(bb_sign_verify(key, msg, len - 1, sig, &eb),
                     BB_ERR_CRYPTO);
    for (size_t i = 0; i < 64; i++) {
        memcpy(bad, sig, 64);
        bad[i] ^= (uint8_t)(0x80u >> (i % 8));
        assert_int_equal(bb_sign_verify(key, msg, len, bad, &eb),
                         BB_ERR_CRYPTO);
    }
    /* r || s swapped, zero, and r = s = n (out of range). */
    memcpy(bad, sig + 32, 32);
    memcpy(bad + 32, sig, 32);
    assert_int_equal(bb_sign_verify(key, msg, len, bad, &eb), BB_ERR_CRYPTO);
    memset(bad, 0, 64);
    assert_int_equal(bb_sign_verify(key, msg, len, bad, &eb), BB_ERR_CRYPTO);
    unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
          bad, 32);
    memcpy(bad + 32, bad, 32);
    assert_int_equal(bb_sign_verify(key, msg, len, bad, &eb), BB_ERR_CRYPTO);

    /* Another key's signature of the same message fails. */
    assert_int_equal(bb_sign(other, msg, len, sig2, &eb), BB_OK);
    assert_int_equal(bb_sign_verify(key, msg, len, sig2, &eb), BB_ERR_CRYPTO);
    assert_int_equal(bb_sign_verify(other, msg, len, sig, &eb),
                     BB_ERR_CRYPTO);

    /* The empty message is a message. */
    assert_int_equal(bb_sign(key, NULL, 0, sig, &eb), BB_OK);
    assert_int_equal(bb_sign_verify(key, (const uint8_t *)"", 0, sig, &eb),
                     BB_OK);
    bb_sign_key_free(key);
    bb_sign_key_free(other);
    bb_sign_key_free(NULL);
}

/* RFC 6979 A.2.5: P-256, SHA-256, messages "sample" and "test". */
static void test_rfc6979(void **state)
{
    struct tmp *t = *state;
    static const char d_hex[] =
        "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
    static const char q_hex[] =
        "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
        "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
    static const char *const sigs[][2] = {
        { "sample",
          "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
          "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8" },
        { "test",
          "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
          "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083" },
    };
    /* SEC1 ECPrivateKey { 1, d, [0] prime256v1 }, no public key. */
    uint8_t der[51] = { 0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20 };
    static const uint8_t oid[] = { 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07 };
    char b64[BB_BASE64_SIZE(sizeof der)], pem[256];
    uint8_t raw[65], want_raw[65], sig[64], want[64];
    bb_sign_key *key = NULL;
    bb_errbuf eb;

    unhex(d_hex, der + 7, 32);
    memcpy(der + 39, oid, sizeof oid);
    assert_int_equal(bb_base64_encode(der, sizeof der, b64, sizeof b64, NULL,
                                      NULL), BB_OK);
    snprintf(pem, sizeof pem, "-----BEGIN EC PRIVATE KEY-----\n%s\n"
             "-----END EC PRIVATE KEY-----\n", b64);
    write_file(tpath(t, "rfc6979.pem"), pem, 0600);
    assert_int_equal(bb_sign_key_load(&key, t->path, &eb), BB_OK);

    assert_int_equal(bb_sign_pub_export_raw(key, raw, &eb), BB_OK);
    unhex(q_hex, want_raw, sizeof want_raw);
    assert_memory_equal(raw, want_raw, 65);
    for (size_t i = 0; i < 2; i++) {
        const char *m = sigs[i][0];
        assert_int_equal(bb_sign(key, (const uint8_t *)m, strlen(m), sig,
                                 &eb), BB_OK);
        unhex(sigs[i][1], want, sizeof want);
        assert_memory_equal(sig, want, 64);
        assert_int_equal(bb_sign_verify(key, (const uint8_t *)m, strlen(m),
                                        want, &eb), BB_OK);
    }
    bb_sign_key_free(key);
}

/* ---- Key files --------------------------------------------------------- */

static void test_key_file(void **state)
{
    struct tmp *t = *state;
    bb_sign_key *key = NULL, *loaded = NULL;
    char id1[BB_KEY_ID_SIZE], id2[BB_KEY_ID_SIZE], path[128], line2[16];
    uint8_t sig[64];
    mode_t old;
    bb_errbuf eb;

    assert_int_equal(bb_sign_keygen(&key, &eb), BB_OK);

    /* 0600 whatever the umask. */
    old = umask(0);
    assert_int_equal(bb_sign_key_write(key, tpath(t, "a.pem"), &eb), BB_OK);
    assert_int_equal(file_mode(t->path), 0600);
    umask(0277);
    assert_int_equal(bb_sign_key_write(key, tpath(t, "b.pem"), &eb), BB_OK);
    assert_int_equal(file_mode(t->path), 0600);
    umask(old);
    assert_non_null(strstr(slurp(t->path), "-----BEGIN EC PRIVATE KEY-----"));

    /* Never overwritten. */
    strcpy(path, tpath(t, "a.pem"));
    assert_int_equal(bb_sign_key_write(key, path, &eb), BB_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, path));
    assert_null(strstr(eb.msg, "PRIVATE KEY"));

    /* Load gives the same key. */
    assert_int_equal(bb_sign_key_load(&loaded, path, &eb), BB_OK);
    assert_true(bb_sign_key_has_private(loaded));
    assert_int_equal(bb_sign_key_id(key, id1, &eb), BB_OK);
    assert_int_equal(bb_sign_key_id(loaded, id2, &eb), BB_OK);
    assert_string_equal(id1, id2);
    assert_int_equal(bb_sign(loaded, (const uint8_t *)"x", 1, sig, &eb),
                     BB_OK);
    assert_int_equal(bb_sign_verify(key, (const uint8_t *)"x", 1, sig, &eb),
                     BB_OK);
    bb_sign_key_free(loaded);
    loaded = NULL;

    /* Readable by group or others: refused, with what to do, no key. */
    memcpy(line2, strchr(slurp(path), '\n') + 1, sizeof line2 - 1);
    line2[sizeof line2 - 1] = '\0';
    static const mode_t open_modes[] = { 0644, 0640, 0604, 0660, 0601 };
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        assert_int_equal(chmod(path, open_modes[i]), 0);
        assert_int_equal(bb_sign_key_load(&loaded, path, &eb), BB_ERR_PERM);
        assert_null(loaded);
        assert_non_null(strstr(eb.msg, path));
        assert_non_null(strstr(eb.msg, "chmod 600"));
        assert_null(strstr(eb.msg, line2));
    }
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(bb_sign_key_load(&loaded, path, &eb), BB_OK);
    bb_sign_key_free(loaded);
    loaded = NULL;

    /* Missing, garbage, a directory, a missing directory. */
    assert_int_equal(bb_sign_key_load(&loaded, tpath(t, "none.pem"), &eb),
                     BB_ERR_NOTFOUND);
    write_file(tpath(t, "junk.pem"), "-----BEGIN EC PRIVATE KEY-----\n"
               "c2VjcmV0c2VjcmV0\n-----END EC PRIVATE KEY-----\n", 0600);
    assert_int_equal(bb_sign_key_load(&loaded, t->path, &eb),
                     BB_ERR_INVALID);
    assert_null(strstr(eb.msg, "c2VjcmV0"));
    assert_int_equal(bb_sign_key_load(&loaded, t->dir, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_sign_key_write(key, tpath(t, "no/such/dir.pem"), &eb),
                     BB_ERR_NOTFOUND);
    assert_null(loaded);

    /* A public-only key has nothing to write. */
    {
        uint8_t raw[65];
        bb_sign_key *pub = NULL;
        assert_int_equal(bb_sign_pub_export_raw(key, raw, &eb), BB_OK);
        assert_int_equal(bb_sign_pub_import_raw(&pub, raw, &eb), BB_OK);
        assert_int_equal(bb_sign_key_write(pub, tpath(t, "pub.pem"), &eb),
                         BB_ERR_STATE);
        assert_int_equal(access(t->path, F_OK), -1);
        bb_sign_key_free(pub);
    }
    bb_sign_key_free(key);
}

/* A P-384 key file is a valid key, but not ours. */
static void test_key_file_wrong_curve(void **state)
{
    struct tmp *t = *state;
    mbedtls_pk_context pk;
    unsigned char pem[1024];
    bb_sign_key *key = NULL;
    bb_errbuf eb;

    mbedtls_pk_init(&pk);
    assert_int_equal(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(
                                                MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP384R1,
                                         mbedtls_pk_ec(pk), bb_rng, NULL), 0);
    assert_int_equal(mbedtls_pk_write_key_pem(&pk, pem, sizeof pem), 0);
    mbedtls_pk_free(&pk);
    write_file(tpath(t, "p384.pem"), (char *)pem, 0600);
    assert_int_equal(bb_sign_key_load(&key, t->path, &eb), BB_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "P-256"));
    assert_null(key);
}

/* ---- Public keys and ids --------------------------------------------------- */

static void test_public_keys(void **state)
{
    bb_sign_key *key = NULL, *pub = NULL;
    uint8_t raw[65], raw2[65], *der = NULL, longer[512], sig[64];
    size_t der_len = 0;
    char *pem = NULL, id[BB_KEY_ID_SIZE], id2[BB_KEY_ID_SIZE];
    bb_errbuf eb;

    (void)state;
    assert_int_equal(bb_sign_keygen(&key, &eb), BB_OK);
    assert_int_equal(bb_sign_pub_export_raw(key, raw, &eb), BB_OK);
    assert_int_equal(raw[0], 0x04);
    assert_int_equal(bb_sign_key_id(key, id, &eb), BB_OK);
    assert_int_equal(bb_sign(key, (const uint8_t *)"m", 1, sig, &eb), BB_OK);

    /* DER round trip; the verify key works; it cannot sign. */
    assert_int_equal(bb_sign_pub_export_der(key, &der, &der_len, &eb), BB_OK);
    assert_int_equal(der_len, 91);      /* SPKI of a P-256 point */
    assert_int_equal(bb_sign_pub_import_der(&pub, der, der_len, &eb), BB_OK);
    assert_false(bb_sign_key_has_private(pub));
    assert_int_equal(bb_sign_pub_export_raw(pub, raw2, &eb), BB_OK);
    assert_memory_equal(raw, raw2, 65);
    assert_int_equal(bb_sign_key_id(pub, id2, &eb), BB_OK);
    assert_string_equal(id, id2);
    assert_int_equal(bb_sign_verify(pub, (const uint8_t *)"m", 1, sig, &eb),
                     BB_OK);
    assert_int_equal(bb_sign(pub, (const uint8_t *)"m", 1, sig, &eb),
                     BB_ERR_STATE);
    bb_sign_key_free(pub);
    pub = NULL;

    /* Trailing bytes, truncation, garbage. */
    memcpy(longer, der, der_len);
    longer[der_len] = 0;
    assert_int_equal(bb_sign_pub_import_der(&pub, longer, der_len + 1, &eb),
                     BB_ERR_INVALID);
    assert_int_equal(bb_sign_pub_import_der(&pub, der, der_len - 1, &eb),
                     BB_ERR_INVALID);
    assert_int_equal(bb_sign_pub_import_der(&pub, der, 0, &eb),
                     BB_ERR_INVALID);
    assert_null(pub);
    free(der);

    /* PEM round trip. */
    assert_int_equal(bb_sign_pub_export_pem(key, &pem, &eb), BB_OK);
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
    assert_int_equal(bb_sign_pub_import_pem(&pub, pem, &eb), BB_OK);
    assert_int_equal(bb_sign_key_id(pub, id2, &eb), BB_OK);
    assert_string_equal(id, id2);
    bb_sign_key_free(pub);
    pub = NULL;
    pem[40] ^= 0x01;
    assert_int_equal(bb_sign_pub_import_pem(&pub, pem, &eb), BB_ERR_INVALID);
    assert_int_equal(bb_sign_pub_import_pem(&pub, "hello", &eb),
                     BB_ERR_INVALID);
    assert_null(pub);
    free(pem);

    /* Raw: round trip, compressed form refused, a point off the curve. */
    assert_int_equal(bb_sign_pub_import_raw(&pub, raw, &eb), BB_OK);
    assert_int_equal(bb_sign_key_id(pub, id2, &eb), BB_OK);
    assert_string_equal(id, id2);
    bb_sign_key_free(pub);
    pub = NULL;
    memcpy(raw2, raw, 65);
    raw2[0] = 0x02;
    assert_int_equal(bb_sign_pub_import_raw(&pub, raw2, &eb),
                     BB_ERR_INVALID);
    memcpy(raw2, raw, 65);
    raw2[64] ^= 0x01;
    assert_int_equal(bb_sign_pub_import_raw(&pub, raw2, &eb),
                     BB_ERR_INVALID);
    assert_null(pub);
    bb_sign_key_free(key);
}

static void assert_key_id_of(const char *id, const uint8_t *pub, size_t len)
{
    uint8_t h[32];
    char want[BB_KEY_ID_SIZE];

    assert_int_equal(strlen(id), 16);
    for (size_t i = 0; i < 16; i++)
        assert_non_null(strchr("0123456789abcdef", id[i]));
    assert_int_equal(mbedtls_sha256_ret(pub, len, h, 0), 0);
    assert_int_equal(bb_hex_encode(h, 8, want, sizeof want, NULL), BB_OK);
    assert_string_equal(id, want);
}

static void test_key_ids(void **state)
{
    bb_sign_key *a = NULL, *b = NULL;
    char ida[BB_KEY_ID_SIZE], ida2[BB_KEY_ID_SIZE], idb[BB_KEY_ID_SIZE];
    uint8_t raw[65], sk[32], pk[32];
    bb_errbuf eb;

    (void)state;
    assert_int_equal(bb_sign_keygen(&a, &eb), BB_OK);
    assert_int_equal(bb_sign_keygen(&b, &eb), BB_OK);
    assert_int_equal(bb_sign_key_id(a, ida, &eb), BB_OK);
    assert_int_equal(bb_sign_key_id(a, ida2, &eb), BB_OK);
    assert_int_equal(bb_sign_key_id(b, idb, &eb), BB_OK);
    assert_string_equal(ida, ida2);
    assert_string_not_equal(ida, idb);
    /* ECDSA: SHA-256 of the 65-byte uncompressed point. */
    assert_int_equal(bb_sign_pub_export_raw(a, raw, &eb), BB_OK);
    assert_key_id_of(ida, raw, sizeof raw);
    /* X25519: SHA-256 of the raw 32-byte public key. */
    assert_int_equal(bb_hpke_keygen(sk, pk, &eb), BB_OK);
    assert_int_equal(bb_key_id(pk, sizeof pk, ida, &eb), BB_OK);
    assert_key_id_of(ida, pk, sizeof pk);
    /* No key, no id; a fixed key, a fixed id. */
    assert_int_equal(bb_key_id(NULL, 0, ida, &eb), BB_ERR_INVALID);
    memset(pk, 0, sizeof pk);
    assert_int_equal(bb_key_id(pk, 32, ida, &eb), BB_OK);
    assert_string_equal(ida, "66687aadf862bd77");  /* SHA-256(32 zeros) */
    bb_sign_key_free(a);
    bb_sign_key_free(b);
}

/* ---- X25519 key files ------------------------------------------------------ */

/* RFC 8410 §10.3's example X25519 private key, as openssl writes it. */
static const char rfc8410_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
    "-----END PRIVATE KEY-----\n";
static const char rfc8410_sk[] =
    "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842";

static void test_x25519_key_file(void **state)
{
    struct tmp *t = *state;
    uint8_t sk[32], pk[32], back[32], want[32];
    char path[128];
    bb_errbuf eb;

    /* Our file for the RFC's key is byte for byte the RFC's text. */
    unhex(rfc8410_sk, want, sizeof want);
    assert_int_equal(bb_sign_x25519_key_write(tpath(t, "rfc.pem"), want, &eb),
                     BB_OK);
    assert_string_equal(slurp(t->path), rfc8410_pem);
    assert_int_equal(file_mode(t->path), 0600);
    assert_int_equal(bb_sign_x25519_key_read(t->path, back, &eb), BB_OK);
    assert_memory_equal(back, want, 32);

    /* A fresh key round trips; the file is never overwritten. */
    assert_int_equal(bb_hpke_keygen(sk, pk, &eb), BB_OK);
    strcpy(path, tpath(t, "hq-x25519.pem"));
    assert_int_equal(bb_sign_x25519_key_write(path, sk, &eb), BB_OK);
    assert_int_equal(bb_sign_x25519_key_write(path, want, &eb),
                     BB_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, path));
    assert_int_equal(bb_sign_x25519_key_read(path, back, &eb), BB_OK);
    assert_memory_equal(back, sk, 32);

    /* Readable by others: refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(bb_sign_x25519_key_read(path, back, &eb), BB_ERR_PERM);
    assert_non_null(strstr(eb.msg, "chmod 600"));

    /* CRLF line ends are fine; anything else malformed is refused. */
    write_file(tpath(t, "crlf.pem"), "-----BEGIN PRIVATE KEY-----\r\n"
               "MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC"
               "\r\n-----END PRIVATE KEY-----\r\n", 0600);
    assert_int_equal(bb_sign_x25519_key_read(t->path, back, &eb), BB_OK);
    assert_memory_equal(back, want, 32);
    static const char *const bad[] = {
        /* Ed25519's OID (1.3.101.112), not X25519's */
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
        "-----END PRIVATE KEY-----\n",
        /* one byte short */
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVg=\n"
        "-----END PRIVATE KEY-----\n",
        /* no END line */
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n",
        /* something after it */
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
        "-----END PRIVATE KEY-----\nmore\n",
        /* an ECDSA key file */
        "-----BEGIN EC PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
        "-----END EC PRIVATE KEY-----\n",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unlink(tpath(t, "bad.pem"));
        write_file(t->path, bad[i], 0600);
        memset(back, 0x55, sizeof back);
        assert_int_equal(bb_sign_x25519_key_read(t->path, back, &eb),
                         BB_ERR_INVALID);
        assert_null(strstr(eb.msg, "MC4CAQ"));
        for (size_t j = 0; j < 32; j++)
            assert_int_equal(back[j], 0);   /* wiped, not half-filled */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test_setup_teardown(test_rfc6979, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_key_file, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_key_file_wrong_curve, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test(test_public_keys),
        cmocka_unit_test(test_key_ids),
        cmocka_unit_test_setup_teardown(test_x25519_key_file, setup_tmp,
                                        teardown_tmp),
    };
    return cmocka_run_group_tests_name("bb_sign", tests, NULL, NULL);
}
