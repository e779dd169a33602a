/*
 * fuzz_refbundle — libFuzzer target for opening the signed reference
 * bundle (shared/bb_refbundle.h, docs/FORMATS.md §2): beatbook-syncd runs
 * bb_refbundle_open on the body of GET /v1/reference, `beatbook import`
 * on reference.json from a USB stick, and both again on the copy kept in
 * field.db; what passes becomes the laptop's record kinds, lists and plan.
 *
 * Byte 0 of the input picks what the rest is:
 *   even  the bundle's bytes as they came, opened with a fixed HQ key
 *         nobody can sign for (the P-256 generator point): size, JSON
 *         form, "v", key id, signature; it never opens;
 *   odd   JSON content that this process stamps and signs as HQ does
 *         (bb_refbundle_sign, its own key made once), then opens: reaches
 *         the version check and bb_refbundle_check, i.e. every kind, list
 *         and the plan loaded into a fresh catalog.
 * Checked: open never succeeds unsigned; an opened bundle has a 64-hex
 * version, its canonical text opens again to the same version, and
 * bb_refbundle_apply onto an empty catalog succeeds (open promised that
 * every part loads).  Everything is freed; nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_refbundle/ with replay_main.c.
 * Seeds: a cut content (one kind, a few units and list items, no plan), in
 * both modes; the same with a kind that does not load; not JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_catalog.h"
#include "bb_json.h"
#include "bb_refbundle.h"
#include "bb_sign.h"

#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT ((size_t)1024 * 1024)

static int hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bb_sign_key *nobody, *hq;
    static char nobody_kid[BB_KEY_ID_SIZE], hq_kid[BB_KEY_ID_SIZE];
    bb_refbundle *b = NULL, *again = NULL;
    bb_catalog *cat = NULL;
    cJSON *doc = NULL;
    char *copy, *signed_text = NULL;
    const char *text;
    size_t len;
    bb_errbuf eb;

    if (!hq && (fuzz_nobody_key(&nobody) != 0 || fuzz_device_key(&hq) != 0 ||
                bb_sign_key_id(nobody, nobody_kid, NULL) != BB_OK ||
                bb_sign_key_id(hq, hq_kid, NULL) != BB_OK))
        abort();
    if (size < 1 || size - 1 > MAX_INPUT)
        return 0;
    copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    len = size - 1;

    if (!(data[0] & 1)) {
        if (bb_refbundle_open(copy, len, nobody, nobody_kid, &b, &eb) == BB_OK || b)
            abort();                    /* nobody signs for G */
        goto out;
    }
    if (bb_json_parse(copy, len, "fuzz", &doc, NULL) != BB_OK || !cJSON_IsObject(doc) ||
        bb_refbundle_sign(doc, "2018-03-15T18:00:02+08:00", hq, &eb) != BB_OK ||
        !(signed_text = bb_json_canonical(doc)))
        goto out;
    if (bb_refbundle_open(signed_text, strlen(signed_text), hq, hq_kid, &b, &eb) != BB_OK) {
        if (b)
            abort();
        goto out;
    }
    if (!bb_refbundle_version_of(b) || !hex64(bb_refbundle_version_of(b)) ||
        !(text = bb_refbundle_text(b, &len)))
        abort();
    if (bb_refbundle_open(text, len, hq, hq_kid, &again, &eb) != BB_OK ||
        strcmp(bb_refbundle_version_of(again), bb_refbundle_version_of(b)) != 0)
        abort();                        /* what the device stores opens again */
    if (bb_catalog_new(&cat) != BB_OK)
        goto out;
    if (bb_refbundle_apply(b, cat, &eb) != BB_OK)
        abort();                        /* open said every part loads */
out:
    bb_catalog_free(cat);
    bb_refbundle_free(again);
    bb_refbundle_free(b);
    cJSON_Delete(doc);
    free(signed_text);
    free(copy);
    return 0;
}
