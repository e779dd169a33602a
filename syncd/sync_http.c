/*
 * sync_http.c — HTTPS POST and GET with libcurl (see sync_http.h).
 *
 * The enrollment's CA certificate goes to curl as a blob (CURLOPT_CAINFO_BLOB),
 * so no temporary file is ever written.  CURLOPT_NOSIGNAL: the daemon owns
 * its signals (sync_daemon.c blocks them while a request runs, so a SIGTERM
 * lets the request finish).
 */
#include "sync_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#ifndef BEATBOOK_VERSION
#define BEATBOOK_VERSION "0.1.0"
#endif

#define CONNECT_TIMEOUT_S 10
#define LOW_SPEED_BYTES 100     /* abort below this many bytes/s ... */
#define LOW_SPEED_TIME_S 30     /* ... for this long */

struct sync_http {
    CURL *curl;
    const struct bb_outbox_hq *hq;
    enum bb_lang lang;
    char errbuf[CURL_ERROR_SIZE];
};

struct xfer {
    struct sync_http_answer *a;
    size_t cap;
    int too_big;
    sync_http_progress progress;
    void *arg;
};

bb_err sync_http_global_init(bb_errbuf *eb)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return bb_fail(eb, BB_ERR_INTERNAL, "start libcurl: %s", curl_easy_strerror(rc));
    return BB_OK;
}

void sync_http_global_cleanup(void)
{
    curl_global_cleanup();
}

void sync_http_answer_clear(struct sync_http_answer *a)
{
    if (!a)
        return;
    free(a->body);
    memset(a, 0, sizeof *a);
    a->retry_after = -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    struct sync_http_answer *a = x->a;
    size_t n = size * nmemb;

    if (a->len + n > SYNC_HTTP_MAX_ANSWER) {
        x->too_big = 1;
        return 0;   /* aborts the transfer */
    }
    if (a->len + n + 1 > x->cap) {
        size_t ncap = x->cap ? x->cap : 4096;
        char *nb;
        while (ncap < a->len + n + 1)
            ncap *= 2;
        if (!(nb = realloc(a->body, ncap)))
            return 0;
        a->body = nb;
        x->cap = ncap;
    }
    memcpy(a->body + a->len, ptr, n);
    a->len += n;
    a->body[a->len] = '\0';
    return n;
}

/* ETag: kept as sent (printable ASCII, capped), surrounding blanks dropped. */
static void read_etag(const char *p, const char *end, struct sync_http_answer *a)
{
    size_t i = 0;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (; p < end && i + 1 < sizeof a->etag; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            i = 0;               /* not a plain entity tag: as if absent */
            break;
        }
        a->etag[i++] = *p;
    }
    if (p < end)
        i = 0;                   /* too long */
    a->etag[i] = '\0';
}

/* Retry-After: delay-seconds (an HTTP-date is read as "no hint"); ETag. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    static const char etag[] = "etag:";

    if (n > sizeof etag - 1 && strncasecmp(ptr, etag, sizeof etag - 1) == 0)
        read_etag(ptr + sizeof etag - 1, ptr + n, x->a);

    if (n > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        const char *p = ptr + sizeof name - 1, *end = ptr + n;
        long v = 0;
        int digits = 0;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        while (p < end && isdigit((unsigned char)*p) && digits < 9) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (digits > 0)
            x->a->retry_after = v > 86400 ? 86400 : v;
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct xfer *x = arg;

    (void)dltotal;
    (void)dlnow;
    if (x->progress)
        x->progress(x->arg, (uint64_t)ulnow, (uint64_t)ultotal);
    return 0;
}

bb_err sync_http_new(const struct bb_outbox_hq *hq, enum bb_lang lang, sync_http **out,
                     bb_errbuf *eb)
{
    sync_http *h;
    CURLcode rc = CURLE_OK;

    *out = NULL;
    if (strncmp(hq->url, "https://", 8) != 0)
        return bb_fail(eb, BB_ERR_CONFIG,
                       BB_L(lang, "HQ's address \"%s\" is not https://; the enrollment is wrong "
                                  "(ask HQ for a new one)",
                            "總局的網址「%s」不是 https://；註冊資料有誤（請向總局索取新的註冊檔）"),
                       hq->url);
    if (!(h = calloc(1, sizeof *h)))
        return BB_ERR_NOMEM;
    h->hq = hq;
    h->lang = lang;
    if (!(h->curl = curl_easy_init())) {
        free(h);
        return bb_fail(eb, BB_ERR_NOMEM, BB_L(lang, "start libcurl: out of memory",
                                              "啟動 libcurl：記憶體不足"));
    }
    /* Proxies: CURLOPT_PROXY is left unset, so curl reads https_proxy / no_proxy. */
    if ((rc = curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "https")) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_PINNEDPUBLICKEY, hq->tls_pin)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME_S)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "beatbook-syncd/" BEATBOOK_VERSION)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf)) != CURLE_OK)
        goto fail;
    if (hq->tls_ca) {
        struct curl_blob blob = { .data = (void *)hq->tls_ca, .len = strlen(hq->tls_ca),
                                  .flags = CURL_BLOB_COPY };
        if ((rc = curl_easy_setopt(h->curl, CURLOPT_CAINFO_BLOB, &blob)) != CURLE_OK)
            goto fail;
    }
    *out = h;
    return BB_OK;
fail:
    bb_fail(eb, BB_ERR_UNSUPPORTED, "set up HTTPS to HQ: %s (libcurl %s)", curl_easy_strerror(rc),
            curl_version_info(CURLVERSION_NOW)->version);
    curl_easy_cleanup(h->curl);
    free(h);
    return BB_ERR_UNSUPPORTED;
}

void sync_http_free(sync_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/*
 * A transport failure in zh-TW: curl's own words are English, so the common
 * failures are said plainly and the rest by curl's code (for HQ support).
 */
static const char *transport_zh(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST: return "找不到總局的主機名稱（DNS）；請檢查網路";
    case CURLE_COULDNT_RESOLVE_PROXY: return "找不到代理伺服器（proxy）的主機名稱";
    case CURLE_COULDNT_CONNECT: return "無法連線到總局（沒有網路、被防火牆擋住，或總局伺服器未啟動）";
    case CURLE_OPERATION_TIMEDOUT: return "連線逾時（網路太慢或中斷）";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return "與總局的連線中斷";
    default: return "網路錯誤";
    }
}

/* Run the request set up on h->curl; frees hdrs; maps curl's errors. */
static bb_err perform(sync_http *h, struct xfer *x, struct curl_slist *hdrs,
                      struct sync_http_answer *a, bb_errbuf *eb)
{
    struct timespec t0;
    CURLcode rc;
    bb_err err;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = curl_easy_perform(h->curl);
    a->ms = ms_since(&t0);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
        int zh = h->lang != BB_LANG_EN;
        switch (rc) {
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            err = zh ? bb_fail(eb, BB_ERR_CRYPTO, "TLS：總局的公開金鑰不是註冊時釘選的那一把"
                               "（curl %d）；可能有人攔截連線", (int)rc)
                     : bb_fail(eb, BB_ERR_CRYPTO, "TLS: HQ's public key is not the one pinned at "
                               "enrollment (%s); someone may be intercepting the connection", why);
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
            err = zh ? bb_fail(eb, BB_ERR_CRYPTO, "與總局的 TLS 連線失敗（憑證無法驗證，curl %d）",
                               (int)rc)
                     : bb_fail(eb, BB_ERR_CRYPTO, "TLS with HQ failed: %s", why);
            break;
        case CURLE_WRITE_ERROR:
            err = bb_fail(eb, x->too_big ? BB_ERR_TOOBIG : BB_ERR_NOMEM, "%s",
                          x->too_big ? BB_L(h->lang, "HQ's answer is too large", "總局的回應太大")
                                     : BB_L(h->lang, "HQ's answer did not fit in memory",
                                            "總局的回應放不進記憶體"));
            break;
        default:
            err = zh ? bb_fail(eb, BB_ERR_UNAVAILABLE, "%s：%s（curl %d）", h->hq->url,
                               transport_zh(rc), (int)rc)
                     : bb_fail(eb, BB_ERR_UNAVAILABLE, "%s", why);
            break;
        }
        sync_http_answer_clear(a);
        return err;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &a->status);
    if (!a->body && !(a->body = calloc(1, 1))) {
        sync_http_answer_clear(a);
        return BB_ERR_NOMEM;
    }
    return BB_OK;
}

/* A request with a body: POST, or PUT (method), with one extra header line or NULL. */
static bb_err send_body(sync_http *h, const char *method, const char *path,
                        const char *content_type, const char *extra_header, const void *body,
                        size_t len, sync_http_progress progress, void *arg,
                        struct sync_http_answer *a, bb_errbuf *eb)
{
    struct curl_slist *hdrs = NULL, *tmp;
    struct xfer x;
    char url[1024], ctype[128];
    CURLcode rc;

    memset(a, 0, sizeof *a);
    a->retry_after = -1;
    memset(&x, 0, sizeof x);
    x.a = a;
    x.progress = progress;
    x.arg = arg;
    h->errbuf[0] = '\0';
    if (snprintf(url, sizeof url, "%s%s", h->hq->url, path) >= (int)sizeof url)
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(h->lang, "HQ's address is too long",
                                               "總局的網址太長"));
    snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
    /* "Expect:" off: no 100-continue round trip before each body. */
    if (!(tmp = curl_slist_append(hdrs, ctype)) || !(hdrs = tmp) ||
        !(tmp = curl_slist_append(hdrs, "Accept: application/json")) || !(hdrs = tmp) ||
        !(tmp = curl_slist_append(hdrs, "Expect:")) || !(hdrs = tmp) ||
        (extra_header && (strpbrk(extra_header, "\r\n") ||
                          !(tmp = curl_slist_append(hdrs, extra_header)) || !(hdrs = tmp)))) {
        curl_slist_free_all(hdrs);
        return BB_ERR_NOMEM;
    }
    /* CUSTOMREQUEST stays on the handle: set (PUT) or cleared (POST) every time. */
    if ((rc = curl_easy_setopt(h->curl, CURLOPT_URL, url)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_POST, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST,
                               strcmp(method, "POST") == 0 ? NULL : method)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &x)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &x)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, progress ? 0L : 1L)) != CURLE_OK) {
        curl_slist_free_all(hdrs);
        return bb_fail(eb, BB_ERR_INTERNAL, "set up request: %s", curl_easy_strerror(rc));
    }
    return perform(h, &x, hdrs, a, eb);
}

bb_err sync_http_post(sync_http *h, const char *path, const char *content_type,
                      const void *body, size_t len, sync_http_progress progress, void *arg,
                      struct sync_http_answer *a, bb_errbuf *eb)
{
    return send_body(h, "POST", path, content_type, NULL, body, len, progress, arg, a, eb);
}

bb_err sync_http_put(sync_http *h, const char *path, const char *content_type,
                     const char *extra_header, const void *body, size_t len,
                     struct sync_http_answer *a, bb_errbuf *eb)
{
    return send_body(h, "PUT", path, content_type, extra_header, body, len, NULL, NULL, a, eb);
}

bb_err sync_http_get(sync_http *h, const char *path, const char *if_none_match,
                     struct sync_http_answer *a, bb_errbuf *eb)
{
    struct curl_slist *hdrs = NULL, *tmp;
    struct xfer x;
    char url[1024], inm[128];
    CURLcode rc;

    memset(a, 0, sizeof *a);
    a->retry_after = -1;
    memset(&x, 0, sizeof x);
    x.a = a;
    h->errbuf[0] = '\0';
    if (snprintf(url, sizeof url, "%s%s", h->hq->url, path) >= (int)sizeof url)
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(h->lang, "HQ's address is too long",
                                               "總局的網址太長"));
    if (!(tmp = curl_slist_append(hdrs, "Accept: application/json")) || !(hdrs = tmp)) {
        curl_slist_free_all(hdrs);
        return BB_ERR_NOMEM;
    }
    if (if_none_match) {
        if (snprintf(inm, sizeof inm, "If-None-Match: %s", if_none_match) >= (int)sizeof inm ||
            strpbrk(if_none_match, "\r\n")) {
            curl_slist_free_all(hdrs);
            return bb_fail(eb, BB_ERR_INTERNAL, "If-None-Match: not a plain entity tag");
        }
        if (!(tmp = curl_slist_append(hdrs, inm)) || !(hdrs = tmp)) {
            curl_slist_free_all(hdrs);
            return BB_ERR_NOMEM;
        }
    }
    if ((rc = curl_easy_setopt(h->curl, CURLOPT_URL, url)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, NULL)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &x)) != CURLE_OK ||
        (rc = curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 1L)) != CURLE_OK) {
        curl_slist_free_all(hdrs);
        return bb_fail(eb, BB_ERR_INTERNAL, "set up request: %s", curl_easy_strerror(rc));
    }
    return perform(h, &x, hdrs, a, eb);
}
