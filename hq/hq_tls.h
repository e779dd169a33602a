/*
 * hq_tls — HQ's TLS certificate: the self-signed demo certificate made by
 * `beatbook-hq init`, loading and checking a certificate and key pair, and
 * the public-key pin devices check (docs/FORMATS.md §2, `tls_pin`).
 *
 * The pin is "sha256//" + base64(SHA-256(SubjectPublicKeyInfo DER)) of the
 * certificate's key: the format curl's CURLOPT_PINNEDPUBLICKEY takes.
 *
 * Ownership: hq_tls_load fills a struct hq_tls whose buffers the caller
 * releases with hq_tls_free (the key is wiped).  Errors: BB_ERR_INVALID for
 * a certificate or key that does not parse or does not match, file errors
 * from hq_files, BB_ERR_CRYPTO / BB_ERR_INTERNAL for mbedtls failures.
 */
#ifndef HQ_TLS_H
#define HQ_TLS_H

#include <stddef.h>
#include "bb_err.h"

#define HQ_TLS_PIN_SIZE 64            /* "sha256//" + 44 base64 characters + NUL */
#define HQ_TLS_VALID_YEARS 10
#define HQ_TLS_MAX_HOSTNAMES 32

struct hq_tls {
    char *cert_pem;                   /* the certificate file (chain), NUL-terminated */
    size_t cert_len;
    char *key_pem;                    /* the private key file: a secret */
    size_t key_len;
    char pin[HQ_TLS_PIN_SIZE];
    int self_signed;                  /* a single certificate whose issuer is itself */
    char not_after[96];               /* "2028-03-15 06:00:00 UTC" */
};

/*
 * Make a fresh ECDSA P-256 key at key_path (0600, O_EXCL) and a self-signed
 * certificate for it at cert_path (0644, O_EXCL), valid HQ_TLS_VALID_YEARS,
 * with a subjectAltName for each hostname (IP literals as IP addresses) plus
 * localhost and 127.0.0.1.  Hostnames: letters, digits, '-', '.', or an IP.
 */
bb_err hq_tls_generate(const char *key_path, const char *cert_path,
                       const char *const *hostnames, size_t nhostnames, bb_errbuf *eb);

/* Check that a --hostname value is a DNS name or an IP address. */
bb_err hq_tls_check_hostname(const char *name, bb_errbuf *eb);

/* Read both files, check they parse and that the key matches the certificate. */
bb_err hq_tls_load(const char *cert_path, const char *key_path, struct hq_tls *out,
                   bb_errbuf *eb);

/* Wipe the key and free the buffers; the struct may be zeroed or loaded. */
void hq_tls_free(struct hq_tls *t);

#endif
