/*
 * bb_enroll.c — writing and reading enrollment files (see bb_enroll.h and
 * docs/FORMATS.md §2).
 *
 * One function, from_doc(), decides what a valid enrollment document is.
 * The reader applies it to what it parsed; the writer applies it to the
 * document it has just signed, before anything reaches the disk, so the
 * two sides cannot drift apart.
 *
 * The token travels in the file, in the parsed tree and in the canonical
 * text: each of those is wiped before it is freed (wipe_delete, wipe).
 */
#include "bb_enroll.h"
#include "bb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "bb_codec.h"
#include "bb_json.h"
#include "bb_rand.h"
#include "bb_sigdoc.h"

#define wipe mbedtls_platform_zeroize

#define PIN_PREFIX "sha256//"
#define B64_32_LEN 44                       /* base64 of 32 bytes */
#define MAX_SPKI_B64 1024                   /* a P-256 SPKI is 91 bytes */
#define CA_PREFIX "-----BEGIN CERTIFICATE-----"

/* ---- Small helpers ----------------------------------------------------- */

int bb_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    size_t i;

    for (i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

static int is_lower_hex(const char *s, size_t n)
{
    size_t i;

    if (strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

bb_err bb_enroll_new_token(char out[BB_ENROLL_TOKEN_HEX])
{
    uint8_t raw[32];
    bb_err rc;

    rc = bb_random(raw, sizeof raw);
    if (rc == BB_OK)
        rc = bb_hex_encode(raw, sizeof raw, out, BB_ENROLL_TOKEN_HEX, NULL);
    wipe(raw, sizeof raw);
    if (rc != BB_OK)
        wipe(out, BB_ENROLL_TOKEN_HEX);
    return rc;
}

bb_err bb_token_hash(const char *token, char out_hex[BB_TOKEN_HASH_HEX])
{
    uint8_t h[32];
    bb_err rc;

    /* strnlen stops at the NUL of a short string: no read past its end. */
    if (!token || !out_hex || strnlen(token, BB_ENROLL_TOKEN_HEX) != BB_ENROLL_TOKEN_HEX - 1 ||
        !is_lower_hex(token, BB_ENROLL_TOKEN_HEX - 1))
        return BB_ERR_INVALID;
    if (mbedtls_sha256_ret((const unsigned char *)token, BB_ENROLL_TOKEN_HEX - 1,
                           h, 0) != 0)
        return BB_ERR_INTERNAL;
    rc = bb_hex_encode(h, sizeof h, out_hex, BB_TOKEN_HASH_HEX, NULL);
    wipe(h, sizeof h);
    return rc;
}

/* Wipe every string of a tree (values and keys), then free it. */
static void wipe_strings(cJSON *it)
{
    cJSON *c;

    if (it->valuestring)
        wipe(it->valuestring, strlen(it->valuestring));
    if (it->string)
        wipe(it->string, strlen(it->string));
    for (c = it->child; c; c = c->next)
        wipe_strings(c);
}

static void wipe_delete(cJSON *it)
{
    if (!it)
        return;
    wipe_strings(it);
    cJSON_Delete(it);
}

void bb_enroll_clear(struct bb_enrollment *e)
{
    if (!e)
        return;
    if (e->tls_ca) {
        wipe(e->tls_ca, strlen(e->tls_ca));
        free(e->tls_ca);
    }
    bb_sign_key_free(e->hq_sign);
    wipe(e, sizeof *e);
}

/* ---- Member checks ------------------------------------------------------ */

/* Printable ASCII without spaces. */
static int is_graph_ascii(const char *s)
{
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f)
            return 0;
    return 1;
}

static int url_ok(const char *s)
{
    const char *host = s + sizeof "https://" - 1;

    return strncmp(s, "https://", sizeof "https://" - 1) == 0 &&
           *host && *host != '/' && *host != ':' && *host != '?' &&
           *host != '#' && is_graph_ascii(s);
}

static int org_unit_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

/* UTF-8 without control characters. */
static int text_ok(const char *s)
{
    const char *p;

    for (p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return bb_utf8_length(s) >= 0;
}

/* PEM text: printable ASCII and line breaks, starting with a certificate. */
static int ca_ok(const char *s)
{
    if (strncmp(s, CA_PREFIX, sizeof CA_PREFIX - 1) != 0)
        return 0;
    for (; *s; s++)
        if (!((*s >= 0x20 && *s < 0x7f) || *s == '\n' || *s == '\r'))
            return 0;
    return 1;
}

/* Strict base64 of exactly 32 bytes (44 characters). */
static int b64_32(const char *s, uint8_t out[32])
{
    size_t n = 0;

    return strlen(s) == B64_32_LEN &&
           bb_base64_decode(s, B64_32_LEN, out, 32, &n, NULL) == BB_OK && n == 32;
}

static const char *const members[] = {
    "v", "hq_url", "tls_pin", "tls_ca", "hq_x25519", "hq_x25519_key",
    "hq_sign_pub", "hq_sign_key", "device", "org_unit", "label", "token",
    "issued_at", "expires_at", "sig"
};
#define N_MEMBERS (sizeof members / sizeof members[0])

/* The string member `name` copied into dst (dst_size bytes); messages name it. */
static bb_err get_str(const cJSON *doc, const char *name, char *dst,
                      size_t dst_size, const char *what, bb_errbuf *eb)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(doc, name);
    size_t n;

    if (!it)
        return bb_fail(eb, BB_ERR_INVALID, "\"%s\" is missing", name);
    if (!cJSON_IsString(it) || !it->valuestring)
        return bb_fail(eb, BB_ERR_INVALID, "\"%s\" must be a string (%s)", name,
                       what);
    n = strlen(it->valuestring);
    if (n >= dst_size)
        return bb_fail(eb, BB_ERR_INVALID, "\"%s\" is too long (at most %zu "
                       "bytes; %s)", name, dst_size - 1, what);
    memcpy(dst, it->valuestring, n + 1);
    return BB_OK;
}

/*
 * Check doc and fill e (zeroed first).  On failure e is cleared.  Messages
 * name the member and what it must be, never its value.
 */
static bb_err from_doc(const cJSON *doc, struct bb_enrollment *e, bb_errbuf *eb)
{
    char b64[MAX_SPKI_B64 + 1];
    char kid[BB_KEY_ID_SIZE];
    const cJSON *c, *it;
    uint8_t *der = NULL;
    size_t der_len = 0, i;
    int64_t t_issued, t_expires;
    bb_err rc;

    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(doc))
        return bb_fail(eb, BB_ERR_INVALID, "must be a JSON object");
    cJSON_ArrayForEach(c, doc) {
        for (i = 0; i < N_MEMBERS; i++)
            if (c->string && strcmp(c->string, members[i]) == 0)
                break;
        if (i == N_MEMBERS) {
            char name[40];
            const char *k = c->string ? c->string : "";
            for (i = 0; k[i] && i < 32; i++)
                name[i] = (k[i] > 0x20 && k[i] < 0x7f) ? k[i] : '?';
            name[i] = '\0';
            return bb_fail(eb, BB_ERR_INVALID, "unknown member \"%s%s\" (only "
                           "those of docs/FORMATS.md §2 are allowed)", name,
                           k[i] ? "..." : "");
        }
    }

    it = cJSON_GetObjectItemCaseSensitive(doc, "v");
    if (!it)
        return bb_fail(eb, BB_ERR_INVALID, "\"v\" is missing");
    if (!cJSON_IsNumber(it) || it->valuedouble != 1)
        return bb_fail(eb, BB_ERR_INVALID, "\"v\" must be 1 (this program reads "
                       "version 1 enrollment files)");

#define STR(name, field, what)                                                \
    do {                                                                      \
        rc = get_str(doc, name, e->field, sizeof e->field, what, eb);         \
        if (rc != BB_OK)                                                      \
            goto fail;                                                        \
    } while (0)
#define BAD(...)                                                              \
    do {                                                                      \
        rc = bb_fail(eb, BB_ERR_INVALID, __VA_ARGS__);                        \
        goto fail;                                                            \
    } while (0)

    STR("hq_url", hq_url, "an https:// URL");
    if (!url_ok(e->hq_url))
        BAD("\"hq_url\" must be an https:// URL without spaces");

    STR("tls_pin", tls_pin, "sha256//<base64 of 32 bytes>");
    {
        uint8_t pin[32];
        int ok = strncmp(e->tls_pin, PIN_PREFIX, sizeof PIN_PREFIX - 1) == 0 &&
                 b64_32(e->tls_pin + sizeof PIN_PREFIX - 1, pin);
        if (!ok)
            BAD("\"tls_pin\" must be sha256// followed by base64 of 32 bytes");
    }

    it = cJSON_GetObjectItemCaseSensitive(doc, "tls_ca");
    if (it) {
        size_t n;
        if (!cJSON_IsString(it) || !it->valuestring)
            BAD("\"tls_ca\" must be a string (a PEM certificate) when present");
        n = strlen(it->valuestring);
        if (n > BB_ENROLL_MAX_CA)
            BAD("\"tls_ca\" is too long (at most %zu bytes)", BB_ENROLL_MAX_CA);
        if (!ca_ok(it->valuestring))
            BAD("\"tls_ca\" must be a PEM certificate (" CA_PREFIX " ...)");
        e->tls_ca = malloc(n + 1);
        if (!e->tls_ca) {
            rc = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(e->tls_ca, it->valuestring, n + 1);
    }

    {
        char x[B64_32_LEN + 1];
        rc = get_str(doc, "hq_x25519", x, sizeof x, "base64 of 32 bytes", eb);
        if (rc != BB_OK)
            goto fail;
        if (!b64_32(x, e->hq_x25519))
            BAD("\"hq_x25519\" must be base64 of a 32-byte X25519 public key");
    }
    STR("hq_x25519_key", hq_x25519_key, "a key id");
    if (!is_lower_hex(e->hq_x25519_key, BB_KEY_ID_LEN))
        BAD("\"hq_x25519_key\" must be a key id of %d lowercase hex characters",
            BB_KEY_ID_LEN);
    rc = bb_key_id(e->hq_x25519, BB_HPKE_PK_LEN, kid, eb);
    if (rc != BB_OK)
        goto fail;
    if (strcmp(kid, e->hq_x25519_key) != 0)
        BAD("\"hq_x25519_key\" is not the key id of \"hq_x25519\"");

    rc = get_str(doc, "hq_sign_pub", b64, sizeof b64, "base64 of a "
                 "SubjectPublicKeyInfo", eb);
    if (rc != BB_OK)
        goto fail;
    if (bb_base64_decode_alloc(b64, strlen(b64), &der, &der_len, NULL) != BB_OK)
        BAD("\"hq_sign_pub\" must be base64 of a P-256 SubjectPublicKeyInfo");
    rc = bb_sign_pub_import_der(&e->hq_sign, der, der_len, NULL);
    free(der);
    if (rc == BB_ERR_NOMEM)
        goto fail;
    if (rc != BB_OK)
        BAD("\"hq_sign_pub\" is not a P-256 public key (SubjectPublicKeyInfo)");
    STR("hq_sign_key", hq_sign_key, "a key id");
    if (!is_lower_hex(e->hq_sign_key, BB_KEY_ID_LEN))
        BAD("\"hq_sign_key\" must be a key id of %d lowercase hex characters",
            BB_KEY_ID_LEN);
    rc = bb_sign_key_id(e->hq_sign, kid, eb);
    if (rc != BB_OK)
        goto fail;
    if (strcmp(kid, e->hq_sign_key) != 0)
        BAD("\"hq_sign_key\" is not the key id of \"hq_sign_pub\"");

    STR("device", device, "d-<16 hex>");
    if (strncmp(e->device, "d-", 2) != 0 || !is_lower_hex(e->device + 2, 16))
        BAD("\"device\" must be d- followed by 16 lowercase hex characters");

    STR("org_unit", org_unit, "an org unit code such as P06-S03");
    if (!org_unit_ok(e->org_unit))
        BAD("\"org_unit\" must be an org unit code such as P06-S03 (letters, "
            "digits, '-')");

    STR("label", label, "free text");
    if (!text_ok(e->label))
        BAD("\"label\" must be UTF-8 text without control characters");

    STR("token", token, "64 lowercase hex characters");
    if (!is_lower_hex(e->token, BB_ENROLL_TOKEN_HEX - 1))
        BAD("\"token\" must be 64 lowercase hex characters");

    STR("issued_at", issued_at, "an RFC 3339 time");
    if (bb_time_parse(e->issued_at, &t_issued, NULL, NULL) != BB_OK)
        BAD("\"issued_at\" must be an RFC 3339 time with an offset, e.g. "
            "2018-03-15T18:00:02+08:00");
    STR("expires_at", expires_at, "an RFC 3339 time");
    if (bb_time_parse(e->expires_at, &t_expires, NULL, NULL) != BB_OK)
        BAD("\"expires_at\" must be an RFC 3339 time with an offset, e.g. "
            "2018-03-22T18:00:02+08:00");
    if (t_expires <= t_issued)
        BAD("\"expires_at\" must be later than \"issued_at\"");

    /* Last: the signature, with the key the file names (and whose id we
     * have just checked).  bb_sigdoc_verify also refuses repeated keys. */
    rc = bb_sigdoc_verify(doc, BB_CTX_ENROLLMENT, e->hq_sign, eb);
    if (rc != BB_OK) {
        if (rc == BB_ERR_CRYPTO)
            bb_fail(eb, rc, "\"sig\": authentication failed (the file was "
                    "changed or not signed by the HQ key it names)");
        goto fail;
    }
    return BB_OK;
#undef STR
#undef BAD
fail:
    bb_enroll_clear(e);
    return rc;
}

/* ---- Writing ------------------------------------------------------------ */



/* The unsigned document for e; hq_sign_pub from the private key. */
static bb_err to_doc(const struct bb_enrollment *e, const bb_sign_key *priv,
                     cJSON **out, bb_errbuf *eb)
{
    char x[BB_BASE64_SIZE(BB_HPKE_PK_LEN)];
    char *spki_b64 = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    cJSON *o;
    bb_err rc;

    *out = NULL;
    rc = bb_base64_encode(e->hq_x25519, BB_HPKE_PK_LEN, x, sizeof x, NULL, eb);
    if (rc != BB_OK)
        return rc;
    rc = bb_sign_pub_export_der(priv, &der, &der_len, eb);
    if (rc != BB_OK)
        return rc;
    rc = bb_base64_encode_alloc(der, der_len, &spki_b64, eb);
    free(der);
    if (rc != BB_OK)
        return rc;
    o = cJSON_CreateObject();
    if (!o ||
        !cJSON_AddNumberToObject(o, "v", 1) ||
        !cJSON_AddStringToObject(o, "hq_url", e->hq_url) ||
        !cJSON_AddStringToObject(o, "tls_pin", e->tls_pin) ||
        (e->tls_ca && !cJSON_AddStringToObject(o, "tls_ca", e->tls_ca)) ||
        !cJSON_AddStringToObject(o, "hq_x25519", x) ||
        !cJSON_AddStringToObject(o, "hq_x25519_key", e->hq_x25519_key) ||
        !cJSON_AddStringToObject(o, "hq_sign_pub", spki_b64) ||
        !cJSON_AddStringToObject(o, "hq_sign_key", e->hq_sign_key) ||
        !cJSON_AddStringToObject(o, "device", e->device) ||
        !cJSON_AddStringToObject(o, "org_unit", e->org_unit) ||
        !cJSON_AddStringToObject(o, "label", e->label) ||
        !cJSON_AddStringToObject(o, "token", e->token) ||
        !cJSON_AddStringToObject(o, "issued_at", e->issued_at) ||
        !cJSON_AddStringToObject(o, "expires_at", e->expires_at)) {
        free(spki_b64);
        wipe_delete(o);
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    }
    free(spki_b64);
    *out = o;
    return BB_OK;
}

/* Every fixed-size string member of e is terminated within its array. */
static int terminated(const struct bb_enrollment *e)
{
#define T(f) (memchr(e->f, '\0', sizeof e->f) != NULL)
    return T(hq_url) && T(tls_pin) && T(hq_x25519_key) && T(hq_sign_key) &&
           T(device) && T(org_unit) && T(label) && T(token) && T(issued_at) &&
           T(expires_at);
#undef T
}

bb_err bb_enroll_write(struct bb_enrollment *e, const bb_sign_key *hq_sign_priv,
                       const char *path, bb_errbuf *eb)
{
    struct bb_enrollment check;
    cJSON *doc = NULL;
    char *canon = NULL, *text = NULL;
    size_t len = 0;
    bb_err rc;

    if (!e || !hq_sign_priv || !path)
        return bb_fail(eb, BB_ERR_INTERNAL, "write enrollment file: missing "
                       "argument");
    if (!bb_sign_key_has_private(hq_sign_priv))
        return bb_fail(eb, BB_ERR_STATE, "write enrollment file %s: the HQ "
                       "signing key has no private part", path);
    if (!terminated(e))
        return bb_fail(eb, BB_ERR_INVALID, "write enrollment file %s: a member "
                       "is not a terminated string", path);
    rc = bb_key_id(e->hq_x25519, BB_HPKE_PK_LEN, e->hq_x25519_key, eb);
    if (rc == BB_OK)
        rc = bb_sign_key_id(hq_sign_priv, e->hq_sign_key, eb);
    if (rc == BB_OK)
        rc = to_doc(e, hq_sign_priv, &doc, eb);
    if (rc == BB_OK)
        rc = bb_sigdoc_sign(doc, BB_CTX_ENROLLMENT, hq_sign_priv, eb);
    /* What a device will check, checked before anything is written. */
    if (rc == BB_OK) {
        rc = from_doc(doc, &check, eb);
        if (rc == BB_OK)
            bb_enroll_clear(&check);
    }
    if (rc == BB_OK && !(canon = bb_json_canonical(doc)))
        rc = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    if (rc == BB_OK) {
        /* One line of JSON and a newline, as text files end. */
        len = strlen(canon);
        text = malloc(len + 2);
        if (!text)
            rc = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    }
    if (rc != BB_OK) {
        bb_errbuf_prefix(eb, "write enrollment file %s", path);
        goto out;
    }
    memcpy(text, canon, len);
    text[len] = '\n';
    text[len + 1] = '\0';
    rc = bb_file_create(path, text, len + 1, 0600, "enrollment file", eb);    /* its message names the file */
out:
    if (canon) {
        wipe(canon, strlen(canon));
        free(canon);
    }
    if (text) {
        wipe(text, len + 2);
        free(text);
    }
    wipe_delete(doc);
    return rc;
}

/* ---- Reading ------------------------------------------------------------ */

bb_err bb_enroll_read(const char *path, struct bb_enrollment *e, bb_errbuf *eb)
{
    cJSON *doc = NULL;
    char *buf = NULL;
    size_t len = 0;
    bb_err rc;

    if (!e)
        return bb_fail(eb, BB_ERR_INTERNAL, "read enrollment file: no output");
    memset(e, 0, sizeof *e);
    if (!path)
        return bb_fail(eb, BB_ERR_INTERNAL, "read enrollment file: no path");
    rc = bb_read_file(path, BB_ENROLL_MAX_FILE, &buf, &len, eb);
    if (rc != BB_OK)
        return rc;
    if (memchr(buf, '\0', len) != NULL) {
        rc = bb_fail(eb, BB_ERR_INVALID, "read enrollment file %s: contains a "
                     "NUL byte (not a text file)", path);
    } else {
        rc = bb_json_parse(buf, len, path, &doc, eb);
        if (rc == BB_OK) {
            rc = from_doc(doc, e, eb);
            if (rc != BB_OK)
                bb_errbuf_prefix(eb, "read enrollment file %s", path);
        }
    }
    wipe(buf, len);
    free(buf);
    wipe_delete(doc);
    return rc;
}
