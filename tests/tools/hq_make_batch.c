/*
 * hq_make_batch — the device side, just enough to test beatbook-hq on its
 * own: a device key, a signed registration, and sealed batches of records.
 *
 *   hq_make_batch key OUT.key
 *       a new ECDSA P-256 device key (0600); prints {"device_key": KID}
 *   hq_make_batch register ENROLL.json DEVICE.key [--token HEX] [--device ID]
 *       the signed registration for POST /v1/devices/register (canonical JSON);
 *       --token and --device put other values in it (still signed)
 *   hq_make_batch seal ENROLL.json DEVICE.key --seq N --out FILE
 *       [--prev HEX | --prev-file BATCH] [--count N] [--records FILE.json]
 *       [--org-unit CODE] [--device ID]
 *       a sealed batch: N synthetic parking citations of the enrollment's
 *       device and unit (default 3), or the records of FILE.json (an array,
 *       sealed as given); prev defaults to zeros; prints
 *       {"file","sha256","seq","batch","count","ids"}
 *
 * The enrollment file is read with bb_enroll_read, so its HQ signature is
 * checked as a device would.  Exit 0, 64 usage, else the bb_err's status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_batch.h"
#include "bb_codec.h"
#include "bb_enroll.h"
#include "bb_json.h"
#include "bb_sigdoc.h"
#include "bb_sign.h"
#include "bb_time.h"
#include "bb_uuid.h"

static int fail(bb_err err, const bb_errbuf *eb, const char *what)
{
    fprintf(stderr, "hq_make_batch: %s: %s\n", what, eb->msg[0] ? eb->msg : bb_strerror(err));
    return bb_err_exit_code(err);
}

static int usage(void)
{
    fputs("usage: hq_make_batch key OUT.key\n"
          "       hq_make_batch register ENROLL DEVICE.key [--token HEX] [--device ID]\n"
          "       hq_make_batch seal ENROLL DEVICE.key --seq N --out FILE [--prev HEX |\n"
          "                          --prev-file BATCH] [--count N] [--records FILE]\n"
          "                          [--org-unit CODE] [--device ID]\n", stderr);
    return 64;
}

static int cmd_key(int argc, char **argv)
{
    bb_sign_key *k = NULL;
    char kid[BB_KEY_ID_SIZE];
    bb_errbuf eb = {{0}};
    bb_err err;

    if (argc != 3)
        return usage();
    if ((err = bb_sign_keygen(&k, &eb)) != BB_OK ||
        (err = bb_sign_key_write(k, argv[2], &eb)) != BB_OK ||
        (err = bb_sign_key_id(k, kid, &eb)) != BB_OK) {
        bb_sign_key_free(k);
        return fail(err, &eb, "key");
    }
    printf("{\"device_key\":\"%s\"}\n", kid);
    bb_sign_key_free(k);
    return 0;
}

static int cmd_register(int argc, char **argv)
{
    static const struct option opts[] = {
        {"token", required_argument, NULL, 't'},
        {"device", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *token = NULL, *device = NULL;
    struct bb_enrollment e;
    bb_sign_key *k = NULL;
    uint8_t *der = NULL;
    size_t der_len;
    char kid[BB_KEY_ID_SIZE], *b64 = NULL, *text = NULL;
    cJSON *doc = NULL;
    bb_errbuf eb = {{0}};
    bb_err err;

    int c;

    optind = 4;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't': token = optarg; break;
        case 'd': device = optarg; break;
        default: return usage();
        }
    }
    if (argc < 4 || optind != argc)
        return usage();
    if ((err = bb_enroll_read(argv[2], &e, &eb)) != BB_OK)
        return fail(err, &eb, argv[2]);
    if ((err = bb_sign_key_load(&k, argv[3], &eb)) != BB_OK ||
        (err = bb_sign_key_id(k, kid, &eb)) != BB_OK ||
        (err = bb_sign_pub_export_der(k, &der, &der_len, &eb)) != BB_OK ||
        (err = bb_base64_encode_alloc(der, der_len, &b64, &eb)) != BB_OK)
        goto out;
    doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "v", 1);
    cJSON_AddStringToObject(doc, "device", device ? device : e.device);
    cJSON_AddStringToObject(doc, "token", token ? token : e.token);
    cJSON_AddStringToObject(doc, "device_pub", b64);
    cJSON_AddStringToObject(doc, "device_key", kid);
    if ((err = bb_sigdoc_sign(doc, BB_CTX_REGISTER, k, &eb)) != BB_OK)
        goto out;
    text = bb_json_canonical(doc);
    puts(text);
out:
    free(text);
    cJSON_Delete(doc);
    free(b64);
    free(der);
    bb_sign_key_free(k);
    bb_enroll_clear(&e);
    return err == BB_OK ? 0 : fail(err, &eb, "register");
}

/* N synthetic parking citations (valid for the catalog) as a JSON array. */
static cJSON *synthetic(const char *device, const char *unit, long n)
{
    cJSON *arr = cJSON_CreateArray();
    long i;

    for (i = 0; i < n; i++) {
        char id[BB_UUID_STRLEN + 1];
        cJSON *r = cJSON_CreateObject(), *d = cJSON_CreateObject();
        bb_uuid7(id);
        cJSON_AddStringToObject(r, "id", id);
        cJSON_AddStringToObject(r, "kind", "parking_citation");
        cJSON_AddNumberToObject(r, "rev", 1);
        cJSON_AddStringToObject(r, "status", "final");
        cJSON_AddStringToObject(r, "device", device);
        cJSON_AddStringToObject(r, "officer", "A123456");
        cJSON_AddStringToObject(r, "org_unit", unit);
        cJSON_AddStringToObject(r, "occurred_at", "2018-03-15T14:20:00+08:00");
        cJSON_AddStringToObject(r, "recorded_at", "2018-03-15T14:21:07+08:00");
        cJSON_AddStringToObject(d, "method", "stop");
        cJSON_AddStringToObject(d, "source", "police");
        cJSON_AddBoolToObject(d, "major", 1);
        cJSON_AddStringToObject(d, "violation", "red_line");
        cJSON_AddItemToObject(r, "data", d);
        cJSON_AddItemToArray(arr, r);
    }
    return arr;
}

static int cmd_seal(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seq", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"prev", required_argument, NULL, 'p'},
        {"prev-file", required_argument, NULL, 'P'},
        {"count", required_argument, NULL, 'n'},
        {"records", required_argument, NULL, 'r'},
        {"org-unit", required_argument, NULL, 'u'},
        {"device", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *prev = NULL, *prev_file = NULL, *records_file = NULL;
    const char *unit = NULL, *device = NULL;
    long long seq = 0;
    long count = 3;
    struct bb_enrollment e;
    struct bb_batch_header hdr;
    bb_sign_key *k = NULL;
    cJSON *records = NULL, *it, *ids = NULL, *res = NULL;
    char *json = NULL, *text = NULL, *prevbuf = NULL, sha[BB_SHA256_HEX];
    uint8_t *batch = NULL;
    size_t batch_len = 0, len;
    FILE *f;
    bb_errbuf eb = {{0}};
    bb_err err;
    int c;

    optind = 3;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': seq = atoll(optarg); break;
        case 'o': out = optarg; break;
        case 'p': prev = optarg; break;
        case 'P': prev_file = optarg; break;
        case 'n': count = atol(optarg); break;
        case 'r': records_file = optarg; break;
        case 'u': unit = optarg; break;
        case 'd': device = optarg; break;
        default: return usage();
        }
    }
    if (argc < 4 || seq < 1 || !out || count < 1)
        return usage();
    if ((err = bb_enroll_read(argv[1], &e, &eb)) != BB_OK)
        return fail(err, &eb, argv[1]);
    if ((err = bb_sign_key_load(&k, argv[2], &eb)) != BB_OK)
        goto out;
    memset(&hdr, 0, sizeof hdr);
    snprintf(hdr.device, sizeof hdr.device, "%s", device ? device : e.device);
    if ((err = bb_uuid7(hdr.batch)) != BB_OK)
        goto out;
    hdr.seq = seq;
    if (prev_file) {
        if ((err = bb_read_file(prev_file, BB_BATCH_MAX, &prevbuf, &len, &eb)) != BB_OK)
            goto out;
        bb_sha256_hex((const uint8_t *)prevbuf, len, hdr.prev);
    } else {
        snprintf(hdr.prev, sizeof hdr.prev, "%s",
                 prev ? prev : "0000000000000000000000000000000000000000000000000000000000000000");
    }
    if ((err = bb_time_now_taipei(hdr.created_at)) != BB_OK)
        goto out;
    snprintf(hdr.hq_key, sizeof hdr.hq_key, "%s", e.hq_x25519_key);
    if ((err = bb_sign_key_id(k, hdr.device_key, &eb)) != BB_OK)
        goto out;
    if (records_file) {
        char *t;
        if ((err = bb_read_file(records_file, BB_BATCH_MAX, &t, &len, &eb)) != BB_OK)
            goto out;
        err = bb_json_parse(t, len, records_file, &records, &eb);
        free(t);
        if (err != BB_OK)
            goto out;
    } else {
        records = synthetic(hdr.device, unit ? unit : e.org_unit, count);
    }
    hdr.count = cJSON_GetArraySize(records);
    json = bb_json_canonical(records);
    if ((err = bb_batch_seal(&hdr, json, strlen(json), e.hq_x25519, k, &batch, &batch_len,
                             &eb)) != BB_OK)
        goto out;
    if (!(f = fopen(out, "wb")) || fwrite(batch, 1, batch_len, f) != batch_len ||
        fclose(f) != 0) {
        err = bb_fail(&eb, BB_ERR_IO, "write %s", out);
        goto out;
    }
    bb_sha256_hex(batch, batch_len, sha);
    res = cJSON_CreateObject();
    ids = cJSON_CreateArray();
    cJSON_ArrayForEach(it, records)
        cJSON_AddItemToArray(ids, cJSON_CreateString(bb_json_str(it, "id") ? bb_json_str(it, "id") : ""));
    cJSON_AddStringToObject(res, "file", out);
    cJSON_AddStringToObject(res, "sha256", sha);
    cJSON_AddNumberToObject(res, "seq", (double)seq);
    cJSON_AddStringToObject(res, "batch", hdr.batch);
    cJSON_AddNumberToObject(res, "count", (double)hdr.count);
    cJSON_AddItemToObject(res, "ids", ids);
    text = bb_json_canonical(res);
    puts(text);
out:
    free(text);
    cJSON_Delete(res);
    free(batch);
    free(json);
    free(prevbuf);
    cJSON_Delete(records);
    bb_sign_key_free(k);
    bb_enroll_clear(&e);
    return err == BB_OK ? 0 : fail(err, &eb, "seal");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "key") == 0)
        return cmd_key(argc, argv);
    if (strcmp(argv[1], "register") == 0)
        return cmd_register(argc, argv);
    if (strcmp(argv[1], "seal") == 0) {
        /* seal ENROLL KEY [options]: shift so argv[1], argv[2] are the files. */
        if (argc < 4)
            return usage();
        return cmd_seal(argc - 1, argv + 1);
    }
    return usage();
}
