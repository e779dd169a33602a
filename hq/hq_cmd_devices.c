/*
 * hq_cmd_devices.c — `beatbook-hq devices [--org CODE] [--json]`: the
 * precinct admin's day-end view on a terminal, with the same facts as the
 * review UI's Devices page (hq_api_devices): per device its unit, last
 * contact, batches received, last seq, seqs missing below it, records
 * rejected (and not yet reviewed), quarantined batches; and, from each
 * laptop's latest signed status report (hq_status.h), what it still holds
 * ("3 筆未送、1 個巡邏未結束、上次聯絡 2 小時前" or "總局已收齊"), laptops with
 * something outstanding first within each precinct, then a line per
 * precinct.  Read-only.
 */
#include "hq_api.h"
#include "hq_cli.h"
#include "hq_home.h"
#include "hq_reference.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_text.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    fputs("usage: beatbook-hq devices [--org CODE] [--json] [--lang zh-TW|en] [--data DIR]\n"
          "\n"
          "Every device (within org unit CODE: a precinct P06, a station P06-S03), with\n"
          "its last contact (late: none for a day), batches received, the last seq, the\n"
          "seqs missing below it, rejected records (open: not yet reviewed) and batches\n"
          "kept in quarantine; below each, what the laptop last reported it still holds\n"
          "(unsent records, open drafts) or that HQ has everything.  Laptops with work\n"
          "outstanding come first in each precinct; a summary line per precinct ends the\n"
          "list.  The same facts as the review UI's Devices page.\n",
          stdout);
}

#define L(lang, en, zh) ((lang) == BB_LANG_EN ? (en) : (zh))

/* "3–5, 9" from [[3,5],[9,9]], or "-". */
static void ranges(const cJSON *a, char *out, size_t size)
{
    const cJSON *p;
    size_t n = 0;

    out[0] = '\0';
    cJSON_ArrayForEach(p, a) {
        long long x = (long long)cJSON_GetNumberValue(cJSON_GetArrayItem(p, 0));
        long long y = (long long)cJSON_GetNumberValue(cJSON_GetArrayItem(p, 1));
        if (n + 40 >= size) {
            snprintf(out + n, size - n, ", ...");
            return;
        }
        n += (size_t)snprintf(out + n, size - n, x == y ? "%s%lld" : "%s%lld\u2013%lld",
                              n ? ", " : "", x, y);
    }
    if (!n)
        snprintf(out, size, "-");
}

static const char *text(const cJSON *o, const char *k)
{
    const char *s = bb_json_str(o, k);
    return s ? s : "-";
}

static void pad(const char *s, int width)
{
    bb_text_pad(stdout, s, width);
}

static void print_table(const cJSON *o, enum bb_lang lang)
{
    const cJSON *d, *items = cJSON_GetObjectItem(o, "items");
    char miss[200], num[4][32], contact[40];

    if (cJSON_GetArraySize(items) == 0) {
        puts(L(lang, "no devices", "沒有裝置"));
        return;
    }
    pad(L(lang, "device", "裝置"), 20);
    pad(L(lang, "unit", "單位"), 10);
    pad(L(lang, "status", "狀態"), 9);
    pad(L(lang, "last contact", "最後聯繫"), 27);
    pad(L(lang, "batches", "批次"), 8);
    pad(L(lang, "last seq", "最後序號"), 10);
    pad(L(lang, "missing", "缺漏"), 12);
    pad(L(lang, "rejected", "退回"), 10);
    puts(L(lang, "label", "名稱"));
    cJSON_ArrayForEach(d, items) {
        const cJSON *ls = cJSON_GetObjectItem(d, "last_seq");
        int late = cJSON_IsTrue(cJSON_GetObjectItem(d, "late"));
        snprintf(contact, sizeof contact, "%s%s", text(d, "last_contact"),
                 late ? L(lang, " LATE", " 逾時") : "");
        snprintf(num[0], sizeof num[0], "%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(d, "batches")));
        if (cJSON_IsNumber(ls))
            snprintf(num[1], sizeof num[1], "%.0f", ls->valuedouble);
        else
            snprintf(num[1], sizeof num[1], "-");
        snprintf(num[2], sizeof num[2], "%.0f (%.0f)",
                 cJSON_GetNumberValue(cJSON_GetObjectItem(d, "rejected_records")),
                 cJSON_GetNumberValue(cJSON_GetObjectItem(d, "rejected_open")));
        ranges(cJSON_GetObjectItem(d, "missing"), miss, sizeof miss);
        pad(text(d, "id"), 20);
        pad(text(d, "org_unit"), 10);
        pad(text(d, "status"), 9);
        pad(contact, 27);
        pad(num[0], 8);
        pad(num[1], 10);
        pad(miss, 12);
        pad(num[2], 10);
        puts(text(d, "label"));
        printf("    %s\n", text(d, "summary"));
        if (cJSON_GetNumberValue(cJSON_GetObjectItem(d, "quarantined_batches")) > 0)
            printf("    %s: %.0f\n", L(lang, "batches in quarantine (revoked device)",
                                       "隔離中的批次（已撤銷裝置）"),
                   cJSON_GetNumberValue(cJSON_GetObjectItem(d, "quarantined_batches")));
    }
    putchar('\n');
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(o, "precincts"))
        puts(text(d, "summary"));
    printf("\n%s\n%s\n", L(lang, "rejected: records refused at merge (open: not yet reviewed "
                                 "at HQ).", "退回：合併時被拒絕的紀錄（括號內為總部尚未審查者）。"),
           text(o, "pending_note"));
}

bb_err hq_cmd_devices(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"org", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"lang", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org = NULL, *lang_s = NULL;
    enum bb_lang lang = BB_LANG_ZH;
    struct hq_home h;
    char dir[HQ_PATH_MAX];
    sqlite3 *db = NULL;
    bb_catalog *cat = NULL;
    cJSON *out = NULL;
    int json = 0, c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'o': org = optarg; break;
        case 'j': json = 1; break;
        case 'l': lang_s = optarg; break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (lang_s && bb_lang_parse(lang_s, &lang) != BB_OK)
        return hq_usage(eb, "--lang \"%.20s\": expected zh-TW or en", lang_s);
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, HQ_HOME_CONF, eb)) != BB_OK)
        return err;
    if (!lang_s)
        lang = h.lang;
    /* Unit names as the Devices page shows them: from the reference data HQ
     * publishes (a `reference set units` included), not only the built-in. */
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK ||
        (err = bb_db_exec(db, "BEGIN", eb)) != BB_OK ||
        (err = hq_reference_catalog(db, &cat, eb)) != BB_OK)
        goto out;
    if (org && !bb_catalog_ref(cat, "units", org)) {
        err = hq_usage(eb, "--org \"%.40s\": no such org unit (see: beatbook ref units)", org);
        goto out;
    }
    if ((err = hq_api_devices(db, cat, org, lang, &out, eb)) != BB_OK)
        goto out;
    if (json)
        err = hq_print_json(out);
    else
        print_table(out, lang);
out:
    if (db)
        bb_db_rollback(db);
    cJSON_Delete(out);
    bb_catalog_free(cat);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}
