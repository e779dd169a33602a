/*
 * col_entry.c — the commands that write: init, add (one record, or an
 * import of many), patrol start/end, edit and void.
 *
 * Every command builds complete records in memory, validates all of them
 * with the shared rules (bb_record_validate, the same HQ applies), and only
 * then writes them in one transaction.  So a bad value, a truncated import or
 * a crash midway stores nothing.
 */
#include "col_cli.h"
#include "col_record.h"
#include "col_store.h"
#include "bb_json.h"
#include "bb_rand.h"
#include "bb_record.h"
#include "bb_time.h"
#include "bb_uuid.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMPORT_MAX_BYTES ((size_t)1 << 30)   /* 1 GiB of JSON per import */
#define IMPORT_MAX_RECORDS 2000000

/* ---- init ---- */

bb_err col_cmd_init(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"officer", required_argument, NULL, 'o'},
        {"org-unit", required_argument, NULL, 'u'},
        {"enroll", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *officer = NULL, *unit = NULL, *enroll = NULL;
    const struct bb_ref_item *u;
    unsigned char rnd[8];
    char device[32];
    bb_err err;
    int c;
    size_t i;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': officer = optarg; break;
        case 'u': unit = optarg; break;
        case 'e': enroll = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook init --enroll FILE --officer ID\n"
                    "       beatbook init --officer ID --org-unit CODE\n"
                    "Create this laptop's store in $BEATBOOK_HOME (default ~/.local/share/beatbook).\n"
                    "ID is the officer's badge or ID number; CODE an org unit (see: beatbook ref units).\n"
                    "With --enroll, FILE is the enrollment file from HQ (beatbook-hq device enroll):\n"
                    "its signature is checked, the device id and org unit come from it, and the\n"
                    "laptop's signing key is made in $BEATBOOK_HOME/device.key.  Such a store can\n"
                    "seal and sync (beatbook-syncd); one made without --enroll can only record.\n",
                    "用法：beatbook init --enroll FILE --officer ID\n"
                    "      beatbook init --officer ID --org-unit CODE\n"
                    "在 $BEATBOOK_HOME（預設 ~/.local/share/beatbook）建立本機資料庫。\n"
                    "ID 為員警的警號或身分證號；CODE 為單位代碼（請見：beatbook ref units）。\n"
                    "使用 --enroll 時，FILE 為總局發給的註冊檔（beatbook-hq device enroll）：\n"
                    "會先檢查總局的簽章，裝置編號與單位取自該檔，並在\n"
                    "$BEATBOOK_HOME/device.key 產生本機的簽章金鑰。這樣的資料庫可以\n"
                    "封裝並同步（beatbook-syncd）；未使用 --enroll 建立的資料庫只能記錄。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "init", c, argv);
        }
    }
    if (optind < argc)
        return col_usage(ctx, eb, "init", T(ctx, "unexpected argument", "多了參數"));
    if (enroll && unit)
        return col_usage(ctx, eb, "init",
                         T(ctx, "--org-unit comes from the enrollment file; leave it out "
                                "with --enroll",
                           "單位取自註冊檔；使用 --enroll 時請不要給 --org-unit"));
    if (enroll && !officer)
        return col_usage(ctx, eb, "init", T(ctx, "--officer ID is required",
                                            "必須指定 --officer ID"));
    if (!enroll && (!officer || !unit))
        return col_usage(ctx, eb, "init",
                         T(ctx, "--officer ID and --org-unit CODE are both required",
                           "--officer ID 與 --org-unit CODE 都必須指定"));
    if (!*officer || strlen(officer) > 32 || strpbrk(officer, " \t\n\"'\\"))
        return bb_fail(eb, BB_ERR_USAGE,
                       T(ctx, "init: --officer \"%s\": an officer ID is 1-32 characters without "
                              "spaces",
                         "init：--officer「%s」：員警 ID 為 1-32 個字元，不含空白"),
                       officer);
    if (enroll)
        return col_init_enrolled(ctx, officer, enroll, eb);
    u = bb_catalog_ref(ctx->cat, "units", unit);
    if (!u)
        return bb_fail(eb, BB_ERR_USAGE,
                       T(ctx, "init: --org-unit \"%s\" is not a known org unit "
                              "(see: beatbook ref units)",
                         "init：--org-unit「%s」不是已知的單位（請見：beatbook ref units）"),
                       unit);
    /* Until enrollment with HQ gives it one, the device names itself. */
    if ((err = bb_random(rnd, sizeof rnd)) != BB_OK)
        return bb_fail(eb, err, T(ctx, "init: no random numbers available",
                                  "init：無法取得亂數"));
    strcpy(device, "d-");
    for (i = 0; i < sizeof rnd; i++)
        snprintf(device + 2 + 2 * i, 3, "%02x", rnd[i]);
    if ((err = col_store_create(ctx->home, officer, unit, device, eb)) != BB_OK)
        return err;
    printf(T(ctx, "store created: %s/%s\nofficer %s, unit %s (%s), device %s\n",
             "已建立資料庫：%s/%s\n員警 %s，單位 %s（%s），裝置 %s\n"),
           ctx->home, COL_DB_NAME, officer, unit, bb_label(&u->label, ctx->lang, unit), device);
    return BB_OK;
}

/* ---- building records ---- */

/* True when one of the FIELD=VALUE arguments sets name. */
static int assigns(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    int i;
    for (i = 0; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return 1;
    return 0;
}

/* A kind by its code or its label in either language (交通事故, Traffic accident). */
static const struct bb_kind *find_kind(struct col_ctx *ctx, const char *name, bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(ctx->cat, name);
    char names[400];
    size_t i, used = 0;

    if (k)
        return k;
    for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++) {
        k = bb_catalog_kind_at(ctx->cat, i);
        if ((k->label.zh && strcmp(k->label.zh, name) == 0) ||
            (k->label.en && strcasecmp(k->label.en, name) == 0))
            return k;
    }
    names[0] = '\0';
    for (i = 0; i < bb_catalog_kind_count(ctx->cat); i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 bb_catalog_kind_at(ctx->cat, i)->name);
    bb_fail(eb, BB_ERR_INVALID,
            T(ctx, "unknown record kind \"%s\"; kinds: %s (see: beatbook kinds)",
              "未知的紀錄類別「%s」；可用類別：%s（請見：beatbook kinds）"),
            name, names);
    return NULL;
}

/* Validate and store one record in a transaction of its own; print its id. */
/*
 * Validate and store one record in a transaction of its own.  On a terminal
 * say so in a sentence ("已儲存 交通事故 0190…（待同步）"); in a pipe print
 * the bare id, which is what scripts read.
 */
static bb_err save_one(struct col_ctx *ctx, col_store *st, cJSON *rec, long expect_rev,
                       bb_errbuf *eb)
{
    char line[256];
    bb_err err;

    if ((err = col_record_save(ctx, st, rec, expect_rev, eb)) != BB_OK)
        return err;
    if (ctx->interactive) {
        col_record_saved_line(ctx, rec, line, sizeof line);
        printf("%s\n", line);
    } else {
        printf("%s\n", bb_json_str(rec, "id"));
    }
    return BB_OK;
}

/* ---- add --json ---- */

/*
 * One element of an import: {"occurred_at", "location", "org_unit",
 * "kind" (must match), "data": {...}}.  Ids, revisions and who recorded it
 * come from this store, never from the file.
 */
static bb_err build_imported(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                             const cJSON *in, cJSON **out, bb_errbuf *eb)
{
    const cJSON *it;
    cJSON *rec;
    bb_err err;

    *out = NULL;
    if (!cJSON_IsObject(in))
        return bb_fail(eb, BB_ERR_INVALID, T(ctx, "expected an object {\"data\": {...}, ...}",
                                             "應為物件 {\"data\": {...}, ...}"));
    cJSON_ArrayForEach(it, in) {
        if (strcmp(it->string, "kind") == 0) {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, k->name) != 0)
                return bb_fail(eb, BB_ERR_INVALID, T(ctx, "\"kind\" is not %s",
                                                     "「kind」不是 %s"), k->name);
        } else if (!col_record_is_envelope_key(it->string) && strcmp(it->string, "data") != 0) {
            return bb_fail(eb, BB_ERR_INVALID,
                           T(ctx, "unknown key \"%s\" (allowed: kind, occurred_at, location, "
                                  "org_unit, data)",
                             "不應有「%s」這個鍵（可用：kind、occurred_at、location、org_unit、data）"),
                           it->string);
        }
    }
    if (!bb_json_obj(in, "data"))
        return bb_fail(eb, BB_ERR_INVALID, T(ctx, "\"data\" must be an object of the kind's fields",
                                             "「data」必須是該類別欄位組成的物件"));
    if ((err = col_record_new(ctx, st, k, "final", 1, &rec, eb)) != BB_OK)
        return err;
    cJSON_ArrayForEach(it, in) {
        if (strcmp(it->string, "kind") == 0)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(rec, it->string);
        cJSON_AddItemToObject(rec, it->string, cJSON_Duplicate(it, 1));
    }
    bb_record_normalize(ctx->cat, rec);
    col_record_anchor(k, rec, cJSON_GetObjectItemCaseSensitive(in, "occurred_at") != NULL);
    *out = rec;
    return BB_OK;
}

/*
 * Import: every record is built, validated and written inside ONE
 * transaction; the first bad one rolls everything back.  Records are
 * written as they are checked (and the input element freed), so memory
 * stays near the size of the parsed input, not twice it.
 */
static bb_err add_json(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                       const char *path, bb_errbuf *eb)
{
    const char *name = strcmp(path, "-") == 0 ? T(ctx, "standard input", "標準輸入") : path;
    char *text = NULL, first_id[BB_UUID_STRLEN + 1] = "";
    size_t len, n, i;
    cJSON *root = NULL, *in, *rec = NULL;
    int was_array;
    bb_err err;

    if ((err = bb_read_file(path, IMPORT_MAX_BYTES, &text, &len, eb)) != BB_OK)
        return err;
    err = bb_json_parse(text, len, name, &root, eb);
    free(text);
    if (err != BB_OK)
        return err;
    was_array = cJSON_IsArray(root);
    if (!was_array) {     /* one object: treat as an array of one */
        cJSON *arr = cJSON_CreateArray();
        if (!arr) {
            cJSON_Delete(root);
            return BB_ERR_NOMEM;
        }
        cJSON_AddItemToArray(arr, root);
        root = arr;
    }
    n = (size_t)cJSON_GetArraySize(root);
    if (n == 0 || n > IMPORT_MAX_RECORDS) {
        err = bb_fail(eb, BB_ERR_INVALID, T(ctx, "%s: expected 1 to %d records, found %zu",
                                            "%s：應有 1 到 %d 筆紀錄，實際為 %zu 筆"), name,
                      IMPORT_MAX_RECORDS, n);
        goto out;
    }
    if ((err = col_store_begin(st, eb)) != BB_OK)
        goto out;
    for (i = 0; i < n; i++) {
        in = cJSON_DetachItemFromArray(root, 0);
        err = build_imported(ctx, st, k, in, &rec, eb);
        cJSON_Delete(in);
        if (err == BB_OK)
            err = bb_record_validate(ctx->cat, rec, ctx->lang, eb);
        if (err == BB_OK)
            err = col_record_put(ctx, st, rec, -1, eb);
        if (err != BB_OK) {
            col_store_rollback(st);
            if (was_array)
                bb_errbuf_prefix(eb, T(ctx, "%s: record %zu of %zu (nothing was saved)",
                                       "%s：第 %zu 筆（共 %zu 筆；未儲存任何資料）"), name, i + 1, n);
            else
                bb_errbuf_prefix(eb, T(ctx, "%s (nothing was saved)", "%s（未儲存任何資料）"),
                                 name);
            goto out;
        }
        if (i == 0)
            snprintf(first_id, sizeof first_id, "%s", bb_json_str(rec, "id"));
        cJSON_Delete(rec);
        rec = NULL;
    }
    if ((err = col_store_commit(st, eb)) != BB_OK)
        goto out;
    if (n == 1)
        printf("%s\n", first_id);
    else
        printf(T(ctx, "%zu %s records imported\n", "已匯入 %zu 筆 %s 紀錄\n"), n, k->name);
out:
    cJSON_Delete(rec);
    cJSON_Delete(root);
    return err;
}

/* ---- add ---- */

bb_err col_cmd_add(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'j'},
        {"no-prompt", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *json = NULL;
    const struct bb_kind *k;
    col_store *st = NULL;
    cJSON *rec = NULL;
    bb_err err;
    int c, i, no_prompt = 0;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = optarg; break;
        case 'n': no_prompt = 1; break;
        case 'h':
            printf("%s", T(ctx,
                "usage: beatbook add [KIND [FIELD=VALUE...]] [--no-prompt]\n"
                "       beatbook add KIND --json FILE|-\n"
                "Record one entry.  On a terminal every field is asked in order (Enter skips an\n"
                "optional one), then the whole record is shown before it is saved; without KIND\n"
                "a menu of kinds is offered.  KIND is a code or a label (交通事故).\n"
                "--json imports a JSON object or array of objects, all or nothing:\n"
                "{\"occurred_at\": .., \"location\": {\"lat\":..,\"lon\":..}, \"data\": {FIELD: VALUE}}\n"
                "Fields of a kind: beatbook kinds show KIND\n",
                "用法：beatbook add [類別 [欄位=值...]] [--no-prompt]\n"
                "      beatbook add 類別 --json 檔案|-\n"
                "記錄一筆資料。在終端機上會依序詢問每個欄位（選填欄位按 Enter 跳過），\n"
                "儲存前先顯示整筆紀錄供確認；未指定類別時會列出類別選單。\n"
                "類別可用代碼或名稱（例如 交通事故）。\n"
                "--json 匯入一個 JSON 物件或物件陣列，全部成功才儲存：\n"
                "{\"occurred_at\": .., \"location\": {\"lat\":..,\"lon\":..}, \"data\": {欄位: 值}}\n"
                "各類別的欄位：beatbook kinds show 類別\n"));
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "add", c, argv);
        }
    }
    if (optind >= argc && ctx->interactive && !json && !no_prompt) {
        /* No kind named: offer the menu of kinds. */
        if ((err = col_prompt_kind(ctx, &k, eb)) != BB_OK)
            return err;
        optind = argc - 1;   /* no FIELD=VALUE arguments follow */
    } else if (optind >= argc) {
        return col_usage(ctx, eb, "add", T(ctx, "name the kind to record, e.g. beatbook add "
                                                "parking_citation", "請指定要記錄的類別，例如 "
                                                "beatbook add parking_citation"));
    } else if (!(k = find_kind(ctx, argv[optind], eb))) {
        return BB_ERR_INVALID;
    }
    if (json && optind + 1 < argc)
        return col_usage(ctx, eb, "add", T(ctx, "give either FIELD=VALUE arguments or --json, "
                                                "not both", "請擇一使用 欄位=值 或 --json"));
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if (json) {
        err = add_json(ctx, st, k, json, eb);
        goto out;
    }
    if ((err = col_record_new(ctx, st, k, "final", 1, &rec, eb)) != BB_OK)
        goto out;
    for (i = optind + 1; i < argc; i++)
        if ((err = col_record_assign_arg(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    if (ctx->interactive && !no_prompt) {
        /* When and for which unit are questions too, unless given: ask them. */
        if (!assigns(argc - optind - 1, argv + optind + 1, "occurred_at") &&
            !k->occurred_at_from)
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "occurred_at");
        if (!assigns(argc - optind - 1, argv + optind + 1, "org_unit"))
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "org_unit");
        if ((err = col_prompt_form(ctx, st, k, rec, NULL, 0, eb)) != BB_OK)
            goto out;
        if (!cJSON_GetObjectItemCaseSensitive(rec, "occurred_at"))
            col_record_set_string(rec, "occurred_at", bb_json_str(rec, "recorded_at"));
    }
    col_record_anchor(k, rec, assigns(argc - optind - 1, argv + optind + 1, "occurred_at"));
    err = save_one(ctx, st, rec, -1, eb);
out:
    cJSON_Delete(rec);
    col_store_close(st);
    return err;
}

/* ---- patrol start / end ---- */

static bb_err patrol_start(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                           int argc, char **argv, bb_errbuf *eb)
{
    cJSON *rec = NULL, *data, *open = NULL;
    bb_err err;
    int i;

    if ((err = col_record_new(ctx, st, k, "draft", 0, &rec, eb)) != BB_OK)
        return err;
    data = cJSON_GetObjectItemCaseSensitive(rec, "data");
    for (i = 0; i < argc; i++)
        if ((err = col_record_assign_arg(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    /* On a terminal the start is a question (default now); otherwise it is now. */
    if (ctx->interactive && (err = col_prompt_form(ctx, st, k, rec, "start", 0, eb)) != BB_OK)
        goto out;
    if (!cJSON_GetObjectItemCaseSensitive(data, "started_at"))
        cJSON_AddStringToObject(data, "started_at", bb_json_str(rec, "occurred_at"));
    col_record_anchor(k, rec, assigns(argc, argv, "occurred_at"));
    if ((err = col_store_drafts(st, "patrol", &open, eb)) != BB_OK)
        goto out;
    if (cJSON_GetArraySize(open) > 0)
        fprintf(stderr, T(ctx, "note: %d other patrol(s) still open (see: beatbook list --status draft)\n",
                          "提醒：尚有 %d 筆巡邏未結束（請見：beatbook list --status draft）\n"),
                cJSON_GetArraySize(open));
    err = save_one(ctx, st, rec, -1, eb);
out:
    cJSON_Delete(open);
    cJSON_Delete(rec);
    return err;
}

static bb_err patrol_end(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                         int argc, char **argv, bb_errbuf *eb)
{
    cJSON *open = NULL, *rec = NULL;
    int first = 0, i;
    bb_err err;

    if (argc > 0 && !strchr(argv[0], '=')) {
        if ((err = col_store_get(st, argv[0], &rec, eb)) != BB_OK)
            return err;
        first = 1;
        if (strcmp(bb_json_str(rec, "kind"), "patrol") != 0 ||
            strcmp(bb_json_str(rec, "status"), "draft") != 0) {
            err = bb_fail(eb, BB_ERR_STATE, T(ctx, "%s is not an open patrol",
                                              "%s 不是進行中的巡邏"), argv[0]);
            goto out;
        }
    } else {
        if ((err = col_store_drafts(st, "patrol", &open, eb)) != BB_OK)
            return err;
        if (cJSON_GetArraySize(open) == 0) {
            err = bb_fail(eb, BB_ERR_STATE, T(ctx, "no open patrol; start one with: beatbook patrol start",
                                              "沒有進行中的巡邏；請先執行：beatbook patrol start"));
            goto out;
        }
        if (cJSON_GetArraySize(open) > 1) {
            err = bb_fail(eb, BB_ERR_USAGE,
                          T(ctx, "%d patrols are open; name one: beatbook patrol end ID "
                                 "(see: beatbook list --status draft)",
                            "有 %d 筆巡邏進行中；請指定：beatbook patrol end ID"
                            "（請見：beatbook list --status draft）"),
                          cJSON_GetArraySize(open));
            goto out;
        }
        rec = cJSON_DetachItemFromArray(open, 0);
    }
    for (i = first; i < argc; i++)
        if ((err = col_record_assign_arg(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    /* On a terminal the end is a question (default now); otherwise it is now. */
    if (ctx->interactive && (err = col_prompt_form(ctx, st, k, rec, "end", 0, eb)) != BB_OK)
        goto out;
    col_record_end_draft(ctx, rec);
    err = save_one(ctx, st, rec, 0, eb);
out:
    cJSON_Delete(open);
    cJSON_Delete(rec);
    return err;
}

bb_err col_cmd_patrol(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    const struct bb_kind *k = bb_catalog_kind(ctx->cat, "patrol");
    col_store *st = NULL;
    bb_err err;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc >= 2) {
            fputs(T(ctx,
                    "usage: beatbook patrol start [FIELD=VALUE...]\n"
                    "       beatbook patrol end [ID] [FIELD=VALUE...]\n"
                    "An open patrol is a draft: it stays on this laptop and is not sent until it ends.\n"
                    "Fields: beatbook kinds show patrol\n",
                    "用法：beatbook patrol start [FIELD=VALUE...]\n"
                    "      beatbook patrol end [ID] [FIELD=VALUE...]\n"
                    "進行中的巡邏是草稿：留在本機，結束後才會傳送。\n"
                    "欄位：beatbook kinds show patrol\n"),
                  stdout);
            return BB_OK;
        }
        return col_usage(ctx, eb, "patrol", T(ctx, "say start or end", "請指定 start 或 end"));
    }
    if (!k)
        return bb_fail(eb, BB_ERR_INTERNAL, T(ctx, "the patrol kind is missing from this build",
                                              "此版本缺少巡邏（patrol）類別"));
    if (strcmp(argv[1], "start") != 0 && strcmp(argv[1], "end") != 0)
        return col_usage(ctx, eb, "patrol", T(ctx, "say start or end", "請指定 start 或 end"));
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if (strcmp(argv[1], "start") == 0)
        err = patrol_start(ctx, st, k, argc - 2, argv + 2, eb);
    else
        err = patrol_end(ctx, st, k, argc - 2, argv + 2, eb);
    col_store_close(st);
    return err;
}

/* ---- edit / void ---- */

bb_err col_cmd_edit(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    col_store *st = NULL;
    cJSON *rec = NULL;
    char *before = NULL, *after = NULL;
    const struct bb_kind *k;
    long rev;
    bb_err err;
    int i;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(T(ctx,
                "usage: beatbook edit ID FIELD=VALUE...\n"
                "Correct a record: saves a new revision and keeps every earlier one.\n"
                "FIELD= (empty) removes an optional field.  ID: full id or its first/last 6+ characters.\n",
                "用法：beatbook edit ID FIELD=VALUE...\n"
                "更正紀錄：儲存新的一版，並保留之前的每一版。\n"
                "FIELD=（空白）可移除選填欄位。ID：完整編號，或它的前 6 碼或後 6 碼以上。\n"),
              stdout);
        return BB_OK;
    }
    if (argc < 2 || (argc < 3 && !ctx->interactive))
        return col_usage(ctx, eb, "edit", T(ctx, "give the record id and at least one FIELD=VALUE",
                                            "請給紀錄編號及至少一個 FIELD=VALUE"));
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if ((err = col_record_load_for_revision(ctx, st, argv[1], &rec, &rev, eb)) != BB_OK)
        goto out;
    k = bb_catalog_kind(ctx->cat, bb_json_str(rec, "kind"));
    if (!k) {
        err = bb_fail(eb, BB_ERR_STATE, T(ctx, "record kind \"%s\" is not known to this version",
                                          "此版本不認得紀錄類別「%s」"),
                      bb_json_str(rec, "kind"));
        goto out;
    }
    before = bb_json_canonical(rec);
    if (argc == 2) {
        /* No FIELD=VALUE: walk the whole form with the current values as defaults. */
        if ((err = col_prompt_form(ctx, st, k, rec, NULL, 1, eb)) != BB_OK)
            goto out;
        col_record_anchor(k, rec, 0);
    }
    for (i = 2; i < argc; i++)
        if ((err = col_record_assign_arg(ctx, k, rec, argv[i], eb)) != BB_OK)
            goto out;
    if (k->occurred_at_from && assigns(argc - 2, argv + 2, k->occurred_at_from))
        col_record_anchor(k, rec, assigns(argc - 2, argv + 2, "occurred_at"));
    after = bb_json_canonical(rec);
    if (!before || !after) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    if (strcmp(before, after) == 0) {
        err = bb_fail(eb, BB_ERR_USAGE, T(ctx, "nothing changed in %s", "%s 沒有任何變更"),
                      bb_json_str(rec, "id"));
        goto out;
    }
    col_record_next_revision(ctx, rec, rev);
    err = save_one(ctx, st, rec, rev, eb);
out:
    free(before);
    free(after);
    cJSON_Delete(rec);
    col_store_close(st);
    return err;
}

/*
 * attach ID [FIELD] FILE...: `edit ID FIELD=@FILE...`, the kind's attachment
 * field chosen when it has only one.  One path for every change of a record.
 */
bb_err col_cmd_attach(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    const struct bb_field *field = NULL;
    const struct bb_kind *k;
    col_store *st = NULL;
    cJSON *rec = NULL;
    char **args = NULL;
    long rev;
    int first, i, n = 0;
    bb_err err;
    size_t f;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(T(ctx,
                "usage: beatbook attach ID [FIELD] FILE...\n"
                "Add photos or files to a record: a new revision with the files appended to\n"
                "FIELD (the kind's photo field when it has one), every earlier revision kept.\n"
                "Each file is checked by its bytes and kept in the store before the revision\n"
                "is saved.\n",
                "用法：beatbook attach ID [FIELD] FILE...\n"
                "為紀錄加上照片或檔案：儲存新的一版，檔案附加到 FIELD（此類別只有一個附件\n"
                "欄位時可省略），之前的每一版都保留。每個檔案都依內容檢查，並在儲存前存入\n"
                "本機資料庫。\n"),
              stdout);
        return BB_OK;
    }
    if (argc < 3)
        return col_usage(ctx, eb, "attach", T(ctx, "give the record id and at least one file",
                                              "請給紀錄編號及至少一個檔案"));
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    err = col_record_load_for_revision(ctx, st, argv[1], &rec, &rev, eb);
    k = err == BB_OK ? bb_catalog_kind(ctx->cat, bb_json_str(rec, "kind")) : NULL;
    cJSON_Delete(rec);
    col_store_close(st);
    if (err != BB_OK)
        return err;
    if (!k)
        return bb_fail(eb, BB_ERR_STATE, T(ctx, "this record's kind is not known to this version",
                                           "此版本不認得這筆紀錄的類別"));
    first = 2;
    if ((field = bb_kind_field(k, argv[2])) != NULL && field->type == BB_F_ATTACHMENT) {
        first = 3;
    } else {
        field = NULL;
        for (f = 0; f < k->nfields; f++) {
            if (k->fields[f].type != BB_F_ATTACHMENT)
                continue;
            if (field)
                return bb_fail(eb, BB_ERR_USAGE,
                               T(ctx, "this kind has several file fields: name one, e.g. "
                                      "beatbook attach ID %s FILE",
                                 "此類別有多個附件欄位：請指定，例如 beatbook attach ID %s FILE"),
                               field->name);
            field = &k->fields[f];
        }
        if (!field)
            return bb_fail(eb, BB_ERR_USAGE, T(ctx, "a %s takes no photos or files",
                                               "%s 不能附加照片或檔案"),
                           bb_label(&k->label, ctx->lang, k->name));
    }
    if (first >= argc)
        return col_usage(ctx, eb, "attach", T(ctx, "which files? give at least one",
                                              "哪些檔案？請至少給一個"));
    if (!(args = calloc((size_t)(argc - first + 3), sizeof *args)))
        return BB_ERR_NOMEM;
    args[n++] = "edit";
    args[n++] = argv[1];
    for (i = first; i < argc; i++) {
        const char *path = argv[i][0] == '@' ? argv[i] + 1 : argv[i];
        size_t len = strlen(field->name) + strlen(path) + 3;
        if (!(args[n] = malloc(len))) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        snprintf(args[n++], len, "%s=@%s", field->name, path);
    }
    err = col_cmd_edit(ctx, n, args, eb);
out:
    for (i = 2; i < n; i++)
        free(args[i]);
    free(args);
    return err;
}

bb_err col_cmd_void(struct col_ctx *ctx, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reason = NULL;
    col_store *st = NULL;
    cJSON *rec = NULL;
    long rev;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': reason = optarg; break;
        case 'h':
            fputs(T(ctx,
                    "usage: beatbook void ID --reason TEXT\n"
                    "Void a record: saves a void revision; HQ keeps the history and stops counting it.\n",
                    "用法：beatbook void ID --reason TEXT\n"
                    "作廢紀錄：儲存作廢的一版；總局保留歷史，並不再計入統計。\n"),
                  stdout);
            return BB_OK;
        default:
            return col_bad_option(ctx, eb, "void", c, argv);
        }
    }
    if (optind + 1 != argc)
        return col_usage(ctx, eb, "void", T(ctx, "give exactly one record id",
                                            "請給一個紀錄編號"));
    if (!reason || !*reason)
        return col_usage(ctx, eb, "void",
                         T(ctx, "--reason TEXT is required: say why the record is void",
                           "必須指定 --reason TEXT：說明作廢的原因"));
    if ((err = col_store_open(ctx->home, 0, &st, eb)) != BB_OK)
        return err;
    if ((err = col_record_load_for_revision(ctx, st, argv[optind], &rec, &rev, eb)) != BB_OK)
        goto out;
    col_record_make_void(ctx, rec, &rev, reason);
    err = save_one(ctx, st, rec, rev, eb);
out:
    cJSON_Delete(rec);
    col_store_close(st);
    return err;
}
