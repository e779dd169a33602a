/*
 * sync_attach.c — sending photos and files after the batches (see
 * sync_attach.h and docs/PROTOCOL.md "Attachments").
 *
 * One file at a time, oldest first.  For each: POST its head; HQ answers
 * with its receipt (it already holds the file) or with the chunks it
 * holds; PUT only the others, one sealed chunk (≤ 1 MiB) in memory at a
 * time; the chunk that completes the file is answered with the receipt.
 * A cut or a crash costs at most the chunk in flight: the head and key are
 * kept in the store, so the next try offers HQ the same object and HQ says
 * which chunks it still lacks.
 */
#include "sync_attach.h"
#include "sync_http.h"
#include "sync_signal.h"
#include "bb_json.h"
#include "bb_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_HEAD "application/vnd.beatbook.attachment"
#define CT_CHUNK "application/octet-stream"
#define MSG_MAX 300
/* Rounds of head + missing chunks per file in one try (a head that says
 * "partial" after every chunk was accepted means HQ lost some: once more). */
#define MAX_ROUNDS 3

enum att_result { ATT_STORED, ATT_REFUSED, ATT_LATER, ATT_RETRY, ATT_FATAL };

/*
 * The receipt in an answer: the answer itself when it is a signed document
 * (it carries "sig"), or its "receipt" member.  *text is malloc'd.
 */
static int receipt_of(const struct sync_http_answer *a, char **text, size_t *len)
{
    cJSON *doc = NULL;
    const cJSON *r;

    *text = NULL;
    if (!a->body || bb_json_parse(a->body, a->len, "answer", &doc, NULL) != BB_OK)
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(doc, "sig")) {
        cJSON_Delete(doc);
        if (!(*text = malloc(a->len + 1)))
            return 0;
        memcpy(*text, a->body, a->len);
        (*text)[a->len] = '\0';
        *len = a->len;
        return 1;
    }
    r = cJSON_GetObjectItemCaseSensitive(doc, "receipt");
    if (cJSON_IsObject(r) && (*text = bb_json_canonical(r)))
        *len = strlen(*text);
    cJSON_Delete(doc);
    return *text != NULL;
}

/* The answer says HQ holds the whole file (and so carries a receipt). */
static int says_stored(const struct sync_http_answer *a)
{
    cJSON *doc = NULL;
    const char *state;
    int stored;

    if (!a->body || bb_json_parse(a->body, a->len, "answer", &doc, NULL) != BB_OK)
        return 0;
    state = bb_json_str(doc, "state");
    stored = cJSON_GetObjectItemCaseSensitive(doc, "sig") != NULL ||
             cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "receipt")) ||
             (state && strcmp(state, "stored") == 0);
    cJSON_Delete(doc);
    return stored;
}

/* Which chunks HQ holds, from {"have":[[from,to),...]} into held[0..chunks). */
static void read_have(const struct sync_http_answer *a, unsigned char *held, int64_t chunks)
{
    cJSON *doc = NULL;
    const cJSON *r;

    memset(held, 0, (size_t)chunks);
    if (!a->body || bb_json_parse(a->body, a->len, "answer", &doc, NULL) != BB_OK)
        return;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "have")) {
        const cJSON *f = cJSON_GetArrayItem(r, 0), *t = cJSON_GetArrayItem(r, 1);
        int64_t i, from, to;
        if (!cJSON_IsNumber(f) || !cJSON_IsNumber(t))
            continue;
        from = (int64_t)f->valuedouble;
        to = (int64_t)t->valuedouble;
        for (i = from < 0 ? 0 : from; i < to && i < chunks; i++)
            held[i] = 1;
    }
    cJSON_Delete(doc);
}

/* What an answer other than 200/201 means for this file. */
static enum att_result judge(const struct sync_opts *o, const struct bb_outbox_att *f,
                             const struct sync_http_answer *a, const char *what,
                             bb_errbuf *eb)
{
    char code[64], msg[MSG_MAX + 1], reason[800];

    sync_hq_message(a, code, sizeof code, msg, sizeof msg);
    if (a->status == 409 && strcmp(code, "not_named") == 0) {
        /* Its record is not merged at HQ (yet): the next pass tries again. */
        bb_info("attachment=%.12s status=409 result=later error=\"%s\"", f->sha256, msg);
        snprintf(reason, sizeof reason, BB_L(o->lang, "HQ has no merged record naming it yet",
                                             "總局尚無載明此檔的已合併紀錄"));
        bb_outbox_att_attempt(o->ob, f->sha256, reason, NULL);
        return ATT_LATER;
    }
    if (a->status == 400 || a->status == 401 || a->status == 403 || a->status == 409 ||
        a->status == 413 || a->status == 416 || a->status == 422) {
        snprintf(reason, sizeof reason,
                 BB_L(o->lang, "HQ refused %s (HTTP %ld%s%s)", "總局拒收%s（HTTP %ld%s%s）"),
                 what, a->status, msg[0] ? BB_L(o->lang, "; HQ says: ", "；總局說：") : "", msg);
        bb_error("attachment=%.12s status=%ld result=refused reason=\"%s\"", f->sha256,
                 a->status, reason);
        if (bb_outbox_att_refuse(o->ob, f->sha256, reason, eb) != BB_OK)
            return ATT_FATAL;
        return ATT_REFUSED;
    }
    snprintf(reason, sizeof reason, BB_L(o->lang, "%s: HQ answered HTTP %ld%s%s",
                                         "%s：總局回應 HTTP %ld%s%s"),
             what, a->status, msg[0] ? ": " : "", msg);
    bb_log(a->status == 429 || a->status == 503 ? BB_LOG_INFO : BB_LOG_WARN,
           "attachment=%.12s status=%ld result=retry retry_after=%ld error=\"%s\"", f->sha256,
           a->status, a->retry_after, msg);
    bb_outbox_att_attempt(o->ob, f->sha256, reason, NULL);
    bb_fail(eb, BB_ERR_UNAVAILABLE, "%s", reason);
    return ATT_RETRY;
}

/* Store the receipt an answer carries; a bad one is retried, not believed. */
static enum att_result take_receipt(const struct sync_opts *o, const struct bb_outbox_att *f,
                                    const struct sync_http_answer *a, struct sync_counts *c,
                                    bb_errbuf *eb)
{
    char *text = NULL;
    size_t len = 0;
    int already = 0;
    bb_err err;

    if (!receipt_of(a, &text, &len)) {
        bb_fail(eb, BB_ERR_UNAVAILABLE, BB_L(o->lang, "attachment %.12s…: HQ's answer has no "
                                                      "receipt", "附件 %.12s…：總局的回應沒有回執"),
                f->sha256);
        bb_outbox_att_attempt(o->ob, f->sha256, eb->msg, NULL);
        return ATT_RETRY;
    }
    err = bb_outbox_att_ack(o->ob, f->sha256, text, len, 0, &already, eb);
    free(text);
    if (err == BB_OK) {
        c->att_stored++;
        return ATT_STORED;
    }
    if (err == BB_ERR_CRYPTO || err == BB_ERR_INVALID || err == BB_ERR_TOOBIG) {
        bb_error("attachment=%.12s result=retry error=\"receipt not accepted: %s\"", f->sha256,
                 eb->msg);
        bb_outbox_att_attempt(o->ob, f->sha256, eb->msg, NULL);
        return ATT_RETRY;
    }
    return ATT_FATAL;
}

static enum att_result push_file(const struct sync_opts *o, sync_http *http,
                                 const struct bb_outbox_att *f, struct sync_counts *c,
                                 long *retry_after, int *progressed, bb_errbuf *eb)
{
    struct sync_http_answer a;
    unsigned char *held = NULL;
    uint8_t *chunk = NULL;
    char device_header[128], path[160];
    enum att_result r = ATT_RETRY;
    int64_t chunks = f->view.hdr.chunks, i;
    int round;
    bb_err err;

    *retry_after = -1;
    snprintf(device_header, sizeof device_header, "X-Beatbook-Device: %s",
             bb_outbox_device(o->ob));
    if (bb_outbox_att_attempt(o->ob, f->sha256, NULL, eb) != BB_OK)
        return ATT_FATAL;
    if (!(held = malloc((size_t)chunks)) || !(chunk = malloc(BB_ATTACH_CHUNK_MAX))) {
        free(held);
        bb_fail(eb, BB_ERR_NOMEM, "out of memory");
        return ATT_FATAL;
    }
    for (round = 0; round < MAX_ROUNDS; round++) {
        err = sync_http_post(http, "/v1/attachments", CT_HEAD, f->head, f->head_len, NULL, NULL,
                             &a, eb);
        if (err != BB_OK) {
            bb_warn("attachment=%.12s result=retry error=\"%s\"", f->sha256, eb->msg);
            bb_outbox_att_attempt(o->ob, f->sha256, eb->msg, NULL);
            r = err == BB_ERR_NOMEM ? ATT_FATAL : ATT_RETRY;
            goto out;
        }
        *retry_after = a.retry_after;
        if (a.status != 200 && a.status != 201) {
            r = judge(o, f, &a, BB_L(o->lang, "the file's head", "檔案標頭"), eb);
            sync_http_answer_clear(&a);
            goto out;
        }
        if (says_stored(&a) || a.status == 201) {
            /* HQ already holds the file (from this or another record or laptop). */
            r = take_receipt(o, f, &a, c, eb);
            if (r == ATT_STORED)
                bb_info("attachment=%.12s size=%lld status=%ld result=stored already=1",
                        f->sha256, (long long)f->size, a.status);
            sync_http_answer_clear(&a);
            goto out;
        }
        read_have(&a, held, chunks);
        sync_http_answer_clear(&a);
        for (i = 0; i < chunks; i++) {
            size_t n = 0;
            if (held[i])
                continue;
            if (sync_stop_requested()) {
                c->stopped = 1;
                r = ATT_RETRY;
                bb_fail(eb, BB_ERR_UNAVAILABLE, "stopped");
                goto out;
            }
            if ((err = bb_outbox_att_chunk(o->ob, f, i, chunk, &n, eb)) != BB_OK) {
                /* The laptop's own file went bad: say so, and send it no more. */
                bb_outbox_att_refuse(o->ob, f->sha256, eb->msg, NULL);
                r = ATT_REFUSED;
                goto out;
            }
            snprintf(path, sizeof path, "/v1/attachments/%s/%lld", f->sha256, (long long)i);
            err = sync_http_put(http, path, CT_CHUNK, device_header, chunk, n, &a, eb);
            if (err != BB_OK) {
                bb_warn("attachment=%.12s chunk=%lld result=retry error=\"%s\"", f->sha256,
                        (long long)i, eb->msg);
                bb_outbox_att_attempt(o->ob, f->sha256, eb->msg, NULL);
                r = err == BB_ERR_NOMEM ? ATT_FATAL : ATT_RETRY;
                goto out;
            }
            c->att_chunks++;
            c->att_bytes += n;
            *retry_after = a.retry_after;
            if (a.status == 201) {
                r = take_receipt(o, f, &a, c, eb);
                if (r == ATT_STORED)
                    bb_info("attachment=%.12s size=%lld chunks=%lld status=201 result=stored",
                            f->sha256, (long long)f->size, (long long)chunks);
                sync_http_answer_clear(&a);
                goto out;
            }
            if (a.status == 404) {
                /* HQ dropped the upload (another head replaced it): start over. */
                sync_http_answer_clear(&a);
                break;
            }
            if (a.status != 200) {
                r = judge(o, f, &a, BB_L(o->lang, "a chunk of the file", "檔案的一段"), eb);
                sync_http_answer_clear(&a);
                goto out;
            }
            held[i] = 1;
            *progressed = 1;
            sync_http_answer_clear(&a);
        }
    }
    bb_fail(eb, BB_ERR_UNAVAILABLE, BB_L(o->lang, "attachment %.12s…: HQ did not confirm the "
                                                  "file after every chunk was sent",
                                         "附件 %.12s…：所有分段送出後，總局仍未確認收到"),
            f->sha256);
    bb_outbox_att_attempt(o->ob, f->sha256, eb->msg, NULL);
    r = ATT_RETRY;
out:
    free(held);
    free(chunk);
    return r;
}

bb_err sync_push_attachments(const struct sync_opts *o, sync_http *http, struct sync_counts *c,
                             long *retry_after, bb_errbuf *eb)
{
    struct bb_outbox_att f;
    int64_t after = 0;
    bb_err err = BB_OK;

    for (;;) {
        int try;
        if (sync_stop_requested()) {
            c->stopped = 1;
            return BB_OK;
        }
        err = bb_outbox_att_next(o->ob, 1, after, &f, eb);
        if (err == BB_ERR_NOTFOUND)
            return BB_OK;
        if (err != BB_OK) {
            if (f.rowid == 0)
                return err;
            /* This file cannot be read or sealed: keep why, go on with the next. */
            bb_error("attachment=%.12s result=refused reason=\"%s\"", f.sha256, eb->msg);
            if ((err = bb_outbox_att_refuse(o->ob, f.sha256, eb->msg, eb)) != BB_OK)
                return err;
            c->att_refused++;
            after = f.rowid;
            continue;
        }
        after = f.rowid;
        c->att_sent++;
        for (try = 1;; try++) {
            int progressed = 0;
            enum att_result r = push_file(o, http, &f, c, retry_after, &progressed, eb);
            long wait;
            if (r == ATT_STORED || r == ATT_LATER || r == ATT_REFUSED) {
                if (r == ATT_REFUSED)
                    c->att_refused++;
                if (r == ATT_LATER)
                    c->att_later++;
                break;
            }
            if (r == ATT_FATAL) {
                bb_outbox_att_clear(&f);
                return BB_ERR_IO;       /* the store failed; eb says how */
            }
            /* A try that moved chunks is not a failure to count: a long
             * file over a link that keeps breaking still gets through. */
            if (progressed)
                try = 0;
            wait = sync_backoff_ms(try + 1, *retry_after);
            if (c->stopped || try >= o->tries || wait > o->max_wait_s * 1000 ||
                sync_stop_requested()) {
                bb_outbox_att_clear(&f);
                return BB_ERR_UNAVAILABLE;
            }
            bb_info("attachment=%.12s retry_in_ms=%ld attempt=%d", f.sha256, wait, try + 2);
            sync_sleep_ms(wait);
        }
        bb_outbox_att_clear(&f);
    }
}
