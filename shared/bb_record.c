/*
 * bb_record.c — coercion of typed-in values and validation of records
 * (see bb_record.h).  Every message exists in zh-TW and English; the MSG
 * macro keeps both format strings literal so the compiler checks them.
 */
#include "bb_record.h"
#include "bb_attach.h"
#include "bb_json.h"
#include "bb_rules.h"
#include "bb_time.h"
#include "bb_uuid.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SAFE_INT 9007199254740992.0   /* 2^53: integers beyond lose precision */

#define MSG(buf, lang, en, zh, ...)                                    \
    ((lang) == BB_LANG_EN ? snprintf((buf), sizeof(buf), en, __VA_ARGS__) \
                          : snprintf((buf), sizeof(buf), zh, __VA_ARGS__))

/* "kind: field "name" (label): what" */
static bb_err field_fail(bb_errbuf *eb, enum bb_lang lang, const struct bb_kind *k,
                         const struct bb_field *f, const char *what)
{
    const char *label = bb_label(&f->label, lang, f->name);
    if (lang == BB_LANG_EN)
        return bb_fail(eb, BB_ERR_INVALID, "%s: field \"%s\" (%s): %s", k->name, f->name,
                       label, what);
    return bb_fail(eb, BB_ERR_INVALID, "%s：欄位「%s」（%s）：%s", k->name, f->name, label, what);
}

/* Shorten a value for quoting in a message. */
static void quote_value(char *out, size_t n, const char *v)
{
    size_t len = strlen(v);
    if (len + 1 <= n && len <= 60) {
        memcpy(out, v, len + 1);
        return;
    }
    snprintf(out, n, "%.57s...", v);
}

static const char *list_title(const char *list, enum bb_lang lang)
{
    static const struct { const char *list, *en, *zh; } t[] = {
        {"units", "org units", "單位"},
        {"intersections", "listed accident-prone intersections", "列管易肇事路口"},
        {"segments", "listed road segments", "列管路段"},
        {"bikepaths", "bike paths", "自行車道"},
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].list, list) == 0)
            return lang == BB_LANG_EN ? t[i].en : t[i].zh;
    return list;
}

const char *bb_ftype_label(enum bb_ftype t, enum bb_lang lang)
{
    if (lang == BB_LANG_EN)
        return bb_ftype_name(t);
    switch (t) {
    case BB_F_TEXT: return "文字";
    case BB_F_INTEGER: return "整數";
    case BB_F_NUMBER: return "數字";
    case BB_F_BOOLEAN: return "是/否";
    case BB_F_ENUM: return "選項";
    case BB_F_DATETIME: return "日期時間";
    case BB_F_REF: return "代碼";
    case BB_F_GEO: return "座標";
    case BB_F_ATTACHMENT: return "附件";
    }
    return "?";
}

/* "a, b, c" of an enum's codes, cut with "..." when it does not fit. */
static void enum_allowed(const struct bb_field *f, char *out, size_t n)
{
    size_t i, used = 0;
    out[0] = '\0';
    for (i = 0; i < f->nvalues && used + 1 < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", f->values[i].code);
        if (w < 0 || (size_t)w >= n - used) {
            snprintf(out + (n > 4 ? n - 4 : 0), 4, "...");
            return;
        }
        used += (size_t)w;
    }
}

static bb_err check_number(const struct bb_kind *k, const struct bb_field *f, double d,
                           enum bb_lang lang, bb_errbuf *eb)
{
    char msg[512];
    if (f->has_min && d < f->min) {
        MSG(msg, lang, "%g is below the minimum %g", "%g 小於最小值 %g", d, f->min);
        return field_fail(eb, lang, k, f, msg);
    }
    if (f->has_max && d > f->max) {
        MSG(msg, lang, "%g is above the maximum %g", "%g 大於最大值 %g", d, f->max);
        return field_fail(eb, lang, k, f, msg);
    }
    return BB_OK;
}

bb_err bb_geo_parse(const char *text, cJSON **out, bb_errbuf *eb)
{
    return bb_geo_parse_lang(text, BB_LANG_EN, out, eb);
}

bb_err bb_geo_parse_lang(const char *text, enum bb_lang lang, cJSON **out, bb_errbuf *eb)
{
    char *end;
    double lat, lon;
    cJSON *o;

    *out = NULL;
    errno = 0;
    lat = strtod(text, &end);
    if (end == text || *end != ',' || errno)
        goto bad;
    text = end + 1;
    while (*text == ' ')
        text++;
    lon = strtod(text, &end);
    if (end == text || *end != '\0' || errno)
        goto bad;
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "latitude must be within -90..90 and longitude within -180..180",
                            "緯度須在 -90..90 之間，經度須在 -180..180 之間"));
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "lat", lat) || !cJSON_AddNumberToObject(o, "lon", lon)) {
        cJSON_Delete(o);
        return BB_ERR_NOMEM;
    }
    *out = o;
    return BB_OK;
bad:
    return bb_fail(eb, BB_ERR_INVALID,
                   BB_L(lang, "expected \"LAT,LON\" in decimal degrees, e.g. 24.1477,120.6736",
                        "應為十進位度數的「緯度,經度」，例如 24.1477,120.6736"));
}

static bb_err check_geo(const cJSON *v, enum bb_lang lang, bb_errbuf *eb)
{
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(v, "lat");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(v, "lon");
    if (!cJSON_IsObject(v) || !cJSON_IsNumber(lat) || !cJSON_IsNumber(lon) ||
        cJSON_GetArraySize(v) != 2)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "expected {\"lat\": number, \"lon\": number}",
                            "應為 {\"lat\": 數字, \"lon\": 數字}"));
    if (!(lat->valuedouble >= -90 && lat->valuedouble <= 90) ||
        !(lon->valuedouble >= -180 && lon->valuedouble <= 180))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "latitude must be within -90..90 and longitude within -180..180",
                            "緯度須在 -90..90 之間，經度須在 -180..180 之間"));
    return BB_OK;
}

/* True when type is one of the field's media types. */
static int media_allowed(const struct bb_field *f, const char *type)
{
    size_t i;
    for (i = 0; i < f->nmedia; i++)
        if (strcmp(f->media[i], type) == 0)
            return 1;
    return 0;
}

int bb_record_media_allowed(const struct bb_field *f, const char *type)
{
    return type && media_allowed(f, type);
}

/* A display name: at most BB_ATTACH_NAME_MAX bytes of UTF-8, no '/', no control characters. */
int bb_record_attachment_name_ok(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t n = strlen(name);

    if (n == 0 || n > BB_ATTACH_NAME_MAX || bb_utf8_length(name) < 0)
        return 0;
    for (; *p; p++)
        if (*p == '/' || *p < 0x20 || *p == 0x7f)
            return 0;
    /* C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8. */
    for (p = (const unsigned char *)name; p[0] && p[1]; p++)
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return 0;
    return 1;
}

/*
 * An attachment field's value: [{"sha256", "size", "type", "name"?}], at
 * most max_count, each hash once.  The message (in sub) says which file
 * (1-based position, and its name when it has a good one) and what is wrong.
 */
static bb_err check_attachments(const struct bb_field *f, const cJSON *v, enum bb_lang lang,
                                bb_errbuf *eb)
{
    const cJSON *it, *jt, *other;
    int n = cJSON_GetArraySize(v), i = 0, j;
    char who[BB_ATTACH_NAME_MAX + 40], allowed[200];
    size_t used = 0, m;

    if (!cJSON_IsArray(v))
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "expected a list of files [{\"sha256\", \"size\", \"type\", "
                                  "\"name\"}]; add files with FIELD=@PATH",
                            "應為檔案清單 [{\"sha256\", \"size\", \"type\", \"name\"}]；"
                            "請以 欄位=@路徑 加入檔案"));
    /* One stored form: no files is the field left out, never []. */
    if (n == 0)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "an empty list of files; leave the field out instead",
                            "檔案清單是空的；沒有檔案時請不要填此欄位"));
    if (n > f->max_count)
        return bb_fail(eb, BB_ERR_INVALID,
                       BB_L(lang, "%d files is more than the %ld this field takes",
                            "%d 個檔案超過此欄位上限 %ld 個"), n, f->max_count);
    allowed[0] = '\0';
    for (m = 0; m < f->nmedia && used < sizeof allowed - 40; m++)
        used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s",
                                 m ? ", " : "", f->media[m]);
    cJSON_ArrayForEach(it, v) {
        const char *sha = bb_json_str(it, "sha256"), *type = bb_json_str(it, "type");
        const char *name = bb_json_str(it, "name");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
        i++;
        if (name && bb_record_attachment_name_ok(name))
            snprintf(who, sizeof who, BB_L(lang, "file %d (%s)", "第 %d 個檔案（%s）"), i, name);
        else
            snprintf(who, sizeof who, BB_L(lang, "file %d", "第 %d 個檔案"), i);
        if (!cJSON_IsObject(it))
            return bb_fail(eb, BB_ERR_INVALID,
                           BB_L(lang, "%s: expected {\"sha256\", \"size\", \"type\", \"name\"}",
                                "%s：應為 {\"sha256\", \"size\", \"type\", \"name\"}"), who);
        cJSON_ArrayForEach(jt, it)
            if (strcmp(jt->string, "sha256") && strcmp(jt->string, "size") &&
                strcmp(jt->string, "type") && strcmp(jt->string, "name"))
                return bb_fail(eb, BB_ERR_INVALID,
                               BB_L(lang, "%s: unknown key \"%.40s\" (a file has sha256, size, "
                                          "type and name)",
                                    "%s：不應有「%.40s」這個鍵（檔案只有 sha256、size、type、name）"),
                               who, jt->string);
        if (!sha || !bb_sha256_hex_valid(sha))
            return bb_fail(eb, BB_ERR_INVALID,
                           BB_L(lang, "%s: \"sha256\" must be 64 lowercase hex digits",
                                "%s：「sha256」必須是 64 個小寫十六進位字元"), who);
        if (!cJSON_IsNumber(size) || size->valuedouble != floor(size->valuedouble) ||
            size->valuedouble < 1 || size->valuedouble > (double)f->max_bytes)
            return bb_fail(eb, BB_ERR_INVALID,
                           BB_L(lang, "%s: \"size\" must be 1 to %lld bytes",
                                "%s：「size」必須是 1 到 %lld 位元組"), who, f->max_bytes);
        if (!type || !media_allowed(f, type))
            return bb_fail(eb, BB_ERR_INVALID,
                           BB_L(lang, "%s: type \"%.40s\" is not allowed here (allowed: %s)",
                                "%s：此欄位不接受「%.40s」類型（可用：%s）"), who,
                           type ? type : "", allowed);
        if (cJSON_GetObjectItemCaseSensitive(it, "name") && !(name && bb_record_attachment_name_ok(name)))
            return bb_fail(eb, BB_ERR_INVALID,
                           BB_L(lang, "%s: \"name\" must be text of 1 to %d bytes without \"/\" "
                                      "or control characters",
                                "%s：「name」必須是 1 到 %d 位元組的文字，不含「/」或控制字元"),
                           who, BB_ATTACH_NAME_MAX);
        j = 0;
        cJSON_ArrayForEach(other, v) {
            if (++j >= i)
                break;
            if (strcmp(bb_json_str(other, "sha256"), sha) == 0)
                return bb_fail(eb, BB_ERR_INVALID,
                               BB_L(lang, "%s is the same file as file %d (sha256 %.12s…)",
                                    "%s與第 %d 個檔案是同一個檔案（sha256 %.12s…）"), who, j, sha);
        }
    }
    return BB_OK;
}

bb_err bb_record_check_field(const bb_catalog *cat, const struct bb_kind *k,
                             const struct bb_field *f, const cJSON *v,
                             enum bb_lang lang, bb_errbuf *eb)
{
    char msg[768], val[80], allowed[400];
    bb_errbuf sub;

    switch (f->type) {
    case BB_F_TEXT: {
        long n;
        if (!cJSON_IsString(v)) {
            MSG(msg, lang, "expected text%s", "應為文字%s", "");
            return field_fail(eb, lang, k, f, msg);
        }
        n = bb_utf8_length(v->valuestring);
        if (n < 0) {
            MSG(msg, lang, "the text is not valid UTF-8%s", "文字不是有效的 UTF-8 編碼%s", "");
            return field_fail(eb, lang, k, f, msg);
        }
        if (n > f->max_length) {
            MSG(msg, lang, "text of %ld characters is longer than the maximum of %ld",
                "文字長度 %ld 字超過上限 %ld 字", n, f->max_length);
            return field_fail(eb, lang, k, f, msg);
        }
        return BB_OK;
    }
    case BB_F_INTEGER:
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
            fabs(v->valuedouble) >= MAX_SAFE_INT) {
            MSG(msg, lang, "expected a whole number%s", "應為整數%s", "");
            return field_fail(eb, lang, k, f, msg);
        }
        return check_number(k, f, v->valuedouble, lang, eb);
    case BB_F_NUMBER:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            MSG(msg, lang, "expected a number%s", "應為數字%s", "");
            return field_fail(eb, lang, k, f, msg);
        }
        return check_number(k, f, v->valuedouble, lang, eb);
    case BB_F_BOOLEAN:
        if (!cJSON_IsBool(v)) {
            MSG(msg, lang, "expected true or false%s", "應為 true（是）或 false（否）%s", "");
            return field_fail(eb, lang, k, f, msg);
        }
        return BB_OK;
    case BB_F_ENUM:
        if (cJSON_IsString(v) && bb_field_enum(f, v->valuestring))
            return BB_OK;
        enum_allowed(f, allowed, sizeof allowed);
        quote_value(val, sizeof val, cJSON_IsString(v) ? v->valuestring
                                                       : BB_L(lang, "(not text)", "（非文字）"));
        MSG(msg, lang, "\"%s\" is not allowed; allowed values: %s (see: beatbook kinds show %s)",
            "「%s」不是允許的值；允許的值：%s（請見：beatbook kinds show %s）", val, allowed,
            k->name);
        return field_fail(eb, lang, k, f, msg);
    case BB_F_DATETIME: {
        int64_t t;
        int off;
        if (!cJSON_IsString(v)) {
            MSG(msg, lang, "expected a date and time like %s", "應為日期時間，例如 %s",
                "2018-03-15T14:20:00+08:00");
            return field_fail(eb, lang, k, f, msg);
        }
        if (bb_time_parse_lang(v->valuestring, lang, &t, &off, &sub) != BB_OK)
            return field_fail(eb, lang, k, f, sub.msg);
        return BB_OK;
    }
    case BB_F_REF:
        if (cJSON_IsString(v) && bb_catalog_ref(cat, f->ref, v->valuestring))
            return BB_OK;
        quote_value(val, sizeof val, cJSON_IsString(v) ? v->valuestring
                                                       : BB_L(lang, "(not text)", "（非文字）"));
        MSG(msg, lang, "\"%s\" is not in the list of %s (see: beatbook ref %s)",
            "「%s」不在%s清單中（請見：beatbook ref %s）", val, list_title(f->ref, lang),
            f->ref);
        return field_fail(eb, lang, k, f, msg);
    case BB_F_GEO:
        if (check_geo(v, lang, &sub) != BB_OK)
            return field_fail(eb, lang, k, f, sub.msg);
        return BB_OK;
    case BB_F_ATTACHMENT:
        if (check_attachments(f, v, lang, &sub) != BB_OK)
            return field_fail(eb, lang, k, f, sub.msg);
        return BB_OK;
    }
    return bb_fail(eb, BB_ERR_INTERNAL, "unknown field type");
}

static int value_matches(const cJSON *v, const char *want)
{
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, want) == 0;
    if (cJSON_IsBool(v))
        return strcmp(cJSON_IsTrue(v) ? "true" : "false", want) == 0;
    return 0;
}

int bb_record_field_required(const struct bb_kind *k, const struct bb_field *f,
                             const cJSON *data)
{
    const cJSON *other;
    size_t i;

    (void)k;
    if (f->required)
        return 1;
    if (!f->required_if_field)
        return 0;
    other = cJSON_GetObjectItemCaseSensitive(data, f->required_if_field);
    for (i = 0; i < f->required_if_count; i++)
        if (other && value_matches(other, f->required_if_values[i]))
            return 1;
    return 0;
}

bb_err bb_record_check_data(const bb_catalog *cat, const struct bb_kind *k,
                            const cJSON *data, enum bb_lang lang, bb_errbuf *eb)
{
    const cJSON *it, *jt;
    size_t i;
    bb_err err;
    char msg[512];

    if (!cJSON_IsObject(data)) {
        if (lang == BB_LANG_EN)
            return bb_fail(eb, BB_ERR_INVALID, "%s: \"data\" must be an object of fields", k->name);
        return bb_fail(eb, BB_ERR_INVALID, "%s：「data」必須是欄位物件", k->name);
    }
    cJSON_ArrayForEach(it, data) {
        const struct bb_field *f = bb_kind_field(k, it->string);
        if (!f) {
            char names[600];
            size_t used = 0;
            names[0] = '\0';
            for (i = 0; i < k->nfields && used < sizeof names - 70; i++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                         i ? ", " : "", k->fields[i].name);
            if (lang == BB_LANG_EN)
                return bb_fail(eb, BB_ERR_INVALID,
                               "%s: unknown field \"%s\"; fields of %s: %s (see: beatbook kinds "
                               "show %s)", k->name, it->string, k->name, names, k->name);
            return bb_fail(eb, BB_ERR_INVALID,
                           "%s：沒有「%s」這個欄位；%s 的欄位有：%s（請見：beatbook kinds show %s）",
                           k->name, it->string, k->name, names, k->name);
        }
        for (jt = data->child; jt != it; jt = jt->next)
            if (strcmp(jt->string, it->string) == 0) {
                MSG(msg, lang, "the field is given twice%s", "欄位重複出現%s", "");
                return field_fail(eb, lang, k, f, msg);
            }
        if (cJSON_IsNull(it) && !bb_record_field_required(k, f, data))
            continue;   /* explicit null = not given */
        if ((err = bb_record_check_field(cat, k, f, it, lang, eb)) != BB_OK)
            return err;
    }
    for (i = 0; i < k->nfields; i++) {
        const struct bb_field *f = &k->fields[i];
        it = cJSON_GetObjectItemCaseSensitive(data, f->name);
        if ((!it || cJSON_IsNull(it)) && bb_record_field_required(k, f, data)) {
            if (f->required)
                MSG(msg, lang, "a value is required (type: %s)", "此欄位必填（類型：%s）",
                    bb_ftype_label(f->type, lang));
            else
                MSG(msg, lang, "a value is required when \"%s\" is %s",
                    "當「%s」為 %s 時此欄位必填", f->required_if_field,
                    bb_json_str(data, f->required_if_field)
                        ? bb_json_str(data, f->required_if_field)
                        : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, f->required_if_field))
                              ? "true" : "false");
            return field_fail(eb, lang, k, f, msg);
        }
    }
    return BB_OK;
}

/* Envelope checks. */
static bb_err env_fail(bb_errbuf *eb, enum bb_lang lang, const char *kind, const char *key,
                       const char *en, const char *zh)
{
    if (lang == BB_LANG_EN)
        return bb_fail(eb, BB_ERR_INVALID, "%s: \"%s\": %s", kind, key, en);
    return bb_fail(eb, BB_ERR_INVALID, "%s：「%s」：%s", kind, key, zh);
}

static bb_err check_text(const cJSON *rec, const char *key, size_t maxlen, int required,
                         const char *kind, enum bb_lang lang, bb_errbuf *eb)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    long n;
    if (!v && !required)
        return BB_OK;
    if (!cJSON_IsString(v))
        return env_fail(eb, lang, kind, key, "a text value is required", "必須提供文字");
    n = bb_utf8_length(v->valuestring);
    if (n < 1 || (size_t)n > maxlen) {
        if (lang == BB_LANG_EN)
            return bb_fail(eb, BB_ERR_INVALID, "%s: \"%s\": must be 1 to %zu characters, not %ld",
                           kind, key, maxlen, n);
        return bb_fail(eb, BB_ERR_INVALID, "%s：「%s」：長度須為 1 到 %zu 字（目前 %ld 字）",
                       kind, key, maxlen, n);
    }
    return BB_OK;
}

static bb_err check_time_key(const cJSON *rec, const char *key, const char *kind,
                             enum bb_lang lang, bb_errbuf *eb)
{
    const char *s = bb_json_str(rec, key);
    int64_t t;
    int off;
    bb_errbuf sub;
    if (!s)
        return env_fail(eb, lang, kind, key, "a date and time with offset is required",
                        "必須提供含時區的日期時間");
    if (bb_time_parse_lang(s, lang, &t, &off, &sub) != BB_OK)
        return env_fail(eb, lang, kind, key, sub.msg, sub.msg);
    return BB_OK;
}

bb_err bb_record_validate(const bb_catalog *cat, const cJSON *rec, enum bb_lang lang,
                          bb_errbuf *eb)
{
    static const char *const keys[] = {"id", "kind", "kind_version", "rev", "status",
                                       "device", "officer", "org_unit", "occurred_at",
                                       "recorded_at", "location", "data", "void_reason"};
    const struct bb_kind *k;
    const char *kindname, *status, *id, *unit;
    const cJSON *it, *rev;
    bb_errbuf sub;
    bb_err err;
    size_t i;

    if (!cJSON_IsObject(rec))
        return bb_fail(eb, BB_ERR_INVALID, lang == BB_LANG_EN ? "a record must be a JSON object"
                                                              : "紀錄必須是 JSON 物件");
    kindname = bb_json_str(rec, "kind");
    if (!kindname || !(k = bb_catalog_kind(cat, kindname))) {
        if (lang == BB_LANG_EN)
            return bb_fail(eb, BB_ERR_INVALID, "unknown record kind \"%s\" (see: beatbook kinds)",
                           kindname ? kindname : "(missing)");
        return bb_fail(eb, BB_ERR_INVALID, "未知的紀錄類別「%s」（請見：beatbook kinds）",
                       kindname ? kindname : "（未提供）");
    }
    cJSON_ArrayForEach(it, rec) {
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(it->string, keys[i]) == 0)
                break;
        if (i == sizeof keys / sizeof keys[0])
            return env_fail(eb, lang, kindname, it->string, "unknown key in a record",
                            "紀錄中不應有此鍵");
    }
    id = bb_json_str(rec, "id");
    if (!id || !bb_uuid_valid(id))
        return env_fail(eb, lang, kindname, "id", "must be a UUID", "必須是 UUID");
    status = bb_json_str(rec, "status");
    if (!status || (strcmp(status, "draft") && strcmp(status, "final") && strcmp(status, "void")))
        return env_fail(eb, lang, kindname, "status", "must be draft, final or void",
                        "必須是 draft、final 或 void");
    rev = cJSON_GetObjectItemCaseSensitive(rec, "rev");
    if (!cJSON_IsNumber(rev) || rev->valuedouble != floor(rev->valuedouble) ||
        rev->valuedouble < (strcmp(status, "draft") == 0 ? 0 : 1) || rev->valuedouble > 1e6)
        return env_fail(eb, lang, kindname, "rev", "must be a revision number (1, 2, ...)",
                        "必須是版本號（1、2…）");
    it = cJSON_GetObjectItemCaseSensitive(rec, "kind_version");
    if (it && (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
               it->valuedouble < 1 || it->valuedouble > 1e6))
        return env_fail(eb, lang, kindname, "kind_version",
                        "must be the version of the kind the record was made with (1, 2, ...)",
                        "必須是建立紀錄時的類別版本（1、2…）");
    if ((err = check_text(rec, "device", 64, 1, kindname, lang, eb)) != BB_OK ||
        (err = check_text(rec, "officer", 32, 1, kindname, lang, eb)) != BB_OK)
        return err;
    unit = bb_json_str(rec, "org_unit");
    if (!unit || !bb_catalog_ref(cat, "units", unit)) {
        char val[80];
        quote_value(val, sizeof val, unit ? unit : "");
        if (lang == BB_LANG_EN)
            return bb_fail(eb, BB_ERR_INVALID, "%s: \"org_unit\": \"%s\" is not a known org "
                           "unit (see: beatbook ref units)", kindname, val);
        return bb_fail(eb, BB_ERR_INVALID, "%s：「org_unit」：「%s」不是已知的單位"
                       "（請見：beatbook ref units）", kindname, val);
    }
    if ((err = check_time_key(rec, "occurred_at", kindname, lang, eb)) != BB_OK ||
        (err = check_time_key(rec, "recorded_at", kindname, lang, eb)) != BB_OK)
        return err;
    it = cJSON_GetObjectItemCaseSensitive(rec, "location");
    if (it && !cJSON_IsNull(it) && check_geo(it, lang, &sub) != BB_OK) {
        char *text = bb_json_canonical(it), val[80];
        quote_value(val, sizeof val, text ? text : "?");
        free(text);
        if (lang != BB_LANG_EN)
            return bb_fail(eb, BB_ERR_INVALID, "%s：「location」：%s：%s", kindname, val, sub.msg);
        return bb_fail(eb, BB_ERR_INVALID, "%s: \"location\": %s: %s", kindname, val, sub.msg);
    }
    if (strcmp(status, "void") == 0) {
        if ((err = check_text(rec, "void_reason", BB_VOID_REASON_MAX, 1, kindname, lang, eb)) != BB_OK)
            return err;
    } else if (cJSON_GetObjectItemCaseSensitive(rec, "void_reason")) {
        return env_fail(eb, lang, kindname, "void_reason", "only a void record has a reason",
                        "只有作廢的紀錄才有作廢原因");
    }
    it = cJSON_GetObjectItemCaseSensitive(rec, "data");
    if ((err = bb_record_check_data(cat, k, it, lang, eb)) != BB_OK)
        return err;
    /* Work with a start and an end (a patrol, a duty) is finished only with its end. */
    if (strcmp(status, "final") == 0 && bb_kind_field(k, "started_at") &&
        bb_kind_field(k, "ended_at") && !bb_json_str(it, "ended_at")) {
        char msg[200];
        MSG(msg, lang, "a finished %s needs its end time%s", "已完成的 %s 需要結束時間%s",
            k->name, "");
        return field_fail(eb, lang, k, bb_kind_field(k, "ended_at"), msg);
    }
    return bb_rules_check(k, rec, lang, eb);
}

const struct bb_field *bb_record_envelope_field(const char *name)
{
    static const struct bb_field env[] = {
        {.name = "occurred_at", .type = BB_F_DATETIME, .required = true,
         .label = {"發生時間", "When it happened"},
         .default_kind = BB_DEFAULT_NOW, .max_length = BB_TEXT_MAX_DEFAULT},
        {.name = "location", .type = BB_F_GEO,
         .label = {"位置（緯度,經度）", "Location (lat,lon)"},
         .help = {"例如 24.1477,120.6736；不知道可留空", "e.g. 24.1477,120.6736; may be left empty"},
         .max_length = BB_TEXT_MAX_DEFAULT},
        {.name = "org_unit", .type = BB_F_REF, .ref = "units", .required = true,
         .label = {"填報單位", "Org unit"},
         .default_kind = BB_DEFAULT_UNIT, .max_length = BB_TEXT_MAX_DEFAULT},
        {.name = "recorded_at", .type = BB_F_DATETIME, .required = true, .ask_never = true,
         .label = {"登錄時間", "Recorded at"}, .default_kind = BB_DEFAULT_NOW,
         .max_length = BB_TEXT_MAX_DEFAULT},
    };
    size_t i;
    for (i = 0; i < sizeof env / sizeof env[0]; i++)
        if (strcmp(env[i].name, name) == 0)
            return &env[i];
    return NULL;
}

/* ---- coercion of typed-in text ---- */

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "y", "1", "t", "是", "有", "對"};
    static const char *const no[] = {"false", "no", "n", "0", "f", "否", "無", "不是"};
    size_t i;
    for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 1;
        }
    for (i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    return 0;
}

/* Case-insensitive "needle occurs in hay" for ASCII; bytes as they are otherwise. */
static int contains_fold(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 0;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int alias_has(const struct bb_ref_item *it, const char *text)
{
    size_t i;
    for (i = 0; i < it->naliases; i++)
        if (contains_fold(it->aliases[i], text))
            return 1;
    return 0;
}

/*
 * A reference value as a person types it: the code in any case (bp-df), the
 * name in either language (東豐自行車綠廊), or a part of the name that only
 * one entry has (東豐, 中港).  *code is NULL when nothing matches (the field
 * check then says so); a part that several entries share is refused with
 * the candidates, so the officer can type more.
 */
static bb_err ref_lookup(const bb_catalog *cat, const struct bb_kind *k,
                         const struct bb_field *f, const char *text, enum bb_lang lang,
                         const char **code, bb_errbuf *eb)
{
    const struct bb_ref_item *it, *only = NULL;
    size_t i, n = bb_catalog_ref_count(cat, f->ref), hits = 0, used = 0;
    char up[40], names[480], msg[768], val[80];

    *code = NULL;
    for (i = 0; text[i] && i < sizeof up - 1; i++)
        up[i] = (char)toupper((unsigned char)text[i]);
    up[i] = '\0';
    if (!text[i] && (it = bb_catalog_ref(cat, f->ref, up)) != NULL) {
        *code = it->code;
        return BB_OK;
    }
    for (i = 0; i < n; i++) {
        it = bb_catalog_ref_at(cat, f->ref, i);
        if ((it->label.zh && strcmp(it->label.zh, text) == 0) ||
            (it->label.en && strcasecmp(it->label.en, text) == 0)) {
            *code = it->code;
            return BB_OK;
        }
    }
    names[0] = '\0';
    for (i = 0; i < n; i++) {
        it = bb_catalog_ref_at(cat, f->ref, i);
        if ((it->label.zh && contains_fold(it->label.zh, text)) ||
            (it->label.en && contains_fold(it->label.en, text)) || alias_has(it, text)) {
            if (hits++ == 0)
                only = it;
            if (hits <= 6 && used < sizeof names - 1) {
                int w = snprintf(names + used, sizeof names - used, "%s%s %s",
                                 hits > 1 ? (lang == BB_LANG_EN ? "; " : "；") : "", it->code,
                                 bb_label(&it->label, lang, ""));
                used = w < 0 ? used : used + (size_t)w >= sizeof names ? sizeof names - 1
                                                                       : used + (size_t)w;
            }
        }
    }
    if (hits == 1) {
        *code = only->code;
        return BB_OK;
    }
    if (hits > 1) {
        quote_value(val, sizeof val, text);
        MSG(msg, lang, "\"%s\" matches %zu entries: %s%s; type more of the name or the code",
            "「%s」符合 %zu 筆：%s%s；請輸入更完整的名稱或代碼", val, hits, names,
            hits > 6 ? (lang == BB_LANG_EN ? " ..." : "…") : "");
        return field_fail(eb, lang, k, f, msg);
    }
    return BB_OK;
}

bb_err bb_record_coerce(const bb_catalog *cat, const struct bb_kind *k,
                        const struct bb_field *f, const char *text, int64_t now,
                        int allow_index, enum bb_lang lang, cJSON **out, bb_errbuf *eb)
{
    char msg[768], val[80], *end;
    cJSON *v = NULL;
    bb_errbuf sub;
    bb_err err;

    *out = NULL;
    quote_value(val, sizeof val, text);
    switch (f->type) {
    case BB_F_TEXT:
        v = cJSON_CreateString(text);
        break;
    case BB_F_INTEGER: {
        long long n;
        errno = 0;
        n = strtoll(text, &end, 10);
        if (end == text || *end != '\0' || errno || llabs(n) >= (long long)MAX_SAFE_INT) {
            MSG(msg, lang, "\"%s\" is not a whole number", "「%s」不是整數", val);
            return field_fail(eb, lang, k, f, msg);
        }
        v = cJSON_CreateNumber((double)n);
        break;
    }
    case BB_F_NUMBER: {
        double d;
        errno = 0;
        d = strtod(text, &end);
        /* strtod also takes hex, "inf" and "nan": people mean decimal. */
        if (end == text || *end != '\0' || errno || !isfinite(d) ||
            strspn(text, "+-0123456789.eE") != strlen(text)) {
            MSG(msg, lang, "\"%s\" is not a number", "「%s」不是數字", val);
            return field_fail(eb, lang, k, f, msg);
        }
        v = cJSON_CreateNumber(d);
        break;
    }
    case BB_F_BOOLEAN: {
        int b;
        if (!parse_bool(text, &b)) {
            MSG(msg, lang, "\"%s\" is not yes/no; use true or false",
                "「%s」不是是/否；請用 true（是）或 false（否）", val);
            return field_fail(eb, lang, k, f, msg);
        }
        v = cJSON_CreateBool(b);
        break;
    }
    case BB_F_ENUM: {
        const char *code = NULL;
        size_t i;
        if (allow_index) {
            long idx = strtol(text, &end, 10);
            if (end != text && *end == '\0' && idx >= 1 && (size_t)idx <= f->nvalues)
                code = f->values[idx - 1].code;
        }
        for (i = 0; !code && i < f->nvalues; i++) {
            const struct bb_enum_value *ev = &f->values[i];
            if (strcasecmp(text, ev->code) == 0 ||
                (ev->label.zh && strcmp(text, ev->label.zh) == 0) ||
                (ev->label.en && strcasecmp(text, ev->label.en) == 0))
                code = ev->code;
        }
        v = cJSON_CreateString(code ? code : text);   /* unknown: reported by the check */
        break;
    }
    case BB_F_DATETIME: {
        int64_t t;
        int off;
        char iso[BB_TIME_MAX];
        if (bb_time_parse_loose_lang(text, now, lang, &t, &off, &sub) != BB_OK)
            return field_fail(eb, lang, k, f, sub.msg);
        bb_time_format(t, off, iso);
        v = cJSON_CreateString(iso);
        break;
    }
    case BB_F_REF: {
        const char *code = NULL;
        if ((err = ref_lookup(cat, k, f, text, lang, &code, eb)) != BB_OK)
            return err;
        v = cJSON_CreateString(code ? code : text);   /* unknown: reported by the check */
        break;
    }
    case BB_F_GEO:
        if (bb_geo_parse_lang(text, lang, &v, &sub) != BB_OK) {
            MSG(msg, lang, "\"%s\": %.600s", "「%s」：%.600s", val, sub.msg);
            return field_fail(eb, lang, k, f, msg);
        }
        break;
    case BB_F_ATTACHMENT:
        /* Files are read, checked and stored by the collector (collector/col_attach.h),
         * which then sets the value itself: text alone cannot name a file's bytes. */
        MSG(msg, lang, "give files as @PATH, e.g. %s=@/media/sd/IMG_0412.JPG",
            "請以 @路徑 指定檔案，例如 %s=@/media/sd/IMG_0412.JPG", f->name);
        return field_fail(eb, lang, k, f, msg);
    }
    if (!v)
        return bb_fail(eb, BB_ERR_NOMEM, "out of memory");
    if ((err = bb_record_check_field(cat, k, f, v, lang, eb)) != BB_OK) {
        cJSON_Delete(v);
        return err;
    }
    *out = v;
    return BB_OK;
}

/* Rewrite one datetime string in place to bb_time_format's form. */
static void normalize_time(cJSON *obj, const char *key)
{
    const char *s = bb_json_str(obj, key);
    int64_t t;
    int off;
    char iso[BB_TIME_MAX];

    if (s && bb_time_parse(s, &t, &off, NULL) == BB_OK &&
        bb_time_format(t, off, iso) == BB_OK && strcmp(iso, s) != 0)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(iso));
}

void bb_record_normalize(const bb_catalog *cat, cJSON *rec)
{
    const struct bb_kind *k = bb_catalog_kind(cat, bb_json_str(rec, "kind") ?
                                                   bb_json_str(rec, "kind") : "");
    cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "data"), *it, *next;
    size_t i;

    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rec, "location")))
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "location");
    normalize_time(rec, "occurred_at");
    normalize_time(rec, "recorded_at");
    if (!cJSON_IsObject(data))
        return;
    for (it = data->child; it; it = next) {
        next = it->next;
        if (cJSON_IsNull(it))
            cJSON_Delete(cJSON_DetachItemViaPointer(data, it));
    }
    for (i = 0; k && i < k->nfields; i++)
        if (k->fields[i].type == BB_F_DATETIME)
            normalize_time(data, k->fields[i].name);
}
