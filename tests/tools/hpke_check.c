/*
 * hpke_check — check bb_hpke against a file of RFC 9180 test vectors in the
 * CFRG JSON format (see shared/bb_hpke_vectors.h):
 *
 *     hpke_check tests/vectors/hpke-rfc9180-x25519.json
 *
 * Prints one line per mode and suite, the skipped vectors, and last
 * "N passed, M failed" alone on its line; failures are described on stderr.
 * Exit 0 when every supported vector passed and there was at least one,
 * 1 when one failed, 64 for a usage error, and the sysexits status of the
 * error when the file cannot be read or is not a vectors file.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "bb_err.h"
#include "bb_hpke_vectors.h"

int main(int argc, char **argv)
{
    bb_hpke_vectors_result res;
    bb_errbuf eb;
    bb_err rc;

    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: hpke_check FILE\n"
               "Check HPKE against RFC 9180 test vectors (CFRG JSON format).\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: hpke_check FILE\n");
        return EX_USAGE;
    }
    rc = bb_hpke_vectors_check_file(argv[1], stdout, stderr, &res, &eb);
    if (rc != BB_OK) {
        fprintf(stderr, "hpke_check: %s\n", eb.msg);
        return bb_err_exit_code(rc);
    }
    printf("%zu passed, %zu failed\n", res.passed, res.failed);
    if (res.passed + res.failed == 0) {
        /* A run that checked nothing must not look like a success. */
        fprintf(stderr, "hpke_check: %s: no vector of a supported suite\n",
                argv[1]);
        return EX_DATAERR;
    }
    return res.failed > 0 ? 1 : 0;
}
