/*
 * test_hpke — bb_hpke (RFC 9180), its vector checker, and bb_codec.
 *
 * Known answers come from RFC 9180 (A.1.x, A.2.x, A.7.1) and the CFRG
 * test-vectors file in tests/vectors/ (AES-256-GCM, which the RFC text does
 * not list for X25519): the first encryption (seq 0) and the first export of
 * each.  Then what an attacker does: every flipped byte of enc, ct, aad and
 * info, truncation, the wrong key, replay out of order — each must fail
 * with BB_ERR_CRYPTO "authentication failed" and no plaintext.
 *
 * Run from the repository root (make unit does), for tests/vectors/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "bb_codec.h"
#include "bb_hpke.h"
#include "bb_hpke_vectors.h"

#define VECTORS "tests/vectors/hpke-rfc9180-x25519.json"

static const char INFO_HEX[] = "4f6465206f6e2061204772656369616e2055726e";
static const char AAD0_HEX[] = "436f756e742d30";  /* "Count-0" */
static const char PT_HEX[] =
    "4265617574792069732074727574682c20747275746820626561757479";
static const char PSK_HEX[] =
    "0247fd33b913760fa1fa51e1892d9f307fbe65eb171e8132c2af18555a738b82";
static const char PSK_ID_HEX[] = "456e6e796e20447572696e206172616e204d6f726961";

/* Decode hex into out (cap bytes), failing the test on bad input. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(bb_hex_decode(hex, strlen(hex), out, cap, &n, NULL),
                     BB_OK);
    return n;
}

struct kat {
    const char *name;
    bb_hpke_mode mode;
    uint16_t aead;
    const char *ikmE;
    const char *ikmR, *skR, *pkR;   /* ikmR, or skR and pkR */
    const char *ikmS, *skS, *pkS;   /* auth modes: ikmS, or skS and pkS */
    int psk;
    const char *enc;
    const char *ct0;                /* seq 0, aad "Count-0" */
    const char *export0;            /* exporter_context "", L 32 */
};

static const struct kat kats[] = {
    { "A.1.1 base AES-128-GCM", BB_HPKE_MODE_BASE, BB_HPKE_AEAD_AES128GCM,
      "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
      "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
      NULL, NULL, NULL, NULL, NULL, 0,
      "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
      "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
      "6d8770ac83d07bea87e13c512a",
      "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee" },
    { "A.1.3 auth AES-128-GCM", BB_HPKE_MODE_AUTH, BB_HPKE_AEAD_AES128GCM,
      "6e6d8f200ea2fb20c30b003a8b4f433d2f4ed4c2658d5bc8ce2fef718059c9f7",
      "f1d4a30a4cef8d6d4e3b016e6fd3799ea057db4f345472ed302a67ce1c20cdec",
      NULL, NULL,
      "94b020ce91d73fca4649006c7e7329a67b40c55e9e93cc907d282bbbff386f58",
      NULL, NULL, 0,
      "23fb952571a14a25e3d678140cd0e5eb47a0961bb18afcf85896e5453c312e76",
      "5fd92cc9d46dbf8943e72a07e42f363ed5f721212cd90bcfd072bfd9f44e06b8"
      "0fd17824947496e21b680c141b",
      "28c70088017d70c896a8420f04702c5a321d9cbf0279fba899b59e51bac72c85" },
    { "CFRG base AES-256-GCM", BB_HPKE_MODE_BASE, BB_HPKE_AEAD_AES256GCM,
      "2cd7c601cefb3d42a62b04b7a9041494c06c7843818e0ce28a8f704ae7ab20f9",
      "dac33b0e9db1b59dbbea58d59a14e7b5896e9bdf98fad6891e99d1686492b9ee",
      NULL, NULL, NULL, NULL, NULL, 0,
      "6c93e09869df3402d7bf231bf540fadd35cd56be14f97178f0954db94b7fc256",
      "e5d84cd531cfb583096e7cfa9641bd3079cf3a91cda813c52deb5f512be99319"
      "80a41de125a925cdad859d5b7a",
      "ded6cffafaea6b812cbf3e241e88332adbc077aca81512914213810ee291770a" },
    { "CFRG auth AES-256-GCM", BB_HPKE_MODE_AUTH, BB_HPKE_AEAD_AES256GCM,
      "734369ab3061f71ee85e090fae308553cac8e7b3fbd45b4ba83d05e0cd05b1c4",
      "f59761a1e479c2a291b91a5af2b35dd2cace1b2042b570f88a16b226f6f30774",
      NULL, NULL,
      "87137373fe6b28a72534f38048b9467a614d3566fb3a16a50fcaf11c76051392",
      NULL, NULL, 0,
      "9e59f4b1fa5c876f684765290c34e51145894cc4f244342b9fb1a4bdfd8bb426",
      "10b964283ac2cc0bdc4c85ab617291b446bf3832e9359b2c3a0facc50ea75a3c"
      "1afd08aeaacd6041d02eb560ec",
      "8890c5615e5d6b0e1b212e26d80a7e8c0d03e796377f09e9377aa0497ccf89c9" },
    { "A.2.1 base ChaCha20-Poly1305", BB_HPKE_MODE_BASE,
      BB_HPKE_AEAD_CHACHA20,
      "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
      "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
      NULL, NULL, NULL, NULL, NULL, 0,
      "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
      "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db"
      "21993c62ce81883d2dd1b51a28",
      "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e" },
    { "A.2.3 auth ChaCha20-Poly1305", BB_HPKE_MODE_AUTH,
      BB_HPKE_AEAD_CHACHA20,
      "938d3daa5a8904540bc24f48ae90eed3f4f7f11839560597b55e7c9598c996c0",
      "64835d5ee64aa7aad57c6f2e4f758f7696617f8829e70bc9ac7a5ef95d1c756c",
      NULL, NULL,
      "9d8f94537d5a3ddef71234c0baedfad4ca6861634d0b94c3007fed557ad17df6",
      NULL, NULL, 0,
      "f7674cc8cd7baa5872d1f33dbaffe3314239f6197ddf5ded1746760bfc847e0e",
      "ab1a13c9d4f01a87ec3440dbd756e2677bd2ecf9df0ce7ed73869b98e00c09be"
      "111cb9fdf077347aeb88e61bdf",
      "070cffafd89b67b7f0eeb800235303a223e6ff9d1e774dce8eac585c8688c872" },
    { "A.1.2 psk AES-128-GCM", BB_HPKE_MODE_PSK, BB_HPKE_AEAD_AES128GCM,
      "78628c354e46f3e169bd231be7b2ff1c77aa302460a26dbfa15515684c00130b",
      "d4a09d09f575fef425905d2ab396c1449141463f698f8efdb7accfaff8995098",
      NULL, NULL, NULL, NULL, NULL, 1,
      "0ad0950d9fb9588e59690b74f1237ecdf1d775cd60be2eca57af5a4b0471c91b",
      "e52c6fed7f758d0cf7145689f21bc1be6ec9ea097fef4e959440012f4feb73fb"
      "611b946199e681f4cfc34db8ea",
      "dff17af354c8b41673567db6259fd6029967b4e1aad13023c2ae5df8f4f43bf6" },
    { "A.1.4 auth_psk AES-128-GCM", BB_HPKE_MODE_AUTH_PSK,
      BB_HPKE_AEAD_AES128GCM,
      "4303619085a20ebcf18edd22782952b8a7161e1dbae6e46e143a52a96127cf84",
      NULL,
      "cb29a95649dc5656c2d054c1aa0d3df0493155e9d5da6d7e344ed8b6a64a9423",
      "1d11a3cd247ae48e901939659bd4d79b6b959e1f3e7d66663fbc9412dd4e0976",
      NULL,
      "fc1c87d2f3832adb178b431fce2ac77c7ca2fd680f3406c77b5ecdf818b119f4",
      "2bfb2eb18fcad1af0e4f99142a1c474ae74e21b9425fc5c589382c69b50cc57e",
      1,
      "820818d3c23993492cc5623ab437a48a0a7ca3e9639c140fe1e33811eb844b7c",
      "a84c64df1e11d8fd11450039d4fe64ff0c8a99fca0bd72c2d4c3e0400bc14a40"
      "f27e45e141a24001697737533e",
      "08f7e20644bb9b8af54ad66d2067457c5f9fcb2a23d9f6cb4445c0797b330067" },
};

/* Keys of a KAT: derived from its ikm, or given. */
static void kat_keys(const char *ikm, const char *skhex, const char *pkhex,
                     uint8_t sk[32], uint8_t pk[32])
{
    uint8_t buf[64];

    if (ikm) {
        size_t n = unhex(ikm, buf, sizeof buf);
        assert_int_equal(bb_hpke_derive_keypair(buf, n, sk, pk, NULL), BB_OK);
    } else {
        assert_int_equal(unhex(skhex, sk, 32), 32);
        assert_int_equal(unhex(pkhex, pk, 32), 32);
    }
}

static void test_known_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        const struct kat *k = &kats[i];
        uint8_t ikmE[32], skR[32], pkR[32], skS[32], pkS[32], info[32];
        uint8_t psk[32], psk_id[32], aad[16], pt[64], want_ct[128];
        uint8_t want_enc[32], want_exp[32], enc[32], exp[32];
        uint8_t *ct = NULL, *out = NULL;
        size_t ct_len = 0, out_len = 0, n;
        int auth = k->mode == BB_HPKE_MODE_AUTH
                   || k->mode == BB_HPKE_MODE_AUTH_PSK;
        bb_hpke_ctx *ctx = NULL;
        bb_errbuf eb;

        print_message("  %s\n", k->name);
        kat_keys(k->ikmR, k->skR, k->pkR, skR, pkR);
        if (auth)
            kat_keys(k->ikmS, k->skS, k->pkS, skS, pkS);
        bb_hpke_setup s = {
            .mode = k->mode,
            .suite = { BB_HPKE_KEM_X25519_SHA256, BB_HPKE_KDF_HKDF_SHA256,
                       k->aead },
            .pkR = pkR, .skR = skR,
            .skS = auth ? skS : NULL, .pkS = auth ? pkS : NULL,
            .info = info, .info_len = unhex(INFO_HEX, info, sizeof info),
            .ikmE = ikmE, .ikmE_len = unhex(k->ikmE, ikmE, sizeof ikmE),
        };
        if (k->psk) {
            s.psk = psk;
            s.psk_len = unhex(PSK_HEX, psk, sizeof psk);
            s.psk_id = psk_id;
            s.psk_id_len = unhex(PSK_ID_HEX, psk_id, sizeof psk_id);
        }
        size_t aad_len = unhex(AAD0_HEX, aad, sizeof aad);
        size_t pt_len = unhex(PT_HEX, pt, sizeof pt);
        size_t want_ct_len = unhex(k->ct0, want_ct, sizeof want_ct);
        unhex(k->enc, want_enc, sizeof want_enc);
        unhex(k->export0, want_exp, sizeof want_exp);

        /* Single-shot seal gives the RFC's enc and ct, byte for byte. */
        assert_int_equal(bb_hpke_seal(&s, aad, aad_len, pt, pt_len, enc, &ct,
                                      &ct_len, &eb), BB_OK);
        assert_memory_equal(enc, want_enc, 32);
        assert_int_equal(ct_len, want_ct_len);
        assert_memory_equal(ct, want_ct, ct_len);
        free(ct);

        /* Single-shot open of the RFC's ct gives the plaintext. */
        assert_int_equal(bb_hpke_open(&s, want_enc, aad, aad_len, want_ct,
                                      want_ct_len, &out, &out_len, &eb),
                         BB_OK);
        assert_int_equal(out_len, pt_len);
        assert_memory_equal(out, pt, pt_len);
        free(out);

        /* Export from both sides. */
        assert_int_equal(bb_hpke_setup_receiver(&s, want_enc, &ctx, &eb),
                         BB_OK);
        assert_int_equal(bb_hpke_ctx_export(ctx, NULL, 0, exp, 32, &eb),
                         BB_OK);
        assert_memory_equal(exp, want_exp, 32);
        bb_hpke_ctx_free(ctx);
        assert_int_equal(bb_hpke_setup_sender(&s, &ctx, enc, &eb), BB_OK);
        assert_int_equal(bb_hpke_ctx_export(ctx, NULL, 0, exp, 32, &eb),
                         BB_OK);
        assert_memory_equal(exp, want_exp, 32);
        /* A sender context cannot open. */
        n = 0;
        assert_int_equal(bb_hpke_ctx_open(ctx, aad, aad_len, want_ct,
                                          want_ct_len, out = malloc(64), 64,
                                          &n, &eb), BB_ERR_STATE);
        free(out);
        bb_hpke_ctx_free(ctx);
    }
}

/* RFC 9180 A.7.1: export-only AEAD, base mode. */
static void test_export_only(void **state)
{
    static const struct {
        const char *ctx, *value;
    } exports[] = {
        { "", "7a36221bd56d50fb51ee65edfd98d06a23c4dc87085aa5866cb7087244bd2a36" },
        { "00", "d5535b87099c6c3ce80dc112a2671c6ec8e811a2f284f948cec6dd1708ee33f0" },
        { "54657374436f6e74657874",
          "ffaabc85a776136ca0c378e5d084c9140ab552b78f039d2e8775f26efff4c70e" },
    };
    uint8_t ikmE[32], ikmR[32], skR[32], pkR[32], info[32], enc[32];
    uint8_t want_enc[32], ec[16], want[32], got[32], buf[32];
    bb_hpke_ctx *sender = NULL, *receiver = NULL;
    uint8_t *ct = NULL;
    size_t ct_len = 0, n = 0;
    bb_errbuf eb;

    (void)state;
    unhex("683ae0da1d22181e74ed2e503ebf82840deb1d5e872cade20f4b458d99783e31",
          ikmR, sizeof ikmR);
    assert_int_equal(bb_hpke_derive_keypair(ikmR, 32, skR, pkR, NULL), BB_OK);
    unhex("e5e8f9bfff6c2f29791fc351d2c25ce1299aa5eaca78a757c0b4fb4bcd830918",
          want_enc, sizeof want_enc);
    bb_hpke_setup s = {
        .mode = BB_HPKE_MODE_BASE,
        .suite = { BB_HPKE_KEM_X25519_SHA256, BB_HPKE_KDF_HKDF_SHA256,
                   BB_HPKE_AEAD_EXPORT_ONLY },
        .pkR = pkR, .skR = skR,
        .info = info, .info_len = unhex(INFO_HEX, info, sizeof info),
        .ikmE = ikmE,
        .ikmE_len = unhex("55bc245ee4efda25d38f2d54d5bb6665291b99f8108a8c4b68"
                          "6c2b14893ea5d9", ikmE, sizeof ikmE),
    };
    assert_int_equal(bb_hpke_setup_sender(&s, &sender, enc, &eb), BB_OK);
    assert_memory_equal(enc, want_enc, 32);
    assert_int_equal(bb_hpke_setup_receiver(&s, enc, &receiver, &eb), BB_OK);
    for (size_t i = 0; i < 3; i++) {
        size_t ec_len = unhex(exports[i].ctx, ec, sizeof ec);
        unhex(exports[i].value, want, sizeof want);
        assert_int_equal(bb_hpke_ctx_export(sender, ec, ec_len, got, 32, &eb),
                         BB_OK);
        assert_memory_equal(got, want, 32);
        assert_int_equal(bb_hpke_ctx_export(receiver, ec, ec_len, got, 32,
                                            &eb), BB_OK);
        assert_memory_equal(got, want, 32);
    }
    /* An export-only context has no AEAD. */
    assert_int_equal(bb_hpke_ctx_seal(sender, NULL, 0, buf, 1, got,
                                      sizeof got, &n, &eb),
                     BB_ERR_UNSUPPORTED);
    assert_int_equal(bb_hpke_seal(&s, NULL, 0, buf, 1, enc, &ct, &ct_len,
                                  &eb), BB_ERR_UNSUPPORTED);
    assert_null(ct);
    bb_hpke_ctx_free(sender);
    bb_hpke_ctx_free(receiver);
}

static const uint16_t all_aeads[] = {
    BB_HPKE_AEAD_AES128GCM, BB_HPKE_AEAD_AES256GCM, BB_HPKE_AEAD_CHACHA20
};

/* Fresh keys for round trips: recipient R, sender S, and a stranger X. */
struct keys {
    uint8_t skR[32], pkR[32], skS[32], pkS[32], skX[32], pkX[32];
};

static void make_keys(struct keys *k)
{
    assert_int_equal(bb_hpke_keygen(k->skR, k->pkR, NULL), BB_OK);
    assert_int_equal(bb_hpke_keygen(k->skS, k->pkS, NULL), BB_OK);
    assert_int_equal(bb_hpke_keygen(k->skX, k->pkX, NULL), BB_OK);
}

static bb_hpke_setup make_setup(const struct keys *k, bb_hpke_mode mode,
                                uint16_t aead)
{
    static const uint8_t info[] = "beatbook batch v1";
    int auth = mode == BB_HPKE_MODE_AUTH;
    bb_hpke_setup s = {
        .mode = mode,
        .suite = { BB_HPKE_KEM_X25519_SHA256, BB_HPKE_KDF_HKDF_SHA256, aead },
        .pkR = k->pkR, .skR = k->skR,
        .skS = auth ? k->skS : NULL, .pkS = auth ? k->pkS : NULL,
        .info = info, .info_len = sizeof info - 1,
    };
    return s;
}

/* Open must fail with exactly "authentication failed" and no plaintext. */
static void assert_open_fails(const bb_hpke_setup *s, const uint8_t *enc,
                              const uint8_t *aad, size_t aad_len,
                              const uint8_t *ct, size_t ct_len)
{
    uint8_t *pt = (uint8_t *)1;     /* must be reset to NULL */
    size_t pt_len = 99;
    bb_errbuf eb;

    assert_int_equal(bb_hpke_open(s, enc, aad, aad_len, ct, ct_len, &pt,
                                  &pt_len, &eb), BB_ERR_CRYPTO);
    assert_string_equal(eb.msg, "authentication failed");
    assert_null(pt);
    assert_int_equal(pt_len, 0);
}

static void test_round_trip_and_tampering(void **state)
{
    static const bb_hpke_mode modes[] = { BB_HPKE_MODE_BASE,
                                          BB_HPKE_MODE_AUTH };
    static const size_t sizes[] = { 0, 1, 37, 4096, 100000 };
    struct keys k;

    (void)state;
    make_keys(&k);
    for (size_t m = 0; m < 2; m++)
    for (size_t a = 0; a < 3; a++)
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        bb_hpke_setup s = make_setup(&k, modes[m], all_aeads[a]);
        uint8_t aad[] = "{\"v\":1,\"seq\":7}";
        size_t aad_len = sizeof aad - 1, len = sizes[z];
        uint8_t *pt = malloc(len + 1), *ct = NULL, *out = NULL;
        size_t ct_len = 0, out_len = 0;
        uint8_t enc[32], enc2[32];
        uint8_t *ct2 = NULL;
        size_t ct2_len = 0;

        assert_non_null(pt);
        for (size_t i = 0; i < len; i++)
            pt[i] = (uint8_t)(i * 7 + 3);
        assert_int_equal(bb_hpke_seal(&s, aad, aad_len, pt, len, enc, &ct,
                                      &ct_len, NULL), BB_OK);
        assert_int_equal(ct_len, len + BB_HPKE_TAG_LEN);
        assert_int_equal(bb_hpke_open(&s, enc, aad, aad_len, ct, ct_len, &out,
                                      &out_len, NULL), BB_OK);
        assert_non_null(out);
        assert_int_equal(out_len, len);
        if (len)
            assert_memory_equal(out, pt, len);
        free(out);

        /* Fresh ephemeral key each time: same input, different output. */
        assert_int_equal(bb_hpke_seal(&s, aad, aad_len, pt, len, enc2, &ct2,
                                      &ct2_len, NULL), BB_OK);
        assert_memory_not_equal(enc, enc2, 32);
        free(ct2);

        if (len <= 37) {    /* every byte of small messages */
            for (size_t i = 0; i < 32; i++) {
                enc[i] ^= 0x01;
                assert_open_fails(&s, enc, aad, aad_len, ct, ct_len);
                enc[i] ^= 0x01;
            }
            for (size_t i = 0; i < ct_len; i++) {
                ct[i] ^= 0x80;
                assert_open_fails(&s, enc, aad, aad_len, ct, ct_len);
                ct[i] ^= 0x80;
            }
            for (size_t i = 0; i < aad_len; i++) {
                aad[i] ^= 0x20;
                assert_open_fails(&s, enc, aad, aad_len, ct, ct_len);
                aad[i] ^= 0x20;
            }
        } else {
            ct[len / 2] ^= 0x04;
            assert_open_fails(&s, enc, aad, aad_len, ct, ct_len);
            ct[len / 2] ^= 0x04;
        }
        /* X25519 ignores bit 255 of a u-coordinate; HPKE must not. */
        enc[31] ^= 0x80;
        assert_open_fails(&s, enc, aad, aad_len, ct, ct_len);
        enc[31] ^= 0x80;
        /* Truncated, extended, or no aad at all. */
        assert_open_fails(&s, enc, aad, aad_len, ct, ct_len - 1);
        assert_open_fails(&s, enc, aad, aad_len, ct, BB_HPKE_TAG_LEN - 1);
        assert_open_fails(&s, enc, aad, aad_len, ct, 0);
        assert_open_fails(&s, enc, aad, aad_len - 1, ct, ct_len);
        assert_open_fails(&s, enc, NULL, 0, ct, ct_len);
        /* Another info. */
        {
            bb_hpke_setup t = s;
            t.info = (const uint8_t *)"beatbook batch v2";
            assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
            t.info_len = 0;
            assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
        }
        /* The wrong recipient key. */
        {
            bb_hpke_setup t = s;
            t.skR = k.skX;
            assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
        }
        /* Auth: the wrong sender key; base: opened as auth. */
        {
            bb_hpke_setup t = s;
            if (modes[m] == BB_HPKE_MODE_AUTH) {
                t.pkS = k.pkX;
                assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
                t.mode = BB_HPKE_MODE_BASE;
                assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
            } else {
                t.mode = BB_HPKE_MODE_AUTH;
                t.pkS = k.pkS;
                assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
            }
        }
        /* Another AEAD of the same keys. */
        {
            bb_hpke_setup t = s;
            t.suite.aead_id = all_aeads[(a + 1) % 3];
            assert_open_fails(&t, enc, aad, aad_len, ct, ct_len);
        }
        free(ct);
        free(pt);
    }
}

/* Low-order points: an enc of 0 or 1 is rejected, as is such a pkR. */
static void test_low_order_points(void **state)
{
    struct keys k;
    uint8_t bad[32], pt[4] = { 1, 2, 3, 4 }, ct[BB_HPKE_TAG_LEN + 4];
    uint8_t enc[32], *out = NULL;
    size_t out_len;
    bb_errbuf eb;

    (void)state;
    make_keys(&k);
    bb_hpke_setup s = make_setup(&k, BB_HPKE_MODE_BASE,
                                 BB_HPKE_AEAD_AES256GCM);
    memset(ct, 0, sizeof ct);
    for (int v = 0; v < 2; v++) {
        memset(bad, 0, sizeof bad);
        bad[0] = (uint8_t)v;
        assert_open_fails(&s, bad, NULL, 0, ct, sizeof ct);
        s.pkR = bad;
        assert_int_equal(bb_hpke_seal(&s, NULL, 0, pt, sizeof pt, enc, &out,
                                      &out_len, &eb), BB_ERR_INVALID);
        assert_null(out);
        s.pkR = k.pkR;
    }
}

static void test_context_sequence(void **state)
{
    struct keys k;
    bb_hpke_ctx *snd = NULL, *rcv = NULL;
    uint8_t enc[32], ct[3][32], pt[32], msg[3][16];
    size_t n, ct_len[3];
    bb_errbuf eb;

    (void)state;
    make_keys(&k);
    bb_hpke_setup s = make_setup(&k, BB_HPKE_MODE_AUTH,
                                 BB_HPKE_AEAD_CHACHA20);
    assert_int_equal(bb_hpke_setup_sender(&s, &snd, enc, &eb), BB_OK);
    assert_int_equal(bb_hpke_setup_receiver(&s, enc, &rcv, &eb), BB_OK);
    for (int i = 0; i < 3; i++) {
        memset(msg[i], 'a' + i, sizeof msg[i]);
        assert_int_equal(bb_hpke_ctx_seq(snd), (uint64_t)i);
        assert_int_equal(bb_hpke_ctx_seal(snd, NULL, 0, msg[i], 16, ct[i],
                                          sizeof ct[i], &ct_len[i], &eb),
                         BB_OK);
    }
    /* Equal plaintexts under different sequence numbers differ. */
    assert_memory_not_equal(ct[0], ct[1], 16);
    /* Out of order (a replay or a drop) fails and does not advance. */
    assert_int_equal(bb_hpke_ctx_open(rcv, NULL, 0, ct[1], ct_len[1], pt,
                                      sizeof pt, &n, &eb), BB_ERR_CRYPTO);
    assert_string_equal(eb.msg, "authentication failed");
    assert_int_equal(bb_hpke_ctx_seq(rcv), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bb_hpke_ctx_open(rcv, NULL, 0, ct[i], ct_len[i], pt,
                                          sizeof pt, &n, &eb), BB_OK);
        assert_int_equal(n, 16);
        assert_memory_equal(pt, msg[i], 16);
    }
    /* Replaying the first message now fails, and leaves pt wiped. */
    memset(pt, 0xaa, sizeof pt);
    assert_int_equal(bb_hpke_ctx_open(rcv, NULL, 0, ct[0], ct_len[0], pt,
                                      sizeof pt, &n, &eb), BB_ERR_CRYPTO);
    assert_int_equal(n, 0);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(pt[i], 0);
    /* Role and buffer checks. */
    assert_int_equal(bb_hpke_ctx_seal(rcv, NULL, 0, msg[0], 16, ct[0],
                                      sizeof ct[0], &n, &eb), BB_ERR_STATE);
    assert_int_equal(bb_hpke_ctx_seal(snd, NULL, 0, msg[0], 16, ct[0], 31, &n,
                                      &eb), BB_ERR_TOOBIG);
    bb_hpke_ctx_free(snd);
    bb_hpke_ctx_free(rcv);
    bb_hpke_ctx_free(NULL);
}

static void test_export(void **state)
{
    struct keys k;
    bb_hpke_ctx *snd = NULL, *rcv = NULL;
    static uint8_t a[BB_HPKE_MAX_EXPORT + 1], b[BB_HPKE_MAX_EXPORT + 1];
    static const size_t lens[] = { 0, 1, 32, 33, 100, BB_HPKE_MAX_EXPORT };
    uint8_t enc[32];
    bb_errbuf eb;

    (void)state;
    make_keys(&k);
    bb_hpke_setup s = make_setup(&k, BB_HPKE_MODE_BASE,
                                 BB_HPKE_AEAD_AES256GCM);
    assert_int_equal(bb_hpke_setup_sender(&s, &snd, enc, &eb), BB_OK);
    assert_int_equal(bb_hpke_setup_receiver(&s, enc, &rcv, &eb), BB_OK);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        assert_int_equal(bb_hpke_ctx_export(snd, (const uint8_t *)"ctx", 3, a,
                                            lens[i], &eb), BB_OK);
        assert_int_equal(bb_hpke_ctx_export(rcv, (const uint8_t *)"ctx", 3, b,
                                            lens[i], &eb), BB_OK);
        if (lens[i])
            assert_memory_equal(a, b, lens[i]);
    }
    /* A prefix property of HKDF-Expand would leak: L is in the label. */
    assert_int_equal(bb_hpke_ctx_export(snd, NULL, 0, a, 32, &eb), BB_OK);
    assert_int_equal(bb_hpke_ctx_export(snd, NULL, 0, b, 64, &eb), BB_OK);
    assert_memory_not_equal(a, b, 32);
    /* Another context string, another secret. */
    assert_int_equal(bb_hpke_ctx_export(snd, (const uint8_t *)"x", 1, b, 32,
                                        &eb), BB_OK);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(bb_hpke_ctx_export(snd, NULL, 0, a,
                                        BB_HPKE_MAX_EXPORT + 1, &eb),
                     BB_ERR_TOOBIG);
    bb_hpke_ctx_free(snd);
    bb_hpke_ctx_free(rcv);
}

/*
 * Exports longer than one hash block go through our streaming HKDF-Expand;
 * check it against mbedtls_hkdf_expand on the RFC's exporter_secret
 * (A.1.1): LabeledExpand(exporter_secret, "sec", "", 100).
 */
static void test_export_multiblock_vs_mbedtls(void **state)
{
    const struct kat *k = &kats[0];
    uint8_t skR[32], pkR[32], info[32], enc[32], secret[32];
    uint8_t labeled[64], want[100], got[100];
    static const uint8_t suite[] = { 'H', 'P', 'K', 'E', 0x00, 0x20,
                                     0x00, 0x01, 0x00, 0x01 };
    bb_hpke_ctx *ctx = NULL;
    size_t n = 0;

    (void)state;
    kat_keys(k->ikmR, NULL, NULL, skR, pkR);
    unhex(k->enc, enc, sizeof enc);
    unhex("45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
          secret, sizeof secret);
    bb_hpke_setup s = {
        .mode = BB_HPKE_MODE_BASE,
        .suite = { BB_HPKE_KEM_X25519_SHA256, BB_HPKE_KDF_HKDF_SHA256,
                   BB_HPKE_AEAD_AES128GCM },
        .skR = skR,
        .info = info, .info_len = unhex(INFO_HEX, info, sizeof info),
    };
    assert_int_equal(bb_hpke_setup_receiver(&s, enc, &ctx, NULL), BB_OK);
    assert_int_equal(bb_hpke_ctx_export(ctx, NULL, 0, got, sizeof got, NULL),
                     BB_OK);
    labeled[n++] = 0;
    labeled[n++] = sizeof want;
    memcpy(labeled + n, "HPKE-v1", 7);
    n += 7;
    memcpy(labeled + n, suite, sizeof suite);
    n += sizeof suite;
    memcpy(labeled + n, "sec", 3);
    n += 3;
    assert_int_equal(mbedtls_hkdf_expand(
                         mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), secret,
                         sizeof secret, labeled, n, want, sizeof want), 0);
    assert_memory_equal(got, want, sizeof want);
    bb_hpke_ctx_free(ctx);
}

static void test_bad_arguments(void **state)
{
    struct keys k;
    uint8_t psk[32], enc[32], pt[8] = { 0 }, *ct = NULL;
    size_t ct_len = 0;
    bb_hpke_ctx *ctx = NULL;
    bb_errbuf eb;

    (void)state;
    make_keys(&k);
    memset(psk, 7, sizeof psk);
    bb_hpke_setup s = make_setup(&k, BB_HPKE_MODE_BASE,
                                 BB_HPKE_AEAD_AES256GCM);

    /* psk inputs must match the mode (VerifyPSKInputs). */
    bb_hpke_setup t = s;
    t.psk = psk;
    t.psk_len = 32;
    t.psk_id = (const uint8_t *)"id";
    t.psk_id_len = 2;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_INVALID);
    t.mode = BB_HPKE_MODE_PSK;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb), BB_OK);
    bb_hpke_ctx_free(ctx);
    t.psk_id_len = 0;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_INVALID);
    t.psk_id_len = 2;
    t.psk_len = 16;     /* too short to be a key */
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_INVALID);
    t = s;
    t.mode = BB_HPKE_MODE_PSK;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_INVALID);
    t.mode = (bb_hpke_mode)4;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_INVALID);
    /* Auth without the sender's keys. */
    t = s;
    t.mode = BB_HPKE_MODE_AUTH;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_INVALID);
    assert_int_equal(bb_hpke_setup_receiver(&t, k.pkR, &ctx, &eb),
                     BB_ERR_INVALID);
    /* Unsupported suites. */
    t = s;
    t.suite.kem_id = 0x0010;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_UNSUPPORTED);
    t = s;
    t.suite.kdf_id = 0x0002;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_UNSUPPORTED);
    t = s;
    t.suite.aead_id = 0x0004;
    assert_int_equal(bb_hpke_setup_sender(&t, &ctx, enc, &eb),
                     BB_ERR_UNSUPPORTED);
    assert_null(ctx);
    /* Caps: checked before the buffers are touched. */
    assert_int_equal(bb_hpke_seal(&s, NULL, 0, pt, BB_HPKE_MAX_PT + 1, enc,
                                  &ct, &ct_len, &eb), BB_ERR_TOOBIG);
    assert_int_equal(bb_hpke_seal(&s, pt, BB_HPKE_MAX_AAD + 1, pt, 1, enc,
                                  &ct, &ct_len, &eb), BB_ERR_TOOBIG);
    t = s;
    t.info_len = BB_HPKE_MAX_INPUT + 1;
    assert_int_equal(bb_hpke_seal(&t, NULL, 0, pt, 1, enc, &ct, &ct_len,
                                  &eb), BB_ERR_TOOBIG);
    assert_null(ct);
    t = s;
    t.pkR = NULL;
    assert_int_equal(bb_hpke_seal(&t, NULL, 0, pt, 1, enc, &ct, &ct_len,
                                  &eb), BB_ERR_INVALID);
    assert_null(ct);
}

/* DeriveKeyPair is deterministic; keygen is not; pk matches sk. */
static void test_keys(void **state)
{
    uint8_t ikm[32], sk1[32], pk1[32], sk2[32], pk2[32], pk[32];

    (void)state;
    memset(ikm, 0x42, sizeof ikm);
    assert_int_equal(bb_hpke_derive_keypair(ikm, 32, sk1, pk1, NULL), BB_OK);
    assert_int_equal(bb_hpke_derive_keypair(ikm, 32, sk2, pk2, NULL), BB_OK);
    assert_memory_equal(sk1, sk2, 32);
    assert_memory_equal(pk1, pk2, 32);
    assert_int_equal(bb_hpke_public_key(sk1, pk, NULL), BB_OK);
    assert_memory_equal(pk, pk1, 32);
    assert_int_equal(bb_hpke_keygen(sk2, pk2, NULL), BB_OK);
    assert_memory_not_equal(sk1, sk2, 32);
    assert_int_equal(bb_hpke_public_key(sk2, pk, NULL), BB_OK);
    assert_memory_equal(pk, pk2, 32);
    /* RFC 7748 §6.1: Alice's key pair. */
    unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
          sk1, 32);
    unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
          pk1, 32);
    assert_int_equal(bb_hpke_public_key(sk1, pk, NULL), BB_OK);
    assert_memory_equal(pk, pk1, 32);
}

/*
 * RFC 7748 §5.2's scalar multiplications, seen through Decap: with enc = u
 * and skR = k, the shared secret is ExtractAndExpand(X25519(k, u),
 * enc || pk(k)), computed here independently with mbedtls_hkdf.  The second
 * u has bit 255 set, which X25519 must ignore (RFC 7748 §5).
 */
static void test_x25519_rfc7748(void **state)
{
    static const char *const v[][3] = {
        { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
          "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
          "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
          "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
          "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
    };
    static const uint8_t kem[] = { 'K', 'E', 'M', 0x00, 0x20 };
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    uint8_t k[32], u[32], dh[32], pk[32], ss[32], want[32], prk[32];
    uint8_t buf[128];
    size_t n;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        unhex(v[i][0], k, 32);
        unhex(v[i][1], u, 32);
        unhex(v[i][2], dh, 32);
        assert_int_equal(bb_hpke_decap(u, k, NULL, ss, NULL), BB_OK);
        assert_int_equal(bb_hpke_public_key(k, pk, NULL), BB_OK);

        n = 0;                          /* "HPKE-v1" KEM "eae_prk" dh */
        memcpy(buf + n, "HPKE-v1", 7), n += 7;
        memcpy(buf + n, kem, 5), n += 5;
        memcpy(buf + n, "eae_prk", 7), n += 7;
        memcpy(buf + n, dh, 32), n += 32;
        assert_int_equal(mbedtls_hkdf_extract(md, NULL, 0, buf, n, prk), 0);
        n = 0;                  /* 32 "HPKE-v1" KEM "shared_secret" enc pkR */
        buf[n++] = 0;
        buf[n++] = 32;
        memcpy(buf + n, "HPKE-v1", 7), n += 7;
        memcpy(buf + n, kem, 5), n += 5;
        memcpy(buf + n, "shared_secret", 13), n += 13;
        memcpy(buf + n, u, 32), n += 32;
        memcpy(buf + n, pk, 32), n += 32;
        assert_int_equal(mbedtls_hkdf_expand(md, prk, 32, buf, n, want, 32),
                         0);
        assert_memory_equal(ss, want, 32);
    }
}

/* ---- The vector checker ------------------------------------------------- */

static char *read_vectors(size_t *len)
{
    FILE *f = fopen(VECTORS, "rb");
    char *buf;
    long n;

    assert_non_null(f);     /* run from the repository root */
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void test_vectors_file(void **state)
{
    bb_hpke_vectors_result res;
    bb_errbuf eb;
    size_t len;
    char *json, *p;

    (void)state;
    assert_int_equal(bb_hpke_vectors_check_file(VECTORS, NULL, NULL, &res,
                                                &eb), BB_OK);
    assert_int_equal(res.passed, 6);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.skipped, 0);

    /* One flipped hex digit of one ciphertext fails that vector only. */
    json = read_vectors(&len);
    p = strstr(json, "\"ct\": \"");
    assert_non_null(p);
    p += strlen("\"ct\": \"");
    *p = *p == '0' ? '1' : '0';
    assert_int_equal(bb_hpke_vectors_check_json(json, len, NULL, NULL, &res,
                                                &eb), BB_OK);
    assert_int_equal(res.passed, 5);
    assert_int_equal(res.failed, 1);
    free(json);

    /* A vector of another KEM is skipped, not failed. */
    json = read_vectors(&len);
    p = strstr(json, "\"kem_id\": 32");
    assert_non_null(p);
    memcpy(p, "\"kem_id\": 16", strlen("\"kem_id\": 16"));
    assert_int_equal(bb_hpke_vectors_check_json(json, len, NULL, NULL, &res,
                                                &eb), BB_OK);
    assert_int_equal(res.passed, 5);
    assert_int_equal(res.skipped, 1);

    /* Not JSON, not an array, not there. */
    assert_int_equal(bb_hpke_vectors_check_json(json, len / 2, NULL, NULL,
                                                &res, &eb), BB_ERR_INVALID);
    free(json);
    assert_int_equal(bb_hpke_vectors_check_json("{}", 2, NULL, NULL, &res,
                                                &eb), BB_ERR_INVALID);
    assert_int_equal(bb_hpke_vectors_check_file("tests/vectors/nonexistent",
                                                NULL, NULL, &res, &eb),
                     BB_ERR_NOTFOUND);
}

/* ---- bb_codec ------------------------------------------------------------ */

static void test_hex(void **state)
{
    uint8_t buf[8], *p = NULL;
    char out[BB_HEX_SIZE(4)];
    size_t n = 0;
    bb_errbuf eb;

    (void)state;
    assert_int_equal(bb_hex_encode((const uint8_t *)"\x00\xab\x10\xff", 4, out,
                                   sizeof out, NULL), BB_OK);
    assert_string_equal(out, "00ab10ff");
    assert_int_equal(bb_hex_encode(buf, 4, out, sizeof out - 1, NULL),
                     BB_ERR_TOOBIG);
    assert_int_equal(bb_hex_decode("00AB10ff", 8, buf, sizeof buf, &n, NULL),
                     BB_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "\x00\xab\x10\xff", 4);
    assert_int_equal(bb_hex_decode("abc", 3, buf, sizeof buf, &n, &eb),
                     BB_ERR_INVALID);
    assert_int_equal(bb_hex_decode("abzz", 4, buf, sizeof buf, &n, &eb),
                     BB_ERR_INVALID);
    /* The offset, never the character: input may be a key. */
    assert_string_equal(eb.msg, "hex decode: invalid hex digit at offset 2");
    assert_int_equal(n, 0);
    assert_int_equal(bb_hex_decode("0011", 4, buf, 1, &n, &eb),
                     BB_ERR_TOOBIG);
    assert_int_equal(bb_hex_decode_alloc("", &p, &n, NULL), BB_OK);
    assert_non_null(p);
    assert_int_equal(n, 0);
    free(p);
    assert_int_equal(bb_hex_decode_alloc("0g", &p, &n, NULL), BB_ERR_INVALID);
    assert_null(p);
}

static void test_base64(void **state)
{
    /* RFC 4648 §10. */
    static const char *const vec[][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    static const char *const bad[] = {
        "Zg=", "Zg", "Zh==", "Zm9=", "Z===", "====", "=Zg=", "Zg==\n",
        "Zm9v\nYg==", "Zm9 v", "Zm9v-_==", "Zm9vYg==Zm9v",
    };
    char out[64], *s = NULL;
    uint8_t buf[64], *p = NULL;
    size_t n = 0;
    bb_errbuf eb;

    (void)state;
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        size_t len = strlen(vec[i][0]);
        assert_int_equal(bb_base64_encode((const uint8_t *)vec[i][0], len, out,
                                          sizeof out, &n, NULL), BB_OK);
        assert_string_equal(out, vec[i][1]);
        assert_int_equal(n, strlen(vec[i][1]));
        assert_int_equal(bb_base64_decode(vec[i][1], strlen(vec[i][1]), buf,
                                          len, &n, NULL), BB_OK);
        assert_int_equal(n, len);
        assert_memory_equal(buf, vec[i][0], len);
        assert_int_equal(bb_base64_encode_alloc((const uint8_t *)vec[i][0],
                                                len, &s, NULL), BB_OK);
        assert_string_equal(s, vec[i][1]);
        free(s);
        assert_int_equal(bb_base64_decode_alloc(vec[i][1], strlen(vec[i][1]),
                                                &p, &n, NULL), BB_OK);
        assert_non_null(p);
        assert_int_equal(n, len);
        free(p);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(bb_base64_decode(bad[i], strlen(bad[i]), buf,
                                          sizeof buf, &n, &eb),
                         BB_ERR_INVALID);
        assert_int_equal(n, 0);
        assert_int_equal(bb_base64_decode_alloc(bad[i], strlen(bad[i]), &p,
                                                &n, &eb), BB_ERR_INVALID);
        assert_null(p);
    }
    /* Buffers that are one byte short. */
    assert_int_equal(bb_base64_decode("Zm9vYmFy", 8, buf, 5, &n, &eb),
                     BB_ERR_TOOBIG);
    assert_int_equal(bb_base64_encode((const uint8_t *)"foo", 3, out, 4, &n,
                                      &eb), BB_ERR_TOOBIG);
    /* A 32-byte enc, as in batch headers, round trips. */
    memset(buf, 0xfe, 32);
    assert_int_equal(bb_base64_encode(buf, 32, out, sizeof out, &n, NULL),
                     BB_OK);
    assert_int_equal(n, 44);
    assert_int_equal(bb_base64_decode(out, n, buf + 32, 32, &n, NULL), BB_OK);
    assert_memory_equal(buf, buf + 32, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_export_only),
        cmocka_unit_test(test_round_trip_and_tampering),
        cmocka_unit_test(test_low_order_points),
        cmocka_unit_test(test_context_sequence),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_export_multiblock_vs_mbedtls),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_x25519_rfc7748),
        cmocka_unit_test(test_vectors_file),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests_name("bb_hpke", tests, NULL, NULL);
}
