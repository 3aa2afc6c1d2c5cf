/* SPDX-License-Identifier: BSD-3-Clause */
/* A code sent and checked from the terminal, step by step, as the module's
 * login does it (pam_tgotp.c): the same limits are taken first, the same
 * Gateway calls made, the same slots given back when nothing was sent. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include "../src/answer.h"
#include "../src/fileio.h"
#include "../src/payload.h"
#include "tgotp.h"

/* "12:00:00.123" of now, local time. */
static const char *now_str(char out[32])
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	snprintf(out, 32, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(tv.tv_usec / 1000));
	return out;
}

static void step(const char *what, enum tgotp_gw_result r, const struct tgotp_status *st)
{
	char t[32];

	printf("%s  %-24s %s", now_str(t), what, tgotp_gw_result_str(r));
	if (st->error[0])
		printf(" error=%s", st->error);
	if (st->request_id[0])
		printf(" request_id=%s", st->request_id);
	if (st->has_cost)
		printf(" cost=%.4f", st->request_cost);
	if (st->has_balance)
		printf(" balance=%.4f", st->remaining_balance);
	if (st->verification != TGOTP_VERIFY_NONE)
		printf(" status=%s", tgotp_verification_str(st->verification));
	printf("\n");
	fflush(stdout);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	char t[32];
	va_list ap;

	printf("%s  ", now_str(t));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The limits a login takes before sending: FLOOD_WAIT, the user's rate
 * slot, the day's budget. */
static int take_slots(struct walk *w)
{
	struct cli *c = w->c;
	time_t now = time(NULL), until;
	long retry = 0;
	enum tgotp_verdict v;

	if (tgotp_store_flood_check(w->state, now, &until) != TGOTP_STATE_OK) {
		cli_say(c, LOG_ERR, "sending is paused (FLOOD_WAIT) or the state is unusable");
		return -1;
	}
	v = tgotp_store_rate_take(w->state, w->user, c->cfg.rate_limit, c->cfg.rate_window, now,
				  &retry);
	if (v == TGOTP_STATE_LIMITED) {
		cli_say(c, LOG_ERR,
			"%s: rate_limit reached (%ld codes per %ld s): next code in %ld s; "
			"tgotp reset %s clears it",
			w->user, c->cfg.rate_limit, c->cfg.rate_window, retry, w->user);
		return -1;
	}
	if (v != TGOTP_STATE_OK)
		return -1;
	w->slot_at = now;
	note("rate limit: a slot of %s taken (rate_limit %ld)", w->user, c->cfg.rate_limit);
	v = tgotp_store_budget_take(w->state, c->cfg.daily_budget, now);
	if (v != TGOTP_STATE_OK) {
		cli_say(c, LOG_ERR, "daily_budget reached, or the state is unusable");
		return -1;
	}
	return 0;
}

static int open_gateway(struct walk *w)
{
	struct tgotp_config *cfg = &w->c->cfg;
	struct tgotp_gw_opts o = {cfg->api_url, NULL, cfg->ca_file, cfg->proxy, cfg->timeout};
	char *token = tgotp_read_secret_line(cfg->token_file, TGOTP_SECRET_TOKEN, &w->c->log);

	if (!token)
		return -1;
	o.token = token;
	w->gw = tgotp_gateway_new(&o, &w->c->log);
	tgotp_strfreezero(token);
	return w->gw ? 0 : -1;
}

/* As the module does: the balance kept for tgotp state, a warning when it
 * is below balance_warning. */
static void watch_balance(struct walk *w, const struct tgotp_status *st)
{
	double warn = w->c->cfg.balance_warning;

	if (warn <= 0 || !st->has_balance)
		return;
	tgotp_state_balance_record(tgotp_store_local(w->state), time(NULL), st->remaining_balance);
	if (st->remaining_balance < warn)
		cli_say(w->c, LOG_WARNING, "low_balance remaining=%.4f balance_warning=%.4f",
			st->remaining_balance, warn);
}

int walk_send(struct walk *w)
{
	struct tgotp_config *cfg = &w->c->cfg;
	struct tgotp_status ability = {0}, st = {0};
	struct tgotp_send_req req = {0};
	struct tgotp_payload_vars vars = {w->service, w->user, NULL, NULL};
	char payload[TGOTP_PAYLOAD_MAX + 1], host[256] = "";
	enum tgotp_gw_result r;

	tgotp_phone_mask(w->phone, w->masked);
	w->state = tgotp_store_open(cfg, &w->c->log);
	if (!w->state || open_gateway(w) < 0 || take_slots(w) < 0)
		return -1;
	if (cfg->check_ability) {
		r = tgotp_gw_check_send_ability(w->gw, w->phone, &ability);
		step("checkSendAbility", r, &ability);
		w->last_gw = r;
		if (r != TGOTP_GW_OK)
			return -1;
		w->charged = true;
	}
	if (gethostname(host, sizeof(host) - 1) == 0)
		host[strcspn(host, ".")] = '\0';
	vars.host = host;
	tgotp_payload_expand(cfg->payload, &vars, payload);
	req.phone_number = w->phone;
	req.request_id = ability.request_id[0] ? ability.request_id : NULL;
	req.sender_username = cfg->sender_username;
	req.callback_url = cfg->callback_url;
	req.payload = payload;
	req.code_length = cfg->code_length;
	req.ttl = cfg->ttl;
	r = tgotp_gw_send(w->gw, &req, &st);
	step("sendVerificationMessage", r, &st);
	w->last_gw = r;
	if (!st.has_balance && ability.has_balance) {
		st.has_balance = true;
		st.remaining_balance = ability.remaining_balance;
	}
	watch_balance(w, &st);
	if (r != TGOTP_GW_OK) {
		/* SECURITY (as the module): a request that left and got no
		 * answer may still have sent a message: the slot stays taken */
		w->charged = w->charged || (st.request_sent && !st.answered);
		return -1;
	}
	memcpy(w->request_id, st.request_id, sizeof(w->request_id));
	w->sent_at = time(NULL);
	note("the code went to %s (valid %ld s)", w->masked, cfg->ttl);
	return 0;
}

/* One line from stdin, echo off when it is a terminal. NULL at the end. */
static char *read_code(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(0) && tcgetattr(0, &old) == 0;
	char *r;

	fputs(prompt, stdout);
	fflush(stdout);
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	r = fgets(buf, (int)len, stdin);
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		putchar('\n');
	}
	if (r)
		buf[strcspn(buf, "\r\n")] = '\0';
	return r;
}

int walk_verify(struct walk *w)
{
	struct tgotp_config *cfg = &w->c->cfg;
	char line[256], code[TGOTP_ANSWER_MAX];
	struct tgotp_status st;
	enum tgotp_gw_result r;
	enum tgotp_answer a;
	long tries;
	int ret = -1;

	for (tries = 1; tries <= cfg->max_tries; tries++) {
		if (!read_code(cfg->prompt, line, sizeof(line))) {
			cli_say(w->c, LOG_ERR, "no code entered");
			break;
		}
		a = tgotp_answer_classify(line, cfg->code_length, code);
		explicit_bzero(line, sizeof(line));
		if (a == TGOTP_ANSWER_EMPTY) {
			cli_say(w->c, LOG_ERR, "no code entered");
			break;
		}
		if (a != TGOTP_ANSWER_CODE) {
			note("not a code of %ld digits: a wrong try", cfg->code_length);
			continue;
		}
		if (time(NULL) - w->sent_at > cfg->ttl) {
			cli_say(w->c, LOG_ERR, "the code expired (ttl %ld s)", cfg->ttl);
			break;
		}
		r = tgotp_gw_check(w->gw, w->request_id, code, &st);
		explicit_bzero(code, sizeof(code));
		step("checkVerificationStatus", r, &st);
		w->last_gw = r;
		if (r == TGOTP_GW_OK && st.verification == TGOTP_VERIFY_CODE_VALID) {
			ret = 0;
			break;
		}
		if (r != TGOTP_GW_CODE_INVALID &&
		    !(r == TGOTP_GW_OK && st.verification == TGOTP_VERIFY_CODE_INVALID))
			break; /* expired, attempts exhausted, unknown, failed */
		if (tries < cfg->max_tries)
			note("wrong code; tries left: %ld", cfg->max_tries - tries);
	}
	return ret;
}

void walk_end(struct walk *w, bool verified)
{
	enum tgotp_gw_result r;

	if (!verified && w->request_id[0] && w->last_gw != TGOTP_GW_UNAVAILABLE) {
		r = tgotp_gw_revoke(w->gw, w->request_id);
		note("revokeVerificationMessage: %s", tgotp_gw_result_str(r));
	}
	/* as the module: the slots go back only when nothing was sent or
	 * charged */
	if (w->slot_at && !w->request_id[0] && !w->charged) {
		tgotp_store_rate_give_back(w->state, w->user, w->slot_at);
		tgotp_store_budget_give_back(w->state, w->slot_at);
	}
	tgotp_gateway_free(w->gw);
	tgotp_store_close(w->state);
}
