/*
 * col_ui.c — `beatbook ui`: the command, the HTTP server on 127.0.0.1, the
 * gate every request passes (secret → session cookie, Host, Origin, CSRF,
 * sizes) and the page's files.  See col_ui.h for the design; the API is in
 * col_ui_api.c, the sync child in col_ui_sync.c.
 *
 * libmicrohttpd runs one internal thread that answers every request, so
 * the sessions and the catalog are only touched there; the main thread
 * waits for SIGINT/SIGTERM (blocked everywhere, taken with sigwait) and
 * then stops the server: the request in flight finishes first.
 */
#include "col_cli.h"
#include "col_record.h"
#include "col_store.h"
#include "col_ui.h"
#include "col_attach.h"
#include "bb_httpd.h"
#include "bb_json.h"
#include "bb_log.h"
#include "bb_record.h"
#include "bb_rand.h"
#include "bb_refbundle.h"
#include "bb_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

extern char **environ;

#define SESSIONS_MAX 16
#define TOKEN_BYTES 32                    /* secret, session ids, CSRF tokens */
#define TOKEN_HEX (TOKEN_BYTES * 2)
#define DISCARD_SLACK ((size_t)1024 * 1024)   /* body read past the cap to answer 413 */
#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
            "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

struct session {
    char id[TOKEN_HEX + 1];
    char csrf[TOKEN_HEX + 1];
    unsigned long long made;              /* order of creation, 0: free slot */
};

struct ui {
    struct col_ctx *ctx;                  /* the command's; ctx->cat swapped after a sync */
    col_store *st;                        /* open between requests, never in a transaction */
    bb_plan *plan;
    col_ui_sync *sync;
    struct MHD_Daemon *daemon;
    unsigned port;
    char secret[TOKEN_HEX + 1];
    char cookie[32];                      /* bb_ui_PORT */
    char host_ip[40], host_name[40];      /* 127.0.0.1:PORT, localhost:PORT */
    struct session sessions[SESSIONS_MAX];
    unsigned long long made;
};

enum route { R_NONE = 0, R_FILE, R_API };

struct req {
    enum route route;
    int answered;
    const struct session *sess;
    char *body;
    size_t len, cap, discarded;
    int too_big;
    struct timespec t0;
    char method[8];
    char path[96];
    unsigned status;
    /* POST /api/attachments: the file as it arrives, and what it is for. */
    col_attach_spool *spool;
    const struct bb_kind *att_kind;
    const struct bb_field *att_field;
    char att_name[BB_ATTACH_NAME_MAX + 1];
};

/* ---- small helpers ---------------------------------------------------------- */

static int ct_equal(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), i;
    unsigned char d = (unsigned char)(n != m);

    for (i = 0; i < n && i < m; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bb_err random_hex(char out[TOKEN_HEX + 1])
{
    unsigned char b[TOKEN_BYTES];
    size_t i;
    bb_err err;

    if ((err = bb_random(b, sizeof b)) != BB_OK)
        return err;
    for (i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    memset(b, 0, sizeof b);
    return BB_OK;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum bb_lang request_lang(const struct ui *ui, struct MHD_Connection *c)
{
    enum bb_lang lang = ui->ctx->lang;
    const char *h = header(c, "X-BB-Lang");

    if (h && bb_lang_parse(h, &lang) != BB_OK)
        lang = ui->ctx->lang;
    return lang;
}

/* ---- answers ---------------------------------------------------------------- */

static enum MHD_Result send_raw(struct req *r, struct MHD_Connection *c, unsigned status,
                                const char *type, const char *data, size_t len, int copy,
                                const char *cache, const char *etag, const char *cookie,
                                const char *location)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;

    r->answered = 1;
    r->status = status;
    resp = MHD_create_response_from_buffer(len, (void *)data,
                                           copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? cache : "no-store");
    if (etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (cookie)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    if (location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result send_json(struct req *r, struct MHD_Connection *c, unsigned status,
                                 const cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    enum MHD_Result ok;

    if (!s)
        return send_raw(r, c, 500, CT_JSON, "{\"error\":\"internal\",\"message\":\"out of memory\"}",
                        48, 0, NULL, NULL, NULL, NULL);
    ok = send_raw(r, c, status, CT_JSON, s, strlen(s), 1, NULL, NULL, NULL, NULL);
    free(s);
    return ok;
}

static enum MHD_Result send_error(struct req *r, struct MHD_Connection *c, unsigned status,
                                  const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result send_error(struct req *r, struct MHD_Connection *c, unsigned status,
                                  const char *code, const char *fmt, ...)
{
    char msg[1024];
    cJSON *o = cJSON_CreateObject();
    enum MHD_Result ok;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->route == R_FILE) {     /* a page, not the API: plain text */
        cJSON_Delete(o);
        return send_raw(r, c, status, CT_TEXT, msg, strlen(msg), 1, NULL, NULL, NULL, NULL);
    }
    if (o) {
        cJSON_AddStringToObject(o, "error", code);
        cJSON_AddStringToObject(o, "message", msg);
    }
    ok = send_json(r, c, status, o);
    cJSON_Delete(o);
    return ok;
}

/* ---- sessions --------------------------------------------------------------- */

static const struct session *session_of(const struct ui *ui, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, ui->cookie);
    size_t i;

    if (!v || strlen(v) != TOKEN_HEX)
        return NULL;
    for (i = 0; i < SESSIONS_MAX; i++)
        if (ui->sessions[i].made && ct_equal(ui->sessions[i].id, v))
            return &ui->sessions[i];
    return NULL;
}

static const struct session *session_new(struct ui *ui)
{
    struct session *s = &ui->sessions[0];
    size_t i;

    for (i = 0; i < SESSIONS_MAX; i++) {     /* a free slot, else the oldest */
        if (!ui->sessions[i].made) {
            s = &ui->sessions[i];
            break;
        }
        if (ui->sessions[i].made < s->made)
            s = &ui->sessions[i];
    }
    if (random_hex(s->id) != BB_OK || random_hex(s->csrf) != BB_OK) {
        memset(s, 0, sizeof *s);
        return NULL;
    }
    s->made = ++ui->made;
    return s;
}

/* ---- catalog and plan after a sync ------------------------------------------ */

/*
 * A sync may have brought new reference data from HQ: build the catalog
 * again as main.c does at start (built-in data, then the stored bundle) and
 * the plan from it.  Runs on the server thread, between requests.
 */
static void reload_reference(struct ui *ui)
{
    struct col_ctx *ctx = ui->ctx;
    bb_catalog *fresh = NULL, *old = ctx->cat;
    bb_refbundle *b = NULL;
    bb_plan *plan = NULL;
    col_store *st = NULL;
    const char *from;
    bb_errbuf eb;

    memset(&eb, 0, sizeof eb);
    if (bb_catalog_load_embedded(&fresh, NULL) != BB_OK)
        return;
    if (!(st = ui->st) && col_store_open(ctx->home, 1, &st, NULL) != BB_OK) {
        bb_catalog_free(fresh);
        return;
    }
    if (bb_refbundle_stored_load(st->db, &b, NULL) == BB_OK &&
        bb_refbundle_apply(b, fresh, &eb) != BB_OK) {
        bb_warn("ui: HQ's reference data is not used: %s", eb.msg);
        bb_catalog_free(fresh);
        fresh = NULL;
        if (bb_catalog_load_embedded(&fresh, NULL) != BB_OK) {
            bb_refbundle_free(b);
            if (st != ui->st)
                col_store_close(st);
            return;
        }
    }
    bb_refbundle_free(b);
    ctx->cat = fresh;
    if (col_load_plan(ctx, st, &plan, &from, NULL) != BB_OK)
        plan = NULL;
    if (st != ui->st)
        col_store_close(st);
    bb_plan_free(ui->plan);
    ui->plan = plan;
    bb_catalog_free(old);
}

/* ---- the gate and routing ---------------------------------------------------- */

static const struct col_web_file *web_file(const char *path)
{
    const char *name = strcmp(path, "/") == 0 ? "index.html" : path + 1;
    size_t i;

    if (path[0] != '/' || strchr(name, '/'))
        return NULL;
    for (i = 0; i < col_web_file_count; i++)
        if (strcmp(col_web_files[i].name, name) == 0)
            return &col_web_files[i];
    return NULL;
}

static int host_ok(const struct ui *ui, struct MHD_Connection *c)
{
    const char *h = header(c, MHD_HTTP_HEADER_HOST);
    return h && (strcmp(h, ui->host_ip) == 0 || strcasecmp(h, ui->host_name) == 0);
}

static int origin_ok(const struct ui *ui, struct MHD_Connection *c)
{
    const char *o = header(c, "Origin"), *h = header(c, MHD_HTTP_HEADER_HOST);
    char want[64];

    if (!o)
        return 1;                       /* not a browser's cross-origin request */
    snprintf(want, sizeof want, "http://%s", h ? h : "");
    return strcasecmp(o, want) == 0 && host_ok(ui, c);
}

static enum MHD_Result no_session(struct ui *ui, struct req *r, struct MHD_Connection *c,
                                  enum bb_lang lang)
{
    (void)ui;
    if (r->route == R_FILE)
        return send_error(r, c, 403, "no_session",
                          "請用 beatbook ui 啟動時印出的網址開啟本頁（網址含有本次啟動的密碼）。\n"
                          "Open this page with the address `beatbook ui` printed when it started "
                          "(it holds this start's secret).\n");
    return send_error(r, c, 403, "no_session", "%s",
                      lang == BB_LANG_EN
                          ? "no session: open the address beatbook ui printed (it holds this "
                            "start's secret)"
                          : "沒有工作階段：請用 beatbook ui 印出的網址開啟（網址含有本次啟動的密碼）");
}

/* The secret from the URL for a session cookie, then to / without it. */
static enum MHD_Result enter(struct ui *ui, struct req *r, struct MHD_Connection *c,
                             const char *secret)
{
    const struct session *s;
    char cookie[160];

    if (!ct_equal(secret, ui->secret))
        return send_error(r, c, 403, "bad_secret",
                          "這個網址的密碼不對或已過期（beatbook ui 每次啟動都會換新密碼）。\n"
                          "This address's secret is wrong or from an earlier start of beatbook ui "
                          "(each start makes a new one).\n");
    if (!(s = session_new(ui)))
        return send_error(r, c, 500, "internal", "沒有亂數可用，無法建立工作階段。\n"
                          "No random numbers for a session.\n");
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict", ui->cookie,
             s->id);
    return send_raw(r, c, 303, CT_TEXT, "", 0, 0, NULL, NULL, cookie, "/");
}

static enum MHD_Result serve_file(struct req *r, struct MHD_Connection *c,
                                  const struct col_web_file *f)
{
    const char *inm = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);

    if (inm && strcmp(inm, f->etag) == 0)
        return send_raw(r, c, 304, NULL, "", 0, 0, "no-cache", f->etag, NULL, NULL);
    return send_raw(r, c, 200, f->type, f->data, f->len, 0, "no-cache", f->etag, NULL, NULL);
}

static enum MHD_Result serve_api(struct ui *ui, struct req *r, struct MHD_Connection *c,
                                 const char *method, const char *url, const cJSON *body)
{
    struct col_ctx rctx = *ui->ctx;
    struct col_ui_answer a;
    struct col_ui_env env;
    enum MHD_Result ok;
    int reload = 0;

    rctx.lang = request_lang(ui, c);
    rctx.now = bb_time_now();
    rctx.interactive = 0;
    memset(&env, 0, sizeof env);
    env.ctx = &rctx;
    env.plan = ui->plan;
    env.sync = ui->sync;
    if (!ui->st && col_store_open(ui->ctx->home, 0, &ui->st, NULL) != BB_OK)
        ui->st = NULL;                     /* each request then opens (and reports) it */
    env.st = ui->st;
    env.csrf = r->sess->csrf;
    env.q_kind = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "kind");
    env.q_status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    env.q_from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    env.q_to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
    env.q_limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    memset(&a, 0, sizeof a);
    col_ui_api(&env, method, url, body, &a, &reload);
    if (a.json)
        ok = send_json(r, c, a.status ? a.status : 200, a.json);
    else
        ok = send_error(r, c, a.status ? a.status : 500, a.code[0] ? a.code : "internal", "%s",
                        a.message[0] ? a.message : "internal error");
    if (a.status >= 500 && a.status != 503 && ui->st) {
        /* Something went wrong below SQL (I/O, a damaged file): start afresh next time. */
        col_store_close(ui->st);
        ui->st = NULL;
    }
    cJSON_Delete(a.json);
    if (reload)
        reload_reference(ui);
    return ok;
}

/*
 * Headers are in: decide everything that headers decide.  Returns 1 when
 * an answer was queued (or the connection must drop: *ret), 0 to go on.
 */
/*
 * A file this store holds, for the page's thumbnails: by its hash only, from
 * the store folder, never a path from the request.
 */
static enum MHD_Result serve_stored(struct ui *ui, struct req *r, struct MHD_Connection *c,
                                    const char *sha, int en)
{
    struct MHD_Response *resp;
    char path[4200], type[BB_ATTACH_TYPE_MAX] = "";
    sqlite3_stmt *q = NULL;
    struct stat sb;
    enum MHD_Result ok;
    int fd;

    if (!bb_sha256_hex_valid(sha))
        return send_error(r, c, 400, "bad_request", "%s", en ? "not a file's SHA-256"
                                                             : "不是檔案的 SHA-256");
    if ((ui->st || col_store_open(ui->ctx->home, 0, &ui->st, NULL) == BB_OK) &&
        sqlite3_prepare_v2(ui->st->db, "SELECT type FROM attachments WHERE sha256 = ?1 AND"
                           " purged_at IS NULL", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_bind_text(q, 1, sha, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        snprintf(type, sizeof type, "%s", (const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    /* A file uploaded but not yet named by a saved record has no row yet: it is
     * served from the store all the same, its type told from its bytes. */
    if (col_attach_path(ui->ctx->home, sha, path, sizeof path, NULL) != BB_OK ||
        (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return send_error(r, c, 404, "not_found", "%s", en ? "this laptop holds no such file"
                                                           : "本機沒有這個檔案");
    if (!type[0]) {
        uint8_t head[64];
        ssize_t n = pread(fd, head, sizeof head, 0);
        const char *t = n > 0 ? bb_media_sniff(head, (size_t)n) : NULL;
        snprintf(type, sizeof type, "%s", t ? t : "application/octet-stream");
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        !(resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd))) {
        close(fd);
        return send_error(r, c, 500, "internal", "%s", en ? "cannot read the file"
                                                         : "無法讀取檔案");
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=3600");
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'");
    r->status = 200;
    r->answered = 1;
    ok = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

/*
 * POST /api/attachments (after the origin and CSRF checks): the raw file,
 * Content-Type application/octet-stream, with X-Kind, X-Field and
 * X-File-Name (percent-encoded UTF-8).  Capped by the field's max_bytes
 * before a byte is read; spooled to an unnamed file, then taken into the
 * store exactly as `add FIELD=@FILE` takes a file.
 */
static int upload_gate(struct ui *ui, struct req *r, struct MHD_Connection *c, int en,
                       enum MHD_Result *ret)
{
    const char *kind = header(c, "X-Kind"), *field = header(c, "X-Field");
    const char *name = header(c, "X-File-Name");
    long long cl = bb_httpd_content_length(c);

    if (!bb_httpd_media_type_is(header(c, MHD_HTTP_HEADER_CONTENT_TYPE), "application/octet-stream")) {
        *ret = send_error(r, c, 415, "unsupported_media_type", "%s",
                          en ? "send the file as Content-Type: application/octet-stream"
                             : "請以 Content-Type: application/octet-stream 送出檔案");
        return 1;
    }
    r->att_kind = kind ? bb_catalog_kind(ui->ctx->cat, kind) : NULL;
    r->att_field = r->att_kind && field ? bb_kind_field(r->att_kind, field) : NULL;
    if (!r->att_field || r->att_field->type != BB_F_ATTACHMENT) {
        *ret = send_error(r, c, 400, "bad_request", "%s",
                          en ? "say which kind and file question it is for (X-Kind, X-Field)"
                             : "請說明檔案屬於哪種紀錄與哪個欄位（X-Kind、X-Field）");
        return 1;
    }
    snprintf(r->att_name, sizeof r->att_name, "%s", name ? name : "");
    MHD_http_unescape(r->att_name);
    if (r->att_name[0] && !bb_record_attachment_name_ok(r->att_name)) {
        *ret = send_error(r, c, 400, "bad_request", "%s",
                          en ? "the file name may not hold '/' or control characters"
                             : "檔名不可含有 / 或控制字元");
        return 1;
    }
    if (cl > (long long)r->att_field->max_bytes) {
        char words[40];
        col_attach_size_words((long long)r->att_field->max_bytes, words, sizeof words);
        *ret = send_error(r, c, 413, "too_large", en ? "%s takes files of at most %s"
                                                     : "%s 每個檔案最多 %s",
                          bb_label(&r->att_field->label, en ? BB_LANG_EN : BB_LANG_ZH,
                                   r->att_field->name), words);
        return 1;
    }
    if (col_attach_spool_new(ui->ctx, (long long)r->att_field->max_bytes, &r->spool, NULL)
        != BB_OK) {
        *ret = send_error(r, c, 500, "internal", "%s", en ? "cannot take the file now"
                                                         : "目前無法接收檔案");
        return 1;
    }
    return 0;
}

/* The upload has all arrived: take it into the store, answer what the form carries. */
static enum MHD_Result finish_upload(struct ui *ui, struct req *r, struct MHD_Connection *c)
{
    struct col_ctx rctx = *ui->ctx;
    struct col_attach_file out;
    bb_errbuf eb;
    cJSON *o;
    enum MHD_Result ok;

    rctx.lang = request_lang(ui, c);
    memset(&eb, 0, sizeof eb);
    if (r->too_big) {
        char words[40];
        col_attach_size_words((long long)r->att_field->max_bytes, words, sizeof words);
        return send_error(r, c, 413, "too_large", rctx.lang == BB_LANG_EN
                          ? "the file is over %s" : "檔案超過 %s", words);
    }
    if (col_attach_capture_fd(&rctx, r->att_kind, r->att_field,
                              col_attach_spool_fd(r->spool),
                              r->att_name[0] ? r->att_name : "upload", r->att_name, &out, &eb)
        != BB_OK)
        return send_error(r, c, 400, "bad_file", "%s", eb.msg);
    if (!(o = col_attach_value(&out)))
        return send_error(r, c, 500, "internal", "out of memory");
    if (out.exif.has_time)
        cJSON_AddStringToObject(o, "exif_time", out.exif.time);
    if (out.exif.has_gps) {
        cJSON_AddNumberToObject(o, "exif_lat", out.exif.lat);
        cJSON_AddNumberToObject(o, "exif_lon", out.exif.lon);
    }
    ok = send_json(r, c, 201, o);
    cJSON_Delete(o);
    return ok;
}

static int gate(struct ui *ui, struct req *r, struct MHD_Connection *c, const char *url,
                const char *method, enum MHD_Result *ret)
{
    enum bb_lang lang = request_lang(ui, c);
    int en = lang == BB_LANG_EN;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    const struct col_web_file *f = NULL;
    const char *secret;
    long long cl;

    r->route = strncmp(url, "/api/", 5) == 0 ? R_API : R_FILE;
    if (bb_httpd_has_control(url, strlen(url))) {
        /* An encoded NUL (bb_httpd_unescape shows it) or control character: refused. */
        *ret = send_error(r, c, 400, "bad_request", "%s",
                          en ? "the path holds a NUL or control character"
                             : "路徑含有 NUL 或控制字元");
        return 1;
    }
    if (!host_ok(ui, c)) {
        *ret = send_error(r, c, 403, "wrong_host", "%s",
                          en ? "this server answers only at 127.0.0.1 and localhost on its own port"
                             : "本伺服器只接受 127.0.0.1 或 localhost 與其本身連接埠的連線");
        return 1;
    }
    if (r->route == R_FILE) {
        if (!get) {
            *ret = send_error(r, c, 405, "method_not_allowed",
                              en ? "%s takes only GET\n" : "%s 只接受 GET\n", url);
            return 1;
        }
        secret = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "s");
        if (secret && strcmp(url, "/") == 0) {
            *ret = enter(ui, r, c, secret);
            return 1;
        }
        if (!(f = web_file(url))) {
            *ret = send_error(r, c, 404, "not_found", "%s%.80s\n",
                              en ? "not found: " : "找不到：", url);
            return 1;
        }
    }
    if (!(r->sess = session_of(ui, c))) {
        *ret = no_session(ui, r, c, lang);
        return 1;
    }
    if (f) {
        *ret = serve_file(r, c, f);
        return 1;
    }
    if (get && strncmp(url, "/api/attachments/", 17) == 0) {
        *ret = serve_stored(ui, r, c, url + 17, en);
        return 1;
    }
    if (get) {
        *ret = serve_api(ui, r, c, "GET", url, NULL);
        return 1;
    }
    if (!post) {
        *ret = send_error(r, c, 405, "method_not_allowed", en ? "%s takes GET or POST"
                                                               : "%s 只接受 GET 或 POST", url);
        return 1;
    }
    {
        const char *tok = header(c, "X-CSRF-Token");
        const char *site = header(c, "Sec-Fetch-Site");
        if (!origin_ok(ui, c) || (site && strcmp(site, "same-origin") != 0)) {
            *ret = send_error(r, c, 403, "wrong_origin", "%s",
                              en ? "a change must come from this page itself, not from another "
                                   "site or port"
                                 : "變更只能由本頁面送出，不接受其他網站或連接埠的請求");
            return 1;
        }
        if (!tok || !ct_equal(tok, r->sess->csrf)) {
            *ret = send_error(r, c, 403, "csrf", "%s",
                              en ? "the page's token is missing or wrong; reload the page"
                                 : "頁面的驗證碼缺少或不正確；請重新載入頁面");
            return 1;
        }
    }
    if (strcmp(url, "/api/attachments") == 0)
        return upload_gate(ui, r, c, en, ret);
    if (!bb_httpd_media_type_is(header(c, MHD_HTTP_HEADER_CONTENT_TYPE), CT_JSON)) {
        *ret = send_error(r, c, 415, "unsupported_media_type",
                          en ? "send the form as Content-Type: %s" : "請以 Content-Type: %s 送出",
                          CT_JSON);
        return 1;
    }
    cl = bb_httpd_content_length(c);
    if (cl > (long long)COL_UI_MAX_BODY) {
        *ret = send_error(r, c, 413, "too_large",
                          en ? "the form is %lld bytes; at most %zu are taken"
                             : "表單有 %lld 位元組，上限為 %zu", cl, COL_UI_MAX_BODY);
        return 1;
    }
    return 0;
}

/* Append a piece of body; -1 when over the cap, -2 out of memory. */
static int collect(struct req *r, const char *data, size_t n)
{
    if (r->too_big || n > COL_UI_MAX_BODY - r->len) {
        r->too_big = 1;
        r->discarded += n;
        return -1;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        char *nb;
        while (cap < r->len + n + 1)
            cap *= 2;
        if (!(nb = realloc(r->body, cap)))
            return -2;
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

static enum MHD_Result finish_post(struct ui *ui, struct req *r, struct MHD_Connection *c,
                                   const char *url)
{
    int en = request_lang(ui, c) == BB_LANG_EN;
    cJSON *body = NULL;
    enum MHD_Result ok;
    bb_errbuf eb;

    if (r->too_big)
        return send_error(r, c, 413, "too_large",
                          en ? "the form is over the limit of %zu bytes" : "表單超過 %zu 位元組的上限",
                          COL_UI_MAX_BODY);
    memset(&eb, 0, sizeof eb);
    if (!r->body || r->len == 0)
        return send_error(r, c, 400, "malformed", "%s",
                          en ? "the request has no body; send the form as a JSON object"
                             : "請求沒有內容；請以 JSON 物件送出表單");
    if (strlen(r->body) != r->len || bb_utf8_length(r->body) < 0)
        return send_error(r, c, 400, "malformed", "%s",
                          en ? "the form is not valid UTF-8 text" : "表單內容不是有效的 UTF-8 文字");
    if (bb_json_parse(r->body, r->len, en ? "the form" : "表單", &body, &eb) != BB_OK)
        return send_error(r, c, 400, "malformed", "%s", eb.msg);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return send_error(r, c, 400, "malformed", "%s",
                          en ? "the form must be a JSON object" : "表單必須是 JSON 物件");
    }
    ok = serve_api(ui, r, c, "POST", url, body);
    cJSON_Delete(body);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **con_cls)
{
    struct ui *ui = cls;
    struct req *r = *con_cls;
    enum MHD_Result ret = MHD_YES;

    (void)version;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        bb_httpd_log_safe(r->method, sizeof r->method, method);
        bb_httpd_log_safe(r->path, sizeof r->path, url);
        if (gate(ui, r, c, url, method, &ret))
            return ret;
        return MHD_YES;
    }
    if (r->answered) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size && r->spool) {
        if (!r->too_big && col_attach_spool_write(r->spool, upload_data, *upload_size) != BB_OK)
            r->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->spool)
        return finish_upload(ui, r, c);
    if (*upload_size) {
        int rc = collect(r, upload_data, *upload_size);
        *upload_size = 0;
        if (rc == -2)
            return MHD_NO;
        if (rc == -1 && r->discarded > DISCARD_SLACK)
            return MHD_NO;           /* far past the cap: stop reading, drop the connection */
        return MHD_YES;
    }
    return finish_post(ui, r, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;
    struct timespec t1;
    long us;

    (void)cls;
    (void)c;
    if (!r)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = (long)((t1.tv_sec - r->t0.tv_sec) * 1000000 + (t1.tv_nsec - r->t0.tv_nsec) / 1000);
    bb_info("method=%s path=%s status=%u us=%ld%s", r->method, r->path, r->status, us,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=yes");
    col_attach_spool_free(r->spool);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* ---- the browser ------------------------------------------------------------ */

/* xdg-open on PATH, as an absolute path in out. */
static int find_xdg_open(char *out, size_t n)
{
    const char *path = getenv("PATH");
    char dir[1024];

    while (path && *path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && len < sizeof dir) {
            memcpy(dir, path, len);
            dir[len] = '\0';
            if ((size_t)snprintf(out, n, "%s/xdg-open", dir) < n && access(out, X_OK) == 0)
                return 1;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return 0;
}

/*
 * Open the page in the officer's browser when there is one: xdg-open on a
 * display.  The URL holds the secret, so it never goes on a command line
 * (other users can read those): xdg-open gets a 0600 file in the store
 * folder that redirects to it.  Never fails the command.
 */
static void open_browser(const struct col_ctx *ctx, const char *url, unsigned port,
                         char *file, size_t file_n)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none;
    char prog[1100], html[600];
    char *argv[3];
    pid_t pid;
    int fd, n;

    file[0] = '\0';
    if ((!getenv("DISPLAY") || !*getenv("DISPLAY")) &&
        (!getenv("WAYLAND_DISPLAY") || !*getenv("WAYLAND_DISPLAY")))
        return;
    if (!find_xdg_open(prog, sizeof prog))
        return;
    if ((size_t)snprintf(file, file_n, "%s/ui-%u.html", ctx->home, port) >= file_n) {
        file[0] = '\0';
        return;
    }
    unlink(file);
    fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        file[0] = '\0';
        return;
    }
    n = snprintf(html, sizeof html,
                 "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
                 "content=\"0;url=%s\"><title>Beatbook</title><a href=\"%s\">Beatbook</a>\n",
                 url, url);
    if (n < 0 || (size_t)n >= sizeof html || write(fd, html, (size_t)n) != n) {
        close(fd);
        unlink(file);
        file[0] = '\0';
        return;
    }
    close(fd);
    argv[0] = prog;
    argv[1] = file;
    argv[2] = NULL;
    sigemptyset(&none);
    if (posix_spawn_file_actions_init(&fa) != 0)
        return;
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    if (posix_spawn(&pid, prog, &fa, &attr, argv, environ) != 0)
        bb_debug("ui: xdg-open could not start");
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
}

/* ---- the command ------------------------------------------------------------ */

static bb_err start_server(struct ui *ui, unsigned port, bb_errbuf *eb)
{
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ui->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        handle, ui,
        MHD_OPTION_EXTERNAL_LOGGER, bb_httpd_log, ui,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
        MHD_OPTION_NOTIFY_COMPLETED, completed, ui,
        MHD_OPTION_UNESCAPE_CALLBACK, bb_httpd_unescape, NULL,
        MHD_OPTION_END);
    if (!ui->daemon)
        return bb_fail(eb, BB_ERR_UNAVAILABLE,
                       T(ui->ctx, "ui: cannot listen on 127.0.0.1:%u (is the port in use?)",
                         "ui：無法在 127.0.0.1:%u 接受連線（連接埠已被使用？）"),
                       port);
    info = MHD_get_daemon_info(ui->daemon, MHD_DAEMON_INFO_BIND_PORT);
    ui->port = info ? info->port : port;
    snprintf(ui->cookie, sizeof ui->cookie, "bb_ui_%u", ui->port);
    snprintf(ui->host_ip, sizeof ui->host_ip, "127.0.0.1:%u", ui->port);
    snprintf(ui->host_name, sizeof ui->host_name, "localhost:%u", ui->port);
    return BB_OK;
}

bb_err col_cmd_ui(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"no-browser", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ui ui;
    const char *from = "";
    char url[128], file[4200] = "";
    sigset_t stop;
    unsigned long port = 0;
    int c, browser = 1, sig = 0;
    bb_err err;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char *end;
            errno = 0;
            port = strtoul(optarg, &end, 10);
            if (errno || *end || !*optarg || *optarg == '-' || port > 65535)
                return bb_fail(eb, BB_ERR_USAGE,
                               T(ctx, "ui: --port \"%s\": a port number 0-65535 (0: any free "
                                      "port; see: beatbook ui --help)",
                                 "ui：--port「%s」：連接埠須為 0 到 65535（0：任一空閒的連接埠；"
                                 "請見：beatbook ui --help）"),
                               optarg);
            break;
        }
        case 'n': browser = 0; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook ui [--port N] [--no-browser]\n"
                    "The forms page of this laptop: record, correct, void and sync in a browser.\n"
                    "Serves http://127.0.0.1:PORT/ (this machine only; a random free port unless\n"
                    "--port) with a new secret in the address each start, prints the address and\n"
                    "opens it in the browser when there is a display (not with --no-browser).\n"
                    "Works offline; the CLI can be used at the same time.  Ctrl-C stops it.\n"
                    "Sync runs beatbook-syncd --once ($BEATBOOK_SYNCD, else the one next to\n"
                    "beatbook).\n",
                    "用法：beatbook ui [--port N] [--no-browser]\n"
                    "本機的填報表單頁面：在瀏覽器中記錄、更正、作廢與同步。\n"
                    "提供 http://127.0.0.1:PORT/（僅限本機；未指定 --port 時使用任一空閒的連接埠），\n"
                    "每次啟動的網址都含有新的密碼；印出網址，有顯示器時並以瀏覽器開啟\n"
                    "（--no-browser 則不開啟）。不需網路；同時仍可使用指令。按 Ctrl-C 結束。\n"
                    "「同步」會執行 beatbook-syncd --once（$BEATBOOK_SYNCD，否則為與 beatbook\n"
                    "同目錄的程式）。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "ui", c, argv);
        }
    }
    if (optind < argc)
        return col_usage(ctx, eb, "ui", T(ctx, "unexpected argument", "多了參數"));
    memset(&ui, 0, sizeof ui);
    ui.ctx = ctx;
    /* The store must be there (and migrated) before anything is served. */
    if ((err = col_store_open(ctx->home, 0, &ui.st, eb)) != BB_OK)
        return err;
    if ((err = col_load_plan(ctx, ui.st, &ui.plan, &from, eb)) != BB_OK)
        goto out;
    if ((err = col_ui_sync_new(ctx->home, &ui.sync, eb)) != BB_OK)
        goto out;
    if ((err = random_hex(ui.secret)) != BB_OK) {
        err = bb_fail(eb, err, T(ctx, "ui: no random numbers available for the secret",
                                 "ui：沒有亂數可用，無法產生網址的密碼"));
        goto out;
    }
    /* Blocked in every thread (MHD's inherits the mask); taken below with sigwait. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((err = start_server(&ui, (unsigned)port, eb)) != BB_OK)
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/?s=%s", ui.port, ui.secret);
    printf(T(ctx, "beatbook ui: %s\n  (this machine only; open it in a browser; Ctrl-C stops)\n",
             "beatbook 表單頁面：%s\n  （僅限本機；請用瀏覽器開啟；按 Ctrl-C 結束）\n"),
           url);
    fflush(stdout);
    if (browser)
        open_browser(ctx, url, ui.port, file, sizeof file);
    while (sigwait(&stop, &sig) != 0)
        ;
    fprintf(stderr, "%s\n", T(ctx, "beatbook ui: stopping", "beatbook 表單頁面：結束"));
    MHD_stop_daemon(ui.daemon);
    ui.daemon = NULL;
out:
    if (file[0])
        unlink(file);
    col_ui_sync_free(ui.sync);                 /* waits for a sync child first */
    col_store_close(ui.st);
    while (waitpid(-1, NULL, WNOHANG) > 0)     /* then an xdg-open that has finished */
        ;
    bb_plan_free(ui.plan);
    memset(ui.secret, 0, sizeof ui.secret);
    memset(ui.sessions, 0, sizeof ui.sessions);
    return err;
}
