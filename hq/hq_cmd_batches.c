/*
 * hq_cmd_batches.c — `beatbook-hq batches --device ID`: which batches of a
 * device HQ holds, as ranges of seq, which are missing below the highest,
 * and which were quarantined ("batches 1–12, 14–20 received; missing: 13").
 */
#include "hq_cli.h"
#include "hq_home.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    fputs("usage: beatbook-hq batches --device ID [--json] [--data DIR]\n"
          "\n"
          "The batches HQ has received from device ID, as ranges of their seq, the seqs\n"
          "missing below the highest received, batches kept in quarantine, and records\n"
          "rejected from merged batches.\n",
          stdout);
}

struct ranges {
    long long (*r)[2];
    size_t n, cap;
};

static int range_add(struct ranges *rs, long long from, long long to)
{
    if (rs->n && rs->r[rs->n - 1][1] + 1 == from) {
        rs->r[rs->n - 1][1] = to;
        return 0;
    }
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 16;
        long long (*nr)[2] = realloc(rs->r, nc * sizeof *nr);
        if (!nr)
            return -1;
        rs->r = nr;
        rs->cap = nc;
    }
    rs->r[rs->n][0] = from;
    rs->r[rs->n][1] = to;
    rs->n++;
    return 0;
}

/* "1–12, 14–20" (en dash as the docs write it), or "none". */
static void print_ranges(const struct ranges *rs)
{
    size_t i;

    if (rs->n == 0) {
        fputs("none", stdout);
        return;
    }
    for (i = 0; i < rs->n; i++) {
        if (rs->r[i][0] == rs->r[i][1])
            printf("%s%lld", i ? ", " : "", rs->r[i][0]);
        else
            printf("%s%lld\u2013%lld", i ? ", " : "", rs->r[i][0], rs->r[i][1]);
    }
}

static cJSON *ranges_json(const struct ranges *rs)
{
    cJSON *a = cJSON_CreateArray();
    size_t i;

    for (i = 0; a && i < rs->n; i++) {
        cJSON *p = cJSON_CreateArray();
        if (!p || !cJSON_AddItemToArray(a, p) ||
            !cJSON_AddItemToArray(p, cJSON_CreateNumber((double)rs->r[i][0])) ||
            !cJSON_AddItemToArray(p, cJSON_CreateNumber((double)rs->r[i][1]))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

bb_err hq_cmd_batches(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"device", required_argument, NULL, 'D'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *device = NULL;
    struct ranges got = {0}, missing = {0};
    struct hq_device d;
    struct hq_home h;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    cJSON *out = NULL, *quar = NULL;
    char dir[HQ_PATH_MAX];
    long long last = 0, count = 0, rejected = 0, records = 0;
    int json = 0, c, rc, nquar = 0;
    bb_err err;

    memset(&d, 0, sizeof d);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'D': device = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (!device)
        return hq_usage(eb, "--device ID is required (see: beatbook-hq device list)");
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, 0, eb)) != BB_OK)
        return err;
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK)
        goto out;
    if ((err = hq_device_get(db, device, &d, eb)) != BB_OK) {
        if (err == BB_ERR_NOTFOUND)
            bb_fail(eb, err, "no device %.80s (see: beatbook-hq device list)", device);
        goto out;
    }
    /* Received seqs → ranges; the holes below the highest → missing. */
    if ((err = bb_db_prepare(db, "SELECT seq, count, rejected FROM batches WHERE device = ?1 "
                                 "ORDER BY seq", &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, d.id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long seq = sqlite3_column_int64(st, 0);
        if (seq > last + 1 && range_add(&missing, last + 1, seq - 1) != 0)
            goto oom;
        if (range_add(&got, seq, seq) != 0)
            goto oom;
        last = seq;
        count++;
        records += sqlite3_column_int64(st, 1);
        rejected += sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read batches", eb);
        goto out;
    }
    if (!(quar = cJSON_CreateArray()))
        goto oom;
    if ((err = bb_db_prepare(db, "SELECT seq, batch, sha256, received_at, source, reason "
                                 "FROM quarantined_batches WHERE device = ?1 ORDER BY seq, id",
                             &st, eb)) != BB_OK)
        goto out;
    sqlite3_bind_text(st, 1, d.id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char f[6][300];
        cJSON *o = cJSON_CreateObject();
        int i;
        for (i = 0; i < 6; i++)
            hq_col_text(st, i, f[i], sizeof f[i]);
        if (!o || !cJSON_AddItemToArray(quar, o) ||
            !cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 0)) ||
            !cJSON_AddStringToObject(o, "batch", f[1]) ||
            !cJSON_AddStringToObject(o, "sha256", f[2]) ||
            !cJSON_AddStringToObject(o, "received_at", f[3]) ||
            !cJSON_AddStringToObject(o, "source", f[4]) ||
            !cJSON_AddStringToObject(o, "reason", f[5]))
            goto oom;
        nquar++;
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read quarantine", eb);
        goto out;
    }
    if (json) {
        cJSON *g = ranges_json(&got), *m = ranges_json(&missing);
        if (!(out = cJSON_CreateObject()) || !g || !m ||
            !cJSON_AddItemToObject(out, "received", g) ||
            !cJSON_AddItemToObject(out, "missing", m)) {
            cJSON_Delete(g);
            cJSON_Delete(m);
            goto oom;
        }
        if (!cJSON_AddStringToObject(out, "device", d.id) ||
            !cJSON_AddStringToObject(out, "org_unit", d.org_unit) ||
            !cJSON_AddStringToObject(out, "status", hq_device_status_name(d.status)) ||
            !cJSON_AddNumberToObject(out, "batches", (double)count) ||
            !cJSON_AddNumberToObject(out, "last_seq", (double)last) ||
            !cJSON_AddNumberToObject(out, "records", (double)records) ||
            !cJSON_AddNumberToObject(out, "rejected_records", (double)rejected) ||
            !cJSON_AddItemToObject(out, "quarantined", quar))
            goto oom;
        quar = NULL;
        err = hq_print_json(out);
        goto out;
    }
    printf("device %s (%s, \"%s\", %s)\n", d.id, d.org_unit, d.label,
           hq_device_status_name(d.status));
    if (count == 0) {
        printf("no batches received\n");
    } else {
        printf("batches ");
        print_ranges(&got);
        printf(" received (%lld batches, %lld records, %lld rejected); missing: ", count,
               records, rejected);
        print_ranges(&missing);
        printf("\n");
    }
    if (nquar) {
        cJSON *q;
        printf("quarantined (not merged):\n");
        cJSON_ArrayForEach(q, quar) {
            printf("  batch %lld  received %s via %s  %s\n",
                   (long long)cJSON_GetObjectItem(q, "seq")->valuedouble,
                   bb_json_str(q, "received_at"), bb_json_str(q, "source"),
                   bb_json_str(q, "reason"));
        }
    }
    goto out;
oom:
    err = bb_fail(eb, BB_ERR_NOMEM, "batches: out of memory");
out:
    sqlite3_finalize(st);
    cJSON_Delete(out);
    cJSON_Delete(quar);
    free(got.r);
    free(missing.r);
    hq_device_clear(&d);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}
