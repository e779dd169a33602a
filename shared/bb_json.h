/*
 * bb_json — canonical JSON on top of cJSON, and capped file input.
 *
 * Canonical form (what is hashed, signed and stored): object keys sorted by
 * their UTF-8 bytes, no whitespace, strings with only the escapes JSON
 * requires (", \, control characters as \u00XX), integers within ±2^53 as
 * plain integers, other numbers in the shortest %.17g form that reads back
 * to the same double.  Two records with the same content always give the
 * same bytes, on every device and at HQ.
 *
 * Memory: functions returning char * give a malloc'd NUL-terminated string
 * the caller frees; cJSON trees are freed with cJSON_Delete.
 */
#ifndef BB_JSON_H
#define BB_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "bb_err.h"

/* Canonical serialisation of item.  Returns NULL only when out of memory. */
char *bb_json_canonical(const cJSON *item);

/*
 * Parse text (len bytes, need not be NUL-terminated) into a tree.  On a
 * syntax error, eb says where: `line 3, column 14: unexpected character`.
 * `what` names the input in the message (a file name, "standard input").
 */
bb_err bb_json_parse(const char *text, size_t len, const char *what,
                     cJSON **out, bb_errbuf *eb);

/*
 * Read a whole file (path "-" is standard input) into a malloc'd buffer,
 * NUL-terminated, refusing files larger than cap bytes (BB_ERR_TOOBIG).
 */
bb_err bb_read_file(const char *path, size_t cap, char **out, size_t *len,
                    bb_errbuf *eb);

/*
 * Check, without building a tree, that text is a JSON array whose elements
 * are all objects, and count them.  Strings (with escapes) and nesting (up
 * to 64 levels, brackets matched by kind) are followed; what lies between
 * is NOT validated (`{"a" 1}` passes), so use it only where a full parse
 * follows anyway or the text is our own canonical output.  It is ~10x
 * cheaper than bb_json_parse on a batch of records.
 * BB_ERR_INVALID with the element or offset in eb.
 */
bb_err bb_json_scan_objects(const char *text, size_t len, const char *what, long long *count,
                            bb_errbuf *eb);

/* Object member lookups that tolerate a missing key (return NULL/deflt). */
const char *bb_json_str(const cJSON *obj, const char *key);
const cJSON *bb_json_obj(const cJSON *obj, const char *key);

/* Number of Unicode characters in a UTF-8 string; -1 if it is not valid UTF-8. */
long bb_utf8_length(const char *s);

#endif
