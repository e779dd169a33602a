/*
 * hq_conf.c — strict key = value configuration (see hq_conf.h).
 */
#include "hq_conf.h"
#include "hq_files.h"
#include "bb_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_KEYS "url, listen, tls_cert, tls_key, lang, threads, max_ingests, " \
                   "rate_burst, rate_per_sec, timeout, max_batch_bytes"

void hq_conf_defaults(struct hq_conf *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->tls_cert, sizeof c->tls_cert, "tls/cert.pem");
    snprintf(c->tls_key, sizeof c->tls_key, "tls/key.pem");
    snprintf(c->lang, sizeof c->lang, "zh-TW");
    c->threads = 4;
    c->max_ingests = 4;
    c->rate_burst = 20;
    c->rate_per_sec = 5.0;
    c->timeout_s = 30;
    c->max_batch_bytes = BB_BATCH_MAX;
}

bb_err hq_conf_check_url(const char *url, bb_errbuf *eb)
{
    const char *p;

    if (strncmp(url, "https://", 8) != 0)
        return bb_fail(eb, BB_ERR_CONFIG, "url \"%.200s\" must start with https://", url);
    if (url[8] == '\0' || url[8] == '/' || url[8] == ':')
        return bb_fail(eb, BB_ERR_CONFIG, "url \"%.200s\" has no host name", url);
    for (p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return bb_fail(eb, BB_ERR_CONFIG, "url \"%.200s\" contains a blank or a "
                           "control character", url);
    if (strlen(url) >= sizeof ((struct hq_conf *)0)->url)
        return bb_fail(eb, BB_ERR_CONFIG, "url is too long");
    return BB_OK;
}

bb_err hq_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
                       bb_errbuf *eb)
{
    char host[128];
    const char *colon, *port_s;
    char *end;
    long port;
    size_t n;

    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\": expected "
                           "[IPv6]:PORT", s);
        n = (size_t)(close - s - 1);
        port_s = close + 2;
        if (n >= sizeof host)
            return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\" is too long", s);
        memcpy(host, s + 1, n);
        host[n] = '\0';
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\": expected "
                           "ADDR:PORT, e.g. 0.0.0.0:8443", s);
        n = (size_t)(colon - s);
        port_s = colon + 1;
        if (n >= sizeof host)
            return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\" is too long", s);
        memcpy(host, s, n);
        host[n] = '\0';
    }
    errno = 0;
    port = strtol(port_s, &end, 10);
    if (!*port_s || *end || errno || port < 0 || port > 65535 || *port_s == '+' ||
        *port_s == '-' || *port_s == ' ')
        return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\": the port must be a "
                       "number from 0 to 65535", s);
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\": \"%s\" is not an "
                           "IPv6 address", s, host);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((unsigned short)port);
        *len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return bb_fail(eb, BB_ERR_CONFIG, "listen address \"%.100s\": \"%s\" is not an "
                           "IPv4 address (use [ADDR]:PORT for IPv6)", s, host);
        a4->sin_family = AF_INET;
        a4->sin_port = htons((unsigned short)port);
        *len = sizeof *a4;
    }
    return BB_OK;
}

static bb_err parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long n;

    if (*v < '0' || *v > '9')
        return BB_ERR_CONFIG;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (*end || errno || n < lo || n > hi)
        return BB_ERR_CONFIG;
    *out = (unsigned)n;
    return BB_OK;
}

static int set_string(char *dst, size_t size, const char *v)
{
    int n = snprintf(dst, size, "%s", v);
    return n >= 0 && (size_t)n < size;
}

/* Apply one key = value; on error write the reason (without the line) into eb. */
static bb_err apply(struct hq_conf *c, const char *key, const char *v, bb_errbuf *eb)
{
    struct sockaddr_storage ss;
    socklen_t sl;

    if (strcmp(key, "url") == 0) {
        if (hq_conf_check_url(v, eb) != BB_OK)
            return BB_ERR_CONFIG;
        set_string(c->url, sizeof c->url, v);
    } else if (strcmp(key, "listen") == 0) {
        if (hq_listen_parse(v, &ss, &sl, eb) != BB_OK)
            return BB_ERR_CONFIG;
        if (!set_string(c->listen, sizeof c->listen, v))
            return bb_fail(eb, BB_ERR_CONFIG, "listen: too long");
    } else if (strcmp(key, "tls_cert") == 0 || strcmp(key, "tls_key") == 0) {
        char *dst = key[4] == 'c' ? c->tls_cert : c->tls_key;
        if (!set_string(dst, sizeof c->tls_cert, v))
            return bb_fail(eb, BB_ERR_CONFIG, "%s: path too long", key);
    } else if (strcmp(key, "lang") == 0) {
        if (strcmp(v, "zh-TW") != 0 && strcmp(v, "en") != 0)
            return bb_fail(eb, BB_ERR_CONFIG, "lang: \"%.40s\" is not zh-TW or en", v);
        set_string(c->lang, sizeof c->lang, v);
    } else if (strcmp(key, "threads") == 0) {
        if (parse_uint(v, 1, 64, &c->threads) != BB_OK)
            return bb_fail(eb, BB_ERR_CONFIG, "threads: expected a number from 1 to 64");
    } else if (strcmp(key, "max_ingests") == 0) {
        if (parse_uint(v, 1, 64, &c->max_ingests) != BB_OK)
            return bb_fail(eb, BB_ERR_CONFIG, "max_ingests: expected a number from 1 to 64");
    } else if (strcmp(key, "rate_burst") == 0) {
        if (parse_uint(v, 1, 10000, &c->rate_burst) != BB_OK)
            return bb_fail(eb, BB_ERR_CONFIG, "rate_burst: expected a number from 1 to 10000");
    } else if (strcmp(key, "rate_per_sec") == 0) {
        char *end;
        double d;
        errno = 0;
        d = strtod(v, &end);
        if (*end || errno || !isfinite(d) || d < 0.01 || d > 10000 || *v == '+' ||
            *v == '-' || *v == ' ')
            return bb_fail(eb, BB_ERR_CONFIG, "rate_per_sec: expected a number from 0.01 "
                           "to 10000");
        c->rate_per_sec = d;
    } else if (strcmp(key, "timeout") == 0) {
        if (parse_uint(v, 1, 3600, &c->timeout_s) != BB_OK)
            return bb_fail(eb, BB_ERR_CONFIG, "timeout: expected seconds from 1 to 3600");
    } else if (strcmp(key, "max_batch_bytes") == 0) {
        char *end;
        unsigned long long n;
        errno = 0;
        n = (*v >= '0' && *v <= '9') ? strtoull(v, &end, 10) : 0;
        if (*v < '0' || *v > '9' || *end || errno || n < 1024 || n > BB_BATCH_MAX)
            return bb_fail(eb, BB_ERR_CONFIG, "max_batch_bytes: expected a number from "
                           "1024 to %zu", (size_t)BB_BATCH_MAX);
        c->max_batch_bytes = (size_t)n;
    } else {
        return bb_fail(eb, BB_ERR_CONFIG, "unknown key \"%.60s\" (known: " KNOWN_KEYS ")",
                       key);
    }
    return BB_OK;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

bb_err hq_conf_parse(const char *text, size_t len, const char *name, struct hq_conf *c,
                     bb_errbuf *eb)
{
    static const char *const keys[] = {"url", "listen", "tls_cert", "tls_key", "lang",
                                       "threads", "max_ingests", "rate_burst",
                                       "rate_per_sec", "timeout", "max_batch_bytes"};
    int seen[sizeof keys / sizeof keys[0]] = {0};
    char line[4096];
    size_t pos = 0, i;
    int lineno = 0;

    hq_conf_defaults(c);
    while (pos < len) {
        size_t start = pos, n;
        char *key, *val, *eq, *p;
        bb_errbuf sub;

        while (pos < len && text[pos] != '\n')
            pos++;
        n = pos - start;
        lineno++;
        if (pos < len)
            pos++;
        if (n >= sizeof line)
            return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: line too long", name, lineno);
        memcpy(line, text + start, n);
        line[n] = '\0';
        if (memchr(text + start, '\0', n))
            return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: contains a NUL byte", name, lineno);
        for (p = line; *p; p++)
            if (((unsigned char)*p < ' ' && *p != '\t' && *p != '\r') || *p == 0x7f)
                return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: contains a control character",
                               name, lineno);
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq)
            return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: expected \"key = value\"", name,
                           lineno);
        *eq = '\0';
        val = trim(eq + 1);
        key = trim(key);
        if (*key == '\0')
            return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: a key is missing before \"=\"",
                           name, lineno);
        if (*val == '\0')
            return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: \"%.60s\" has no value", name,
                           lineno, key);
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(key, keys[i]) == 0)
                break;
        if (i < sizeof keys / sizeof keys[0]) {
            if (seen[i])
                return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: \"%s\" is set twice (first "
                               "on line %d)", name, lineno, key, seen[i]);
            seen[i] = lineno;
        }
        memset(&sub, 0, sizeof sub);
        if (apply(c, key, val, &sub) != BB_OK)
            return bb_fail(eb, BB_ERR_CONFIG, "%s line %d: %s", name, lineno, sub.msg);
    }
    if (!c->url[0])
        return bb_fail(eb, BB_ERR_CONFIG, "%s: \"url\" is not set (the https:// address "
                       "devices use)", name);
    if (!c->listen[0])
        return bb_fail(eb, BB_ERR_CONFIG, "%s: \"listen\" is not set (ADDR:PORT)", name);
    return BB_OK;
}

bb_err hq_conf_load(const char *path, struct hq_conf *c, bb_errbuf *eb)
{
    char *text;
    size_t len;
    bb_err err;

    if ((err = hq_read_small_file(path, HQ_CONF_MAX_BYTES, 0, &text, &len, eb)) != BB_OK)
        return err;
    err = hq_conf_parse(text, len, path, c, eb);
    free(text);
    return err;
}

bb_err hq_conf_write(const char *path, const struct hq_conf *c, bb_errbuf *eb)
{
    char buf[8192];
    int n;

    n = snprintf(buf, sizeof buf,
                 "# beatbook-hq configuration: one \"key = value\" per line.\n"
                 "# Check it with: beatbook-hq serve --check-config\n"
                 "\n"
                 "# The address devices use (written into enrollment files).\n"
                 "url = %s\n"
                 "# Where the server listens: ADDR:PORT, or [IPv6]:PORT.\n"
                 "listen = %s\n"
                 "# TLS certificate and key (PEM), relative to this folder or absolute.\n"
                 "tls_cert = %s\n"
                 "tls_key = %s\n"
                 "# Language of record rejection reasons in receipts: zh-TW or en.\n"
                 "lang = %s\n"
                 "# Worker threads, and batches merged at the same time (more get 503).\n"
                 "threads = %u\n"
                 "max_ingests = %u\n"
                 "# Per-device rate limit (token bucket): burst, and refill per second.\n"
                 "rate_burst = %u\n"
                 "rate_per_sec = %g\n"
                 "# Idle connection timeout in seconds; largest batch accepted in bytes.\n"
                 "timeout = %u\n"
                 "max_batch_bytes = %zu\n",
                 c->url, c->listen, c->tls_cert, c->tls_key, c->lang, c->threads,
                 c->max_ingests, c->rate_burst, c->rate_per_sec, c->timeout_s,
                 c->max_batch_bytes);
    if (n < 0 || (size_t)n >= sizeof buf)
        return bb_fail(eb, BB_ERR_CONFIG, "write %s: settings too long", path);
    return hq_write_new_file(path, buf, (size_t)n, 0600, eb);
}
