/*
 * bb_outbox — the device side of sync, on the laptop's store field.db:
 * the enrollment with HQ, the sealed-batch outbox, receipts, USB export and
 * the purge of acknowledged data (DESIGN.md §4–§6, docs/PROTOCOL.md).
 *
 * Tables (schema/migrations/collector/003_sync.sql): `enrollment` (one row
 * for a store made with `beatbook init --enroll`), `batches` (every sealed
 * batch: bytes, state sealed → acked | rejected, attempts, receipt),
 * `batch_rejects` (records a receipt rejected, with the reason) and
 * `sync_state` (the last run).  A finalized revision waits in `revisions`
 * with batch_seq NULL until bb_outbox_seal() puts it in a batch.
 *
 * Invariants:
 *  - Sealing one batch is one transaction: the batch row with its bytes and
 *    batch_seq on its revisions, or nothing.  seq is 1, 2, 3 ... and `prev`
 *    is the sha256 of the batch before, so HQ can prove completeness.
 *  - A batch is acknowledged only by a receipt whose HQ signature verifies
 *    and whose batch, device, seq and sha256 are this batch's; the receipt
 *    and the state change are stored in one transaction.
 *  - Nothing that HQ has not acknowledged is ever purged, nor any draft.
 *  - The enrollment token is a secret: it is never logged nor put in an
 *    error message, it is wiped from memory, and it is deleted from the
 *    store once registration has succeeded.
 *
 * This module uses the caller's SQLite handle (opened with bb_db_open on
 * the "collector" schema) and never opens or closes it.  It is not tied to
 * a program: the collector (`beatbook seal|export|purge|status`) and the
 * sync daemon (`beatbook-syncd`) both use it; HTTP is the daemon's.
 *
 * Errors: bb_err with a message in eb, in English unless bb_outbox_set_lang
 * (or the _lang variant of the config reader) chose zh-TW.  BB_ERR_STATE "this store is not
 * enrolled: ..." for a store made without an enrollment; BB_ERR_CRYPTO for
 * a receipt or answer whose signature does not verify; BB_ERR_INVALID for
 * one that is malformed or names another batch; BB_ERR_NOTFOUND when there
 * is nothing (more) to send; SQLite errors as bb_db_err translates them.
 */
#ifndef BB_OUTBOX_H
#define BB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "bb_attach.h"
#include "bb_err.h"
#include "bb_lang.h"

struct bb_enrollment;

#define BB_OUTBOX_KEY_FILE  "device.key"   /* in the store folder */
#define BB_OUTBOX_CONF_FILE "syncd.conf"   /* in the store folder, optional */

/* ---- Settings (the config file, shared by beatbook and beatbook-syncd) ---- */

struct bb_outbox_config {
    long interval_s;          /* syncd: seconds between passes (default 300) */
    long retention_days;      /* keep acknowledged data this long (default 30) */
    long batch_max_records;   /* records per batch (default 5000) */
    long batch_max_bytes;     /* bytes of record JSON per batch (default 8 MiB) */
};

void bb_outbox_config_defaults(struct bb_outbox_config *c);

/*
 * Read a config file of `key = value` lines ('#' starts a comment) over
 * the defaults already in *c.  Strict: an unknown key, a key given twice, a
 * value that is not a number in range, or a line without '=' is an error
 * naming the file and line (BB_ERR_CONFIG).  Values may carry a unit:
 * interval 30s / 5m / 1h; batch_max_bytes 512K / 8M.  With missing_ok, a
 * file that does not exist leaves *c as it is.  *c is unchanged on error.
 */
bb_err bb_outbox_config_load(const char *path, int missing_ok, struct bb_outbox_config *c,
                             bb_errbuf *eb);
/* The same, with the messages in lang. */
bb_err bb_outbox_config_load_lang(const char *path, int missing_ok, enum bb_lang lang,
                                  struct bb_outbox_config *c, bb_errbuf *eb);

/* ---- The outbox of one store ---------------------------------------------- */

typedef struct bb_outbox bb_outbox;

/*
 * Attach to an open store (db, borrowed) whose folder is home (where
 * device.key lives).  Reads the device id and the enrollment, if any.
 * Free with bb_outbox_free (wipes the token); NULL is a no-op.
 */
bb_err bb_outbox_open(sqlite3 *db, const char *home, bb_outbox **out, bb_errbuf *eb);
void bb_outbox_free(bb_outbox *ob);

/* The language of the messages this outbox writes from now on (English until set). */
void bb_outbox_set_lang(bb_outbox *ob, enum bb_lang lang);

const char *bb_outbox_device(const bb_outbox *ob);

/* What the device needs to reach HQ.  Owned by the outbox. */
struct bb_outbox_hq {
    const char *url;          /* https://host:port, no trailing slash */
    const char *tls_pin;      /* sha256//<base64>, for CURLOPT_PINNEDPUBLICKEY */
    const char *tls_ca;       /* PEM, or NULL: the system CAs */
    const char *label;
    int registered;           /* HQ has bound device.key to this device */
};

/* NULL for a store that is not enrolled. */
const struct bb_outbox_hq *bb_outbox_hq(const bb_outbox *ob);

/*
 * BB_OK when enrolled; else BB_ERR_STATE with "this store is not enrolled:
 * <why `what` needs it>" in eb (what: who needs it, in the outbox's language).
 */
bb_err bb_outbox_require_enrollment(const bb_outbox *ob, const char *what, bb_errbuf *eb);

/*
 * Store a verified enrollment (bb_enroll_read) and the key id of the new
 * device.key, inside the caller's transaction.
 */
bb_err bb_outbox_save_enrollment(sqlite3 *db, const struct bb_enrollment *e,
                                 const char *device_key_id, bb_errbuf *eb);

/*
 * The signed device registration (FORMATS.md §2) as canonical JSON in
 * *doc.  It holds the token: free it with bb_outbox_secret_free.
 * BB_ERR_STATE when already registered (nothing to send) or the token is gone.
 */
bb_err bb_outbox_registration(bb_outbox *ob, char **doc, size_t *len, bb_errbuf *eb);

/* Wipe and free a string that may hold a secret; NULL is a no-op. */
void bb_outbox_secret_free(char *s);

/*
 * HQ's answer to the registration (len bytes of JSON): verify its signature
 * with HQ's signing key and that it names this device and key; then, in one
 * transaction, mark the store registered and delete the token.
 */
bb_err bb_outbox_registered(bb_outbox *ob, const char *answer, size_t len, bb_errbuf *eb);

/* ---- Sealing ---------------------------------------------------------------- */

struct bb_outbox_sealed {
    long batches;             /* sealed by this call */
    long records;
    int64_t first_seq, last_seq;
};

/*
 * Seal every finalized revision not yet in a batch, in revisions.seq order,
 * into as many batches as the caps of c require (each batch its own
 * transaction, see the invariants above).  Needs the enrollment and
 * device.key.  Nothing to seal is not an error (r->batches == 0).
 */
bb_err bb_outbox_seal(bb_outbox *ob, const struct bb_outbox_config *c,
                      struct bb_outbox_sealed *r, bb_errbuf *eb);

/* ---- Sending ---------------------------------------------------------------- */

struct bb_outbox_batch {
    int64_t seq;
    char batch[37];
    char sha256[65];
    int64_t count;
    long attempts;            /* before this one */
    uint8_t *bytes;           /* the batch file, malloc'd */
    size_t len;
};

/*
 * The first batch in state `sealed` with seq > after_seq (use 0 for the
 * first of all), with its bytes.  BB_ERR_NOTFOUND when there is none.
 * Release with bb_outbox_batch_clear.
 */
bb_err bb_outbox_next_unacked(bb_outbox *ob, int64_t after_seq, struct bb_outbox_batch *b,
                              bb_errbuf *eb);
void bb_outbox_batch_clear(struct bb_outbox_batch *b);

/* How many batches wait in state `sealed`, and their bytes (for progress). */
bb_err bb_outbox_pending(bb_outbox *ob, long *batches, uint64_t *bytes, bb_errbuf *eb);

/*
 * Note an attempt to send batch seq.  With error NULL (call it just before
 * sending): attempts + 1 and the time.  With an error (after a failure):
 * the error and the time, for `beatbook status`.
 */
bb_err bb_outbox_attempt(bb_outbox *ob, int64_t seq, const char *error, bb_errbuf *eb);

struct bb_outbox_ack {
    long merged, duplicates, rejected;   /* per-record results of the receipt */
    int already;                         /* the batch was already acknowledged */
};

/*
 * Accept HQ's receipt (len bytes of JSON) for batch seq: verify its
 * signature with HQ's signing key from the enrollment and that batch,
 * device, seq and sha256 are this batch's and every record is accounted
 * for; then, in one transaction, store it, its rejected records and the
 * state `acked`.  On any failure nothing changes.
 */
bb_err bb_outbox_ack(bb_outbox *ob, int64_t seq, const char *receipt, size_t len,
                     struct bb_outbox_ack *r, bb_errbuf *eb);

/*
 * The same checks as bb_outbox_ack, changing nothing: BB_OK when bb_outbox_ack
 * would accept the receipt now (r->already when the batch is acknowledged).
 * `beatbook import` checks every receipt of a USB stick first, so that it
 * applies all of them or none.
 */
bb_err bb_outbox_ack_check(bb_outbox *ob, int64_t seq, const char *receipt, size_t len,
                           struct bb_outbox_ack *r, bb_errbuf *eb);

/*
 * HQ refused batch seq for good (HTTP `status`): state `rejected` with the
 * plain explanation `reason` shown by `beatbook status`.  Later batches
 * still go.
 */
bb_err bb_outbox_reject(bb_outbox *ob, int64_t seq, int status, const char *reason,
                        bb_errbuf *eb);

/* Note a sync run: its time and error (NULL: it succeeded). */
bb_err bb_outbox_note_run(bb_outbox *ob, const char *error, bb_errbuf *eb);

/* ---- Status reports (docs/FORMATS.md §2, "Laptop status report") ----------- */

#define BB_STATUS_MAX_BYTES 65536     /* a report is at most this big */
#define BB_STATUS_MAX_LIST  200       /* unacked batches / drafts listed, at most */

/*
 * The laptop's signed status report as canonical JSON in *doc (caller
 * frees): records not yet sealed, batches not yet acknowledged (seq and
 * count), open drafts (kind and since when), the last entry, software and
 * reference-bundle versions, the laptop's clock; via is "https" or "usb",
 * software e.g. "beatbook-syncd 0.1.0".  Each report takes the next value
 * of a counter kept in the store (meta "status_counter", one transaction),
 * so HQ can refuse one that is not newer than the last it holds.  Needs the
 * enrollment and device.key.
 */
bb_err bb_outbox_status_doc(bb_outbox *ob, const char *via, const char *software, char **doc,
                            size_t *len, bb_errbuf *eb);

/*
 * Add "v", "device", "device_key", "counter" (the next value of the same
 * counter as status reports) and "clock" to doc and sign it with device.key
 * under context (a request to HQ, e.g. for agreement digests).
 */
bb_err bb_outbox_sign_request(bb_outbox *ob, cJSON *doc, const char *context, bb_errbuf *eb);

/* ---- USB export and purge --------------------------------------------------- */

/*
 * Write every batch in state `sealed` to dir as <device>-<seq, 6 digits>.bbatch,
 * byte-identical to what is POSTed: a temporary name, fsync, rename, fsync
 * of the folder.  While the laptop is not registered with HQ, also write
 * <device>.register.json (the signed registration; it holds the one-time
 * token, mode 0600), which `beatbook-hq import` takes first; and always
 * <device>.status.json, the laptop's signed status report (via "usb").
 * After the batches, every attachment file their records name that HQ has
 * not acknowledged, as <device>-<sha256>.bba (bb_outbox_att_export).
 * *written: how many batch files; *files: how many attachment files.
 */
bb_err bb_outbox_export(bb_outbox *ob, const char *dir, long *written, long *files,
                        bb_errbuf *eb);

struct bb_outbox_purged {
    long batches;             /* acknowledged batches whose bytes were dropped */
    long revisions;           /* local revisions deleted */
    long records;             /* local records deleted (no revision left) */
    long files;               /* attachment files freed */
    uint64_t file_bytes;      /* ... and their bytes */
};

/*
 * Drop what HQ acknowledged more than retention_days before `now` (Unix
 * seconds): the batch bytes, the revisions sealed in those batches, and
 * records left with no revision.  Never a draft, never anything in a batch
 * that is not acknowledged, never the batch row (its sha256 chains the next).
 * One transaction.
 */
bb_err bb_outbox_purge(bb_outbox *ob, long retention_days, int64_t now,
                       struct bb_outbox_purged *r, bb_errbuf *eb);

/* ---- Attachments (docs/FORMATS.md §5, docs/PROTOCOL.md "Attachments") -------- */

/*
 * Files named by records live in <store folder>/attachments/<ab>/<sha256>
 * with a row in `attachments` (schema/migrations/collector/006).  A file is
 * sent after the batch holding a revision that names it, as a sealed
 * attachment object whose head (and chunk key) is made once and kept, so a
 * resumed upload sends the same bytes; it is acknowledged by HQ's signed
 * attachment receipt, and freed by bb_outbox_purge only after that.
 */
struct bb_outbox_att {
    int64_t rowid;                       /* order: the order files were added */
    char sha256[BB_SHA256_HEX_SIZE];
    int64_t size;
    char type[BB_ATTACH_TYPE_MAX];
    char name[BB_ATTACH_NAME_MAX + 1];
    long attempts;
    uint8_t *head;                       /* the sealed head, malloc'd */
    size_t head_len;
    struct bb_attach_view view;          /* parsed head (points into head) */
    uint8_t key[BB_ATTACH_KEY_LEN];      /* chunk key: secret, wiped by clear */
    int fd;                              /* the file, open for reading */
};

/*
 * The next file to send with rowid > after (0 for the first): no receipt,
 * not refused for good, not freed, and named by a revision in a batch that
 * HQ acknowledged (acked_only) or in any batch, sealed or acknowledged (for
 * a USB stick, where the batches travel beside it).  Seals its head the
 * first time (checking that the file still has its hash), in one UPDATE.
 * BB_ERR_NOTFOUND when there is none.  Release with bb_outbox_att_clear.
 */
bb_err bb_outbox_att_next(bb_outbox *ob, int acked_only, int64_t after,
                          struct bb_outbox_att *a, bb_errbuf *eb);
void bb_outbox_att_clear(struct bb_outbox_att *a);

/* Sealed chunk i of a into out (room for BB_ATTACH_CHUNK_MAX), *out_len its length. */
bb_err bb_outbox_att_chunk(const bb_outbox *ob, const struct bb_outbox_att *a, int64_t i,
                           uint8_t *out, size_t *out_len, bb_errbuf *eb);

/*
 * HQ's attachment receipt for sha256: its signature verifies with HQ's
 * signing key and it names this device, file, size and type.  Unless
 * check_only, stores it (one UPDATE; the head and key are dropped).
 * *already: the file was acknowledged before.
 */
bb_err bb_outbox_att_ack(bb_outbox *ob, const char *sha256, const char *receipt, size_t len,
                         int check_only, int *already, bb_errbuf *eb);

/* Note an attempt (error NULL: just before sending) or its error. */
bb_err bb_outbox_att_attempt(bb_outbox *ob, const char *sha256, const char *error,
                             bb_errbuf *eb);

/* HQ refused the file for good: keep the reason for `beatbook status`. */
bb_err bb_outbox_att_refuse(bb_outbox *ob, const char *sha256, const char *reason,
                            bb_errbuf *eb);

/* Files waiting for a receipt and their bytes (for progress and status). */
bb_err bb_outbox_att_pending(bb_outbox *ob, long *files, uint64_t *bytes, bb_errbuf *eb);

/*
 * Write each file bb_outbox_att_next(acked_only = 0) gives to dir as
 * <device>-<sha256>.bba: the head, then every chunk, streamed (memory
 * bounded by one chunk), durably.  Called by bb_outbox_export.
 */
bb_err bb_outbox_att_export(bb_outbox *ob, int dirfd, const char *dir, long *written,
                            bb_errbuf *eb);

/* Inside bb_outbox_purge's transaction: free the files acknowledged at or
 * before cutoff (unlink, then purged_at).  *freed, *bytes: what was freed. */
bb_err bb_outbox_att_purge(bb_outbox *ob, int64_t cutoff, int64_t now, long *freed,
                           uint64_t *bytes, bb_errbuf *eb);

/* The "attachments" member of bb_outbox_summary. */
bb_err bb_outbox_att_summary(sqlite3 *db, cJSON *o, bb_errbuf *eb);

/* ---- Status ----------------------------------------------------------------- */

/*
 * Everything `beatbook status` shows about sync, as a new JSON object
 * (caller cJSON_Deletes): enrollment (never the token), batch counts per
 * state, revisions waiting to be sealed, rejected batches with their
 * reasons, rejected records with theirs, the last run and its error.
 * Works on a read-only handle and on stores older than the outbox.
 */
bb_err bb_outbox_summary(sqlite3 *db, cJSON **out, bb_errbuf *eb);

#endif
