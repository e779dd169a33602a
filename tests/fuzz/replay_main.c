/*
 * replay_main — runs a libFuzzer target without libFuzzer: main() feeds
 * every regular file of the directories (or files) named on the command
 * line to LLVMFuzzerTestOneInput, once each, in name order.
 *
 * `make fuzz-replay` (run by `make test`, so by `make check` and, sanitized,
 * by `make asan`) links each tests/fuzz/fuzz_<name>.c with this file using
 * the build's own compiler and flags and replays its committed seed corpus
 * tests/fuzz/corpus/<name>/: a
 * change that makes a parser crash, leak or trip a check on a seed fails
 * the build without clang.  A target reports a failed check by abort(),
 * which ends this program with SIGABRT: the name of the input is printed
 * before it is run.
 *
 * Prints "fuzz replay: <target> <n> inputs ok" on success.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT ((size_t)4 * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;
    struct stat st;

    if (!f) {
        fprintf(stderr, "fuzz replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        (size_t)st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "fuzz replay: %s: not a readable input under %zu bytes\n",
                path, REPLAY_MAX_INPUT);
        fclose(f);
        return -1;
    }
    /* Exactly the file's size, so a read past the input is caught under ASan. */
    buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) {
        fclose(f);
        return -1;
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    if (n != (size_t)st.st_size || ferror(f)) {
        fprintf(stderr, "fuzz replay: %s: short read\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    if (getenv("FUZZ_REPLAY_VERBOSE"))
        fprintf(stderr, "fuzz replay: running %s\n", path);
    LLVMFuzzerTestOneInput(n ? buf : NULL, n);
    free(buf);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every regular file of dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    long count = 0;

    if (!d) {
        fprintf(stderr, "fuzz replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
            break;
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (i = 0; i < n; i++) {
        struct stat st;
        if (count >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0)
                count = -1;
            else
                count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
    long total = 0;
    int i;

    name = name ? name + 1 : (argc > 0 ? argv[0] : "fuzz");
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR_OR_FILE...\n", name);
        return 64;
    }
    for (i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz replay: %s: %s\n", argv[i], strerror(errno));
            return 66;
        }
        n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0)
            return 66;
        total += n;
    }
    printf("fuzz replay: %s %ld inputs ok\n", name, total);
    return 0;
}
