/*
 * hq_cmd_device.c — `beatbook-hq device enroll | list | revoke`.
 *
 * enroll stores a pending device (only the SHA-256 of its one-time token)
 * and writes the signed enrollment file (bb_enroll_write: 0600, O_EXCL) in
 * the same transaction: if the file cannot be written the device is not
 * stored, and if the commit fails the file is removed.
 */
#include "hq_cli.h"
#include "hq_home.h"
#include "hq_store.h"
#include "bb_codec.h"
#include "bb_db.h"
#include "bb_enroll.h"
#include "bb_json.h"
#include "bb_rand.h"
#include "bb_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#define LABEL_MAX 200            /* characters */
#define REASON_MAX 500           /* characters */

static void help(FILE *out)
{
    fputs("usage: beatbook-hq device enroll --org-unit CODE --label TEXT --out FILE\n"
          "                                [--expires-days N] [--json] [--data DIR]\n"
          "       beatbook-hq device list [--json] [--data DIR]\n"
          "       beatbook-hq device revoke DEVICE --reason TEXT [--data DIR]\n"
          "\n"
          "enroll   register a new field laptop for org unit CODE (see: beatbook ref units):\n"
          "         writes the signed enrollment file FILE (mode 0600; it holds a one-time\n"
          "         token) for `beatbook init --enroll FILE`.  The token expires after N\n"
          "         days (default 30, at most 365).\n"
          "list     every device: org unit, label, status (pending/active/revoked), its\n"
          "         registered key id, enrolled, last contact, last seq, batches, records\n"
          "revoke   refuse DEVICE's later batches (they are kept in quarantine, never\n"
          "         merged); the reason goes to the audit log\n",
          out);
}

/* Free text for a label or reason: UTF-8, no control characters, 1..max characters. */
static bb_err check_text(const char *what, const char *s, long max, bb_errbuf *eb)
{
    long n = bb_utf8_length(s);
    const unsigned char *p;

    if (n < 1 || n > max)
        return hq_usage(eb, "%s must be 1 to %ld characters of UTF-8 text", what, max);
    for (p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return hq_usage(eb, "%s must not contain control characters", what);
    return BB_OK;
}

static bb_err new_device_id(char out[HQ_DEVICE_ID_LEN + 1], bb_errbuf *eb)
{
    uint8_t raw[8];
    bb_err err;

    memcpy(out, "d-", 2);
    if ((err = bb_random(raw, sizeof raw)) != BB_OK)
        return bb_fail(eb, err, "device id: no randomness from the kernel");
    return bb_hex_encode(raw, sizeof raw, out + 2, HQ_DEVICE_ID_LEN - 1, eb);
}

static bb_err cmd_enroll(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"org-unit", required_argument, NULL, 'o'},
        {"label", required_argument, NULL, 'l'},
        {"out", required_argument, NULL, 'f'},
        {"expires-days", required_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *unit = NULL, *label = NULL, *out = NULL;
    long days = 30;
    struct bb_enrollment e;
    struct hq_device d;
    struct hq_home h;
    sqlite3 *db = NULL;
    char dir[HQ_PATH_MAX], detail[400], *end;
    int64_t now;
    int json = 0, c, tries, written = 0;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'o': unit = optarg; break;
        case 'l': label = optarg; break;
        case 'f': out = optarg; break;
        case 'j': json = 1; break;
        case 'e':
            days = strtol(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end || days < 1 || days > 365)
                return hq_usage(eb, "--expires-days: expected a number of days from 1 to 365");
            break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (!unit)
        return hq_usage(eb, "--org-unit CODE is required (see: beatbook ref units)");
    if (!label)
        return hq_usage(eb, "--label TEXT is required (e.g. \"P06-S03 laptop 2\")");
    if (!out)
        return hq_usage(eb, "--out FILE is required (where to write the enrollment file)");
    if ((err = check_text("--label", label, LABEL_MAX, eb)) != BB_OK ||
        (err = hq_home_dir(data, dir, eb)) != BB_OK)
        return err;
    if (strlen(unit) >= sizeof e.org_unit || strlen(label) >= sizeof e.label)
        return hq_usage(eb, "--org-unit or --label is too long");
    if ((err = hq_home_open(&h, dir, HQ_HOME_CONF | HQ_HOME_KEYS | HQ_HOME_TLS |
                                        HQ_HOME_CATALOG, eb)) != BB_OK)
        return err;
    if (!bb_catalog_ref(h.cat, "units", unit)) {
        hq_home_close(&h);
        return hq_usage(eb, "--org-unit: \"%s\" is not a known org unit (see: beatbook ref "
                        "units)", unit);
    }
    if (strlen(h.conf.url) >= sizeof e.hq_url) {
        hq_home_close(&h);
        return bb_fail(eb, BB_ERR_CONFIG, "%s: url is too long for an enrollment file",
                       h.conf_path);
    }

    memset(&e, 0, sizeof e);
    memset(&d, 0, sizeof d);
    memcpy(e.hq_url, h.conf.url, strlen(h.conf.url) + 1);     /* length checked above */
    snprintf(e.tls_pin, sizeof e.tls_pin, "%s", h.tls.pin);
    e.tls_ca = h.tls.self_signed ? h.tls.cert_pem : NULL;
    memcpy(e.hq_x25519, h.keys.x_pk, sizeof e.hq_x25519);
    snprintf(e.org_unit, sizeof e.org_unit, "%s", unit);
    snprintf(e.label, sizeof e.label, "%s", label);
    now = bb_time_now();
    if ((err = bb_time_format(now, BB_TAIPEI_OFFSET_MIN, e.issued_at)) != BB_OK ||
        (err = bb_time_format(now + days * 86400, BB_TAIPEI_OFFSET_MIN, e.expires_at)) != BB_OK ||
        (err = bb_enroll_new_token(e.token)) != BB_OK ||
        (err = bb_token_hash(e.token, d.token_hash)) != BB_OK) {
        bb_fail(eb, err, "enroll: cannot make the token");
        goto out;
    }
    snprintf(d.org_unit, sizeof d.org_unit, "%s", unit);
    snprintf(d.label, sizeof d.label, "%s", label);
    snprintf(d.enrolled_at, sizeof d.enrolled_at, "%s", e.issued_at);
    d.token_expires = now + days * 86400;

    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK)
        goto out;
    for (tries = 0; tries < 5; tries++) {
        if ((err = new_device_id(d.id, eb)) != BB_OK)
            goto out;
        if ((err = bb_db_begin(db, eb)) != BB_OK)
            goto out;
        err = hq_device_insert(db, &d, eb);
        if (err != BB_ERR_EXISTS)
            break;
        bb_db_rollback(db);        /* 2^64 ids: a collision is a curiosity; pick again */
    }
    if (err != BB_OK)
        goto rollback;
    snprintf(e.device, sizeof e.device, "%s", d.id);
    snprintf(detail, sizeof detail, "org_unit=%s expires_at=%s", unit, e.expires_at);
    if ((err = hq_audit(db, "cli", "enroll", d.id, detail, eb)) != BB_OK ||
        (err = bb_enroll_write(&e, h.keys.sign, out, eb)) != BB_OK)
        goto rollback;
    written = 1;
    if ((err = bb_db_commit(db, eb)) != BB_OK)
        goto rollback;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        err = BB_ERR_NOMEM;
        if (o && cJSON_AddStringToObject(o, "device", d.id) &&
            cJSON_AddStringToObject(o, "org_unit", unit) &&
            cJSON_AddStringToObject(o, "label", label) &&
            cJSON_AddStringToObject(o, "file", out) &&
            cJSON_AddStringToObject(o, "expires_at", e.expires_at))
            err = hq_print_json(o);
        cJSON_Delete(o);
    } else {
        printf("enrolled device %s (%s, \"%s\")\n"
               "enrollment file: %s (mode 0600; holds a one-time token: hand it over on a\n"
               "  USB stick, then delete it) — valid until %s\n"
               "on the laptop: beatbook init --enroll FILE --officer ID\n",
               d.id, unit, label, out, e.expires_at);
    }
    goto out;
rollback:
    bb_db_rollback(db);
    if (written)
        unlink(out);
out:
    mbedtls_platform_zeroize(e.token, sizeof e.token);
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
    struct hq_home h;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    cJSON *arr = NULL;
    char dir[HQ_PATH_MAX];
    int json = 0, c, rc, n = 0;
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
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, 0, eb)) != BB_OK)
        return err;
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK ||
        (err = bb_db_prepare(db,
            "SELECT d.id, d.org_unit, d.label, d.status, d.device_key, d.enrolled_at, "
            "d.last_contact, d.last_seq, "
            "(SELECT count(*) FROM batches b WHERE b.device = d.id), "
            "(SELECT count(*) FROM records r WHERE r.device = d.id), "
            "(SELECT count(*) FROM quarantined_batches q WHERE q.device = d.id), "
            "d.registered_at, d.revoked_at, d.revoke_reason "
            "FROM devices d ORDER BY d.org_unit, d.enrolled_at, d.id", &st, eb)) != BB_OK)
        goto out;
    if (json && !(arr = cJSON_CreateArray())) {
        err = bb_fail(eb, BB_ERR_NOMEM, "device list: out of memory");
        goto out;
    }
    if (!json)
        printf("%-18s  %-8s  %-7s  %-16s  %-25s  %-25s  %8s  %7s  %7s  %s\n", "DEVICE", "UNIT",
               "STATUS", "KEY", "ENROLLED", "LAST CONTACT", "LAST SEQ", "BATCHES", "RECORDS",
               "LABEL");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char f[14][520];
        int i;
        for (i = 0; i < 14; i++)
            hq_col_text(st, i, f[i], sizeof f[i]);
        n++;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(arr, o) ||
                !cJSON_AddStringToObject(o, "device", f[0]) ||
                !cJSON_AddStringToObject(o, "org_unit", f[1]) ||
                !cJSON_AddStringToObject(o, "label", f[2]) ||
                !cJSON_AddStringToObject(o, "status", f[3]) ||
                !(f[4][0] ? cJSON_AddStringToObject(o, "device_key", f[4])
                          : cJSON_AddNullToObject(o, "device_key")) ||
                !cJSON_AddStringToObject(o, "enrolled_at", f[5]) ||
                !(f[11][0] ? cJSON_AddStringToObject(o, "registered_at", f[11])
                           : cJSON_AddNullToObject(o, "registered_at")) ||
                !(f[6][0] ? cJSON_AddStringToObject(o, "last_contact", f[6])
                          : cJSON_AddNullToObject(o, "last_contact")) ||
                !cJSON_AddNumberToObject(o, "last_seq", (double)sqlite3_column_int64(st, 7)) ||
                !cJSON_AddNumberToObject(o, "batches", (double)sqlite3_column_int64(st, 8)) ||
                !cJSON_AddNumberToObject(o, "records", (double)sqlite3_column_int64(st, 9)) ||
                !cJSON_AddNumberToObject(o, "quarantined_batches",
                                         (double)sqlite3_column_int64(st, 10)) ||
                !(f[12][0] ? cJSON_AddStringToObject(o, "revoked_at", f[12])
                           : cJSON_AddNullToObject(o, "revoked_at")) ||
                !(f[13][0] ? cJSON_AddStringToObject(o, "revoke_reason", f[13])
                           : cJSON_AddNullToObject(o, "revoke_reason"))) {
                err = bb_fail(eb, BB_ERR_NOMEM, "device list: out of memory");
                goto out;
            }
        } else {
            printf("%-18s  %-8s  %-7s  %-16s  %-25s  %-25s  %8s  %7lld  %7lld  %s\n", f[0],
                   f[1], f[3], f[4][0] ? f[4] : "-", f[5], f[6][0] ? f[6] : "never",
                   f[7][0] ? f[7] : "-", (long long)sqlite3_column_int64(st, 8),
                   (long long)sqlite3_column_int64(st, 9), f[2]);
        }
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "list devices", eb);
        goto out;
    }
    if (json)
        err = hq_print_json(arr);
    else if (n == 0)
        printf("(no devices yet: beatbook-hq device enroll --org-unit CODE --label TEXT "
               "--out FILE)\n");
out:
    cJSON_Delete(arr);
    sqlite3_finalize(st);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

static bb_err cmd_revoke(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"reason", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *reason = NULL, *id;
    struct hq_device d;
    struct hq_home h;
    sqlite3 *db = NULL;
    char dir[HQ_PATH_MAX], now[BB_TIME_MAX], detail[700];
    int c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'r': reason = optarg; break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind >= argc)
        return hq_usage(eb, "which device? (see: beatbook-hq device list)");
    id = argv[optind];
    if (optind + 1 < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind + 1]);
    if (!reason)
        return hq_usage(eb, "--reason TEXT is required (it goes to the audit log)");
    if ((err = check_text("--reason", reason, REASON_MAX, eb)) != BB_OK ||
        (err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, 0, eb)) != BB_OK)
        return err;
    memset(&d, 0, sizeof d);
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK ||
        (err = bb_time_now_taipei(now)) != BB_OK || (err = bb_db_begin(db, eb)) != BB_OK)
        goto out;
    if ((err = hq_device_get(db, id, &d, eb)) != BB_OK) {
        if (err == BB_ERR_NOTFOUND)
            bb_fail(eb, err, "no device %.80s (see: beatbook-hq device list)", id);
        goto rollback;
    }
    snprintf(detail, sizeof detail, "reason=%s", reason);
    if ((err = hq_device_revoke(db, d.id, reason, now, eb)) != BB_OK ||
        (err = hq_audit(db, "cli", "revoke", d.id, detail, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK)
        goto rollback;
    printf("revoked device %s (%s, \"%s\"): its later batches are refused and kept in "
           "quarantine\n", d.id, d.org_unit, d.label);
    goto out;
rollback:
    bb_db_rollback(db);
out:
    hq_device_clear(&d);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}

bb_err hq_cmd_device(int argc, char **argv, bb_errbuf *eb)
{
    static const struct hq_verb verbs[] = {
        {"enroll", cmd_enroll}, {"list", cmd_list}, {"revoke", cmd_revoke},
    };
    return hq_dispatch("device", verbs, sizeof verbs / sizeof verbs[0], help, argc, argv, eb);
}
