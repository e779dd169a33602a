/*
 * bb_err — the one error vocabulary of Beatbook.
 *
 * Every function of shared/ that can fail returns a bb_err; results travel
 * through out-parameters.  Callers that want to tell a person what went wrong
 * pass a bb_errbuf, which receives "action object: cause" in plain words
 * (e.g. `open /var/lib/beatbook/field.db: permission denied`).  A NULL
 * bb_errbuf is always allowed and means "I only want the code".
 *
 * The numbers are part of the contract (they appear in logs and receipts):
 * never renumber, only append.  Programs map codes to sysexits(3) exit
 * statuses with bb_err_exit_code(), in one table.
 */
#ifndef BB_ERR_H
#define BB_ERR_H

#include <stddef.h>
#include "bb_lang.h"

typedef enum bb_err {
    BB_OK = 0,
    BB_ERR_NOMEM = 1,       /* out of memory */
    BB_ERR_USAGE = 2,       /* bad command line */
    BB_ERR_INVALID = 3,     /* bad data: record, file, request */
    BB_ERR_NOTFOUND = 4,    /* no such record, file, key */
    BB_ERR_IO = 5,          /* read/write failed */
    BB_ERR_DB = 6,          /* database error not covered below */
    BB_ERR_BUSY = 7,        /* store locked by another process */
    BB_ERR_CORRUPT = 8,     /* store or file damaged */
    BB_ERR_READONLY = 9,    /* store cannot be written */
    BB_ERR_FULL = 10,       /* disk full */
    BB_ERR_CRYPTO = 11,     /* authentication failed / bad signature */
    BB_ERR_PERM = 12,       /* permission denied */
    BB_ERR_EXISTS = 13,     /* already exists */
    BB_ERR_CONFIG = 14,     /* bad configuration */
    BB_ERR_UNAVAILABLE = 15,/* service or network unavailable */
    BB_ERR_TOOBIG = 16,     /* over a size cap */
    BB_ERR_CONFLICT = 17,   /* conflicts with what is stored */
    BB_ERR_INTERNAL = 18,   /* a bug: should not happen */
    BB_ERR_UNSUPPORTED = 19,/* valid but not supported by this build */
    BB_ERR_STATE = 20       /* operation not allowed in the current state */
} bb_err;

/* Human-readable error buffer: "action object: cause". */
typedef struct bb_errbuf {
    char msg[1024];
} bb_errbuf;

/* Short static description of a code ("permission denied"). Never NULL. */
const char *bb_strerror(bb_err code);

/* The same in lang: bb_strerror's text for English, else zh-TW. */
const char *bb_strerror_lang(bb_err code, enum bb_lang lang);

/*
 * strerror(e) for a person reading lang: English is strerror's own text;
 * zh-TW has the errors that files and folders commonly give (no such file,
 * permission denied, disk full, read-only, ...) and "錯誤 N" otherwise.
 */
const char *bb_errno_text(int e, enum bb_lang lang);

/*
 * Format a message into eb (if not NULL) and return code, so that callers
 * can write `return bb_fail(eb, BB_ERR_INVALID, "field %s: ...", f);`.
 */
bb_err bb_fail(bb_errbuf *eb, bb_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in eb with "prefix: " (for adding context). */
void bb_errbuf_prefix(bb_errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The sysexits(3) status a program exits with for this code. */
int bb_err_exit_code(bb_err code);

#endif
