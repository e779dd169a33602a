/*
 * hq_cmd_serve.c — `beatbook-hq serve`: load everything, check it, serve
 * HTTPS until SIGTERM or SIGINT, then stop accepting, let the requests in
 * progress finish (up to DRAIN_SECONDS), and exit 0.
 *
 * Signals are blocked before the server's threads start, so they inherit
 * the mask and only this thread receives SIGTERM/SIGINT, in sigsuspend():
 * the handler only sets a flag.  A lock file (serve.lock, flock) refuses a
 * second server on the same data folder.
 */
#include "hq_cli.h"
#include "hq_files.h"
#include "hq_home.h"
#include "hq_http.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_SECONDS 30
#define LOCK_NAME "serve.lock"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
}

static void help(void)
{
    fputs("usage: beatbook-hq serve [--data DIR] [--listen ADDR:PORT] [--check-config]\n"
          "\n"
          "Serve HTTPS for the field laptops (docs/PROTOCOL.md): GET /healthz,\n"
          "POST /v1/devices/register, POST /v1/batches.  Runs in the foreground and logs\n"
          "one line per request to stderr (level from BEATBOOK_LOG).  SIGTERM or SIGINT:\n"
          "stop accepting, finish the requests in progress, exit 0.\n"
          "\n"
          "  --data DIR          the data folder (default: $BEATBOOK_HQ_DATA)\n"
          "  --listen ADDR:PORT  override hq.conf's listen (port 0: any free port; the\n"
          "                      log line \"listening on https://ADDR:PORT\" tells which)\n"
          "  --check-config      load hq.conf, the keys, the TLS certificate and key and\n"
          "                      the store, report, and exit (0 when all is well)\n"
          "  -f, --foreground    accepted for compatibility: serve always runs in the\n"
          "                      foreground (use systemd or similar to supervise it)\n",
          stdout);
}

/* The address part of ADDR:PORT, for the log line. */
static void listen_host(const char *listen, char *out, size_t size)
{
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
    if (n >= size)
        n = size - 1;
    memcpy(out, listen, n);
    out[n] = '\0';
}

static bb_err take_lock(const struct hq_home *h, int *fd, bb_errbuf *eb)
{
    char path[HQ_PATH_MAX + 32];
    bb_err err;

    if ((err = hq_path_join(path, sizeof path, h->dir, LOCK_NAME, eb)) != BB_OK)
        return err;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return bb_fail(eb, bb_errno_err(errno), "open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return bb_fail(eb, BB_ERR_BUSY, "another beatbook-hq serve is running on %s",
                           h->dir);
        return bb_fail(eb, bb_errno_err(e), "lock %s: %s", path, strerror(e));
    }
    return BB_OK;
}

bb_err hq_cmd_serve(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"check-config", no_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *listen = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    struct sigaction sa;
    sigset_t block, old;
    struct hq_home h;
    hq_server *srv = NULL;
    sqlite3 *db = NULL;
    char dir[HQ_PATH_MAX], host[128];
    int check = 0, c, lock_fd = -1, waited;
    bb_err err;

    while ((c = getopt_long(argc, argv, "hf", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'l': listen = optarg; break;
        case 'c': check = 1; break;
        case 'f': break;
        case 'h': help(); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (listen && hq_listen_parse(listen, &ss, &sl, eb) != BB_OK)
        return BB_ERR_USAGE;
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(&h, dir, HQ_HOME_CONF | HQ_HOME_KEYS | HQ_HOME_TLS |
                                        HQ_HOME_CATALOG, eb)) != BB_OK)
        return err;
    /* Opening the store applies pending migrations and proves it is readable. */
    if ((err = hq_store_open(h.db_path, 0, &db, eb)) != BB_OK)
        goto out;
    bb_db_close(db);
    if (check) {
        printf("configuration OK: %s\n"
               "  url %s, listen %s, %u threads, %u concurrent ingests\n"
               "  rate limit %u burst, %g/s per device; batches up to %zu bytes\n"
               "  keys: batch %s, signing %s\n"
               "  TLS %s (%s, valid until %s), pin %s\n",
               h.conf_path, h.conf.url, listen ? listen : h.conf.listen, h.conf.threads,
               h.conf.max_ingests, h.conf.rate_burst, h.conf.rate_per_sec,
               h.conf.max_batch_bytes, h.keys.x_kid, h.keys.sign_kid, h.conf.tls_cert,
               h.tls.self_signed ? "self-signed" : "given", h.tls.not_after, h.tls.pin);
        goto out;
    }
    if ((err = take_lock(&h, &lock_fd, eb)) != BB_OK)
        goto out;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);

    if ((err = hq_server_start(&h, listen, &srv, eb)) != BB_OK) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        goto out;
    }
    listen_host(listen ? listen : h.conf.listen, host, sizeof host);
    bb_info("listening on https://%s:%u pin=%s batch_key=%s sign_key=%s", host,
            hq_server_port(srv), h.tls.pin, h.keys.x_kid, h.keys.sign_kid);

    {
        sigset_t wait_mask = old;
        sigdelset(&wait_mask, SIGTERM);
        sigdelset(&wait_mask, SIGINT);
        while (!stop_requested)
            sigsuspend(&wait_mask);
    }
    bb_info("%s: stopping: no new connections; finishing %u request(s) in progress",
            stop_requested == SIGINT ? "SIGINT" : "SIGTERM", hq_server_in_flight(srv));
    hq_server_quiesce(srv);
    for (waited = 0; hq_server_in_flight(srv) > 0 && waited < DRAIN_SECONDS * 20; waited++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (hq_server_in_flight(srv) > 0)
        bb_warn("stopping with %u request(s) unfinished after %d s", hq_server_in_flight(srv),
                DRAIN_SECONDS);
    hq_server_stop(srv);
    bb_info("stopped");
out:
    if (lock_fd >= 0)
        close(lock_fd);
    hq_home_close(&h);
    return err;
}
