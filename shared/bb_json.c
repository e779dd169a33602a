/*
 * bb_json.c — canonical JSON writer and capped input (see bb_json.h).
 * The writer is our own because cJSON prints keys in insertion order and
 * numbers in a form that depends on its version; canonical bytes must not.
 */
#include "bb_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *np;
        while (cap < b->len + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p;

    sb_put(b, "\"", 1);
    for (; *p; p++) {
        char esc[8];
        const char *e = NULL;
        if (*p == '"')
            e = "\\\"";
        else if (*p == '\\')
            e = "\\\\";
        else if (*p == '\n')
            e = "\\n";
        else if (*p == '\r')
            e = "\\r";
        else if (*p == '\t')
            e = "\\t";
        else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            e = esc;
        }
        if (e) {
            sb_put(b, (const char *)run, (size_t)(p - run));
            sb_put(b, e, strlen(e));
            run = p + 1;
        }
    }
    sb_put(b, (const char *)run, (size_t)(p - run));
    sb_put(b, "\"", 1);
}

static void sb_num(struct sbuf *b, double d)
{
    char tmp[40];

    if (!isfinite(d)) {
        sb_put(b, "null", 4);   /* JSON has no NaN/Inf; validators reject them earlier */
        return;
    }
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)d);
    } else {
        int prec;
        for (prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    }
    sb_put(b, tmp, strlen(tmp));
}

static int cmp_keys(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

static void sb_item(struct sbuf *b, const cJSON *it)
{
    if (cJSON_IsNull(it)) {
        sb_put(b, "null", 4);
    } else if (cJSON_IsFalse(it)) {
        sb_put(b, "false", 5);
    } else if (cJSON_IsTrue(it)) {
        sb_put(b, "true", 4);
    } else if (cJSON_IsNumber(it)) {
        sb_num(b, it->valuedouble);
    } else if (cJSON_IsString(it)) {
        sb_str(b, it->valuestring);
    } else if (cJSON_IsArray(it)) {
        const cJSON *c;
        int first = 1;
        sb_put(b, "[", 1);
        cJSON_ArrayForEach(c, it) {
            if (!first)
                sb_put(b, ",", 1);
            first = 0;
            sb_item(b, c);
        }
        sb_put(b, "]", 1);
    } else if (cJSON_IsObject(it)) {
        const cJSON *c;
        const cJSON **kids;
        size_t n = 0, i;
        cJSON_ArrayForEach(c, it) n++;
        kids = malloc((n ? n : 1) * sizeof *kids);
        if (!kids) {
            b->oom = 1;
            return;
        }
        n = 0;
        cJSON_ArrayForEach(c, it) kids[n++] = c;
        qsort(kids, n, sizeof *kids, cmp_keys);
        sb_put(b, "{", 1);
        for (i = 0; i < n; i++) {
            if (i)
                sb_put(b, ",", 1);
            sb_str(b, kids[i]->string);
            sb_put(b, ":", 1);
            sb_item(b, kids[i]);
        }
        sb_put(b, "}", 1);
        free(kids);
    } else {
        sb_put(b, "null", 4);
    }
}

char *bb_json_canonical(const cJSON *item)
{
    struct sbuf b = {0};

    sb_item(&b, item);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

bb_err bb_json_parse(const char *text, size_t len, const char *what,
                     cJSON **out, bb_errbuf *eb)
{
    const char *end = NULL;
    cJSON *root;

    *out = NULL;
    if (len == 0)
        return bb_fail(eb, BB_ERR_INVALID, "%s: empty input, expected JSON", what);
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end ? (size_t)(end - text) : 0, i;
        unsigned line = 1, col = 1;
        if (off > len)
            off = len;
        for (i = 0; i < off; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        /* cJSON points at the last byte it read; at the end means truncated. */
        if (off + 1 >= len)
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: invalid JSON: input ends too early (truncated?) at line %u",
                           what, line);
        return bb_fail(eb, BB_ERR_INVALID,
                       "%s: invalid JSON at line %u, column %u", what, line, col);
    }
    /* Anything but whitespace after the value is an error too. */
    if (end) {
        while ((size_t)(end - text) < len &&
               (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
        if ((size_t)(end - text) < len && *end != '\0') {
            cJSON_Delete(root);
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s: invalid JSON: unexpected text after the value", what);
        }
    }
    *out = root;
    return BB_OK;
}

bb_err bb_read_file(const char *path, size_t cap, char **out, size_t *len,
                    bb_errbuf *eb)
{
    FILE *f;
    char *buf = NULL;
    size_t n = 0, bufcap = 0;
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "standard input" : path;

    *out = NULL;
    *len = 0;
    f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return bb_fail(eb, errno == ENOENT ? BB_ERR_NOTFOUND :
                           errno == EACCES ? BB_ERR_PERM : BB_ERR_IO,
                       "open %s: %s", name, strerror(errno));
    for (;;) {
        size_t got;
        if (n + 65536 + 1 > bufcap) {
            size_t nc = bufcap ? bufcap * 2 : 65536 + 1;
            char *nb;
            if (nc > cap + 65536 + 1)
                nc = cap + 65536 + 1;
            nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                if (!is_stdin)
                    fclose(f);
                return bb_fail(eb, BB_ERR_NOMEM, "read %s: out of memory", name);
            }
            buf = nb;
            bufcap = nc;
        }
        got = fread(buf + n, 1, bufcap - n - 1, f);
        n += got;
        if (n > cap) {
            free(buf);
            if (!is_stdin)
                fclose(f);
            return bb_fail(eb, BB_ERR_TOOBIG, "read %s: larger than the limit of %zu bytes",
                           name, cap);
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        if (!is_stdin)
            fclose(f);
        return bb_fail(eb, BB_ERR_IO, "read %s: %s", name, strerror(errno));
    }
    if (!is_stdin)
        fclose(f);
    if (!buf) {
        buf = malloc(1);
        if (!buf)
            return bb_fail(eb, BB_ERR_NOMEM, "read %s: out of memory", name);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return BB_OK;
}

const char *bb_json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

const cJSON *bb_json_obj(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(it) ? it : NULL;
}

long bb_utf8_length(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;

    while (*p) {
        int extra;
        if (*p < 0x80)
            extra = 0;
        else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
            extra = 1;
        else if ((*p & 0xf0) == 0xe0)
            extra = 2;
        else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
            extra = 3;
        else
            return -1;
        p++;
        while (extra--) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            p++;
        }
        n++;
    }
    return n;
}

static size_t skip_ws(const char *t, size_t i, size_t len)
{
    while (i < len && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t'))
        i++;
    return i;
}

bb_err bb_json_scan_objects(const char *text, size_t len, const char *what, long long *count,
                            bb_errbuf *eb)
{
    char stack[64];
    size_t i = skip_ws(text, 0, len);
    long long n = 0;

    *count = 0;
    if (i >= len || text[i] != '[')
        return bb_fail(eb, BB_ERR_INVALID, "%s: must be a JSON array of records", what);
    i = skip_ws(text, i + 1, len);
    if (i < len && text[i] == ']')
        goto end;
    for (;;) {
        int depth = 0;
        if (i >= len || text[i] != '{')
            return bb_fail(eb, BB_ERR_INVALID, "%s: element %lld is not a JSON object", what, n);
        do {
            char c = text[i++];
            if (c == '"') {
                while (i < len && text[i] != '"')
                    i += text[i] == '\\' ? 2 : 1;
                if (i++ >= len)
                    return bb_fail(eb, BB_ERR_INVALID, "%s: unterminated string", what);
            } else if (c == '{' || c == '[') {
                if (depth == (int)sizeof stack)
                    return bb_fail(eb, BB_ERR_INVALID, "%s: nested too deeply", what);
                stack[depth++] = c == '{' ? '}' : ']';
            } else if (c == '}' || c == ']') {
                if (depth == 0 || stack[--depth] != c)
                    return bb_fail(eb, BB_ERR_INVALID, "%s: mismatched '%c' at byte %zu", what,
                                   c, i - 1);
            } else if (c == '\0') {
                return bb_fail(eb, BB_ERR_INVALID, "%s: contains a NUL byte", what);
            }
        } while (depth > 0 && i < len);
        if (depth > 0)
            return bb_fail(eb, BB_ERR_INVALID, "%s: ends inside element %lld (truncated?)",
                           what, n);
        n++;
        i = skip_ws(text, i, len);
        if (i < len && text[i] == ',') {
            i = skip_ws(text, i + 1, len);
            continue;
        }
        if (i < len && text[i] == ']')
            break;
        return bb_fail(eb, BB_ERR_INVALID, "%s: expected ',' or ']' after element %lld", what,
                       n - 1);
    }
end:
    i = skip_ws(text, i + 1, len);
    if (i != len)
        return bb_fail(eb, BB_ERR_INVALID, "%s: unexpected text after the array", what);
    *count = n;
    return BB_OK;
}
