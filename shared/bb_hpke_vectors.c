/*
 * bb_hpke_vectors.c — the RFC 9180 test-vector checker (see
 * bb_hpke_vectors.h).  It drives bb_hpke through both of its layers: the
 * building blocks (DeriveKeyPair, Encap, Decap, KeySchedule) to compare
 * each intermediate value, then the public SetupS/SetupR contexts for the
 * encryptions and exports, exactly as a caller would use them.
 *
 * A vector's own values (its keys, enc, shared secret) feed the later
 * steps, not ours, so that one wrong step is reported once instead of
 * cascading into every field after it.
 */
#include "bb_hpke_vectors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include "bb_codec.h"
#include "bb_hpke.h"

/* Replaying skipped sequence numbers is cheap, but not unbounded. */
#define MAX_SEQ_GAP 65536

/* One vector being checked. */
struct vctx {
    size_t idx;
    FILE *diag;
    char label[80];             /* "mode=auth kem=0x0020 kdf=0x0001 aead=..." */
    int fails;
};

static void vfail(struct vctx *vc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void vfail(struct vctx *vc, const char *fmt, ...)
{
    va_list ap;

    vc->fails++;
    if (!vc->diag)
        return;
    fprintf(vc->diag, "vector %zu (%s): ", vc->idx, vc->label);
    va_start(ap, fmt);
    vfprintf(vc->diag, fmt, ap);
    va_end(ap);
    fputc('\n', vc->diag);
}

/* Compare a computed value with the vector's; report a mismatch. */
static int expect(struct vctx *vc, const char *what, const uint8_t *got,
                  size_t got_len, const uint8_t *want, size_t want_len)
{
    if (got_len != want_len) {
        vfail(vc, "%s: mismatch (%zu bytes, expected %zu)", what, got_len,
              want_len);
        return -1;
    }
    if (got_len > 0 && memcmp(got, want, got_len) != 0) {
        vfail(vc, "%s: mismatch", what);
        return -1;
    }
    return 0;
}

/*
 * The hex field name of obj, decoded into a new buffer (*out, caller frees).
 * want >= 0 demands that length.  where prefixes the field in messages.
 */
static int get_hex(struct vctx *vc, const cJSON *obj, const char *where,
                   const char *name, long want, uint8_t **out, size_t *len)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    bb_errbuf eb;

    *out = NULL;
    *len = 0;
    if (!cJSON_IsString(item) || !item->valuestring) {
        vfail(vc, "%s%s: missing or not a string", where, name);
        return -1;
    }
    if (bb_hex_decode_alloc(item->valuestring, out, len, &eb) != BB_OK) {
        vfail(vc, "%s%s: %s", where, name, eb.msg);
        return -1;
    }
    if (want >= 0 && *len != (size_t)want) {
        vfail(vc, "%s%s: expected %ld bytes, got %zu", where, name, want,
              *len);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* An integer field in [min, max]; -1 if missing or not such an integer. */
static int get_int(const cJSON *obj, const char *name, long min, long max,
                   long *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;

    if (!cJSON_IsNumber(item))
        return -1;
    d = item->valuedouble;
    if (d < (double)min || d > (double)max || d != (double)(long)d)
        return -1;
    *out = (long)d;
    return 0;
}

/* ---- One vector -------------------------------------------------------- */

enum { ALWAYS, IF_AUTH, IF_PSK };

enum {
    F_INFO, F_IKME, F_IKMR, F_IKMS, F_SKEM, F_PKEM, F_SKRM, F_PKRM, F_SKSM,
    F_PKSM, F_PSK, F_PSK_ID, F_ENC, F_SS, F_KSC, F_SECRET, F_KEY, F_NONCE,
    F_EXP, F_COUNT
};

static const struct {
    const char *name;
    long len;                   /* required length, or -1 */
    int when;
} fields[F_COUNT] = {
    [F_INFO] = { "info", -1, ALWAYS },
    [F_IKME] = { "ikmE", -1, ALWAYS },
    [F_IKMR] = { "ikmR", -1, ALWAYS },
    [F_IKMS] = { "ikmS", -1, IF_AUTH },
    [F_SKEM] = { "skEm", BB_HPKE_SK_LEN, ALWAYS },
    [F_PKEM] = { "pkEm", BB_HPKE_PK_LEN, ALWAYS },
    [F_SKRM] = { "skRm", BB_HPKE_SK_LEN, ALWAYS },
    [F_PKRM] = { "pkRm", BB_HPKE_PK_LEN, ALWAYS },
    [F_SKSM] = { "skSm", BB_HPKE_SK_LEN, IF_AUTH },
    [F_PKSM] = { "pkSm", BB_HPKE_PK_LEN, IF_AUTH },
    [F_PSK] = { "psk", -1, IF_PSK },
    [F_PSK_ID] = { "psk_id", -1, IF_PSK },
    [F_ENC] = { "enc", BB_HPKE_ENC_LEN, ALWAYS },
    [F_SS] = { "shared_secret", BB_HPKE_SECRET_LEN, ALWAYS },
    [F_KSC] = { "key_schedule_context", 1 + 2 * BB_HPKE_SECRET_LEN, ALWAYS },
    [F_SECRET] = { "secret", BB_HPKE_SECRET_LEN, ALWAYS },
    [F_KEY] = { "key", -1, ALWAYS },
    [F_NONCE] = { "base_nonce", -1, ALWAYS },
    [F_EXP] = { "exporter_secret", BB_HPKE_SECRET_LEN, ALWAYS },
};

struct field {
    uint8_t *p;
    size_t n;
};

/* Advance both contexts to sequence number seq with throw-away messages. */
static int advance(struct vctx *vc, bb_hpke_ctx *s, bb_hpke_ctx *r,
                   uint64_t seq)
{
    uint8_t ct[BB_HPKE_TAG_LEN], pt[1];
    size_t n;
    bb_errbuf eb;

    while (bb_hpke_ctx_seq(s) < seq) {
        if (bb_hpke_ctx_seal(s, NULL, 0, NULL, 0, ct, sizeof ct, &n, &eb)
            != BB_OK
            || bb_hpke_ctx_open(r, NULL, 0, ct, n, pt, sizeof pt, &n, &eb)
            != BB_OK) {
            vfail(vc, "skipping to sequence number %llu: %s",
                  (unsigned long long)seq, eb.msg);
            return -1;
        }
    }
    return 0;
}

/* One element of "encryptions"; -1 stops the loop (the contexts drifted). */
static int check_encryption(struct vctx *vc, const cJSON *e, size_t i,
                            bb_hpke_ctx *s, bb_hpke_ctx *r,
                            const struct field *base_nonce)
{
    struct field aad = { 0 }, pt = { 0 }, nonce = { 0 }, ct = { 0 };
    uint8_t *out = NULL;
    char where[48], what[64];
    uint64_t seq = 0;
    size_t n = 0;
    bb_errbuf eb;
    int rc = -1;

    snprintf(where, sizeof where, "encryptions[%zu].", i);
    if (!cJSON_IsObject(e)) {
        vfail(vc, "encryptions[%zu]: not an object", i);
        return -1;
    }
    if (get_hex(vc, e, where, "aad", -1, &aad.p, &aad.n) != 0
        || get_hex(vc, e, where, "pt", -1, &pt.p, &pt.n) != 0
        || get_hex(vc, e, where, "nonce", BB_HPKE_NONCE_LEN, &nonce.p,
                   &nonce.n) != 0
        || get_hex(vc, e, where, "ct", -1, &ct.p, &ct.n) != 0)
        goto out;

    /* nonce = base_nonce XOR seq tells which sequence number this is. */
    for (size_t k = 0; k < BB_HPKE_NONCE_LEN; k++) {
        uint8_t x = nonce.p[k] ^ base_nonce->p[k];
        if (k < BB_HPKE_NONCE_LEN - 8 && x != 0) {
            vfail(vc, "%snonce: not base_nonce XOR a 64-bit sequence number",
                  where);
            goto out;
        }
        if (k >= BB_HPKE_NONCE_LEN - 8)
            seq = seq << 8 | x;
    }
    if (seq < bb_hpke_ctx_seq(s)) {
        vfail(vc, "%snonce: sequence number %llu comes after %llu", where,
              (unsigned long long)seq,
              (unsigned long long)bb_hpke_ctx_seq(s) - 1);
        goto out;
    }
    if (seq - bb_hpke_ctx_seq(s) > MAX_SEQ_GAP) {
        vfail(vc, "%snonce: sequence number %llu is too far ahead", where,
              (unsigned long long)seq);
        goto out;
    }
    if (advance(vc, s, r, seq) != 0)
        goto out;

    out = malloc(pt.n + ct.n + BB_HPKE_TAG_LEN + 1);
    if (!out) {
        vfail(vc, "%s: out of memory", where);
        goto out;
    }
    if (bb_hpke_ctx_seal(s, aad.p, aad.n, pt.p, pt.n, out,
                         pt.n + BB_HPKE_TAG_LEN, &n, &eb) != BB_OK) {
        vfail(vc, "%sct: seal failed: %s", where, eb.msg);
        goto out;
    }
    snprintf(what, sizeof what, "%sct (seal, seq %llu)", where,
             (unsigned long long)seq);
    if (expect(vc, what, out, n, ct.p, ct.n) != 0)
        goto out;
    if (bb_hpke_ctx_open(r, aad.p, aad.n, ct.p, ct.n, out, ct.n, &n, &eb)
        != BB_OK) {
        vfail(vc, "%spt: open failed: %s", where, eb.msg);
        goto out;
    }
    snprintf(what, sizeof what, "%spt (open, seq %llu)", where,
             (unsigned long long)seq);
    if (expect(vc, what, out, n, pt.p, pt.n) != 0)
        goto out;
    rc = 0;
out:
    free(out);
    free(aad.p);
    free(pt.p);
    free(nonce.p);
    free(ct.p);
    return rc;
}

static void check_encryptions(struct vctx *vc, const cJSON *v,
                              bb_hpke_suite suite, bb_hpke_ctx *s,
                              bb_hpke_ctx *r, const struct field *base_nonce)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v, "encryptions");
    const cJSON *e;
    size_t i = 0;

    if (!cJSON_IsArray(arr)) {
        vfail(vc, "encryptions: missing or not an array");
        return;
    }
    if (suite.aead_id == BB_HPKE_AEAD_EXPORT_ONLY) {
        if (cJSON_GetArraySize(arr) > 0)
            vfail(vc, "encryptions: an export-only vector has encryptions");
        return;
    }
    if (base_nonce->n != BB_HPKE_NONCE_LEN)
        return;         /* already reported as a base_nonce mismatch */
    cJSON_ArrayForEach(e, arr) {
        if (check_encryption(vc, e, i, s, r, base_nonce) != 0)
            return;     /* later ones would fail for the same reason */
        i++;
    }
}

static void check_exports(struct vctx *vc, const cJSON *v, bb_hpke_ctx *s,
                          bb_hpke_ctx *r)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v, "exports");
    const cJSON *e;
    size_t i = 0;

    if (!cJSON_IsArray(arr)) {
        vfail(vc, "exports: missing or not an array");
        return;
    }
    cJSON_ArrayForEach(e, arr) {
        struct field ec = { 0 }, val = { 0 };
        uint8_t *out = NULL;
        char where[48], what[80];
        bb_errbuf eb;
        long L = 0;

        snprintf(where, sizeof where, "exports[%zu].", i++);
        if (!cJSON_IsObject(e)) {
            vfail(vc, "%s: not an object", where);
            continue;
        }
        if (get_int(e, "L", 0, BB_HPKE_MAX_EXPORT, &L) != 0) {
            vfail(vc, "%sL: missing or not an integer in 0..%d", where,
                  BB_HPKE_MAX_EXPORT);
            continue;
        }
        if (get_hex(vc, e, where, "exporter_context", -1, &ec.p, &ec.n) != 0
            || get_hex(vc, e, where, "exported_value", L, &val.p, &val.n)
            != 0)
            goto next;
        out = malloc((size_t)L + 1);
        if (!out) {
            vfail(vc, "%s: out of memory", where);
            goto next;
        }
        for (int side = 0; side < 2; side++) {
            snprintf(what, sizeof what, "%sexported_value (%s)", where,
                     side == 0 ? "sender" : "receiver");
            if (bb_hpke_ctx_export(side == 0 ? s : r, ec.p, ec.n, out,
                                   (size_t)L, &eb) != BB_OK)
                vfail(vc, "%s: export failed: %s", what, eb.msg);
            else
                expect(vc, what, out, (size_t)L, val.p, val.n);
        }
next:
        free(out);
        free(ec.p);
        free(val.p);
    }
}

/* Derive a key pair from the ikm field and compare it with sk/pk fields. */
static void check_derive(struct vctx *vc, const struct field *f, int ikm,
                         int sk, int pk)
{
    uint8_t dsk[BB_HPKE_SK_LEN], dpk[BB_HPKE_PK_LEN];
    char what[64];
    bb_errbuf eb;

    if (bb_hpke_derive_keypair(f[ikm].p, f[ikm].n, dsk, dpk, &eb) != BB_OK) {
        vfail(vc, "DeriveKeyPair(%s): %s", fields[ikm].name, eb.msg);
        return;
    }
    snprintf(what, sizeof what, "%s (DeriveKeyPair)", fields[sk].name);
    expect(vc, what, dsk, sizeof dsk, f[sk].p, f[sk].n);
    snprintf(what, sizeof what, "%s (DeriveKeyPair)", fields[pk].name);
    expect(vc, what, dpk, sizeof dpk, f[pk].p, f[pk].n);
    mbedtls_platform_zeroize(dsk, sizeof dsk);
}

static void check_vector(struct vctx *vc, const cJSON *v, int mode,
                         bb_hpke_suite suite)
{
    struct field f[F_COUNT];
    int auth = mode == BB_HPKE_MODE_AUTH || mode == BB_HPKE_MODE_AUTH_PSK;
    int psk = mode == BB_HPKE_MODE_PSK || mode == BB_HPKE_MODE_AUTH_PSK;
    uint8_t ss[BB_HPKE_SECRET_LEN], enc[BB_HPKE_ENC_LEN];
    bb_hpke_ctx *sctx = NULL, *rctx = NULL;
    bb_hpke_schedule ks;
    bb_hpke_setup s;
    bb_errbuf eb;

    memset(f, 0, sizeof f);
    memset(&ks, 0, sizeof ks);
    for (int i = 0; i < F_COUNT; i++) {
        if ((fields[i].when == IF_AUTH && !auth)
            || (fields[i].when == IF_PSK && !psk))
            continue;
        if (get_hex(vc, v, "", fields[i].name, fields[i].len, &f[i].p,
                    &f[i].n) != 0)
            goto out;
    }

    check_derive(vc, f, F_IKME, F_SKEM, F_PKEM);
    check_derive(vc, f, F_IKMR, F_SKRM, F_PKRM);
    if (auth)
        check_derive(vc, f, F_IKMS, F_SKSM, F_PKSM);

    if (bb_hpke_encap(f[F_PKRM].p, auth ? f[F_SKSM].p : NULL, f[F_IKME].p,
                      f[F_IKME].n, ss, enc, &eb) != BB_OK) {
        vfail(vc, "Encap: %s", eb.msg);
    } else {
        expect(vc, "enc (Encap)", enc, sizeof enc, f[F_ENC].p, f[F_ENC].n);
        expect(vc, "shared_secret (Encap)", ss, sizeof ss, f[F_SS].p,
               f[F_SS].n);
    }
    if (bb_hpke_decap(f[F_ENC].p, f[F_SKRM].p, auth ? f[F_PKSM].p : NULL, ss,
                      &eb) != BB_OK)
        vfail(vc, "Decap: %s", eb.msg);
    else
        expect(vc, "shared_secret (Decap)", ss, sizeof ss, f[F_SS].p,
               f[F_SS].n);

    s = (bb_hpke_setup){
        .mode = (bb_hpke_mode)mode, .suite = suite,
        .pkR = f[F_PKRM].p, .skR = f[F_SKRM].p,
        .skS = f[F_SKSM].p, .pkS = f[F_PKSM].p,
        .psk = f[F_PSK].p, .psk_len = f[F_PSK].n,
        .psk_id = f[F_PSK_ID].p, .psk_id_len = f[F_PSK_ID].n,
        .info = f[F_INFO].p, .info_len = f[F_INFO].n,
        .ikmE = f[F_IKME].p, .ikmE_len = f[F_IKME].n,
    };
    if (bb_hpke_key_schedule(&s, f[F_SS].p, &ks, &eb) != BB_OK) {
        vfail(vc, "KeySchedule: %s", eb.msg);
    } else {
        expect(vc, "key_schedule_context", ks.key_schedule_context,
               sizeof ks.key_schedule_context, f[F_KSC].p, f[F_KSC].n);
        expect(vc, "secret", ks.secret, sizeof ks.secret, f[F_SECRET].p,
               f[F_SECRET].n);
        expect(vc, "key", ks.key, ks.key_len, f[F_KEY].p, f[F_KEY].n);
        expect(vc, "base_nonce", ks.base_nonce, ks.nonce_len, f[F_NONCE].p,
               f[F_NONCE].n);
        expect(vc, "exporter_secret", ks.exporter_secret,
               sizeof ks.exporter_secret, f[F_EXP].p, f[F_EXP].n);
    }

    if (bb_hpke_setup_sender(&s, &sctx, enc, &eb) != BB_OK) {
        vfail(vc, "SetupS: %s", eb.msg);
        goto out;
    }
    expect(vc, "enc (SetupS)", enc, sizeof enc, f[F_ENC].p, f[F_ENC].n);
    if (bb_hpke_setup_receiver(&s, f[F_ENC].p, &rctx, &eb) != BB_OK) {
        vfail(vc, "SetupR: %s", eb.msg);
        goto out;
    }
    check_encryptions(vc, v, suite, sctx, rctx, &f[F_NONCE]);
    check_exports(vc, v, sctx, rctx);
out:
    bb_hpke_ctx_free(sctx);
    bb_hpke_ctx_free(rctx);
    mbedtls_platform_zeroize(&ks, sizeof ks);
    mbedtls_platform_zeroize(ss, sizeof ss);
    for (int i = 0; i < F_COUNT; i++)
        free(f[i].p);
}

/* ---- The file ---------------------------------------------------------- */

static const uint16_t aeads[] = {
    BB_HPKE_AEAD_AES128GCM, BB_HPKE_AEAD_AES256GCM, BB_HPKE_AEAD_CHACHA20,
    BB_HPKE_AEAD_EXPORT_ONLY
};
#define NAEADS (sizeof aeads / sizeof aeads[0])

static int aead_index(long id)
{
    for (size_t i = 0; i < NAEADS; i++)
        if (aeads[i] == id)
            return (int)i;
    return -1;
}

/* "mode=auth kem=0x0020 kdf=0x0001 aead=0x0001"; "?" for what is missing. */
static void make_label(char *buf, size_t size, long mode, long kem, long kdf,
                       long aead)
{
    const long ids[3] = { kem, kdf, aead };
    static const char *const names[3] = { "kem", "kdf", "aead" };
    size_t n;

    if (mode >= BB_HPKE_MODE_BASE && mode <= BB_HPKE_MODE_AUTH_PSK)
        snprintf(buf, size, "mode=%s", bb_hpke_mode_name((int)mode));
    else if (mode >= 0)
        snprintf(buf, size, "mode=%ld", mode);
    else
        snprintf(buf, size, "mode=?");
    for (int i = 0; i < 3; i++) {
        n = strlen(buf);
        if (ids[i] >= 0)
            snprintf(buf + n, size - n, " %s=0x%04lx", names[i],
                     (unsigned long)ids[i]);
        else
            snprintf(buf + n, size - n, " %s=?", names[i]);
    }
}

bb_err bb_hpke_vectors_check_json(const char *json, size_t len, FILE *out,
                                  FILE *diag, bb_hpke_vectors_result *res,
                                  bb_errbuf *eb)
{
    /* Supported vectors by mode and AEAD: that is the whole space. */
    size_t passed[4][NAEADS], failed[4][NAEADS];
    const cJSON *v;
    cJSON *root;
    size_t idx = 0;

    memset(res, 0, sizeof *res);
    memset(passed, 0, sizeof passed);
    memset(failed, 0, sizeof failed);
    root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        if (at && at >= json && at <= json + len)
            return bb_fail(eb, BB_ERR_INVALID, "test vectors: not valid JSON "
                           "(error at byte %zu)", (size_t)(at - json));
        return bb_fail(eb, BB_ERR_INVALID, "test vectors: not valid JSON");
    }
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return bb_fail(eb, BB_ERR_INVALID, "test vectors: the top level is "
                       "not an array");
    }

    cJSON_ArrayForEach(v, root) {
        struct vctx vc = { .idx = idx++, .diag = diag };
        long mode = -1, kem = -1, kdf = -1, aead = -1;
        int ai;

        if (!cJSON_IsObject(v)) {
            snprintf(vc.label, sizeof vc.label, "?");
            vfail(&vc, "not an object");
            res->failed++;
            continue;
        }
        get_int(v, "mode", 0, 255, &mode);
        get_int(v, "kem_id", 0, 0xffff, &kem);
        get_int(v, "kdf_id", 0, 0xffff, &kdf);
        get_int(v, "aead_id", 0, 0xffff, &aead);
        make_label(vc.label, sizeof vc.label, mode, kem, kdf, aead);
        if (mode < 0 || kem < 0 || kdf < 0 || aead < 0) {
            vfail(&vc, "mode, kem_id, kdf_id or aead_id: missing or not an "
                  "integer in range");
            res->failed++;
            continue;
        }
        ai = aead_index(aead);
        if (kem != BB_HPKE_KEM_X25519_SHA256 || kdf != BB_HPKE_KDF_HKDF_SHA256
            || ai < 0) {
            if (out)
                fprintf(out, "skipped: vector %zu (%s): unsupported %s\n",
                        vc.idx, vc.label,
                        kem != BB_HPKE_KEM_X25519_SHA256 ? "KEM"
                        : kdf != BB_HPKE_KDF_HKDF_SHA256 ? "KDF" : "AEAD");
            res->skipped++;
            continue;
        }
        if (mode > BB_HPKE_MODE_AUTH_PSK) {
            vfail(&vc, "mode: %ld is not an HPKE mode", mode);
            res->failed++;
            continue;
        }
        check_vector(&vc, v, (int)mode,
                     (bb_hpke_suite){ (uint16_t)kem, (uint16_t)kdf,
                                      (uint16_t)aead });
        if (vc.fails == 0) {
            passed[mode][ai]++;
            res->passed++;
        } else {
            failed[mode][ai]++;
            res->failed++;
        }
    }
    cJSON_Delete(root);

    if (out) {
        for (int m = 0; m < 4; m++)
            for (size_t a = 0; a < NAEADS; a++)
                if (passed[m][a] + failed[m][a] > 0)
                    fprintf(out, "mode=%s kem=0x%04x kdf=0x%04x aead=0x%04x: "
                            "%zu passed, %zu failed\n", bb_hpke_mode_name(m),
                            BB_HPKE_KEM_X25519_SHA256,
                            BB_HPKE_KDF_HKDF_SHA256, aeads[a], passed[m][a],
                            failed[m][a]);
        fprintf(out, "skipped: %zu vector%s of an unsupported KEM, KDF or "
                "AEAD\n", res->skipped, res->skipped == 1 ? "" : "s");
    }
    return BB_OK;
}

bb_err bb_hpke_vectors_check_file(const char *path, FILE *out, FILE *diag,
                                  bb_hpke_vectors_result *res, bb_errbuf *eb)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    bb_err rc;
    int fd;

    memset(res, 0, sizeof *res);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bb_fail(eb, errno == ENOENT ? BB_ERR_NOTFOUND : BB_ERR_IO,
                       "open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bb_fail(eb, BB_ERR_IO, "read %s: not a regular file", path);
    }
    if ((uintmax_t)st.st_size > BB_HPKE_VECTORS_MAX_FILE) {
        close(fd);
        return bb_fail(eb, BB_ERR_TOOBIG, "read %s: %jd bytes is over the "
                       "limit of %zu", path, (intmax_t)st.st_size,
                       BB_HPKE_VECTORS_MAX_FILE);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return bb_fail(eb, BB_ERR_NOMEM, "read %s: out of memory", path);
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = bb_fail(eb, BB_ERR_IO, "read %s: %s", path, strerror(errno));
            close(fd);
            free(buf);
            return rc;
        }
        if (n == 0)
            break;              /* shrank under us: parse what is there */
        got += (size_t)n;
    }
    close(fd);
    rc = bb_hpke_vectors_check_json(buf, got, out, diag, res, eb);
    if (rc != BB_OK)
        bb_errbuf_prefix(eb, "%s", path);
    free(buf);
    return rc;
}
