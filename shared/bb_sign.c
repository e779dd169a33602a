/*
 * bb_sign.c — ECDSA P-256 with mbedtls pk/ecdsa, and private key files
 * (see bb_sign.h).
 *
 * mbedtls 2.28's write functions take non-const contexts although they do
 * not modify them; the casts below are only for that.  mbedtls_pk_free
 * wipes the private scalar (mbedtls_mpi_free zeroizes), so a bb_sign_key
 * needs no wiping of its own beyond that.
 */
#include "bb_sign.h"
#include "bb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "bb_codec.h"
#include "bb_rand.h"

#define wipe mbedtls_platform_zeroize

struct bb_sign_key {
    mbedtls_pk_context pk;
    int has_private;
};

static const uint8_t empty[1];

/* mbedtls's own words for an error code, for the error buffer. */
static const char *mbed_msg(int ret, char *buf, size_t size)
{
    mbedtls_strerror(ret, buf, size);
    return buf;
}


/* ---- Key files (created by bb_file_create: O_EXCL, 0600, durable) -------- */

/*
 * Read a private key file into a new NUL-terminated buffer (*out; the
 * caller wipes and frees it).  Refuses files that group or others may
 * access: such a key must be presumed copied.
 */
static bb_err read_key_file(const char *path, char **out, size_t *out_len,
                            bb_errbuf *eb)
{
    struct stat st;
    size_t got = 0, size;
    char *buf;
    int fd, e;

    *out = NULL;
    *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        return bb_fail(eb, bb_errno_err(e), "open key file %s: %s", path,
                       strerror(e));
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        close(fd);
        return bb_fail(eb, bb_errno_err(e), "stat key file %s: %s", path,
                       strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return bb_fail(eb, BB_ERR_INVALID, "key file %s: not a regular file",
                       path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return bb_fail(eb, BB_ERR_PERM, "key file %s: mode %04o lets group "
                       "or others access a private key; refusing to use it "
                       "(run: chmod 600 %s, and consider the key exposed)",
                       path, (unsigned)(st.st_mode & 07777), path);
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > BB_SIGN_MAX_KEY_FILE) {
        close(fd);
        return bb_fail(eb, BB_ERR_INVALID, "key file %s: %jd bytes is not a "
                       "key file (at most %d)", path, (intmax_t)st.st_size,
                       BB_SIGN_MAX_KEY_FILE);
    }
    size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return bb_fail(eb, BB_ERR_NOMEM, "read key file %s: out of memory",
                       path);
    }
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            wipe(buf, size + 1);
            free(buf);
            return bb_fail(eb, bb_errno_err(e), "read key file %s: %s", path,
                           strerror(e));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return BB_OK;
}

/* ---- ECDSA keys -------------------------------------------------------- */

/* An empty key object; pk is initialized but not set up. */
static bb_err key_alloc(bb_sign_key **out, bb_errbuf *eb)
{
    bb_sign_key *k = calloc(1, sizeof *k);

    *out = NULL;
    if (!k)
        return bb_fail(eb, BB_ERR_NOMEM, "ECDSA key: out of memory");
    mbedtls_pk_init(&k->pk);
    *out = k;
    return BB_OK;
}

void bb_sign_key_free(bb_sign_key *key)
{
    if (!key)
        return;
    mbedtls_pk_free(&key->pk);
    wipe(key, sizeof *key);
    free(key);
}

int bb_sign_key_has_private(const bb_sign_key *key)
{
    return key && key->has_private;
}

/* Accept only EC keys on P-256 (a parsed file may hold RSA or P-384). */
static int is_p256(const mbedtls_pk_context *pk)
{
    return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY
           && mbedtls_pk_ec(*pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

bb_err bb_sign_keygen(bb_sign_key **out, bb_errbuf *eb)
{
    bb_sign_key *k;
    char msg[128];
    bb_err rc;
    int ret;

    rc = key_alloc(&k, eb);
    if (rc != BB_OK)
        return rc;
    ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
        ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
                                  mbedtls_pk_ec(k->pk), bb_rng, NULL);
    if (ret != 0) {
        bb_sign_key_free(k);
        return bb_fail(eb, BB_ERR_INTERNAL, "ECDSA key generation: %s",
                       mbed_msg(ret, msg, sizeof msg));
    }
    k->has_private = 1;
    *out = k;
    return BB_OK;
}

bb_err bb_sign_key_write(const bb_sign_key *key, const char *path,
                         bb_errbuf *eb)
{
    unsigned char pem[1024];
    char msg[128];
    bb_err rc;
    int ret;

    if (!bb_sign_key_has_private(key))
        return bb_fail(eb, BB_ERR_STATE, "write key file %s: the key has no "
                       "private part", path);
    ret = mbedtls_pk_write_key_pem((mbedtls_pk_context *)&key->pk, pem,
                                   sizeof pem);
    if (ret != 0) {
        wipe(pem, sizeof pem);
        return bb_fail(eb, BB_ERR_INTERNAL, "write key file %s: %s", path,
                       mbed_msg(ret, msg, sizeof msg));
    }
    rc = bb_file_create(path, pem, strlen((char *)pem), 0600, "key file", eb);
    wipe(pem, sizeof pem);
    return rc;
}

bb_err bb_sign_key_load(bb_sign_key **out, const char *path, bb_errbuf *eb)
{
    bb_sign_key *k = NULL;
    char *buf = NULL, msg[128];
    size_t len = 0;
    bb_err rc;
    int ret;

    *out = NULL;
    rc = read_key_file(path, &buf, &len, eb);
    if (rc != BB_OK)
        return rc;
    rc = key_alloc(&k, eb);
    if (rc != BB_OK)
        goto out;
    /* PEM parsing needs the terminating NUL counted in the length. */
    ret = mbedtls_pk_parse_key(&k->pk, (const unsigned char *)buf, len + 1,
                               NULL, 0);
    if (ret != 0) {
        rc = bb_fail(eb, BB_ERR_INVALID, "key file %s: not a PEM private key "
                     "(%s)", path, mbed_msg(ret, msg, sizeof msg));
        goto out;
    }
    if (!is_p256(&k->pk)) {
        rc = bb_fail(eb, BB_ERR_INVALID, "key file %s: not an ECDSA P-256 "
                     "key", path);
        goto out;
    }
    /* A file whose public point does not match its scalar is damaged. */
    ret = mbedtls_ecp_check_pub_priv(mbedtls_pk_ec(k->pk),
                                     mbedtls_pk_ec(k->pk));
    if (ret != 0) {
        rc = bb_fail(eb, BB_ERR_INVALID, "key file %s: the public and private "
                     "halves do not match", path);
        goto out;
    }
    k->has_private = 1;
    *out = k;
    k = NULL;
out:
    bb_sign_key_free(k);
    wipe(buf, len + 1);
    free(buf);
    return rc;
}

/* ---- Public keys ------------------------------------------------------- */

bb_err bb_sign_pub_export_der(const bb_sign_key *key, uint8_t **der,
                              size_t *der_len, bb_errbuf *eb)
{
    unsigned char buf[512];
    char msg[128];
    int ret;

    *der = NULL;
    *der_len = 0;
    /* mbedtls writes DER backwards, at the end of the buffer. */
    ret = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&key->pk, buf,
                                      sizeof buf);
    if (ret <= 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "export public key: %s",
                       mbed_msg(ret, msg, sizeof msg));
    *der = malloc((size_t)ret);
    if (!*der)
        return bb_fail(eb, BB_ERR_NOMEM, "export public key: out of memory");
    memcpy(*der, buf + sizeof buf - (size_t)ret, (size_t)ret);
    *der_len = (size_t)ret;
    return BB_OK;
}

bb_err bb_sign_pub_export_pem(const bb_sign_key *key, char **pem,
                              bb_errbuf *eb)
{
    unsigned char buf[1024];
    char msg[128];
    size_t n;
    int ret;

    *pem = NULL;
    ret = mbedtls_pk_write_pubkey_pem((mbedtls_pk_context *)&key->pk, buf,
                                      sizeof buf);
    if (ret != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "export public key: %s",
                       mbed_msg(ret, msg, sizeof msg));
    n = strlen((char *)buf);
    *pem = malloc(n + 1);
    if (!*pem)
        return bb_fail(eb, BB_ERR_NOMEM, "export public key: out of memory");
    memcpy(*pem, buf, n + 1);
    return BB_OK;
}

bb_err bb_sign_pub_export_raw(const bb_sign_key *key,
                              uint8_t raw[BB_SIGN_PUB_RAW_LEN], bb_errbuf *eb)
{
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(key->pk);
    size_t olen = 0;
    int ret;

    ret = mbedtls_ecp_point_write_binary(&kp->grp, &kp->Q,
                                         MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                         raw, BB_SIGN_PUB_RAW_LEN);
    if (ret != 0 || olen != BB_SIGN_PUB_RAW_LEN)
        return bb_fail(eb, BB_ERR_INTERNAL, "export public key: cannot write "
                       "the point");
    return BB_OK;
}

/* Parse a SubjectPublicKeyInfo (DER, or PEM with its NUL counted). */
static bb_err pub_parse(bb_sign_key **out, const uint8_t *in, size_t len,
                        const char *what, bb_errbuf *eb)
{
    bb_sign_key *k;
    char msg[128];
    bb_err rc;
    int ret;

    *out = NULL;
    rc = key_alloc(&k, eb);
    if (rc != BB_OK)
        return rc;
    ret = mbedtls_pk_parse_public_key(&k->pk, in, len);
    if (ret != 0) {
        bb_sign_key_free(k);
        return bb_fail(eb, BB_ERR_INVALID, "public key: not a %s "
                       "SubjectPublicKeyInfo (%s)", what,
                       mbed_msg(ret, msg, sizeof msg));
    }
    if (!is_p256(&k->pk)) {
        bb_sign_key_free(k);
        return bb_fail(eb, BB_ERR_INVALID, "public key: not an ECDSA P-256 "
                       "key");
    }
    *out = k;
    return BB_OK;
}

bb_err bb_sign_pub_import_der(bb_sign_key **out, const uint8_t *der,
                              size_t der_len, bb_errbuf *eb)
{
    uint8_t *again = NULL;
    size_t again_len = 0;
    bb_sign_key *k;
    bb_err rc;

    *out = NULL;
    if (!der || der_len == 0 || der_len > BB_SIGN_MAX_KEY_FILE)
        return bb_fail(eb, BB_ERR_INVALID, "public key: %zu bytes is not a "
                       "DER public key", der_len);
    rc = pub_parse(&k, der, der_len, "DER", eb);
    if (rc != BB_OK)
        return rc;
    /* mbedtls ignores bytes after the structure; one key, one encoding. */
    rc = bb_sign_pub_export_der(k, &again, &again_len, eb);
    if (rc == BB_OK && (again_len != der_len
                        || memcmp(again, der, der_len) != 0))
        rc = bb_fail(eb, BB_ERR_INVALID, "public key: not a canonical DER "
                     "SubjectPublicKeyInfo (trailing or non-minimal bytes)");
    free(again);
    if (rc != BB_OK) {
        bb_sign_key_free(k);
        return rc;
    }
    *out = k;
    return BB_OK;
}

bb_err bb_sign_pub_import_pem(bb_sign_key **out, const char *pem,
                              bb_errbuf *eb)
{
    size_t n;

    *out = NULL;
    if (!pem)
        return bb_fail(eb, BB_ERR_INVALID, "public key: no PEM text");
    n = strnlen(pem, BB_SIGN_MAX_KEY_FILE + 1);
    if (n == 0 || n > BB_SIGN_MAX_KEY_FILE)
        return bb_fail(eb, BB_ERR_INVALID, "public key: %s PEM text",
                       n == 0 ? "empty" : "oversized");
    if (!strstr(pem, "-----BEGIN PUBLIC KEY-----"))
        return bb_fail(eb, BB_ERR_INVALID, "public key: no \"BEGIN PUBLIC "
                       "KEY\" PEM block");
    return pub_parse(out, (const uint8_t *)pem, n + 1, "PEM", eb);
}

bb_err bb_sign_pub_import_raw(bb_sign_key **out,
                              const uint8_t raw[BB_SIGN_PUB_RAW_LEN],
                              bb_errbuf *eb)
{
    mbedtls_ecp_keypair *kp;
    bb_sign_key *k;
    bb_err rc;
    int ret;

    *out = NULL;
    if (!raw || raw[0] != 0x04)
        return bb_fail(eb, BB_ERR_INVALID, "public key: not an uncompressed "
                       "point (0x04 || X || Y)");
    rc = key_alloc(&k, eb);
    if (rc != BB_OK)
        return rc;
    ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0) {
        kp = mbedtls_pk_ec(k->pk);
        ret = mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1);
        if (ret == 0)
            ret = mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, raw,
                                                BB_SIGN_PUB_RAW_LEN);
        if (ret == 0)
            ret = mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q);
    }
    if (ret != 0) {
        bb_sign_key_free(k);
        return bb_fail(eb, BB_ERR_INVALID, "public key: not a point on "
                       "P-256");
    }
    *out = k;
    return BB_OK;
}

/* ---- Signatures -------------------------------------------------------- */

bb_err bb_sign(const bb_sign_key *key, const uint8_t *msg, size_t msg_len,
               uint8_t sig[BB_SIGN_SIG_LEN], bb_errbuf *eb)
{
    mbedtls_ecp_keypair *kp;
    uint8_t hash[32];
    mbedtls_mpi r, s;
    char emsg[128];
    int ret;

    if (!bb_sign_key_has_private(key))
        return bb_fail(eb, BB_ERR_STATE, "sign: the key has no private part");
    if (!msg && msg_len)
        return bb_fail(eb, BB_ERR_INVALID, "sign: a length without data");
    kp = mbedtls_pk_ec(key->pk);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ret = mbedtls_sha256_ret(msg ? msg : empty, msg_len, hash, 0);
    /* RFC 6979 nonces; bb_rng only blinds the scalar multiplication. */
    if (ret == 0)
        ret = mbedtls_ecdsa_sign_det_ext(&kp->grp, &r, &s, &kp->d, hash,
                                         sizeof hash, MBEDTLS_MD_SHA256,
                                         bb_rng, NULL);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&r, sig, 32);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&s, sig + 32, 32);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    if (ret != 0) {
        wipe(sig, BB_SIGN_SIG_LEN);
        return bb_fail(eb, BB_ERR_INTERNAL, "sign: %s",
                       mbed_msg(ret, emsg, sizeof emsg));
    }
    return BB_OK;
}

bb_err bb_sign_verify(const bb_sign_key *key, const uint8_t *msg,
                      size_t msg_len, const uint8_t sig[BB_SIGN_SIG_LEN],
                      bb_errbuf *eb)
{
    mbedtls_ecp_keypair *kp;
    uint8_t hash[32];
    mbedtls_mpi r, s;
    int ret;

    if (!key || !sig || (!msg && msg_len))
        return bb_fail(eb, BB_ERR_INVALID, "verify: missing key, message or "
                       "signature");
    kp = mbedtls_pk_ec(key->pk);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ret = mbedtls_sha256_ret(msg ? msg : empty, msg_len, hash, 0);
    if (ret == 0)
        ret = mbedtls_mpi_read_binary(&r, sig, 32);
    if (ret == 0)
        ret = mbedtls_mpi_read_binary(&s, sig + 32, 32);
    /* Checks 0 < r, s < n itself. */
    if (ret == 0)
        ret = mbedtls_ecdsa_verify(&kp->grp, hash, sizeof hash, &kp->Q, &r,
                                   &s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    if (ret == MBEDTLS_ERR_MPI_ALLOC_FAILED)
        return bb_fail(eb, BB_ERR_NOMEM, "verify: out of memory");
    if (ret != 0)
        return bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
    return BB_OK;
}

/* ---- Key ids ----------------------------------------------------------- */

bb_err bb_key_id(const uint8_t *pub, size_t pub_len, char id[BB_KEY_ID_SIZE],
                 bb_errbuf *eb)
{
    uint8_t hash[32];

    if (!pub || pub_len == 0)
        return bb_fail(eb, BB_ERR_INVALID, "key id: no public key");
    if (mbedtls_sha256_ret(pub, pub_len, hash, 0) != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "key id: SHA-256 failed");
    return bb_hex_encode(hash, BB_KEY_ID_LEN / 2, id, BB_KEY_ID_SIZE, eb);
}

bb_err bb_sign_key_id(const bb_sign_key *key, char id[BB_KEY_ID_SIZE],
                      bb_errbuf *eb)
{
    uint8_t raw[BB_SIGN_PUB_RAW_LEN];
    bb_err rc;

    rc = bb_sign_pub_export_raw(key, raw, eb);
    if (rc != BB_OK)
        return rc;
    return bb_key_id(raw, sizeof raw, id, eb);
}

/* ---- X25519 private key files (PKCS#8, RFC 8410) ----------------------- */

/*
 * OneAsymmetricKey { version 0, AlgorithmIdentifier { id-X25519
 * (1.3.101.110) }, privateKey OCTET STRING { OCTET STRING (32 bytes) } }:
 * for a 32-byte key the DER is always this prefix and then the key.
 */
static const uint8_t x25519_pkcs8_prefix[16] = {
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
    0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20
};
#define X25519_DER_LEN (sizeof x25519_pkcs8_prefix + BB_X25519_KEY_LEN)
#define PEM_BEGIN "-----BEGIN PRIVATE KEY-----"
#define PEM_END "-----END PRIVATE KEY-----"

bb_err bb_sign_x25519_key_write(const char *path,
                                const uint8_t sk[BB_X25519_KEY_LEN],
                                bb_errbuf *eb)
{
    uint8_t der[X25519_DER_LEN];
    char b64[BB_BASE64_SIZE(X25519_DER_LEN)];
    char text[sizeof PEM_BEGIN + sizeof b64 + sizeof PEM_END + 4];
    int n;
    bb_err rc;

    memcpy(der, x25519_pkcs8_prefix, sizeof x25519_pkcs8_prefix);
    memcpy(der + sizeof x25519_pkcs8_prefix, sk, BB_X25519_KEY_LEN);
    rc = bb_base64_encode(der, sizeof der, b64, sizeof b64, NULL, eb);
    if (rc == BB_OK) {
        /* 48 bytes are 64 base64 characters: one PEM line. */
        n = snprintf(text, sizeof text, "%s\n%s\n%s\n", PEM_BEGIN, b64,
                     PEM_END);
        if (n < 0 || (size_t)n >= sizeof text)
            rc = bb_fail(eb, BB_ERR_INTERNAL, "write key file %s: PEM "
                         "buffer too small", path);
        else
            rc = bb_file_create(path, text, (size_t)n, 0600, "key file", eb);
    }
    wipe(der, sizeof der);
    wipe(b64, sizeof b64);
    wipe(text, sizeof text);
    return rc;
}

bb_err bb_sign_x25519_key_read(const char *path,
                               uint8_t sk[BB_X25519_KEY_LEN], bb_errbuf *eb)
{
    uint8_t der[X25519_DER_LEN + 1];
    char b64[128];
    char *buf = NULL, *p, *end;
    size_t len = 0, nb = 0, dlen = 0;
    bb_err rc;

    rc = read_key_file(path, &buf, &len, eb);
    if (rc != BB_OK)
        return rc;
    rc = BB_ERR_INVALID;
    if (strncmp(buf, PEM_BEGIN, strlen(PEM_BEGIN)) != 0)
        goto out;
    p = buf + strlen(PEM_BEGIN);
    end = strstr(p, PEM_END);
    if (!end)
        goto out;
    /* The body: base64 split over lines; line breaks are the only extra. */
    for (; p < end; p++) {
        if (*p == '\n' || *p == '\r')
            continue;
        if (nb + 1 >= sizeof b64)
            goto out;
        b64[nb++] = *p;
    }
    for (p = end + strlen(PEM_END); *p; p++)
        if (*p != '\n' && *p != '\r')
            goto out;
    if (bb_base64_decode(b64, nb, der, sizeof der, &dlen, NULL) != BB_OK
        || dlen != X25519_DER_LEN
        || memcmp(der, x25519_pkcs8_prefix, sizeof x25519_pkcs8_prefix) != 0)
        goto out;
    memcpy(sk, der + sizeof x25519_pkcs8_prefix, BB_X25519_KEY_LEN);
    rc = BB_OK;
out:
    if (rc != BB_OK) {
        wipe(sk, BB_X25519_KEY_LEN);
        rc = bb_fail(eb, BB_ERR_INVALID, "key file %s: not an X25519 private "
                     "key (PKCS#8 PEM, \"BEGIN PRIVATE KEY\")", path);
    }
    wipe(der, sizeof der);
    wipe(b64, sizeof b64);
    wipe(buf, len + 1);
    free(buf);
    return rc;
}
