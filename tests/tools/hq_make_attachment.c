/*
 * hq_make_attachment — the device side of one attachment, with the control
 * a test of HQ's refusals needs: a sealed attachment object (.bba: the head,
 * then every chunk) made with a device's key for HQ's X25519 key.
 *
 *   hq_make_attachment DEVICE.key HQ_X25519_BASE64 DEVICE_ID FILE OUT.bba
 *       [--claim CLAIM_FILE]
 *
 * The head names FILE's SHA-256, size and type, and the chunks are FILE's
 * bytes — unless --claim: then the head names CLAIM_FILE (same size) while
 * the chunks carry FILE's bytes, each authenticating under the head: what a
 * device that tries to pass other bytes off under a known hash sends.
 * Prints {"sha256","size","type","chunks","head_len"}.  Exit 0, 64 usage,
 * else the bb_err's status.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb_attach.h"
#include "bb_codec.h"
#include "bb_sign.h"
#include "bb_time.h"

static int fail(bb_err err, const bb_errbuf *eb, const char *what)
{
    fprintf(stderr, "hq_make_attachment: %s: %s\n", what,
            eb->msg[0] ? eb->msg : bb_strerror(err));
    return bb_err_exit_code(err);
}

int main(int argc, char **argv)
{
    struct bb_attach_header h;
    struct bb_attach_view v;
    bb_sign_key *key = NULL;
    uint8_t hq_pk[BB_HPKE_PK_LEN], ckey[BB_ATTACH_KEY_LEN], *head = NULL, *pt, *ct;
    const char *type = NULL, *claim = NULL;
    char now[BB_TIME_MAX];
    size_t head_len = 0, pk_len = 0;
    int64_t size = 0, i;
    bb_errbuf eb = {{0}};
    bb_err err;
    FILE *out;
    int fd, cfd;

    if (argc == 8 && strcmp(argv[6], "--claim") == 0)
        claim = argv[7];
    else if (argc != 6) {
        fputs("usage: hq_make_attachment DEVICE.key HQ_X25519_BASE64 DEVICE_ID FILE OUT.bba "
              "[--claim FILE]\n", stderr);
        return 64;
    }
    if ((err = bb_sign_key_load(&key, argv[1], &eb)) != BB_OK)
        return fail(err, &eb, argv[1]);
    if ((err = bb_base64_decode(argv[2], strlen(argv[2]), hq_pk, sizeof hq_pk, &pk_len, &eb))
        != BB_OK || pk_len != sizeof hq_pk)
        return fail(BB_ERR_USAGE, &eb, "HQ's X25519 key (base64 of 32 bytes)");
    memset(&h, 0, sizeof h);
    snprintf(h.device, sizeof h.device, "%s", argv[3]);
    if ((err = bb_sign_key_id(key, h.device_key, &eb)) != BB_OK ||
        (err = bb_key_id(hq_pk, sizeof hq_pk, h.hq_key, &eb)) != BB_OK)
        return fail(err, &eb, "key ids");
    if ((fd = open(argv[4], O_RDONLY)) < 0 ||
        (cfd = claim ? open(claim, O_RDONLY) : dup(fd)) < 0) {
        perror("open");
        return 66;
    }
    if ((err = bb_attach_hash_fd(cfd, h.sha256, &h.size, &type, &eb)) != BB_OK)
        return fail(err, &eb, "hash");
    close(cfd);
    snprintf(h.type, sizeof h.type, "%s", type ? type : "image/jpeg");
    bb_time_format(bb_time_now(), BB_TAIPEI_OFFSET_MIN, now);
    snprintf(h.created_at, sizeof h.created_at, "%s", now);
    if ((err = bb_attach_seal_head(&h, hq_pk, key, &head, &head_len, ckey, &eb)) != BB_OK ||
        (err = bb_attach_parse(head, head_len, &v, &eb)) != BB_OK)
        return fail(err, &eb, "seal head");
    if (!(out = fopen(argv[5], "wb")) || fwrite(head, 1, head_len, out) != head_len) {
        perror(argv[5]);
        return 73;
    }
    pt = malloc(BB_ATTACH_CHUNK);
    ct = malloc(BB_ATTACH_CHUNK_MAX);
    for (i = 0; i < h.chunks; i++) {
        size_t n = bb_attach_chunk_len(&h, i);
        if (pread(fd, pt, n, (off_t)(i * BB_ATTACH_CHUNK)) != (ssize_t)n) {
            fprintf(stderr, "hq_make_attachment: %s is shorter than %lld bytes\n", argv[4],
                    (long long)h.size);
            return 65;
        }
        if ((err = bb_attach_chunk_seal(ckey, v.header_digest, &h, i, pt, n, ct, &eb)) != BB_OK)
            return fail(err, &eb, "seal chunk");
        if (fwrite(ct, 1, n + BB_ATTACH_TAG_LEN, out) != n + BB_ATTACH_TAG_LEN) {
            perror(argv[5]);
            return 73;
        }
    }
    if (fclose(out) != 0) {
        perror(argv[5]);
        return 73;
    }
    size = h.size;
    printf("{\"sha256\":\"%s\",\"size\":%lld,\"type\":\"%s\",\"chunks\":%lld,\"head_len\":%zu}\n",
           h.sha256, (long long)size, h.type, (long long)h.chunks, head_len);
    free(pt);
    free(ct);
    free(head);
    close(fd);
    bb_sign_key_free(key);
    return 0;
}
