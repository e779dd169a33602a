/*
 * fuzz_plan — libFuzzer target for plans read from JSON text
 * (shared/bb_plan.h, bb_plan_parse against the catalog compiled into the
 * binaries).  HQ parses a plan file on `beatbook-hq plan load FILE`, and
 * every laptop parses the plan inside each reference bundle it receives
 * (bb_refbundle_open, then `beatbook report`): a bad plan file, or a
 * bundle signed by a careless HQ, reaches this parser.
 *
 * The input is the plan's JSON text.  Checked: parsing never crashes or
 * leaks; a plan that parses has an id and a canonical form that parses
 * again to the same canonical form; every KPI and input is found again by
 * its id; the weights add up as bb_plan_total_weight says; the look-ups of
 * reference figures and titles take any name.  The input is copied into a
 * buffer of exactly its size; nothing aborts on bad input.
 *
 * Run: `make fuzz` (clang, libFuzzer, ASan+UBSan, FUZZ_SECONDS each);
 * `make test` replays tests/fuzz/corpus/fuzz_plan/ with replay_main.c.
 * Seeds: schema/plans/taichung-107.json whole, cut to one goal, and a few
 * near misses (an unknown kind, a KPI naming a missing input).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bb_catalog.h"
#include "bb_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bb_catalog *cat;
    bb_plan *p = NULL, *again = NULL;
    const char *canon;
    int64_t value;
    bb_errbuf eb;
    size_t i, n;
    char *copy;

    if (!cat && bb_catalog_load_embedded(&cat, NULL) != BB_OK)
        abort();
    if (size > BB_PLAN_MAX_BYTES)
        return 0;
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    eb.msg[0] = '\0';
    if (bb_plan_parse(cat, copy, size, "fuzz.json", &p, &eb) != BB_OK) {
        if (p || eb.msg[0] == '\0')
            abort();                    /* a refusal gives no plan and says why */
        goto out;
    }
    if (!bb_plan_id(p) || !bb_plan_id(p)[0] || strlen(bb_plan_id(p)) >= BB_PLAN_ID_MAX ||
        !(canon = bb_plan_canonical(p)))
        abort();
    if (bb_plan_parse(cat, canon, strlen(canon), "canonical.json", &again, &eb) != BB_OK ||
        strcmp(bb_plan_canonical(again), canon) != 0)
        abort();                        /* what HQ stores loads back the same */
    for (i = 0, n = bb_plan_kpi_count(p); i < n; i++) {
        const struct bb_plan_kpi *k = bb_plan_kpi_at(p, i);
        if (!k || !k->id || bb_plan_kpi(p, k->id) != k)
            abort();
    }
    for (i = 0, n = bb_plan_input_count(p); i < n; i++) {
        const struct bb_plan_input *in = bb_plan_input_at(p, i);
        if (!in || !in->id || bb_plan_input(p, in->id) != in || !in->kind)
            abort();
    }
    for (i = 0, n = bb_plan_goal_count(p); i < n; i++)
        if (!bb_plan_goal_at(p, i))
            abort();
    (void)bb_plan_total_weight(p);
    (void)bb_plan_reference_title(p, "population");
    (void)bb_plan_reference(p, "population", bb_plan_year(p), bb_plan_org_root(p), &value);
    (void)bb_plan_reference(p, "officers", bb_plan_year(p) - 1, "P06", &value);
out:
    bb_plan_free(again);
    bb_plan_free(p);
    free(copy);
    return 0;
}
