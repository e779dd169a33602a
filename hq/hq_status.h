/*
 * hq_status — laptops' signed status reports (docs/FORMATS.md §2 "Laptop
 * status report", docs/PROTOCOL.md `POST /v1/devices/status`): what a laptop
 * still holds that HQ has not got (records not sealed, batches not
 * acknowledged, open drafts), its last entry, software and reference
 * versions and clock.  The HTTPS server and `beatbook-hq import` (the
 * DEVICE.status.json of a USB export) both call hq_status_receive.
 *
 *   400 malformed             not a status report
 *   401 unknown_device        no such device, or not registered yet
 *   401 wrong_key             signed with a key that is not this device's
 *   401 bad_signature         the signature does not verify
 *   403 device_revoked
 *   409 replayed              counter not newer than the report HQ keeps
 *   200                       kept as the device's latest report
 *
 * hq_status_annotate adds the reports to the Devices view (hq_api_devices):
 * per device "report" and a "summary" sentence ("HQ has everything" / "3
 * records not sent, 1 patrol not ended, last contact 2 hours ago"), laptops
 * with something outstanding first within each precinct, and per precinct a
 * summary line ("precincts").
 */
#ifndef HQ_STATUS_H
#define HQ_STATUS_H

#include <stddef.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_catalog.h"
#include "bb_lang.h"
#include "hq_answer.h"
#include "hq_home.h"

#define HQ_STATUS_MAX_BYTES 65536

/* Handle one report (len bytes of JSON) that came by via ("https" or "usb"); always
 * fills ans.  On 409 replayed, *same (when not NULL) is 1 when the report is byte for
 * byte the one HQ keeps (a USB stick imported twice). */
void hq_status_receive(struct hq_home *h, sqlite3 *db, const char *body, size_t len,
                       const char *via, int *same, struct hq_answer *ans);

/* Add the latest reports to the Devices view out (hq_api_devices' object). */
bb_err hq_status_annotate(sqlite3 *db, const bb_catalog *cat, enum bb_lang lang, cJSON *out,
                          bb_errbuf *eb);

#endif
