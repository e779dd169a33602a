/*
 * hq_cmd_reference.c — `beatbook-hq reference show | set | unset`: the
 * reference data HQ publishes to the laptops (hq_reference.h).  `set`
 * replaces a built-in reference list, or adds or replaces a record kind,
 * from a file in the format of schema/reference/<list>.json or
 * schema/records/<kind>.json; the change is checked whole and published
 * as a new signed bundle in one transaction, or nothing changes.
 */
#include "hq_cli.h"
#include "hq_home.h"
#include "hq_reference.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *out)
{
    fputs("usage: beatbook-hq reference [show] [--json] [--data DIR]\n"
          "       beatbook-hq reference set units|intersections|segments|bikepaths FILE\n"
          "       beatbook-hq reference set kind FILE\n"
          "       beatbook-hq reference unset units|intersections|segments|bikepaths\n"
          "       beatbook-hq reference unset kind NAME\n"
          "\n"
          "The reference data HQ publishes to the laptops (GET /v1/reference, a bundle\n"
          "signed by HQ): org units, listed intersections and road segments, bike paths,\n"
          "every record kind and the current plan.  beatbook-syncd fetches it on each\n"
          "pass; beatbook validates and prompts with it from then on.\n"
          "\n"
          "show   the published bundle (version = ETag, issued_at, sizes) and what was set\n"
          "set    replace a list with FILE (format of schema/reference/LIST.json), or add or\n"
          "       replace a record kind with FILE (format of schema/records/KIND.json).\n"
          "       The whole bundle must load and every stored plan must still load with\n"
          "       it; then a new bundle is signed and stored, all in one transaction.\n"
          "unset  go back to the built-in list or kind\n"
          "\n"
          "A running `beatbook-hq serve` keeps serving (and validating against) the bundle\n"
          "it published when it started: restart it to publish a change.\n"
          "\n"
          "  --data DIR   the data folder (default: $BEATBOOK_HQ_DATA)\n"
          "  --json       show: as JSON\n",
          out);
}

static bb_err open_store(const char *data, int parts, struct hq_home *h, sqlite3 **db,
                         bb_errbuf *eb)
{
    char dir[HQ_PATH_MAX];
    bb_err err;

    *db = NULL;
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(h, dir, parts, eb)) != BB_OK)
        return err;
    if ((err = hq_store_open(h->db_path, 0, db, eb)) != BB_OK)
        hq_home_close(h);
    return err;
}

/* Counts of the content: {"units": n, ..., "kinds": n}, and the plan's id. */
static cJSON *content_counts(const cJSON *content, const char **plan_id)
{
    static const char *const parts[] = {"units", "intersections", "segments", "bikepaths",
                                        "kinds"};
    cJSON *o = cJSON_CreateObject();
    size_t i;

    for (i = 0; o && i < sizeof parts / sizeof parts[0]; i++)
        if (!cJSON_AddNumberToObject(o, parts[i], cJSON_GetArraySize(
                                         cJSON_GetObjectItemCaseSensitive(content, parts[i])))) {
            cJSON_Delete(o);
            return NULL;
        }
    *plan_id = bb_json_str(cJSON_GetObjectItemCaseSensitive(content, "plan"), "id");
    return o;
}

static bb_err cmd_show(const char *data, int json, bb_errbuf *eb)
{
    struct hq_reference pub;
    struct hq_home h;
    sqlite3 *db = NULL;
    cJSON *content = NULL, *stored = NULL, *counts = NULL, *out = NULL, *it;
    char version[BB_REFBUNDLE_VERSION_SIZE];
    const char *plan = NULL;
    int have_pub;
    bb_err err;

    memset(&pub, 0, sizeof pub);
    if ((err = open_store(data, 0, &h, &db, eb)) != BB_OK)
        return err;
    if ((err = hq_reference_content(db, &content, eb)) != BB_OK ||
        (err = bb_refbundle_version(content, version, eb)) != BB_OK ||
        (err = hq_reference_stored(db, &stored, eb)) != BB_OK)
        goto out;
    err = hq_reference_latest(db, &pub, eb);
    if (err != BB_OK && err != BB_ERR_NOTFOUND)
        goto out;
    have_pub = err == BB_OK;
    err = BB_OK;
    if (!(counts = content_counts(content, &plan))) {
        err = BB_ERR_NOMEM;
        goto out;
    }
    if (json) {
        cJSON *p = NULL;
        if (!(out = cJSON_CreateObject()) ||
            (have_pub && (!(p = cJSON_AddObjectToObject(out, "published")) ||
                          !cJSON_AddStringToObject(p, "version", pub.version) ||
                          !cJSON_AddStringToObject(p, "issued_at", pub.issued_at) ||
                          !cJSON_AddNumberToObject(p, "bytes", (double)pub.len))) ||
            (!have_pub && !cJSON_AddNullToObject(out, "published")) ||
            !cJSON_AddStringToObject(out, "current_version", version) ||
            !cJSON_AddBoolToObject(out, "pending", !have_pub || strcmp(pub.version, version)) ||
            !cJSON_AddItemToObject(out, "counts", counts)) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        counts = NULL;
        if (!(plan ? cJSON_AddStringToObject(out, "plan", plan)
                   : cJSON_AddNullToObject(out, "plan")) ||
            !cJSON_AddItemToObject(out, "stored", stored)) {
            err = BB_ERR_NOMEM;
            goto out;
        }
        stored = NULL;
        err = hq_print_json(out);
        goto out;
    }
    if (have_pub)
        printf("published: version %s\n           issued at %s, %zu bytes\n", pub.version,
               pub.issued_at, pub.len);
    else
        printf("published: nothing yet (beatbook-hq serve publishes when it starts)\n");
    if (!have_pub || strcmp(pub.version, version) != 0)
        printf("current data: version %s — not yet published (beatbook-hq serve publishes it "
               "when it starts)\n", version);
    printf("content: ");
    for (it = counts->child; it; it = it->next)
        printf("%s%s %d", it == counts->child ? "" : ", ", it->string, it->valueint);
    printf(", plan %s\n", plan ? plan : "none");
    if (cJSON_GetArraySize(stored) == 0) {
        printf("stored in place of the built-in data: nothing\n");
    } else {
        printf("stored in place of the built-in data:\n");
        cJSON_ArrayForEach(it, stored)
            printf("  %-4s %-14s %s  (set %s from %s)\n", bb_json_str(it, "what"),
                   bb_json_str(it, "name"), bb_json_str(it, "sha256"), bb_json_str(it, "set_at"),
                   bb_json_str(it, "source"));
    }
out:
    cJSON_Delete(out);
    cJSON_Delete(counts);
    cJSON_Delete(stored);
    cJSON_Delete(content);
    hq_reference_clear(&pub);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

static void print_published(const struct hq_reference *r)
{
    printf("published: version %s, issued at %s (%zu bytes)\n"
           "laptops get it at their next sync once beatbook-hq serve (re)starts\n",
           r->version, r->issued_at, r->len);
}

static bb_err cmd_set(const char *data, const char *what, const char *file, bb_errbuf *eb)
{
    struct hq_reference r;
    struct hq_home h;
    sqlite3 *db = NULL;
    char *text = NULL;
    size_t len = 0;
    bb_err err;

    memset(&r, 0, sizeof r);
    /* The file first: a bad one is refused before the store is touched. */
    if ((err = bb_read_file(file, BB_REFBUNDLE_MAX, &text, &len, eb)) != BB_OK)
        return err;
    if ((err = open_store(data, HQ_HOME_KEYS, &h, &db, eb)) != BB_OK) {
        free(text);
        return err;
    }
    err = hq_reference_set(&h.keys, db, what, text, len, file, &r, eb);
    if (err == BB_OK) {
        printf("reference data: %s set from %s\n", what, file);
        print_published(&r);
    }
    free(text);
    hq_reference_clear(&r);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

static bb_err cmd_unset(const char *data, const char *what, const char *name, bb_errbuf *eb)
{
    struct hq_reference r;
    struct hq_home h;
    sqlite3 *db = NULL;
    bb_err err;

    memset(&r, 0, sizeof r);
    if ((err = open_store(data, HQ_HOME_KEYS, &h, &db, eb)) != BB_OK)
        return err;
    err = hq_reference_unset(&h.keys, db, what, name, &r, eb);
    if (err == BB_OK) {
        if (name)
            printf("reference data: kind %s as set is removed (a built-in kind of that name "
                   "is published again)\n", name);
        else
            printf("reference data: %s back to the built-in list\n", what);
        print_published(&r);
    }
    hq_reference_clear(&r);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

bb_err hq_cmd_reference(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *verb;
    int json = 0, c, nargs;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    verb = optind < argc ? argv[optind] : "show";
    nargs = optind < argc ? argc - optind - 1 : 0;
    if (strcmp(verb, "show") == 0) {
        if (nargs > 0)
            return hq_usage(eb, "show: unexpected argument \"%s\"", argv[optind + 1]);
        return cmd_show(data, json, eb);
    }
    if (json)
        return hq_usage(eb, "--json goes with show");
    if (strcmp(verb, "set") == 0) {
        if (nargs != 2)
            return hq_usage(eb, "set takes a list (%s) or \"kind\", and a FILE", BB_REF_LISTS);
        return cmd_set(data, argv[optind + 1], argv[optind + 2], eb);
    }
    if (strcmp(verb, "unset") == 0) {
        const char *what = nargs >= 1 ? argv[optind + 1] : NULL;
        if (!what || (strcmp(what, "kind") == 0 ? nargs != 2 : nargs != 1))
            return hq_usage(eb, "unset takes a list (%s), or \"kind\" and a NAME",
                            BB_REF_LISTS);
        return cmd_unset(data, what, nargs == 2 ? argv[optind + 2] : NULL, eb);
    }
    return hq_usage(eb, "unknown verb \"%s\": show, set or unset", verb);
}
