/* SPDX-License-Identifier: BSD-3-Clause */
/* pam_tgotp: Telegram Gateway one-time codes as a second factor.
 *
 * This file holds the PAM entry points and the walk through a login; the
 * parts live in src/ and know nothing about PAM. The return values follow
 * the results table in README.md ("What the module returns"). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "src/answer.h"
#include "src/backup.h"
#include "src/config.h"
#include "src/fileio.h"
#include "src/gateway.h"
#include "src/message.h"
#include "src/modargs.h"
#include "src/netaddr.h"
#include "src/nss.h"
#include "src/payload.h"
#include "src/phone.h"
#include "src/state_limits.h"
#include "src/store.h"
#include "src/text.h"
#include "src/users.h"

/* Built with -fvisibility=hidden: only these two leave the module. */
#define TGOTP_EXPORT __attribute__((visibility("default")))

/* The steps a debug line times (see lap()): make bench's "where the time
 * goes". */
enum step { T_CONFIG, T_LOOKUP, T_STATE, T_CLIENT, T_ABILITY, T_SEND, T_CHECK, T_STEPS };

/* How a login ends. Every step returns GO_ON or one of these; the outcomes
 * table below says what each means. */
enum outcome {
	GO_ON = -1, /* not decided yet: the next step runs */
	OUT_SUCCESS,
	OUT_GRACE,
	OUT_BACKUP_CODE,
	OUT_WRONG_CODE,
	OUT_GW_MAX_ATTEMPTS,
	OUT_EXPIRED,
	OUT_GW_EXPIRED,
	OUT_GW_NO_STATUS,
	OUT_GW_UNKNOWN_STATUS,
	OUT_EMPTY_ANSWER,
	OUT_CONVERSATION_FAILED,
	OUT_PASSWORD_FAILED,
	OUT_DENIED_BY_SSHD,
	OUT_INVALID_USER_NAME,
	OUT_UNMAPPED_DENY,
	OUT_UNMAPPED_IGNORE,
	OUT_UNMAPPED_FALLBACK,
	OUT_NOT_IN_GROUPS,
	OUT_EXEMPT_GROUP,
	OUT_TRUSTED_NETWORK,
	OUT_NO_RUSER,
	OUT_RATE_LIMITED,
	OUT_GATEWAY_UNAVAILABLE,
	OUT_DIRECTORY_UNAVAILABLE,
	OUT_NOT_ON_TELEGRAM,
	OUT_SENDING_REFUSED,
	OUT_GATEWAY_ERROR,
	OUT_CHECK_FAILED,
	OUT_DIRECTORY_REFUSED,
	OUT_NSS_ERROR,
	OUT_STATE_BUSY,
	OUT_FLOOD_WAIT,
	OUT_DAILY_BUDGET,
	OUT_STORE_UNAVAILABLE,
	OUT_BAD_ARGUMENT,
	OUT_CONFIG_ERROR,
	OUT_STATE_ERROR,
	OUT_TOKEN_UNREADABLE,
	OUT_CLIENT_SETUP_FAILED,
};

/* The result of an outcome where nobody answered: failmode decides (see
 * by_failmode()). */
#define BY_FAILMODE (-1)

/* Which of the messages (struct tgotp_messages) the user is told; NONE: no
 * message (offset 0 is the section's enabled flag, never a text). */
#define NONE	      0
#define FAILED	      offsetof(struct tgotp_messages, failed)
#define NOT_AVAILABLE offsetof(struct tgotp_messages, unavailable)
#define BACKUP_PROMPT offsetof(struct tgotp_messages, backup_prompt)
#define CODE_PROMPT   offsetof(struct tgotp_messages, prompt)

/* The contract's results table, one row per outcome. */
static const struct {
	const char *name; /* the outcome= word of the log line */
	int rc;		  /* what the module returns, or BY_FAILMODE */
	int prio;	  /* of the log line */
	size_t msg;	  /* told the user (PAM_ERROR_MSG): FAILED, NOT_AVAILABLE or NONE */
} outcomes[] = {
    [OUT_SUCCESS] = {"success", PAM_SUCCESS, LOG_INFO, NONE},
    [OUT_GRACE] = {"grace", PAM_SUCCESS, LOG_INFO, NONE},
    /* a code that was meant for a bad day: worth a look */
    [OUT_BACKUP_CODE] = {"backup_code", PAM_SUCCESS, LOG_NOTICE, NONE},
    [OUT_WRONG_CODE] = {"wrong_code", PAM_MAXTRIES, LOG_NOTICE, FAILED},
    [OUT_GW_MAX_ATTEMPTS] = {"code_max_attempts_exceeded", PAM_MAXTRIES, LOG_NOTICE, FAILED},
    [OUT_EXPIRED] = {"expired", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    [OUT_GW_EXPIRED] = {"expired", PAM_AUTH_ERR, LOG_NOTICE, FAILED},
    [OUT_GW_NO_STATUS] = {"none", PAM_AUTH_ERR, LOG_NOTICE, FAILED},
    [OUT_GW_UNKNOWN_STATUS] = {"unknown", PAM_AUTH_ERR, LOG_NOTICE, FAILED},
    [OUT_EMPTY_ANSWER] = {"empty_answer", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    [OUT_CONVERSATION_FAILED] = {"conversation_failed", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    [OUT_PASSWORD_FAILED] = {"password_failed", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    [OUT_DENIED_BY_SSHD] = {"denied_by_sshd", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    [OUT_INVALID_USER_NAME] = {"invalid_user_name", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    [OUT_UNMAPPED_DENY] = {"unmapped", PAM_AUTH_ERR, LOG_NOTICE, FAILED},
    [OUT_UNMAPPED_IGNORE] = {"unmapped", PAM_IGNORE, LOG_INFO, NONE},
    [OUT_UNMAPPED_FALLBACK] = {"unmapped", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NONE},
    [OUT_NOT_IN_GROUPS] = {"not_in_groups", PAM_IGNORE, LOG_INFO, NONE},
    [OUT_EXEMPT_GROUP] = {"exempt_group", PAM_IGNORE, LOG_INFO, NONE},
    [OUT_TRUSTED_NETWORK] = {"trusted_network", PAM_IGNORE, LOG_INFO, NONE},
    /* SECURITY: user_source = ruser and nobody to ask (sshd sets no
     * PAM_RUSER): never fall back to asking the target user. */
    [OUT_NO_RUSER] = {"no_ruser", PAM_AUTH_ERR, LOG_NOTICE, NONE},
    /* take_slots() tells the user how long to wait */
    [OUT_RATE_LIMITED] = {"rate_limited", PAM_MAXTRIES, LOG_NOTICE, NONE},
    /* nobody answered */
    [OUT_GATEWAY_UNAVAILABLE] = {"gateway_unavailable", BY_FAILMODE, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_DIRECTORY_UNAVAILABLE] = {"directory_unavailable", BY_FAILMODE, LOG_NOTICE, NOT_AVAILABLE},
    /* SECURITY: somebody answered, or a stranger can cause it by trying
     * logins: never success, whatever failmode. */
    [OUT_NOT_ON_TELEGRAM] = {"not_on_telegram", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_SENDING_REFUSED] = {"sending_refused", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_GATEWAY_ERROR] = {"gateway_error", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_CHECK_FAILED] = {"check_failed", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_DIRECTORY_REFUSED] = {"directory_refused", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE,
			       NOT_AVAILABLE},
    [OUT_NSS_ERROR] = {"nss_error", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_STATE_BUSY] = {"state_busy", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_FLOOD_WAIT] = {"flood_wait", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    [OUT_DAILY_BUDGET] = {"daily_budget", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, NOT_AVAILABLE},
    /* the fleet's store did not answer and when_down = deny: "nobody
     * answered", but the administrator chose deny over failmode */
    [OUT_STORE_UNAVAILABLE] = {"store_unavailable", PAM_AUTHINFO_UNAVAIL, LOG_NOTICE,
			       NOT_AVAILABLE},
    /* the administrator's to fix */
    [OUT_BAD_ARGUMENT] = {"bad_argument", PAM_SERVICE_ERR, LOG_NOTICE, NONE},
    [OUT_CONFIG_ERROR] = {"config_error", PAM_SERVICE_ERR, LOG_NOTICE, NONE},
    [OUT_STATE_ERROR] = {"state_error", PAM_SERVICE_ERR, LOG_NOTICE, NONE},
    [OUT_TOKEN_UNREADABLE] = {"token_unreadable", PAM_SERVICE_ERR, LOG_NOTICE, NONE},
    [OUT_CLIENT_SETUP_FAILED] = {"client_setup_failed", PAM_SERVICE_ERR, LOG_NOTICE, NONE},
};

struct login {
	pam_handle_t *pamh;
	int flags;
	const char *user;   /* the person asked for the code: PAM_USER or PAM_RUSER */
	const char *target; /* PAM_USER under user_source = ruser, else NULL */
	const char *service, *rhost;
	const char *given_user;		       /* user as PAM had it, when NSS named it otherwise */
	char account[TGOTP_USER_NAME_MAX + 1]; /* NSS's own name of the user */
	struct tgotp_config cfg;
	struct tgotp_log log;
	char phone[TGOTP_PHONE_MAX];
	char masked[TGOTP_MASKED_MAX];
	struct tgotp_gateway *gw;
	struct tgotp_store *state;
	time_t slot_at;			  /* when the rate/budget slots were taken, 0 if not */
	char request_id[TGOTP_REQID_MAX]; /* of the sent message, "" before */
	time_t sent_at;
	struct tgotp_status last; /* cost and balance of the send, for the log */
	enum tgotp_gw_result last_gw;
	bool charged;	      /* checkSendAbility took its fee */
	int backup_left;      /* the user's backup codes left once one was checked, else -1 */
	enum outcome instead; /* why Telegram could not be used, when a backup code was
				 asked for instead; else GO_ON */
	struct timespec lap_wall, lap_cpu; /* debug: the end of the last step timed */
	double ms[T_STEPS][2];		   /* debug: wall and CPU ms per step */
};

static double ms_since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Under debug: adds the time since the last lap to step (none when < 0). */
static void lap(struct login *l, int step)
{
	struct timespec w, c;

	if (!l->log.debug)
		return;
	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	if (step >= 0) {
		l->ms[step][0] += ms_since(&l->lap_wall, &w);
		l->ms[step][1] += ms_since(&l->lap_cpu, &c);
	}
	l->lap_wall = w;
	l->lap_cpu = c;
}

static void log_to_pam(void *ctx, int prio, const char *msg)
{
	pam_syslog(ctx, prio, "%s", msg);
}

/* Module arguments. Anything unknown is an error: a typo must never change
 * silently what the module does. */
static int parse_args(struct login *l, int argc, const char **argv, const char **config)
{
	struct tgotp_args a;
	const char *bad;

	if (tgotp_args_parse(argc, argv, &a, &bad) < 0) {
		tgotp_log(&l->log, LOG_ERR, "unknown or invalid module argument \"%s\"", bad);
		return -1;
	}
	l->log.debug = a.debug;
	*config = a.config;
	return 0;
}

/* The message at offset msg of the configured messages, expanded. */
static const char *message(const struct login *l, size_t msg, const struct tgotp_message_vars *v,
			   char out[TGOTP_MESSAGE_OUT_MAX])
{
	static const struct tgotp_message_vars none = {NULL, 0, 0};

	return tgotp_message_expand(
	    *(char *const *)(const void *)((const char *)&l->cfg.messages + msg), v ? v : &none,
	    out, TGOTP_MESSAGE_OUT_MAX);
}

static void say(struct login *l, int style, size_t msg, const struct tgotp_message_vars *v)
{
	char text[TGOTP_MESSAGE_OUT_MAX];

	if (style == PAM_TEXT_INFO && (l->flags & PAM_SILENT))
		return;
	pam_prompt(l->pamh, style, NULL, "%s", message(l, msg, v, text));
}

static const char *result_name(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_AUTH_ERR:
		return "PAM_AUTH_ERR";
	case PAM_MAXTRIES:
		return "PAM_MAXTRIES";
	case PAM_IGNORE:
		return "PAM_IGNORE";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR:
		return "PAM_SERVICE_ERR";
	default:
		return "other";
	}
}

/* Nobody answered (the Gateway or the directory cannot be reached):
 * PAM_AUTHINFO_UNAVAIL, or PAM_SUCCESS under failmode = safe. */
static int by_failmode(struct login *l)
{
	if (l->cfg.failmode != TGOTP_FAIL_SAFE)
		return PAM_AUTHINFO_UNAVAIL;
	/* SECURITY: in a setuid program (sudo, su) the caller controls the
	 * signals (Ctrl-Z past the timeout) and the environment of this
	 * process, so "unreachable" may be their doing: safe mode would be
	 * no second factor at all there. */
	if (getauxval(AT_SECURE)) {
		tgotp_log(&l->log, LOG_WARNING,
			  "failmode = safe is not applied in a setuid program (%s): its caller "
			  "could make the Gateway look unreachable",
			  l->service ? l->service : "-");
		return PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_SUCCESS;
}

/* Tells the user, writes the one log line of a login and returns its
 * PAM result. */
static int finish(struct login *l, enum outcome o)
{
	char cost[64] = "", user[TGOTP_LOG_FIELD_MAX], service[TGOTP_LOG_FIELD_MAX];
	char rhost[TGOTP_LOG_FIELD_MAX], given[TGOTP_LOG_FIELD_MAX + 16] = "";
	char target[TGOTP_LOG_FIELD_MAX], ruser[TGOTP_LOG_FIELD_MAX + 8] = "";
	char backup[96] = "";
	int rc = outcomes[o].rc, prio = outcomes[o].prio;

	if (outcomes[o].msg != NONE)
		say(l, PAM_ERROR_MSG, outcomes[o].msg, NULL);
	if (rc == BY_FAILMODE && (rc = by_failmode(l)) == PAM_SUCCESS)
		prio = LOG_WARNING; /* failmode = safe let the user in without a code */
	if (l->last.has_cost)
		snprintf(cost, sizeof(cost), " request_cost=%.4f", l->last.request_cost);
	if (l->last.has_balance)
		snprintf(cost + strlen(cost), sizeof(cost) - strlen(cost),
			 " remaining_balance=%.4f", l->last.remaining_balance);
	/* Under user_source = ruser: user= is still the account (PAM_USER),
	 * ruser= the person asked, given_ruser= how PAM named them. */
	if (l->target)
		snprintf(ruser, sizeof(ruser), " ruser=%s",
			 tgotp_log_field(l->user, user, sizeof(user)));
	if (l->instead != GO_ON)
		snprintf(backup, sizeof(backup), " telegram=%s", outcomes[l->instead].name);
	if (l->backup_left >= 0)
		snprintf(backup + strlen(backup), sizeof(backup) - strlen(backup),
			 " backup_codes_left=%d", l->backup_left);
	if (l->given_user) {
		strcpy(given, l->target ? " given_ruser=" : " given_user=");
		tgotp_log_field(l->given_user, given + strlen(given),
				sizeof(given) - strlen(given));
	}
	tgotp_log(&l->log, prio,
		  "user=%s%s%s service=%s rhost=%s phone=%s request_id=%s outcome=%s "
		  "result=%s%s%s",
		  l->target ? tgotp_log_field(l->target, target, sizeof(target))
			    : tgotp_log_field(l->user, user, sizeof(user)),
		  ruser, given, tgotp_log_field(l->service, service, sizeof(service)),
		  tgotp_log_field(l->rhost, rhost, sizeof(rhost)), l->masked[0] ? l->masked : "-",
		  l->request_id[0] ? l->request_id : "-", outcomes[o].name, result_name(rc), cost,
		  backup);
	return rc;
}

/* The slots taken for this code go back only when nothing was sent or
 * charged: no checkSendAbility fee was paid, and the request never left or
 * the Gateway answered that it failed.
 * SECURITY: a request that left and got no answer (a timeout) may still
 * have sent a message; a caller who can cause such timeouts (Ctrl-Z under
 * sudo) must still spend their allowance. */
static void give_back_slots(struct login *l, const struct tgotp_status *st)
{
	if (!l->slot_at || l->request_id[0] || l->charged || (st->request_sent && !st->answered))
		return;
	tgotp_store_rate_give_back(l->state, l->user, l->slot_at);
	tgotp_store_budget_give_back(l->state, l->slot_at);
	l->slot_at = 0;
}

/* Maps a failed Gateway call (whose answer is st) to its outcome. */
static enum outcome gateway_failed(struct login *l, enum tgotp_gw_result r,
				   const struct tgotp_status *st)
{
	l->last_gw = r;
	give_back_slots(l, st);
	if (r == TGOTP_GW_REFUSED && st->flood_wait > 0)
		tgotp_store_flood_set(l->state, time(NULL), time(NULL) + st->flood_wait);
	switch (r) {
	case TGOTP_GW_UNDELIVERABLE:
		return OUT_NOT_ON_TELEGRAM;
	case TGOTP_GW_REFUSED:
		/* SECURITY: strangers can provoke these by trying logins; in
		 * safe mode they must not turn into no second factor. */
		return OUT_SENDING_REFUSED;
	case TGOTP_GW_ERROR:
		/* SECURITY: the Gateway answered; whatever made it refuse may
		 * be the caller's doing (the request carries their user name
		 * and host name): never "unreachable", whatever failmode. */
		return OUT_GATEWAY_ERROR;
	default:
		return OUT_GATEWAY_UNAVAILABLE;
	}
}

static bool valid_user_name(const char *user)
{
	size_t n = user ? strlen(user) : 0;

	return n > 0 && n <= TGOTP_USER_NAME_MAX && tgotp_text_printable(user, n, TGOTP_TEXT_LINE);
}

static bool failed_password(pam_handle_t *pamh)
{
	const void *tok = NULL;

	return pam_get_item(pamh, PAM_AUTHTOK, &tok) == PAM_SUCCESS && tok &&
	       strcmp(tok, tgotp_sshd_bad_password) == 0;
}

/* No usable phone number for this user: unmapped decides. */
static enum outcome unmapped(const struct login *l)
{
	switch (l->cfg.unmapped) {
	case TGOTP_UNMAPPED_IGNORE:
		return OUT_UNMAPPED_IGNORE;
	case TGOTP_UNMAPPED_FALLBACK:
		return OUT_UNMAPPED_FALLBACK;
	default:
		return OUT_UNMAPPED_DENY;
	}
}

static void fill_payload(struct login *l, char out[TGOTP_PAYLOAD_MAX + 1])
{
	char host[256] = "";
	struct tgotp_payload_vars v;

	if (gethostname(host, sizeof(host) - 1) == 0)
		host[strcspn(host, ".")] = '\0';
	v.service = l->service;
	v.user = l->target ? l->target : l->user; /* the account the code opens */
	v.host = host;
	v.rhost = l->rhost;
	tgotp_payload_expand(l->cfg.payload, &v, out);
}

/* checkSendAbility (optional) then sendVerificationMessage. */
static enum outcome send_code(struct login *l)
{
	struct tgotp_send_req req = {0};
	struct tgotp_status ability = {0};
	char payload[TGOTP_PAYLOAD_MAX + 1];
	enum tgotp_gw_result r;

	if (l->cfg.check_ability) {
		r = tgotp_gw_check_send_ability(l->gw, l->phone, &ability);
		lap(l, T_ABILITY);
		if (r != TGOTP_GW_OK)
			return gateway_failed(l, r, &ability);
		l->charged = true;
		tgotp_log(&l->log, LOG_DEBUG, "checkSendAbility: request_id=%s",
			  ability.request_id);
	}
	fill_payload(l, payload);
	req.phone_number = l->phone;
	req.request_id = ability.request_id[0] ? ability.request_id : NULL;
	req.sender_username = l->cfg.sender_username;
	req.callback_url = l->cfg.callback_url;
	req.payload = payload;
	req.code_length = l->cfg.code_length;
	req.ttl = l->cfg.ttl;
	r = tgotp_gw_send(l->gw, &req, &l->last);
	lap(l, T_SEND);
	if (!l->last.has_cost && ability.has_cost) {
		l->last.has_cost = true; /* the fee was charged by the check */
		l->last.request_cost = ability.request_cost;
	}
	if (!l->last.has_balance && ability.has_balance) {
		l->last.has_balance = true;
		l->last.remaining_balance = ability.remaining_balance;
	}
	if (r != TGOTP_GW_OK)
		return gateway_failed(l, r, &l->last);
	memcpy(l->request_id, l->last.request_id, sizeof(l->request_id));
	l->sent_at = time(NULL);
	return GO_ON;
}

/* Asks for a code (filled for TGOTP_ANSWER_CODE and TGOTP_ANSWER_BACKUP). */
static enum tgotp_answer read_answer(struct login *l, size_t prompt_msg,
				     char code[TGOTP_ANSWER_MAX])
{
	char *resp = NULL, prompt[TGOTP_MESSAGE_OUT_MAX];
	enum tgotp_answer a = TGOTP_ANSWER_NO_REPLY;

	code[0] = '\0';
	message(l, prompt_msg, NULL, prompt);
	if (pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt) == PAM_SUCCESS && resp)
		a = tgotp_answer_classify(resp, l->cfg.code_length, code);
	tgotp_strfreezero(resp);
	return a;
}

/* A failure of checkVerificationStatus, after the Gateway took the message.
 * SECURITY: whoever has the password can provoke one (stall the process,
 * send a code the Gateway chokes on); in safe mode it must not become a
 * success: it is PAM_AUTHINFO_UNAVAIL whatever failmode. */
static enum outcome check_failed(struct login *l, enum tgotp_gw_result r,
				 const struct tgotp_status *st)
{
	l->last_gw = r;
	if (r == TGOTP_GW_REFUSED && st->flood_wait > 0)
		tgotp_store_flood_set(l->state, time(NULL), time(NULL) + st->flood_wait);
	return OUT_CHECK_FAILED;
}

static enum outcome rate_limited(struct login *l, long retry)
{
	struct tgotp_message_vars v = {NULL, 0, (retry + 59) / 60};

	say(l, PAM_ERROR_MSG, offsetof(struct tgotp_messages, rate_limited), &v);
	return OUT_RATE_LIMITED;
}

/* A backup code, typed at either prompt; a wrong one is GO_ON.
 * SECURITY: each code checked takes one of the user's rate_limit slots,
 * given back when it is right: guessing is limited as sends are. A file
 * or lock that cannot be used is a wrong try (backup.c logs it). */
static enum outcome try_backup(struct login *l, const char *code)
{
	time_t now = time(NULL);
	enum tgotp_backup_result r;
	enum tgotp_verdict v;
	long retry;
	int left;

	if (!l->state || !l->cfg.backup_codes_file[0])
		return GO_ON;
	v = tgotp_store_rate_take(l->state, l->user, l->cfg.rate_limit, l->cfg.rate_window, now,
				  &retry);
	if (v == TGOTP_STATE_LIMITED)
		return rate_limited(l, retry);
	if (v != TGOTP_STATE_OK)
		return GO_ON;
	r = tgotp_backup_use(tgotp_store_local(l->state), l->cfg.backup_codes_file, l->user, code,
			     &left);
	if (r != TGOTP_BACKUP_WRONG)
		tgotp_store_rate_give_back(l->state, l->user, now);
	if (left >= 0)
		l->backup_left = left;
	return r == TGOTP_BACKUP_USED ? OUT_BACKUP_CODE : GO_ON;
}

/* Judges one answer; a wrong code is GO_ON: ask again. */
static enum outcome try_answer(struct login *l, enum tgotp_answer a, const char *code)
{
	struct tgotp_status st;
	enum tgotp_gw_result r;

	switch (a) {
	case TGOTP_ANSWER_EMPTY:
		return OUT_EMPTY_ANSWER;
	case TGOTP_ANSWER_SSHD_DENIED:
		/* sshd will refuse this user anyway (e.g. root under
		 * PermitRootLogin prohibit-password): stop spending tries. */
		return OUT_DENIED_BY_SSHD;
	case TGOTP_ANSWER_MALFORMED:
		return GO_ON; /* a wrong try, without a Gateway call */
	case TGOTP_ANSWER_NO_REPLY:
		return OUT_CONVERSATION_FAILED;
	case TGOTP_ANSWER_BACKUP:
		return try_backup(l, code);
	case TGOTP_ANSWER_CODE:
		if (!l->request_id[0])
			return GO_ON; /* at the backup prompt: no Telegram code was sent */
		break;
	}
	if (time(NULL) - l->sent_at > l->cfg.ttl)
		return OUT_EXPIRED;
	lap(l, -1); /* not the user's typing */
	r = tgotp_gw_check(l->gw, l->request_id, code, &st);
	lap(l, T_CHECK);
	if (r == TGOTP_GW_CODE_INVALID ||
	    (r == TGOTP_GW_OK && st.verification == TGOTP_VERIFY_CODE_INVALID))
		return GO_ON;
	if (r != TGOTP_GW_OK)
		return check_failed(l, r, &st);
	switch (st.verification) {
	case TGOTP_VERIFY_CODE_VALID:
		return OUT_SUCCESS;
	case TGOTP_VERIFY_MAX_ATTEMPTS: /* the Gateway's attempt limit: tries ran out */
		return OUT_GW_MAX_ATTEMPTS;
	case TGOTP_VERIFY_EXPIRED:
		return OUT_GW_EXPIRED;
	case TGOTP_VERIFY_NONE:
		return OUT_GW_NO_STATUS;
	default: /* a status we do not know: never success */
		return OUT_GW_UNKNOWN_STATUS;
	}
}

/* Asks for the code up to max_tries times. */
static enum outcome verify_code(struct login *l, size_t prompt_msg)
{
	char code[TGOTP_ANSWER_MAX];
	struct tgotp_message_vars v = {NULL, 0, 0};
	long tries;
	enum outcome o;

	for (tries = 1;; tries++) {
		o = try_answer(l, read_answer(l, prompt_msg, code), code);
		explicit_bzero(code, sizeof(code));
		if (o != GO_ON)
			return o;
		if (tries >= l->cfg.max_tries)
			break;
		v.n = l->cfg.max_tries - tries;
		say(l, PAM_ERROR_MSG, offsetof(struct tgotp_messages, wrong), &v);
	}
	return OUT_WRONG_CODE;
}

/* Finds the user's number. */
static enum outcome resolve_phone(struct login *l)
{
	switch (tgotp_users_lookup(&l->cfg, l->user, l->phone, &l->log)) {
	case TGOTP_LOOKUP_FOUND:
		tgotp_phone_mask(l->phone, l->masked);
		return GO_ON;
	case TGOTP_LOOKUP_NOT_FOUND:
		return unmapped(l);
	case TGOTP_LOOKUP_UNAVAILABLE:
		return OUT_DIRECTORY_UNAVAILABLE;
	case TGOTP_LOOKUP_REFUSED:
		/* SECURITY: an answer can be provoked (lock the service
		 * account): never "unreachable", whatever failmode. */
		return OUT_DIRECTORY_REFUSED;
	default:
		return OUT_CONFIG_ERROR;
	}
}

/* SECURITY: one account, one name. sshd hands PAM the name the client
 * typed; with a case-insensitive directory "Alice" logs in as alice, and
 * must share alice's number, groups, rate limit and grace. A name NSS does
 * not know is used as given (sshd already refuses such users). */
static enum outcome canonicalise_user(struct login *l)
{
	switch (tgotp_canonical_user(l->user, l->account, sizeof(l->account), &l->log)) {
	case 0:
		return GO_ON;
	case 1:
		if (strcmp(l->account, l->user) != 0) {
			l->given_user = l->user;
			l->user = l->account;
		}
		return GO_ON;
	default:
		return OUT_NSS_ERROR;
	}
}

/* Under user_source = ruser the person asked is PAM_RUSER, the caller of
 * su or sudo: their number, groups, rate limit and grace. SECURITY: without
 * a PAM_RUSER (sshd sets none) nobody is asked, never the target user,
 * whose number would let the caller's accomplice approve. */
static enum outcome choose_person(struct login *l)
{
	const void *item = NULL;

	if (l->cfg.user_source != TGOTP_SOURCE_RUSER)
		return GO_ON;
	l->target = l->user;
	l->user = NULL;
	if (pam_get_item(l->pamh, PAM_RUSER, &item) != PAM_SUCCESS || !item || !*(const char *)item)
		return OUT_NO_RUSER;
	if (!valid_user_name(item))
		return OUT_INVALID_USER_NAME;
	l->user = item;
	return GO_ON;
}

/* Everything before a code is sent. */
static enum outcome prepare(struct login *l, int argc, const char **argv)
{
	const char *config;
	const void *item = NULL;
	enum outcome o;

	if (parse_args(l, argc, argv, &config) < 0)
		return OUT_BAD_ARGUMENT;
	lap(l, -1);
	if (pam_get_item(l->pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		l->service = item;
	if (pam_get_item(l->pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		l->rhost = item;
	if (pam_get_user(l->pamh, &l->user, NULL) != PAM_SUCCESS || !valid_user_name(l->user)) {
		l->user = NULL;
		return OUT_INVALID_USER_NAME;
	}
	if (tgotp_config_load(config, &l->cfg, &l->log) < 0)
		return OUT_CONFIG_ERROR;
	lap(l, T_CONFIG);
	if (failed_password(l->pamh))
		return OUT_PASSWORD_FAILED;
	/* SECURITY: a literal address only; sshd's UseDNS would let whoever
	 * runs the client's reverse zone name it after a trusted address. */
	if (tgotp_addr_in_networks(l->rhost, l->cfg.trusted_networks, l->cfg.ntrusted_networks))
		return OUT_TRUSTED_NETWORK;
	if ((o = choose_person(l)) != GO_ON || (o = canonicalise_user(l)) != GO_ON)
		return o;
	/* When NSS cannot tell, the user is asked for a code. */
	if (l->cfg.ngroups > 0 &&
	    tgotp_user_in_groups(l->user, l->cfg.groups, l->cfg.ngroups, &l->log) == 0)
		return OUT_NOT_IN_GROUPS;
	if (l->cfg.nexempt_groups > 0 &&
	    tgotp_user_exempt(l->user, l->cfg.exempt_groups, l->cfg.nexempt_groups, &l->log))
		return OUT_EXEMPT_GROUP;
	return resolve_phone(l);
}

/* The state directory, and the grace period of a recent verified login. */
static enum outcome open_state(struct login *l)
{
	enum tgotp_verdict v = TGOTP_STATE_OK;
	bool grace = false;

	l->state = tgotp_store_open(&l->cfg, &l->log);
	if (!l->state)
		return OUT_STATE_ERROR;
	if (l->cfg.grace_period > 0)
		v = tgotp_store_grace_check(l->state, l->user, l->service, l->rhost, time(NULL),
					    l->cfg.grace_period, &grace);
	/* SECURITY: a lock held past its deadline (the line before names it)
	 * may be a local user's stopped sudo: whatever failmode, that must not
	 * let anyone in without a code. */
	if (v == TGOTP_STATE_BUSY)
		return OUT_STATE_BUSY;
	if (v == TGOTP_STATE_UNAVAILABLE)
		return OUT_STORE_UNAVAILABLE;
	if (v != TGOTP_STATE_OK)
		return OUT_STATE_ERROR;
	return grace ? OUT_GRACE : GO_ON;
}

/* Whether a code may be sent now: FLOOD_WAIT pause, codes per user, codes
 * per day. The slots are taken before sending so that concurrent logins
 * cannot overshoot; they are given back when nothing gets sent. */
static enum outcome take_slots(struct login *l)
{
	time_t now = time(NULL), until;
	long retry;
	enum tgotp_verdict v;

	v = tgotp_store_flood_check(l->state, now, &until);
	if (v == TGOTP_STATE_LIMITED)
		return OUT_FLOOD_WAIT;
	if (v == TGOTP_STATE_OK)
		v = tgotp_store_rate_take(l->state, l->user, l->cfg.rate_limit, l->cfg.rate_window,
					  now, &retry);
	if (v == TGOTP_STATE_LIMITED)
		return rate_limited(l, retry);
	if (v == TGOTP_STATE_OK) {
		l->slot_at = now;
		v = tgotp_store_budget_take(l->state, l->cfg.daily_budget, now);
	}
	if (v != TGOTP_STATE_OK && l->slot_at) {
		/* nothing will be sent: a held host-wide lock must not use
		 * up everyone's rate_limit as well */
		tgotp_store_rate_give_back(l->state, l->user, now);
		l->slot_at = 0;
	}
	if (v == TGOTP_STATE_LIMITED)
		return OUT_DAILY_BUDGET;
	if (v == TGOTP_STATE_BUSY)
		return OUT_STATE_BUSY;
	if (v == TGOTP_STATE_UNAVAILABLE)
		return OUT_STORE_UNAVAILABLE;
	return v == TGOTP_STATE_OK ? GO_ON : OUT_STATE_ERROR;
}

static enum outcome open_gateway(struct login *l)
{
	struct tgotp_gw_opts o;
	char *token = tgotp_read_secret_line(l->cfg.token_file, TGOTP_SECRET_TOKEN, &l->log);

	if (!token)
		return OUT_TOKEN_UNREADABLE;
	o.api_url = l->cfg.api_url;
	o.token = token;
	o.ca_file = l->cfg.ca_file;
	o.proxy = l->cfg.proxy;
	o.timeout = l->cfg.timeout;
	l->gw = tgotp_gateway_new(&o, &l->log);
	tgotp_strfreezero(token);
	return l->gw ? GO_ON : OUT_CLIENT_SETUP_FAILED;
}

/* Whether Telegram cannot be used for this login in a way that a backup
 * code may stand in for: no number, not on Telegram, no sending from this
 * host (budget, FLOOD_WAIT), or nobody answering where that does not let
 * the user in anyway (failmode). */
static bool telegram_unusable(const struct login *l, enum outcome o)
{
	switch (o) {
	case OUT_UNMAPPED_DENY:
	case OUT_UNMAPPED_FALLBACK:
	case OUT_NOT_ON_TELEGRAM:
	case OUT_DAILY_BUDGET:
	case OUT_FLOOD_WAIT:
	case OUT_SENDING_REFUSED: /* BALANCE_NOT_ENOUGH, the first FLOOD_WAIT_n */
	case OUT_GATEWAY_ERROR:	  /* the Gateway refused us (a revoked token) */
		return true;
	case OUT_GATEWAY_UNAVAILABLE:
	case OUT_DIRECTORY_UNAVAILABLE:
		return l->cfg.failmode != TGOTP_FAIL_SAFE || getauxval(AT_SECURE);
	default:
		return false;
	}
}

/* The backup prompt, when Telegram cannot be used (outcome o) and the user
 * has backup codes left; else o stays. */
static enum outcome backup_instead(struct login *l, enum outcome o)
{
	int n;

	if (!l->cfg.backup_codes_file || !l->cfg.backup_codes_file[0] || !telegram_unusable(l, o))
		return o;
	if (!l->state && !(l->state = tgotp_store_open(&l->cfg, &l->log)))
		return o;
	n = tgotp_backup_count(l->cfg.backup_codes_file, l->user, &l->log);
	if (n <= 0)
		return o;
	tgotp_log(&l->log, LOG_DEBUG,
		  "Telegram cannot be used (%s): asking for one of %d backup codes",
		  outcomes[o].name, n);
	l->instead = o;
	return verify_code(l, BACKUP_PROMPT);
}

/* SECURITY: an empty account turns every login into PAM_AUTHINFO_UNAVAIL;
 * the administrator must hear of it before. */
static void watch_balance(struct login *l)
{
	if (l->cfg.balance_warning <= 0 || !l->last.has_balance)
		return;
	if (l->state)
		tgotp_state_balance_record(tgotp_store_local(l->state), time(NULL),
					   l->last.remaining_balance);
	if (l->last.remaining_balance < l->cfg.balance_warning)
		tgotp_log(&l->log, LOG_WARNING, "low_balance remaining=%.4f balance_warning=%.4f",
			  l->last.remaining_balance, l->cfg.balance_warning);
}

TGOTP_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct login l;
	enum outcome o;
	int rc;

	memset(&l, 0, sizeof(l));
	l.pamh = pamh;
	l.flags = flags;
	l.log.fn = log_to_pam;
	l.log.ctx = pamh;
	l.backup_left = -1;
	l.instead = GO_ON;
	o = prepare(&l, argc, argv);
	lap(&l, T_LOOKUP);
	if (o == GO_ON)
		o = open_state(&l);
	lap(&l, T_STATE);
	if (o == GO_ON)
		o = open_gateway(&l);
	lap(&l, T_CLIENT);
	if (o == GO_ON)
		o = take_slots(&l);
	lap(&l, T_STATE);
	if (o == GO_ON)
		o = send_code(&l);
	if (o == GO_ON) {
		struct tgotp_message_vars v = {l.masked, 0, 0};
		say(&l, PAM_TEXT_INFO, offsetof(struct tgotp_messages, sent), &v);
		o = verify_code(&l, CODE_PROMPT);
	}
	watch_balance(&l);
	o = backup_instead(&l, o);
	rc = finish(&l, o);
	tgotp_log(&l.log, LOG_DEBUG,
		  "timing ms (wall/cpu): config=%.2f/%.2f lookup=%.2f/%.2f state=%.2f/%.2f "
		  "client=%.2f/%.2f ability=%.2f/%.2f send=%.2f/%.2f check=%.2f/%.2f",
		  l.ms[0][0], l.ms[0][1], l.ms[1][0], l.ms[1][1], l.ms[2][0], l.ms[2][1],
		  l.ms[3][0], l.ms[3][1], l.ms[4][0], l.ms[4][1], l.ms[5][0], l.ms[5][1],
		  l.ms[6][0], l.ms[6][1]);
	/* A code that can no longer be used (or was not needed: a backup code
	 * was) should not stay on the phone; skipped when the Gateway just
	 * failed (it would only add a timeout). */
	if ((rc != PAM_SUCCESS || o == OUT_BACKUP_CODE) && l.request_id[0] &&
	    l.last_gw != TGOTP_GW_UNAVAILABLE)
		tgotp_gw_revoke(l.gw, l.request_id);
	if ((o == OUT_SUCCESS || o == OUT_BACKUP_CODE) && l.cfg.grace_period > 0)
		tgotp_store_grace_record(l.state, l.user, l.service, l.rhost, time(NULL));
	tgotp_gateway_free(l.gw);
	tgotp_store_close(l.state);
	tgotp_config_free(&l.cfg); /* safe on a zeroed or half-loaded one */
	explicit_bzero(&l, sizeof(l));
	return rc;
}

TGOTP_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
