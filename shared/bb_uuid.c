/* bb_uuid.c — UUIDv7 generation (see bb_uuid.h for the layout). */
#include "bb_uuid.h"
#include "bb_rand.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bb_err bb_uuid7_at(uint64_t unix_ms, char out[BB_UUID_STRLEN + 1])
{
    /* Monotonic within a process: same ms => counter + 1. */
    static uint64_t last_ms;
    static unsigned counter;
    unsigned char b[16];
    bb_err err;

    if ((err = bb_random(b, sizeof b)) != BB_OK)
        return err;
    if (unix_ms <= last_ms) {
        if (++counter > 0xfff) {     /* counter exhausted: borrow the next ms */
            last_ms++;
            counter = 0;
        }
        unix_ms = last_ms;
    } else {
        last_ms = unix_ms;
        counter = b[6] & 0x07;       /* random start leaves room to count up */
    }
    b[0] = (unsigned char)(unix_ms >> 40);
    b[1] = (unsigned char)(unix_ms >> 32);
    b[2] = (unsigned char)(unix_ms >> 24);
    b[3] = (unsigned char)(unix_ms >> 16);
    b[4] = (unsigned char)(unix_ms >> 8);
    b[5] = (unsigned char)unix_ms;
    b[6] = (unsigned char)(0x70 | ((counter >> 8) & 0x0f));
    b[7] = (unsigned char)(counter & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    snprintf(out, BB_UUID_STRLEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
    return BB_OK;
}

bb_err bb_uuid7(char out[BB_UUID_STRLEN + 1])
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return bb_uuid7_at((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, out);
}

bool bb_uuid_valid(const char *s)
{
    size_t i;

    if (strlen(s) != BB_UUID_STRLEN)
        return false;
    for (i = 0; i < BB_UUID_STRLEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                     (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}
