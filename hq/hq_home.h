/*
 * hq_home — HQ's data folder and everything loaded from it.
 *
 *   DIR/               mode 0700 ($BEATBOOK_HQ_DATA or --data)
 *     hq.conf          settings (hq_conf.h)
 *     hq.db            the store (SQLite, migrations schema/migrations/hq/)
 *     keys/hq-x25519.key, keys/hq-sign.key   (hq_keys.h)
 *     tls/cert.pem, tls/key.pem              (hq_tls.h; other paths via hq.conf)
 *
 * hq_home_open loads the parts a command asks for; hq_home_close releases
 * them (wiping the keys).  The catalog (record kinds, org units) is the one
 * compiled into the binary.
 */
#ifndef HQ_HOME_H
#define HQ_HOME_H

#include "bb_catalog.h"
#include "bb_err.h"
#include "hq_conf.h"
#include "hq_keys.h"
#include "hq_tls.h"

#define HQ_DB_NAME "hq.db"
#define HQ_ENV_DATA "BEATBOOK_HQ_DATA"
#define HQ_PATH_MAX 4096

enum hq_home_parts {
    HQ_HOME_CONF = 1,      /* hq.conf */
    HQ_HOME_KEYS = 2,      /* both key pairs */
    HQ_HOME_TLS = 4,       /* certificate and key, checked */
    HQ_HOME_CATALOG = 8    /* the embedded catalog */
};

struct hq_home {
    char dir[HQ_PATH_MAX];
    char db_path[HQ_PATH_MAX + 16];
    char conf_path[HQ_PATH_MAX + 16];
    struct hq_conf conf;
    struct hq_keys keys;
    struct hq_tls tls;
    bb_catalog *cat;
    enum bb_lang lang;     /* of rejection reasons (conf lang) */
    int parts;             /* what was loaded */
};

/*
 * The data folder: `data` (from --data) if not NULL, else $BEATBOOK_HQ_DATA;
 * BB_ERR_USAGE when neither is given.
 */
bb_err hq_home_dir(const char *data, char out[HQ_PATH_MAX], bb_errbuf *eb);

/*
 * Fill the paths of h for dir and load `parts`.  A folder without hq.db is
 * BB_ERR_NOTFOUND with a hint to run `beatbook-hq init`.
 */
bb_err hq_home_open(struct hq_home *h, const char *dir, int parts, bb_errbuf *eb);

/* Resolve a path from hq.conf: absolute as is, else relative to the folder. */
bb_err hq_home_path(const struct hq_home *h, const char *p, char *out, size_t size,
                    bb_errbuf *eb);

void hq_home_close(struct hq_home *h);

#endif
