/*
 * col_ui_api.c — the JSON API of the forms page (see col_ui.h for the
 * endpoints): routing, and what reads — the session, the home page, lists,
 * record pages with every revision and what changed, the sync button's
 * state and day-end answer.  Forms and everything that writes are in
 * col_ui_form.c.  The server (col_ui.c) has checked the session, CSRF,
 * size and JSON syntax before anything here runs.
 */
#include "col_record.h"
#include "col_store.h"
#include "col_ui.h"
#include "bb_form.h"
#include "bb_json.h"
#include "bb_outbox.h"
#include "bb_record.h"
#include "bb_time.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 200
#define LIST_MAX 1000
#define SUMMARY_FIELDS 3

#define EN(env) ((env)->ctx->lang == BB_LANG_EN)
#define TL(env, en, zh) (EN(env) ? (en) : (zh))

void col_ui_fail(struct col_ui_answer *a, unsigned status, const char *code, const char *fmt,
                 ...)
{
    va_list ap;

    cJSON_Delete(a->json);
    a->json = NULL;
    a->status = status;
    snprintf(a->code, sizeof a->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

void col_ui_reply(struct col_ui_answer *a, unsigned status, cJSON *json)
{
    if (!json) {
        col_ui_fail(a, 500, "internal", "out of memory");
        return;
    }
    cJSON_Delete(a->json);
    a->status = status;
    a->json = json;
}

/* A store error as an answer: the status says what the page can do about it. */
void col_ui_store_fail(struct col_ui_answer *a, bb_err err, const bb_errbuf *eb)
{
    static const struct {
        bb_err err;
        unsigned status;
        const char *code;
    } map[] = {
        {BB_ERR_NOTFOUND, 404, "not_found"}, {BB_ERR_BUSY, 503, "busy"},
        {BB_ERR_INVALID, 422, "invalid"},    {BB_ERR_CONFLICT, 409, "conflict"},
        {BB_ERR_STATE, 409, "state"},        {BB_ERR_USAGE, 400, "bad_request"},
        {BB_ERR_READONLY, 503, "read_only"}, {BB_ERR_FULL, 507, "disk_full"},
        {BB_ERR_PERM, 503, "permission"},
    };
    size_t i;

    for (i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].err == err) {
            col_ui_fail(a, map[i].status, map[i].code, "%s", eb->msg[0] ? eb->msg : bb_strerror(err));
            return;
        }
    col_ui_fail(a, 500, "internal", "%s", eb->msg[0] ? eb->msg : bb_strerror(err));
}

/*
 * The store for this request: the server's open connection (it holds no
 * transaction between requests, so the CLI can write meanwhile), else one
 * opened now.  Give it back with close_store.
 */
int col_ui_store_take(const struct col_ui_env *env, int readonly, col_store **st,
                      struct col_ui_answer *a)
{
    bb_errbuf eb;
    bb_err err;

    if (env->st) {
        *st = env->st;
        return 0;
    }
    memset(&eb, 0, sizeof eb);
    if ((err = col_store_open(env->ctx->home, readonly, st, &eb)) != BB_OK) {
        col_ui_store_fail(a, err == BB_ERR_NOTFOUND ? BB_ERR_UNAVAILABLE : err, &eb);
        if (err == BB_ERR_NOTFOUND)
            a->status = 503;
        return -1;
    }
    return 0;
}

void col_ui_store_give(const struct col_ui_env *env, col_store *st)
{
    if (st != env->st)
        col_store_close(st);
}

cJSON *col_ui_label(const struct bb_label *l, const char *fallback)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "zh-TW", l->zh ? l->zh : (l->en ? l->en : fallback));
    cJSON_AddStringToObject(o, "en", l->en ? l->en : (l->zh ? l->zh : fallback));
    return o;
}

/* The definition of name in kind k: a field, else an envelope key. */
static const struct bb_field *field_of(const struct bb_kind *k, const char *name)
{
    const struct bb_field *f = k ? bb_kind_field(k, name) : NULL;
    return f ? f : bb_record_envelope_field(name);
}

static void shown(const struct col_ui_env *env, const struct bb_kind *k, const char *name,
                  const cJSON *v, char *out, size_t n)
{
    const struct bb_field *f = field_of(k, name);
    char *s;

    out[0] = '\0';
    if (!v || cJSON_IsNull(v))
        return;
    if (f) {
        bb_form_display(env->ctx->cat, f, v, env->ctx->lang, out, n);
        return;
    }
    if (cJSON_IsString(v)) {
        snprintf(out, n, "%s", v->valuestring);
        return;
    }
    s = bb_json_canonical(v);
    snprintf(out, n, "%s", s ? s : "");
    free(s);
}

static cJSON *name_label(const struct bb_kind *k, const char *name)
{
    const struct bb_field *f = field_of(k, name);
    static const struct bb_label status = {"狀態", "Status"}, reason = {"作廢原因", "Reason"};

    if (f)
        return col_ui_label(&f->label, name);
    if (strcmp(name, "status") == 0)
        return col_ui_label(&status, name);
    if (strcmp(name, "void_reason") == 0)
        return col_ui_label(&reason, name);
    {
        struct bb_label none = {NULL, NULL};
        return col_ui_label(&none, name);
    }
}

static const char *status_text(const struct col_ui_env *env, const char *status)
{
    if (!status)
        return "";
    if (strcmp(status, "draft") == 0)
        return TL(env, "draft (open)", "草稿（進行中）");
    if (strcmp(status, "void") == 0)
        return TL(env, "void", "已作廢");
    return TL(env, "final", "已完成");
}

/* One record as a line of a list: kind, when, the first few answers. */
static cJSON *row_json(const struct col_ui_env *env, const cJSON *rec)
{
    const char *kind = bb_json_str(rec, "kind");
    const struct bb_kind *k = kind ? bb_catalog_kind(env->ctx->cat, kind) : NULL;
    const cJSON *data = bb_json_obj(rec, "data"), *v;
    char when[64], val[200], summary[400] = "";
    cJSON *o = cJSON_CreateObject();
    size_t i, used = 0;
    int n = 0;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", bb_json_str(rec, "id") ? bb_json_str(rec, "id") : "");
    cJSON_AddStringToObject(o, "kind", kind ? kind : "");
    if (k)
        cJSON_AddItemToObject(o, "kind_label", col_ui_label(&k->label, kind));
    cJSON_AddStringToObject(o, "status", bb_json_str(rec, "status") ? bb_json_str(rec, "status")
                                                                    : "");
    v = cJSON_GetObjectItemCaseSensitive(rec, "rev");
    cJSON_AddNumberToObject(o, "rev", cJSON_IsNumber(v) ? v->valuedouble : 0);
    cJSON_AddStringToObject(o, "occurred_at", bb_json_str(rec, "occurred_at")
                                                  ? bb_json_str(rec, "occurred_at") : "");
    shown(env, NULL, "occurred_at", cJSON_GetObjectItemCaseSensitive(rec, "occurred_at"), when,
          sizeof when);
    cJSON_AddStringToObject(o, "occurred", when);
    for (i = 0; k && i < k->nfields && n < SUMMARY_FIELDS; i++) {
        v = cJSON_GetObjectItemCaseSensitive(data, k->fields[i].name);
        if (!v || cJSON_IsNull(v) || k->fields[i].type == BB_F_DATETIME)
            continue;
        bb_form_display(env->ctx->cat, &k->fields[i], v, env->ctx->lang, val, sizeof val);
        used += (size_t)snprintf(summary + used, sizeof summary - used, "%s%s %s",
                                 n ? TL(env, "; ", "；") : "",
                                 bb_label(&k->fields[i].label, env->ctx->lang, k->fields[i].name),
                                 val);
        if (used >= sizeof summary)
            used = sizeof summary - 1;
        n++;
    }
    cJSON_AddStringToObject(o, "summary", summary);
    return o;
}

/* ---- GET /api/session ------------------------------------------------------- */

static void api_session(const struct col_ui_env *env, struct col_ui_answer *a)
{
    const bb_catalog *cat = env->ctx->cat;
    const struct bb_ref_item *u;
    col_store *st = NULL;
    cJSON *o, *kinds, *sum = NULL;
    bb_errbuf eb;
    size_t i;

    if (col_ui_store_take(env, 1, &st, a) != 0)
        return;
    memset(&eb, 0, sizeof eb);
    if (!(o = cJSON_CreateObject())) {
        col_ui_store_give(env, st);
        col_ui_reply(a, 500, NULL);
        return;
    }
    cJSON_AddStringToObject(o, "csrf", env->csrf);
    cJSON_AddStringToObject(o, "lang", env->ctx->lang == BB_LANG_EN ? "en" : "zh-TW");
    cJSON_AddStringToObject(o, "officer", st->officer);
    cJSON_AddStringToObject(o, "org_unit", st->org_unit);
    u = bb_catalog_ref(cat, "units", st->org_unit);
    if (u)
        cJSON_AddItemToObject(o, "org_unit_label", col_ui_label(&u->label, st->org_unit));
    cJSON_AddStringToObject(o, "device", st->device);
    if (bb_outbox_summary(st->db, &sum, &eb) == BB_OK)
        cJSON_AddBoolToObject(o, "enrolled",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "enrolled")));
    cJSON_Delete(sum);
    kinds = cJSON_AddArrayToObject(o, "kinds");
    for (i = 0; kinds && i < bb_catalog_kind_count(cat); i++) {
        const struct bb_kind *k = bb_catalog_kind_at(cat, i);
        cJSON *kj = cJSON_CreateObject();
        if (!kj)
            break;
        cJSON_AddStringToObject(kj, "name", k->name);
        cJSON_AddItemToObject(kj, "label", col_ui_label(&k->label, k->name));
        cJSON_AddItemToObject(kj, "description", col_ui_label(&k->description, ""));
        /* Only a patrol has an open state, as `beatbook patrol start` does. */
        cJSON_AddBoolToObject(kj, "drafts", strcmp(k->name, "patrol") == 0);
        cJSON_AddItemToArray(kinds, kj);
    }
    col_ui_store_give(env, st);
    col_ui_reply(a, 200, o);
}

/* ---- sync state (home page, sync page) -------------------------------------- */

static long num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static long drafts_count(col_store *st)
{
    cJSON *d = NULL;
    long n = 0;

    if (col_store_drafts(st, "patrol", &d, NULL) == BB_OK)
        n = cJSON_GetArraySize(d);
    cJSON_Delete(d);
    return n;
}

/* What the home page says about sync: "12 筆待同步，上次同步 17:02". */
static cJSON *outbox_json(col_store *st)
{
    static const char *const keys[] = {"enrolled", "registered", "last_sync_at",
                                       "last_sync_ok_at", "last_sync_error", "hq_url"};
    cJSON *sum = NULL, *o = cJSON_CreateObject();
    const cJSON *b;
    size_t i;

    if (!o || bb_outbox_summary(st->db, &sum, NULL) != BB_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    b = cJSON_GetObjectItemCaseSensitive(sum, "batches");
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, keys[i]);
        cJSON_AddItemToObject(o, keys[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    cJSON_AddNumberToObject(o, "pending",
                            (double)(num(sum, "records_waiting") +
                                     num(sum, "records_in_waiting_batches")));
    cJSON_AddNumberToObject(o, "unsealed", (double)num(sum, "records_waiting"));
    cJSON_AddNumberToObject(o, "waiting_batches", (double)num(b, "waiting"));
    cJSON_AddNumberToObject(o, "acknowledged_batches", (double)num(b, "acknowledged"));
    cJSON_AddNumberToObject(o, "rejected_batches",
                            (double)cJSON_GetArraySize(
                                cJSON_GetObjectItemCaseSensitive(sum, "rejected_batches")));
    cJSON_AddNumberToObject(o, "rejected_records",
                            (double)cJSON_GetArraySize(
                                cJSON_GetObjectItemCaseSensitive(sum, "rejected_records")));
    cJSON_AddNumberToObject(o, "drafts", (double)drafts_count(st));
    cJSON_Delete(sum);
    return o;
}

/*
 * The day-end answer after a run, from syncd's exit status and what the
 * store now holds (as beatbook-syncd's own "day end:" line decides it).
 */
static cJSON *day_end(const struct col_ui_env *env, int exit_code, const cJSON *ob)
{
    cJSON *o = cJSON_CreateObject();
    long waiting = num(ob, "waiting_batches"), unsealed = num(ob, "unsealed");
    long refused = num(ob, "rejected_batches") + num(ob, "rejected_records");
    long drafts = num(ob, "drafts");
    char msg[600], note[300] = "";
    const char *state;

    if (!o)
        return NULL;
    if (exit_code != 0 && exit_code != 65 && exit_code != 75) {
        state = "failed";
        snprintf(msg, sizeof msg, TL(env, "The sync could not run (exit status %d): see its "
                                          "messages above.",
                                     "同步無法執行（結束代碼 %d）：請看上方訊息。"),
                 exit_code);
    } else if (waiting == 0 && unsealed == 0 && refused == 0) {
        state = "done";
        snprintf(msg, sizeof msg, "%s",
                 TL(env, "Day end: everything finished on this laptop is at HQ, with HQ's "
                         "signed receipts.",
                    "當日結束：本機已完成的紀錄都已送達總局，並有總局簽章回執。"));
    } else if (waiting != 0 || unsealed != 0) {
        state = "waiting";
        snprintf(msg, sizeof msg,
                 TL(env, "NOT everything is at HQ: %ld batch(es) and %ld record(s) still "
                         "waiting. Sync again when the network is back, or carry them on a USB "
                         "stick: beatbook export --to /media/usb",
                    "尚未全部送達總局：還有 %ld 批、%ld 筆紀錄待傳送。網路恢復後請再按「同步」，"
                    "或以 USB 隨身碟帶回：beatbook export --to /media/usb"),
                 waiting, unsealed);
    } else {
        state = "refused";
        snprintf(msg, sizeof msg, "%s",
                 TL(env, "At HQ, but HQ refused some of it: correct it and sync again (see: "
                         "beatbook status).",
                    "已送達總局，但總局拒收部分資料：請更正後再同步（請見：beatbook status）。"));
    }
    if (drafts > 0)
        snprintf(note, sizeof note,
                 TL(env, "Open patrols (drafts): %ld; they are sent once ended.",
                    "進行中的巡邏（草稿）：%ld 筆，結束後才會傳送。"),
                 drafts);
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddStringToObject(o, "message", msg);
    cJSON_AddStringToObject(o, "drafts_note", note);
    return o;
}

static void api_sync_get(const struct col_ui_env *env, struct col_ui_answer *a, int *reload)
{
    col_store *st = NULL;
    cJSON *o, *ob;
    const cJSON *ex;

    if (!(o = col_ui_sync_state(env->sync, reload))) {
        col_ui_reply(a, 500, NULL);
        return;
    }
    if (col_ui_store_take(env, 1, &st, a) != 0) {
        cJSON_Delete(o);
        return;
    }
    ob = outbox_json(st);
    col_ui_store_give(env, st);
    ex = cJSON_GetObjectItemCaseSensitive(o, "exit");
    if (ob && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ran")) &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "running")))
        cJSON_AddItemToObject(o, "day_end", day_end(env, cJSON_IsNumber(ex) ? ex->valueint : -1,
                                                    ob));
    cJSON_AddItemToObject(o, "outbox", ob ? ob : cJSON_CreateNull());
    col_ui_reply(a, 200, o);
}

static void api_sync_post(const struct col_ui_env *env, struct col_ui_answer *a)
{
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    if ((err = col_ui_sync_start(env->sync, env->ctx->lang, &eb)) != BB_OK) {
        if (err == BB_ERR_BUSY)
            col_ui_fail(a, 409, "running", "%s", eb.msg);
        else
            col_ui_fail(a, 503, "unavailable", "%s", eb.msg);
        return;
    }
    col_ui_reply(a, 202, col_ui_sync_state(env->sync, NULL));
}

/* ---- GET /api/home ------------------------------------------------------------ */

struct rows {
    const struct col_ui_env *env;
    cJSON *arr;
    long keep;               /* the newest `keep` rows are kept (0: all) */
    long seen;
};

static bb_err add_row(const cJSON *rec, void *arg)
{
    struct rows *r = arg;
    cJSON *row = row_json(r->env, rec);

    if (!row)
        return BB_ERR_NOMEM;
    /* Rows come oldest first: put each in front, drop the oldest past keep. */
    cJSON_InsertItemInArray(r->arr, 0, row);
    r->seen++;
    if (r->keep > 0 && cJSON_GetArraySize(r->arr) > r->keep)
        cJSON_DeleteItemFromArray(r->arr, cJSON_GetArraySize(r->arr) - 1);
    return BB_OK;
}

static void api_home(const struct col_ui_env *env, struct col_ui_answer *a, int *reload)
{
    struct col_filter f;
    struct rows rows;
    col_store *st = NULL;
    cJSON *o, *drafts = NULL, *d, *sync;
    const cJSON *it;
    int64_t day;
    bb_errbuf eb;
    bb_err err;

    if (col_ui_store_take(env, 1, &st, a) != 0)
        return;
    memset(&eb, 0, sizeof eb);
    if (!(o = cJSON_CreateObject())) {
        col_ui_store_give(env, st);
        col_ui_reply(a, 500, NULL);
        return;
    }
    day = bb_taipei_day(env->ctx->now);
    memset(&f, 0, sizeof f);
    f.from = day * 86400 - BB_TAIPEI_OFFSET_MIN * 60;
    f.to = f.from + 86400;
    memset(&rows, 0, sizeof rows);
    rows.env = env;
    rows.keep = LIST_DEFAULT;
    rows.arr = cJSON_AddArrayToObject(o, "today");
    if ((err = col_store_each(st, &f, add_row, &rows, &eb)) != BB_OK ||
        (err = col_store_drafts(st, "patrol", &drafts, &eb)) != BB_OK) {
        col_ui_store_give(env, st);
        cJSON_Delete(o);
        col_ui_store_fail(a, err, &eb);
        return;
    }
    cJSON_AddNumberToObject(o, "today_count", (double)rows.seen);
    d = cJSON_AddArrayToObject(o, "drafts");
    cJSON_ArrayForEach(it, drafts)
        cJSON_AddItemToArray(d, row_json(env, it));
    cJSON_Delete(drafts);
    cJSON_AddItemToObject(o, "outbox", outbox_json(st));
    col_ui_store_give(env, st);
    sync = col_ui_sync_state(env->sync, reload);
    cJSON_AddItemToObject(o, "sync", sync ? sync : cJSON_CreateNull());
    col_ui_reply(a, 200, o);
}

/* ---- GET /api/records ------------------------------------------------------------ */

static int parse_when(const struct col_ui_env *env, const char *name, const char *text,
                      int end, int64_t *out, struct col_ui_answer *a)
{
    bb_errbuf eb;
    int off;

    memset(&eb, 0, sizeof eb);
    if (bb_time_parse_loose(text, env->ctx->now, out, &off, &eb) != BB_OK) {
        col_ui_fail(a, 400, "bad_query", "%s: %s", name, eb.msg);
        return -1;
    }
    if (end && !strchr(text, ':'))
        *out += 86400;                  /* a day given as "to" includes that day */
    return 0;
}

static void api_list(const struct col_ui_env *env, struct col_ui_answer *a)
{
    struct col_filter f;
    struct rows rows;
    col_store *st = NULL;
    cJSON *o;
    bb_errbuf eb;
    bb_err err;
    long limit = LIST_DEFAULT;

    memset(&f, 0, sizeof f);
    if (env->q_kind && *env->q_kind) {
        const struct bb_kind *k = col_ui_kind(env, env->q_kind, a, 400);
        if (!k)
            return;
        f.kind = k->name;
    }
    if (env->q_status && *env->q_status) {
        if (strcmp(env->q_status, "draft") != 0 && strcmp(env->q_status, "final") != 0 &&
            strcmp(env->q_status, "void") != 0) {
            col_ui_fail(a, 400, "bad_query", "%s",
                        TL(env, "status is draft, final or void", "status 須為 draft、final 或 void"));
            return;
        }
        f.status = env->q_status;
    }
    if (env->q_from && *env->q_from && parse_when(env, "from", env->q_from, 0, &f.from, a) != 0)
        return;
    if (env->q_to && *env->q_to && parse_when(env, "to", env->q_to, 1, &f.to, a) != 0)
        return;
    if (env->q_limit && *env->q_limit) {
        char *end;
        limit = strtol(env->q_limit, &end, 10);
        if (*end || limit < 1 || limit > LIST_MAX) {
            col_ui_fail(a, 400, "bad_query", TL(env, "limit is 1 to %d", "limit 須為 1 到 %d"),
                        LIST_MAX);
            return;
        }
    }
    if (col_ui_store_take(env, 1, &st, a) != 0)
        return;
    if (!(o = cJSON_CreateObject())) {
        col_ui_store_give(env, st);
        col_ui_reply(a, 500, NULL);
        return;
    }
    memset(&rows, 0, sizeof rows);
    rows.env = env;
    rows.keep = limit;
    rows.arr = cJSON_AddArrayToObject(o, "records");
    memset(&eb, 0, sizeof eb);
    err = col_store_each(st, &f, add_row, &rows, &eb);
    col_ui_store_give(env, st);
    if (err != BB_OK) {
        cJSON_Delete(o);
        col_ui_store_fail(a, err, &eb);
        return;
    }
    cJSON_AddNumberToObject(o, "count", (double)rows.seen);
    cJSON_AddBoolToObject(o, "more", rows.seen > limit);
    col_ui_reply(a, 200, o);
}

/* ---- GET /api/records/ID ---------------------------------------------------------- */

static void change(const struct col_ui_env *env, const struct bb_kind *k, cJSON *arr,
                   const char *name, const cJSON *x, const cJSON *y)
{
    char before[600], after[600];
    cJSON *o;

    if ((!x && !y) || (x && y && cJSON_Compare(x, y, 1)))
        return;
    if (strcmp(name, "status") == 0) {
        snprintf(before, sizeof before, "%s", x ? status_text(env, x->valuestring) : "");
        snprintf(after, sizeof after, "%s", y ? status_text(env, y->valuestring) : "");
    } else {
        shown(env, k, name, x, before, sizeof before);
        shown(env, k, name, y, after, sizeof after);
    }
    if (!(o = cJSON_CreateObject()))
        return;
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddItemToObject(o, "label", name_label(k, name));
    cJSON_AddStringToObject(o, "before", before);
    cJSON_AddStringToObject(o, "after", after);
    cJSON_AddItemToArray(arr, o);
}

/* What changed from revision prev to cur, field by field (as `beatbook show`). */
static cJSON *changes(const struct col_ui_env *env, const struct bb_kind *k, const cJSON *prev,
                      const cJSON *cur)
{
    static const char *const env_keys[] = {"status", "occurred_at", "org_unit", "location",
                                           "void_reason"};
    const cJSON *pd = bb_json_obj(prev, "data"), *cd = bb_json_obj(cur, "data"), *it;
    cJSON *arr = cJSON_CreateArray();
    size_t i;

    for (i = 0; arr && i < sizeof env_keys / sizeof env_keys[0]; i++)
        change(env, k, arr, env_keys[i], cJSON_GetObjectItemCaseSensitive(prev, env_keys[i]),
               cJSON_GetObjectItemCaseSensitive(cur, env_keys[i]));
    cJSON_ArrayForEach(it, cd)
        change(env, k, arr, it->string, cJSON_GetObjectItemCaseSensitive(pd, it->string), it);
    cJSON_ArrayForEach(it, pd)
        if (!cJSON_GetObjectItemCaseSensitive(cd, it->string))
            change(env, k, arr, it->string, it, NULL);
    return arr;
}

static void api_record(const struct col_ui_env *env, const char *id, struct col_ui_answer *a)
{
    col_store *st = NULL;
    cJSON *rec = NULL, *revs = NULL, *o = NULL, *fields, *rv;
    const struct bb_kind *k;
    const cJSON *r, *prev = NULL, *it;
    bb_form *form = NULL;
    char text[1200];
    const char *status, *dev;
    bb_errbuf eb;
    bb_err err;
    size_t i;
    int mine;

    if (col_ui_store_take(env, 1, &st, a) != 0)
        return;
    memset(&eb, 0, sizeof eb);
    if ((err = col_store_get(st, id, &rec, &eb)) != BB_OK ||
        (err = col_store_revisions(st, bb_json_str(rec, "id"), &revs, &eb)) != BB_OK) {
        col_ui_store_fail(a, err, &eb);
        goto out;
    }
    k = bb_catalog_kind(env->ctx->cat, bb_json_str(rec, "kind"));
    if (k && col_ui_form_new(env, k, &form, a) != 0)
        goto out;
    if (!(o = cJSON_CreateObject())) {
        col_ui_reply(a, 500, NULL);
        goto out;
    }
    status = bb_json_str(rec, "status");
    dev = bb_json_str(rec, "device");
    mine = dev && strcmp(dev, st->device) == 0;
    cJSON_AddItemToObject(o, "record", cJSON_Duplicate(rec, 1));
    if (k)
        cJSON_AddItemToObject(o, "kind_label", col_ui_label(&k->label, k->name));
    cJSON_AddStringToObject(o, "status_text", status_text(env, status));
    shown(env, k, "occurred_at", cJSON_GetObjectItemCaseSensitive(rec, "occurred_at"), text,
          sizeof text);
    cJSON_AddStringToObject(o, "occurred", text);
    shown(env, k, "recorded_at", cJSON_GetObjectItemCaseSensitive(rec, "recorded_at"), text,
          sizeof text);
    cJSON_AddStringToObject(o, "recorded", text);
    shown(env, k, "org_unit", cJSON_GetObjectItemCaseSensitive(rec, "org_unit"), text,
          sizeof text);
    cJSON_AddStringToObject(o, "org_unit", text);
    cJSON_AddBoolToObject(o, "mine", mine);
    cJSON_AddBoolToObject(o, "editable", mine && k && status && strcmp(status, "void") != 0);
    cJSON_AddBoolToObject(o, "can_end", mine && k && status && strcmp(status, "draft") == 0 &&
                                            strcmp(k->name, "patrol") == 0);
    /* Every answer, in the form's order, then anything the form does not ask. */
    fields = cJSON_AddArrayToObject(o, "fields");
    for (i = 0; fields && form && i < bb_form_count(form); i++) {
        const struct bb_question *q = bb_form_at(form, i);
        const cJSON *v = bb_form_answer(q, rec);
        cJSON *fo;
        if (!v || (q->envelope && strcmp(q->field->name, "location") != 0))
            continue;
        bb_form_display(env->ctx->cat, q->field, v, env->ctx->lang, text, sizeof text);
        if (!(fo = cJSON_CreateObject()))
            break;
        cJSON_AddStringToObject(fo, "name", q->field->name);
        cJSON_AddItemToObject(fo, "label", col_ui_label(&q->field->label, q->field->name));
        cJSON_AddStringToObject(fo, "display", text);
        cJSON_AddItemToArray(fields, fo);
    }
    cJSON_ArrayForEach(it, bb_json_obj(rec, "data")) {
        cJSON *fo;
        if (form && bb_form_find(form, it->string))
            continue;
        shown(env, k, it->string, it, text, sizeof text);
        if (!fields || !(fo = cJSON_CreateObject()))
            break;
        cJSON_AddStringToObject(fo, "name", it->string);
        cJSON_AddItemToObject(fo, "label", name_label(k, it->string));
        cJSON_AddStringToObject(fo, "display", text);
        cJSON_AddItemToArray(fields, fo);
    }
    rv = cJSON_AddArrayToObject(o, "revisions");
    cJSON_ArrayForEach(r, revs) {
        cJSON *ro = cJSON_CreateObject();
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "rev");
        if (!rv || !ro)
            break;
        cJSON_AddNumberToObject(ro, "rev", cJSON_IsNumber(n) ? n->valuedouble : 0);
        cJSON_AddStringToObject(ro, "status", bb_json_str(r, "status") ? bb_json_str(r, "status")
                                                                        : "");
        cJSON_AddStringToObject(ro, "status_text", status_text(env, bb_json_str(r, "status")));
        shown(env, k, "recorded_at", cJSON_GetObjectItemCaseSensitive(r, "recorded_at"), text,
              sizeof text);
        cJSON_AddStringToObject(ro, "recorded", text);
        if (bb_json_str(r, "void_reason"))
            cJSON_AddStringToObject(ro, "void_reason", bb_json_str(r, "void_reason"));
        cJSON_AddItemToObject(ro, "changes", prev ? changes(env, k, prev, r) : cJSON_CreateArray());
        cJSON_AddItemToArray(rv, ro);
        prev = r;
    }
    col_ui_reply(a, 200, o);
    o = NULL;
out:
    cJSON_Delete(o);
    bb_form_free(form);
    cJSON_Delete(rec);
    cJSON_Delete(revs);
    col_ui_store_give(env, st);
}

/* ---- routing --------------------------------------------------------------------- */

/* "/api/records/ID/VERB": ID (a UUID or a unique part) and VERB. */
static int split_record_path(const char *path, char *id, size_t idn, const char **verb)
{
    const char *p = path + strlen("/api/records/"), *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);

    if (n == 0 || n >= idn || strspn(p, "0123456789abcdefABCDEF-") < n)
        return -1;
    memcpy(id, p, n);
    id[n] = '\0';
    *verb = slash ? slash + 1 : "";
    return 0;
}

void col_ui_api(const struct col_ui_env *env, const char *method, const char *path,
                const cJSON *body, struct col_ui_answer *a, int *reload)
{
    int get = strcmp(method, "GET") == 0;
    char id[64];
    const char *verb;

    *reload = 0;
    if (strcmp(path, "/api/session") == 0 && get)
        api_session(env, a);
    else if (strcmp(path, "/api/home") == 0 && get)
        api_home(env, a, reload);
    else if (strncmp(path, "/api/forms/", 11) == 0 && get)
        col_ui_api_form(env, path + 11, a);
    else if (strcmp(path, "/api/check") == 0 && !get)
        col_ui_api_check(env, body, a);
    else if (strcmp(path, "/api/records") == 0)
        get ? api_list(env, a) : col_ui_api_save(env, body, NULL, COL_UI_NEW, a);
    else if (strcmp(path, "/api/sync") == 0)
        get ? api_sync_get(env, a, reload) : api_sync_post(env, a);
    else if (strncmp(path, "/api/records/", 13) == 0) {
        if (split_record_path(path, id, sizeof id, &verb) != 0)
            col_ui_fail(a, 404, "not_found", TL(env, "no record at %.80s", "沒有這筆紀錄：%.80s"),
                        path);
        else if (get && !*verb)
            api_record(env, id, a);
        else if (!get && strcmp(verb, "edit") == 0)
            col_ui_api_save(env, body, id, COL_UI_EDIT, a);
        else if (!get && strcmp(verb, "end") == 0)
            col_ui_api_save(env, body, id, COL_UI_END, a);
        else if (!get && strcmp(verb, "void") == 0)
            col_ui_api_void(env, body, id, a);
        else
            col_ui_fail(a, get ? 404 : 405, get ? "not_found" : "method_not_allowed",
                        "%s %.80s", method, path);
    } else
        col_ui_fail(a, 404, "not_found", TL(env, "nothing at %.80s", "沒有這個位址：%.80s"), path);
}
