/*
 * col_record — building, checking and saving one record on the laptop.
 *
 * Every way an officer makes or changes a record goes through here: the
 * `add`/`edit` arguments (FIELD=VALUE), the terminal form (col_prompt.c)
 * and the forms page (`beatbook ui`, col_ui.c).  So a value typed on the
 * command line, at a prompt or into the page is turned into the same JSON by
 * the same code (bb_record_coerce), checked by the same rules
 * (bb_record_validate, which HQ runs again on ingest) and saved the same way:
 * one transaction, committed with synchronous=FULL before the caller says
 * "saved".
 *
 * Errors: bb_err with the message, in the officer's language, in eb.
 */
#ifndef COL_RECORD_H
#define COL_RECORD_H

#include <cjson/cJSON.h>
#include "bb_plan.h"
#include "col_cli.h"
#include "col_store.h"

/* True for the envelope keys a person may set besides a kind's fields:
 * occurred_at, location, org_unit. */
int col_record_is_envelope_key(const char *name);

/*
 * A fresh record of kind k made on this laptop now: a new UUIDv7, the
 * store's device, officer and unit, occurred_at = recorded_at = now, the
 * catalog's kind version (kind_version) and an empty data object.  status is
 * "draft" (rev 0) or "final" (rev 1).  *out is the caller's to cJSON_Delete.
 */
bb_err col_record_new(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                      const char *status, int rev, cJSON **out, bb_errbuf *eb);

/*
 * Set one field (or envelope key) of rec from typed-in text: coerced and
 * range-checked as bb_record_coerce does.  An empty value removes an
 * optional field.  An unknown name fails with the list of the kind's fields.
 */
bb_err col_record_assign(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                         const char *name, const char *value, bb_errbuf *eb);

/*
 * For an attachment field, VALUE is "@PATH" (or "@PATH1,@PATH2"): each file
 * is taken into the store (col_attach.h) and appended to the field, so a
 * repeated FIELD=@PATH adds files; "" removes the field.
 */

/* Set attachment field `name` to value (an array as the forms page sends
 * it, checked as bb_record_check_field does; null or [] removes it). */
bb_err col_record_assign_files(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                               const char *name, const cJSON *value, bb_errbuf *eb);

/* The same for one "FIELD=VALUE" argument. */
bb_err col_record_assign_arg(struct col_ctx *ctx, const struct bb_kind *k, cJSON *rec,
                             const char *arg, bb_errbuf *eb);

/*
 * A kind dated by one of its own fields (occurred_at_from: a patrol by
 * started_at) happened when that field says, unless occurred_at was given.
 */
void col_record_anchor(const struct bb_kind *k, cJSON *rec, int occurred_given);

/* Replace obj[key] with a string / a number. */
void col_record_set_string(cJSON *obj, const char *key, const char *value);
void col_record_set_number(cJSON *obj, const char *key, double value);

/*
 * Validate rec (envelope, fields, the kind's rules) and store it in a
 * transaction of its own; expect_rev is the revision being replaced (-1 for
 * a new record; see col_store_put).  Prints nothing.  On BB_OK the record
 * is on disk.
 */
bb_err col_record_save(struct col_ctx *ctx, col_store *st, cJSON *rec, long expect_rev,
                       bb_errbuf *eb);

/*
 * Store rec (validated) inside the caller's transaction: col_store_put and
 * the index of the attachments it names (col_attach_index).  Every save
 * comes through here.
 */
bb_err col_record_put(struct col_ctx *ctx, col_store *st, const cJSON *rec, long expect_rev,
                      bb_errbuf *eb);

/*
 * Load a record to revise (edit, void, end a patrol): only a record this
 * device made, and not a void one (BB_ERR_STATE otherwise, with the reason).
 * *rec is the current state (caller cJSON_Deletes), *rev its revision (the
 * expect_rev of the save).
 */
bb_err col_record_load_for_revision(struct col_ctx *ctx, col_store *st, const char *idref,
                                    cJSON **rec, long *rev, bb_errbuf *eb);

/* After an edit: a draft stays a draft (rev 0), a final record gets rev + 1;
 * recorded_at is now. */
void col_record_next_revision(struct col_ctx *ctx, cJSON *rec, long rev);

/*
 * Turn rec, loaded at *rev, into its void revision: status "void", the
 * reason, rev + 1 (a draft's void is rev 1), recorded_at now.  *rev becomes
 * the expect_rev to save with (0 for a draft).
 */
void col_record_make_void(struct col_ctx *ctx, cJSON *rec, long *rev, const char *reason);

/*
 * End an open patrol (a draft, rev 0): ended_at now unless it has one,
 * status "final", rev 1, recorded_at now.  Save with expect_rev 0.
 */
void col_record_end_draft(struct col_ctx *ctx, cJSON *rec);

/*
 * "已儲存 交通事故 01a2…（待同步）" — the one line said after a save, in the
 * officer's language; out gets at most n bytes.
 */
void col_record_saved_line(struct col_ctx *ctx, const cJSON *rec, char *out, size_t n);

/*
 * The plan whose KPIs this laptop's records feed: HQ's, from the synced
 * reference bundle, else the newest built into the binary (col_report.c).
 * *from says which, in the officer's language.  Free with bb_plan_free.
 */
bb_err col_load_plan(struct col_ctx *ctx, col_store *st, bb_plan **out, const char **from,
                     bb_errbuf *eb);

/*
 * The terminal form (col_prompt.c): ask the questions of rec's kind in
 * order, on stdin/stdout, then show the whole record and ask
 * "儲存？[Y/n/修改欄位號碼]".  Questions already answered (by FIELD=VALUE
 * arguments) are not asked again unless `edit` is set, when every question
 * is asked with the current value as its default.  page limits the questions
 * to one page of the kind (a patrol's "start" or "end"); NULL asks all.
 * BB_OK: rec is complete and the officer said save; BB_ERR_USAGE: input
 * ended or the officer said no (nothing is saved).
 */
bb_err col_prompt_form(struct col_ctx *ctx, col_store *st, const struct bb_kind *k,
                       cJSON *rec, const char *page, int edit, bb_errbuf *eb);

/* A numbered menu of the kinds on the terminal; *out is the chosen one. */
bb_err col_prompt_kind(struct col_ctx *ctx, const struct bb_kind **out, bb_errbuf *eb);

#endif
