/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp state: codes sent, grace entries, FLOOD_WAIT, the daily budget and
 * the Gateway balance last seen;
 * tgotp reset: a user's rate slots and grace entries cleared. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "tgotp.h"

#define LIST_MAX  1000
#define GRACE_MAX 64

static struct tgotp_store *open_state(struct cli *c, const char *what)
{
	if (cli_need_root(what, "the state directory is root-only") < 0 || cli_load_config(c) < 0)
		return NULL;
	return tgotp_store_open(&c->cfg, &c->log);
}

/* One user's rate slots and grace entries, printed or into users. */
static int one_user(struct cli *c, struct tgotp_store *st, const char *user, time_t now,
		    cJSON *users)
{
	static time_t t[LIST_MAX];
	static struct tgotp_grace_entry g[GRACE_MAX];
	cJSON *u, *rate, *times, *grace, *e;
	char a[32], b[32];
	time_t next = now;
	int n = 0, ng = 0, i, bad = 0;

	if (tgotp_store_rate_list(st, user, c->cfg.rate_window, now, t, LIST_MAX, &n) !=
	    TGOTP_STATE_OK)
		bad = 1;
	if (tgotp_store_grace_list(st, user, g, GRACE_MAX, &ng) != TGOTP_STATE_OK)
		bad = 1;
	if (n >= c->cfg.rate_limit && n > 0)
		next = t[n - c->cfg.rate_limit] + c->cfg.rate_window;
	if (!c->json) {
		printf("%s: %d of %ld codes in the last %ld s; next %s%s\n", user, n,
		       c->cfg.rate_limit, c->cfg.rate_window, next > now ? "free at " : "free now",
		       next > now ? cli_time(next, a) : "");
		for (i = 0; i < n && i < LIST_MAX; i++)
			printf("  sent %s\n", cli_time(t[i], a));
		for (i = 0; i < ng; i++)
			printf("  grace %s from %s: verified %s, %s %s\n", g[i].service, g[i].rhost,
			       cli_time(g[i].at, a),
			       g[i].at + c->cfg.grace_period > now ? "until" : "ended",
			       cli_time(g[i].at + c->cfg.grace_period, b));
		return bad;
	}
	u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "user", user);
	rate = cJSON_AddObjectToObject(u, "rate");
	cJSON_AddNumberToObject(rate, "sent", n);
	cJSON_AddNumberToObject(rate, "limit", (double)c->cfg.rate_limit);
	cJSON_AddNumberToObject(rate, "window", (double)c->cfg.rate_window);
	cJSON_AddNumberToObject(rate, "next_free", (double)next);
	times = cJSON_AddArrayToObject(rate, "times");
	for (i = 0; i < n && i < LIST_MAX; i++)
		cJSON_AddItemToArray(times, cJSON_CreateNumber((double)t[i]));
	grace = cJSON_AddArrayToObject(u, "grace");
	for (i = 0; i < ng; i++) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "service", g[i].service);
		cJSON_AddStringToObject(e, "rhost", g[i].rhost);
		cJSON_AddNumberToObject(e, "verified", (double)g[i].at);
		cJSON_AddNumberToObject(e, "expires", (double)(g[i].at + c->cfg.grace_period));
		cJSON_AddItemToArray(grace, e);
	}
	cJSON_AddItemToArray(users, u);
	return bad;
}

static int host(struct cli *c, struct tgotp_store *st, time_t now, cJSON *out)
{
	time_t until = 0;
	long used = 0;
	enum tgotp_verdict f = tgotp_store_flood_check(st, now, &until);
	enum tgotp_verdict b = tgotp_store_budget_used(st, now, &used);
	time_t seen = 0;
	double amount = 0;
	enum tgotp_verdict m = tgotp_state_balance_last(tgotp_store_local(st), &seen, &amount);
	char a[32], day[11];
	cJSON *h, *budget, *balance;

	strftime(day, sizeof(day), "%Y-%m-%d", gmtime(&now));
	if (!c->json) {
		printf("host: %s%s; %ld code%s sent today (%s UTC)",
		       f == TGOTP_STATE_LIMITED ? "FLOOD_WAIT until " : "no FLOOD_WAIT",
		       f == TGOTP_STATE_LIMITED ? cli_time(until, a) : "", used,
		       used == 1 ? "" : "s", day);
		if (c->cfg.daily_budget > 0)
			printf(" of daily_budget %ld\n", c->cfg.daily_budget);
		else
			printf(" (counted only while daily_budget is set)\n");
		if (seen)
			printf("balance: %.4f seen %s%s\n", amount, cli_time(seen, a),
			       amount < c->cfg.balance_warning ? ", below balance_warning" : "");
		else
			printf("balance: none seen (kept only while balance_warning is set)\n");
	} else {
		h = cJSON_AddObjectToObject(out, "host");
		if (f == TGOTP_STATE_LIMITED)
			cJSON_AddNumberToObject(h, "flood_wait_until", (double)until);
		else
			cJSON_AddNullToObject(h, "flood_wait_until");
		budget = cJSON_AddObjectToObject(h, "budget");
		cJSON_AddStringToObject(budget, "day", day);
		cJSON_AddNumberToObject(budget, "used", (double)used);
		cJSON_AddNumberToObject(budget, "limit", (double)c->cfg.daily_budget);
		if (seen) {
			balance = cJSON_AddObjectToObject(h, "balance");
			cJSON_AddNumberToObject(balance, "remaining", amount);
			cJSON_AddNumberToObject(balance, "seen", (double)seen);
			cJSON_AddNumberToObject(balance, "warning", c->cfg.balance_warning);
		} else {
			cJSON_AddNullToObject(h, "balance");
		}
	}
	return (f == TGOTP_STATE_OK || f == TGOTP_STATE_LIMITED) && b == TGOTP_STATE_OK &&
		       m == TGOTP_STATE_OK
		   ? 0
		   : 1;
}

int tgotp_cmd_state(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {"--json", NULL};
	bool set[1] = {false};
	const char *pos[1] = {NULL};
	char account[257], **users = NULL;
	struct tgotp_store *st;
	cJSON *out = NULL, *list = NULL;
	time_t now = time(NULL);
	int n, i, bad = 0;

	if ((n = cli_args(argc, argv, flags, set, NULL, pos, 1)) < 0)
		return EXIT_USAGE;
	c->json = set[0];
	if (!(st = open_state(c, "state")))
		return EXIT_PROBLEM;
	if (c->json) {
		out = cJSON_CreateObject();
		list = cJSON_AddArrayToObject(out, "users");
	}
	if (n == 1) {
		bad = one_user(c, st, cli_account(c, pos[0], account, sizeof(account)), now, list);
	} else if ((users = tgotp_store_users(st))) {
		/* every user is shown, whichever cannot be read */
		for (i = 0; users[i]; i++)
			if (one_user(c, st, users[i], now, list) != 0)
				bad = 1;
		if (!users[0] && !c->json)
			printf("no user has state\n");
	} else {
		bad = 1;
	}
	if (host(c, st, now, out) != 0)
		bad = 1;
	tgotp_state_users_free(users);
	tgotp_store_close(st);
	if (c->json)
		cli_print_json(c, out);
	return bad || c->errors ? EXIT_PROBLEM : 0;
}

int tgotp_cmd_reset(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {NULL};
	const char *pos[1], *user;
	char account[257], field[TGOTP_LOG_FIELD_MAX];
	struct tgotp_store *st;
	bool ok;

	if (cli_args(argc, argv, flags, NULL, NULL, pos, 1) != 1) {
		fprintf(stderr, "usage: tgotp [-c FILE] reset USER\n");
		return EXIT_USAGE;
	}
	if (!(st = open_state(c, "reset")))
		return EXIT_PROBLEM;
	user = cli_account(c, pos[0], account, sizeof(account));
	/* the fleet's records, or nothing: "cleared" while etcd is down would
	 * leave the user locked out once it is back */
	tgotp_store_strict(st);
	ok = tgotp_store_rate_clear(st, user) == TGOTP_STATE_OK;
	ok = tgotp_store_grace_clear(st, user) == TGOTP_STATE_OK && ok;
	/* and what this host counted itself while the store was down */
	ok = ok && tgotp_state_rate_clear(tgotp_store_local(st), user) == TGOTP_STATE_OK &&
	     tgotp_state_grace_clear(tgotp_store_local(st), user) == TGOTP_STATE_OK;
	tgotp_store_close(st);
	openlog("tgotp", LOG_PID, LOG_AUTHPRIV);
	syslog(ok ? LOG_NOTICE : LOG_ERR, "tgotp reset: user=%s uid=%u result=%s",
	       tgotp_log_field(user, field, sizeof(field)), (unsigned)getuid(),
	       ok ? "cleared" : "failed");
	closelog();
	if (!ok) {
		fprintf(stderr,
			"tgotp reset: %s: not cleared (the store did not answer, or the "
			"state is unusable: see the messages above)\n",
			user);
		return EXIT_PROBLEM;
	}
	printf("%s: rate limit and grace entries cleared\n", user);
	return 0;
}
