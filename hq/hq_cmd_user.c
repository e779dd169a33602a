/*
 * hq_cmd_user.c — `beatbook-hq user add | list | disable | enable | password
 * | token`: the people who sign in to the review UI and the API (hq_auth.h).
 *
 * A password never comes from the command line (it would sit in the shell
 * history and in `ps`): it is read from --password-file (its first line) or
 * asked for twice on the terminal with echo off.  It is hashed with argon2id
 * at once and wiped from memory.  A token is printed once and only its hash
 * is kept.
 */
#include "hq_auth.h"
#include "hq_cli.h"
#include "hq_home.h"
#include "hq_store.h"
#include "bb_db.h"
#include "bb_json.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#define LABEL_MAX 100

static void help(FILE *out)
{
    fputs("usage: beatbook-hq user add --name NAME --role hq|precinct [--org CODE]\n"
          "                            [--password-file FILE] [--data DIR]\n"
          "       beatbook-hq user list [--json] [--data DIR]\n"
          "       beatbook-hq user disable NAME | user enable NAME [--data DIR]\n"
          "       beatbook-hq user password NAME [--password-file FILE] [--data DIR]\n"
          "       beatbook-hq user token NAME [--label TEXT] [--days N] [--data DIR]\n"
          "\n"
          "add       a reviewer of the web UI: role hq sees every unit and reviews\n"
          "          quarantine; role precinct (a precinct admin) sees only org unit CODE\n"
          "          and the units under it (see: beatbook ref units)\n"
          "list      users, roles, org units, last sign-in\n"
          "disable   refuse the user's sign-ins; ends its sessions and API tokens\n"
          "enable    let a disabled user sign in again\n"
          "password  set a new password (ends the user's sessions and revokes its API tokens)\n"
          "token     print a new API token for the user (Authorization: Bearer TOKEN);\n"
          "          valid N days (default 30, at most 366); shown once, stored hashed\n"
          "\n"
          "The password is read from the first line of FILE, or asked for twice on the\n"
          "terminal; never give it on the command line.  At least 10 characters.\n",
          out);
}

/* ---- reading a password ------------------------------------------------------ */

static bb_err read_password_file(const char *path, char *pw, size_t size, bb_errbuf *eb)
{
    char buf[HQ_PASSWORD_MAX + 4];
    ssize_t n;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return bb_fail(eb, errno == ENOENT ? BB_ERR_NOTFOUND : BB_ERR_IO,
                       "read the password file %s: %s", path, strerror(errno));
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return bb_fail(eb, BB_ERR_IO, "read the password file %s: %s", path, strerror(errno));
    buf[n] = '\0';
    len = strcspn(buf, "\r\n");
    if (len > HQ_PASSWORD_MAX) {
        mbedtls_platform_zeroize(buf, sizeof buf);
        return bb_fail(eb, BB_ERR_USAGE, "the password in %s is longer than %d bytes", path,
                       HQ_PASSWORD_MAX);
    }
    buf[len] = '\0';
    snprintf(pw, size, "%s", buf);
    mbedtls_platform_zeroize(buf, sizeof buf);
    return BB_OK;
}

/* One line from the terminal with echo off. */
static bb_err ask(FILE *tty, const char *prompt, char *pw, size_t size, bb_errbuf *eb)
{
    struct termios old, quiet;
    int fd = fileno(tty), restored;
    char *got;

    fputs(prompt, tty);
    fflush(tty);
    if (tcgetattr(fd, &old) != 0)
        return bb_fail(eb, BB_ERR_IO, "password: cannot read the terminal settings");
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return bb_fail(eb, BB_ERR_IO, "password: cannot turn echo off");
    got = fgets(pw, (int)size, tty);
    restored = tcsetattr(fd, TCSAFLUSH, &old) == 0;
    if (!got || !restored)
        return bb_fail(eb, BB_ERR_IO, "password: nothing was read from the terminal");
    pw[strcspn(pw, "\r\n")] = '\0';
    return BB_OK;
}

static bb_err get_password(const char *file, char *pw, size_t size, bb_errbuf *eb)
{
    char again[HQ_PASSWORD_MAX + 8];
    FILE *tty;
    bb_err err;

    if (file)
        err = read_password_file(file, pw, size, eb);
    else if (!isatty(STDIN_FILENO) || !(tty = fopen("/dev/tty", "r+")))
        return hq_usage(eb, "no terminal to ask for the password on: give --password-file "
                        "FILE (its first line; never the password itself on the command "
                        "line)");
    else {
        err = ask(tty, "password: ", pw, size, eb);
        if (err == BB_OK && hq_auth_check_password(pw, NULL) == BB_OK)
            err = ask(tty, "password again: ", again, sizeof again, eb);
        if (err == BB_OK && hq_auth_check_password(pw, NULL) == BB_OK && strcmp(pw, again) != 0)
            err = bb_fail(eb, BB_ERR_USAGE, "the two passwords differ; nothing was changed");
        mbedtls_platform_zeroize(again, sizeof again);
        fclose(tty);
    }
    if (err == BB_OK)
        err = hq_auth_check_password(pw, eb);
    if (err != BB_OK)
        mbedtls_platform_zeroize(pw, size);
    return err;
}

/* ---- the store ---------------------------------------------------------------- */

static bb_err open_store(const char *data, struct hq_home *h, sqlite3 **db, bb_errbuf *eb)
{
    char dir[HQ_PATH_MAX];
    bb_err err;

    *db = NULL;
    if ((err = hq_home_dir(data, dir, eb)) != BB_OK ||
        (err = hq_home_open(h, dir, HQ_HOME_CONF | HQ_HOME_CATALOG, eb)) != BB_OK)
        return err;
    if ((err = hq_store_open(h->db_path, 0, db, eb)) != BB_OK)
        hq_home_close(h);
    return err;
}

static void close_store(struct hq_home *h, sqlite3 *db)
{
    bb_db_close(db);
    hq_home_close(h);
}

/* ---- commands ------------------------------------------------------------------ */

static bb_err cmd_add(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"role", required_argument, NULL, 'r'},
        {"org", required_argument, NULL, 'o'},
        {"password-file", required_argument, NULL, 'p'},
        {"password", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *name = NULL, *role_s = NULL, *org = NULL, *pwfile = NULL;
    char pw[HQ_PASSWORD_MAX + 8], hash[HQ_PW_HASH_MAX];
    enum hq_role role;
    struct hq_home h;
    sqlite3 *db;
    bb_err err;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'n': name = optarg; break;
        case 'r': role_s = optarg; break;
        case 'o': org = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'P':
            return hq_usage(eb, "a password is never given on the command line: use "
                            "--password-file FILE, or leave it out to be asked");
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if (!name)
        return hq_usage(eb, "--name NAME is required");
    if ((err = hq_auth_check_name(name, eb)) != BB_OK)
        return hq_usage(eb, "--name: %.200s", eb->msg);
    if (!role_s || hq_role_parse(role_s, &role) != BB_OK)
        return hq_usage(eb, "--role must be hq (HQ reviewer, every unit) or precinct "
                        "(precinct admin, with --org CODE)");
    if (role == HQ_ROLE_PRECINCT && !org)
        return hq_usage(eb, "--role precinct needs --org CODE (the admin's precinct)");
    if (role == HQ_ROLE_HQ && org)
        return hq_usage(eb, "--role hq sees every unit: give no --org");
    if ((err = open_store(data, &h, &db, eb)) != BB_OK)
        return err;
    if (org && !bb_catalog_ref(h.cat, "units", org)) {
        close_store(&h, db);
        return hq_usage(eb, "--org \"%.40s\": no such org unit (see: beatbook ref units)", org);
    }
    if ((err = get_password(pwfile, pw, sizeof pw, eb)) == BB_OK) {
        err = hq_auth_hash_password(pw, hash, eb);
        mbedtls_platform_zeroize(pw, sizeof pw);
        if (err == BB_OK)
            err = hq_user_add(db, h.cat, name, role, org, hash, eb);
        mbedtls_platform_zeroize(hash, sizeof hash);
    }
    if (err == BB_OK)
        printf("user %s added: %s%s\n", name,
               role == HQ_ROLE_HQ ? "HQ reviewer (every unit)" : "precinct admin of ",
               role == HQ_ROLE_HQ || !org ? "" : org);
    close_store(&h, db);
    return err;
}

static bb_err cmd_list(int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    struct hq_user *list = NULL;
    struct hq_home h;
    sqlite3 *db;
    size_t n = 0, i;
    int json = 0, c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return hq_usage(eb, "unexpected argument \"%s\"", argv[optind]);
    if ((err = open_store(data, &h, &db, eb)) != BB_OK)
        return err;
    if ((err = hq_user_list(db, &list, &n, eb)) == BB_OK) {
        if (json) {
            cJSON *a = cJSON_CreateArray();
            for (i = 0; a && i < n; i++) {
                cJSON *o = cJSON_CreateObject();
                if (!o || !cJSON_AddItemToArray(a, o) ||
                    !cJSON_AddStringToObject(o, "name", list[i].name) ||
                    !cJSON_AddStringToObject(o, "role", hq_role_name(list[i].role)) ||
                    !(list[i].org[0] ? cJSON_AddStringToObject(o, "org", list[i].org)
                                     : cJSON_AddNullToObject(o, "org")) ||
                    !cJSON_AddBoolToObject(o, "disabled", list[i].disabled) ||
                    !cJSON_AddStringToObject(o, "created_at", list[i].created_at) ||
                    !(list[i].last_signin[0]
                          ? cJSON_AddStringToObject(o, "last_signin", list[i].last_signin)
                          : cJSON_AddNullToObject(o, "last_signin"))) {
                    cJSON_Delete(a);
                    a = NULL;
                }
            }
            err = a ? hq_print_json(a) : bb_fail(eb, BB_ERR_NOMEM, "user list: out of memory");
            cJSON_Delete(a);
        } else if (n == 0) {
            puts("no users yet (add one: beatbook-hq user add --name NAME --role hq)");
        } else {
            printf("%-20s %-9s %-9s %-9s %s\n", "name", "role", "org", "state", "last sign-in");
            for (i = 0; i < n; i++)
                printf("%-20s %-9s %-9s %-9s %s\n", list[i].name, hq_role_name(list[i].role),
                       list[i].org[0] ? list[i].org : "-",
                       list[i].disabled ? "disabled" : "active",
                       list[i].last_signin[0] ? list[i].last_signin : "never");
        }
    }
    free(list);
    close_store(&h, db);
    return err;
}

/* disable, enable, password, token: one NAME argument. */
static bb_err cmd_one(const char *verb, int argc, char **argv, bb_errbuf *eb)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"password-file", required_argument, NULL, 'p'},
        {"label", required_argument, NULL, 'l'},
        {"days", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *pwfile = NULL, *label = "";
    char pw[HQ_PASSWORD_MAX + 8], hash[HQ_PW_HASH_MAX], token[HQ_SECRET_MAX], *end;
    struct hq_home h;
    sqlite3 *db;
    long days = 30;
    int c;
    bb_err err;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'l': label = optarg; break;
        case 'D':
            errno = 0;
            days = strtol(optarg, &end, 10);
            if (errno || *end || days < 1 || days > HQ_TOKEN_DAYS_MAX)
                return hq_usage(eb, "--days: a number from 1 to %d", HQ_TOKEN_DAYS_MAX);
            break;
        case 'h': help(stdout); return BB_OK;
        default: return hq_usage(eb, "unknown or incomplete option");
        }
    }
    if (optind + 1 != argc)
        return hq_usage(eb, "user %s takes one user NAME", verb);
    if (pwfile && strcmp(verb, "password") != 0)
        return hq_usage(eb, "--password-file is for user add and user password");
    if (strcmp(verb, "token") != 0 && (label[0] || days != 30))
        return hq_usage(eb, "--label and --days are for user token");
    if (bb_utf8_length(label) < 0 || bb_utf8_length(label) > LABEL_MAX)
        return hq_usage(eb, "--label: at most %d characters of UTF-8 text", LABEL_MAX);
    if ((err = open_store(data, &h, &db, eb)) != BB_OK)
        return err;
    if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
        int off = verb[0] == 'd';
        if ((err = hq_user_set_disabled(db, argv[optind], off, eb)) == BB_OK)
            printf("user %s %s\n", argv[optind], off ? "disabled (sessions and API tokens "
                   "ended)" : "enabled");
    } else if (strcmp(verb, "password") == 0) {
        struct hq_user u;
        if ((err = hq_user_get(db, argv[optind], &u, eb)) == BB_OK &&
            (err = get_password(pwfile, pw, sizeof pw, eb)) == BB_OK) {
            err = hq_auth_hash_password(pw, hash, eb);
            mbedtls_platform_zeroize(pw, sizeof pw);
            if (err == BB_OK)
                err = hq_user_set_password(db, u.name, hash, eb);
            mbedtls_platform_zeroize(hash, sizeof hash);
            if (err == BB_OK)
                printf("user %s: new password set (sessions ended, API tokens revoked)\n", u.name);
        }
    } else {
        if ((err = hq_token_create(db, argv[optind], label, (int)days, token, eb)) == BB_OK) {
            printf("%s\n", token);
            if (isatty(STDOUT_FILENO))
                fprintf(stderr, "API token for %s, valid %ld days; shown only now "
                        "(send it as: Authorization: Bearer TOKEN)\n", argv[optind], days);
        }
        mbedtls_platform_zeroize(token, sizeof token);
    }
    close_store(&h, db);
    return err;
}

/* disable, enable, password and token share their options and checks. */
static bb_err cmd_disable(int argc, char **argv, bb_errbuf *eb)
{
    return cmd_one("disable", argc, argv, eb);
}

static bb_err cmd_enable(int argc, char **argv, bb_errbuf *eb)
{
    return cmd_one("enable", argc, argv, eb);
}

static bb_err cmd_password(int argc, char **argv, bb_errbuf *eb)
{
    return cmd_one("password", argc, argv, eb);
}

static bb_err cmd_token(int argc, char **argv, bb_errbuf *eb)
{
    return cmd_one("token", argc, argv, eb);
}

bb_err hq_cmd_user(int argc, char **argv, bb_errbuf *eb)
{
    static const struct hq_verb verbs[] = {
        {"add", cmd_add},         {"list", cmd_list},         {"disable", cmd_disable},
        {"enable", cmd_enable},   {"password", cmd_password}, {"token", cmd_token},
    };
    return hq_dispatch("user", verbs, sizeof verbs / sizeof verbs[0], help, argc, argv, eb);
}
