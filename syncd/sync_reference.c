/*
 * sync_reference.c — fetch, verify and store HQ's reference bundle (see
 * sync_reference.h).
 */
#include "sync_reference.h"
#include "bb_log.h"
#include "bb_refbundle.h"
#include "bb_time.h"

#include <stdio.h>
#include <string.h>

#define REFERENCE_PATH "/v1/reference"

/* Failures in a row: the daemon asks every pass, so the same failure is logged at its
 * level the first time and every tenth, at debug level in between. */
static int failures_in_a_row;

static enum bb_log_level limited(enum bb_log_level level)
{
    int n = failures_in_a_row + 1;
    return n == 1 || n % 10 == 0 ? level : BB_LOG_DEBUG;
}

enum sync_ref_result sync_reference_pull(sqlite3 *db, sync_http *http, bb_errbuf *eb)
{
    struct sync_http_answer a;
    char kid[BB_KEY_ID_SIZE], inm[BB_REFBUNDLE_VERSION_SIZE + 2];
    const char *send = NULL;
    bb_refbundle *have = NULL, *got = NULL;
    bb_sign_key *key = NULL;
    enum sync_ref_result res = SYNC_REF_FAILED;
    bb_errbuf why;
    bb_err err;
    int changed = 0;

    memset(&a, 0, sizeof a);
    memset(&why, 0, sizeof why);
    if ((err = bb_refbundle_hq_key(db, &key, kid, &why)) != BB_OK) {
        bb_log(limited(BB_LOG_ERROR), "reference result=failed error=\"%s\"", why.msg);
        goto out;
    }
    /* Only a stored bundle that still verifies may spare the download. */
    err = bb_refbundle_stored_load(db, &have, &why);
    if (err == BB_OK) {
        snprintf(inm, sizeof inm, "\"%s\"", bb_refbundle_version_of(have));
        send = inm;
    } else if (err != BB_ERR_NOTFOUND) {
        bb_log(limited(BB_LOG_WARN), "reference stored=ignored error=\"%s\"", why.msg);
    }
    if ((err = sync_http_get(http, REFERENCE_PATH, send, &a, &why)) != BB_OK) {
        bb_log(limited(BB_LOG_WARN), "reference result=retry error=\"%s\"", why.msg);
        goto out;
    }
    if (a.status == 304 && have) {
        if ((err = bb_refbundle_stored_touch(db, bb_time_now(), &why)) != BB_OK) {
            bb_log(limited(BB_LOG_WARN), "reference status=304 result=failed error=\"%s\"",
                   why.msg);
            goto out;
        }
        bb_info("reference status=304 version=%.12s ms=%ld result=unchanged",
                bb_refbundle_version_of(have), a.ms);
        res = SYNC_REF_UNCHANGED;
        goto out;
    }
    if (a.status != 200) {
        bb_fail(&why, BB_ERR_UNAVAILABLE, "GET %s: HTTP %ld instead of 200 with the bundle",
                REFERENCE_PATH, a.status);
        bb_log(limited(BB_LOG_WARN), "reference status=%ld ms=%ld result=retry error=\"%s\"",
               a.status, a.ms, why.msg);
        goto out;
    }
    if ((err = bb_refbundle_open(a.body, a.len, key, kid, &got, &why)) != BB_OK) {
        /* Not HQ's word (a proxy, a forgery, a bundle this build cannot load): the
         * stored data stays in use. */
        bb_log(limited(BB_LOG_ERROR), "reference status=200 bytes=%zu result=refused "
               "error=\"%s\"", a.len, why.msg);
        goto out;
    }
    if ((err = bb_refbundle_stored_save(db, got, bb_time_now(), &changed, &why)) != BB_OK) {
        bb_log(limited(BB_LOG_ERROR), "reference status=200 version=%.12s result=%s "
               "error=\"%s\"", bb_refbundle_version_of(got),
               err == BB_ERR_CONFLICT ? "refused" : "failed", why.msg);
        goto out;
    }
    if (changed)
        bb_info("reference status=200 version=%.12s issued_at=%s bytes=%zu ms=%ld result=updated",
                bb_refbundle_version_of(got), bb_refbundle_issued_at(got), a.len, a.ms);
    else
        bb_info("reference status=200 version=%.12s ms=%ld result=unchanged",
                bb_refbundle_version_of(got), a.ms);
    res = changed ? SYNC_REF_UPDATED : SYNC_REF_UNCHANGED;
out:
    failures_in_a_row = res == SYNC_REF_FAILED ? failures_in_a_row + 1 : 0;
    if (res == SYNC_REF_FAILED && eb)
        *eb = why;
    sync_http_answer_clear(&a);
    bb_refbundle_free(have);
    bb_refbundle_free(got);
    bb_sign_key_free(key);
    return res;
}
