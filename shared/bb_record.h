/*
 * bb_record — one record from the field: its envelope, its data, and the
 * rules that decide whether it may be stored (DESIGN.md §3).
 *
 *   {"id":UUIDv7,"kind":..,"kind_version":n,"rev":n,"status":"draft|final|void",
 *    "device":..,"officer":..,"org_unit":..,"occurred_at":ISO,
 *    "recorded_at":ISO,"location":{"lat":..,"lon":..},"data":{..},
 *    "void_reason":".." (void only)}
 *
 * The collector validates before it stores; HQ validates again on ingest
 * with the same code.  Messages name the record kind, the field (code and
 * label in the chosen language), the value and what is allowed, e.g.
 *   parking_citation: field "segment" (Listed segment): "SEG-9999" is not in
 *   the list of listed road segments (see: beatbook ref segments)
 *
 * Errors: BB_ERR_INVALID with the message in eb; BB_ERR_NOMEM.
 */
#ifndef BB_RECORD_H
#define BB_RECORD_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_err.h"

#define BB_RECORD_MAX_BYTES (256 * 1024)   /* canonical JSON of one record */
#define BB_VOID_REASON_MAX 500             /* characters */

/*
 * Turn a value typed by a person (command line or prompt) into the JSON
 * value of field f: "12" → 12, "yes"/"是" → true, "2018-03-15 14:20" →
 * "2018-03-15T14:20:00+08:00", "24.15,120.67" → {"lat":..,"lon":..}, an enum
 * label or code → its code, a ref code in any case → its listed code.
 * With allow_index, a number 1..n picks the n-th enum value (prompt menus).
 * `now` is the current Unix time (for "now" and "HH:MM").
 * The value is range-checked as bb_record_check_field() would.
 */
bb_err bb_record_coerce(const bb_catalog *cat, const struct bb_kind *k,
                        const struct bb_field *f, const char *text, int64_t now,
                        int allow_index, enum bb_lang lang, cJSON **out, bb_errbuf *eb);

/* Check one JSON value against field f (type, range, length, list membership). */
bb_err bb_record_check_field(const bb_catalog *cat, const struct bb_kind *k,
                             const struct bb_field *f, const cJSON *v,
                             enum bb_lang lang, bb_errbuf *eb);

/*
 * Check the data object of kind k: no unknown or duplicate fields, each field
 * valid, required and required-if fields present, datetime order rules.
 */
bb_err bb_record_check_data(const bb_catalog *cat, const struct bb_kind *k,
                            const cJSON *data, enum bb_lang lang, bb_errbuf *eb);

/*
 * Check a whole record: envelope, data, and the kind's rules across fields
 * that hold for the record's kind_version (bb_rules.h).
 */
bb_err bb_record_validate(const bb_catalog *cat, const cJSON *rec, enum bb_lang lang,
                          bb_errbuf *eb);

/*
 * Bring a record into its one stored form before validation: datetimes as
 * bb_time_format writes them (same instant, same offset; fractions dropped),
 * explicit nulls in data and a null location removed.  Leaves anything it
 * cannot parse alone for bb_record_validate to report.
 */
void bb_record_normalize(const bb_catalog *cat, cJSON *rec);

/*
 * The envelope keys a form asks like fields: occurred_at, location,
 * org_unit (and recorded_at, never asked), as field definitions with zh-TW
 * and English labels; NULL for any other name.
 */
const struct bb_field *bb_record_envelope_field(const char *name);

/* A field type as people read it: 選項, 整數, ...; bb_ftype_name in English. */
const char *bb_ftype_label(enum bb_ftype t, enum bb_lang lang);

/* Parse "lat,lon" into a geo object (ranges checked). */
bb_err bb_geo_parse(const char *text, cJSON **out, bb_errbuf *eb);
/* The same, with the message in lang (bb_geo_parse writes English). */
bb_err bb_geo_parse_lang(const char *text, enum bb_lang lang, cJSON **out, bb_errbuf *eb);

/* For attachment fields: 1 when type is one of f's media types. */
int bb_record_media_allowed(const struct bb_field *f, const char *type);
/* 1 when name may be an attachment's display name: 1..255 bytes of UTF-8,
 * no '/' and no control characters. */
int bb_record_attachment_name_ok(const char *name);

/* True when field f must be present given the rest of data. */
int bb_record_field_required(const struct bb_kind *k, const struct bb_field *f,
                             const cJSON *data);

#endif
