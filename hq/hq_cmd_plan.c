/*
 * hq_cmd_plan.c — `beatbook-hq plan load | list | show`: plans as data
 * (shared/bb_plan.h).  `load` checks the whole file against the record
 * kinds and reference lists before it opens the store, then stores the
 * plan and computes its facts from the records already merged, in one
 * transaction: a bad file changes nothing, and a plan is never stored
 * without its facts.
 */
#include "hq_cli.h"
#include "hq_facts.h"
#include "hq_home.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *out)
{
    fputs("usage: beatbook-hq plan load FILE [--replace] [--data DIR]\n"
          "       beatbook-hq plan load --builtin ID [--replace] [--data DIR]\n"
          "       beatbook-hq plan list [--json] [--data DIR]\n"
          "       beatbook-hq plan show ID [--data DIR]\n"
          "\n"
          "load   check a plan file (goals, KPIs, inputs, reference figures, historical\n"
          "       counts; format in shared/bb_plan.h, example schema/plans/taichung-107.json)\n"
          "       and store it; its KPI facts are computed from the records HQ holds.\n"
          "       Errors name the place: FILE: $.kpis[2].method: unknown method ...\n"
          "       Plans of several years coexist; the same id with other content needs\n"
          "       --replace.  --builtin ID loads a plan compiled into this program\n"
          "       (taichung-107, which `init` loads already).\n"
          "list   the stored plans: id, year, KPIs, where each came from\n"
          "show   a stored plan as JSON\n",
          out);
}

static bb_err open_store(const char *data, struct hq_home *h, sqlite3 **db, bb_errbuf *eb)
{
    char dir[HQ_PATH_MAX];
    bb_err err;

    *db = NULL;
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(h, dir, HQ_HOME_CATALOG, eb)) != BB_OK)
        return err;
    if ((err = hq_store_open(h->db_path, 0, db, eb)) != BB_OK)
        hq_home_close(h);
    return err;
}

static bb_err cmd_load(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"builtin", required_argument, NULL, 'b'},
        {"replace", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *builtin = NULL, *file = NULL;
    enum hq_plan_outcome outcome;
    struct hq_home h;
    bb_plan *p = NULL;
    sqlite3 *db = NULL;
    char *text = NULL, detail[400], source[600], count[32];
    size_t len, records = 0;
    int replace = 0, c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'b': builtin = optarg; break;
        case 'r': replace = 1; break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        file = argv[optind++];
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (!file == !builtin)
        return hq_usage(eb, "give a plan FILE or --builtin ID");
    if ((err = open_store(data, &h, &db, eb)) != BB_OK)
        return err;
    /* Check everything before the store is touched. */
    if (builtin) {
        err = bb_plan_load_embedded(h.cat, builtin, &p, eb);
        snprintf(source, sizeof source, "built-in");
    } else {
        if ((err = bb_read_file(file, BB_PLAN_MAX_BYTES, &text, &len, eb)) == BB_OK)
            err = bb_plan_parse(h.cat, text, len, file, &p, eb);
        snprintf(source, sizeof source, "%.500s", file);
    }
    if (err != BB_OK)
        goto out;
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        goto out;
    if ((err = hq_plan_store(db, h.cat, p, source, replace, &outcome, &records, eb)) != BB_OK)
        goto rollback;
    if (outcome == HQ_PLAN_UNCHANGED) {
        bb_db_rollback(db);
        printf("plan %s is already loaded with this content; nothing changed\n", bb_plan_id(p));
        goto out;
    }
    snprintf(detail, sizeof detail, "plan=%s year=%d outcome=%s records=%zu source=%.200s",
             bb_plan_id(p), bb_plan_year(p), outcome == HQ_PLAN_ADDED ? "added" : "replaced",
             records, source);
    if ((err = hq_audit(db, "cli", "plan-load", NULL, detail, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto rollback;
    bb_kpi_format_count((int64_t)records, count, sizeof count);
    printf("%s plan %s (%d): %zu goals, %zu KPIs, %zu inputs; facts computed from %s "
           "records\n", outcome == HQ_PLAN_ADDED ? "loaded" : "replaced", bb_plan_id(p),
           bb_plan_year(p), bb_plan_goal_count(p), bb_plan_kpi_count(p),
           bb_plan_input_count(p), count);
    goto out;
rollback:
    bb_db_rollback(db);
out:
    free(text);
    bb_plan_free(p);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

static bb_err cmd_list(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    struct hq_plan_info *list = NULL;
    struct hq_home h;
    sqlite3 *db = NULL;
    cJSON *out = NULL;
    size_t n = 0, i;
    int json = 0, c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if ((err = open_store(data, &h, &db, eb)) != BB_OK)
        return err;
    if ((err = hq_plan_list(db, &list, &n, eb)) != BB_OK)
        goto done;
    if (json && !(out = cJSON_CreateArray())) {
        err = BB_ERR_NOMEM;
        goto done;
    }
    if (!json && n == 0)
        printf("no plan is loaded (load one: beatbook-hq plan load FILE)\n");
    for (i = 0; i < n; i++) {
        bb_plan *p = NULL;
        /* A stored plan that no longer checks is listed with its error. */
        bb_errbuf sub;
        hq_plan_get(db, h.cat, list[i].id, &p, &sub);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(out, o) ||
                !cJSON_AddStringToObject(o, "id", list[i].id) ||
                !cJSON_AddNumberToObject(o, "year", list[i].year) ||
                !cJSON_AddStringToObject(o, "sha256", list[i].sha256) ||
                !cJSON_AddStringToObject(o, "source", list[i].source) ||
                !cJSON_AddStringToObject(o, "loaded_at", list[i].loaded_at) ||
                (p && (!cJSON_AddStringToObject(o, "title", bb_plan_title(p)->zh) ||
                       !cJSON_AddNumberToObject(o, "kpis", (double)bb_plan_kpi_count(p)) ||
                       !cJSON_AddNumberToObject(o, "weight", bb_plan_total_weight(p)))) ||
                (!p && !cJSON_AddStringToObject(o, "error", sub.msg))) {
                cJSON_Delete(o);
                bb_plan_free(p);
                err = BB_ERR_NOMEM;
                goto done;
            }
        } else if (p) {
            printf("%-16s %d (ROC %d)  %zu KPIs, weight %d  %s\n"
                   "                 loaded %s from %s, sha256 %.16s…\n",
                   list[i].id, list[i].year, list[i].year - 1911, bb_plan_kpi_count(p),
                   bb_plan_total_weight(p), bb_plan_title(p)->zh, list[i].loaded_at,
                   list[i].source, list[i].sha256);
        } else {
            printf("%-16s %d  cannot be read: %s\n", list[i].id, list[i].year, sub.msg);
        }
        bb_plan_free(p);
    }
    if (json)
        err = hq_print_json(out);
done:
    cJSON_Delete(out);
    free(list);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

static bb_err cmd_show(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *id;
    struct hq_home h;
    sqlite3 *db = NULL;
    bb_plan *p = NULL;
    cJSON *tree = NULL;
    int c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind + 1 != argc)
        return hq_usage(eb, "give one plan ID (see: beatbook-hq plan list)");
    id = argv[optind];
    if ((err = open_store(data, &h, &db, eb)) != BB_OK)
        return err;
    if ((err = hq_plan_get(db, h.cat, id, &p, eb)) == BB_OK) {
        tree = cJSON_Parse(bb_plan_canonical(p));
        err = tree ? hq_print_json(tree) : BB_ERR_NOMEM;
    }
    cJSON_Delete(tree);
    bb_plan_free(p);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

bb_err hq_cmd_plan(int argc, char **argv, bb_errbuf *eb)
{
    static const struct hq_verb verbs[] = {
        {"load", cmd_load}, {"list", cmd_list}, {"show", cmd_show},
    };
    return hq_dispatch("plan", verbs, sizeof verbs / sizeof verbs[0], help, argc, argv, eb);
}
