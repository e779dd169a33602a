/*
 * fuzz_record — libFuzzer target for record validation (shared/bb_record.h)
 * on the catalog compiled into the binaries (schema/records/<kind>.json and the
 * reference lists).  HQ runs bb_record_validate on every record of every
 * verified batch and on quarantine release; the collector on `add --json`
 * imports and on the forms page's posts: the JSON is anyone's.
 *
 * The input is JSON text (a record).  Checked: bb_json_parse, then
 * bb_record_validate, then bb_record_normalize and bb_record_validate again
 * (the collector's order) neither crash, leak nor accept-then-refuse: a
 * record that validates still validates after normalizing, and its
 * canonical JSON parsed back validates too (what is stored and sealed must
 * pass HQ's check of the same bytes).  A refusal must come with a message.
 * The input is copied into a buffer of exactly its size; nothing aborts on
 * bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_record/ with replay_main.c.
 * Seeds: valid records of several kinds (from tests/unit/test_record.c and
 * real `beatbook add` output) and near-valid ones (a bad enum, a ref not
 * listed, a datetime without offset, a rule broken).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_catalog.h"
#include "bb_json.h"
#include "bb_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bb_catalog *cat;
    cJSON *rec = NULL, *again = NULL;
    char *canon = NULL, *copy;
    bb_errbuf eb;
    bb_err rc;

    if (!cat && bb_catalog_load_embedded(&cat, NULL) != BB_OK)
        abort();
    if (size > BB_RECORD_MAX_BYTES)
        return 0;                       /* callers cap a record before parsing */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    if (bb_json_parse(copy, size, "fuzz", &rec, &eb) != BB_OK)
        goto out;

    eb.msg[0] = '\0';
    rc = bb_record_validate(cat, rec, BB_LANG_EN, &eb);
    if (rc != BB_OK && rc != BB_ERR_NOMEM && eb.msg[0] == '\0')
        abort();                        /* a refusal says why */

    bb_record_normalize(cat, rec);
    rc = bb_record_validate(cat, rec, BB_LANG_ZH, &eb);
    if (rc == BB_OK) {
        canon = bb_json_canonical(rec);
        if (canon) {
            if (bb_json_parse(canon, strlen(canon), "canonical", &again, &eb) != BB_OK)
                abort();                /* our own canonical output always parses */
            rc = bb_record_validate(cat, again, BB_LANG_EN, &eb);
            if (rc != BB_OK && rc != BB_ERR_NOMEM)
                abort();                /* stored form accepted once, refused later */
        }
    }
out:
    cJSON_Delete(again);
    free(canon);
    cJSON_Delete(rec);
    free(copy);
    return 0;
}
