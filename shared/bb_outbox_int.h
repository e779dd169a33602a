/*
 * bb_outbox_int.h — what the outbox's own files share (bb_outbox.c and
 * bb_outbox_attach.c).  Not for use outside shared/bb_outbox*.c.
 */
#ifndef BB_OUTBOX_INT_H
#define BB_OUTBOX_INT_H

#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_err.h"
#include "bb_hpke.h"
#include "bb_lang.h"
#include "bb_outbox.h"
#include "bb_sign.h"

struct bb_outbox {
    sqlite3 *db;
    char home[4096];
    char device[80];
    int enrolled;
    struct bb_outbox_hq hq;
    char *url, *pin, *ca, *label;
    uint8_t hq_x25519[BB_HPKE_PK_LEN];
    char hq_x25519_key[BB_KEY_ID_SIZE];
    bb_sign_key *hq_sign;
    char hq_sign_key[BB_KEY_ID_SIZE];
    char device_key_id[BB_KEY_ID_SIZE];
    char *token;                /* secret; NULL once registered */
    bb_sign_key *dev;           /* device.key, loaded when first needed */
    enum bb_lang lang;          /* of messages people read (bb_outbox_set_lang) */
};

/* 1 when the store has this table (stores older than a migration lack it). */
int bb_outbox_i_table_exists(sqlite3 *db, const char *name);

/* Step a statement that returns no rows, finalize it, translate its error. */
bb_err bb_outbox_i_step_done(sqlite3 *db, sqlite3_stmt *q, const char *action, bb_errbuf *eb);

/* device.key into ob->dev, checked against the enrolled key id. */
bb_err bb_outbox_i_device_key(bb_outbox *ob, bb_errbuf *eb);

/* A signed JSON answer from HQ: parsed, HQ's signature verified under context. */
bb_err bb_outbox_i_parse_signed(bb_outbox *ob, const char *text, size_t len, size_t cap,
                                const char *context, const char *what, cJSON **out,
                                bb_errbuf *eb);

/* An errno as a bb_err with "<action> <path>: <reason>" in lang. */
bb_err bb_outbox_i_errno_fail(bb_errbuf *eb, enum bb_lang lang, int e, const char *action,
                              const char *path);

#endif
