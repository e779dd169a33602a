/*
 * sync_push.c — registration and one pass over the outbox (see sync_push.h).
 */
#include "sync_push.h"
#include "sync_attach.h"
#include "sync_http.h"
#include "sync_reference.h"
#include "sync_signal.h"
#include "bb_json.h"
#include "bb_log.h"
#include "bb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

#define CT_BATCH "application/vnd.beatbook.batch"
#define CT_JSON "application/json"
#define MSG_MAX 300

enum push { PUSH_ACKED, PUSH_REFUSED, PUSH_RETRY, PUSH_FATAL };

void sync_hq_message(const struct sync_http_answer *a, char *code, size_t code_n, char *msg,
                       size_t msg_n)
{
    cJSON *doc = NULL;
    const char *c = NULL, *m = NULL;
    size_t i, j = 0;

    code[0] = msg[0] = '\0';
    if (a->body && a->len && bb_json_parse(a->body, a->len, "answer", &doc, NULL) == BB_OK) {
        c = bb_json_str(doc, "error");
        m = bb_json_str(doc, "message");
    }
    if (c)
        snprintf(code, code_n, "%.60s", c);
    if (!m)
        m = c ? c : "";
    /* Printable text only (no terminal escapes from the network), capped. */
    for (i = 0; m[i] && j + 1 < msg_n && j < MSG_MAX; i++)
        msg[j++] = ((unsigned char)m[i] < 0x20 || m[i] == 0x7f) ? ' ' : m[i];
    msg[j] = '\0';
    cJSON_Delete(doc);
}

/* explain_refusal in zh-TW (HQ's own message is quoted as HQ wrote it). */
static void explain_refusal_zh(long status, long long seq, const char *code, const char *msg,
                               char *out, size_t n)
{
    switch (status) {
    case 409:
        if (strcmp(code, "chain_broken") == 0)
            snprintf(out, n, "批次 %lld 接不上總局已收到的本機批次（批次鏈中斷）——本機是否曾從備份"
                     "還原？請聯絡總局支援。", seq);
        else
            snprintf(out, n, "總局已有本機的批次 %lld，但內容不同——本機是否曾從備份還原？"
                     "請聯絡總局支援。", seq);
        break;
    case 403:
        snprintf(out, n, "總局已停用本機：拒收批次 %lld，並將其隔離待審。請聯絡總局支援。", seq);
        break;
    case 401:
        snprintf(out, n, "總局不認得本機或本機在批次 %lld 上的簽章（總局說：%s）——本機是否向"
                 "這個總局註冊？請聯絡總局支援。", seq, msg[0] ? msg : "unauthorized");
        break;
    case 413:
        snprintf(out, n, "批次 %lld 對總局來說太大（總局說：%s）。請聯絡總局支援。", seq,
                 msg[0] ? msg : "too large");
        break;
    default:
        snprintf(out, n, "總局無法接受批次 %lld（HTTP %ld；總局說：%s）。請聯絡總局支援。", seq,
                 status, msg[0] ? msg : "bad request");
        break;
    }
}

/* A plain explanation, for `beatbook status`, of why HQ refused batch seq. */
static void explain_refusal(enum bb_lang lang, long status, long long seq,
                            const struct sync_http_answer *a, char *out, size_t n)
{
    char code[64], msg[MSG_MAX + 1];

    sync_hq_message(a, code, sizeof code, msg, sizeof msg);
    if (lang != BB_LANG_EN) {
        explain_refusal_zh(status, seq, code, msg, out, n);
        return;
    }
    switch (status) {
    case 409:
        if (strcmp(code, "chain_broken") == 0)
            snprintf(out, n, "batch %lld does not follow the batches HQ already has from this "
                     "laptop (broken chain) — was the laptop restored from a backup? Call HQ "
                     "support.", seq);
        else
            snprintf(out, n, "HQ already has batch %lld of this laptop with different content — "
                     "was the laptop restored from a backup? Call HQ support.", seq);
        break;
    case 403:
        snprintf(out, n, "HQ has revoked this laptop: it refused batch %lld and keeps it in "
                 "quarantine for review. Call HQ support.", seq);
        break;
    case 401:
        snprintf(out, n, "HQ does not recognise this laptop or its signature on batch %lld "
                 "(HQ says: %s) — is the laptop enrolled with this HQ? Call HQ support.", seq,
                 msg[0] ? msg : "unauthorized");
        break;
    case 413:
        snprintf(out, n, "batch %lld is too large for HQ (HQ says: %s). Call HQ support.", seq,
                 msg[0] ? msg : "too large");
        break;
    default:
        snprintf(out, n, "HQ could not accept batch %lld (HTTP %ld; HQ says: %s). Call HQ "
                 "support.", seq, status, msg[0] ? msg : "bad request");
        break;
    }
}

static int refusal(long status)
{
    return status == 400 || status == 401 || status == 403 || status == 409 || status == 413;
}

/* Why an answer is not an acknowledgement, to retry. */
static void explain_retry(enum bb_lang lang, long status, const struct sync_http_answer *a,
                          char *out, size_t n)
{
    char code[64], msg[MSG_MAX + 1];

    sync_hq_message(a, code, sizeof code, msg, sizeof msg);
    if (lang != BB_LANG_EN) {
        if (status == 429 || status == 503)
            snprintf(out, n, "總局忙碌中（HTTP %ld）%s%s", status, msg[0] ? "：" : "", msg);
        else if (status >= 500)
            snprintf(out, n, "總局發生錯誤（HTTP %ld）%s%s", status, msg[0] ? "：" : "", msg);
        else if (status >= 200 && status < 400)
            snprintf(out, n, "收到 HTTP %ld，而不是總局附回執的 201（中間是否有登入頁面或"
                     "代理伺服器？）", status);
        else
            snprintf(out, n, "總局回應 HTTP %ld%s%s", status, msg[0] ? "：" : "", msg);
        return;
    }
    if (status == 429 || status == 503)
        snprintf(out, n, "HQ is busy (HTTP %ld)%s%s", status, msg[0] ? ": " : "", msg);
    else if (status >= 500)
        snprintf(out, n, "HQ failed (HTTP %ld)%s%s", status, msg[0] ? ": " : "", msg);
    else if (status >= 200 && status < 400)
        snprintf(out, n, "HTTP %ld instead of HQ's 201 with a receipt (a captive portal or a "
                 "proxy in the way?)", status);
    else
        snprintf(out, n, "HQ answered HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
}

static void clear_bar(const struct sync_opts *o)
{
    if (o->progress)
        sync_progress_clear(o->progress);
}

/* Register this laptop's key with HQ (once; idempotent at HQ). */
static bb_err do_register(const struct sync_opts *o, sync_http *http, struct sync_counts *c,
                          long *retry_after, bb_errbuf *eb)
{
    struct sync_http_answer a;
    char *doc = NULL, why[600];
    size_t len = 0;
    bb_err err;

    if ((err = bb_outbox_registration(o->ob, &doc, &len, eb)) != BB_OK)
        return err;
    err = sync_http_post(http, "/v1/devices/register", CT_JSON, doc, len, NULL, NULL, &a, eb);
    bb_outbox_secret_free(doc);
    if (err != BB_OK) {
        clear_bar(o);
        bb_warn("register device=%s result=retry error=\"%s\"", bb_outbox_device(o->ob), eb->msg);
        bb_errbuf_prefix(eb, "%s", BB_L(o->lang, "register with HQ", "向總局登錄"));
        return err;
    }
    *retry_after = a.retry_after;
    if (a.status == 200 || a.status == 201) {
        err = bb_outbox_registered(o->ob, a.body, a.len, eb);
        clear_bar(o);
        if (err == BB_OK) {
            bb_info("register device=%s status=%ld ms=%ld result=registered",
                    bb_outbox_device(o->ob), a.status, a.ms);
        } else {
            bb_error("register device=%s status=%ld ms=%ld result=retry error=\"%s\"",
                     bb_outbox_device(o->ob), a.status, a.ms, eb->msg);
            /* A bad answer is not HQ's word: try again later. */
            if (err == BB_ERR_CRYPTO || err == BB_ERR_INVALID || err == BB_ERR_TOOBIG)
                err = BB_ERR_UNAVAILABLE;
        }
        sync_http_answer_clear(&a);
        return err;
    }
    if (refusal(a.status)) {
        char code[64], msg[MSG_MAX + 1];
        sync_hq_message(&a, code, sizeof code, msg, sizeof msg);
        if (o->lang != BB_LANG_EN)
            snprintf(why, sizeof why, "%s（HTTP %ld%s%s）",
                     a.status == 403 ? "總局已停用本機；請聯絡總局支援" :
                     a.status == 409 ? "總局已為本機登錄了另一把金鑰（是否註冊過兩次？）；"
                                       "請聯絡總局支援" :
                     a.status == 401 ? "總局不接受本機的註冊（裝置不明，或密碼錯誤、已過期）；"
                                       "請向總局索取新的註冊檔" :
                                       "總局無法讀取本機的登錄資料；請聯絡總局支援",
                     a.status, msg[0] ? "；總局說：" : "", msg);
        else
            snprintf(why, sizeof why, "%s (HTTP %ld%s%s)",
                     a.status == 403 ? "HQ has revoked this laptop; call HQ support" :
                     a.status == 409 ? "HQ has another key registered for this laptop (was it "
                                       "enrolled twice?); call HQ support" :
                     a.status == 401 ? "HQ did not accept this laptop's enrollment (unknown "
                                       "device, wrong or expired token); ask HQ for a new "
                                       "enrollment file" :
                                       "HQ could not read this laptop's registration; call HQ "
                                       "support",
                     a.status, msg[0] ? "; HQ says: " : "", msg);
        clear_bar(o);
        bb_error("register device=%s status=%ld ms=%ld result=refused", bb_outbox_device(o->ob),
                 a.status, a.ms);
        c->registration_refused = 1;
        sync_http_answer_clear(&a);
        return bb_fail(eb, BB_ERR_STATE, BB_L(o->lang, "HQ refused to register this laptop: %s",
                                              "總局拒絕本機登錄：%s"), why);
    }
    explain_retry(o->lang, a.status, &a, why, sizeof why);
    clear_bar(o);
    bb_warn("register device=%s status=%ld ms=%ld result=retry", bb_outbox_device(o->ob),
            a.status, a.ms);
    sync_http_answer_clear(&a);
    return bb_fail(eb, BB_ERR_UNAVAILABLE, BB_L(o->lang, "register with HQ: %s", "向總局登錄：%s"),
                   why);
}

/* POST one batch and act on the answer. */
static enum push push_batch(const struct sync_opts *o, sync_http *http,
                            const struct bb_outbox_batch *b, struct sync_counts *c,
                            long *retry_after, bb_err *fatal, bb_errbuf *eb)
{
    struct sync_http_answer a;
    struct bb_outbox_ack ack;
    bb_errbuf why;
    bb_err err;

    *retry_after = -1;
    if ((*fatal = bb_outbox_attempt(o->ob, b->seq, NULL, eb)) != BB_OK)
        return PUSH_FATAL;
    err = sync_http_post(http, "/v1/batches", CT_BATCH, b->bytes, b->len,
                         o->progress ? sync_progress_upload : NULL, o->progress, &a, &why);
    if (err != BB_OK) {
        clear_bar(o);
        bb_warn("batch=%lld records=%lld bytes=%zu result=retry error=\"%s\"", (long long)b->seq,
                (long long)b->count, b->len, why.msg);
        bb_outbox_attempt(o->ob, b->seq, why.msg, NULL);
        *fatal = bb_fail(eb, err, BB_L(o->lang, "batch %lld: %s", "批次 %lld：%s"),
                         (long long)b->seq, why.msg);
        return err == BB_ERR_NOMEM ? PUSH_FATAL : PUSH_RETRY;
    }
    *retry_after = a.retry_after;
    if (a.status == 201) {
        err = bb_outbox_ack(o->ob, b->seq, a.body, a.len, &ack, &why);
        clear_bar(o);
        if (err == BB_OK) {
            bb_info("batch=%lld records=%lld bytes=%zu status=201 ms=%ld result=acked merged=%ld "
                    "duplicates=%ld rejected=%ld", (long long)b->seq, (long long)b->count, b->len,
                    a.ms, ack.merged, ack.duplicates, ack.rejected);
            c->acked++;
            c->rec_merged += ack.merged;
            c->rec_duplicates += ack.duplicates;
            c->rec_rejected += ack.rejected;
            sync_http_answer_clear(&a);
            return PUSH_ACKED;
        }
        bb_error("batch=%lld status=201 ms=%ld result=retry error=\"receipt not accepted: %s\"",
                 (long long)b->seq, a.ms, why.msg);
        sync_http_answer_clear(&a);
        if (err == BB_ERR_CRYPTO || err == BB_ERR_INVALID || err == BB_ERR_TOOBIG ||
            err == BB_ERR_NOTFOUND) {
            bb_fail(eb, BB_ERR_UNAVAILABLE,
                    BB_L(o->lang, "batch %lld: HQ's receipt was not accepted: %s",
                         "批次 %lld：總局的回執不被接受：%s"), (long long)b->seq, why.msg);
            bb_outbox_attempt(o->ob, b->seq, eb->msg, NULL);
            return PUSH_RETRY;
        }
        *eb = why;
        *fatal = err;
        return PUSH_FATAL;
    }
    if (refusal(a.status)) {
        char reason[1000];
        explain_refusal(o->lang, a.status, (long long)b->seq, &a, reason, sizeof reason);
        clear_bar(o);
        bb_error("batch=%lld records=%lld bytes=%zu status=%ld ms=%ld result=refused reason=\"%s\"",
                 (long long)b->seq, (long long)b->count, b->len, a.status, a.ms, reason);
        *fatal = bb_outbox_reject(o->ob, b->seq, (int)a.status, reason, eb);
        sync_http_answer_clear(&a);
        if (*fatal != BB_OK)
            return PUSH_FATAL;
        c->refused++;
        return PUSH_REFUSED;
    }
    explain_retry(o->lang, a.status, &a, why.msg, sizeof why.msg);
    clear_bar(o);
    /* HQ asking us to slow down is routine (info); anything else is worth a warning. */
    bb_log(a.status == 429 || a.status == 503 ? BB_LOG_INFO : BB_LOG_WARN,
           "batch=%lld records=%lld bytes=%zu status=%ld ms=%ld result=retry retry_after=%ld "
           "error=\"%s\"", (long long)b->seq, (long long)b->count, b->len, a.status, a.ms,
           a.retry_after, why.msg);
    sync_http_answer_clear(&a);
    bb_outbox_attempt(o->ob, b->seq, why.msg, NULL);
    bb_fail(eb, BB_ERR_UNAVAILABLE, BB_L(o->lang, "batch %lld: %s", "批次 %lld：%s"),
            (long long)b->seq, why.msg);
    return PUSH_RETRY;
}

/*
 * POST the laptop's signed status report (docs/PROTOCOL.md): before the
 * batches, so HQ learns what this laptop still holds even when it then
 * refuses or delays the batches.  Never fails the pass: a failure is logged.
 */
static void post_status(const struct sync_opts *o, sync_http *http)
{
    struct sync_http_answer a;
    char *doc = NULL;
    size_t len = 0;
    bb_errbuf eb;

    if (bb_outbox_status_doc(o->ob, "https", "beatbook-syncd " BEATBOOK_VERSION, &doc, &len,
                             &eb) != BB_OK) {
        bb_warn("status result=failed error=\"%s\"", eb.msg);
        return;
    }
    if (sync_http_post(http, "/v1/devices/status", CT_JSON, doc, len, NULL, NULL, &a, &eb)
        != BB_OK) {
        free(doc);
        bb_warn("status result=failed error=\"%s\"", eb.msg);
        return;
    }
    free(doc);
    if (a.status == 200)
        bb_info("status status=200 ms=%ld result=stored", a.ms);
    else {
        char code[64], msg[MSG_MAX + 1];
        sync_hq_message(&a, code, sizeof code, msg, sizeof msg);
        bb_warn("status status=%ld ms=%ld result=refused error=\"%s\"", a.status, a.ms, msg);
    }
    sync_http_answer_clear(&a);
}

bb_err sync_pass(const struct sync_opts *o, struct sync_counts *c, long *retry_after,
                 bb_errbuf *eb)
{
    const struct bb_outbox_hq *hq = bb_outbox_hq(o->ob);
    struct bb_outbox_sealed sealed;
    struct bb_outbox_purged purged;
    struct bb_outbox_batch b;
    sync_http *http = NULL;
    int64_t after = 0;
    uint64_t bytes = 0;
    long nb = 0;
    bb_err err;

    memset(c, 0, sizeof *c);
    memset(&b, 0, sizeof b);
    c->reference = -1;
    *retry_after = -1;
    if ((err = bb_outbox_require_enrollment(o->ob, BB_L(o->lang, "sync", "同步"), eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_seal(o->ob, o->conf, &sealed, eb)) != BB_OK) {
        bb_error("seal result=failed error=\"%s\"", eb->msg);
        goto done;
    }
    c->sealed_batches = sealed.batches;
    c->sealed_records = sealed.records;
    if (sealed.batches > 0)
        bb_info("sealed batches=%ld records=%ld seq=%lld-%lld", sealed.batches, sealed.records,
                (long long)sealed.first_seq, (long long)sealed.last_seq);
    if ((err = bb_outbox_pending(o->ob, &nb, &bytes, eb)) != BB_OK)
        goto done;
    /* Even with nothing to send, HQ is asked for newer reference data. */
    if ((err = sync_http_new(hq, o->lang, &http, eb)) != BB_OK)
        goto done;
    if (!hq->registered && (err = do_register(o, http, c, retry_after, eb)) != BB_OK)
        goto done;
    post_status(o, http);
    if (o->progress && nb > 0)
        sync_progress_start(o->progress, o->want_bar, nb, bytes);
    for (;;) {
        int try;
        if (sync_stop_requested()) {
            c->stopped = 1;
            break;
        }
        err = bb_outbox_next_unacked(o->ob, after, &b, eb);
        if (err == BB_ERR_NOTFOUND) {
            err = BB_OK;
            break;
        }
        if (err != BB_OK)
            goto done;
        after = b.seq;
        c->sent++;
        for (try = 1;; try++) {
            bb_err fatal = BB_ERR_INTERNAL;
            enum push r = push_batch(o, http, &b, c, retry_after, &fatal, eb);
            long wait;
            if (r == PUSH_ACKED || r == PUSH_REFUSED) {
                if (o->progress)
                    sync_progress_batch_done(o->progress, b.len);
                break;
            }
            if (r == PUSH_FATAL) {
                err = fatal;
                goto done;
            }
            wait = sync_backoff_ms(try, *retry_after);
            if (try >= o->tries || wait > o->max_wait_s * 1000 || sync_stop_requested()) {
                err = BB_ERR_UNAVAILABLE;
                goto done;
            }
            bb_info("batch=%lld retry_in_ms=%ld attempt=%d", (long long)b.seq, wait, try + 1);
            sync_sleep_ms(wait);
            if (sync_stop_requested()) {
                c->stopped = 1;
                err = BB_ERR_UNAVAILABLE;
                goto done;
            }
        }
        bb_outbox_batch_clear(&b);
    }
    /* Then the photos and files their records name (never ahead of them). */
    if (!c->stopped && (err = sync_push_attachments(o, http, c, retry_after, eb)) != BB_OK)
        goto done;
    /* Batches first; then the reference data, which never fails the pass. */
    if (!c->stopped && o->db) {
        clear_bar(o);
        c->reference = (int)sync_reference_pull(o->db, http, NULL);
    }
done:
    bb_outbox_batch_clear(&b);
    sync_http_free(http);
    if (o->progress)
        sync_progress_clear(o->progress);
    if (c->acked > 0 || c->att_stored > 0) {
        bb_errbuf peb;
        if (bb_outbox_purge(o->ob, o->conf->retention_days, bb_time_now(), &purged, &peb) == BB_OK) {
            c->purged = purged.batches;
            c->att_freed = purged.files;
            if (purged.files > 0)
                bb_info("purged attachments=%ld bytes=%llu retention_days=%ld", purged.files,
                        (unsigned long long)purged.file_bytes, o->conf->retention_days);
            if (purged.batches > 0)
                bb_info("purged batches=%ld revisions=%ld records=%ld retention_days=%ld",
                        purged.batches, purged.revisions, purged.records, o->conf->retention_days);
        } else {
            bb_warn("purge result=failed error=\"%s\"", peb.msg);
        }
    }
    {
        bb_errbuf neb, note;
        const char *what = err == BB_OK ? NULL : eb->msg;
        if (err == BB_OK && c->refused > 0) {
            snprintf(note.msg, sizeof note.msg,
                     BB_L(o->lang, "HQ refused %ld batch(es) in this sync (see the batches "
                                   "marked REFUSED)",
                          "總局在這次同步中拒收了 %ld 個批次（請見標示遭總局拒收的批次）"),
                     c->refused);
            what = note.msg;
        }
        if (bb_outbox_note_run(o->ob, what, &neb) != BB_OK)
            bb_warn("note sync run: %s", neb.msg);
    }
    return err;
}
