/*
 * bb_err.c — messages and exit codes for enum bb_err (see bb_err.h).
 * Both switches have no default so that the compiler (-Wswitch) flags a
 * new code that lacks a message or an exit status.
 */
#include "bb_err.h"

#include <errno.h>
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

const char *bb_strerror_lang(bb_err code, enum bb_lang lang)
{
    if (lang == BB_LANG_EN)
        return bb_strerror(code);
    switch (code) {
    case BB_OK: return "成功";
    case BB_ERR_NOMEM: return "記憶體不足";
    case BB_ERR_USAGE: return "指令用法錯誤";
    case BB_ERR_INVALID: return "資料無效";
    case BB_ERR_NOTFOUND: return "找不到";
    case BB_ERR_IO: return "讀寫錯誤";
    case BB_ERR_DB: return "資料庫錯誤";
    case BB_ERR_BUSY: return "資料庫正由其他程式使用中";
    case BB_ERR_CORRUPT: return "資料庫或檔案已損毀";
    case BB_ERR_READONLY: return "資料庫為唯讀";
    case BB_ERR_FULL: return "磁碟已滿";
    case BB_ERR_CRYPTO: return "驗證失敗";
    case BB_ERR_PERM: return "權限不足";
    case BB_ERR_EXISTS: return "已存在";
    case BB_ERR_CONFIG: return "設定錯誤";
    case BB_ERR_UNAVAILABLE: return "服務無法使用";
    case BB_ERR_TOOBIG: return "太大";
    case BB_ERR_CONFLICT: return "資料衝突";
    case BB_ERR_INTERNAL: return "內部錯誤";
    case BB_ERR_UNSUPPORTED: return "不支援";
    case BB_ERR_STATE: return "目前的狀態不允許此操作";
    }
    return "未知的錯誤";
}

const char *bb_errno_text(int e, enum bb_lang lang)
{
    static _Thread_local char other[32];

    if (lang == BB_LANG_EN)
        return strerror(e);
    switch (e) {
    case ENOENT: return "沒有這個檔案或資料夾";
    case ENOTDIR: return "路徑中有一段不是資料夾";
    case EISDIR: return "這是資料夾，不是檔案";
    case EACCES: return "權限不足";
    case EPERM: return "不允許此操作";
    case EEXIST: return "已存在";
    case ENOSPC: return "磁碟已滿";
    case EDQUOT: return "超過磁碟配額";
    case EROFS: return "唯讀的檔案系統";
    case EIO: return "讀寫錯誤（磁碟或隨身碟可能有問題）";
    case ENAMETOOLONG: return "路徑太長";
    case ENOTEMPTY: return "資料夾不是空的";
    case EBUSY: return "裝置或資源忙碌中";
    case ENOMEM: return "記憶體不足";
    case EXDEV: return "不能跨檔案系統連結";
    }
    snprintf(other, sizeof other, "錯誤 %d", e);
    return other;
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
