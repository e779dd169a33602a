/*
 * col_prompt.c — the terminal form: the questions of a kind (bb_form.h)
 * asked one by one, then the whole record for review before it is saved.
 *
 * Every asked field is offered in order; Enter takes the default or skips
 * an optional question; "-" clears an answer; "?" lists a reference list or
 * menu again.  Enums are chosen by number, code or label in either language;
 * reference fields by number, code, name, alias or any part of a name that
 * narrows the list to one.  An attachment question takes paths of files
 * (separated by spaces; quotes or a backslash keep a space in a name), each
 * added to the files already there; "-" removes them all.  Values are
 * turned into JSON by bb_record_coerce,
 * the same code the FIELD=VALUE arguments and the forms page use, and the
 * record is checked by the same rules HQ applies.
 */
#include "col_attach.h"
#include "col_record.h"
#include "bb_form.h"
#include "bb_json.h"
#include "bb_record.h"
#include "bb_rules.h"
#include "bb_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MENU_MAX 400   /* the longest reference list shown in full (units: ~112) */

struct prompt {
    struct col_ctx *ctx;
    const struct bb_kind *k;
    bb_form *form;
    cJSON *rec;
    cJSON *last;            /* data of the last record of this kind, for "last" defaults */
    const char *unit;       /* the officer's unit */
    char *line;
    size_t cap;
    const char *page;       /* the page being asked, or NULL for all */
    size_t *asked;          /* form indexes of the questions asked, in order */
    size_t nasked;          /* a question's number is its place here, from 1 */
};

/* One line from stdin without its newline; -1 at end of input. */
static int read_line(struct prompt *p)
{
    ssize_t n;
    fflush(stdout);
    n = getline(&p->line, &p->cap, stdin);
    if (n < 0)
        return -1;
    while (n > 0 && (p->line[n - 1] == '\n' || p->line[n - 1] == '\r'))
        p->line[--n] = '\0';
    /* Leading and trailing blanks are never meant. */
    while (n > 0 && (p->line[n - 1] == ' ' || p->line[n - 1] == '\t'))
        p->line[--n] = '\0';
    return (int)strspn(p->line, " \t");
}

static void set_answer(struct prompt *p, const struct bb_question *q, cJSON *v)
{
    cJSON *obj = q->envelope ? p->rec : cJSON_GetObjectItemCaseSensitive(p->rec, "data");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, q->field->name);
    if (v)
        cJSON_AddItemToObject(obj, q->field->name, v);
}

static int contains_fold(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int item_matches(const struct bb_ref_item *it, const char *text)
{
    size_t i;
    if (contains_fold(it->code, text) || contains_fold(it->label.zh, text) ||
        contains_fold(it->label.en, text))
        return 1;
    for (i = 0; i < it->naliases; i++)
        if (contains_fold(it->aliases[i], text))
            return 1;
    return 0;
}

/* The items of a reference list that match text ("" matches all), numbered. */
static size_t ref_menu(struct prompt *p, const struct bb_field *f, const char *text,
                       const struct bb_ref_item **menu, size_t max, int show)
{
    size_t i, n = bb_catalog_ref_count(p->ctx->cat, f->ref), m = 0;
    for (i = 0; i < n && m < max; i++) {
        const struct bb_ref_item *it = bb_catalog_ref_at(p->ctx->cat, f->ref, i);
        if (*text && !item_matches(it, text))
            continue;
        menu[m++] = it;
        if (show)
            printf("  %3zu) %s  %s\n", m, it->code, bb_label(&it->label, p->ctx->lang, ""));
    }
    return m;
}

static void show_enum(struct prompt *p, const struct bb_field *f)
{
    size_t i;
    for (i = 0; i < f->nvalues; i++)
        printf("  %2zu) %s\n", i + 1, bb_label(&f->values[i].label, p->ctx->lang,
                                              f->values[i].code));
}

/* How to answer a question of this type, in a few words. */
static void show_hint(struct prompt *p, const struct bb_question *q)
{
    struct col_ctx *ctx = p->ctx;
    const struct bb_field *f = q->field;
    switch (f->type) {
    case BB_F_ENUM:
        show_enum(p, f);
        printf("  %s\n", T(ctx, "(a number, or the name)", "（輸入號碼或名稱）"));
        break;
    case BB_F_BOOLEAN:
        printf("  %s\n", T(ctx, "y = yes, n = no", "y = 是，n = 否"));
        break;
    case BB_F_DATETIME:
        printf("  %s\n", T(ctx, "e.g. now, 14:20, 2018-03-15 14:20, 107/03/15 14:20",
                           "例如 now（現在）、14:20、107/03/15 14:20、2018-03-15 14:20"));
        break;
    case BB_F_REF: {
        const struct bb_ref_item *menu[MENU_MAX];
        size_t n = bb_catalog_ref_count(ctx->cat, f->ref);
        if (n <= 12)
            ref_menu(p, f, "", menu, MENU_MAX, 1);
        printf("  %s\n", n <= 12 ? T(ctx, "(a number, a name or a code)",
                                     "（輸入號碼、名稱或代碼）")
                                 : T(ctx, "(type part of a name or code to narrow the list, "
                                          "? to see it all)",
                                     "（輸入部分名稱或代碼以縮小範圍，輸入 ? 列出全部）"));
        break;
    }
    case BB_F_INTEGER:
    case BB_F_NUMBER:
        if (f->has_min && f->has_max)
            printf(T(ctx, "  a number, %g–%g\n", "  數字，%g–%g\n"), f->min, f->max);
        break;
    case BB_F_ATTACHMENT:
        printf("  %s\n", T(ctx, "(paths of files, separated by spaces, added to those already "
                                "here; - removes them all)",
                           "（輸入檔案路徑，以空白分隔，會加在已有的檔案之後；輸入 - 全部移除）"));
        break;
    case BB_F_GEO:
    case BB_F_TEXT:
        break;
    }
}

/* The question's heading: "[3/9] 死亡人數 (deaths) 必填 — help". */
static void show_question(struct prompt *p, const struct bb_question *q, size_t no, size_t total,
                          const char *dflt)
{
    struct col_ctx *ctx = p->ctx;
    const struct bb_field *f = q->field;
    int req = bb_form_required(q, p->rec);

    printf("\n[%zu/%zu] %s (%s)%s", no, total, bb_label(&f->label, ctx->lang, f->name), f->name,
           req ? T(ctx, " required", "（必填）") : T(ctx, " optional", "（選填）"));
    if (f->help.zh || f->help.en)
        printf(" — %s", bb_label(&f->help, ctx->lang, ""));
    printf("\n");
    if (q->kpi_note.zh)
        printf("  ! %s\n", bb_label(&q->kpi_note, ctx->lang, ""));
    show_hint(p, q);
    if (*dflt)
        printf("%s[%s] > ", T(ctx, "Enter keeps ", "按 Enter 採用 "), dflt);
    else if (!req)
        printf("%s> ", T(ctx, "(Enter skips) ", "（按 Enter 跳過）"));
    else
        printf("> ");
}

/*
 * Turn an answer into the field's JSON value: a menu number, then whatever
 * bb_record_coerce takes.  A reference text that several entries match is
 * shown as a numbered menu to choose from (*menu_n > 0).
 */
/*
 * The next path of a typed list, shell-like: blanks separate, '...' and
 * "..." keep blanks, a backslash (outside '...') takes the next character
 * as it is.  Returns the text after it, or NULL when no path is left;
 * BB_ERR_USAGE in *err for an unclosed quote.
 */
static const char *next_path(const char *s, char *out, size_t n, bb_err *err)
{
    size_t used = 0;
    char quote = 0;

    *err = BB_OK;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return NULL;
    for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
        if (!quote && (*s == '\'' || *s == '"')) {
            quote = *s;
            continue;
        }
        if (quote && *s == quote) {
            quote = 0;
            continue;
        }
        if (*s == '\\' && quote != '\'' && s[1])
            s++;
        if (used + 1 < n)
            out[used++] = *s;
    }
    out[used] = '\0';
    if (quote)
        *err = BB_ERR_USAGE;
    return s;
}

/*
 * Files typed at an attachment question: each taken into the store and
 * added to the ones the record already has; *out is the new value.
 */
static bb_err take_files(struct prompt *p, const struct bb_question *q, const char *text,
                         cJSON **out, bb_errbuf *eb)
{
    const cJSON *have = bb_form_answer(q, p->rec);
    cJSON *scratch = cJSON_CreateObject(), *data;
    char path[4096];
    bb_err err = BB_OK;

    *out = NULL;
    if (!scratch || !(data = cJSON_AddObjectToObject(scratch, "data")) ||
        (have && !cJSON_AddItemToObject(data, q->field->name, cJSON_Duplicate(have, 1)))) {
        cJSON_Delete(scratch);
        return BB_ERR_NOMEM;
    }
    while ((text = next_path(text, path, sizeof path, &err)) != NULL && err == BB_OK) {
        struct col_attach_file file;
        if ((err = col_attach_capture(p->ctx, p->k, q->field, path, &file, eb)) != BB_OK ||
            (err = col_attach_append(p->ctx, p->k, q->field, scratch, &file, 1, eb)) != BB_OK)
            break;
    }
    if (err == BB_ERR_USAGE)
        bb_fail(eb, err, T(p->ctx, "a quote is not closed; write a path with spaces as "
                                   "\"my photo.jpg\"",
                           "引號沒有成對；含空白的路徑請寫成 \"my photo.jpg\""));
    if (err == BB_OK)
        *out = cJSON_DetachItemFromObjectCaseSensitive(data, q->field->name);
    cJSON_Delete(scratch);
    /* BB_ERR_NOTFOUND means "shown, ask again" to ask(): a missing file is a
     * bad answer, whose message must be shown. */
    return err == BB_ERR_NOTFOUND ? BB_ERR_INVALID : err;
}

static bb_err interpret(struct prompt *p, const struct bb_question *q, const char *text,
                        const struct bb_ref_item **menu, size_t *menu_n, cJSON **out,
                        bb_errbuf *eb)
{
    const struct bb_field *f = q->field;
    char *end;
    long idx = strtol(text, &end, 10);
    int is_number = end != text && *end == '\0';

    *out = NULL;
    if (f->type == BB_F_ATTACHMENT)
        return take_files(p, q, text, out, eb);
    if (f->type == BB_F_REF) {
        if (is_number && *menu_n > 0) {
            if (idx < 1 || (size_t)idx > *menu_n)
                return bb_fail(eb, BB_ERR_INVALID, T(p->ctx, "choose a number from 1 to %zu",
                                                     "請輸入 1 到 %zu 的號碼"), *menu_n);
            text = menu[idx - 1]->code;
        } else if (is_number && bb_catalog_ref_count(p->ctx->cat, f->ref) <= 12) {
            *menu_n = ref_menu(p, f, "", menu, MENU_MAX, 0);
            if (idx < 1 || (size_t)idx > *menu_n)
                return bb_fail(eb, BB_ERR_INVALID, T(p->ctx, "choose a number from 1 to %zu",
                                                     "請輸入 1 到 %zu 的號碼"), *menu_n);
            text = menu[idx - 1]->code;
        } else if (strcmp(text, "?") == 0) {
            *menu_n = ref_menu(p, f, "", menu, MENU_MAX, 1);
            return BB_ERR_NOTFOUND;   /* shown; ask again */
        }
        if (bb_record_coerce(p->ctx->cat, p->k, f, text, p->ctx->now, 0, p->ctx->lang, out,
                             eb) == BB_OK)
            return BB_OK;
        /* Not one entry: narrow the list to what matches and let them choose. */
        {
            const struct bb_ref_item *found[MENU_MAX];
            size_t n = ref_menu(p, f, text, found, MENU_MAX, 0);
            if (n > 1) {
                printf("  %s\n", T(p->ctx, "several match; choose a number or type more:",
                                  "符合多筆；請輸入號碼或更完整的名稱："));
                memcpy(menu, found, n * sizeof *found);
                *menu_n = ref_menu(p, f, text, menu, MENU_MAX, 1);
                return BB_ERR_NOTFOUND;
            }
        }
        return BB_ERR_INVALID;
    }
    if (f->type == BB_F_ENUM && strcmp(text, "?") == 0) {
        show_enum(p, f);
        return BB_ERR_NOTFOUND;
    }
    if (f->type == BB_F_ENUM && is_number && (idx < 1 || (size_t)idx > f->nvalues))
        return bb_fail(eb, BB_ERR_INVALID, T(p->ctx, "choose a number from 1 to %zu",
                                             "請輸入 1 到 %zu 的號碼"), f->nvalues);
    return bb_record_coerce(p->ctx->cat, p->k, f, text, p->ctx->now, 1, p->ctx->lang, out, eb);
}

/* The names a rule reads (when + require). */
static int rule_reads(const struct bb_rule *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->nwhen; i++)
        if (strcmp(r->when[i].field, name) == 0 ||
            (r->when[i].other && strcmp(r->when[i].other, name) == 0))
            return 1;
    for (i = 0; i < r->nrequire; i++)
        if (strcmp(r->require[i].field, name) == 0 ||
            (r->require[i].other && strcmp(r->require[i].other, name) == 0))
            return 1;
    return 0;
}

/*
 * A rule broken by the answers so far that blames question `qi`, once every
 * question the rule reads has been asked (so "choose an intersection or
 * fill in the place" waits for the place).  The message goes to eb.
 */
static int rule_broken_at(struct prompt *p, size_t qi, const char **blamed, bb_errbuf *eb)
{
    const struct bb_question *q = bb_form_at(p->form, qi);
    size_t r, j;

    for (r = 0; r < p->k->nrules; r++) {
        const struct bb_rule *rule = &p->k->rules[r];
        int later = 0;
        for (j = qi + 1; j < bb_form_count(p->form); j++)
            if (rule_reads(rule, bb_form_at(p->form, j)->field->name) &&
                bb_form_relevant(bb_form_at(p->form, j), p->rec))
                later = 1;
        if (later || !rule_reads(rule, q->field->name))
            continue;
        if (bb_rule_check(p->k, rule, p->rec, p->ctx->lang, blamed, eb) != BB_OK)
            return 1;
    }
    return 0;
}

/* The number a question is shown with: its place among the asked, from 1. */
static size_t number_of(const struct prompt *p, size_t qi)
{
    size_t i;
    for (i = 0; i < p->nasked; i++)
        if (p->asked[i] == qi)
            return i + 1;
    return qi + 1;
}

/* The value of q as the default when editing: as it would be typed. */
static void current_as_text(struct prompt *p, const struct bb_question *q, char *out, size_t n)
{
    const cJSON *v = bb_form_answer(q, p->rec);
    out[0] = '\0';
    if (!v)
        return;
    /* Labels, 107/03/15 14:20 and "2 張照片：…" read back as they are shown
     * (files are kept by Enter, never typed back). */
    if (q->field->type == BB_F_DATETIME || q->field->type == BB_F_ENUM ||
        q->field->type == BB_F_BOOLEAN || q->field->type == BB_F_ATTACHMENT) {
        bb_form_display(p->ctx->cat, q->field, v, p->ctx->lang, out, n);
        return;
    }
    if (cJSON_IsString(v))
        snprintf(out, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, n, "%.15g", v->valuedouble);
    else
        bb_form_display(p->ctx->cat, q->field, v, BB_LANG_EN, out, n);
    /* "24.147700, 120.673600" reads back as a location without the space. */
    if (q->field->type == BB_F_GEO) {
        char *sp = strstr(out, ", ");
        if (sp)
            memmove(sp + 1, sp + 2, strlen(sp + 2) + 1);
    }
}

/*
 * Ask question qi until it has an acceptable answer (or is skipped).  When
 * the answer breaks a rule that blames an earlier question ("A3: deaths must
 * be 0" after the injuries), that question is asked again (depth: how deep
 * such re-asking already is).
 */
static bb_err ask(struct prompt *p, size_t qi, size_t no, size_t total, int edit, int depth,
                  bb_errbuf *eb)
{
    const struct bb_question *q = bb_form_at(p->form, qi);
    const struct bb_ref_item *menu[MENU_MAX];
    size_t menu_n = 0, bi;
    const char *blamed = NULL;
    char dflt[256];
    int keep;   /* the default is the current answer: Enter keeps it as stored */

    keep = edit || bb_form_answer(q, p->rec);
    if (keep)
        current_as_text(p, q, dflt, sizeof dflt);
    else
        bb_form_default(q, p->unit, p->last, p->ctx->now, dflt, sizeof dflt);
    show_question(p, q, no, total, dflt);
    for (;;) {
        bb_errbuf why;
        cJSON *v = NULL;
        const char *text;
        int lead = read_line(p);
        bb_err err;

        if (lead < 0)
            return bb_fail(eb, BB_ERR_USAGE, T(p->ctx, "%s: input ended; nothing was saved",
                                               "%s：輸入中止；未儲存任何資料"), p->k->name);
        text = p->line + lead;
        memset(&why, 0, sizeof why);
        if (strcmp(text, "-") == 0) {
            if (bb_form_required(q, p->rec)) {
                printf("  %s\n> ", T(p->ctx, "this field is required", "此欄位必填"));
                continue;
            }
            set_answer(p, q, NULL);
            return BB_OK;
        }
        if (!*text) {
            /* Keep the stored value itself: its text form may be shorter (no seconds). */
            if (*dflt && keep && bb_form_answer(q, p->rec))
                return BB_OK;
            if (*dflt)
                text = dflt;
            else if (!bb_form_required(q, p->rec)) {
                set_answer(p, q, NULL);
                return BB_OK;
            } else {
                printf("  %s\n> ", T(p->ctx, "this field is required; type a value",
                                     "此欄位必填，請輸入"));
                continue;
            }
        }
        err = interpret(p, q, text, menu, &menu_n, &v, &why);
        if (err == BB_ERR_NOTFOUND) {
            printf("> ");
            continue;
        }
        if (err != BB_OK) {
            printf("  %s\n> ", why.msg[0] ? why.msg : bb_strerror(err));
            continue;
        }
        set_answer(p, q, v);
        bb_form_prune(p->form, p->rec);
        if (!rule_broken_at(p, qi, &blamed, &why))
            return BB_OK;
        printf("  %s\n", why.msg);
        for (bi = 0; blamed && bi < qi; bi++)
            if (strcmp(bb_form_at(p->form, bi)->field->name, blamed) == 0)
                break;
        if (blamed && bi < qi && depth < 3) {
            bb_err err2 = ask(p, bi, number_of(p, bi), total, 1, depth + 1, eb);
            if (err2 != BB_OK || !rule_broken_at(p, qi, &blamed, &why))
                return err2;
            /* Still broken: this answer is the one to change. */
            show_question(p, q, no, total, "");
            continue;
        }
        printf("> ");
    }
}

/* The whole record, numbered as the questions are, with its problems. */
static void show_summary(struct prompt *p, cJSON *problems)
{
    struct col_ctx *ctx = p->ctx;
    size_t i;
    const cJSON *pr;

    printf("\n── %s\n", bb_label(&p->k->label, ctx->lang, p->k->name));
    for (i = 0; i < p->nasked; i++) {
        const struct bb_question *q = bb_form_at(p->form, p->asked[i]);
        char shown[600];
        if (!bb_form_relevant(q, p->rec))
            continue;
        bb_form_display(ctx->cat, q->field, bb_form_answer(q, p->rec), ctx->lang, shown,
                        sizeof shown);
        printf("  %2zu ", i + 1);
        bb_text_pad(stdout, bb_label(&q->field->label, ctx->lang, q->field->name), 22);
        printf(" %s\n", shown[0] ? shown : T(ctx, "(empty)", "（未填）"));
        if (!shown[0] && q->kpi_note.zh)
            printf("       ! %s\n", bb_label(&q->kpi_note, ctx->lang, ""));
    }
    cJSON_ArrayForEach(pr, problems)
        printf("  × %s\n", bb_json_str(pr, "message"));
}

/* Whether question q is on the page being asked. */
static int on_page(const struct bb_question *q, const char *page)
{
    return !page || !q->page || strcmp(q->page->id, page) == 0;
}

bb_err col_prompt_form(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                       cJSON *rec, const char *page, int edit, bb_errbuf *eb)
{
    struct prompt p;
    bb_plan *plan = NULL;
    const char *from;
    cJSON *problems = NULL;
    size_t i, no;
    bb_err err;

    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    p.k = k;
    p.rec = rec;
    p.unit = st->org_unit;
    if (col_load_plan(ctx, st, &plan, &from, NULL) != BB_OK)
        plan = NULL;   /* without a plan the form has no KPI notes, nothing else */
    if ((err = bb_form_new(ctx->cat, k, plan, &p.form, eb)) != BB_OK)
        goto out;
    if ((err = col_store_last(st, k->name, &p.last, eb)) != BB_OK)
        goto out;
    p.page = page;
    if (!(p.asked = calloc(bb_form_count(p.form), sizeof *p.asked))) {
        err = bb_fail(eb, BB_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < bb_form_count(p.form); i++)
        if (on_page(bb_form_at(p.form, i), page) && !bb_form_at(p.form, i)->field->ask_never)
            p.asked[p.nasked++] = i;
    printf("%s — %s\n", bb_label(&k->label, ctx->lang, k->name),
           bb_label(&k->description, ctx->lang, ""));
    printf("%s\n", T(ctx, "Enter takes the value in [ ] or skips an optional field; - clears "
                          "it; Ctrl-D stops without saving.",
                     "按 Enter 採用 [ ] 中的值或跳過選填欄位；輸入 - 清除；Ctrl-D 不儲存並離開。"));
    for (no = 0; no < p.nasked; no++) {
        const struct bb_question *q = bb_form_at(p.form, p.asked[no]);
        if (!bb_form_relevant(q, rec) || (!edit && bb_form_answer(q, rec)))
            continue;
        if ((err = ask(&p, p.asked[no], no + 1, p.nasked, edit, 0, eb)) != BB_OK)
            goto out;
    }
    /* Review: save, stop, or change a field by its number. */
    for (;;) {
        int lead;
        long pick;
        char *end;
        cJSON_Delete(problems);
        if ((err = bb_form_problems(p.form, ctx->cat, rec, ctx->lang, &problems)) != BB_OK)
            goto out;
        show_summary(&p, problems);
        if (cJSON_GetArraySize(problems) > 0)
            printf("%s", T(ctx, "Fix before saving: the field's number (n stops) > ",
                           "儲存前請修正：輸入欄位號碼（n 放棄）> "));
        else
            printf("%s", T(ctx, "Save? [Y/n/field number to change] ",
                           "儲存？[Y/n/修改欄位號碼] "));
        if ((lead = read_line(&p)) < 0) {
            err = bb_fail(eb, BB_ERR_USAGE, T(ctx, "%s: input ended; nothing was saved",
                                              "%s：輸入中止；未儲存任何資料"), k->name);
            goto out;
        }
        if (strcasecmp(p.line + lead, "n") == 0 || strcasecmp(p.line + lead, "no") == 0 ||
            strcmp(p.line + lead, "否") == 0) {
            err = bb_fail(eb, BB_ERR_USAGE, T(ctx, "%s: not saved", "%s：未儲存"), k->name);
            goto out;
        }
        if (cJSON_GetArraySize(problems) == 0 &&
            (!p.line[lead] || strcasecmp(p.line + lead, "y") == 0 ||
             strcasecmp(p.line + lead, "yes") == 0 || strcmp(p.line + lead, "是") == 0))
            break;
        pick = strtol(p.line + lead, &end, 10);
        if (end != p.line + lead && !*end && pick >= 1 && (size_t)pick <= p.nasked &&
            bb_form_relevant(bb_form_at(p.form, p.asked[pick - 1]), rec)) {
            if ((err = ask(&p, p.asked[pick - 1], (size_t)pick, p.nasked, 1, 0, eb)) != BB_OK)
                goto out;
            /* A changed answer may make later questions relevant: ask those now. */
            for (no = 0; no < p.nasked; no++) {
                const struct bb_question *q = bb_form_at(p.form, p.asked[no]);
                if (bb_form_relevant(q, rec) && !bb_form_answer(q, rec) &&
                    bb_form_required(q, rec) &&
                    (err = ask(&p, p.asked[no], no + 1, p.nasked, 0, 0, eb)) != BB_OK)
                    goto out;
            }
            continue;
        }
        printf("%s\n", cJSON_GetArraySize(problems) > 0
                            ? T(ctx, "  not saved yet: type the number of a field to correct "
                                     "(or n)", "  尚未儲存：請輸入要修正的欄位號碼（或 n）")
                            : T(ctx, "  answer y, n, or the number of a field above",
                                "  請輸入 y、n，或上方欄位的號碼"));
    }
    err = BB_OK;
out:
    cJSON_Delete(problems);
    free(p.asked);
    cJSON_Delete(p.last);
    bb_form_free(p.form);
    bb_plan_free(plan);
    free(p.line);
    return err;
}

bb_err col_prompt_kind(struct col_ctx *ctx, const struct bb_kind **out, bb_errbuf *eb)
{
    size_t i, n = bb_catalog_kind_count(ctx->cat);
    char *line = NULL, *end;
    size_t cap = 0;
    ssize_t len;
    long pick;

    *out = NULL;
    printf("%s\n", T(ctx, "What do you want to record?", "要記錄哪一類？"));
    for (i = 0; i < n; i++)
        printf("  %zu) %s\n", i + 1, bb_label(&bb_catalog_kind_at(ctx->cat, i)->label, ctx->lang,
                                             bb_catalog_kind_at(ctx->cat, i)->name));
    for (;;) {
        printf("> ");
        fflush(stdout);
        if ((len = getline(&line, &cap, stdin)) < 0) {
            free(line);
            return bb_fail(eb, BB_ERR_USAGE, T(ctx, "input ended; nothing was saved",
                                               "輸入中止；未儲存任何資料"));
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        pick = strtol(line, &end, 10);
        if (end != line && !*end && pick >= 1 && (size_t)pick <= n) {
            *out = bb_catalog_kind_at(ctx->cat, (size_t)pick - 1);
            break;
        }
        for (i = 0; i < n && len > 0; i++) {
            const struct bb_kind *k = bb_catalog_kind_at(ctx->cat, i);
            if (strcmp(line, k->name) == 0 || (k->label.zh && strcmp(line, k->label.zh) == 0) ||
                (k->label.en && strcasecmp(line, k->label.en) == 0))
                *out = k;
        }
        if (*out)
            break;
        printf(T(ctx, "  choose a number from 1 to %zu\n", "  請輸入 1 到 %zu 的號碼\n"), n);
    }
    free(line);
    return BB_OK;
}
