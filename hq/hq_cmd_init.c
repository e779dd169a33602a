/*
 * hq_cmd_init.c — `beatbook-hq init`: a new data folder (hq_home.h) with
 * the store (holding the built-in 107 plan), HQ's two key pairs, a TLS
 * certificate and hq.conf.  Nothing is
 * ever overwritten: an existing store or a non-empty folder is refused
 * (exit 73), and a failure half-way removes what this run created.
 */
#include "hq_cli.h"
#include "hq_facts.h"
#include "hq_files.h"
#include "hq_home.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"
#include "bb_time.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#define DEFAULT_LISTEN "0.0.0.0:8443"

static void help(void)
{
    fputs("usage: beatbook-hq init --data DIR [--url URL] [--listen ADDR:PORT]\n"
          "                        [--hostname NAME]... [--tls-cert FILE --tls-key FILE]\n"
          "                        [--json]\n"
          "\n"
          "Create HQ's data folder DIR (mode 0700): the store hq.db, the X25519 key batches\n"
          "are sealed to (keys/hq-x25519.key), the signing key for receipts and enrollment\n"
          "files (keys/hq-sign.key), a TLS certificate and key (tls/), and hq.conf.\n"
          "Prints the key ids and the TLS pin devices check.\n"
          "\n"
          "  --data DIR          the folder to create (default: $BEATBOOK_HQ_DATA); an\n"
          "                      existing store is never overwritten (exit 73)\n"
          "  --url URL           the https:// address devices use (default: https://\n"
          "                      the first --hostname, else localhost, and the port)\n"
          "  --listen ADDR:PORT  where `serve` listens (default " DEFAULT_LISTEN ")\n"
          "  --hostname NAME     a name or IP address of this server for the self-signed\n"
          "                      certificate (repeatable; localhost and 127.0.0.1 are added)\n"
          "  --tls-cert FILE, --tls-key FILE\n"
          "                      use this certificate and key (PEM) instead of a self-signed\n"
          "                      one; they are checked and copied into DIR/tls/\n"
          "  --json              print the result as JSON\n",
          stdout);
}

/* What this run created, to remove on failure (in reverse order). */
struct created {
    char paths[12][HQ_PATH_MAX + 64];
    int is_dir[12];
    int n;
};

static void note(struct created *c, const char *path, int is_dir)
{
    if (c->n < 12) {
        snprintf(c->paths[c->n], sizeof c->paths[0], "%s", path);
        c->is_dir[c->n++] = is_dir;
    }
}

static void undo(struct created *c)
{
    while (c->n > 0) {
        c->n--;
        if (c->is_dir[c->n])
            rmdir(c->paths[c->n]);
        else
            unlink(c->paths[c->n]);
    }
}

/* BB_OK when dir does not exist or is an empty folder (*existed tells which). */
static bb_err check_target(const char *dir, int *existed, bb_errbuf *eb)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    char db[HQ_PATH_MAX + 16];

    *existed = 0;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return BB_OK;
        return bb_fail(eb, bb_errno_err(errno), "%s: %s", dir, strerror(errno));
    }
    *existed = 1;
    if (!S_ISDIR(st.st_mode))
        return bb_fail(eb, BB_ERR_EXISTS, "%s exists and is not a folder", dir);
    snprintf(db, sizeof db, "%s/%s", dir, HQ_DB_NAME);
    if (access(db, F_OK) == 0)
        return bb_fail(eb, BB_ERR_EXISTS, "%s already holds an HQ store (%s); init never "
                       "overwrites one", dir, HQ_DB_NAME);
    if (!(d = opendir(dir)))
        return bb_fail(eb, bb_errno_err(errno), "%s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            closedir(d);
            return bb_fail(eb, BB_ERR_EXISTS, "%s already exists and is not empty; give a "
                           "new or empty folder", dir);
        }
    }
    closedir(d);
    return BB_OK;
}

/* The port of an ADDR:PORT listen address ("" when 0 or absent). */
static void listen_port(const char *listen, char *out, size_t size)
{
    const char *colon = strrchr(listen, ':');
    snprintf(out, size, "%s", colon && strcmp(colon + 1, "0") != 0 ? colon : "");
}

static bb_err copy_file(const char *from, const char *to, mode_t mode, int private_file,
                        bb_errbuf *eb)
{
    char *data;
    size_t len;
    bb_err err;

    if ((err = hq_read_small_file(from, 256 * 1024, private_file, &data, &len, eb)) != BB_OK)
        return err;
    err = hq_write_new_file(to, data, len, mode, eb);
    mbedtls_platform_zeroize(data, len);
    free(data);
    return err;
}

static bb_err print_result(const struct hq_home *h, const struct hq_conf *conf, int json)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        bb_err err = BB_ERR_NOMEM;
        if (o && cJSON_AddStringToObject(o, "data", h->dir) &&
            cJSON_AddStringToObject(o, "db", h->db_path) &&
            cJSON_AddStringToObject(o, "url", conf->url) &&
            cJSON_AddStringToObject(o, "listen", conf->listen) &&
            cJSON_AddStringToObject(o, "hq_x25519_key", h->keys.x_kid) &&
            cJSON_AddStringToObject(o, "hq_sign_key", h->keys.sign_kid) &&
            cJSON_AddStringToObject(o, "tls_pin", h->tls.pin) &&
            cJSON_AddBoolToObject(o, "tls_self_signed", h->tls.self_signed) &&
            cJSON_AddStringToObject(o, "tls_not_after", h->tls.not_after))
            err = hq_print_json(o);
        cJSON_Delete(o);
        return err;
    }
    printf("created the HQ data folder %s\n"
           "  store          %s\n"
           "  settings       %s/%s (url %s, listen %s)\n"
           "  batch key      %s/%s  id %s\n"
           "  signing key    %s/%s  id %s\n"
           "  TLS            %s/%s (%s, valid until %s)\n"
           "  TLS pin        %s\n"
           "next: beatbook-hq device enroll --data %s --org-unit CODE --label TEXT --out FILE\n",
           h->dir, h->db_path, h->dir, HQ_CONF_NAME, conf->url, conf->listen, h->dir,
           HQ_KEY_X25519, h->keys.x_kid, h->dir, HQ_KEY_SIGN, h->keys.sign_kid, h->dir,
           conf->tls_cert, h->tls.self_signed ? "self-signed" : "given certificate",
           h->tls.not_after, h->tls.pin, h->dir);
    return BB_OK;
}

bb_err hq_cmd_init(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},
        {"listen", required_argument, NULL, 'l'},
        {"hostname", required_argument, NULL, 'n'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *url = NULL, *listen = DEFAULT_LISTEN, *cert = NULL, *key = NULL;
    const char *hostnames[HQ_TLS_MAX_HOSTNAMES];
    size_t nhost = 0;
    struct sockaddr_storage ss;
    socklen_t sl;
    struct created made;
    struct hq_home h;
    struct hq_tls given;
    struct hq_conf conf;
    enum hq_plan_outcome outcome;
    bb_catalog *cat = NULL;
    bb_plan *plan = NULL;
    sqlite3 *db = NULL;
    char dir[HQ_PATH_MAX], path[HQ_PATH_MAX + 64], now[BB_TIME_MAX], port[16];
    int json = 0, existed, c;
    bb_err err;

    memset(&made, 0, sizeof made);
    memset(&h, 0, sizeof h);
    memset(&given, 0, sizeof given);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'u': url = optarg; break;
        case 'l': listen = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'j': json = 1; break;
        case 'n':
            if (nhost >= HQ_TLS_MAX_HOSTNAMES)
                return hq_usage(eb, "at most %d --hostname values", HQ_TLS_MAX_HOSTNAMES);
            if ((err = hq_tls_check_hostname(optarg, eb)) != BB_OK)
                return err;
            hostnames[nhost++] = optarg;
            break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK)
        return err;
    if (!cert != !key)
        return hq_usage(eb, "--tls-cert and --tls-key go together");
    if (hq_listen_parse(listen, &ss, &sl, eb) != BB_OK)
        return BB_ERR_USAGE;
    hq_conf_defaults(&conf);
    snprintf(conf.listen, sizeof conf.listen, "%s", listen);
    listen_port(listen, port, sizeof port);
    if (url)
        snprintf(conf.url, sizeof conf.url, "%s", url);
    else if (nhost > 0 && strchr(hostnames[0], ':'))
        snprintf(conf.url, sizeof conf.url, "https://[%s]%s", hostnames[0], port);
    else
        snprintf(conf.url, sizeof conf.url, "https://%s%s", nhost > 0 ? hostnames[0]
                                                                   : "localhost", port);
    if (hq_conf_check_url(conf.url, eb) != BB_OK)
        return BB_ERR_USAGE;
    /* A given certificate is checked before anything is created. */
    if (cert) {
        if ((err = hq_tls_load(cert, key, &given, eb)) != BB_OK)
            return err;
        hq_tls_free(&given);
    }
    if ((err = check_target(dir, &existed, eb)) != BB_OK)
        return err;

    if ((err = bb_make_dirs(dir, 0700, eb)) != BB_OK)
        return err;
    if (!existed)
        note(&made, dir, 1);
    else if (chmod(dir, 0700) != 0) {
        err = bb_fail(eb, bb_errno_err(errno), "chmod %s: %s", dir, strerror(errno));
        goto fail;
    }
    snprintf(h.dir, sizeof h.dir, "%s", dir);
    /*
     * keys/ is made with a plain mkdir: of two inits racing for the same folder
     * only one gets it, and from then on everything inside is this run's own.
     */
    if ((err = hq_path_join(path, sizeof path, dir, "keys", eb)) != BB_OK)
        goto fail;
    if (mkdir(path, 0700) != 0) {
        err = errno == EEXIST
                  ? bb_fail(eb, BB_ERR_EXISTS, "%s already exists and is not empty; give a "
                            "new or empty folder", dir)
                  : bb_fail(eb, bb_errno_err(errno), "create folder %s: %s", path,
                            strerror(errno));
        if (err == BB_ERR_EXISTS)
            return err;
        goto fail;
    }
    note(&made, path, 1);
    if ((err = hq_path_join(path, sizeof path, dir, "tls", eb)) != BB_OK)
        goto fail;
    if (mkdir(path, 0700) != 0) {
        err = bb_fail(eb, bb_errno_err(errno), "create folder %s: %s", path, strerror(errno));
        goto fail;
    }
    note(&made, path, 1);

    /* Keys: created exclusively, 0600. */
    if ((err = hq_keys_create(dir, &h.keys, eb)) != BB_OK) {
        /* hq_keys_create may have written the first file before failing. */
        hq_path_join(path, sizeof path, dir, HQ_KEY_X25519, NULL);
        note(&made, path, 0);
        goto fail;
    }
    hq_path_join(path, sizeof path, dir, HQ_KEY_X25519, NULL);
    note(&made, path, 0);
    hq_path_join(path, sizeof path, dir, HQ_KEY_SIGN, NULL);
    note(&made, path, 0);

    /* TLS: the given pair copied in, or a new self-signed one. */
    {
        char kp[HQ_PATH_MAX + 64], cp[HQ_PATH_MAX + 64];
        if ((err = hq_path_join(kp, sizeof kp, dir, conf.tls_key, eb)) != BB_OK ||
            (err = hq_path_join(cp, sizeof cp, dir, conf.tls_cert, eb)) != BB_OK)
            goto fail;
        if (cert) {
            err = copy_file(key, kp, 0600, 1, eb);
            if (err == BB_OK)
                note(&made, kp, 0);
            if (err == BB_OK && (err = copy_file(cert, cp, 0644, 0, eb)) == BB_OK)
                note(&made, cp, 0);
        } else {
            err = hq_tls_generate(kp, cp, hostnames, nhost, eb);
            if (access(kp, F_OK) == 0)
                note(&made, kp, 0);
            if (access(cp, F_OK) == 0)
                note(&made, cp, 0);
        }
        if (err != BB_OK || (err = hq_tls_load(cp, kp, &h.tls, eb)) != BB_OK)
            goto fail;
    }

    /* The store, with what it must remember of the keys. */
    if ((err = hq_path_join(h.db_path, sizeof h.db_path, dir, HQ_DB_NAME, eb)) != BB_OK)
        goto fail;
    err = hq_store_open(h.db_path, 1, &db, eb);
    note(&made, h.db_path, 0);
    snprintf(path, sizeof path, "%s-wal", h.db_path);
    note(&made, path, 0);
    snprintf(path, sizeof path, "%s-shm", h.db_path);
    note(&made, path, 0);
    if (err != BB_OK || (err = bb_time_now_taipei(now)) != BB_OK)
        goto fail;
    /* The plan whose KPIs HQ computes from the first merge on (hq_facts.h). */
    if ((err = bb_catalog_load_embedded(&cat, eb)) != BB_OK ||
        (err = bb_plan_load_embedded(cat, HQ_PLAN_BUILTIN, &plan, eb)) != BB_OK) {
        bb_errbuf_prefix(eb, "built-in plan");
        err = BB_ERR_INTERNAL;
        goto fail;
    }
    if ((err = bb_db_begin(db, eb)) != BB_OK)
        goto fail;
    if ((err = hq_meta_put(db, "created_at", now, eb)) != BB_OK ||
        (err = hq_meta_put(db, "hq_x25519_key", h.keys.x_kid, eb)) != BB_OK ||
        (err = hq_meta_put(db, "hq_sign_key", h.keys.sign_kid, eb)) != BB_OK ||
        (err = hq_meta_put(db, "tls_pin", h.tls.pin, eb)) != BB_OK ||
        (err = hq_audit(db, "cli", "init", NULL, "keys and TLS created", eb)) != BB_OK ||
        (err = hq_plan_store(db, cat, plan, "built-in", 0, &outcome, NULL, eb)) != BB_OK ||
        (err = bb_db_commit(db, eb)) != BB_OK) {
        bb_db_rollback(db);
        goto fail;
    }
    bb_db_close(db);
    db = NULL;
    bb_plan_free(plan);
    plan = NULL;
    bb_catalog_free(cat);
    cat = NULL;

    if ((err = hq_path_join(path, sizeof path, dir, HQ_CONF_NAME, eb)) != BB_OK ||
        (err = hq_conf_write(path, &conf, eb)) != BB_OK)
        goto fail;
    err = print_result(&h, &conf, json);
    hq_home_close(&h);
    return err;
fail:
    bb_db_close(db);
    bb_plan_free(plan);
    bb_catalog_free(cat);
    hq_home_close(&h);
    undo(&made);
    return err;
}
