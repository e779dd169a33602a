/*
 * bb_lang — the two languages of labels and messages: zh-TW (the default)
 * and English.
 *
 * Modules that write messages for people take an enum bb_lang and pick the
 * text with BB_L(lang, "English", "中文"), so that both format strings stay
 * literals the compiler checks against their arguments.  Parsing a language
 * name and picking a catalog label are bb_catalog's (bb_lang_parse,
 * bb_lang_from_locale, bb_label).
 */
#ifndef BB_LANG_H
#define BB_LANG_H

enum bb_lang { BB_LANG_ZH = 0, BB_LANG_EN = 1 };

/* The text for lang: en for English, zh for zh-TW. */
#define BB_L(lang, en, zh) ((lang) == BB_LANG_EN ? (en) : (zh))

#endif
