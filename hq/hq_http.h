/*
 * hq_http — HQ's HTTPS server on libmicrohttpd (GnuTLS): the endpoints of
 * docs/PROTOCOL.md, with the size caps, content types, per-device rate
 * limit and the cap on concurrent ingests; the work itself is hq_ingest's
 * and hq_register's.
 *
 * Threads: MHD's internal polling thread with a pool of conf.threads
 * workers; each request runs in one worker and takes a SQLite connection
 * from a pool for its duration.  Bodies are collected in memory up to the
 * route's cap (a Content-Length over it is answered 413 before a byte of
 * the body is read; a chunked body is counted as it arrives).
 *
 * Every answer is JSON; errors are {"error":..,"message":..}.  GET
 * /v1/reference serves the signed reference bundle published at start
 * (hq_reference.h) with an ETag, and 304 to an If-None-Match naming it.
 * One log line per request: method, path, status, device, seq, records,
 * ms — never a body, key or token.
 */
#ifndef HQ_HTTP_H
#define HQ_HTTP_H

#include "bb_err.h"
#include "hq_home.h"

typedef struct hq_server hq_server;

/*
 * Start serving on `listen` (NULL: the configured address).  h must hold
 * conf, keys, TLS and the catalog, and outlive the server.  Before the
 * threads start, the reference bundle of the current data is published
 * (hq_reference_publish) and h->cat is brought up to it.
 */
bb_err hq_server_start(struct hq_home *h, const char *listen, hq_server **out,
                       bb_errbuf *eb);

/* The port actually bound (useful with port 0). */
unsigned hq_server_port(const hq_server *s);

/* Stop accepting connections; requests in progress go on. */
void hq_server_quiesce(hq_server *s);

/* Requests received and not yet completed. */
unsigned hq_server_in_flight(const hq_server *s);

/* Stop the threads, close everything, free s.  NULL is a no-op. */
void hq_server_stop(hq_server *s);

#endif
