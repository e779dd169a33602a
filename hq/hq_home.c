/*
 * hq_home.c — the data folder's layout and loading its parts (see hq_home.h).
 */
#include "hq_home.h"
#include "hq_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bb_err hq_home_dir(const char *data, char out[HQ_PATH_MAX], bb_errbuf *eb)
{
    const char *d = data && *data ? data : getenv(HQ_ENV_DATA);
    int n;

    if (!d || !*d)
        return bb_fail(eb, BB_ERR_USAGE, "no data folder: give --data DIR or set "
                       HQ_ENV_DATA);
    n = snprintf(out, HQ_PATH_MAX, "%s", d);
    if (n < 0 || n >= HQ_PATH_MAX)
        return bb_fail(eb, BB_ERR_USAGE, "data folder path is too long");
    return BB_OK;
}

bb_err hq_home_path(const struct hq_home *h, const char *p, char *out, size_t size,
                    bb_errbuf *eb)
{
    int n = p[0] == '/' ? snprintf(out, size, "%s", p)
                        : snprintf(out, size, "%s/%s", h->dir, p);
    if (n < 0 || (size_t)n >= size)
        return bb_fail(eb, BB_ERR_CONFIG, "%s: path too long", p);
    return BB_OK;
}

bb_err hq_home_open(struct hq_home *h, const char *dir, int parts, bb_errbuf *eb)
{
    char cert[HQ_PATH_MAX + 1100], key[HQ_PATH_MAX + 1100];
    bb_err err;

    memset(h, 0, sizeof *h);
    h->lang = BB_LANG_ZH;
    if (snprintf(h->dir, sizeof h->dir, "%s", dir) >= (int)sizeof h->dir ||
        (err = hq_path_join(h->db_path, sizeof h->db_path, dir, HQ_DB_NAME, eb)) != BB_OK ||
        (err = hq_path_join(h->conf_path, sizeof h->conf_path, dir, HQ_CONF_NAME, eb)) != BB_OK)
        return bb_fail(eb, BB_ERR_USAGE, "data folder path is too long");
    if (access(h->db_path, F_OK) != 0) {
        int e = errno;
        if (e == ENOENT)
            return bb_fail(eb, BB_ERR_NOTFOUND, "%s is not a beatbook-hq data folder (no %s); "
                           "create one with: beatbook-hq init --data %s", dir, HQ_DB_NAME, dir);
        return bb_fail(eb, bb_errno_err(e), "open %s: %s", h->db_path, strerror(e));
    }
    if (parts & (HQ_HOME_CONF | HQ_HOME_TLS)) {
        if ((err = hq_conf_load(h->conf_path, &h->conf, eb)) != BB_OK)
            goto fail;
        h->parts |= HQ_HOME_CONF;
        if (strcmp(h->conf.lang, "en") == 0)
            h->lang = BB_LANG_EN;
    }
    if (parts & HQ_HOME_KEYS) {
        if ((err = hq_keys_load(dir, &h->keys, eb)) != BB_OK)
            goto fail;
        h->parts |= HQ_HOME_KEYS;
    }
    if (parts & HQ_HOME_TLS) {
        if ((err = hq_home_path(h, h->conf.tls_cert, cert, sizeof cert, eb)) != BB_OK ||
            (err = hq_home_path(h, h->conf.tls_key, key, sizeof key, eb)) != BB_OK ||
            (err = hq_tls_load(cert, key, &h->tls, eb)) != BB_OK)
            goto fail;
        h->parts |= HQ_HOME_TLS;
    }
    if (parts & HQ_HOME_CATALOG) {
        if ((err = bb_catalog_load_embedded(&h->cat, eb)) != BB_OK) {
            bb_errbuf_prefix(eb, "built-in record kinds");
            err = BB_ERR_INTERNAL;
            goto fail;
        }
        h->parts |= HQ_HOME_CATALOG;
    }
    return BB_OK;
fail:
    hq_home_close(h);
    return err;
}

void hq_home_close(struct hq_home *h)
{
    if (!h)
        return;
    hq_keys_free(&h->keys);
    hq_tls_free(&h->tls);
    bb_catalog_free(h->cat);
    h->cat = NULL;
    h->parts = 0;
}
