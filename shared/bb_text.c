/* bb_text.c — display width of UTF-8 text (see bb_text.h). */
#include "bb_text.h"

static int is_wide(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
           (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
           (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
}

int bb_text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int w = 0;

    while (*p) {
        unsigned cp;
        int extra;
        if (*p < 0x80) {
            cp = *p;
            extra = 0;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            extra = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            extra = 2;
        } else {
            cp = *p & 0x07;
            extra = 3;
        }
        p++;
        while (extra-- > 0 && (*p & 0xc0) == 0x80)
            cp = (cp << 6) | (*p++ & 0x3f);
        w += is_wide(cp) ? 2 : 1;
    }
    return w;
}

void bb_text_pad(FILE *out, const char *s, int width)
{
    int w = bb_text_width(s);
    fputs(s, out);
    do
        fputc(' ', out);
    while (++w < width);
}
