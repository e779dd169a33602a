/*
 * sync_reference — the reference data part of a sync pass (DESIGN.md §6,
 * docs/PROTOCOL.md "Device behaviour"): GET /v1/reference with the stored
 * bundle's version as If-None-Match; on 304 only note the check; on 200
 * verify the bundle with HQ's signing key from the enrollment, check it
 * loads (shared/bb_refbundle.h) and is not older than the stored one, and
 * store it in field.db in one transaction.  beatbook uses it from its next
 * start.
 *
 * It never stops batch delivery: sync_push calls it after the batches, and
 * a failure is only logged (one line, key=value) and reported to the
 * caller, which goes on.  A stored bundle that no longer verifies is not
 * trusted for If-None-Match, so the next pass replaces it.  The same failure
 * pass after pass is logged the first time and every tenth (debug level in
 * between).
 */
#ifndef SYNC_REFERENCE_H
#define SYNC_REFERENCE_H

#include <sqlite3.h>
#include "bb_err.h"
#include "sync_http.h"

enum sync_ref_result {
    SYNC_REF_UNCHANGED = 0,   /* 304, or a 200 with the bundle already stored */
    SYNC_REF_UPDATED,         /* a new bundle is stored */
    SYNC_REF_FAILED           /* not reached, refused or not stored: see the log */
};

/*
 * One check on store db through http.  Returns what happened; eb (may be
 * NULL) says why on SYNC_REF_FAILED.
 */
enum sync_ref_result sync_reference_pull(sqlite3 *db, sync_http *http, bb_errbuf *eb);

#endif
