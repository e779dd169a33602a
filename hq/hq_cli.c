/*
 * hq_cli.c — helpers the subcommands share (see hq_cli.h).
 */
#include "hq_cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

bb_err hq_usage(bb_errbuf *eb, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return BB_ERR_USAGE;
}

bb_err hq_print_json(const void *cjson_item)
{
    char *text = cJSON_Print((const cJSON *)cjson_item);

    if (!text)
        return BB_ERR_NOMEM;
    puts(text);
    free(text);
    return BB_OK;
}
