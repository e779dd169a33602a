/*
 * hq_http.c — libmicrohttpd glue: routing, body collection with caps,
 * answers and the request log (see hq_http.h).
 *
 * MHD calls the access handler several times per request: once with the
 * headers (we route, and may answer at once: 404, 405, 413, 415, 503, and
 * GET /v1/reference, which has no body), once
 * per piece of body (we collect it, counting against the cap), and once at
 * the end (we process and answer).  MHD does not allow an answer while a
 * piece of body is being handed over, so a chunked body that outgrows its
 * cap is discarded up to a little slack and answered 413 at its end; past
 * the slack the connection is dropped.
 */
#include "hq_http.h"
#include "bb_httpd.h"
#include "hq_attach.h"
#include "hq_dbpool.h"
#include "hq_ingest.h"
#include "hq_ratelimit.h"
#include "hq_reference.h"
#include "hq_register.h"
#include "hq_status.h"
#include "hq_digest.h"
#include "bb_json.h"
#include "hq_web.h"
#include "bb_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <mbedtls/platform_util.h>

#define CT_JSON "application/json"
#define CT_BATCH "application/vnd.beatbook.batch"
#define CT_ATT_HEAD "application/vnd.beatbook.attachment"
#define CT_OCTETS "application/octet-stream"
#define ATT_PREFIX "/v1/attachments"
#define DISCARD_SLACK ((size_t)1024 * 1024)   /* body bytes read past a cap to answer 413 */
#define CONNECTION_LIMIT 256

struct hq_server {
    struct MHD_Daemon *daemon;
    struct hq_home *home;
    hq_dbpool *pool;
    hq_ratelimit *rl;
    hq_ratelimit *rl_status;    /* status reports: their own buckets, so they never
                                 * take a batch's turn */
    hq_ratelimit *rl_attach;    /* attachment heads and chunks: their own, larger buckets
                                 * (a 25 MiB photo is 26 requests) */
    atomic_uint attach_uploads; /* attachment requests being processed (their own cap) */
    atomic_uint in_flight;
    atomic_uint ingests;
    atomic_int quiesced;
    MHD_socket quiesced_fd;   /* the listening socket MHD handed back; closed after stop */
    unsigned port;
    struct hq_reference ref;    /* the bundle published at start, served as is */
};

enum route { R_NONE = 0, R_HEALTHZ, R_REGISTER, R_BATCHES, R_WEB, R_REFERENCE, R_STATUS,
              R_DIGESTS, R_ATT_HEAD, R_ATT_CHUNK };

struct req {
    hq_server *srv;
    enum route route;
    struct timespec t0;
    char method[12];
    char path[100];
    uint8_t *body;
    size_t len, cap, max;
    size_t discarded;
    int too_big;
    int ingest_slot;
    int attach_slot;
    char att_sha[BB_SHA256_HEX_SIZE];   /* R_ATT_CHUNK: the file and chunk of the path */
    int64_t att_index;
    char att_device[80];                 /* ... and X-Beatbook-Device */
    int answered;
    struct hq_answer ans;
};

/* ---- small helpers ------------------------------------------------------- */

/* ---- answering ----------------------------------------------------------- */

static enum MHD_Result send_answer(struct req *r, struct MHD_Connection *c)
{
    struct MHD_Response *resp;
    const char *body = r->ans.body ? r->ans.body : HQ_ANSWER_OOM_BODY;
    size_t len = r->ans.body ? r->ans.body_len : strlen(HQ_ANSWER_OOM_BODY);
    unsigned status = r->ans.status ? r->ans.status : 500;
    enum MHD_Result ok;
    char num[24];

    r->answered = 1;
    r->ans.status = status;
    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->ans.content_type ? r->ans.content_type : CT_JSON);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->ans.cache_control ? r->ans.cache_control : "no-store");
    if (r->ans.etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->ans.etag);
    if (r->ans.retry_after) {
        snprintf(num, sizeof num, "%u", r->ans.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                r->route == R_HEALTHZ || r->route == R_REFERENCE ? "GET, HEAD"
                                : r->route == R_ATT_CHUNK ? "PUT" : "POST");
    if (atomic_load(&r->srv->quiesced))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* ---- routing (headers received) ----------------------------------------- */

/*
 * POST /v1/attachments (a head) and PUT /v1/attachments/<sha256>/<i> (a
 * chunk, with X-Beatbook-Device).  They do not take the batch ingest slots
 * (a photo must never hold a record back) but have their own cap, twice
 * max_ingests, so uploads cannot take every worker either.
 */
static void route_attachment(struct req *r, struct MHD_Connection *c, const char *url,
                             const char *method, const char *ctype, long long cl)
{
    hq_server *s = r->srv;
    const char *rest = url + sizeof ATT_PREFIX - 1;

    if (*rest == '\0') {
        r->route = R_ATT_HEAD;
        r->max = BB_ATTACH_HEAD_MAX;
        if (strcmp(method, "POST") != 0) {
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes POST", url);
            return;
        }
        if (!bb_httpd_media_type_is(ctype, CT_ATT_HEAD)) {
            hq_answer_error(&r->ans, 415, "unsupported_media_type", "send an attachment's head "
                            "as Content-Type: " CT_ATT_HEAD);
            return;
        }
    } else {
        const char *dev = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Beatbook-Device");
        char *end = NULL;
        long long idx;
        r->route = R_ATT_CHUNK;
        r->max = BB_ATTACH_CHUNK_MAX;
        rest++;
        if (strlen(rest) < 66 || rest[64] != '/' || rest[65] < '0' || rest[65] > '9' ||
            strlen(rest + 65) > 9) {
            hq_answer_error(&r->ans, 404, "not_found", "a chunk is PUT to "
                            ATT_PREFIX "/<sha256>/<index>");
            return;
        }
        memcpy(r->att_sha, rest, 64);
        r->att_sha[64] = '\0';
        idx = strtoll(rest + 65, &end, 10);
        if (!bb_sha256_hex_valid(r->att_sha) || !end || *end) {
            hq_answer_error(&r->ans, 400, "bad_request", "a chunk is PUT to "
                            ATT_PREFIX "/<sha256: 64 lowercase hex>/<index: 0, 1, ...>");
            return;
        }
        r->att_index = idx;
        if (strcmp(method, "PUT") != 0) {
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes PUT", url);
            return;
        }
        if (!bb_httpd_media_type_is(ctype, CT_OCTETS)) {
            hq_answer_error(&r->ans, 415, "unsupported_media_type", "send a chunk as "
                            "Content-Type: " CT_OCTETS);
            return;
        }
        if (!dev || !*dev || strlen(dev) >= sizeof r->att_device ||
            bb_httpd_has_control(dev, strlen(dev))) {
            hq_answer_error(&r->ans, 400, "bad_request", "a chunk needs the header "
                            "X-Beatbook-Device: <device id>");
            return;
        }
        snprintf(r->att_device, sizeof r->att_device, "%s", dev);
    }
    if (cl > (long long)r->max) {
        hq_answer_error(&r->ans, 413, "too_large", "%s is at most %zu bytes",
                        r->route == R_ATT_HEAD ? "an attachment head" : "a chunk", r->max);
    } else if (atomic_fetch_add(&s->attach_uploads, 1) >= 2 * s->home->conf.max_ingests) {
        atomic_fetch_sub(&s->attach_uploads, 1);
        hq_answer_error(&r->ans, 503, "busy", "HQ is taking as many files as it takes at once; "
                        "try again shortly");
        r->ans.retry_after = 1;
    } else {
        r->attach_slot = 1;
    }
}

static void route(struct req *r, struct MHD_Connection *c, const char *url, const char *method)
{
    hq_server *s = r->srv;
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE);
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    long long cl = bb_httpd_content_length(c);

    if (bb_httpd_has_control(url, strlen(url))) {
        /* An encoded NUL (made visible by bb_httpd_unescape) or control character in
         * the path: /ui/app.js%00.html must not be served as /ui/app.js. */
        hq_answer_error(&r->ans, 400, "bad_request",
                        "the path holds a NUL or control character");
        return;
    }
    if (strcmp(url, "/healthz") == 0) {
        r->route = R_HEALTHZ;
        if (!get)
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes GET", url);
        return;
    }
    if (strcmp(url, "/v1/reference") == 0) {
        /* No body, no authentication (the bundle is signed and holds no secret):
         * answered at once from the bundle published at start. */
        r->route = R_REFERENCE;
        if (!get)
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes GET", url);
        else
            hq_reference_answer(&s->ref, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                                     MHD_HTTP_HEADER_IF_NONE_MATCH),
                                &r->ans);
        return;
    }
    if (strcmp(url, "/v1/devices/register") == 0) {
        r->route = R_REGISTER;
        r->max = HQ_REGISTER_MAX_BYTES;
        if (!post)
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes POST", url);
        else if (!bb_httpd_media_type_is(ctype, CT_JSON))
            hq_answer_error(&r->ans, 415, "unsupported_media_type", "send the registration "
                            "as Content-Type: " CT_JSON);
        else if (cl > (long long)r->max)
            hq_answer_error(&r->ans, 413, "too_large", "a registration is at most %zu bytes",
                            r->max);
        return;
    }
    if (strcmp(url, "/v1/devices/digests") == 0) {
        r->route = R_DIGESTS;
        r->max = HQ_DIGEST_MAX_BYTES;
        if (!post)
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes POST", url);
        else if (!bb_httpd_media_type_is(ctype, CT_JSON))
            hq_answer_error(&r->ans, 415, "unsupported_media_type", "send the digest request "
                            "as Content-Type: " CT_JSON);
        else if (cl > (long long)r->max)
            hq_answer_error(&r->ans, 413, "too_large", "a digest request is at most %zu bytes",
                            r->max);
        return;
    }
    if (strcmp(url, "/v1/devices/status") == 0) {
        /* Never behind the ingest slots: a laptop's report arrives even while HQ
         * answers its batches 503 (hq_status.h). */
        r->route = R_STATUS;
        r->max = HQ_STATUS_MAX_BYTES;
        if (!post)
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes POST", url);
        else if (!bb_httpd_media_type_is(ctype, CT_JSON))
            hq_answer_error(&r->ans, 415, "unsupported_media_type", "send the status report "
                            "as Content-Type: " CT_JSON);
        else if (cl > (long long)r->max)
            hq_answer_error(&r->ans, 413, "too_large", "a status report is at most %zu bytes",
                            r->max);
        return;
    }
    if (strcmp(url, "/v1/batches") == 0) {
        r->route = R_BATCHES;
        r->max = s->home->conf.max_batch_bytes;
        if (!post) {
            hq_answer_error(&r->ans, 405, "method_not_allowed", "%s takes POST", url);
        } else if (!bb_httpd_media_type_is(ctype, CT_BATCH)) {
            hq_answer_error(&r->ans, 415, "unsupported_media_type", "send a sealed batch as "
                            "Content-Type: " CT_BATCH);
        } else if (cl > (long long)r->max) {
            hq_answer_error(&r->ans, 413, "too_large", "the batch is %lld bytes; HQ takes at "
                            "most %zu", cl, r->max);
        } else if (atomic_fetch_add(&s->ingests, 1) >= s->home->conf.max_ingests) {
            atomic_fetch_sub(&s->ingests, 1);
            hq_answer_error(&r->ans, 503, "busy", "HQ is merging as many batches as it takes "
                            "at once; try again shortly");
            r->ans.retry_after = 1;
        } else {
            r->ingest_slot = 1;
        }
        return;
    }
    if (strncmp(url, ATT_PREFIX, sizeof ATT_PREFIX - 1) == 0 &&
        (url[sizeof ATT_PREFIX - 1] == '\0' || url[sizeof ATT_PREFIX - 1] == '/')) {
        route_attachment(r, c, url, method, ctype, cl);
        return;
    }
    if (hq_web_route(url)) {            /* the review UI and its API: hq_web.h */
        r->route = R_WEB;
        r->max = HQ_WEB_MAX_BODY;
        if (cl > (long long)r->max)
            hq_answer_error(&r->ans, 413, "too_large", "at most %zu bytes", r->max);
        return;
    }
    hq_answer_error(&r->ans, 404, "not_found", "there is nothing at %.80s on this server "
                    "(see docs/PROTOCOL.md)", url);
}

/* ---- processing (body received) ------------------------------------------ */

static unsigned admit(void *ctx, const char *device)
{
    hq_server *s = ctx;
    return hq_ratelimit_take(s->rl, device);
}

static unsigned admit_attachment(void *ctx, const char *device)
{
    hq_server *s = ctx;
    return hq_ratelimit_take(s->rl_attach, device);
}

static void process(struct req *r)
{
    hq_server *s = r->srv;
    struct hq_ingest_opts opts;
    sqlite3 *db = NULL;
    bb_errbuf eb;
    bb_err err;

    if (r->route == R_HEALTHZ) {
        char *b = strdup("{\"status\":\"ok\"}");
        hq_answer_body(&r->ans, 200, HQ_OUT_OK, b);
        return;
    }
    memset(&eb, 0, sizeof eb);
    if ((err = hq_dbpool_take(s->pool, &db, &eb)) != BB_OK) {
        hq_ingest_store_error(&r->ans, err == BB_ERR_NOMEM ? err : BB_ERR_BUSY, "open hq.db",
                              &eb);
        return;
    }
    if (r->route == R_REGISTER) {
        hq_register(s->home, db, (const char *)r->body, r->len, &r->ans);
    } else if (r->route == R_DIGESTS) {
        hq_digest_request(s->home, db, (const char *)r->body, r->len, &r->ans);
    } else if (r->route == R_STATUS) {
        cJSON *peek = NULL;
        const char *dev = NULL;
        unsigned wait = 0;
        if (r->len && bb_json_parse((const char *)r->body, r->len, "status report", &peek,
                                    NULL) == BB_OK && (dev = bb_json_str(peek, "device")))
            wait = hq_ratelimit_take(s->rl_status, dev);
        cJSON_Delete(peek);
        if (wait) {
            hq_answer_error(&r->ans, 429, "rate_limited", "too many status reports from this "
                            "device; try again later");
            r->ans.retry_after = wait;
        } else {
            hq_status_receive(s->home, db, (const char *)r->body, r->len, "https", NULL,
                              &r->ans);
        }
    } else if (r->route == R_ATT_HEAD || r->route == R_ATT_CHUNK) {
        struct hq_attach_opts ao = { .source = "https", .admit = admit_attachment,
                                     .admit_ctx = s };
        if (r->route == R_ATT_HEAD)
            hq_attach_head(s->home, db, r->body, r->len, &ao, &r->ans);
        else
            hq_attach_chunk(s->home, db, r->att_device, r->att_sha, r->att_index, r->body,
                            r->len, &ao, &r->ans);
    } else {
        memset(&opts, 0, sizeof opts);
        opts.source = "https";
        opts.max_bytes = r->max;
        opts.admit = admit;
        opts.admit_ctx = s;
        hq_ingest(s->home, db, r->body, r->len, &opts, &r->ans);
    }
    hq_dbpool_give(s->pool, db);
}

/* Append a piece of body; 0 when it fits under the cap. */
static int collect(struct req *r, const char *data, size_t n)
{
    if (r->too_big || n > r->max - r->len) {
        r->too_big = 1;
        r->discarded += n;
        return -1;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 65536;
        uint8_t *nb;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > r->max)
            cap = r->max;
        nb = realloc(r->body, cap);
        if (!nb)
            return -2;
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return 0;
}

/* The ingest slot is given back as soon as the work is done, before the answer is
 * sent: a client that posts its next batch the moment it reads this answer must
 * find the slot free. */
static void release_slot(struct req *r)
{
    if (r->ingest_slot) {
        r->ingest_slot = 0;
        atomic_fetch_sub(&r->srv->ingests, 1);
    }
    if (r->attach_slot) {
        r->attach_slot = 0;
        atomic_fetch_sub(&r->srv->attach_uploads, 1);
    }
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **con_cls)
{
    hq_server *s = cls;
    struct req *r = *con_cls;

    (void)version;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        r->srv = s;
        atomic_fetch_add(&s->in_flight, 1);
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        bb_httpd_log_safe(r->method, sizeof r->method, method);
        bb_httpd_log_safe(r->path, sizeof r->path, url);
        hq_answer_init(&r->ans);
        route(r, c, url, method);
        if (r->ans.status)
            return send_answer(r, c);
        return MHD_YES;
    }
    if (r->answered) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        int rc = collect(r, upload_data, *upload_size);
        *upload_size = 0;
        if (rc == -2)
            return MHD_NO;
        if (rc == -1 && r->discarded > DISCARD_SLACK) {
            r->ans.status = 413;
            snprintf(r->ans.error, sizeof r->ans.error, "too_large");
            return MHD_NO;     /* far past the cap: stop reading, drop the connection */
        }
        return MHD_YES;
    }
    if (r->too_big) {
        hq_answer_error(&r->ans, 413, "too_large", "the body is over the limit of %zu bytes",
                        r->max);
    } else if (r->route == R_WEB) {
        r->answered = 1;
        return hq_web_serve(s->home, s->pool, c, method, url, (const char *)r->body, r->len,
                            &r->ans.status);
    } else
        process(r);
    release_slot(r);
    return send_answer(r, c);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    hq_server *s = cls;
    struct req *r = *con_cls;
    struct timespec t1;
    long ms;
    char extra[160] = "";

    (void)c;
    if (!r)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (long)((t1.tv_sec - r->t0.tv_sec) * 1000 + (t1.tv_nsec - r->t0.tv_nsec) / 1000000);
    if (r->ans.device[0]) {
        char dev[64];
        bb_httpd_log_safe(dev, sizeof dev, r->ans.device);
        snprintf(extra, sizeof extra, " device=%s", dev);
    }
    if (r->ans.seq > 0)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " seq=%lld",
                 (long long)r->ans.seq);
    if (r->ans.records >= 0)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " records=%ld",
                 r->ans.records);
    if (r->ans.error[0])
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " error=%s",
                 r->ans.error);
    bb_info("method=%s path=%s status=%u%s ms=%ld%s", r->method, r->path,
            r->ans.status ? r->ans.status : 0, extra, ms,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=yes");
    release_slot(r);
    if (r->body) {
        /* A registration body holds a one-time token. */
        if (r->route == R_REGISTER || r->route == R_WEB)   /* a token; a password */
            mbedtls_platform_zeroize(r->body, r->cap);
        free(r->body);
    }
    hq_answer_clear(&r->ans);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- lifecycle ----------------------------------------------------------- */

/*
 * Publish the reference bundle of the current data (signed once per content,
 * hq_reference.h) and bring HQ's own catalog up to it before any thread
 * reads it: HQ validates records against exactly what it serves.
 */
static bb_err publish_reference(hq_server *s, bb_errbuf *eb)
{
    sqlite3 *db = NULL;
    int issued = 0;
    bb_err err;

    if ((err = hq_dbpool_take(s->pool, &db, eb)) != BB_OK)
        return err;
    err = hq_reference_publish(&s->home->keys, db, &s->ref, &issued, eb);
    hq_dbpool_give(s->pool, db);
    if (err == BB_OK)
        err = hq_reference_apply(&s->home->keys, &s->ref, s->home->cat, eb);
    if (err != BB_OK) {
        bb_errbuf_prefix(eb, "publish the reference data");
        return err;
    }
    bb_info("reference version=%.12s issued_at=%s bytes=%zu new=%s", s->ref.version,
            s->ref.issued_at, s->ref.len, issued ? "yes" : "no");
    return BB_OK;
}

bb_err hq_server_start(struct hq_home *h, const char *listen, hq_server **out,
                       bb_errbuf *eb)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    const union MHD_DaemonInfo *info;
    unsigned flags;
    hq_server *s;
    bb_err err;

    *out = NULL;
    if ((err = hq_listen_parse(listen ? listen : h->conf.listen, &ss, &sl, eb)) != BB_OK)
        return err;
    if (!(s = calloc(1, sizeof *s)))
        return bb_fail(eb, BB_ERR_NOMEM, "server: out of memory");
    s->home = h;
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->ingests, 0);
    atomic_init(&s->quiesced, 0);
    s->quiesced_fd = MHD_INVALID_SOCKET;
    if ((err = hq_dbpool_new(h->db_path, h->conf.threads + 1, &s->pool, eb)) != BB_OK ||
        (err = hq_ratelimit_new(h->conf.rate_burst, h->conf.rate_per_sec, &s->rl)) != BB_OK ||
        (err = hq_ratelimit_new(4 * h->conf.rate_burst, 10 * h->conf.rate_per_sec,
                                &s->rl_attach)) != BB_OK ||
        (err = hq_ratelimit_new(h->conf.rate_burst, h->conf.rate_per_sec, &s->rl_status))
            != BB_OK) {
        if (eb && !eb->msg[0])
            bb_fail(eb, err, "server: out of memory");
        hq_server_stop(s);
        return err;
    }
    if ((err = publish_reference(s, eb)) != BB_OK) {
        hq_server_stop(s);
        return err;
    }
    /*
     * poll(), not epoll: libmicrohttpd 0.9.75's MHD_quiesce_daemon races with
     * its epoll worker threads and can abort ("Failed to remove listen FD
     * from epoll set") when SIGTERM arrives during a request; with poll() a
     * quiesce only flags the workers and wakes them through the ITC.
     */
    flags = MHD_USE_TLS | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, s,
        MHD_OPTION_EXTERNAL_LOGGER, bb_httpd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_HTTPS_MEM_KEY, h->tls.key_pem,
        MHD_OPTION_HTTPS_MEM_CERT, h->tls.cert_pem,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)h->conf.threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)h->conf.timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_UNESCAPE_CALLBACK, bb_httpd_unescape, NULL,
        MHD_OPTION_END);
    if (!s->daemon) {
        hq_server_stop(s);
        return bb_fail(eb, BB_ERR_UNAVAILABLE, "start the HTTPS server on %s: cannot listen "
                       "there (address in use, not this machine's, or a privileged port?) "
                       "or the TLS key and certificate were refused",
                       listen ? listen : h->conf.listen);
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return BB_OK;
}

unsigned hq_server_port(const hq_server *s)
{
    return s->port;
}

void hq_server_quiesce(hq_server *s)
{
    MHD_socket fd;

    if (!s || !s->daemon || atomic_exchange(&s->quiesced, 1))
        return;
    /*
     * MHD gives the listening socket back but its threads may still poll
     * it for a moment, so it is closed only after MHD_stop_daemon (as
     * libmicrohttpd's manual asks: an early close lets the number be reused
     * under a worker).  shutdown() makes the kernel refuse new connections
     * now, while the number stays ours.
     */
    fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        shutdown(fd, SHUT_RDWR);
    s->quiesced_fd = fd;
}

unsigned hq_server_in_flight(const hq_server *s)
{
    return atomic_load(&((hq_server *)s)->in_flight);
}

void hq_server_stop(hq_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        close(s->quiesced_fd);
    hq_dbpool_free(s->pool);
    hq_ratelimit_free(s->rl);
    hq_ratelimit_free(s->rl_status);
    hq_ratelimit_free(s->rl_attach);
    hq_reference_clear(&s->ref);
    free(s);
}
