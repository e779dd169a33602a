/*
 * hq_export_zip — the records export with its attachments: one ZIP holding
 *
 *   beatbook-records.csv          the CSV export, byte for byte
 *   attachments/<sha256><ext>     each file the exported records name and
 *                                 HQ holds (ext from bb_media_ext)
 *   attachments/MANIFEST.json     every attachment named: which records name
 *                                 it, and whether it is in the ZIP or still
 *                                 on its way ("missing") or failed its hash
 *                                 check at HQ ("damaged")
 *
 * Photos and PDFs are already compressed: stored (ZIP_CM_STORE); the CSV
 * and the manifest are deflated.  The ZIP is built with libzip in a
 * temporary file in the data folder (never in memory), which is unlinked
 * once opened: the caller streams it from the descriptor and the space is
 * freed when the descriptor closes, whatever happens to the request.
 * Each file is hashed again before it is added (hq_attfile_open).
 *
 * Errors: BB_ERR_IO / BB_ERR_FULL (the message names the temporary file),
 * BB_ERR_NOMEM, BB_ERR_INTERNAL (libzip's message).
 */
#ifndef HQ_EXPORT_ZIP_H
#define HQ_EXPORT_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "bb_err.h"
#include "hq_home.h"

/*
 * Build the ZIP.  attachments: the array hq_attview_for_records made
 * ([{"sha256","type","size","name","stored","records":[ids]}]).  On success
 * *fd (caller closes) is at offset 0 and *size its length; *included and
 * *missing count the files in it and those that are not.
 */
bb_err hq_export_zip_build(const struct hq_home *h, const char *csv_name, const char *csv,
                           size_t csv_len, const cJSON *attachments, int *fd, int64_t *size,
                           size_t *included, size_t *missing, bb_errbuf *eb);

#endif
