/*
 * hq_display — what a person reads for a stored value, in both languages:
 * the review UI shows these, never the codes (hq_api.h).
 *
 * Every call returns a new cJSON value the caller owns (or adds to a
 * tree), or NULL only when out of memory.  A text is a pair
 *   {"zh-TW": "...", "en": "..."}
 * so that a page picks by its language without asking again.  What the
 * pair says:
 *
 *   record kind      its label                      交通事故 / Traffic accident
 *   record status    final, void, draft             已完成 / Final, 已作廢 / Void, 草稿 / Draft
 *   enum value       its label                      攔停舉發 / Stopped on the spot
 *   boolean          是 / 否, Yes / No
 *   listed code      "name (code)" from the list    東豐自行車綠廊 (BP-DF)
 *                    (org units, intersections, segments, bike paths)
 *   time             Taipei, to the minute          107/03/15 16:30 / 2018-03-15 16:30
 *   number, text     the value itself in both
 *
 * Names come from the catalog passed in; `beatbook-hq serve` brings its
 * catalog up to the published reference bundle (hq_reference.h), so a list
 * changed with `reference set` shows its new names.  Nothing here fails on
 * bad data: an unknown code, a value of the wrong type (a quarantined
 * record) or a time that does not parse shows as it is.  A NULL input
 * gives a JSON null.
 */
#ifndef HQ_DISPLAY_H
#define HQ_DISPLAY_H

#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_plan.h"

/* {"zh-TW": zh, "en": en}; either NULL: the other one. */
cJSON *hq_display_pair(const char *zh, const char *en);

/* A catalog label, falling back as bb_label does, then to fallback. */
cJSON *hq_display_label(const struct bb_label *l, const char *fallback);

/* "name (code)" of code in reference list `list`; the code alone when not listed. */
cJSON *hq_display_ref(const bb_catalog *cat, const char *list, const char *code);

/* An RFC 3339 time as Taipei local time: ROC date in zh-TW, ISO date in en. */
cJSON *hq_display_time(const char *rfc3339);

/* A record status (final, void, draft), a device status (pending, active,
 * revoked), a batch source (https, import), a quarantine action (released,
 * reviewed). */
cJSON *hq_display_status(const char *status);
cJSON *hq_display_device_status(const char *status);
cJSON *hq_display_source(const char *source);
cJSON *hq_display_action(const char *action);

/* One data value of field f (NULL: a field the kind does not define). */
cJSON *hq_display_value(const bb_catalog *cat, const struct bb_field *f, const cJSON *v);

/*
 * A whole record (its envelope and data, as stored):
 *   {"kind", "status", "org_unit", "occurred_at", "recorded_at": pairs,
 *    "void_reason": text or null,
 *    "fields": [{"name": code, "type": "enum"|..., "label": pair, "text": pair}]}
 * fields in the kind's own order, then any field the kind does not define
 * (type null, label the name).
 */
cJSON *hq_display_record(const bb_catalog *cat, const cJSON *rec);

/*
 * What changed from revision old to rec (both as stored; old NULL: the
 * first revision, an empty list): the envelope's status, occurred_at,
 * org_unit and void_reason, then the data fields in the kind's order, then
 * fields the kind does not define:
 *   [{"name": code, "label": pair, "old": pair or null, "new": pair or null}]
 * null: the value is not given on that side.
 */
cJSON *hq_display_changes(const bb_catalog *cat, const cJSON *old, const cJSON *rec);

/*
 * What a plan input counts, in words, from its conditions (field, enum and
 * listed-code labels; a plan list as "one of the plan's 25 listed road
 * segments"), never written per KPI:
 *   違規停車舉發：列管路段屬計畫列管的 25 個路段；舉發方式為攔停舉發或逕行舉發；
 *   案件來源為警察主動查獲；依發生時間計入期間
 * Cut at HQ_DISPLAY_INPUT_MAX bytes.
 */
#define HQ_DISPLAY_INPUT_MAX 1200
cJSON *hq_display_input(const bb_catalog *cat, const struct bb_plan_input *in);

/* The text of a pair in lang ("" for a null or missing pair). */
const char *hq_display_pick(const cJSON *pair, enum bb_lang lang);

#endif
