/*
 * hq_ingest.c — the checks of POST /v1/batches in protocol order (see
 * hq_ingest.h); the writing is hq_merge's.
 */
#include "hq_ingest.h"
#include "bb_batch.h"
#include "bb_log.h"
#include "hq_merge.h"
#include "hq_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

void hq_ingest_store_error(struct hq_answer *ans, bb_err err, const char *what,
                           const bb_errbuf *eb)
{
    bb_error("%s: %s", what, eb && eb->msg[0] ? eb->msg : bb_strerror(err));
    if (err == BB_ERR_BUSY) {
        hq_answer_error(ans, 503, "store_busy", "HQ's store is busy; try again in a moment");
        ans->retry_after = 2;
    } else if (err == BB_ERR_NOMEM) {
        hq_answer_error(ans, 503, "short_of_memory", "HQ is short of memory; try again later");
        ans->retry_after = 30;
    } else {
        hq_answer_error(ans, 500, "internal", "HQ could not store the batch; nothing was "
                        "kept, try again later");
    }
}

void hq_ingest(struct hq_home *h, sqlite3 *db, const uint8_t *buf, size_t len,
               const struct hq_ingest_opts *opts, struct hq_answer *ans)
{
    struct bb_batch_view view;
    struct hq_device dev;
    struct hq_batch_in in;
    enum hq_seq_state state;
    bb_sign_key *pub = NULL;
    char sha[BB_SHA256_HEX], *receipt = NULL, *plain = NULL;
    size_t plain_len = 0;
    unsigned wait;
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    memset(&dev, 0, sizeof dev);
    /* 1. size */
    if (len > opts->max_bytes) {
        hq_answer_error(ans, 413, "too_large", "the batch is %zu bytes; HQ takes at most %zu",
                        len, opts->max_bytes);
        return;
    }
    if (len == 0) {
        hq_answer_error(ans, 400, "empty_body", "the request has no body; send a sealed batch");
        return;
    }
    /* 2. container */
    if ((err = bb_batch_parse(buf, len, &view, &eb)) != BB_OK) {
        if (err == BB_ERR_TOOBIG)
            hq_answer_error(ans, 413, "too_large", "%s", eb.msg);
        else
            hq_answer_error(ans, 400, "malformed_batch", "%s", eb.msg);
        return;
    }
    snprintf(ans->device, sizeof ans->device, "%s", view.hdr.device);
    ans->seq = view.hdr.seq;
    ans->records = (long)view.hdr.count;
    /* 3. device */
    err = hq_device_get(db, view.hdr.device, &dev, &eb);
    if (err == BB_ERR_NOTFOUND) {
        hq_answer_error(ans, 401, "unknown_device", "device %s is not enrolled at this HQ",
                        view.hdr.device);
        return;
    }
    if (err != BB_OK) {
        hq_ingest_store_error(ans, err, "read device", &eb);
        return;
    }
    if (!dev.pub) {
        if (dev.status == HQ_DEV_REVOKED)
            hq_answer_error(ans, 403, "device_revoked", "device %s was revoked before it "
                            "registered; its batches are refused", dev.id);
        else
            hq_answer_error(ans, 401, "not_registered", "device %s has not registered its key "
                            "yet; it must register (POST /v1/devices/register) first", dev.id);
        goto out;
    }
    /* 4. signature */
    if ((err = bb_sign_pub_import_der(&pub, dev.pub, dev.pub_len, &eb)) != BB_OK) {
        hq_ingest_store_error(ans, BB_ERR_INTERNAL, "stored device key", &eb);
        goto out;
    }
    if ((err = bb_batch_verify(&view, pub, &eb)) != BB_OK) {
        if (err == BB_ERR_CRYPTO)
            hq_answer_error(ans, 401, "bad_signature", "the batch's signature does not verify "
                            "with the key registered for device %s", dev.id);
        else
            hq_ingest_store_error(ans, err, "verify batch", &eb);
        goto out;
    }
    bb_sha256_hex(buf, len, sha);
    /* 5. revoked */
    if (dev.status == HQ_DEV_REVOKED) {
        ans->outcome = HQ_OUT_QUARANTINED;
        if ((err = hq_merge_quarantine_batch(db, &view, sha, opts->source, "device revoked",
                                             &eb)) != BB_OK) {
            hq_ingest_store_error(ans, err, "quarantine batch", &eb);
            goto out;
        }
        ans->outcome = HQ_OUT_QUARANTINED;
        hq_answer_error(ans, 403, "device_revoked", "device %s was revoked; batch %lld is kept "
                        "in quarantine at HQ and was not merged", dev.id,
                        (long long)view.hdr.seq);
        goto out;
    }
    if (opts->admit && (wait = opts->admit(opts->admit_ctx, dev.id)) > 0) {
        hq_answer_error(ans, 429, "rate_limited", "too many requests from device %s; "
                        "try again in %u s", dev.id, wait);
        ans->retry_after = wait;
        goto out;
    }
    /* 6. seq / prev (checked again under the write lock by the merge) */
    if ((err = hq_merge_check_seq(db, dev.id, view.hdr.seq, view.hdr.prev, sha, &state,
                                  &receipt, &eb)) != BB_OK) {
        hq_ingest_store_error(ans, err, "read batches", &eb);
        goto out;
    }
    if (state != HQ_SEQ_NEW) {
        hq_merge_seq_answer(state, view.hdr.seq, &receipt, ans);
        goto out;
    }
    /* 7. decrypt */
    if ((err = bb_batch_decrypt(&view, h->keys.x_sk, &plain, &plain_len, &eb)) != BB_OK) {
        if (err == BB_ERR_NOMEM)
            hq_ingest_store_error(ans, err, "decrypt batch", &eb);
        else
            hq_answer_error(ans, 400, "undecryptable", "%s", eb.msg);
        goto out;
    }
    /* 8. merge */
    in.view = &view;
    in.device = &dev;
    in.sha256 = sha;
    in.records_json = plain;
    in.records_len = plain_len;
    in.source = opts->source;
    if ((err = hq_merge_batch(h, db, &in, ans, &eb)) != BB_OK) {
        if (err == BB_ERR_INVALID)
            hq_answer_error(ans, 400, "malformed_records", "%s", eb.msg);
        else
            hq_ingest_store_error(ans, err, "merge batch", &eb);
    }
out:
    if (plain) {
        mbedtls_platform_zeroize(plain, plain_len);
        free(plain);
    }
    free(receipt);
    bb_sign_key_free(pub);
    hq_device_clear(&dev);
}
