/*
 * bb_hpke_vectors — checks bb_hpke against a file of HPKE test vectors in
 * the CFRG JSON format (the test-vectors.json of the RFC 9180 repository:
 * an array of objects with mode, kem_id, kdf_id, aead_id, ikmE, ikmR,
 * [ikmS], skEm, pkEm, skRm, pkRm, [skSm, pkSm], [psk, psk_id], info, enc,
 * shared_secret, key_schedule_context, secret, key, base_nonce,
 * exporter_secret, encryptions[{aad, pt, nonce, ct}],
 * exports[{exporter_context, L, exported_value}]).
 *
 * For every vector whose suite bb_hpke implements (KEM 0x0020, KDF 0x0001,
 * any of its AEADs, any mode) it checks each field byte for byte: the key
 * pairs derived from the ikms, enc and the shared secret from both Encap
 * and Decap, every key-schedule output, every encryption (Seal gives ct,
 * Open gives pt back, in sequence-number order) and every export from both
 * the sender and the receiver context.  A vector passes when all of that
 * holds.  Vectors of other suites are skipped and named.
 *
 * Output: one line per vector on `diag` for each failure ("vector 3
 * (mode=auth ...): enc: mismatch"), and on `out` one summary line per mode
 * and suite ("mode=base kem=0x0020 kdf=0x0001 aead=0x0002: 1 passed,
 * 0 failed"), one line per skipped vector and a count.  The caller prints
 * the totals.  Either stream may be NULL for silence.
 *
 * Errors: the function returns BB_OK when it could read the file as a JSON
 * array, whatever the vectors gave (see res); a malformed vector (missing
 * field, bad hex, wrong length) counts as failed and is described on diag.
 * BB_ERR_INVALID when the text is not a JSON array of objects,
 * BB_ERR_NOTFOUND / BB_ERR_IO / BB_ERR_TOOBIG when the file cannot be read.
 */
#ifndef BB_HPKE_VECTORS_H
#define BB_HPKE_VECTORS_H

#include <stddef.h>
#include <stdio.h>

#include "bb_err.h"

/* The largest vectors file we read (the full CFRG file is about 2 MB). */
#define BB_HPKE_VECTORS_MAX_FILE ((size_t)64 * 1024 * 1024)

typedef struct bb_hpke_vectors_result {
    size_t passed;      /* supported vectors whose every check passed */
    size_t failed;      /* supported or malformed vectors that failed */
    size_t skipped;     /* vectors of a KEM, KDF or AEAD not implemented */
} bb_hpke_vectors_result;

/* Check the vectors in json (len bytes, NUL not required). */
bb_err bb_hpke_vectors_check_json(const char *json, size_t len, FILE *out,
                                  FILE *diag, bb_hpke_vectors_result *res,
                                  bb_errbuf *eb);

/* Read path (at most BB_HPKE_VECTORS_MAX_FILE bytes) and check it. */
bb_err bb_hpke_vectors_check_file(const char *path, FILE *out, FILE *diag,
                                  bb_hpke_vectors_result *res, bb_errbuf *eb);

#endif
