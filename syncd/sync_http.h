/*
 * sync_http — the only libcurl adapter of beatbook-syncd: one HTTPS POST (or
 * GET) to HQ with the TLS settings of the enrollment (DESIGN.md §6,
 * docs/PROTOCOL.md).
 *
 * Every request verifies HQ's certificate and host name (against the
 * enrollment's tls_ca when present, else the system CAs), pins HQ's public
 * key (tls_pin), takes proxies from the environment (https_proxy, no_proxy;
 * nothing here overrides them), never follows redirects, gives up on a
 * connection after 10 s and on a transfer slower than 100 bytes/s for 30 s.
 *
 * Errors: BB_OK means HQ (or something in between) answered with an HTTP
 * status — any status; the caller decides what it means.  BB_ERR_UNAVAILABLE
 * is a transport failure (no route, refused, reset, timeout), BB_ERR_CRYPTO
 * a TLS failure (certificate or pin does not match); eb says what failed in
 * the connection's language (in English with curl's own words).  CURLcode
 * never leaves this file.
 */
#ifndef SYNC_HTTP_H
#define SYNC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "bb_err.h"
#include "bb_outbox.h"

#define SYNC_HTTP_MAX_ANSWER ((size_t)64 * 1024 * 1024)

typedef struct sync_http sync_http;

/* Called while the body goes up (from libcurl's progress callback). */
typedef void (*sync_http_progress)(void *arg, uint64_t sent, uint64_t total);

/* Once per program, before anything else starts threads. */
bb_err sync_http_global_init(bb_errbuf *eb);
void sync_http_global_cleanup(void);

/* A connection to HQ (reused between requests), its messages in lang.  hq must outlive it. */
bb_err sync_http_new(const struct bb_outbox_hq *hq, enum bb_lang lang, sync_http **out,
                     bb_errbuf *eb);
void sync_http_free(sync_http *h);

struct sync_http_answer {
    long status;              /* HTTP status */
    char *body;               /* NUL-terminated, malloc'd (free with sync_http_answer_clear) */
    size_t len;
    long retry_after;         /* seconds from Retry-After, or -1 */
    long ms;                  /* how long the request took */
    char etag[80];            /* the ETag header as sent (quotes included), or "" */
};

void sync_http_answer_clear(struct sync_http_answer *a);

/*
 * POST len bytes of body to HQ's url + path with the given Content-Type.
 * progress may be NULL.  The answer body is capped at SYNC_HTTP_MAX_ANSWER.
 */
bb_err sync_http_post(sync_http *h, const char *path, const char *content_type,
                      const void *body, size_t len, sync_http_progress progress, void *arg,
                      struct sync_http_answer *a, bb_errbuf *eb);

/* PUT, the same, with one more header line ("Name: value") or NULL. */
bb_err sync_http_put(sync_http *h, const char *path, const char *content_type,
                     const char *extra_header, const void *body, size_t len,
                     struct sync_http_answer *a, bb_errbuf *eb);

/*
 * GET HQ's url + path, with If-None-Match: if_none_match when it is not NULL
 * (an entity tag, quotes included).  Same caps and errors as the POST.
 */
bb_err sync_http_get(sync_http *h, const char *path, const char *if_none_match,
                     struct sync_http_answer *a, bb_errbuf *eb);

#endif
