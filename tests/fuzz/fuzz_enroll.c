/*
 * fuzz_enroll — libFuzzer target for the enrollment file
 * (shared/bb_enroll.h, docs/FORMATS.md §2): `beatbook init --enroll FILE`
 * reads it from a USB stick or a download on a laptop before anything
 * about HQ is known, so it is the first untrusted input a laptop parses.
 * bb_enroll_read takes a path: the input is written to a temporary file
 * (one per process, rewritten each time) and read back.
 *
 * Byte 0 of the input picks what the rest is:
 *   even  the file's bytes as they are (every check; the file carries
 *         HQ's public key and is signed by it, so a seed written by
 *         bb_enroll_write reads, and a mutation of it fails the signature);
 *   odd   JSON whose "hq_sign_pub" and "hq_sign_key" (when present) are
 *         replaced by this process's key, then signed with it as HQ would
 *         (bb_sigdoc_sign, BB_CTX_ENROLLMENT): reaches success, so what a
 *         successful read gives back is checked too.
 * Checked: a refused file leaves *e cleared (nothing to free) with a
 * message; an accepted one has NUL-terminated members of the documented
 * forms, an HQ key, and bb_enroll_clear frees it all.  Nothing aborts on
 * bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_enroll/ with replay_main.c.
 * Seeds: files written by bb_enroll_write (with and without tls_ca), raw
 * and in re-sign form, and near misses (an unknown member, an expired one).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb_codec.h"
#include "bb_enroll.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"

#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static int fd = -1;
static bb_sign_key *hq;
static char *hq_spki_b64;
static char hq_kid[BB_KEY_ID_SIZE];

static void cleanup(void)
{
    if (fd >= 0)
        unlink(path);
}

static int setup(void)
{
    uint8_t *der = NULL;
    size_t der_len = 0;

    strcpy(path, "/tmp/fuzz_enroll_XXXXXX");
    if ((fd = mkstemp(path)) < 0)
        return -1;
    atexit(cleanup);
    if (fuzz_device_key(&hq) != 0 ||
        bb_sign_key_id(hq, hq_kid, NULL) != BB_OK ||
        bb_sign_pub_export_der(hq, &der, &der_len, NULL) != BB_OK ||
        bb_base64_encode_alloc(der, der_len, &hq_spki_b64, NULL) != BB_OK)
        return -1;
    free(der);
    return 0;
}

/* The text to write for an odd mode byte, or NULL (not JSON: skip). */
static char *resign(const char *text, size_t len)
{
    cJSON *doc = NULL;
    char *out = NULL;

    if (bb_json_parse(text, len, "fuzz", &doc, NULL) != BB_OK)
        return NULL;
    if (cJSON_IsObject(doc)) {
        if (cJSON_GetObjectItemCaseSensitive(doc, "hq_sign_pub"))
            cJSON_ReplaceItemInObjectCaseSensitive(doc, "hq_sign_pub",
                                                   cJSON_CreateString(hq_spki_b64));
        if (cJSON_GetObjectItemCaseSensitive(doc, "hq_sign_key"))
            cJSON_ReplaceItemInObjectCaseSensitive(doc, "hq_sign_key",
                                                   cJSON_CreateString(hq_kid));
        if (bb_sigdoc_sign(doc, BB_CTX_ENROLLMENT, hq, NULL) == BB_OK)
            out = bb_json_canonical(doc);
    }
    cJSON_Delete(doc);
    return out;
}

static int terminated(const char *s, size_t n)
{
    return memchr(s, 0, n) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct bb_enrollment cleared;
    struct bb_enrollment e;
    char *copy, *text;
    size_t len;
    bb_errbuf eb;
    bb_err rc;

    if (fd < 0 && setup() != 0)
        abort();
    if (size < 1 || size - 1 > BB_ENROLL_MAX_FILE)
        return 0;
    copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    text = copy;
    len = size - 1;
    if (data[0] & 1) {
        if (!(text = resign(copy, len)))
            goto out;
        len = strlen(text);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, len, 0) != (ssize_t)len)
        abort();

    eb.msg[0] = '\0';
    rc = bb_enroll_read(path, &e, &eb);
    if (rc != BB_OK) {
        if (memcmp(&e, &cleared, sizeof e) != 0 || eb.msg[0] == '\0')
            abort();                    /* refused: nothing kept, and a reason */
    } else {
        if (!e.hq_sign || !terminated(e.hq_url, sizeof e.hq_url) ||
            strncmp(e.hq_url, "https://", 8) != 0 ||
            strncmp(e.tls_pin, "sha256//", 8) != 0 ||
            !terminated(e.device, sizeof e.device) ||
            !terminated(e.org_unit, sizeof e.org_unit) ||
            !terminated(e.label, sizeof e.label) ||
            strlen(e.token) != BB_ENROLL_TOKEN_HEX - 1 ||
            strlen(e.hq_sign_key) != BB_KEY_ID_LEN ||
            strlen(e.hq_x25519_key) != BB_KEY_ID_LEN)
            abort();
    }
    bb_enroll_clear(&e);
out:
    if (text != copy)
        free(text);
    free(copy);
    return 0;
}
