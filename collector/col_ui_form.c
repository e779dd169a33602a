/*
 * col_ui_form.c — the forms of `beatbook ui` (see col_ui.h): a kind's form
 * with its starting values, and what a form post does — build the record
 * exactly as the CLI command of its mode would (add, patrol start, edit,
 * patrol end: col_record_new / col_record_assign / col_record_anchor,
 * col_record_load_for_revision / col_record_next_revision,
 * col_record_end_draft), collect every problem beside its question
 * (bb_form_problems), show the review (bb_form_display), and save it in
 * one durable transaction (col_record_save); and void (col_record_make_void).
 */
#include "col_record.h"
#include "col_store.h"
#include "col_ui.h"
#include "bb_form.h"
#include "bb_json.h"
#include "bb_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EN(env) ((env)->ctx->lang == BB_LANG_EN)
#define TL(env, en, zh) (EN(env) ? (en) : (zh))

/* ---- GET /api/forms/KIND ------------------------------------------------------ */

const struct bb_kind *col_ui_kind(const struct col_ui_env *env, const char *name,
                                          struct col_ui_answer *a, unsigned status)
{
    const bb_catalog *cat = env->ctx->cat;
    const struct bb_kind *k = name ? bb_catalog_kind(cat, name) : NULL;
    char names[400] = "";
    size_t i, used = 0;

    if (k)
        return k;
    for (i = 0; i < bb_catalog_kind_count(cat) && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 bb_catalog_kind_at(cat, i)->name);
    col_ui_fail(a, status, "unknown_kind",
                TL(env, "unknown record kind \"%.60s\"; kinds: %s", "未知的紀錄類別「%.60s」；可用類別：%s"),
                name ? name : "", names);
    return NULL;
}

int col_ui_form_new(const struct col_ui_env *env, const struct bb_kind *k, bb_form **form,
                     struct col_ui_answer *a)
{
    bb_errbuf eb;
    bb_err err;

    memset(&eb, 0, sizeof eb);
    if ((err = bb_form_new(env->ctx->cat, k, env->plan, form, &eb)) != BB_OK) {
        col_ui_fail(a, 500, "internal", "%s", eb.msg[0] ? eb.msg : bb_strerror(err));
        return -1;
    }
    return 0;
}

void col_ui_api_form(const struct col_ui_env *env, const char *name, struct col_ui_answer *a)
{
    const struct bb_kind *k = col_ui_kind(env, name, a, 404);
    bb_form *form = NULL;
    col_store *st = NULL;
    cJSON *o, *defaults, *last = NULL;
    char text[600];
    size_t i;

    if (!k || col_ui_store_take(env, 1, &st, a) != 0)
        return;
    if (col_ui_form_new(env, k, &form, a) != 0) {
        col_ui_store_give(env, st);
        return;
    }
    if (col_store_last(st, k->name, &last, NULL) != BB_OK)
        last = NULL;
    if (!(o = cJSON_CreateObject())) {
        col_ui_reply(a, 500, NULL);
        goto out;
    }
    cJSON_AddItemToObject(o, "form", bb_form_json(form, env->ctx->cat));
    defaults = cJSON_AddObjectToObject(o, "defaults");
    for (i = 0; defaults && i < bb_form_count(form); i++) {
        const struct bb_question *q = bb_form_at(form, i);
        bb_form_default(q, st->org_unit, last, env->ctx->now, text, sizeof text);
        if (text[0])
            cJSON_AddStringToObject(defaults, q->field->name, text);
    }
    cJSON_AddBoolToObject(o, "drafts", strcmp(k->name, "patrol") == 0);
    if (!cJSON_GetObjectItemCaseSensitive(o, "form")) {
        cJSON_Delete(o);
        o = NULL;
    }
    col_ui_reply(a, 200, o);
out:
    cJSON_Delete(last);
    bb_form_free(form);
    col_ui_store_give(env, st);
}

/* ---- building a record from answers ------------------------------------------- */

struct built {
    enum col_ui_mode mode;
    const struct bb_kind *k;
    bb_form *form;
    cJSON *rec;
    cJSON *problems;         /* [{field, message}] */
    long expect_rev;
};

static void built_clear(struct built *b)
{
    bb_form_free(b->form);
    cJSON_Delete(b->rec);
    cJSON_Delete(b->problems);
    memset(b, 0, sizeof *b);
}

static int has_problem(const cJSON *arr, const char *field)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, arr) {
        const char *f = bb_json_str(p, "field");
        if (f && strcmp(f, field) == 0)
            return 1;
    }
    return 0;
}

static void add_problem(cJSON *arr, const char *field, const char *msg)
{
    cJSON *p = cJSON_CreateObject();

    if (!p)
        return;
    cJSON_AddStringToObject(p, "field", field);
    cJSON_AddStringToObject(p, "message", msg);
    cJSON_AddStringToObject(p, "hint", bb_form_hint(msg));   /* shown beside the field */
    cJSON_AddItemToArray(arr, p);
}

/* The typed-in text of one answer; -1 for a value no form sends. */
static int answer_text(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsNull(v)) {
        out[0] = '\0';
        return 0;
    }
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) >= n)
            return -1;
        snprintf(out, n, "%s", v->valuestring);
        return 0;
    }
    if (cJSON_IsBool(v)) {
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
        return 0;
    }
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        snprintf(out, n, "%.15g", v->valuedouble);
        return 0;
    }
    return -1;
}

static int mode_of(const char *s, enum col_ui_mode *m)
{
    static const char *const names[] = {"new", "draft", "edit", "end"};
    size_t i;
    for (i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (enum col_ui_mode)i;
            return 0;
        }
    return -1;
}

/* Top-level keys of a request body: known ones only, so a typo is not ignored. */
static int keys_ok(const struct col_ui_env *env, const cJSON *body, const char *const *allowed,
                   size_t n, struct col_ui_answer *a)
{
    const cJSON *it;
    size_t i;

    cJSON_ArrayForEach(it, body) {
        for (i = 0; i < n; i++)
            if (strcmp(it->string, allowed[i]) == 0)
                break;
        if (i == n) {
            col_ui_fail(a, 400, "unknown_key",
                        TL(env, "unknown key \"%.60s\" in the request", "請求中有未知的鍵「%.60s」"),
                        it->string);
            return -1;
        }
    }
    return 0;
}

/*
 * Build the record a form post describes, exactly as the CLI command of
 * its mode would (add / patrol start / edit / patrol end), and collect every
 * problem with it.  0: b is filled (b->problems may be non-empty); -1: the
 * request itself is wrong, a is the answer.
 */
static int build(const struct col_ui_env *env, col_store *st, enum col_ui_mode mode,
                 const char *kind, const char *id, const cJSON *rev, const cJSON *answers,
                 struct built *b, struct col_ui_answer *a)
{
    struct col_ctx *ctx = env->ctx;
    char *before = NULL, *after = NULL, text[COL_UI_MAX_BODY];
    int occurred_given = 0, anchor_given = 0;
    const cJSON *it;
    cJSON *rules = NULL;
    long cur = -1;
    bb_errbuf eb;
    bb_err err;

    memset(b, 0, sizeof *b);
    memset(&eb, 0, sizeof eb);
    b->mode = mode;
    if (answers && !cJSON_IsObject(answers)) {
        col_ui_fail(a, 400, "malformed", "%s",
                    TL(env, "\"answers\" must be an object {FIELD: text}",
                       "「answers」必須是物件 {欄位: 文字}"));
        return -1;
    }
    if (rev && !cJSON_IsNumber(rev)) {
        col_ui_fail(a, 400, "malformed", "%s", TL(env, "\"rev\" must be a number",
                                                  "「rev」必須是數字"));
        return -1;
    }
    if (!(b->problems = cJSON_CreateArray())) {
        col_ui_reply(a, 500, NULL);
        return -1;
    }
    if (mode == COL_UI_NEW || mode == COL_UI_DRAFT) {
        if (!(b->k = col_ui_kind(env, kind, a, 400)))
            goto fail;
        if (mode == COL_UI_DRAFT && strcmp(b->k->name, "patrol") != 0) {
            col_ui_fail(a, 400, "no_drafts",
                        TL(env, "only a patrol can be started and ended later; %s is saved "
                                "at once",
                           "只有巡邏可以先開始、稍後結束；%s 請直接儲存"),
                        b->k->name);
            goto fail;
        }
        err = col_record_new(ctx, st, b->k, mode == COL_UI_DRAFT ? "draft" : "final",
                             mode == COL_UI_DRAFT ? 0 : 1, &b->rec, &eb);
        b->expect_rev = -1;
    } else {
        if (!id || !*id) {
            col_ui_fail(a, 400, "malformed", "%s", TL(env, "name the record", "請指定紀錄"));
            goto fail;
        }
        err = col_record_load_for_revision(ctx, st, id, &b->rec, &cur, &eb);
        if (err == BB_OK && rev && (long)rev->valuedouble != cur) {
            col_ui_fail(a, 409, "conflict",
                        TL(env, "record %s was changed meanwhile (now revision %ld, the page "
                                "had %ld); reload it and make the change again",
                           "紀錄 %s 已在其他地方被修改（目前第 %ld 版，頁面為第 %ld 版）；"
                           "請重新載入後再修改"),
                        bb_json_str(b->rec, "id"), cur, (long)rev->valuedouble);
            goto fail;
        }
        if (err == BB_OK && mode == COL_UI_END &&
            (strcmp(bb_json_str(b->rec, "kind"), "patrol") != 0 ||
             strcmp(bb_json_str(b->rec, "status"), "draft") != 0)) {
            col_ui_fail(a, 409, "state",
                        TL(env, "%s is not an open patrol", "%s 不是進行中的巡邏"),
                        bb_json_str(b->rec, "id"));
            goto fail;
        }
        if (err == BB_OK && !(b->k = bb_catalog_kind(ctx->cat, bb_json_str(b->rec, "kind")))) {
            col_ui_fail(a, 409, "state",
                        TL(env, "record kind \"%s\" is not known to this version",
                           "此版本不認得紀錄類別「%s」"),
                        bb_json_str(b->rec, "kind"));
            goto fail;
        }
        b->expect_rev = mode == COL_UI_END ? 0 : cur;
    }
    if (err != BB_OK) {
        col_ui_store_fail(a, err, &eb);
        goto fail;
    }
    if (col_ui_form_new(env, b->k, &b->form, a) != 0)
        goto fail;
    if (mode == COL_UI_EDIT && !(before = bb_json_canonical(b->rec))) {
        col_ui_reply(a, 500, NULL);
        goto fail;
    }
    cJSON_ArrayForEach(it, answers) {
        const char *name = it->string;
        const struct bb_question *q = bb_form_find(b->form, name);
        if (!q || q->field->ask_never) {
            memset(&eb, 0, sizeof eb);
            if (q || bb_kind_field(b->k, name))
                snprintf(eb.msg, sizeof eb.msg,
                         TL(env, "%s: field \"%.60s\" is set by the program, not on the form",
                            "%s：欄位「%.60s」由程式設定，不在表單上"),
                         b->k->name, name);
            else if (col_record_is_envelope_key(name) ||
                     col_record_assign(ctx, b->k, b->rec, name, "", &eb) == BB_OK)
                snprintf(eb.msg, sizeof eb.msg,
                         TL(env, "%s: \"%.60s\" is not a question of this form",
                            "%s：「%.60s」不是此表單的欄位"),
                         b->k->name, name);
            col_ui_fail(a, 400, "unknown_field", "%s", eb.msg);
            goto fail;
        }
        if (q->field->type == BB_F_ATTACHMENT && (cJSON_IsArray(it) || cJSON_IsNull(it))) {
            /* Files uploaded first (POST /api/attachments): the value names them. */
            memset(&eb, 0, sizeof eb);
            err = col_record_assign_files(ctx, b->k, b->rec, name, it, &eb);
            if (err == BB_ERR_NOMEM) {
                col_ui_reply(a, 500, NULL);
                goto fail;
            }
            if (err != BB_OK)
                add_problem(b->problems, name, eb.msg);
            continue;
        }
        if (answer_text(it, text, sizeof text) != 0) {
            col_ui_fail(a, 400, "malformed",
                        TL(env, "%s: field \"%s\": send the answer as text",
                           "%s：欄位「%s」：答案請以文字送出"),
                        b->k->name, name);
            goto fail;
        }
        memset(&eb, 0, sizeof eb);
        err = col_record_assign(ctx, b->k, b->rec, name, text, &eb);
        if (err == BB_ERR_NOMEM) {
            col_ui_reply(a, 500, NULL);
            goto fail;
        }
        if (err != BB_OK) {
            add_problem(b->problems, name, eb.msg);
            continue;
        }
        if (strcmp(name, "occurred_at") == 0 && text[0])
            occurred_given = 1;
        if (b->k->occurred_at_from && strcmp(name, b->k->occurred_at_from) == 0)
            anchor_given = 1;
    }
    switch (mode) {
    case COL_UI_DRAFT: {
        /* As `patrol start`: it started when it is recorded unless told otherwise. */
        cJSON *data = cJSON_GetObjectItemCaseSensitive(b->rec, "data");
        if (!cJSON_GetObjectItemCaseSensitive(data, "started_at") &&
            !has_problem(b->problems, "started_at"))
            cJSON_AddStringToObject(data, "started_at", bb_json_str(b->rec, "occurred_at"));
        col_record_anchor(b->k, b->rec, occurred_given);
        break;
    }
    case COL_UI_NEW:
        col_record_anchor(b->k, b->rec, occurred_given);
        break;
    case COL_UI_EDIT:
        if (anchor_given)
            col_record_anchor(b->k, b->rec, occurred_given);
        break;
    case COL_UI_END:
        col_record_end_draft(ctx, b->rec);
        if (anchor_given)
            col_record_anchor(b->k, b->rec, occurred_given);
        break;
    }
    bb_form_prune(b->form, b->rec);
    if (mode == COL_UI_EDIT) {
        if (!(after = bb_json_canonical(b->rec))) {
            col_ui_reply(a, 500, NULL);
            goto fail;
        }
        if (strcmp(before, after) == 0 && cJSON_GetArraySize(b->problems) == 0) {
            char msg[200];
            snprintf(msg, sizeof msg, TL(env, "nothing changed in %s", "%s 沒有任何變更"),
                     bb_json_str(b->rec, "id"));
            add_problem(b->problems, "", msg);
        }
        col_record_next_revision(ctx, b->rec, cur);
    }
    /* Then everything the form model finds; a field keeps its first problem. */
    if (bb_form_problems(b->form, ctx->cat, b->rec, ctx->lang, &rules) != BB_OK) {
        col_ui_reply(a, 500, NULL);
        goto fail;
    }
    cJSON_ArrayForEach(it, rules) {
        const char *field = bb_json_str(it, "field");
        if (field && (!field[0] || !has_problem(b->problems, field)))
            add_problem(b->problems, field, bb_json_str(it, "message"));
    }
    cJSON_Delete(rules);
    free(before);
    free(after);
    return 0;
fail:
    free(before);
    free(after);
    built_clear(b);
    return -1;
}

/* Every answer of rec as the officer reads it, in the form's order. */
static cJSON *review_json(const struct col_ui_env *env, const struct built *b)
{
    cJSON *arr = cJSON_CreateArray();
    char text[1200];
    size_t i;

    for (i = 0; arr && i < bb_form_count(b->form); i++) {
        const struct bb_question *q = bb_form_at(b->form, i);
        const cJSON *v = bb_form_answer(q, b->rec);
        cJSON *o;
        if (!v || !bb_form_relevant(q, b->rec))
            continue;
        bb_form_display(env->ctx->cat, q->field, v, env->ctx->lang, text, sizeof text);
        if (!(o = cJSON_CreateObject()))
            break;
        cJSON_AddStringToObject(o, "name", q->field->name);
        cJSON_AddItemToObject(o, "label", col_ui_label(&q->field->label, q->field->name));
        if (q->page)
            cJSON_AddStringToObject(o, "page", q->page->id);
        cJSON_AddStringToObject(o, "display", text);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static const char *const post_keys[] = {"mode", "kind", "id", "rev", "answers"};

/* POST /api/check: the problems and the review of what a save would store. */
void col_ui_api_check(const struct col_ui_env *env, const cJSON *body, struct col_ui_answer *a)
{
    struct built b;
    col_store *st = NULL;
    enum col_ui_mode mode;
    cJSON *o;

    if (keys_ok(env, body, post_keys, 5, a) != 0)
        return;
    if (mode_of(bb_json_str(body, "mode"), &mode) != 0) {
        col_ui_fail(a, 400, "malformed", "%s",
                    TL(env, "\"mode\" is one of new, draft, edit, end",
                       "「mode」須為 new、draft、edit 或 end"));
        return;
    }
    if (col_ui_store_take(env, 1, &st, a) != 0)
        return;
    if (build(env, st, mode, bb_json_str(body, "kind"), bb_json_str(body, "id"),
              cJSON_GetObjectItemCaseSensitive(body, "rev"),
              cJSON_GetObjectItemCaseSensitive(body, "answers"), &b, a) != 0) {
        col_ui_store_give(env, st);
        return;
    }
    col_ui_store_give(env, st);
    if ((o = cJSON_CreateObject()) != NULL) {
        cJSON_AddItemToObject(o, "problems", b.problems);
        b.problems = NULL;
        cJSON_AddItemToObject(o, "review", review_json(env, &b));
        cJSON_AddStringToObject(o, "status", bb_json_str(b.rec, "status"));
        cJSON_AddItemToObject(o, "kind_label", col_ui_label(&b.k->label, b.k->name));
    }
    col_ui_reply(a, 200, o);
    built_clear(&b);
}

/* Save what build() made: 422 with every problem, else one durable transaction. */
static void save_built(const struct col_ui_env *env, col_store *st, struct built *b,
                       unsigned ok_status, struct col_ui_answer *a)
{
    char line[300];
    bb_errbuf eb;
    bb_err err;
    cJSON *o;

    if (cJSON_GetArraySize(b->problems) > 0) {
        const cJSON *first = cJSON_GetArrayItem(b->problems, 0);
        if (!(o = cJSON_CreateObject())) {
            col_ui_reply(a, 500, NULL);
            return;
        }
        cJSON_AddStringToObject(o, "error", "invalid");
        cJSON_AddStringToObject(o, "message", bb_json_str(first, "message"));
        cJSON_AddItemToObject(o, "problems", b->problems);
        b->problems = NULL;
        col_ui_reply(a, 422, o);
        return;
    }
    memset(&eb, 0, sizeof eb);
    if ((err = col_record_save(env->ctx, st, b->rec, b->expect_rev, &eb)) != BB_OK) {
        if (err == BB_ERR_INVALID && (o = cJSON_CreateObject()) != NULL) {
            cJSON *p = cJSON_AddArrayToObject(o, "problems");
            cJSON_AddStringToObject(o, "error", "invalid");
            cJSON_AddStringToObject(o, "message", eb.msg);
            add_problem(p, "", eb.msg);
            col_ui_reply(a, 422, o);
            return;
        }
        col_ui_store_fail(a, err, &eb);
        return;
    }
    col_record_saved_line(env->ctx, b->rec, line, sizeof line);
    if (!(o = cJSON_CreateObject())) {
        col_ui_reply(a, 500, NULL);
        return;
    }
    cJSON_AddStringToObject(o, "id", bb_json_str(b->rec, "id"));
    cJSON_AddStringToObject(o, "status", bb_json_str(b->rec, "status"));
    cJSON_AddNumberToObject(o, "rev", cJSON_GetObjectItemCaseSensitive(b->rec, "rev")->valuedouble);
    cJSON_AddStringToObject(o, "message", line);
    cJSON_AddItemToObject(o, "record", cJSON_Duplicate(b->rec, 1));
    col_ui_reply(a, ok_status, o);
}

/* POST /api/records (new, draft) and /api/records/ID/edit|end. */
void col_ui_api_save(const struct col_ui_env *env, const cJSON *body, const char *id,
                     enum col_ui_mode forced, struct col_ui_answer *a)
{
    struct built b;
    col_store *st = NULL;
    enum col_ui_mode mode = forced;
    const char *m = bb_json_str(body, "mode");

    if (keys_ok(env, body, post_keys, 5, a) != 0)
        return;
    if (!id) {
        if (!m)
            mode = COL_UI_NEW;
        else if (mode_of(m, &mode) != 0 || (mode != COL_UI_NEW && mode != COL_UI_DRAFT)) {
            col_ui_fail(a, 400, "malformed", "%s",
                        TL(env, "\"mode\" is new or draft here", "此處「mode」須為 new 或 draft"));
            return;
        }
    } else if (m && (mode_of(m, &mode) != 0 || mode != forced)) {
        col_ui_fail(a, 400, "malformed", "%s", TL(env, "\"mode\" does not match the address",
                                                  "「mode」與網址不符"));
        return;
    }
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "answers")) && mode != COL_UI_END) {
        col_ui_fail(a, 400, "malformed", "%s", TL(env, "send the answers: {\"answers\": {FIELD: text}}",
                                                  "請送出答案：{\"answers\": {欄位: 文字}}"));
        return;
    }
    if (col_ui_store_take(env, 0, &st, a) != 0)
        return;
    if (build(env, st, mode, bb_json_str(body, "kind"), id,
              cJSON_GetObjectItemCaseSensitive(body, "rev"),
              cJSON_GetObjectItemCaseSensitive(body, "answers"), &b, a) == 0) {
        save_built(env, st, &b, id ? 200 : 201, a);
        built_clear(&b);
    }
    col_ui_store_give(env, st);
}

/* POST /api/records/ID/void {rev, reason} */
void col_ui_api_void(const struct col_ui_env *env, const cJSON *body, const char *id,
                     struct col_ui_answer *a)
{
    static const char *const keys[] = {"rev", "reason"};
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(body, "rev");
    const cJSON *jr = cJSON_GetObjectItemCaseSensitive(body, "reason");
    struct built b;
    col_store *st = NULL;
    const char *reason;
    long cur;
    bb_errbuf eb;
    bb_err err;

    if (keys_ok(env, body, keys, 2, a) != 0)
        return;
    if ((jr && !cJSON_IsString(jr)) || (rev && !cJSON_IsNumber(rev))) {
        col_ui_fail(a, 400, "malformed", "%s", TL(env, "send {\"rev\": n, \"reason\": text}",
                                                  "請送出 {\"rev\": 版次, \"reason\": 原因}"));
        return;
    }
    reason = jr ? jr->valuestring : "";
    while (*reason == ' ' || *reason == '\t' || *reason == '\n')
        reason++;
    memset(&b, 0, sizeof b);
    if (!(b.problems = cJSON_CreateArray())) {
        col_ui_reply(a, 500, NULL);
        return;
    }
    if (!*reason) {
        add_problem(b.problems, "reason", TL(env, "say why the record is void: a reason is required",
                                             "請說明作廢原因：原因必填"));
        save_built(env, NULL, &b, 200, a);
        built_clear(&b);
        return;
    }
    if (col_ui_store_take(env, 0, &st, a) != 0) {
        built_clear(&b);
        return;
    }
    memset(&eb, 0, sizeof eb);
    if ((err = col_record_load_for_revision(env->ctx, st, id, &b.rec, &cur, &eb)) != BB_OK) {
        col_ui_store_fail(a, err, &eb);
    } else if (rev && (long)rev->valuedouble != cur) {
        col_ui_fail(a, 409, "conflict",
                    TL(env, "record %s was changed meanwhile (now revision %ld); reload it",
                       "紀錄 %s 已在其他地方被修改（目前第 %ld 版）；請重新載入"),
                    bb_json_str(b.rec, "id"), cur);
    } else {
        col_record_make_void(env->ctx, b.rec, &cur, reason);
        b.expect_rev = cur;
        memset(&eb, 0, sizeof eb);
        if (bb_record_validate(env->ctx->cat, b.rec, env->ctx->lang, &eb) != BB_OK)
            add_problem(b.problems, "reason", eb.msg);
        save_built(env, st, &b, 200, a);
    }
    built_clear(&b);
    col_ui_store_give(env, st);
}
