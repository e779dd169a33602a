/*
 * hq_web.c — routing, the sign-in gate, CSRF, headers and exports of the
 * review UI (see hq_web.h).  The data comes from hq_api, users and sessions
 * from hq_auth.
 */
#include "hq_web.h"
#include "bb_httpd.h"
#include "hq_api.h"
#include "hq_attfile.h"
#include "hq_attview.h"
#include "hq_auth.h"
#include "hq_export_zip.h"
#include "hq_thumb.h"
#include "bb_attach.h"
#include "bb_db.h"
#include "hq_store.h"
#include "bb_log.h"
#include "bb_time.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#define COOKIE "__Host-bb_session"
#define CT_JSON "application/json"
#define CT_CSV "text/csv; charset=utf-8"
#define CT_ZIP "application/zip"
#define ATTACH_PREFIX "/api/attachments/"
#define PARAM_MAX 200          /* bytes of one query value */
#define PARAMS_MAX 16          /* query parameters in one request */

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
            "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; " \
            "frame-ancestors 'none'"
/* A stored file opened on its own: nothing in it runs, whatever it holds. */
#define CSP_FILE "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; " \
                 "frame-ancestors 'none'"

struct resp {
    unsigned status;
    const char *type;
    char *body;                /* malloc'd, or NULL */
    const char *fixed;         /* a compiled-in file (not freed) */
    size_t len;
    const char *cache;
    char cookie[200];
    char disposition[1300];    /* a file's name twice: ASCII, and percent-encoded (× 3) */
    char location[40];
    char etag[80];
    char type_buf[BB_ATTACH_TYPE_MAX];   /* a stored file's type (type points here) */
    int has_fd;                /* the body is the file behind fd, len bytes (streamed) */
    int fd;
    const char *csp;           /* NULL: CSP */
    const char *allow;
    unsigned retry_after;
    enum bb_lang lang;         /* of the messages (the request's: see request_lang) */
};

/* A message in the answer's language. */
#define WL(rs, en, zh) ((rs)->lang == BB_LANG_EN ? (en) : (zh))

struct rq {
    struct hq_home *h;
    hq_dbpool *pool;
    struct MHD_Connection *c;
    const char *method, *path, *body;
    size_t len;
    int get, post, del;
    char addr[64];
    enum bb_lang lang;
    struct hq_api_query q;
    const char *format;        /* csv, json or NULL */
    const char *session;       /* the cookie's value, or NULL */
};

/*
 * The language of a request's messages, known before its parameters are
 * checked (an error in them is in that language too): the page's ?lang=,
 * else an Accept-Language whose first choice is English, else zh-TW.
 */
static enum bb_lang request_lang(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
    enum bb_lang l;

    if (v && bb_lang_parse(v, &l) == BB_OK)
        return l;
    v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    if (v) {
        v += strspn(v, " \t");
        if (strncasecmp(v, "en", 2) == 0 && (v[2] == '\0' || v[2] == '-' || v[2] == ',' ||
                                              v[2] == ';' || v[2] == ' '))
            return BB_LANG_EN;
    }
    return BB_LANG_ZH;
}

/* ---- answers -------------------------------------------------------------------- */

static void werr(struct resp *rs, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void werr(struct resp *rs, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[700];
    cJSON *o = cJSON_CreateObject();
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(rs->body);
    rs->body = NULL;
    rs->status = status;
    rs->type = CT_JSON;
    if (o && cJSON_AddStringToObject(o, "error", code) && cJSON_AddStringToObject(o, "message", msg))
        rs->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    rs->len = rs->body ? strlen(rs->body) : 0;
}

static void json(struct resp *rs, unsigned status, const cJSON *o)
{
    free(rs->body);
    rs->body = o ? cJSON_PrintUnformatted(o) : NULL;
    if (!rs->body) {
        werr(rs, 500, "internal", "out of memory");
        return;
    }
    rs->status = status;
    rs->type = CT_JSON;
    rs->len = strlen(rs->body);
}

static void from_result(struct resp *rs, const struct hq_api_result *res)
{
    if (res->status == 200)
        json(rs, 200, res->json);
    else
        werr(rs, res->status, res->code, "%s", res->message);
}

static enum MHD_Result respond(struct MHD_Connection *c, struct resp *rs, int head)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    char num[24];

    if (!rs->body && !rs->fixed && !rs->has_fd && rs->status != 303 && rs->status != 304)
        werr(rs, 500, "internal", "out of memory");
    if (rs->has_fd) {
        /* MHD reads the file as it sends (and closes fd when done): a photo or an
         * export is never held in memory.  For HEAD, MHD sends only the headers. */
        r = MHD_create_response_from_fd((uint64_t)rs->len, rs->fd);
        if (!r)
            close(rs->fd);
        rs->has_fd = 0;
    } else if (rs->fixed)
        r = MHD_create_response_from_buffer(head ? 0 : rs->len, (void *)rs->fixed,
                                            MHD_RESPMEM_PERSISTENT);
    else if (rs->body && !head)
        r = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(rs->body);
        rs->body = NULL;
        return MHD_NO;
    }
    if (!rs->fixed && rs->body && !head)
        rs->body = NULL;               /* MHD owns it now */
    if (rs->type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->type);
    MHD_add_response_header(r, "Content-Security-Policy", rs->csp ? rs->csp : CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, rs->cache ? rs->cache : "no-store");
    if (rs->cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, rs->cookie);
    if (rs->disposition[0])
        MHD_add_response_header(r, "Content-Disposition", rs->disposition);
    if (rs->location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rs->location);
    if (rs->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, rs->etag);
    if (rs->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->retry_after) {
        snprintf(num, sizeof num, "%u", rs->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    ret = MHD_queue_response(c, rs->status, r);
    MHD_destroy_response(r);
    free(rs->body);
    rs->body = NULL;
    return ret;
}

/* ---- request helpers ------------------------------------------------------------ */

int hq_web_route(const char *path)
{
    return strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0 ||
           strcmp(path, "/v1/session") == 0 || strcmp(path, "/v1/catalog") == 0 ||
           strcmp(path, "/v1/kpi") == 0 ||
           strncmp(path, "/v1/kpi/", 8) == 0 || strcmp(path, "/v1/records") == 0 ||
           strncmp(path, "/v1/records/", 12) == 0 || strcmp(path, "/v1/devices") == 0 ||
           strcmp(path, "/v1/quarantine") == 0 || strncmp(path, "/v1/quarantine/", 15) == 0 ||
           strncmp(path, ATTACH_PREFIX, strlen(ATTACH_PREFIX)) == 0;
}

static const char *header(const struct rq *q, const char *name)
{
    return MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char out[64])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(out, 64, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, 64);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, 64);
}

/* Query parameters: known names only, each once, values short. */
struct params {
    const char *const *allowed;
    struct hq_api_query *q;
    const char **format, **lang;
    enum bb_lang ml;           /* of the messages */
    int count, bad;
    char what[80];
};

static const char **slot(struct params *p, const char *k)
{
    struct hq_api_query *q = p->q;
    static const char *ignore;
    size_t i;

    for (i = 0; p->allowed[i]; i++)
        if (strcmp(p->allowed[i], k) == 0)
            break;
    if (!p->allowed[i])
        return NULL;
#define S(name) if (strcmp(k, #name) == 0) return &q->name
    S(period); S(org); S(plan); S(kind); S(device); S(officer); S(status); S(state);
    S(kpi); S(figure); S(group); S(after); S(limit); S(year); S(header);
#undef S
    if (strcmp(k, "format") == 0)
        return p->format;
    if (strcmp(k, "lang") == 0)
        return p->lang;
    ignore = NULL;
    return &ignore;
}

static enum MHD_Result each_param(void *cls, enum MHD_ValueKind kind, const char *k,
                                  size_t klen, const char *v, size_t vlen)
{
    struct params *p = cls;
    const char **s;

    (void)kind;
    if (p->bad)
        return MHD_NO;
    /* %00 would otherwise cut a value silently (org=P06%00P08 read as P06): refuse. */
    if ((k && bb_httpd_has_control(k, klen)) || (v && bb_httpd_has_control(v, vlen))) {
        snprintf(p->what, sizeof p->what, "%s",
                 p->ml == BB_LANG_EN ? "a query parameter holds a NUL or control character"
                                     : "查詢參數含有 NUL 或控制字元");
        p->bad = 1;
        return MHD_NO;
    }
    if (++p->count > PARAMS_MAX) {
        snprintf(p->what, sizeof p->what, "%s",
                 p->ml == BB_LANG_EN ? "too many query parameters" : "查詢參數過多");
        p->bad = 1;
    } else if (!(s = slot(p, k))) {
        snprintf(p->what, sizeof p->what, p->ml == BB_LANG_EN ? "unknown query parameter "
                 "\"%.30s\"" : "不認得的查詢參數「%.30s」",
                 strspn(k, "abcdefghijklmnopqrstuvwxyz_") == strlen(k) ? k : "?");
        p->bad = 1;
    } else if (*s) {
        snprintf(p->what, sizeof p->what, p->ml == BB_LANG_EN ? "query parameter \"%.30s\" "
                 "given twice" : "查詢參數「%.30s」重複", k);
        p->bad = 1;
    } else if (!v || !*v || strlen(v) > PARAM_MAX) {
        snprintf(p->what, sizeof p->what, p->ml == BB_LANG_EN ? "query parameter \"%.30s\" "
                 "is empty or over %d bytes" : "查詢參數「%.30s」是空的或超過 %d 位元組",
                 k, PARAM_MAX);
        p->bad = 1;
    } else {
        *s = v;
    }
    return p->bad ? MHD_NO : MHD_YES;
}

static int read_params(struct rq *q, const char *const *allowed, struct resp *rs)
{
    static const char *const none[] = {NULL};
    const char *lang = NULL;
    struct params p;

    memset(&p, 0, sizeof p);
    p.allowed = allowed ? allowed : none;
    p.q = &q->q;
    p.format = &q->format;
    p.lang = &lang;
    p.ml = q->lang;
    MHD_get_connection_values_n(q->c, MHD_GET_ARGUMENT_KIND, each_param, &p);
    if (p.bad) {
        werr(rs, 400, "bad_request", "%s", p.what);
        return -1;
    }
    if (lang && bb_lang_parse(lang, &q->lang) != BB_OK) {
        werr(rs, 400, "bad_request", "%s", WL(rs, "lang: zh-TW or en", "lang：zh-TW 或 en"));
        return -1;
    }
    if (q->format && strcmp(q->format, "csv") != 0 && strcmp(q->format, "json") != 0 &&
        strcmp(q->format, "zip") != 0) {
        werr(rs, 400, "bad_request", "%s", WL(rs, "format: csv or json (records: also zip)",
                                              "format：csv 或 json（紀錄另可用 zip）"));
        return -1;
    }
    if (q->q.header && strcmp(q->q.header, "codes") != 0) {
        werr(rs, 400, "bad_request", "%s", WL(rs, "header: codes", "header：只能是 codes"));
        return -1;
    }
    q->q.export_all = q->format != NULL;
    return 0;
}

/* A request that changes something must come from this origin. */
static int same_origin(const struct rq *q)
{
    const char *origin = header(q, "Origin"), *host = header(q, MHD_HTTP_HEADER_HOST);
    const char *site = header(q, "Sec-Fetch-Site");

    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return 0;
    if (!origin)
        return 1;
    return host && strncmp(origin, "https://", 8) == 0 && strcmp(origin + 8, host) == 0;
}

/* ---- static files ----------------------------------------------------------------- */

static void serve_file(const struct rq *q, struct resp *rs)
{
    const char *name = strcmp(q->path, "/ui/") == 0 ? "index.html" : q->path + 4;
    const char *inm = header(q, MHD_HTTP_HEADER_IF_NONE_MATCH);
    size_t i;

    if (!q->get) {
        rs->allow = "GET, HEAD";
        werr(rs, 405, "method_not_allowed", WL(rs, "%s takes GET", "%s 只接受 GET"), q->path);
        return;
    }
    for (i = 0; i < hq_web_file_count; i++)
        if (strcmp(hq_web_files[i].name, name) == 0)
            break;
    if (i == hq_web_file_count) {
        werr(rs, 404, "not_found", "%s", WL(rs, "there is no such page", "沒有這個頁面"));
        return;
    }
    rs->cache = "no-cache";            /* revalidate: a new binary brings new files */
    snprintf(rs->etag, sizeof rs->etag, "%s", hq_web_files[i].etag);
    rs->type = hq_web_files[i].type;
    if (inm && strcmp(inm, hq_web_files[i].etag) == 0) {
        rs->status = 304;
        return;
    }
    rs->status = 200;
    rs->fixed = hq_web_files[i].data;
    rs->len = hq_web_files[i].len;
}

/* ---- session ------------------------------------------------------------------------ */

static cJSON *user_json(const struct rq *q, const struct hq_user *u)
{
    const struct bb_ref_item *unit = u->org[0] ? bb_catalog_ref(q->h->cat, "units", u->org) : NULL;
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "name", u->name) ||
        !cJSON_AddStringToObject(o, "role", hq_role_name(u->role)) ||
        !(u->org[0] ? cJSON_AddStringToObject(o, "org", u->org) : cJSON_AddNullToObject(o, "org")) ||
        !(unit ? cJSON_AddStringToObject(o, "org_name", bb_label(&unit->label, q->lang, u->org))
               : cJSON_AddNullToObject(o, "org_name"))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *session_json(const struct rq *q, const struct hq_principal *p, const char *sid)
{
    char csrf[HQ_CSRF_SIZE];
    cJSON *o = cJSON_CreateObject();

    hq_auth_csrf(sid, csrf);
    if (!o || !cJSON_AddItemToObject(o, "user", user_json(q, &p->user)) ||
        !cJSON_AddStringToObject(o, "csrf", csrf) ||
        !cJSON_AddNumberToObject(o, "expires", (double)p->expires) ||
        !cJSON_AddNumberToObject(o, "idle_seconds", HQ_SESSION_IDLE_S)) {
        cJSON_Delete(o);
        o = NULL;
    }
    mbedtls_platform_zeroize(csrf, sizeof csrf);
    return o;
}

static void sign_in(struct rq *q, sqlite3 *db, struct resp *rs)
{
    const char *ct = header(q, MHD_HTTP_HEADER_CONTENT_TYPE);
    char sid[HQ_SECRET_MAX];
    struct hq_principal p;
    enum hq_signin result;
    int64_t retry = 0, now = bb_time_now();
    cJSON *in = NULL, *out, *pw;
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    memset(&p, 0, sizeof p);
    if (!ct || strncasecmp(ct, CT_JSON, strlen(CT_JSON)) != 0) {
        werr(rs, 415, "unsupported_media_type", "%s",
             WL(rs, "send {\"name\":..,\"password\":..} as Content-Type: " CT_JSON,
                "請以 Content-Type: " CT_JSON " 送出 {\"name\":..,\"password\":..}"));
        return;
    }
    if (!same_origin(q)) {
        werr(rs, 403, "cross_origin", "%s", WL(rs, "a sign-in must come from this server's own page",
                                                "登入必須來自本伺服器自己的頁面"));
        return;
    }
    in = cJSON_ParseWithLength(q->body ? q->body : "", q->len);
    pw = in ? cJSON_GetObjectItemCaseSensitive(in, "password") : NULL;
    if (!cJSON_IsObject(in) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(in, "name")) ||
        !cJSON_IsString(pw)) {
        if (cJSON_IsString(pw))
            mbedtls_platform_zeroize(pw->valuestring, strlen(pw->valuestring));
        cJSON_Delete(in);
        werr(rs, 400, "bad_request", "%s",
             WL(rs, "send {\"name\": \"...\", \"password\": \"...\"}",
                "請送出 {\"name\": \"...\", \"password\": \"...\"}"));
        return;
    }
    err = hq_auth_signin(db, cJSON_GetObjectItemCaseSensitive(in, "name")->valuestring,
                         pw->valuestring, q->addr, now, &result, &p.user, sid, &retry, &eb);
    mbedtls_platform_zeroize(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(in);
    if (err != BB_OK) {
        bb_warn("sign-in: %s", eb.msg);
        werr(rs, err == BB_ERR_BUSY ? 503 : 500, "internal", "%s",
              q->lang == BB_LANG_EN ? "HQ could not check the sign-in; try again"
                                    : "總部無法檢查登入，請再試一次");
        return;
    }
    switch (result) {
    case HQ_SIGNIN_OK:
        break;
    case HQ_SIGNIN_BAD:
        werr(rs, 401, "bad_credentials", "%s", q->lang == BB_LANG_EN
              ? "wrong user name or password" : "帳號或密碼錯誤");
        return;
    case HQ_SIGNIN_LOCKED_USER:
    case HQ_SIGNIN_LOCKED_ADDR:
        rs->retry_after = (unsigned)retry;
        werr(rs, 429, "locked", q->lang == BB_LANG_EN
              ? "too many failed sign-ins %s; try again in %" PRId64 " minutes"
              : "%s登入失敗次數過多，請於 %" PRId64 " 分鐘後再試",
              result == HQ_SIGNIN_LOCKED_USER
                  ? (q->lang == BB_LANG_EN ? "for this user" : "此帳號")
                  : (q->lang == BB_LANG_EN ? "from this address" : "此位址"),
              (retry + 59) / 60);
        return;
    }
    p.expires = now + HQ_SESSION_IDLE_S;
    snprintf(rs->cookie, sizeof rs->cookie, COOKIE "=%s; Path=/; Secure; HttpOnly; "
             "SameSite=Strict; Max-Age=%d", sid, HQ_SESSION_ABSOLUTE_S);
    out = session_json(q, &p, sid);
    mbedtls_platform_zeroize(sid, sizeof sid);
    json(rs, 200, out);
    cJSON_Delete(out);
}

/* The caller, from a bearer token or the session cookie; 0, or an answer in rs. */
static int authenticate(struct rq *q, sqlite3 *db, struct hq_principal *p, struct resp *rs)
{
    const char *auth = header(q, MHD_HTTP_HEADER_AUTHORIZATION);
    int64_t now = bb_time_now();
    bb_err err;

    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0 ||
            (err = hq_token_lookup(db, auth + 7, now, p, NULL)) == BB_ERR_NOTFOUND) {
            werr(rs, 401, "unauthorized", "%s", WL(rs, "the API token is unknown, expired or revoked",
                                                    "API 權杖不存在、已過期或已撤銷"));
            return -1;
        }
    } else if (!q->session) {
        werr(rs, 401, "unauthorized", "%s", q->lang == BB_LANG_EN ? "sign in first"
                                                                    : "請先登入");
        return -1;
    } else if ((err = hq_session_lookup(db, q->session, now, p, NULL)) == BB_ERR_NOTFOUND) {
        /* Forged, expired or signed out: the browser forgets the cookie. */
        snprintf(rs->cookie, sizeof rs->cookie, COOKIE "=; Path=/; Secure; HttpOnly; "
                 "SameSite=Strict; Max-Age=0");
        werr(rs, 401, "unauthorized", "%s", q->lang == BB_LANG_EN
              ? "your session has ended; sign in again" : "登入已逾時，請重新登入");
        return -1;
    }
    if (err != BB_OK) {
        werr(rs, err == BB_ERR_BUSY ? 503 : 500, "internal", "%s",
             WL(rs, "HQ could not check the session", "總部無法檢查登入狀態"));
        return -1;
    }
    return 0;
}

/* ---- API ------------------------------------------------------------------------------ */

/*
 * format=zip of the records list: the CSV export's exact bytes plus every
 * file those records name that HQ holds, and a manifest of the rest
 * (hq_export_zip.h).  Built in a temporary file and streamed from it.
 */
static void export_zip(struct rq *q, const struct hq_api_ctx *ac, struct hq_api_result *res,
                       struct resp *rs)
{
    const cJSON *items = cJSON_GetObjectItem(res->json, "items");
    cJSON *files = NULL;
    size_t csv_len = 0, included = 0, missing = 0;
    int64_t size = 0;
    char *csv;
    bb_errbuf eb;
    bb_err err;
    int fd = -1;

    memset(&eb, 0, sizeof eb);
    if (!(csv = hq_api_csv(res->json, "records", q->lang, q->q.header != NULL, &csv_len))) {
        werr(rs, 500, "internal", "out of memory");
        return;
    }
    if ((err = bb_db_exec(ac->db, "BEGIN", &eb)) == BB_OK)
        err = hq_attview_for_records(ac->db, items, &files, &eb);
    bb_db_rollback(ac->db);
    if (err == BB_OK)
        err = hq_export_zip_build(q->h, "beatbook-records.csv", csv, csv_len, files, &fd,
                                  &size, &included, &missing, &eb);
    free(csv);
    cJSON_Delete(files);
    if (err != BB_OK) {
        bb_warn("export zip: %s", eb.msg);
        werr(rs, err == BB_ERR_BUSY ? 503 : err == BB_ERR_FULL ? 507 : 500, "internal", "%s",
             WL(rs, "HQ could not build the ZIP export; see its log",
                "總部無法產生 ZIP 匯出檔，請查看伺服器紀錄"));
        return;
    }
    bb_info("export zip: records=%d attachments=%zu missing=%zu bytes=%lld",
            cJSON_GetArraySize(items), included, missing, (long long)size);
    rs->status = 200;
    rs->type = CT_ZIP;
    rs->has_fd = 1;
    rs->fd = fd;
    rs->len = (size_t)size;
    snprintf(rs->disposition, sizeof rs->disposition,
             "attachment; filename=\"beatbook-records.zip\"");
    hq_api_audit_export(ac, "records", "zip", (size_t)cJSON_GetArraySize(items));
}

static void export_answer(struct rq *q, const struct hq_api_ctx *ac, const char *what,
                          struct hq_api_result *res, struct resp *rs)
{
    const cJSON *items;
    size_t rows = 0;
    char *csv;

    if (res->status != 200 || !q->format) {
        from_result(rs, res);
        return;
    }
    if (strcmp(q->format, "zip") == 0) {
        if (strcmp(what, "records") == 0)
            export_zip(q, ac, res, rs);
        else
            werr(rs, 400, "bad_request", "%s", WL(rs, "format: csv or json (zip: records only)",
                                                  "format：csv 或 json（zip 只用於紀錄）"));
        return;
    }
    items = strcmp(what, "kpi") == 0 ? cJSON_GetObjectItem(res->json, "kpis")
                                     : cJSON_GetObjectItem(res->json, "items");
    rows = (size_t)cJSON_GetArraySize(items);
    if (strcmp(q->format, "csv") == 0) {
        if (!(csv = hq_api_csv(res->json, what, q->lang, q->q.header != NULL, &rs->len))) {
            werr(rs, 500, "internal", "out of memory");
            return;
        }
        rs->body = csv;
        rs->status = 200;
        rs->type = CT_CSV;
    } else {
        json(rs, 200, res->json);
    }
    snprintf(rs->disposition, sizeof rs->disposition,
             "attachment; filename=\"beatbook-%s.%s\"", what, q->format);
    hq_api_audit_export(ac, what, q->format, rows);
}

static const char *const P_KPI[] = {"period", "org", "plan", "lang", "format", "header", NULL};
static const char *const P_MONTHS[] = {"year", "period", "org", "plan", "lang", NULL};
static const char *const P_DRILL[] = {"kpi", "figure", "period", "org", "plan", "group",
                                      "after", "limit", "lang", "format", "header", NULL};
static const char *const P_RECORDS[] = {"period", "org", "kind", "device", "officer", "status",
                                        "after", "limit", "lang", "format", "header", NULL};
static const char *const P_ORG[] = {"org", "lang", "format", "header", NULL};
static const char *const P_QUAR[] = {"org", "state", "after", "limit", "lang", "format", "header",
                                     NULL};
static const char *const P_LANG[] = {"lang", NULL};

/* /v1/quarantine/{records|batches}/ID/{release|review} */
static void quarantine_action(struct rq *q, const struct hq_api_ctx *ac, struct resp *rs)
{
    char item[16], action[16], rest[4];
    long long id;
    const char *note = NULL;
    struct hq_api_result res;
    cJSON *in = NULL;

    memset(&res, 0, sizeof res);
    if (sscanf(q->path, "/v1/quarantine/%15[a-z]/%lld/%15[a-z]%3s", item, &id, action, rest) != 3 ||
        id < 1) {
        werr(rs, 404, "not_found", "%s", WL(rs, "there is nothing at this address", "此位址沒有內容"));
        return;
    }
    if (q->len) {
        const char *ct = header(q, MHD_HTTP_HEADER_CONTENT_TYPE);
        const cJSON *n;
        if (!ct || strncasecmp(ct, CT_JSON, strlen(CT_JSON)) != 0) {
            werr(rs, 415, "unsupported_media_type", "%s",
                 WL(rs, "send {\"note\": \"...\"} as " CT_JSON, "請以 " CT_JSON " 送出 {\"note\": \"...\"}"));
            return;
        }
        if (!(in = cJSON_ParseWithLength(q->body, q->len)) || !cJSON_IsObject(in)) {
            cJSON_Delete(in);
            werr(rs, 400, "bad_request", "%s", WL(rs, "send {\"note\": \"...\"}", "請送出 {\"note\": \"...\"}"));
            return;
        }
        n = cJSON_GetObjectItemCaseSensitive(in, "note");
        if (n && !cJSON_IsString(n) && !cJSON_IsNull(n)) {
            cJSON_Delete(in);
            werr(rs, 400, "bad_request", "%s", WL(rs, "note: text", "備註必須是文字"));
            return;
        }
        note = cJSON_IsString(n) ? n->valuestring : NULL;
    }
    hq_api_quarantine_act(ac, item, id, action, note, &res);
    from_result(rs, &res);
    hq_api_result_clear(&res);
    cJSON_Delete(in);
}

/*
 * Content-Disposition for a stored file: its display name from a record
 * (else the start of its hash), with the extension of its real type
 * appended when the name does not end with it — a photo named "x.html" is
 * saved as "x.html.jpg".  filename= is an ASCII stand-in (other bytes as
 * '_'); filename*= the UTF-8 name, percent-encoded (RFC 6266, RFC 8187).
 */
static void file_disposition(const struct hq_attview_file *f, struct resp *rs)
{
    const char *ext = bb_media_ext(f->type), *kind;
    char name[BB_ATTACH_NAME_MAX + 16], ascii[sizeof name], enc[sizeof name * 3];
    size_t n, el = strlen(ext), i, a, o = 0;

    snprintf(name, sizeof name, "%s", f->name[0] ? f->name : "");
    if (!name[0])
        snprintf(name, sizeof name, "%.16s", f->sha256);
    n = strlen(name);
    if (!(n >= el && strcasecmp(name + n - el, ext) == 0) &&
        !(strcmp(ext, ".jpg") == 0 && n >= 5 && strcasecmp(name + n - 5, ".jpeg") == 0))
        snprintf(name + n, sizeof name - n, "%s", ext);
    for (i = 0, a = 0; name[i]; i++) {
        unsigned char ch = (unsigned char)name[i];
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        if ((ch & 0xC0) != 0x80)       /* one '_' per character, not per UTF-8 byte */
            ascii[a++] = plain ? (char)ch : '_';
        if (plain) {
            enc[o++] = (char)ch;
        } else {
            snprintf(enc + o, 4, "%%%02X", ch);
            o += 3;
        }
    }
    ascii[a] = '\0';
    enc[o] = '\0';
    /* Photos open in the browser; a PDF (or anything else) is only downloaded. */
    kind = strncmp(f->type, "image/", 6) == 0 ? "inline" : "attachment";
    snprintf(rs->disposition, sizeof rs->disposition, "%s; filename=\"%s\"; filename*=UTF-8''%s",
             kind, ascii, enc);
}

/*
 * GET /api/attachments/SHA and /api/attachments/SHA/thumb: the original
 * as stored (its own type) or its 320 px JPEG thumbnail, streamed from the
 * file.  Who may fetch is hq_api_attachment: 404 for anything outside the
 * caller's scope, as for a file that does not exist.
 */
static void attachment(struct rq *q, const struct hq_api_ctx *ac, struct resp *rs)
{
    const char *rest = q->path + strlen(ATTACH_PREFIX), *inm;
    char sha[BB_SHA256_HEX_SIZE] = "", etag[80];
    struct hq_attview_file f;
    struct hq_api_result res;
    size_t n = strcspn(rest, "/");
    int thumb = 0, fd = -1;
    int64_t size = 0;
    bb_errbuf eb;
    bb_err err;

    memset(&res, 0, sizeof res);
    memset(&eb, 0, sizeof eb);
    if (n < sizeof sha) {
        memcpy(sha, rest, n);
        sha[n] = '\0';
    }
    /* The hash first (400), then what follows it: only "/thumb". */
    if (bb_sha256_hex_valid(sha) && rest[n] == '/') {
        if (strcmp(rest + n, "/thumb") != 0) {
            werr(rs, 404, "not_found", "%s", WL(rs, "there is nothing at this address", "此位址沒有內容"));
            return;
        }
        thumb = 1;
    }
    if (hq_api_attachment(ac, sha, &f, &res) != 200) {
        from_result(rs, &res);
        hq_api_result_clear(&res);
        return;
    }
    /* Validators only on what is served (an error is never cached): the hash names
     * the bytes; "private, no-cache" makes the browser ask again, and access is
     * checked each time. */
    snprintf(etag, sizeof etag, "\"%s%s\"", f.sha256, thumb ? "-t320" : "");
    inm = header(q, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strcmp(inm, etag) == 0) {
        snprintf(rs->etag, sizeof rs->etag, "%s", etag);
        rs->cache = "private, no-cache";
        rs->status = 304;
        return;
    }
    if (thumb)
        err = hq_thumb_open(q->h, f.sha256, f.type, &fd, &size, &eb);
    else
        err = hq_attfile_open(q->h, f.sha256, &fd, &size, &eb);
    if (err == BB_ERR_UNSUPPORTED || err == BB_ERR_TOOBIG) {
        werr(rs, 404, "no_thumbnail", "%s", WL(rs, "this file has no thumbnail; open the original",
                                              "此檔案沒有縮圖，請開啟原始檔"));
        return;
    }
    if (err == BB_ERR_NOTFOUND) {
        werr(rs, 404, "not_found", "%s", WL(rs, "no such attachment", "查無此附件"));
        return;
    }
    if (err != BB_OK) {
        /* A damaged file is never served; the log says which. */
        bb_warn("attachment %.12s: %s", f.sha256, eb.msg);
        werr(rs, 500, "internal", "%s", WL(rs, "HQ could not read this file; see its log",
                                           "總部無法讀取此檔案，請查看伺服器紀錄"));
        return;
    }
    rs->status = 200;
    rs->has_fd = 1;
    rs->fd = fd;
    rs->len = (size_t)size;
    rs->csp = CSP_FILE;
    snprintf(rs->etag, sizeof rs->etag, "%s", etag);
    rs->cache = "private, no-cache";
    if (thumb) {
        rs->type = "image/jpeg";
    } else {
        snprintf(rs->type_buf, sizeof rs->type_buf, "%s", f.type);
        rs->type = rs->type_buf;   /* f is gone once we return */
        file_disposition(&f, rs);
    }
}

static void api(struct rq *q, sqlite3 *db, struct resp *rs)
{
    struct hq_principal p;
    struct hq_api_ctx ac;
    struct hq_api_result res;
    const char *path = q->path;
    int is_session = strcmp(path, "/v1/session") == 0;
    int changes = !q->get;

    memset(&res, 0, sizeof res);
    memset(&p, 0, sizeof p);
    if (is_session && q->post) {
        if (read_params(q, P_LANG, rs) == 0)
            sign_in(q, db, rs);
        return;
    }
    if (authenticate(q, db, &p, rs) != 0)
        return;
    /* Changes need the session's CSRF token (a bearer token is not sent by browsers
     * on their own, so it needs none) and this origin. */
    if (changes && !p.via_token &&
        !hq_auth_csrf_ok(q->session, header(q, "X-CSRF-Token"))) {
        werr(rs, 403, "csrf", "%s", q->lang == BB_LANG_EN
              ? "the request lacks this session's CSRF token; reload the page"
              : "請求缺少此次登入的 CSRF 權杖，請重新載入頁面");
        return;
    }
    if (changes && !same_origin(q)) {
        werr(rs, 403, "cross_origin", "%s", WL(rs, "changes must come from this server's own page",
                                                "變更必須來自本伺服器自己的頁面"));
        return;
    }
    memset(&ac, 0, sizeof ac);
    ac.home = q->h;
    ac.db = db;
    ac.user = &p.user;

#define ROUTE(p_, m_) (strcmp(path, (p_)) == 0 && (m_))
    if (is_session) {
        if (q->del) {
            if (read_params(q, P_LANG, rs) != 0)
                return;
            if (!p.via_token)
                hq_session_end(db, q->session, NULL);
            snprintf(rs->cookie, sizeof rs->cookie, COOKIE "=; Path=/; Secure; HttpOnly; "
                     "SameSite=Strict; Max-Age=0");
            {
                char detail[120];
                snprintf(detail, sizeof detail, "user=%s", p.user.name);
                hq_audit(db, "web", "signout", NULL, detail, NULL);
            }
            rs->status = 200;
            rs->type = CT_JSON;
            rs->body = strdup("{\"signed_out\":true}");
            rs->len = rs->body ? strlen(rs->body) : 0;
        } else if (q->get) {
            cJSON *o;
            if (read_params(q, P_LANG, rs) != 0)
                return;
            o = p.via_token ? cJSON_CreateObject() : session_json(q, &p, q->session);
            if (o && p.via_token && !cJSON_AddItemToObject(o, "user", user_json(q, &p.user))) {
                cJSON_Delete(o);
                o = NULL;
            }
            json(rs, 200, o);
            cJSON_Delete(o);
        } else {
            rs->allow = "GET, POST, DELETE";
            werr(rs, 405, "method_not_allowed", "%s", WL(rs, "/v1/session takes GET, POST or DELETE",
                                                          "/v1/session 只接受 GET、POST 或 DELETE"));
        }
        return;
    }
    if (strncmp(path, "/v1/quarantine/", 15) == 0) {
        if (!q->post) {
            rs->allow = "POST";
            werr(rs, 405, "method_not_allowed", "%s", WL(rs, "quarantine actions take POST",
                                                          "隔離區處理只接受 POST"));
            return;
        }
        if (read_params(q, P_LANG, rs) != 0)
            return;
        ac.lang = q->lang;
        quarantine_action(q, &ac, rs);
        return;
    }
    if (!q->get) {
        rs->allow = "GET, HEAD";
        werr(rs, 405, "method_not_allowed", WL(rs, "%s takes GET", "%s 只接受 GET"), path);
        return;
    }
    if (strncmp(path, ATTACH_PREFIX, strlen(ATTACH_PREFIX)) == 0) {
        if (read_params(q, P_LANG, rs) != 0)
            return;
        ac.lang = q->lang;
        attachment(q, &ac, rs);
        return;
    }
    if (ROUTE("/v1/kpi", 1)) {
        if (read_params(q, P_KPI, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_kpi(&ac, &q->q, &res);
        export_answer(q, &ac, "kpi", &res, rs);
    } else if (ROUTE("/v1/catalog", 1)) {
        if (read_params(q, P_LANG, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_catalog(&ac, &res);
        from_result(rs, &res);
    } else if (ROUTE("/v1/kpi/months", 1)) {
        if (read_params(q, P_MONTHS, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_kpi_months(&ac, &q->q, &res);
        from_result(rs, &res);
    } else if (ROUTE("/v1/kpi/records", 1)) {
        if (read_params(q, P_DRILL, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_drill(&ac, &q->q, &res);
        export_answer(q, &ac, "kpi-records", &res, rs);
    } else if (ROUTE("/v1/records", 1)) {
        if (read_params(q, P_RECORDS, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_records(&ac, &q->q, &res);
        export_answer(q, &ac, "records", &res, rs);
    } else if (strncmp(path, "/v1/records/", 12) == 0) {
        if (read_params(q, P_LANG, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_record(&ac, path + 12, &res);
        from_result(rs, &res);
    } else if (ROUTE("/v1/devices", 1)) {
        if (read_params(q, P_ORG, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_devices_get(&ac, &q->q, &res);
        export_answer(q, &ac, "devices", &res, rs);
    } else if (ROUTE("/v1/quarantine", 1)) {
        if (read_params(q, P_QUAR, rs) != 0)
            return;
        ac.lang = q->lang;
        hq_api_quarantine(&ac, &q->q, &res);
        export_answer(q, &ac, "quarantine", &res, rs);
    } else {
        werr(rs, 404, "not_found", "%s", WL(rs, "there is nothing at this address", "此位址沒有內容"));
    }
#undef ROUTE
    if (res.truncated)
        bb_info("export: stopped at %d rows", HQ_API_EXPORT_MAX);
    hq_api_result_clear(&res);
}

enum MHD_Result hq_web_serve(struct hq_home *h, hq_dbpool *pool, struct MHD_Connection *c,
                             const char *method, const char *path, const char *body,
                             size_t len, unsigned *status)
{
    struct resp rs;
    struct rq q;
    sqlite3 *db = NULL;
    bb_errbuf eb;
    enum MHD_Result ret;

    memset(&rs, 0, sizeof rs);
    memset(&q, 0, sizeof q);
    memset(&eb, 0, sizeof eb);
    q.h = h;
    q.pool = pool;
    q.c = c;
    q.method = method;
    q.path = path;
    q.body = body;
    q.len = len;
    q.get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    q.post = strcmp(method, "POST") == 0;
    q.del = strcmp(method, "DELETE") == 0;
    q.lang = request_lang(c);
    rs.lang = q.lang;
    q.session = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
    client_addr(c, q.addr);

    if (!q.get && !q.post && !q.del) {
        rs.allow = "GET, HEAD, POST, DELETE";
        werr(&rs, 405, "method_not_allowed", WL(&rs, "this server does not take %.10s here",
                                                 "本伺服器在此不接受 %.10s"),
              strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(method) ? method : "?");
    } else if (strcmp(path, "/ui") == 0) {
        rs.status = 303;
        snprintf(rs.location, sizeof rs.location, "/ui/");
    } else if (strncmp(path, "/ui/", 4) == 0) {
        serve_file(&q, &rs);
    } else if (hq_dbpool_take(pool, &db, &eb) != BB_OK) {
        rs.retry_after = 1;
        werr(&rs, 503, "busy", "%s", WL(&rs, "HQ is busy; try again shortly", "總部忙碌中，請稍後再試"));
    } else {
        api(&q, db, &rs);
        hq_dbpool_give(pool, db);
    }
    *status = rs.status;
    ret = respond(c, &rs, strcmp(method, "HEAD") == 0);
    return ret;
}
