/*
 * hq_register — `POST /v1/devices/register` (docs/PROTOCOL.md, FORMATS.md
 * §2): a device proves it holds the one-time token of its enrollment file
 * and binds its ECDSA public key.
 *
 *   400 malformed            not the registration document, or a bad key
 *   401 unknown_device       no such device
 *   401 bad_signature        the document is not signed by device_pub
 *   403 device_revoked
 *   409 already_registered   the device registered another key
 *   200                      already registered with this key: the same answer
 *   401 bad_token / token_expired / token_used
 *   201                      bound; the signed answer
 *       {"v":1,"device":..,"device_key":..,"org_unit":..,"registered_at":..,
 *        "hq_sign_key":..,"sig":..}
 * The token is stored only as its SHA-256, compared in constant time, and
 * wiped from every buffer here; it is never logged.
 */
#ifndef HQ_REGISTER_H
#define HQ_REGISTER_H

#include <stddef.h>
#include <sqlite3.h>
#include "hq_answer.h"
#include "hq_home.h"

#define HQ_REGISTER_MAX_BYTES 65536

/* Handle one registration body (len bytes of JSON); always fills ans. */
void hq_register(struct hq_home *h, sqlite3 *db, const char *body, size_t len,
                 struct hq_answer *ans);

#endif
