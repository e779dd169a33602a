/*
 * bb_httpd.c — helpers shared by our libmicrohttpd servers (see bb_httpd.h).
 */
#include "bb_httpd.h"
#include "bb_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bb_httpd_log_safe(char *out, size_t size, const char *in)
{
    size_t i = 0;

    if (size == 0)
        return;
    for (; in && *in && i + 1 < size; in++)
        out[i++] = (*in > ' ' && *in < 0x7f && *in != '"') ? *in : '?';
    out[i] = '\0';
    if (in && *in && size > 4)
        memcpy(out + size - 4, "...", 4);     /* cut: say so */
}

int bb_httpd_media_type_is(const char *value, const char *want)
{
    size_t n;

    if (!value)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    n = strcspn(value, "; \t");
    return n == strlen(want) && strncasecmp(value, want, n) == 0;
}

long long bb_httpd_content_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long n;
    char *end;

    if (!v || *v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno == ERANGE || n > (unsigned long long)0x7fffffffffffffffLL)
        return 0x7fffffffffffffffLL;
    return *end ? -1 : (long long)n;
}

int bb_httpd_has_control(const char *text, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return 1;
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

size_t bb_httpd_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *in = s, *out = s;

    (void)cls;
    (void)c;
    while (*in) {
        int hi, lo;
        if (*in == '%' && (hi = hexval(in[1])) >= 0 && (lo = hexval(in[2])) >= 0) {
            char ch = (char)(hi * 16 + lo);
            *out++ = ch == '\0' ? (char)0x7f : ch;
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

void bb_httpd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    bb_debug("http: %s", line);
}
