/*
 * hq_answer — what HQ answers to a request, independent of how it came in.
 *
 * The ingest and registration functions fill a struct hq_answer: an
 * HTTP-like status, a body (a signed JSON document, or the error form
 * {"error":"<code>","message":"<plain explanation>"} of docs/PROTOCOL.md),
 * an optional Retry-After, and what the request log line needs.  The HTTP
 * server sends it; `beatbook-hq import` prints it.  Answers other than the
 * default (JSON, Cache-Control: no-store) set content_type, cache_control
 * and etag (GET /v1/reference).
 *
 * Ownership: body is malloc'd and owned by the answer; hq_answer_clear
 * frees it.  A body of NULL after an error means memory ran out: senders
 * use HQ_ANSWER_OOM_BODY instead.
 */
#ifndef HQ_ANSWER_H
#define HQ_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#define HQ_ANSWER_OOM_BODY "{\"error\":\"internal\",\"message\":\"out of memory\"}"

enum hq_outcome {
    HQ_OUT_NONE = 0,
    HQ_OUT_MERGED,          /* a new batch was merged (receipt) */
    HQ_OUT_DUPLICATE,       /* the batch was already received (stored receipt) */
    HQ_OUT_QUARANTINED,     /* kept in quarantine, not merged (revoked device) */
    HQ_OUT_REFUSED,         /* refused; nothing stored */
    HQ_OUT_OK               /* any other success (registration, healthz) */
};

struct hq_answer {
    unsigned status;            /* HTTP status */
    char *body;                 /* JSON text, NUL-terminated */
    size_t body_len;
    unsigned retry_after;       /* seconds; 0 = none */
    const char *content_type;   /* static string; NULL = application/json */
    const char *cache_control;  /* static string; NULL = no-store */
    char etag[72];              /* the quoted entity tag ("\"<hex>\""); "" = none */
    enum hq_outcome outcome;
    char error[40];             /* the error code, "" on success */
    /* For the request log line and import's report. */
    char device[80];
    int64_t seq;                /* 0 = not known */
    long records;               /* records in the batch; -1 = not known */
    long merged, duplicates, rejected;
};

void hq_answer_init(struct hq_answer *a);
void hq_answer_clear(struct hq_answer *a);

/* Set an error answer: status, code and a printf message. */
void hq_answer_error(struct hq_answer *a, unsigned status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set a success answer whose body is `body` (taken over; NULL = out of memory). */
void hq_answer_body(struct hq_answer *a, unsigned status, enum hq_outcome outcome,
                    char *body);

/* Set an answer without a body (304 Not Modified). */
void hq_answer_empty(struct hq_answer *a, unsigned status, enum hq_outcome outcome);

/* The message of an error answer (for import's report), or "". Points into a buffer
 * of the caller. */
const char *hq_answer_message(const struct hq_answer *a, char *buf, size_t size);

#endif
