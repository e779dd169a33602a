/*
 * bb_err.c — messages and exit codes for enum bb_err (see bb_err.h).
 * Both switches have no default so that the compiler (-Wswitch) flags a
 * new code that lacks a message or an exit status.
 */
#include "bb_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

const char *bb_strerror(bb_err code)
{
    switch (code) {
    case BB_OK: return "success";
    case BB_ERR_NOMEM: return "out of memory";
    case BB_ERR_USAGE: return "usage error";
    case BB_ERR_INVALID: return "invalid data";
    case BB_ERR_NOTFOUND: return "not found";
    case BB_ERR_IO: return "input/output error";
    case BB_ERR_DB: return "database error";
    case BB_ERR_BUSY: return "store is locked by another process";
    case BB_ERR_CORRUPT: return "store or file is corrupt";
    case BB_ERR_READONLY: return "store is read-only";
    case BB_ERR_FULL: return "disk is full";
    case BB_ERR_CRYPTO: return "authentication failed";
    case BB_ERR_PERM: return "permission denied";
    case BB_ERR_EXISTS: return "already exists";
    case BB_ERR_CONFIG: return "configuration error";
    case BB_ERR_UNAVAILABLE: return "service unavailable";
    case BB_ERR_TOOBIG: return "too large";
    case BB_ERR_CONFLICT: return "conflict";
    case BB_ERR_INTERNAL: return "internal error";
    case BB_ERR_UNSUPPORTED: return "not supported";
    case BB_ERR_STATE: return "not allowed in the current state";
    }
    return "unknown error";
}

int bb_err_exit_code(bb_err code)
{
    switch (code) {
    case BB_OK: return 0;
    case BB_ERR_USAGE: return EX_USAGE;
    case BB_ERR_INVALID: return EX_DATAERR;
    case BB_ERR_CRYPTO: return EX_DATAERR;
    case BB_ERR_TOOBIG: return EX_DATAERR;
    case BB_ERR_CONFLICT: return EX_DATAERR;
    case BB_ERR_STATE: return EX_DATAERR;
    case BB_ERR_NOTFOUND: return EX_NOINPUT;
    case BB_ERR_UNAVAILABLE: return EX_UNAVAILABLE;
    case BB_ERR_UNSUPPORTED: return EX_UNAVAILABLE;
    case BB_ERR_BUSY: return EX_TEMPFAIL;
    case BB_ERR_IO: return EX_IOERR;
    case BB_ERR_FULL: return EX_IOERR;
    case BB_ERR_DB: return EX_IOERR;
    case BB_ERR_CORRUPT: return EX_IOERR;
    case BB_ERR_READONLY: return EX_CANTCREAT;
    case BB_ERR_EXISTS: return EX_CANTCREAT;
    case BB_ERR_PERM: return EX_NOPERM;
    case BB_ERR_CONFIG: return EX_CONFIG;
    case BB_ERR_NOMEM: return EX_OSERR;
    case BB_ERR_INTERNAL: return EX_SOFTWARE;
    }
    return EX_SOFTWARE;
}

bb_err bb_fail(bb_errbuf *eb, bb_err code, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void bb_errbuf_prefix(bb_errbuf *eb, const char *fmt, ...)
{
    char old[sizeof eb->msg];
    size_t n, keep;
    va_list ap;

    if (!eb)
        return;
    memcpy(old, eb->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
    va_end(ap);
    /* Append ": old", cutting the old message if the whole does not fit. */
    n = strlen(eb->msg);
    if (n + 3 >= sizeof eb->msg)
        return;
    memcpy(eb->msg + n, ": ", 2);
    n += 2;
    keep = strlen(old);
    if (keep > sizeof eb->msg - n - 1)
        keep = sizeof eb->msg - n - 1;
    memcpy(eb->msg + n, old, keep);
    eb->msg[n + keep] = '\0';
}
