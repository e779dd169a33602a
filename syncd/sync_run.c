/*
 * sync_run.c — --once and the daemon loop (see sync_run.h).
 */
#include "sync_run.h"
#include "sync_verify.h"
#include "sync_http.h"
#include "sync_progress.h"
#include "sync_push.h"
#include "sync_reference.h"
#include "sync_signal.h"
#include "bb_db.h"
#include "bb_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ONCE_TRIES 3              /* attempts per batch in one --once pass */
#define ONCE_MAX_WAIT_S 60        /* --once does not wait longer than this for a retry */
#define DB_NAME "field.db"

bb_err sync_default_home(char *out, size_t n, enum bb_lang lang, bb_errbuf *eb)
{
    const char *env = getenv("BEATBOOK_HOME"), *home = getenv("HOME");

    if (env && *env) {
        if (snprintf(out, n, "%s", env) >= (int)n)
            return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "BEATBOOK_HOME is too long",
                                                   "BEATBOOK_HOME 太長"));
        return BB_OK;
    }
    if (!home || !*home)
        return bb_fail(eb, BB_ERR_CONFIG,
                       BB_L(lang, "neither BEATBOOK_HOME nor HOME is set; give the store folder "
                                  "with --home DIR",
                            "BEATBOOK_HOME 與 HOME 都沒有設定；請以 --home DIR 指定資料庫資料夾"));
    if (snprintf(out, n, "%s/.local/share/beatbook", home) >= (int)n)
        return bb_fail(eb, BB_ERR_CONFIG, BB_L(lang, "HOME is too long", "HOME 太長"));
    return BB_OK;
}

/* "no store at PATH; ..." */
static bb_err no_store(enum bb_lang lang, const char *path, bb_errbuf *eb)
{
    return bb_fail(eb, BB_ERR_NOTFOUND,
                   BB_L(lang, "no store at %s; create it with: beatbook init --enroll FILE "
                              "--officer ID",
                        "%s 沒有資料庫；請先建立：beatbook init --enroll FILE --officer ID"),
                   path);
}

bb_err sync_load_config(const struct sync_run_opts *o, struct bb_outbox_config *c,
                        char *path, size_t path_n, bb_errbuf *eb)
{
    bb_outbox_config_defaults(c);
    if (o->config) {
        snprintf(path, path_n, "%s", o->config);
        return bb_outbox_config_load_lang(o->config, 0, o->lang, c, eb);
    }
    snprintf(path, path_n, "%s/%s", o->home, BB_OUTBOX_CONF_FILE);
    return bb_outbox_config_load_lang(path, 1, o->lang, c, eb);
}

static bb_err open_store(const char *home, enum bb_lang lang, sqlite3 **db, bb_outbox **ob,
                         bb_errbuf *eb)
{
    char path[4200];
    bb_err err;

    *db = NULL;
    *ob = NULL;
    snprintf(path, sizeof path, "%s/%s", home, DB_NAME);
    if (access(path, F_OK) != 0)
        return no_store(lang, path, eb);
    if ((err = bb_db_open(path, "collector", 0, db, eb)) != BB_OK)
        return err;
    if ((err = bb_outbox_open(*db, home, ob, eb)) == BB_OK)
        bb_outbox_set_lang(*ob, lang);
    if (err != BB_OK ||
        (err = bb_outbox_require_enrollment(*ob, BB_L(lang, "beatbook-syncd", " beatbook-syncd "), eb)) != BB_OK) {
        bb_outbox_free(*ob);
        bb_db_close(*db);
        *ob = NULL;
        *db = NULL;
    }
    return err;
}

/* One count from the store; -1 when it cannot be read. */
static long count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long n = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/*
 * The precinct admin's day-end question: is everything this laptop holds at
 * HQ?  Open patrols (drafts) stay here until they end; batches still
 * waiting go at the next pass, or on a USB stick.
 */
static void print_day_end_zh(long drafts, long unsealed, const struct sync_counts *c,
                             long waiting, long att_waiting)
{
    if (att_waiting > 0 && waiting == 0 && unsealed == 0)
        printf("  日終：紀錄都已在總局，但還有 %ld 個照片／檔案尚未送達；網路恢復後請再執行一次，"
               "或用隨身碟帶去：beatbook export --to /media/usb\n", att_waiting);
    else if (waiting == 0 && unsealed == 0 && c->refused == 0 && c->rec_rejected == 0 &&
             c->att_refused == 0)
        printf("  日終：本機所有已完成的資料都已在總局，並有總局簽章的回執\n");
    else if (waiting != 0 || unsealed != 0)
        printf("  日終：尚未全部送達總局——還有 %ld 個批次與 %ld 筆紀錄在等待；網路恢復後請再"
               "執行一次，或用隨身碟帶去：beatbook export --to /media/usb\n",
               waiting < 0 ? 0 : waiting, unsealed < 0 ? 0 : unsealed);
    else
        printf("  日終：已送達總局，但總局拒收了部分資料——請更正後再同步（請見：beatbook status）\n");
    if (drafts > 0)
        printf("  進行中的巡邏（草稿）：%ld 筆——結束後才會傳送：beatbook patrol end\n", drafts);
}

static void print_day_end(sqlite3 *db, const struct sync_counts *c, long waiting,
                          long att_waiting, enum bb_lang lang)
{
    long drafts = count_of(db, "SELECT count(*) FROM records WHERE status = 'draft'");
    long unsealed = count_of(db, "SELECT count(*) FROM revisions WHERE batch_seq IS NULL");

    if (lang != BB_LANG_EN) {
        print_day_end_zh(drafts, unsealed, c, waiting, att_waiting);
        return;
    }
    if (att_waiting > 0 && waiting == 0 && unsealed == 0)
        printf("  day end: the records are at HQ, but %ld photo(s)/file(s) are not yet; run "
               "again when the network is back, or carry them: beatbook export --to "
               "/media/usb\n", att_waiting);
    else if (waiting == 0 && unsealed == 0 && c->refused == 0 && c->rec_rejected == 0 &&
             c->att_refused == 0)
        printf("  day end: everything finished on this laptop is at HQ, with HQ's signed "
               "receipts\n");
    else if (waiting != 0 || unsealed != 0)
        printf("  day end: NOT everything is at HQ — %ld batch(es) and %ld record(s) still "
               "waiting; run again when the network is back, or carry them: beatbook export "
               "--to /media/usb\n", waiting < 0 ? 0 : waiting, unsealed < 0 ? 0 : unsealed);
    else
        printf("  day end: at HQ, but HQ refused some of it — correct and sync again "
               "(see: beatbook status)\n");
    if (drafts > 0)
        printf("  open patrols (drafts): %ld — they are sent once ended: beatbook patrol end\n",
               drafts);
}

static void print_summary(const struct sync_counts *c, long waiting, long att_waiting,
                          enum bb_lang lang)
{
    if (lang != BB_LANG_EN) {
        printf("已傳送 %ld，已確認 %ld，重複 %ld，遭拒 %ld\n", c->sent, c->acked, c->rec_duplicates,
               c->refused);
        printf("  批次：本次封裝 %ld，已傳送 %ld，已確認 %ld，遭總局拒收 %ld，仍在等待 %ld\n",
               c->sealed_batches, c->sent, c->acked, c->refused, waiting);
        printf("  紀錄：合併 %ld 筆，重複 %ld 筆（總局已有），遭總局拒收 %ld 筆%s\n", c->rec_merged,
               c->rec_duplicates, c->rec_rejected,
               c->rec_rejected || c->refused ? "——請見：beatbook status" : "");
        if (c->att_sent > 0 || att_waiting > 0)
            printf("  照片與檔案：送達 %ld 個（本次傳送 %ld 段，%.1f MB），遭拒 %ld 個，仍在等待 %ld 個%s\n",
                   c->att_stored, c->att_chunks, (double)c->att_bytes / 1e6, c->att_refused,
                   att_waiting, c->att_refused ? "——請見：beatbook status" : "");
        if (c->reference == SYNC_REF_UPDATED)
            printf("  參考資料：已自總局更新（beatbook 從現在起使用）\n");
        else if (c->reference == SYNC_REF_FAILED)
            printf("  參考資料：未更新（請見上方訊息）；繼續使用現有資料\n");
        return;
    }
    printf("sent %ld, acknowledged %ld, duplicates %ld, rejected %ld\n", c->sent, c->acked,
           c->rec_duplicates, c->refused);
    printf("  batches: %ld sealed now, %ld sent, %ld acknowledged, %ld refused by HQ, %ld still "
           "waiting\n", c->sealed_batches, c->sent, c->acked, c->refused, waiting);
    printf("  records: %ld merged, %ld duplicates (HQ already had them), %ld rejected by HQ%s\n",
           c->rec_merged, c->rec_duplicates, c->rec_rejected,
           c->rec_rejected || c->refused ? " — see: beatbook status" : "");
    if (c->att_sent > 0 || att_waiting > 0)
        printf("  photos and files: %ld at HQ (%ld chunks, %.1f MB sent now), %ld refused, %ld "
               "still waiting%s\n", c->att_stored, c->att_chunks, (double)c->att_bytes / 1e6,
               c->att_refused, att_waiting, c->att_refused ? " — see: beatbook status" : "");
    if (c->reference == SYNC_REF_UPDATED)
        printf("  reference data: updated from HQ (beatbook uses it from now on)\n");
    else if (c->reference == SYNC_REF_FAILED)
        printf("  reference data: not updated (see the message above); the data in use stays\n");
}

static bb_err run_once(const struct sync_run_opts *o, sqlite3 *db, bb_outbox *ob,
                       const struct bb_outbox_config *conf, enum sync_outcome *outcome,
                       bb_errbuf *eb)
{
    struct sync_progress bar;
    struct sync_opts so;
    struct sync_counts c;
    uint64_t bytes = 0, att_bytes = 0;
    long retry_after = -1, waiting = 0, att_waiting = 0;
    bb_err err;

    memset(&so, 0, sizeof so);
    so.lang = o->lang;
    so.ob = ob;
    so.db = db;
    so.conf = conf;
    so.tries = ONCE_TRIES;
    so.max_wait_s = ONCE_MAX_WAIT_S;
    so.progress = &bar;
    so.want_bar = 1;
    memset(&bar, 0, sizeof bar);
    err = sync_pass(&so, &c, &retry_after, eb);
    if (bb_outbox_pending(ob, &waiting, &bytes, NULL) != BB_OK)
        waiting = -1;
    if (bb_outbox_att_pending(ob, &att_waiting, &att_bytes, NULL) != BB_OK)
        att_waiting = -1;
    if (err == BB_ERR_STATE && c.registration_refused) {
        fprintf(stderr, "beatbook-syncd: %s\n", eb->msg);
        print_summary(&c, waiting, att_waiting, o->lang);
        *outcome = SYNC_REFUSED;
        return BB_OK;
    }
    if (err != BB_OK && err != BB_ERR_UNAVAILABLE && err != BB_ERR_CRYPTO &&
        err != BB_ERR_TOOBIG && err != BB_ERR_BUSY)
        return err;   /* the store or the setup failed: main says why */
    if (err != BB_OK)
        fprintf(stderr, BB_L(o->lang, "beatbook-syncd: %s; will retry later\n",
                             "beatbook-syncd：%s；稍後會再試\n"), eb->msg);
    print_summary(&c, waiting, att_waiting, o->lang);
    print_day_end(db, &c, waiting, att_waiting, o->lang);
    if (c.refused > 0 || c.rec_rejected > 0 || c.att_refused > 0)   /* people must look */
        *outcome = SYNC_REFUSED;
    else if (err != BB_OK || waiting != 0 || c.stopped || att_waiting != 0)
        *outcome = SYNC_RETRY_LATER;
    else
        *outcome = SYNC_ALL_ACKED;
    if (*outcome == SYNC_ALL_ACKED) {
        /* Everything is acknowledged: prove that HQ holds exactly it (sync_verify.h). */
        bb_errbuf veb;
        int agree = 0;
        memset(&veb, 0, sizeof veb);
        if (sync_verify(o, NULL, &agree, &veb) != BB_OK)
            fprintf(stderr, BB_L(o->lang, "beatbook-syncd: could not compare with HQ's records: "
                                          "%s (later: beatbook verify-hq)\n",
                                 "beatbook-syncd：無法與總局的紀錄比對：%s"
                                 "（稍後可執行：beatbook verify-hq）\n"), veb.msg);
        else if (!agree)
            *outcome = SYNC_REFUSED;
    }
    return BB_OK;
}

/* SIGHUP: read the config file again; a bad file keeps the old settings. */
static void reload_config(const struct sync_run_opts *o, struct bb_outbox_config *conf)
{
    struct bb_outbox_config fresh;
    char path[4200];
    bb_errbuf ceb;

    if (sync_load_config(o, &fresh, path, sizeof path, &ceb) != BB_OK) {
        bb_error("config not reloaded, keeping the old one: %s", ceb.msg);
        return;
    }
    *conf = fresh;
    bb_info("config reloaded file=%s interval=%lds retention_days=%ld batch_max_records=%ld "
            "batch_max_bytes=%ld", path, conf->interval_s, conf->retention_days,
            conf->batch_max_records, conf->batch_max_bytes);
}

/* One pass; returns how long to wait before the next, and whether that is a backoff. */
static long daemon_pass(const struct sync_run_opts *o, sqlite3 *db, bb_outbox *ob,
                        const struct bb_outbox_config *conf, int *failures, int *stopped)
{
    struct sync_opts so;
    struct sync_counts c;
    long retry_after = -1, wait_ms;
    bb_errbuf peb;
    bb_err err;

    memset(&so, 0, sizeof so);
    so.lang = o->lang;
    so.ob = ob;
    so.db = db;
    so.conf = conf;
    so.tries = 1;               /* the loop itself retries, with backoff */
    err = sync_pass(&so, &c, &retry_after, &peb);
    *stopped = c.stopped;
    if (err == BB_OK) {
        *failures = 0;
        if (c.sent > 0)
            bb_info("pass sent=%ld acknowledged=%ld duplicates=%ld refused=%ld", c.sent, c.acked,
                    c.rec_duplicates, c.refused);
        return -1;
    }
    if (err == BB_ERR_STATE) {
        /* HQ refused this laptop: nothing will change soon; keep sealing locally. */
        *failures = 0;
        bb_error("%s", peb.msg);
        return -1;
    }
    (*failures)++;
    wait_ms = sync_backoff_ms(*failures, retry_after);
    /* Never wait longer than the normal interval, unless HQ asked for it. */
    if (wait_ms > conf->interval_s * 1000 && !(retry_after > 0 && wait_ms <= retry_after * 1000))
        wait_ms = conf->interval_s * 1000;
    if (*failures == 1 || *failures % 10 == 0)   /* rate-limited */
        bb_warn("pass failed failures=%d retry_in_ms=%ld error=\"%s\"", *failures, wait_ms,
                peb.msg);
    return wait_ms;
}

/*
 * The loop: a pass, then sleep on the monotonic clock until the next one is
 * due (`interval` after this pass, or the backoff after a failure).  SIGHUP
 * wakes the sleep only to reload: the next pass is then due `interval`
 * (the new one) after the last, so a reload never causes a burst.
 */
static bb_err run_daemon(const struct sync_run_opts *o, sqlite3 *db, bb_outbox *ob,
                         struct bb_outbox_config *conf, bb_errbuf *eb)
{
    int failures = 0, stopped = 0;

    (void)eb;
    bb_info("started home=%s interval=%lds retention_days=%ld pid=%ld", o->home,
            conf->interval_s, conf->retention_days, (long)getpid());
    while (!sync_stop_requested()) {
        long backoff = daemon_pass(o, db, ob, conf, &failures, &stopped);
        long long last = sync_now_ms(), due;
        if (stopped)
            break;
        due = last + (backoff >= 0 ? backoff : conf->interval_s * 1000);
        while (!sync_stop_requested()) {
            long long now = sync_now_ms();
            if (sync_reload_requested()) {
                reload_config(o, conf);
                if (backoff < 0)
                    due = last + conf->interval_s * 1000;
            }
            if (now >= due)
                break;
            sync_sleep_ms((long)(due - now));
        }
    }
    bb_info("stopping: signal received");
    return BB_OK;
}

bb_err sync_run(const struct sync_run_opts *o, enum sync_outcome *outcome, bb_errbuf *eb)
{
    struct bb_outbox_config conf;
    char path[4200];
    sqlite3 *db = NULL;
    bb_outbox *ob = NULL;
    int lock = -1;
    bb_err err;

    *outcome = SYNC_ALL_ACKED;
    if ((err = sync_load_config(o, &conf, path, sizeof path, eb)) != BB_OK)
        return err;
    snprintf(path, sizeof path, "%s/%s", o->home, DB_NAME);
    if (access(path, F_OK) != 0)   /* before the lock file, which would need the folder */
        return no_store(o->lang, path, eb);
    if ((err = sync_signals_init(eb)) != BB_OK ||
        (err = sync_lock(o->home, o->lang, &lock, eb)) != BB_OK)
        return err;
    if ((err = open_store(o->home, o->lang, &db, &ob, eb)) != BB_OK)
        goto out;
    if ((err = sync_http_global_init(eb)) != BB_OK)
        goto out;
    if (o->once)
        err = run_once(o, db, ob, &conf, outcome, eb);
    else
        err = run_daemon(o, db, ob, &conf, eb);
    sync_http_global_cleanup();
out:
    bb_outbox_free(ob);
    bb_db_close(db);
    if (lock >= 0)
        close(lock);
    return err;
}
