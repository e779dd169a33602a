/*
 * hq_answer.c — building answers (see hq_answer.h).
 */
#include "hq_answer.h"
#include "bb_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hq_answer_init(struct hq_answer *a)
{
    memset(a, 0, sizeof *a);
    a->records = -1;
}

void hq_answer_clear(struct hq_answer *a)
{
    free(a->body);
    a->body = NULL;
    a->body_len = 0;
}

void hq_answer_error(struct hq_answer *a, unsigned status, const char *code,
                     const char *fmt, ...)
{
    char msg[1200];
    cJSON *o;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hq_answer_clear(a);
    a->status = status;
    a->content_type = NULL;     /* errors are JSON, never cached */
    a->cache_control = NULL;
    a->etag[0] = '\0';
    a->outcome = a->outcome == HQ_OUT_QUARANTINED ? HQ_OUT_QUARANTINED : HQ_OUT_REFUSED;
    snprintf(a->error, sizeof a->error, "%s", code);
    o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "error", code) &&
        cJSON_AddStringToObject(o, "message", msg))
        a->body = bb_json_canonical(o);
    cJSON_Delete(o);
    a->body_len = a->body ? strlen(a->body) : 0;
}

void hq_answer_body(struct hq_answer *a, unsigned status, enum hq_outcome outcome,
                    char *body)
{
    hq_answer_clear(a);
    if (!body) {
        hq_answer_error(a, 500, "internal", "out of memory");
        return;
    }
    a->status = status;
    a->outcome = outcome;
    a->error[0] = '\0';
    a->body = body;
    a->body_len = strlen(body);
}

void hq_answer_empty(struct hq_answer *a, unsigned status, enum hq_outcome outcome)
{
    hq_answer_body(a, status, outcome, calloc(1, 1));
}

const char *hq_answer_message(const struct hq_answer *a, char *buf, size_t size)
{
    cJSON *o = NULL;
    const char *m;

    buf[0] = '\0';
    if (!a->body || bb_json_parse(a->body, a->body_len, "answer", &o, NULL) != BB_OK)
        return buf;
    m = bb_json_str(o, "message");
    snprintf(buf, size, "%s", m ? m : "");
    cJSON_Delete(o);
    return buf;
}
