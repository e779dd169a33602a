/*
 * hq_conf — hq.conf, the small configuration file in HQ's data folder.
 *
 * One setting per line, `key = value`; blank lines and lines starting with
 * `#` are ignored.  Parsing is strict: an unknown or repeated key, a line
 * without `=`, an empty or malformed value is an error that names the file
 * and the line (`hq.conf line 3: unknown key "lisen" (known: url, listen,
 * ...)`), so a typo never silently falls back to a default.
 *
 *   url               https://host:port the devices use (enrollment files)
 *   listen            ADDR:PORT to listen on ([v6]:port for IPv6; port 0 = any)
 *   tls_cert, tls_key PEM files, relative to the data folder or absolute
 *   lang              zh-TW | en: language of record rejection reasons
 *   threads           worker threads (1-64)
 *   max_ingests       batches merged at the same time (1-64); more: 503
 *   rate_burst        per-device token bucket size (1-10000)
 *   rate_per_sec      per-device refill rate (0.01-10000)
 *   timeout           idle connection timeout, seconds (1-3600)
 *   max_batch_bytes   largest batch accepted (1024 .. BB_BATCH_MAX)
 *
 * Errors: BB_ERR_CONFIG with the file and line in eb; BB_ERR_NOTFOUND etc.
 * when the file cannot be read.
 */
#ifndef HQ_CONF_H
#define HQ_CONF_H

#include <stddef.h>
#include <sys/socket.h>
#include "bb_err.h"

#define HQ_CONF_NAME "hq.conf"
#define HQ_CONF_MAX_BYTES 65536

struct hq_conf {
    char url[512];
    char listen[128];
    char tls_cert[1024];
    char tls_key[1024];
    char lang[8];
    unsigned threads;
    unsigned max_ingests;
    unsigned rate_burst;
    double rate_per_sec;
    unsigned timeout_s;
    size_t max_batch_bytes;
};

/* Defaults for everything but url and listen (which must be set). */
void hq_conf_defaults(struct hq_conf *c);

/* Parse text (len bytes); `name` is how errors name the file. */
bb_err hq_conf_parse(const char *text, size_t len, const char *name, struct hq_conf *c,
                     bb_errbuf *eb);

/* Read and parse a file. */
bb_err hq_conf_load(const char *path, struct hq_conf *c, bb_errbuf *eb);

/* Write c as a new file (never overwrites), with a comment per setting. */
bb_err hq_conf_write(const char *path, const struct hq_conf *c, bb_errbuf *eb);

/* Check a url value: https://HOST[:PORT][/path], no blanks or controls. */
bb_err hq_conf_check_url(const char *url, bb_errbuf *eb);

/*
 * Parse "ADDR:PORT" ("127.0.0.1:8443", "0.0.0.0:8443", "[::1]:8443") into a
 * socket address.  ADDR must be a numeric address; PORT 0-65535.
 */
bb_err hq_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
                       bb_errbuf *eb);

#endif
