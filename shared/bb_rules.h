/*
 * bb_rules — rules across the fields of one record, kept as data in the
 * kind's definition (schema/records/<kind>.json "rules"; the types are in
 * bb_catalog.h: struct bb_rule, struct bb_cond).
 *
 *   "rules": [
 *     {"id": "a3_no_casualties", "since": 2,
 *      "when":    [{"field": "class", "in": ["a3"]}],
 *      "require": [{"field": "deaths", "eq": 0}, {"field": "injuries", "eq": 0}],
 *      "message": {"zh-TW": "A3 事故僅有財物損失，死亡與受傷人數須為 0", "en": "..."}}]
 *
 * A rule applies to a draft or final record (a void record is withdrawn,
 * whatever it said) whose kind_version is at least the rule's `since`; a
 * record without kind_version was made before kinds carried versions, i.e.
 * under version 1.  So a rule added in version 3 never rejects a record made
 * under version 2, at the laptop or at HQ, which runs the same check on
 * ingest.
 *
 * Conditions on a field that is not given: in "when" a comparison is false
 * (the rule does not apply); in "require" it holds (whether a field must be
 * given is required / required_if's business), except "present".
 *
 * Errors: BB_ERR_INVALID with the message in eb; BB_ERR_NOMEM.
 */
#ifndef BB_RULES_H
#define BB_RULES_H

#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"

/*
 * Parse a kind's "rules" array (NULL: none) against the kind's fields; every
 * rule is checked for names, types and messages in both languages.  On
 * success *out (free with bb_rules_free) holds *n rules whose strings point
 * into jrules, which must outlive them.
 */
bb_err bb_rules_parse(const struct bb_kind *k, const cJSON *jrules, const char *origin,
                      struct bb_rule **out, size_t *n, bb_errbuf *eb);
void bb_rules_free(struct bb_rule *rules, size_t n);

/* True when rule r applies to a record of this status and kind_version. */
int bb_rule_applies(const struct bb_rule *r, const cJSON *rec);

/*
 * Check rule r against record rec (envelope + data).  BB_OK when it holds
 * or does not apply; else BB_ERR_INVALID with
 *   traffic_accident：欄位「deaths」（死亡人數）：<message>（目前為 1）
 * and, when blamed is not NULL, *blamed set to the field the message names
 * (the first condition that failed), for a form to show it inline.
 */
bb_err bb_rule_check(const struct bb_kind *k, const struct bb_rule *r, const cJSON *rec,
                     enum bb_lang lang, const char **blamed, bb_errbuf *eb);

/* Every rule of kind k against rec; the first that fails. */
bb_err bb_rules_check(const struct bb_kind *k, const cJSON *rec, enum bb_lang lang,
                      bb_errbuf *eb);

/* The record's kind version: its "kind_version", or 1 when it has none. */
int bb_record_kind_version(const cJSON *rec);

#endif
