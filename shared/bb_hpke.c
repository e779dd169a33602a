/*
 * bb_hpke.c — RFC 9180 HPKE with DHKEM(X25519, HKDF-SHA256) (see bb_hpke.h).
 *
 * Layout follows the RFC: labeled HKDF (§4), the DHKEM (§4.1), the key
 * schedule (§5.1), the context (§5.2, §5.3), single-shot wrappers (§6).
 *
 * X25519 goes through mbedtls_ecp with MBEDTLS_ECP_DP_CURVE25519.  RFC 7748
 * keys and u-coordinates are little-endian, mbedtls mpis are numbers, so
 * every conversion goes through mbedtls_mpi_{read,write}_binary_le.  We
 * clamp the scalar ourselves (mbedtls_ecp_mul refuses an unclamped one) and
 * mask bit 255 of incoming u-coordinates, as RFC 7748 §5 asks.
 *
 * The labeled HKDF steps are computed with streaming HMAC-SHA256 rather than
 * mbedtls_hkdf_*: RFC 9180 prefixes every input with labels, and streaming
 * the pieces saves building (and wiping) concatenated copies of secrets.
 * Extract(salt, ikm) is HMAC(salt, ikm) — an empty salt and HashLen zero
 * bytes are the same HMAC key — and Expand is RFC 5869 §2.3.
 */
#include "bb_hpke.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "bb_rand.h"

#define wipe mbedtls_platform_zeroize

enum { ROLE_SENDER = 1, ROLE_RECEIVER = 2 };

struct bb_hpke_ctx {
    int role;
    bb_hpke_suite suite;
    union {
        mbedtls_gcm_context gcm;
        mbedtls_chachapoly_context chacha;
    } aead;
    int aead_ready;                     /* aead holds a key to free */
    uint8_t base_nonce[BB_HPKE_NONCE_LEN];
    uint8_t exporter_secret[BB_HPKE_SECRET_LEN];
    uint64_t seq;
};

/* mbedtls wants non-NULL pointers even for empty inputs. */
static const uint8_t empty[1];
#define NONNULL(p) ((p) ? (p) : empty)

const char *bb_hpke_mode_name(int mode)
{
    switch (mode) {
    case BB_HPKE_MODE_BASE: return "base";
    case BB_HPKE_MODE_PSK: return "psk";
    case BB_HPKE_MODE_AUTH: return "auth";
    case BB_HPKE_MODE_AUTH_PSK: return "auth_psk";
    }
    return "?";
}

/* ---- Labeled HKDF (RFC 9180 §4) -------------------------------------- */

struct piece {
    const uint8_t *p;
    size_t n;
};

#define PIECE_STR(s) { (const uint8_t *)(s), sizeof(s) - 1 }

/* suite_id of the KEM ("KEM" || kem_id) or of HPKE ("HPKE" || ids). */
struct suite_id {
    uint8_t b[10];
    size_t n;
};

static struct suite_id kem_suite_id(void)
{
    struct suite_id id = { { 'K', 'E', 'M', BB_HPKE_KEM_X25519_SHA256 >> 8,
                             BB_HPKE_KEM_X25519_SHA256 & 0xff }, 5 };
    return id;
}

static struct suite_id hpke_suite_id(bb_hpke_suite s)
{
    struct suite_id id = { { 'H', 'P', 'K', 'E',
                             (uint8_t)(s.kem_id >> 8), (uint8_t)s.kem_id,
                             (uint8_t)(s.kdf_id >> 8), (uint8_t)s.kdf_id,
                             (uint8_t)(s.aead_id >> 8), (uint8_t)s.aead_id },
                           10 };
    return id;
}

/* HMAC-SHA256(key, concatenation of pieces).  0 or an mbedtls error. */
static int hmac_pieces(const uint8_t *key, size_t key_len,
                       const struct piece *pc, size_t npc,
                       uint8_t out[BB_HPKE_SECRET_LEN])
{
    mbedtls_md_context_t md;
    int ret;

    mbedtls_md_init(&md);
    ret = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                           1);
    if (ret == 0)
        ret = mbedtls_md_hmac_starts(&md, NONNULL(key), key_len);
    for (size_t i = 0; ret == 0 && i < npc; i++)
        if (pc[i].n > 0)
            ret = mbedtls_md_hmac_update(&md, pc[i].p, pc[i].n);
    if (ret == 0)
        ret = mbedtls_md_hmac_finish(&md, out);
    mbedtls_md_free(&md);       /* wipes the HMAC pads and hash state */
    return ret;
}

/* LabeledExtract(salt, label, ikm) */
static int labeled_extract(const struct suite_id *sid, const uint8_t *salt,
                           size_t salt_len, const char *label,
                           const uint8_t *ikm, size_t ikm_len,
                           uint8_t prk[BB_HPKE_SECRET_LEN])
{
    struct piece pc[] = {
        PIECE_STR("HPKE-v1"),
        { sid->b, sid->n },
        { (const uint8_t *)label, strlen(label) },
        { ikm, ikm_len },
    };
    return hmac_pieces(salt, salt_len, pc, sizeof pc / sizeof pc[0], prk);
}

/* LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, labeled_info, L) */
static int labeled_expand(const struct suite_id *sid,
                          const uint8_t prk[BB_HPKE_SECRET_LEN],
                          const char *label, const uint8_t *info,
                          size_t info_len, uint8_t *out, size_t L)
{
    uint8_t t[BB_HPKE_SECRET_LEN];
    uint8_t len2[2] = { (uint8_t)(L >> 8), (uint8_t)L };
    uint8_t counter = 0;
    size_t done = 0;
    int ret = 0;

    if (L > BB_HPKE_MAX_EXPORT)
        return MBEDTLS_ERR_MD_BAD_INPUT_DATA;
    while (done < L) {
        size_t take;
        counter++;
        struct piece pc[] = {
            { t, counter == 1 ? 0 : sizeof t },     /* T(i-1) */
            { len2, sizeof len2 },
            PIECE_STR("HPKE-v1"),
            { sid->b, sid->n },
            { (const uint8_t *)label, strlen(label) },
            { info, info_len },
            { &counter, 1 },
        };
        ret = hmac_pieces(prk, BB_HPKE_SECRET_LEN, pc,
                          sizeof pc / sizeof pc[0], t);
        if (ret != 0)
            break;
        take = L - done < sizeof t ? L - done : sizeof t;
        memcpy(out + done, t, take);
        done += take;
    }
    wipe(t, sizeof t);
    if (ret != 0)
        wipe(out, L);
    return ret;
}

/* ---- X25519 (RFC 7748) through mbedtls_ecp --------------------------- */

/*
 * out = X25519(k, u), or X25519(k, 9) when u is NULL.  Returns 0, or an
 * mbedtls error, or -1 if the result is all zeros (a low-order u: RFC 9180
 * §7.1.4 requires aborting).
 */
static int x25519(uint8_t out[32], const uint8_t k[32], const uint8_t *u)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point P, R;
    mbedtls_mpi d;
    uint8_t buf[32], acc = 0;
    int ret;

    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&P);
    mbedtls_ecp_point_init(&R);
    mbedtls_mpi_init(&d);

    ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
    if (ret != 0)
        goto out;
    memcpy(buf, k, 32);
    buf[0] &= 248;              /* decodeScalar25519 */
    buf[31] &= 127;
    buf[31] |= 64;
    ret = mbedtls_mpi_read_binary_le(&d, buf, 32);
    if (ret != 0)
        goto out;
    if (u) {
        memcpy(buf, u, 32);
        buf[31] &= 127;         /* decodeUCoordinate: ignore bit 255 */
        ret = mbedtls_mpi_read_binary_le(&P.X, buf, 32);
        /* Non-canonical values (>= p) are taken mod p, as RFC 7748 says. */
        if (ret == 0)
            ret = mbedtls_mpi_mod_mpi(&P.X, &P.X, &grp.P);
        if (ret == 0)
            ret = mbedtls_mpi_lset(&P.Z, 1);
        if (ret != 0)
            goto out;
    }
    ret = mbedtls_ecp_mul(&grp, &R, &d, u ? &P : &grp.G, bb_rng, NULL);
    if (ret != 0)
        goto out;
    ret = mbedtls_mpi_write_binary_le(&R.X, out, 32);
    if (ret != 0)
        goto out;
    for (size_t i = 0; i < 32; i++)     /* constant time */
        acc |= out[i];
    if (acc == 0)
        ret = -1;
out:
    if (ret != 0)
        wipe(out, 32);
    wipe(buf, sizeof buf);
    mbedtls_mpi_free(&d);               /* mpi_free wipes */
    mbedtls_ecp_point_free(&P);
    mbedtls_ecp_point_free(&R);
    mbedtls_ecp_group_free(&grp);
    return ret;
}

/* ---- Keys -------------------------------------------------------------- */

bb_err bb_hpke_public_key(const uint8_t sk[BB_HPKE_SK_LEN],
                          uint8_t pk[BB_HPKE_PK_LEN], bb_errbuf *eb)
{
    if (x25519(pk, sk, NULL) != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "X25519: cannot compute the "
                       "public key");
    return BB_OK;
}

bb_err bb_hpke_keygen(uint8_t sk[BB_HPKE_SK_LEN], uint8_t pk[BB_HPKE_PK_LEN],
                      bb_errbuf *eb)
{
    bb_err rc;

    if (bb_random(sk, BB_HPKE_SK_LEN) != BB_OK)
        return bb_fail(eb, BB_ERR_INTERNAL, "X25519 key generation: the "
                       "kernel refused random bytes");
    rc = bb_hpke_public_key(sk, pk, eb);
    if (rc != BB_OK)
        wipe(sk, BB_HPKE_SK_LEN);
    return rc;
}

bb_err bb_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len,
                              uint8_t sk[BB_HPKE_SK_LEN],
                              uint8_t pk[BB_HPKE_PK_LEN], bb_errbuf *eb)
{
    struct suite_id sid = kem_suite_id();
    uint8_t prk[BB_HPKE_SECRET_LEN];
    int ret;

    if (ikm_len > BB_HPKE_MAX_INPUT)
        return bb_fail(eb, BB_ERR_TOOBIG, "DeriveKeyPair: ikm of %zu bytes "
                       "is over the limit of %zu", ikm_len, BB_HPKE_MAX_INPUT);
    if (!ikm && ikm_len > 0)
        return bb_fail(eb, BB_ERR_INVALID, "DeriveKeyPair: no ikm");
    ret = labeled_extract(&sid, NULL, 0, "dkp_prk", ikm, ikm_len, prk);
    if (ret == 0)
        ret = labeled_expand(&sid, prk, "sk", NULL, 0, sk, BB_HPKE_SK_LEN);
    wipe(prk, sizeof prk);
    if (ret == 0)
        ret = x25519(pk, sk, NULL);
    if (ret != 0) {
        wipe(sk, BB_HPKE_SK_LEN);
        return bb_fail(eb, BB_ERR_INTERNAL, "DeriveKeyPair: mbedtls error "
                       "-0x%04x", (unsigned)-ret);
    }
    return BB_OK;
}

/* ---- DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1) ----------------------- */

/* ExtractAndExpand(dh, kem_context) */
static int extract_and_expand(const uint8_t *dh, size_t dh_len,
                              const uint8_t *kem_context, size_t kc_len,
                              uint8_t ss[BB_HPKE_SECRET_LEN])
{
    struct suite_id sid = kem_suite_id();
    uint8_t prk[BB_HPKE_SECRET_LEN];
    int ret;

    ret = labeled_extract(&sid, NULL, 0, "eae_prk", dh, dh_len, prk);
    if (ret == 0)
        ret = labeled_expand(&sid, prk, "shared_secret", kem_context, kc_len,
                             ss, BB_HPKE_SECRET_LEN);
    wipe(prk, sizeof prk);
    return ret;
}

bb_err bb_hpke_encap(const uint8_t pkR[BB_HPKE_PK_LEN],
                     const uint8_t *skS, const uint8_t *ikmE, size_t ikmE_len,
                     uint8_t shared_secret[BB_HPKE_SECRET_LEN],
                     uint8_t enc[BB_HPKE_ENC_LEN], bb_errbuf *eb)
{
    uint8_t skE[BB_HPKE_SK_LEN], dh[2 * 32], kem_context[3 * 32];
    size_t dh_len = 32, kc_len = 64;
    bb_err rc;
    int ret;

    if (!pkR)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE encap: no recipient public "
                       "key");
    if (ikmE)
        rc = bb_hpke_derive_keypair(ikmE, ikmE_len, skE, enc, eb);
    else
        rc = bb_hpke_keygen(skE, enc, eb);
    if (rc != BB_OK)
        goto out;

    if (x25519(dh, skE, pkR) != 0) {
        rc = bb_fail(eb, BB_ERR_INVALID, "HPKE encap: the recipient public "
                     "key is not a valid X25519 key");
        goto out;
    }
    memcpy(kem_context, enc, 32);
    memcpy(kem_context + 32, pkR, 32);
    if (skS) {
        if (x25519(dh + 32, skS, pkR) != 0) {
            rc = bb_fail(eb, BB_ERR_INVALID, "HPKE auth encap: the recipient "
                         "public key is not a valid X25519 key");
            goto out;
        }
        rc = bb_hpke_public_key(skS, kem_context + 64, eb);
        if (rc != BB_OK)
            goto out;
        dh_len = 64;
        kc_len = 96;
    }
    ret = extract_and_expand(dh, dh_len, kem_context, kc_len, shared_secret);
    if (ret != 0)
        rc = bb_fail(eb, BB_ERR_INTERNAL, "HPKE encap: mbedtls error -0x%04x",
                     (unsigned)-ret);
out:
    wipe(skE, sizeof skE);
    wipe(dh, sizeof dh);
    if (rc != BB_OK) {
        wipe(shared_secret, BB_HPKE_SECRET_LEN);
        wipe(enc, BB_HPKE_ENC_LEN);
    }
    return rc;
}

bb_err bb_hpke_decap(const uint8_t enc[BB_HPKE_ENC_LEN],
                     const uint8_t skR[BB_HPKE_SK_LEN], const uint8_t *pkS,
                     uint8_t shared_secret[BB_HPKE_SECRET_LEN],
                     bb_errbuf *eb)
{
    uint8_t dh[2 * 32], kem_context[3 * 32];
    size_t dh_len = 32, kc_len = 64;
    bb_err rc = BB_OK;
    int ret;

    if (!enc || !skR)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE decap: no enc or no "
                       "recipient private key");
    /* A low-order enc can only come from tampering or a broken sender. */
    if (x25519(dh, skR, enc) != 0) {
        rc = bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
        goto out;
    }
    memcpy(kem_context, enc, 32);
    rc = bb_hpke_public_key(skR, kem_context + 32, eb);
    if (rc != BB_OK)
        goto out;
    if (pkS) {
        if (x25519(dh + 32, skR, pkS) != 0) {
            rc = bb_fail(eb, BB_ERR_INVALID, "HPKE auth decap: the sender "
                         "public key is not a valid X25519 key");
            goto out;
        }
        memcpy(kem_context + 64, pkS, 32);
        dh_len = 64;
        kc_len = 96;
    }
    ret = extract_and_expand(dh, dh_len, kem_context, kc_len, shared_secret);
    if (ret != 0)
        rc = bb_fail(eb, BB_ERR_INTERNAL, "HPKE decap: mbedtls error -0x%04x",
                     (unsigned)-ret);
out:
    wipe(dh, sizeof dh);
    if (rc != BB_OK)
        wipe(shared_secret, BB_HPKE_SECRET_LEN);
    return rc;
}

/* ---- Key schedule (RFC 9180 §5.1) ------------------------------------- */

static bb_err check_suite(bb_hpke_suite s, size_t *nk, bb_errbuf *eb)
{
    if (s.kem_id != BB_HPKE_KEM_X25519_SHA256)
        return bb_fail(eb, BB_ERR_UNSUPPORTED, "HPKE: KEM 0x%04x is not "
                       "supported (only 0x0020, DHKEM(X25519, HKDF-SHA256))",
                       s.kem_id);
    if (s.kdf_id != BB_HPKE_KDF_HKDF_SHA256)
        return bb_fail(eb, BB_ERR_UNSUPPORTED, "HPKE: KDF 0x%04x is not "
                       "supported (only 0x0001, HKDF-SHA256)", s.kdf_id);
    switch (s.aead_id) {
    case BB_HPKE_AEAD_AES128GCM: *nk = 16; return BB_OK;
    case BB_HPKE_AEAD_AES256GCM: *nk = 32; return BB_OK;
    case BB_HPKE_AEAD_CHACHA20: *nk = 32; return BB_OK;
    case BB_HPKE_AEAD_EXPORT_ONLY: *nk = 0; return BB_OK;
    }
    return bb_fail(eb, BB_ERR_UNSUPPORTED, "HPKE: AEAD 0x%04x is not "
                   "supported", s.aead_id);
}

/* The mode, suite and lengths of s, and VerifyPSKInputs. */
static bb_err check_setup(const bb_hpke_setup *s, size_t *nk, bb_errbuf *eb)
{
    int has_psk_mode;

    if (!s)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: no setup");
    if (s->mode != BB_HPKE_MODE_BASE && s->mode != BB_HPKE_MODE_PSK
        && s->mode != BB_HPKE_MODE_AUTH && s->mode != BB_HPKE_MODE_AUTH_PSK)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: unknown mode %d",
                       (int)s->mode);
    if (s->info_len > BB_HPKE_MAX_INPUT || s->psk_len > BB_HPKE_MAX_INPUT
        || s->psk_id_len > BB_HPKE_MAX_INPUT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE: info, psk or psk_id is over "
                       "the limit of %zu bytes", BB_HPKE_MAX_INPUT);
    if ((!s->info && s->info_len) || (!s->psk && s->psk_len)
        || (!s->psk_id && s->psk_id_len))
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: a length without data");
    has_psk_mode = s->mode == BB_HPKE_MODE_PSK
                   || s->mode == BB_HPKE_MODE_AUTH_PSK;
    if ((s->psk_len > 0) != (s->psk_id_len > 0))
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: psk and psk_id must be "
                       "given together");
    if (s->psk_len > 0 && !has_psk_mode)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: a psk was given in mode %s",
                       bb_hpke_mode_name(s->mode));
    if (s->psk_len == 0 && has_psk_mode)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: mode %s needs a psk and "
                       "psk_id", bb_hpke_mode_name(s->mode));
    if (has_psk_mode && s->psk_len < BB_HPKE_MIN_PSK)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE: a psk must have at least "
                       "%d bytes", BB_HPKE_MIN_PSK);
    return check_suite(s->suite, nk, eb);
}

bb_err bb_hpke_key_schedule(const bb_hpke_setup *s,
                            const uint8_t shared_secret[BB_HPKE_SECRET_LEN],
                            bb_hpke_schedule *o, bb_errbuf *eb)
{
    struct suite_id sid;
    size_t nk = 0;
    uint8_t *ksc = o->key_schedule_context;
    bb_err rc;
    int ret;

    memset(o, 0, sizeof *o);
    rc = check_setup(s, &nk, eb);
    if (rc != BB_OK)
        return rc;
    sid = hpke_suite_id(s->suite);
    ksc[0] = (uint8_t)s->mode;
    ret = labeled_extract(&sid, NULL, 0, "psk_id_hash", s->psk_id,
                          s->psk_id_len, ksc + 1);
    if (ret == 0)
        ret = labeled_extract(&sid, NULL, 0, "info_hash", s->info,
                              s->info_len, ksc + 1 + BB_HPKE_SECRET_LEN);
    if (ret == 0)
        ret = labeled_extract(&sid, shared_secret, BB_HPKE_SECRET_LEN,
                              "secret", s->psk, s->psk_len, o->secret);
    if (ret == 0 && nk > 0) {
        o->key_len = nk;
        o->nonce_len = BB_HPKE_NONCE_LEN;
        ret = labeled_expand(&sid, o->secret, "key", ksc,
                             sizeof o->key_schedule_context, o->key, nk);
        if (ret == 0)
            ret = labeled_expand(&sid, o->secret, "base_nonce", ksc,
                                 sizeof o->key_schedule_context,
                                 o->base_nonce, BB_HPKE_NONCE_LEN);
    }
    if (ret == 0)
        ret = labeled_expand(&sid, o->secret, "exp", ksc,
                             sizeof o->key_schedule_context,
                             o->exporter_secret, BB_HPKE_SECRET_LEN);
    if (ret != 0) {
        wipe(o, sizeof *o);
        return bb_fail(eb, BB_ERR_INTERNAL, "HPKE key schedule: mbedtls "
                       "error -0x%04x", (unsigned)-ret);
    }
    return BB_OK;
}

/* ---- Contexts (RFC 9180 §5.2, §5.3) ----------------------------------- */

/* A context of the given role from a schedule (which the caller wipes). */
static bb_err ctx_new(int role, bb_hpke_suite suite,
                      const bb_hpke_schedule *ks, bb_hpke_ctx **out,
                      bb_errbuf *eb)
{
    bb_hpke_ctx *ctx = calloc(1, sizeof *ctx);
    int ret = 0;

    *out = NULL;
    if (!ctx)
        return bb_fail(eb, BB_ERR_NOMEM, "HPKE context: out of memory");
    ctx->role = role;
    ctx->suite = suite;
    switch (suite.aead_id) {
    case BB_HPKE_AEAD_AES128GCM:
    case BB_HPKE_AEAD_AES256GCM:
        mbedtls_gcm_init(&ctx->aead.gcm);
        ctx->aead_ready = 1;
        ret = mbedtls_gcm_setkey(&ctx->aead.gcm, MBEDTLS_CIPHER_ID_AES,
                                 ks->key, (unsigned)(ks->key_len * 8));
        break;
    case BB_HPKE_AEAD_CHACHA20:
        mbedtls_chachapoly_init(&ctx->aead.chacha);
        ctx->aead_ready = 1;
        ret = mbedtls_chachapoly_setkey(&ctx->aead.chacha, ks->key);
        break;
    default:                            /* export-only: no AEAD key */
        break;
    }
    if (ret != 0) {
        bb_hpke_ctx_free(ctx);
        return bb_fail(eb, BB_ERR_INTERNAL, "HPKE context: mbedtls error "
                       "-0x%04x", (unsigned)-ret);
    }
    memcpy(ctx->base_nonce, ks->base_nonce, sizeof ctx->base_nonce);
    memcpy(ctx->exporter_secret, ks->exporter_secret,
           sizeof ctx->exporter_secret);
    *out = ctx;
    return BB_OK;
}

void bb_hpke_ctx_free(bb_hpke_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->aead_ready) {
        if (ctx->suite.aead_id == BB_HPKE_AEAD_CHACHA20)
            mbedtls_chachapoly_free(&ctx->aead.chacha);
        else
            mbedtls_gcm_free(&ctx->aead.gcm);
    }
    wipe(ctx, sizeof *ctx);
    free(ctx);
}

bb_err bb_hpke_setup_sender(const bb_hpke_setup *s, bb_hpke_ctx **ctx,
                            uint8_t enc[BB_HPKE_ENC_LEN], bb_errbuf *eb)
{
    uint8_t ss[BB_HPKE_SECRET_LEN];
    bb_hpke_schedule ks;
    int auth;
    size_t nk;
    bb_err rc;

    *ctx = NULL;
    rc = check_setup(s, &nk, eb);
    if (rc != BB_OK)
        return rc;
    auth = s->mode == BB_HPKE_MODE_AUTH || s->mode == BB_HPKE_MODE_AUTH_PSK;
    if (!s->pkR)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE sender: no recipient public "
                       "key");
    if (auth && !s->skS)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE sender: mode %s needs the "
                       "sender's private key", bb_hpke_mode_name(s->mode));
    if (s->ikmE && s->ikmE_len > BB_HPKE_MAX_INPUT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE sender: ikmE is over the "
                       "limit");

    rc = bb_hpke_encap(s->pkR, auth ? s->skS : NULL, s->ikmE, s->ikmE_len,
                       ss, enc, eb);
    if (rc == BB_OK)
        rc = bb_hpke_key_schedule(s, ss, &ks, eb);
    wipe(ss, sizeof ss);
    if (rc != BB_OK)
        return rc;
    rc = ctx_new(ROLE_SENDER, s->suite, &ks, ctx, eb);
    wipe(&ks, sizeof ks);
    return rc;
}

bb_err bb_hpke_setup_receiver(const bb_hpke_setup *s,
                              const uint8_t enc[BB_HPKE_ENC_LEN],
                              bb_hpke_ctx **ctx, bb_errbuf *eb)
{
    uint8_t ss[BB_HPKE_SECRET_LEN];
    bb_hpke_schedule ks;
    int auth;
    size_t nk;
    bb_err rc;

    *ctx = NULL;
    rc = check_setup(s, &nk, eb);
    if (rc != BB_OK)
        return rc;
    auth = s->mode == BB_HPKE_MODE_AUTH || s->mode == BB_HPKE_MODE_AUTH_PSK;
    if (!s->skR)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE receiver: no recipient "
                       "private key");
    if (auth && !s->pkS)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE receiver: mode %s needs the "
                       "sender's public key", bb_hpke_mode_name(s->mode));

    rc = bb_hpke_decap(enc, s->skR, auth ? s->pkS : NULL, ss, eb);
    if (rc == BB_OK)
        rc = bb_hpke_key_schedule(s, ss, &ks, eb);
    wipe(ss, sizeof ss);
    if (rc != BB_OK)
        return rc;
    rc = ctx_new(ROLE_RECEIVER, s->suite, &ks, ctx, eb);
    wipe(&ks, sizeof ks);
    return rc;
}

uint64_t bb_hpke_ctx_seq(const bb_hpke_ctx *ctx)
{
    return ctx->seq;
}

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) */
static void compute_nonce(const bb_hpke_ctx *ctx,
                          uint8_t nonce[BB_HPKE_NONCE_LEN])
{
    memcpy(nonce, ctx->base_nonce, BB_HPKE_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[BB_HPKE_NONCE_LEN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}

/* Checks shared by seal and open. */
static bb_err ctx_check(const bb_hpke_ctx *ctx, int role, const char *what,
                        size_t aad_len, bb_errbuf *eb)
{
    if (!ctx)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE %s: no context", what);
    if (ctx->role != role)
        return bb_fail(eb, BB_ERR_STATE, "HPKE %s: not allowed on a %s "
                       "context", what,
                       ctx->role == ROLE_SENDER ? "sender" : "receiver");
    if (ctx->suite.aead_id == BB_HPKE_AEAD_EXPORT_ONLY)
        return bb_fail(eb, BB_ERR_UNSUPPORTED, "HPKE %s: an export-only "
                       "context cannot %s", what, what);
    /* The RFC's limit is 2^96 - 1; a 64-bit counter stops earlier. */
    if (ctx->seq == UINT64_MAX)
        return bb_fail(eb, BB_ERR_STATE, "HPKE %s: message limit reached",
                       what);
    if (aad_len > BB_HPKE_MAX_AAD)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE %s: aad of %zu bytes is over "
                       "the limit of %zu", what, aad_len, BB_HPKE_MAX_AAD);
    return BB_OK;
}

bb_err bb_hpke_ctx_seal(bb_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                        const uint8_t *pt, size_t pt_len, uint8_t *ct,
                        size_t ct_size, size_t *ct_len, bb_errbuf *eb)
{
    uint8_t nonce[BB_HPKE_NONCE_LEN];
    bb_err rc;
    int ret;

    *ct_len = 0;
    rc = ctx_check(ctx, ROLE_SENDER, "seal", aad_len, eb);
    if (rc != BB_OK)
        return rc;
    if (pt_len > BB_HPKE_MAX_PT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE seal: %zu bytes of plaintext "
                       "is over the limit of %zu", pt_len, BB_HPKE_MAX_PT);
    if (!ct || ct_size < pt_len + BB_HPKE_TAG_LEN)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE seal: the output buffer needs "
                       "%zu bytes", pt_len + BB_HPKE_TAG_LEN);
    if ((!pt && pt_len) || (!aad && aad_len))
        return bb_fail(eb, BB_ERR_INVALID, "HPKE seal: a length without data");

    compute_nonce(ctx, nonce);
    if (ctx->suite.aead_id == BB_HPKE_AEAD_CHACHA20)
        ret = mbedtls_chachapoly_encrypt_and_tag(&ctx->aead.chacha, pt_len,
                                                 nonce, NONNULL(aad), aad_len,
                                                 NONNULL(pt), ct,
                                                 ct + pt_len);
    else
        ret = mbedtls_gcm_crypt_and_tag(&ctx->aead.gcm, MBEDTLS_GCM_ENCRYPT,
                                        pt_len, nonce, sizeof nonce,
                                        NONNULL(aad), aad_len, NONNULL(pt),
                                        ct, BB_HPKE_TAG_LEN, ct + pt_len);
    if (ret != 0) {
        wipe(ct, pt_len + BB_HPKE_TAG_LEN);
        return bb_fail(eb, BB_ERR_INTERNAL, "HPKE seal: mbedtls error "
                       "-0x%04x", (unsigned)-ret);
    }
    ctx->seq++;
    *ct_len = pt_len + BB_HPKE_TAG_LEN;
    return BB_OK;
}

bb_err bb_hpke_ctx_open(bb_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                        const uint8_t *ct, size_t ct_len, uint8_t *pt,
                        size_t pt_size, size_t *pt_len, bb_errbuf *eb)
{
    uint8_t nonce[BB_HPKE_NONCE_LEN];
    size_t n;
    bb_err rc;
    int ret;

    *pt_len = 0;
    rc = ctx_check(ctx, ROLE_RECEIVER, "open", aad_len, eb);
    if (rc != BB_OK)
        return rc;
    if (!ct || ct_len < BB_HPKE_TAG_LEN)    /* truncated: cannot be genuine */
        return bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
    n = ct_len - BB_HPKE_TAG_LEN;
    if (n > BB_HPKE_MAX_PT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE open: %zu bytes of ciphertext "
                       "is over the limit of %zu", ct_len, BB_HPKE_MAX_PT);
    if (!pt || pt_size < n)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE open: the output buffer needs "
                       "%zu bytes", n);
    if (!aad && aad_len)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE open: a length without data");

    compute_nonce(ctx, nonce);
    if (ctx->suite.aead_id == BB_HPKE_AEAD_CHACHA20)
        ret = mbedtls_chachapoly_auth_decrypt(&ctx->aead.chacha, n, nonce,
                                              NONNULL(aad), aad_len, ct + n,
                                              ct, pt);
    else
        ret = mbedtls_gcm_auth_decrypt(&ctx->aead.gcm, n, nonce, sizeof nonce,
                                       NONNULL(aad), aad_len, ct + n,
                                       BB_HPKE_TAG_LEN, ct, pt);
    if (ret != 0) {
        /* mbedtls wipes on a bad tag already; we wipe on every error. */
        wipe(pt, n);
        if (ret == MBEDTLS_ERR_GCM_AUTH_FAILED
            || ret == MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED)
            return bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
        return bb_fail(eb, BB_ERR_INTERNAL, "HPKE open: mbedtls error "
                       "-0x%04x", (unsigned)-ret);
    }
    ctx->seq++;
    *pt_len = n;
    return BB_OK;
}

bb_err bb_hpke_ctx_export(const bb_hpke_ctx *ctx,
                          const uint8_t *exporter_context, size_t ec_len,
                          uint8_t *out, size_t L, bb_errbuf *eb)
{
    struct suite_id sid;
    int ret;

    if (!ctx)
        return bb_fail(eb, BB_ERR_INVALID, "HPKE export: no context");
    if (L > BB_HPKE_MAX_EXPORT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE export: length %zu is over "
                       "the limit of %d", L, BB_HPKE_MAX_EXPORT);
    if (ec_len > BB_HPKE_MAX_INPUT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE export: exporter context of "
                       "%zu bytes is over the limit of %zu", ec_len,
                       BB_HPKE_MAX_INPUT);
    if ((!exporter_context && ec_len) || (!out && L))
        return bb_fail(eb, BB_ERR_INVALID, "HPKE export: a length without "
                       "data");
    sid = hpke_suite_id(ctx->suite);
    ret = labeled_expand(&sid, ctx->exporter_secret, "sec", exporter_context,
                         ec_len, out, L);
    if (ret != 0)
        return bb_fail(eb, BB_ERR_INTERNAL, "HPKE export: mbedtls error "
                       "-0x%04x", (unsigned)-ret);
    return BB_OK;
}

/* ---- Single shot (RFC 9180 §6) ---------------------------------------- */

bb_err bb_hpke_seal(const bb_hpke_setup *s, const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t pt_len,
                    uint8_t enc[BB_HPKE_ENC_LEN], uint8_t **ct,
                    size_t *ct_len, bb_errbuf *eb)
{
    bb_hpke_ctx *ctx = NULL;
    uint8_t *buf;
    bb_err rc;

    *ct = NULL;
    *ct_len = 0;
    if (pt_len > BB_HPKE_MAX_PT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE seal: %zu bytes of plaintext "
                       "is over the limit of %zu", pt_len, BB_HPKE_MAX_PT);
    rc = bb_hpke_setup_sender(s, &ctx, enc, eb);
    if (rc != BB_OK)
        return rc;
    buf = malloc(pt_len + BB_HPKE_TAG_LEN);
    if (!buf) {
        bb_hpke_ctx_free(ctx);
        return bb_fail(eb, BB_ERR_NOMEM, "HPKE seal: out of memory");
    }
    rc = bb_hpke_ctx_seal(ctx, aad, aad_len, pt, pt_len, buf,
                          pt_len + BB_HPKE_TAG_LEN, ct_len, eb);
    bb_hpke_ctx_free(ctx);
    if (rc != BB_OK) {
        free(buf);
        wipe(enc, BB_HPKE_ENC_LEN);
        return rc;
    }
    *ct = buf;
    return BB_OK;
}

bb_err bb_hpke_open(const bb_hpke_setup *s, const uint8_t enc[BB_HPKE_ENC_LEN],
                    const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                    size_t ct_len, uint8_t **pt, size_t *pt_len,
                    bb_errbuf *eb)
{
    bb_hpke_ctx *ctx = NULL;
    uint8_t *buf;
    size_t n;
    bb_err rc;

    *pt = NULL;
    *pt_len = 0;
    if (!ct || ct_len < BB_HPKE_TAG_LEN)
        return bb_fail(eb, BB_ERR_CRYPTO, "authentication failed");
    n = ct_len - BB_HPKE_TAG_LEN;
    if (n > BB_HPKE_MAX_PT)
        return bb_fail(eb, BB_ERR_TOOBIG, "HPKE open: %zu bytes of ciphertext "
                       "is over the limit of %zu", ct_len, BB_HPKE_MAX_PT);
    rc = bb_hpke_setup_receiver(s, enc, &ctx, eb);
    if (rc != BB_OK)
        return rc;
    buf = malloc(n + 1);                /* +1: never NULL for n == 0 */
    if (!buf) {
        bb_hpke_ctx_free(ctx);
        return bb_fail(eb, BB_ERR_NOMEM, "HPKE open: out of memory");
    }
    rc = bb_hpke_ctx_open(ctx, aad, aad_len, ct, ct_len, buf, n, pt_len, eb);
    bb_hpke_ctx_free(ctx);
    if (rc != BB_OK) {
        wipe(buf, n + 1);               /* ctx_open wiped it; be sure */
        free(buf);
        return rc;
    }
    *pt = buf;
    return BB_OK;
}
