/*
 * hq_cli.c — helpers the subcommands share (see hq_cli.h).
 */
#include "hq_cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

bb_err hq_dispatch(const char *command, const struct hq_verb *verbs, size_t n,
                   void (*help)(FILE *out), int argc, char **argv, bb_errbuf *eb)
{
    const char *verb = argc > 1 ? argv[1] : NULL;
    char names[200];
    size_t i, used = 0;

    names[0] = '\0';
    for (i = 0; i < n && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                 i == 0 ? "" : i + 1 == n ? " or " : ", ", verbs[i].name);
    if (!verb)
        return hq_usage(eb, "%s what? %s", command, names);
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        help(stdout);
        return BB_OK;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(verb, verbs[i].name) == 0) {
            optind = 0;   /* glibc: the verb's getopt_long starts afresh */
            return verbs[i].fn(argc - 1, argv + 1, eb);
        }
    }
    return hq_usage(eb, "unknown %s command \"%.40s\": %s", command, verb, names);
}
