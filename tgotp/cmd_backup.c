/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp backup-codes: a user's backup codes replaced by new ones, shown
 * once; or how many are left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../src/backup.h"
#include "../src/fileio.h"
#include "../src/text.h"
#include "tgotp.h"

#define USAGE "usage: tgotp [-c FILE] backup-codes USER [N] | --count USER\n"

/* N: 1..TGOTP_BACKUP_COUNT_MAX, decimal; -1 when it is not. */
static int how_many(const char *s)
{
	long long n;

	if (!s)
		return 10;
	if (tgotp_parse_decimal(s, strlen(s), TGOTP_BACKUP_COUNT_MAX, &n) < 0 || n < 1)
		return -1;
	return (int)n;
}

static void log_change(const char *user, int n, bool ok)
{
	char field[TGOTP_LOG_FIELD_MAX];

	openlog("tgotp", LOG_PID, LOG_AUTHPRIV);
	syslog(ok ? LOG_NOTICE : LOG_ERR, "tgotp backup-codes: user=%s uid=%u codes=%d result=%s",
	       tgotp_log_field(user, field, sizeof(field)), (unsigned)getuid(), n,
	       ok ? "replaced" : "failed");
	closelog();
}

static int make_codes(struct cli *c, const char *user, int n)
{
	tgotp_backup_code *codes = calloc((size_t)n, sizeof(*codes));
	struct tgotp_state *st = NULL;
	enum tgotp_verdict v = TGOTP_STATE_ERROR;
	int i;

	if (codes && (st = tgotp_state_open(c->cfg.state_dir, &c->log)))
		v = tgotp_backup_replace(st, c->cfg.backup_codes_file, user, n, codes);
	tgotp_state_close(st);
	log_change(user, n, v == TGOTP_STATE_OK);
	if (v == TGOTP_STATE_OK) {
		fprintf(stderr,
			"%s: %d new backup code%s; the old ones no longer work. Each works once.\n",
			user, n, n == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			printf("%s\n", codes[i]);
	}
	tgotp_freezero(codes, codes ? (size_t)n * sizeof(*codes) : 0);
	return v == TGOTP_STATE_OK ? 0 : EXIT_PROBLEM;
}

int tgotp_cmd_backup_codes(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {"--count", NULL};
	bool set[1] = {false};
	const char *pos[2] = {NULL, NULL}, *user;
	char account[257];
	int np, n;

	np = cli_args(argc, argv, flags, set, NULL, pos, 2);
	n = how_many(pos[1]);
	if (np < 1 || (set[0] && np != 1) || n < 0) {
		fprintf(stderr, USAGE "  N: 1 to %d (default 10)\n", TGOTP_BACKUP_COUNT_MAX);
		return EXIT_USAGE;
	}
	if (cli_need_root("backup-codes", "the codes file is root-only") < 0 ||
	    cli_load_config(c) < 0)
		return EXIT_PROBLEM;
	if (!c->cfg.backup_codes_file[0]) {
		fprintf(stderr, "tgotp backup-codes: backup_codes_file is not set in %s\n",
			c->config);
		return EXIT_PROBLEM;
	}
	user = cli_account(c, pos[0], account, sizeof(account));
	if (!set[0])
		return make_codes(c, user, n);
	n = tgotp_backup_count(c->cfg.backup_codes_file, user, &c->log);
	if (n < 0)
		return EXIT_PROBLEM;
	printf("%s: %d backup code%s left\n", user, n, n == 1 ? "" : "s");
	return 0;
}
