/*
 * bb_attach — photos and files on records (docs/FORMATS.md §5,
 * docs/PROTOCOL.md "Attachments").
 *
 * A record names its attachments by content: an attachment field's value
 * is a JSON array of {"sha256":hex,"size":n,"type":"image/jpeg","name":..}
 * so the record's batch signature covers them.  The files travel on their
 * own, as sealed attachment objects:
 *
 *   offset  size  field
 *   0       8     magic "BBATTCH\n"
 *   8       2     version = 1
 *   10      2     flags = 0
 *   12      4     header_len H (2 .. BB_ATTACH_MAX_HEADER)
 *   16      H     header: canonical JSON
 *                 {"v":1,"device":..,"device_key":kid,"sha256":hex,"size":n,
 *                  "type":..,"chunk_size":1048576,"chunks":k,"created_at":..,
 *                  "hq_key":kid,"suite":"X25519-HKDF-SHA256-AES-256-GCM",
 *                  "enc":base64}
 *   16+H    64    ECDSA P-256 signature (r||s) by the device over
 *                 SHA-256(bytes [0, 16+H))
 *   --- the "head" ends here; on a USB stick the chunks follow in order ---
 *   chunk i       AES-256-GCM(key, nonce = 0^4 || u64be(i),
 *                  aad = "BBATTCH chunk" || SHA-256(header) || u64be(i) || u64be(k),
 *                  plaintext bytes [i*chunk_size, min((i+1)*chunk_size, size)))
 *                 || 16-byte tag
 *
 * key is the HPKE (RFC 9180 base mode, HQ's X25519 key, info "beatbook
 * attachment v1") exporter secret Export("beatbook attachment chunk key",
 * 32) of the context whose enc is in the header.  Because every chunk's key
 * and nonce are fixed by the head, the device can seal any chunk again
 * after a crash or a cut (it keeps the head and the key) and HQ can open
 * chunks in any order, one at a time, with memory bounded by one chunk.
 * The aad ties each chunk to its object and position, so a chunk of
 * another object, another device, another index or a truncated last chunk
 * does not authenticate.  HQ verifies the head's signature before it opens
 * anything (bb_attach_open_key refuses an unverified view).
 *
 * Ownership: bb_attach_seal_head returns a malloc'd head the caller frees.
 * A bb_attach_view points into the caller's buffer.
 *
 * Errors: BB_ERR_INVALID (malformed, the message says which part),
 * BB_ERR_TOOBIG (over a cap), BB_ERR_CRYPTO (bad signature, or a chunk
 * that does not authenticate: "authentication failed"), BB_ERR_STATE
 * (opening before verifying), BB_ERR_IO (reading a file), BB_ERR_NOMEM.
 */
#ifndef BB_ATTACH_H
#define BB_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include "bb_err.h"
#include "bb_hpke.h"
#include "bb_sign.h"

#define BB_ATTACH_MAGIC "BBATTCH\n"
#define BB_ATTACH_VERSION 1
#define BB_ATTACH_FIXED 16                      /* bytes before the header */
#define BB_ATTACH_MAX_HEADER 4096
#define BB_ATTACH_SIG_LEN 64
#define BB_ATTACH_HEAD_MAX (BB_ATTACH_FIXED + BB_ATTACH_MAX_HEADER + BB_ATTACH_SIG_LEN)
#define BB_ATTACH_CHUNK ((int64_t)1024 * 1024)  /* plaintext bytes per chunk */
#define BB_ATTACH_TAG_LEN 16
#define BB_ATTACH_CHUNK_MAX (BB_ATTACH_CHUNK + BB_ATTACH_TAG_LEN)
/* No attachment is larger, whatever a kind allows (a kind's max_bytes is
 * checked against this when the catalog loads). */
#define BB_ATTACH_MAX_SIZE ((int64_t)256 * 1024 * 1024)
#define BB_ATTACH_INFO "beatbook attachment v1"
#define BB_ATTACH_EXPORT_LABEL "beatbook attachment chunk key"
#define BB_ATTACH_KEY_LEN 32
#define BB_ATTACH_TYPE_MAX 40
#define BB_ATTACH_NAME_MAX 255                  /* bytes of a file's display name */
#define BB_SHA256_HEX_SIZE 65                   /* 64 hex + NUL */

/* ---- Media types, from the bytes ------------------------------------------ */

/*
 * The media type of a file from its first bytes (at least 32 are needed to
 * tell HEIC from other ISO BMFF files): "image/jpeg", "image/png",
 * "image/heic" (ftyp brands heic heix heim heis hevc hevx), "image/heif"
 * (mif1 msf1), "application/pdf", or NULL for anything else.  The name of
 * the file is never consulted.
 */
const char *bb_media_sniff(const uint8_t *buf, size_t len);

/* The file-name extension for a media type (".jpg", ".png", ".heic",
 * ".heif", ".pdf"), or ".bin". */
const char *bb_media_ext(const char *type);

/* 1 for the types bb_media_sniff can return. */
int bb_media_known(const char *type);

/* 1 when s is 64 lowercase hex digits. */
int bb_sha256_hex_valid(const char *s);

/*
 * Stream a regular file: its SHA-256 (lowercase hex), size, and sniffed
 * type (NULL when unknown; a static string).  Reads in 64 KiB blocks:
 * memory does not grow with the file.  BB_ERR_IO names the file.
 */
bb_err bb_attach_hash_fd(int fd, char sha256[BB_SHA256_HEX_SIZE], int64_t *size,
                         const char **type, bb_errbuf *eb);

/* ---- Sealed attachment objects ------------------------------------------- */

struct bb_attach_header {
    char device[80];
    char device_key[BB_KEY_ID_SIZE];
    char sha256[BB_SHA256_HEX_SIZE];     /* of the plaintext file */
    int64_t size;                        /* 1 .. BB_ATTACH_MAX_SIZE */
    char type[BB_ATTACH_TYPE_MAX];       /* a bb_media_known type */
    int64_t chunk_size;                  /* BB_ATTACH_CHUNK */
    int64_t chunks;                      /* ceil(size / chunk_size) */
    char created_at[32];
    char hq_key[BB_KEY_ID_SIZE];         /* HQ X25519 key id */
    uint8_t enc[BB_HPKE_ENC_LEN];        /* filled by bb_attach_seal_head */
};

/* Number of chunks for a size (size >= 1). */
int64_t bb_attach_chunk_count(int64_t size, int64_t chunk_size);
/* Plaintext bytes of chunk i (0 when i is out of range). */
size_t bb_attach_chunk_len(const struct bb_attach_header *h, int64_t i);

/*
 * Device: seal the head for hdr (device, device_key, sha256, size, type,
 * created_at and hq_key filled; chunk_size and chunks are set here).  A
 * fresh HPKE encapsulation is made; *head (malloc'd) is the signed head and
 * chunk_key the key its chunks are sealed with.  Keep both (the store's
 * attachments row) so that a resumed upload seals the same bytes.
 */
bb_err bb_attach_seal_head(struct bb_attach_header *hdr, const uint8_t hq_pk[BB_HPKE_PK_LEN],
                           const bb_sign_key *device_key, uint8_t **head, size_t *head_len,
                           uint8_t chunk_key[BB_ATTACH_KEY_LEN], bb_errbuf *eb);

struct bb_attach_view {
    const uint8_t *buf;                  /* the head (and, on a stick, the chunks) */
    size_t head_len;                     /* bytes of the head */
    const uint8_t *header_bytes;
    size_t header_len;
    const uint8_t *sig;
    uint8_t header_digest[32];           /* SHA-256 of header_bytes: the chunks' aad */
    struct bb_attach_header hdr;
    int verified;                        /* set by bb_attach_verify */
};

/* Parse a head from buf (len may be longer: a whole .bba file); no crypto.
 * On failure *v is zeroed. */
bb_err bb_attach_parse(const uint8_t *buf, size_t len, struct bb_attach_view *v,
                       bb_errbuf *eb);

/* The device's signature over the head, with its registered key; the
 * head's device_key must be that key's id. */
bb_err bb_attach_verify(struct bb_attach_view *v, const bb_sign_key *device_pub,
                        bb_errbuf *eb);

/* HQ: the chunk key of a verified head (BB_ERR_STATE when not verified,
 * BB_ERR_CRYPTO when hq_key is not hq_sk's key id). */
bb_err bb_attach_open_key(const struct bb_attach_view *v, const uint8_t hq_sk[BB_HPKE_SK_LEN],
                          uint8_t chunk_key[BB_ATTACH_KEY_LEN], bb_errbuf *eb);

/* Seal plaintext chunk i (pt_len must be bb_attach_chunk_len(h, i)) into
 * out (pt_len + BB_ATTACH_TAG_LEN bytes). */
bb_err bb_attach_chunk_seal(const uint8_t key[BB_ATTACH_KEY_LEN], const uint8_t header_digest[32],
                            const struct bb_attach_header *h, int64_t i, const uint8_t *pt,
                            size_t pt_len, uint8_t *out, bb_errbuf *eb);

/* Open sealed chunk i into out (ct_len - BB_ATTACH_TAG_LEN bytes).  The
 * length must be exactly that chunk's (BB_ERR_INVALID); a bad tag is
 * BB_ERR_CRYPTO and out is wiped. */
bb_err bb_attach_chunk_open(const uint8_t key[BB_ATTACH_KEY_LEN], const uint8_t header_digest[32],
                            const struct bb_attach_header *h, int64_t i, const uint8_t *ct,
                            size_t ct_len, uint8_t *out, bb_errbuf *eb);

/* Byte offset of sealed chunk i in a whole .bba file (after the head). */
int64_t bb_attach_chunk_offset(const struct bb_attach_view *v, int64_t i);

#endif
