/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp: argument parsing, dispatch, and what the subcommands share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/nss.h"
#include "tgotp.h"

static const char usage_text[] =
    "usage: tgotp [-c FILE] check [--online] [--json] [--pam-dir DIR] [--sshd-config FILE]\n"
    "       tgotp [-c FILE] lookup USER [--full] [--json]\n"
    "       tgotp [-c FILE] test USER\n"
    "       tgotp [-c FILE] enroll USER PHONE\n"
    "       tgotp [-c FILE] state [USER] [--json]\n"
    "       tgotp [-c FILE] reset USER\n"
    "       tgotp [-c FILE] backup-codes USER [N] | --count USER\n"
    "       tgotp --version | --help\n"
    "\n"
    "  -c FILE   the configuration (default " TGOTP_DEFAULT_CONFIG ")\n"
    "  check     validate everything the module would read; --online also\n"
    "            asks the Gateway whether the token is accepted and binds to LDAP;\n"
    "            --pam-dir: the stacks (default /etc/pam.d); --sshd-config: for sshd -T\n"
    "  lookup    where USER's number comes from, masked (--full: whole)\n"
    "  test      a real login from the terminal: a code is sent and asked for\n"
    "  enroll    send a code to PHONE; once it is entered, map USER to PHONE\n"
    "            in users_file\n"
    "  state     codes sent, grace entries, FLOOD_WAIT, the daily budget and\n"
    "            the Gateway balance last seen\n"
    "  reset     clear USER's rate limit and grace entries\n"
    "  backup-codes  replace USER's backup codes with N (default 10) new ones,\n"
    "            shown once; --count: how many are left\n"
    "\n"
    "Exit status: 0 all well, 1 a problem was found or the action failed, 2 usage.\n";

static void route(void *ctx, int prio, const char *msg)
{
	struct cli *c = ctx;
	cJSON *line;
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s%s", c->prefix, msg);
	if (c->held) {
		line = cJSON_CreateObject();
		if (line && cJSON_AddNumberToObject(line, "prio", prio) &&
		    cJSON_AddStringToObject(line, "msg", buf))
			cJSON_AddItemToArray(c->held, line);
		else
			cJSON_Delete(line);
		return;
	}
	if (prio <= LOG_ERR)
		c->errors++;
	else if (prio == LOG_WARNING)
		c->warnings++;
	if (prio <= LOG_WARNING) {
		fprintf(stderr, "%s\n", buf);
		if (c->json)
			cJSON_AddItemToArray(prio <= LOG_ERR ? c->err : c->warn,
					     cJSON_CreateString(buf));
	} else if (!c->json) {
		printf("%s\n", buf);
	}
}

void cli_say(struct cli *c, int prio, const char *fmt, ...)
{
	char buf[1536], keep[sizeof(c->prefix)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(keep, c->prefix, sizeof(keep));
	c->prefix[0] = '\0';
	route(c, prio, buf);
	memcpy(c->prefix, keep, sizeof(keep));
}

/* Whether arg is flag; a flag ending in '=' takes a value, written
 * "--flag=V" or "--flag V". */
static bool flag_matches(const char *flag, const char *arg)
{
	size_t n = strlen(flag);

	if (n > 0 && flag[n - 1] == '=')
		return strncmp(arg, flag, n) == 0 ||
		       (strncmp(arg, flag, n - 1) == 0 && !arg[n - 1]);
	return strcmp(arg, flag) == 0;
}

int cli_args(int argc, char **argv, const char *const *flags, bool *set, const char **vals,
	     const char **pos, int npos)
{
	int i, j, n = 0;
	size_t fl;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			for (j = 0; flags[j] && !flag_matches(flags[j], argv[i]); j++)
				;
			if (!flags[j]) {
				fprintf(stderr, "tgotp %s: unknown option %s\n%s", argv[0], argv[i],
					usage_text);
				return -1;
			}
			set[j] = true;
			fl = strlen(flags[j]);
			if (flags[j][fl - 1] != '=')
				continue;
			if (argv[i][fl - 1] == '=') {
				vals[j] = argv[i] + fl;
			} else if (i + 1 < argc) {
				vals[j] = argv[++i];
			} else {
				fprintf(stderr, "tgotp %s: %s needs a value\n", argv[0], argv[i]);
				return -1;
			}
		} else if (n < npos) {
			pos[n++] = argv[i];
		} else {
			fprintf(stderr, "tgotp %s: too many arguments\n%s", argv[0], usage_text);
			return -1;
		}
	}
	return n;
}

void cli_replay(struct cli *c, cJSON *held)
{
	cJSON *line;

	cJSON_ArrayForEach(line, held)
	{
		cJSON *prio = cJSON_GetObjectItem(line, "prio"),
		      *msg = cJSON_GetObjectItem(line, "msg");
		if (cJSON_IsNumber(prio) && cJSON_IsString(msg))
			cli_say(c, prio->valueint, "%s", msg->valuestring);
	}
}

int cli_need_root(const char *what, const char *why)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "tgotp: %s needs root (%s)\n", what, why);
	return -1;
}

int cli_load_config(struct cli *c)
{
	if (tgotp_config_load(c->config, &c->cfg, &c->log) < 0)
		return -1;
	c->cfg_loaded = true;
	return 0;
}

const char *cli_account(struct cli *c, const char *user, char *buf, size_t len)
{
	if (tgotp_canonical_user(user, buf, len, &c->log) == 1)
		return buf;
	return user;
}

const char *cli_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

void cli_print_json(struct cli *c, cJSON *obj)
{
	char *s;

	if (!obj)
		return;
	cJSON_AddItemToObject(obj, "errors", c->err);
	cJSON_AddItemToObject(obj, "warnings", c->warn);
	c->err = c->warn = NULL;
	s = cJSON_Print(obj);
	if (s)
		printf("%s\n", s);
	free(s);
	cJSON_Delete(obj);
}

static const struct {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
} commands[] = {
    {"check", tgotp_cmd_check},
    {"lookup", tgotp_cmd_lookup},
    {"test", tgotp_cmd_test},
    {"enroll", tgotp_cmd_enroll},
    {"state", tgotp_cmd_state},
    {"reset", tgotp_cmd_reset},
    {"backup-codes", tgotp_cmd_backup_codes},
};

int main(int argc, char **argv)
{
	struct cli c;
	size_t i;
	int a = 1, rc = EXIT_USAGE;

	memset(&c, 0, sizeof(c));
	c.config = TGOTP_DEFAULT_CONFIG;
	c.log.fn = route;
	c.log.ctx = &c;
	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[a], "--version") == 0 || strcmp(argv[a], "-V") == 0) {
			printf("tgotp " TGOTP_VERSION "\n");
			return 0;
		} else if (strcmp(argv[a], "-c") == 0 && a + 1 < argc) {
			c.config = argv[++a];
		} else if (strncmp(argv[a], "--config=", 9) == 0) {
			c.config = argv[a] + 9;
		} else {
			fprintf(stderr, "tgotp: unknown option %s\n%s", argv[a], usage_text);
			return EXIT_USAGE;
		}
	}
	if (a >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[a], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "tgotp: unknown command %s\n%s", argv[a], usage_text);
		return EXIT_USAGE;
	}
	c.err = cJSON_CreateArray();
	c.warn = cJSON_CreateArray();
	if (!c.err || !c.warn) {
		fprintf(stderr, "tgotp: out of memory\n");
		rc = EXIT_PROBLEM;
	} else {
		rc = commands[i].run(&c, argc - a, argv + a);
	}
	cJSON_Delete(c.err);
	cJSON_Delete(c.warn);
	if (c.cfg_loaded)
		tgotp_config_free(&c.cfg);
	fflush(stdout);
	return rc;
}
