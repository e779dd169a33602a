/*
 * bb_text — terminal text helpers for tables that mix Chinese and Latin
 * text: East Asian wide characters take two columns, so padding by bytes
 * (printf "%-20s") misaligns zh-TW tables.
 */
#ifndef BB_TEXT_H
#define BB_TEXT_H

#include <stdio.h>

/* Columns s takes on a terminal (wide CJK characters count 2). */
int bb_text_width(const char *s);

/* Print s to out, then spaces up to `width` columns (at least one space). */
void bb_text_pad(FILE *out, const char *s, int width);

#endif
