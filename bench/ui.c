/*
 * bench/ui.c — the tool behind bench/ui.sh: GET one URL of HQ's review API
 * many times from C concurrent clients (libcurl, one keep-alive connection
 * per client, HQ's certificate trusted, an API token), and print the
 * latencies: p50, p90, p99, max and requests/s.  Every answer must be 200
 * (else exit 1: the figure would be of an error).  Prints figures, asserts
 * nothing else.
 *
 *   ui --base https://127.0.0.1:PORT --cacert CERT --token TOKEN
 *      --clients C --requests N [--label TEXT] PATH
 */
#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run {
    const char *url, *cacert, *auth;
    int requests;               /* per client */
    double *lat;                /* seconds, requests of this client */
    long bytes;
    int failures;
    long status;
};

static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
    struct run *r = ctx;
    (void)p;
    r->bytes += (long)(size * n);
    return size * n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client(void *arg)
{
    struct run *r = arg;
    struct curl_slist *h = curl_slist_append(NULL, r->auth);
    CURL *c = curl_easy_init();
    int i;

    if (!c || !h) {
        r->failures = r->requests;
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_CAINFO, r->cacert);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    for (i = 0; i < r->requests; i++) {
        double t0 = now_s();
        long status = 0;
        CURLcode rc = curl_easy_perform(c);
        r->lat[i] = now_s() - t0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            r->failures++;
            r->status = rc != CURLE_OK ? -(long)rc : status;
        }
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"base", required_argument, NULL, 'b'}, {"cacert", required_argument, NULL, 'c'},
        {"token", required_argument, NULL, 't'}, {"clients", required_argument, NULL, 'n'},
        {"requests", required_argument, NULL, 'r'}, {"label", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *base = NULL, *cacert = NULL, *token = NULL, *label = NULL;
    int clients = 8, requests = 400, o, i, failures = 0;
    char url[2048], auth[200];
    struct run *runs;
    pthread_t *th;
    double *all, t0, wall;
    size_t n = 0;
    long bytes = 0;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'b': base = optarg; break;
        case 'c': cacert = optarg; break;
        case 't': token = optarg; break;
        case 'n': clients = atoi(optarg); break;
        case 'r': requests = atoi(optarg); break;
        case 'l': label = optarg; break;
        default: return 64;
        }
    }
    if (!base || !cacert || !token || optind + 1 != argc || clients < 1 || requests < clients) {
        fputs("usage: ui --base URL --cacert CERT --token TOKEN [--clients C] [--requests N] "
              "[--label TEXT] PATH\n", stderr);
        return 64;
    }
    snprintf(url, sizeof url, "%s%s", base, argv[optind]);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    runs = calloc((size_t)clients, sizeof *runs);
    th = calloc((size_t)clients, sizeof *th);
    all = calloc((size_t)requests, sizeof *all);
    if (!runs || !th || !all)
        return 70;
    for (i = 0; i < clients; i++) {
        runs[i].url = url;
        runs[i].cacert = cacert;
        runs[i].auth = auth;
        runs[i].requests = requests / clients;
        runs[i].lat = all + (size_t)i * (size_t)(requests / clients);
    }
    t0 = now_s();
    for (i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, client, &runs[i]);
    for (i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        failures += runs[i].failures;
        bytes += runs[i].bytes;
        n += (size_t)runs[i].requests;
    }
    wall = now_s() - t0;
    if (failures) {
        for (i = 0; i < clients; i++)
            if (runs[i].failures)
                fprintf(stderr, "bench ui: %d of %d requests failed (last: %ld) for %s\n",
                        runs[i].failures, runs[i].requests, runs[i].status, url);
        return 1;
    }
    qsort(all, n, sizeof *all, cmp);
    printf("  %-34s %2d clients %5zu req  p50 %7.1f ms  p90 %7.1f ms  p99 %7.1f ms  "
           "max %7.1f ms  %6.0f req/s  %5.1f kB/answer\n",
           label ? label : argv[optind], clients, n, pct(all, n, 0.50) * 1e3,
           pct(all, n, 0.90) * 1e3, pct(all, n, 0.99) * 1e3, all[n - 1] * 1e3,
           (double)n / wall, (double)bytes / (double)n / 1e3);
    free(runs);
    free(th);
    free(all);
    curl_global_cleanup();
    return 0;
}
