/*
 * hq_tls.c — self-signed certificate, key/certificate checks and the SPKI
 * pin, with mbedtls 2.28 (see hq_tls.h).  libmicrohttpd serves with GnuTLS;
 * it only ever sees the PEM texts loaded here.
 *
 * mbedtls 2.28 has no setter for subjectAltName, so the extension is encoded
 * here: GeneralNames ::= SEQUENCE OF GeneralName, with dNSName [2] IA5String
 * and iPAddress [7] OCTET STRING (RFC 5280 §4.2.1.6).
 */
#include "hq_tls.h"
#include "hq_files.h"
#include "bb_codec.h"
#include "bb_rand.h"
#include "bb_sign.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/bignum.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#define CERT_FILE_MAX (256 * 1024)
#define KEY_FILE_MAX 16384
#define SAN_MAX 16384

static bb_err mbed_fail(bb_errbuf *eb, bb_err code, const char *what, int ret)
{
    char buf[160];
    mbedtls_strerror(ret, buf, sizeof buf);
    return bb_fail(eb, code, "%s: %s", what, buf);
}

bb_err hq_tls_check_hostname(const char *name, bb_errbuf *eb)
{
    unsigned char ip[16];
    size_t n = strlen(name), i;

    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return BB_OK;
    if (n == 0 || n > 253)
        return bb_fail(eb, BB_ERR_USAGE, "--hostname \"%.80s\": a host name has 1 to 253 "
                       "characters", name);
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return bb_fail(eb, BB_ERR_USAGE, "--hostname \"%.80s\": only letters, digits, "
                           "'-' and '.' are allowed in a host name (or give an IP address)",
                           name);
    }
    if (name[0] == '.' || name[0] == '-' || strstr(name, ".."))
        return bb_fail(eb, BB_ERR_USAGE, "--hostname \"%.80s\" is not a valid host name",
                       name);
    return BB_OK;
}

/* Append one DER TLV (short or two-byte long length) to buf. */
static int der_put(uint8_t *buf, size_t size, size_t *pos, uint8_t tag, const uint8_t *v,
                   size_t len)
{
    size_t hdr = len < 128 ? 2 : len < 256 ? 3 : 4;
    if (len > 65535 || *pos + hdr + len > size)
        return -1;
    buf[(*pos)++] = tag;
    if (len < 128) {
        buf[(*pos)++] = (uint8_t)len;
    } else if (len < 256) {
        buf[(*pos)++] = 0x81;
        buf[(*pos)++] = (uint8_t)len;
    } else {
        buf[(*pos)++] = 0x82;
        buf[(*pos)++] = (uint8_t)(len >> 8);
        buf[(*pos)++] = (uint8_t)len;
    }
    memcpy(buf + *pos, v, len);
    *pos += len;
    return 0;
}

static int san_add(uint8_t *names, size_t size, size_t *pos, const char *name)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1)
        return der_put(names, size, pos, 0x87, ip, 4);
    if (inet_pton(AF_INET6, name, ip) == 1)
        return der_put(names, size, pos, 0x87, ip, 16);
    return der_put(names, size, pos, 0x82, (const uint8_t *)name, strlen(name));
}

/* The subjectAltName extension value: hostnames, then localhost and 127.0.0.1. */
static bb_err build_san(const char *const *hostnames, size_t n, uint8_t *out, size_t size,
                        size_t *out_len, bb_errbuf *eb)
{
    uint8_t names[SAN_MAX];
    size_t pos = 0, i, j;
    int have_localhost = 0, have_loopback = 0;

    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(hostnames[i], hostnames[j]) == 0)
                break;
        if (j < i)
            continue;
        if (strcmp(hostnames[i], "localhost") == 0)
            have_localhost = 1;
        if (strcmp(hostnames[i], "127.0.0.1") == 0)
            have_loopback = 1;
        if (san_add(names, sizeof names, &pos, hostnames[i]) != 0)
            return bb_fail(eb, BB_ERR_USAGE, "too many or too long --hostname values");
    }
    if ((!have_localhost && san_add(names, sizeof names, &pos, "localhost") != 0) ||
        (!have_loopback && san_add(names, sizeof names, &pos, "127.0.0.1") != 0))
        return bb_fail(eb, BB_ERR_USAGE, "too many or too long --hostname values");
    *out_len = 0;
    if (der_put(out, size, out_len, 0x30, names, pos) != 0)
        return bb_fail(eb, BB_ERR_USAGE, "too many or too long --hostname values");
    return BB_OK;
}

static void x509_time(time_t t, char out[16])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, 16, "%Y%m%d%H%M%S", &tm) == 0)
        out[0] = '\0';
}

bb_err hq_tls_generate(const char *key_path, const char *cert_path,
                       const char *const *hostnames, size_t nhostnames, bb_errbuf *eb)
{
    mbedtls_x509write_cert crt;
    mbedtls_pk_context pk;
    mbedtls_mpi serial;
    bb_sign_key *key = NULL;
    uint8_t san[SAN_MAX + 8], serial_bytes[16];
    unsigned char *pem = NULL;
    char *key_pem = NULL, subject[300], from[16], to[16];
    size_t san_len, key_len, i;
    time_t now = time(NULL);
    bb_err err;
    int ret;

    if (nhostnames > HQ_TLS_MAX_HOSTNAMES)
        return bb_fail(eb, BB_ERR_USAGE, "at most %d --hostname values",
                       HQ_TLS_MAX_HOSTNAMES);
    for (i = 0; i < nhostnames; i++)
        if ((err = hq_tls_check_hostname(hostnames[i], eb)) != BB_OK)
            return err;
    if ((err = build_san(hostnames, nhostnames, san, sizeof san, &san_len, eb)) != BB_OK)
        return err;
    /* The key file is written by the same careful code as every other key. */
    if ((err = bb_sign_keygen(&key, eb)) != BB_OK)
        return err;
    err = bb_sign_key_write(key, key_path, eb);
    bb_sign_key_free(key);
    if (err != BB_OK)
        return err;
    if ((err = hq_read_small_file(key_path, KEY_FILE_MAX, 1, &key_pem, &key_len, eb)) != BB_OK)
        return err;

    mbedtls_pk_init(&pk);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    ret = mbedtls_pk_parse_key(&pk, (const unsigned char *)key_pem, key_len + 1, NULL, 0);
    mbedtls_platform_zeroize(key_pem, key_len);
    free(key_pem);
    if (ret != 0) {
        err = mbed_fail(eb, BB_ERR_INTERNAL, "read back the new TLS key", ret);
        goto out;
    }
    snprintf(subject, sizeof subject, "CN=%s,O=Beatbook HQ",
             nhostnames > 0 ? hostnames[0] : "localhost");
    if ((err = bb_random(serial_bytes, sizeof serial_bytes)) != BB_OK)
        goto out;
    serial_bytes[0] = (uint8_t)((serial_bytes[0] & 0x7f) | 0x01);   /* positive, 16 bytes */
    x509_time(now - 3600, from);
    x509_time(now + (time_t)HQ_TLS_VALID_YEARS * 365 * 86400 + 3 * 86400, to);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &pk);
    mbedtls_x509write_crt_set_issuer_key(&crt, &pk);
    if ((ret = mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof serial_bytes)) != 0 ||
        (ret = mbedtls_x509write_crt_set_serial(&crt, &serial)) != 0 ||
        (ret = mbedtls_x509write_crt_set_validity(&crt, from, to)) != 0 ||
        (ret = mbedtls_x509write_crt_set_subject_name(&crt, subject)) != 0 ||
        (ret = mbedtls_x509write_crt_set_issuer_name(&crt, subject)) != 0 ||
        (ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0 ||
        (ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
        (ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0 ||
        (ret = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) != 0 ||
        (ret = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                   MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                                                   0, san, san_len)) != 0) {
        err = mbed_fail(eb, BB_ERR_INTERNAL, "make the TLS certificate", ret);
        goto out;
    }
    pem = malloc(CERT_FILE_MAX);
    if (!pem) {
        err = bb_fail(eb, BB_ERR_NOMEM, "make the TLS certificate: out of memory");
        goto out;
    }
    if ((ret = mbedtls_x509write_crt_pem(&crt, pem, CERT_FILE_MAX, bb_rng, NULL)) != 0) {
        err = mbed_fail(eb, BB_ERR_INTERNAL, "sign the TLS certificate", ret);
        goto out;
    }
    err = hq_write_new_file(cert_path, pem, strlen((char *)pem), 0644, eb);
out:
    free(pem);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&pk);
    return err;
}

/* "sha256//" + base64 of SHA-256 of the certificate key's SubjectPublicKeyInfo. */
static bb_err spki_pin(mbedtls_pk_context *pk, char pin[HQ_TLS_PIN_SIZE], bb_errbuf *eb)
{
    unsigned char der[4096], hash[32];
    int n;

    n = mbedtls_pk_write_pubkey_der(pk, der, sizeof der);
    if (n <= 0)
        return mbed_fail(eb, BB_ERR_INVALID, "TLS certificate public key", n);
    if (mbedtls_sha256_ret(der + sizeof der - (size_t)n, (size_t)n, hash, 0) != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "SHA-256 failed");
    memcpy(pin, "sha256//", 8);
    return bb_base64_encode(hash, sizeof hash, pin + 8, HQ_TLS_PIN_SIZE - 8, NULL, eb);
}

bb_err hq_tls_load(const char *cert_path, const char *key_path, struct hq_tls *out,
                   bb_errbuf *eb)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    bb_err err;
    int ret;

    memset(out, 0, sizeof *out);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    if ((err = hq_read_small_file(cert_path, CERT_FILE_MAX, 0, &out->cert_pem, &out->cert_len,
                                  eb)) != BB_OK ||
        (err = hq_read_small_file(key_path, KEY_FILE_MAX, 1, &out->key_pem, &out->key_len,
                                  eb)) != BB_OK)
        goto out;
    if (!strstr(out->cert_pem, "-----BEGIN CERTIFICATE-----")) {
        err = bb_fail(eb, BB_ERR_INVALID, "TLS certificate %s: not a PEM certificate",
                      cert_path);
        goto out;
    }
    ret = mbedtls_x509_crt_parse(&crt, (const unsigned char *)out->cert_pem, out->cert_len + 1);
    if (ret != 0) {
        err = mbed_fail(eb, BB_ERR_INVALID, "TLS certificate", ret);
        bb_errbuf_prefix(eb, "%s", cert_path);
        goto out;
    }
    ret = mbedtls_pk_parse_key(&pk, (const unsigned char *)out->key_pem, out->key_len + 1,
                               NULL, 0);
    if (ret != 0) {
        /* mbedtls's message names the problem, never the key's bytes. */
        err = mbed_fail(eb, BB_ERR_INVALID, "TLS key (PEM, unencrypted)", ret);
        bb_errbuf_prefix(eb, "%s", key_path);
        goto out;
    }
    if ((ret = mbedtls_pk_check_pair(&crt.pk, &pk)) != 0) {
        err = bb_fail(eb, BB_ERR_INVALID, "TLS key %s does not belong to the certificate %s",
                      key_path, cert_path);
        goto out;
    }
    if ((err = spki_pin(&crt.pk, out->pin, eb)) != BB_OK)
        goto out;
    out->self_signed = crt.next == NULL && crt.issuer_raw.len == crt.subject_raw.len &&
                       memcmp(crt.issuer_raw.p, crt.subject_raw.p, crt.subject_raw.len) == 0;
    snprintf(out->not_after, sizeof out->not_after, "%04d-%02d-%02d %02d:%02d:%02d UTC",
             crt.valid_to.year, crt.valid_to.mon, crt.valid_to.day, crt.valid_to.hour,
             crt.valid_to.min, crt.valid_to.sec);
    if (mbedtls_x509_time_is_past(&crt.valid_to)) {
        err = bb_fail(eb, BB_ERR_INVALID, "TLS certificate %s expired on %s", cert_path,
                      out->not_after);
        goto out;
    }
out:
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    if (err != BB_OK)
        hq_tls_free(out);
    return err;
}

void hq_tls_free(struct hq_tls *t)
{
    if (!t)
        return;
    if (t->key_pem) {
        mbedtls_platform_zeroize(t->key_pem, t->key_len);
        free(t->key_pem);
    }
    free(t->cert_pem);
    memset(t, 0, sizeof *t);
}
