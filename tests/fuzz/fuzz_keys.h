/*
 * fuzz_keys.h — the fixed keys the fuzz targets (tests/fuzz/fuzz_*.c) and
 * their seed generator (tests/fuzz/seedgen.c) share.  Static functions
 * only, included by each target, so every target stays one file to build.
 *
 *   fuzz_nobody_key   the P-256 generator point G as a public key: valid,
 *                     but nobody can sign for it, so no input verifies;
 *   fuzz_hq_keypair   an X25519 key pair derived (RFC 9180 DeriveKeyPair)
 *                     from a fixed string: HQ's key in every target, so
 *                     committed seeds sealed to it open again;
 *   fuzz_device_key   a fresh ECDSA key, once per process, for targets
 *                     that sign what they build themselves.
 * Each returns 0 on success.
 */
#ifndef FUZZ_KEYS_H
#define FUZZ_KEYS_H

#include <stdint.h>
#include "bb_hpke.h"
#include "bb_sign.h"

#define FUZZ_HQ_IKM "beatbook fuzz: HQ X25519 key (never used outside tests)"

static const uint8_t fuzz_p256_g[BB_SIGN_PUB_RAW_LEN] = {
    0x04,
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
    0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
    0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a,
    0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce,
    0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

static inline int fuzz_nobody_key(bb_sign_key **out)
{
    return bb_sign_pub_import_raw(out, fuzz_p256_g, NULL) == BB_OK ? 0 : -1;
}

static inline int fuzz_hq_keypair(uint8_t sk[BB_HPKE_SK_LEN], uint8_t pk[BB_HPKE_PK_LEN])
{
    return bb_hpke_derive_keypair((const uint8_t *)FUZZ_HQ_IKM, sizeof FUZZ_HQ_IKM - 1,
                                  sk, pk, NULL) == BB_OK ? 0 : -1;
}

static inline int fuzz_device_key(bb_sign_key **out)
{
    return bb_sign_keygen(out, NULL) == BB_OK ? 0 : -1;
}

#endif
