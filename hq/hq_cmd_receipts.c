/*
 * hq_cmd_receipts.c — `beatbook-hq export-receipts (--device ID | --org CODE) --to DIR`:
 * receipts back by USB stick (docs/PROTOCOL.md "By USB stick").  For every
 * selected device, each batch HQ holds becomes DEVICE-NNNNNN.receipt.json —
 * the signed receipt byte for byte as HQ answered POST /v1/batches — and the
 * current signed reference bundle becomes reference.json.  `beatbook import
 * DIR` on the laptop verifies them all and applies them through the same code
 * as beatbook-syncd (bb_outbox_ack, bb_refbundle), then purges what the
 * retention allows.  Read-only on hq.db except that a reference bundle is
 * published (signed once) when none has been yet.
 */
#include "hq_cli.h"
#include "hq_digest.h"
#include "hq_home.h"
#include "hq_reference.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(void)
{
    fputs("usage: beatbook-hq export-receipts (--device ID | --org CODE) --to DIR [--data DIR]\n"
          "\n"
          "Write HQ's signed receipts of every batch received from device ID (or from\n"
          "every device within org unit CODE) to DIR as DEVICE-NNNNNN.receipt.json, and\n"
          "the current signed reference bundle as reference.json.  On a laptop that has\n"
          "no network, `beatbook import DIR` verifies and applies them: acknowledged\n"
          "data can then be purged and the reference lists are brought up to date.\n",
          stdout);
}

/* dir/name = len bytes, durably: a temporary name, fsync, rename. */
static bb_err write_file(const char *dir, const char *name, const char *buf, size_t len,
                         bb_errbuf *eb)
{
    char path[8192], tmp[8200];
    size_t off = 0;
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
        return bb_fail(eb, bb_errno_err(errno), "create %s: %s", tmp, strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off < len || fsync(fd) != 0 || close(fd) != 0) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        return bb_fail(eb, bb_errno_err(e), "write %s: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return bb_fail(eb, bb_errno_err(e), "write %s: %s", path, strerror(e));
    }
    return BB_OK;
}

bb_err hq_cmd_export_receipts(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"device", required_argument, NULL, 'v'},
        {"org", required_argument, NULL, 'o'},
        {"to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *device = NULL, *org = NULL, *to = NULL;
    struct hq_reference ref;
    struct hq_home h;
    struct stat sb;
    char dir[HQ_PATH_MAX], last[80] = "";
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long receipts = 0, devices = 0, att_receipts = 0;
    int c, rc;
    bb_err err;

    memset(&ref, 0, sizeof ref);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'v': device = optarg; break;
        case 'o': org = optarg; break;
        case 't': to = optarg; break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (!device == !org)
        return hq_usage(eb, "give either --device ID or --org CODE");
    if (!to)
        return hq_usage(eb, "--to DIR is required (the folder on the USB stick)");
    if (stat(to, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return bb_fail(eb, BB_ERR_NOTFOUND, "export to %s: not a folder (is the stick "
                       "mounted?)", to);
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, HQ_HOME_CONF | HQ_HOME_KEYS | HQ_HOME_CATALOG, eb)) != BB_OK)
        return err;
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK)
        goto out;
    if (org && !bb_catalog_ref(h.cat, "units", org)) {
        err = hq_usage(eb, "--org \"%.40s\": no such org unit (see: beatbook ref units)", org);
        goto out;
    }
    if (device) {
        struct hq_device d;
        memset(&d, 0, sizeof d);
        err = hq_device_get(db, device, &d, eb);
        hq_device_clear(&d);
        if (err == BB_ERR_NOTFOUND)
            err = bb_fail(eb, BB_ERR_NOTFOUND, "no device %s at this HQ (see: beatbook-hq "
                          "devices)", device);
        if (err != BB_OK)
            goto out;
    }
    if ((err = bb_db_prepare(db,
            "SELECT b.device, b.seq, b.receipt, d.org_unit FROM batches b JOIN devices d ON "
            "d.id = b.device WHERE (?1 IS NULL OR b.device = ?1) ORDER BY b.device, b.seq",
            &st, eb)) != BB_OK)
        goto out;
    if (device)
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *dev = (const char *)sqlite3_column_text(st, 0);
        const char *receipt = (const char *)sqlite3_column_text(st, 2);
        const char *unit = (const char *)sqlite3_column_text(st, 3);
        char name[200];
        if (!dev || !receipt || (org && !(unit && bb_catalog_unit_within(h.cat, unit, org))))
            continue;
        snprintf(name, sizeof name, "%s-%06lld.receipt.json", dev,
                 (long long)sqlite3_column_int64(st, 1));
        if ((err = write_file(to, name, receipt, (size_t)sqlite3_column_bytes(st, 2), eb))
            != BB_OK)
            goto out;
        if (strcmp(last, dev) != 0) {
            /* And HQ's agreement digests with every record (beatbook verify-hq --from). */
            char *dig = NULL;
            snprintf(last, sizeof last, "%s", dev);
            devices++;
            snprintf(name, sizeof name, "%s.digests.json", dev);
            if ((err = hq_digest_build(&h, db, dev, NULL, NULL, 1, &dig, eb)) != BB_OK ||
                (err = write_file(to, name, dig, strlen(dig), eb)) != BB_OK) {
                free(dig);
                goto out;
            }
            free(dig);
            snprintf(name, sizeof name, "%s-%06lld.receipt.json", dev,
                     (long long)sqlite3_column_int64(st, 1));
        }
        receipts++;
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read batches", eb);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Each photo's or file's receipt (DEVICE-SHA256.att-receipt.json): the laptop may
     * free a file only once HQ's signed receipt names it. */
    if ((err = bb_db_prepare(db,
            "SELECT r.device, r.sha256, r.receipt, d.org_unit FROM attachment_receipts r "
            "JOIN devices d ON d.id = r.device WHERE (?1 IS NULL OR r.device = ?1) "
            "ORDER BY r.device, r.sha256", &st, eb)) != BB_OK)
        goto out;
    if (device && sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC) != SQLITE_OK) {
        err = bb_db_err(db, SQLITE_ERROR, "bind", eb);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *dev = (const char *)sqlite3_column_text(st, 0);
        const char *sha = (const char *)sqlite3_column_text(st, 1);
        const char *receipt = (const char *)sqlite3_column_text(st, 2);
        const char *unit = (const char *)sqlite3_column_text(st, 3);
        char name[220];
        if (!dev || !sha || !receipt || (org && !(unit && bb_catalog_unit_within(h.cat, unit,
                                                                                 org))))
            continue;
        snprintf(name, sizeof name, "%s-%s.att-receipt.json", dev, sha);
        if ((err = write_file(to, name, receipt, (size_t)sqlite3_column_bytes(st, 2), eb))
            != BB_OK)
            goto out;
        att_receipts++;
    }
    if (rc != SQLITE_DONE) {
        err = bb_db_err(db, rc, "read attachment receipts", eb);
        goto out;
    }
    err = hq_reference_latest(db, &ref, eb);
    if (err == BB_ERR_NOTFOUND)
        err = hq_reference_publish(&h.keys, db, &ref, NULL, eb);
    if (err != BB_OK || (err = write_file(to, "reference.json", ref.body, ref.len, eb)) != BB_OK)
        goto out;
    {
        int dfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    printf("wrote %ld receipt(s) of %ld device(s), %ld photo/file receipt(s) and the "
           "reference bundle (version %.12s) to %s; on the laptop: beatbook import %s\n",
           receipts, devices, att_receipts, ref.version, to, to);
out:
    sqlite3_finalize(st);
    hq_reference_clear(&ref);
    bb_db_close(db);
    hq_home_close(&h);
    return err;
}
