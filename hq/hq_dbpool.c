/*
 * hq_dbpool.c — connection pool (see hq_dbpool.h).
 */
#include "hq_dbpool.h"
#include "hq_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct hq_dbpool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    char *path;
    unsigned size, opened, nfree;
    sqlite3 **free_list;
};

bb_err hq_dbpool_new(const char *path, unsigned size, hq_dbpool **out, bb_errbuf *eb)
{
    hq_dbpool *p = calloc(1, sizeof *p);

    *out = NULL;
    if (!p || !(p->path = strdup(path)) || !(p->free_list = calloc(size, sizeof *p->free_list))) {
        if (p)
            free(p->path);
        free(p);
        return bb_fail(eb, BB_ERR_NOMEM, "database pool: out of memory");
    }
    if (pthread_mutex_init(&p->lock, NULL) != 0 || pthread_cond_init(&p->freed, NULL) != 0) {
        free(p->free_list);
        free(p->path);
        free(p);
        return bb_fail(eb, BB_ERR_INTERNAL, "database pool: cannot make a lock");
    }
    p->size = size;
    *out = p;
    return BB_OK;
}

void hq_dbpool_free(hq_dbpool *p)
{
    unsigned i;

    if (!p)
        return;
    for (i = 0; i < p->nfree; i++)
        sqlite3_close(p->free_list[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->free_list);
    free(p->path);
    free(p);
}

bb_err hq_dbpool_take(hq_dbpool *p, sqlite3 **db, bb_errbuf *eb)
{
    bb_err err;

    *db = NULL;
    pthread_mutex_lock(&p->lock);
    while (p->nfree == 0 && p->opened >= p->size)
        pthread_cond_wait(&p->freed, &p->lock);
    if (p->nfree > 0) {
        *db = p->free_list[--p->nfree];
        pthread_mutex_unlock(&p->lock);
        return BB_OK;
    }
    p->opened++;                 /* reserve the slot, open outside the lock */
    pthread_mutex_unlock(&p->lock);
    err = hq_store_open(p->path, 0, db, eb);
    if (err != BB_OK) {
        pthread_mutex_lock(&p->lock);
        p->opened--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->lock);
    }
    return err;
}

void hq_dbpool_give(hq_dbpool *p, sqlite3 *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&p->lock);
    p->free_list[p->nfree++] = db;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}
