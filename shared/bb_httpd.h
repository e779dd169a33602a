/*
 * bb_httpd — the small pieces every libmicrohttpd server of ours needs:
 * HQ's HTTPS server (hq/hq_http.c, hq/hq_web.c) and the laptop's forms page
 * (collector/col_ui.c).  Each server keeps its own routes, limits and
 * security checks; this is only what would otherwise be copied between them.
 */
#ifndef BB_HTTPD_H
#define BB_HTTPD_H

#include <stdarg.h>
#include <stddef.h>
#include <microhttpd.h>

/* Copy untrusted text for a log line: printable ASCII only; cut with "...". */
void bb_httpd_log_safe(char *out, size_t size, const char *in);

/* True when a Content-Type value names media type want ("application/json; x" → yes). */
int bb_httpd_media_type_is(const char *value, const char *want);

/* The request's Content-Length when present and a plain number, else -1;
 * a number too large for long long reads as LLONG_MAX (over every cap). */
long long bb_httpd_content_length(struct MHD_Connection *c);

/* True when text of n bytes holds a NUL or another control character (< 0x20, 0x7f). */
int bb_httpd_has_control(const char *text, size_t n);

/*
 * MHD_OPTION_UNESCAPE_CALLBACK: percent-decoding as libmicrohttpd does, except
 * that a decoded NUL becomes 0x7f.  libmicrohttpd hands paths and arguments
 * on as C strings, so "%00" would otherwise cut them silently
 * ("org=P06%00P08" read as P06); as a visible control character it is
 * refused by the checks above.  Returns the new length.
 */
size_t bb_httpd_unescape(void *cls, struct MHD_Connection *c, char *s);

/* libmicrohttpd's own messages (MHD_OPTION_EXTERNAL_LOGGER), as debug lines. */
void bb_httpd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
