/* pam_tgotp: Telegram Gateway one-time codes as a second factor.
 *
 * This file holds the PAM entry points and the walk through a login; the
 * parts live in src/ and know nothing about PAM. The return values follow
 * the results table in README.md ("What the module returns"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "src/answer.h"
#include "src/config.h"
#include "src/fileio.h"
#include "src/gateway.h"
#include "src/nss.h"
#include "src/payload.h"
#include "src/phone.h"
#include "src/state.h"
#include "src/users.h"

/* Built with -fvisibility=hidden: only these two leave the module. */
#define TGOTP_EXPORT __attribute__((visibility("default")))

#define USER_NAME_MAX 256

struct login {
	pam_handle_t *pamh;
	int flags;
	const char *user, *service, *rhost;
	const char *given_user;		 /* as PAM had it, when NSS named it otherwise */
	char account[USER_NAME_MAX + 1]; /* NSS's own name of the user */
	struct tgotp_config cfg;
	bool cfg_loaded;
	struct tgotp_log log;
	char phone[TGOTP_PHONE_MAX];
	char masked[TGOTP_MASKED_MAX];
	struct tgotp_gateway *gw;
	struct tgotp_state *state;
	time_t slot_at;			  /* when the rate/budget slots were taken, 0 if not */
	char request_id[TGOTP_REQID_MAX]; /* of the sent message, "" before */
	time_t sent_at;
	struct tgotp_status last; /* cost and balance of the send, for the log */
	const char *outcome;
	enum tgotp_gw_result last_gw;
	bool charged; /* checkSendAbility took its fee */
};

static void log_to_pam(void *ctx, int prio, const char *msg)
{
	pam_syslog(ctx, prio, "%s", msg);
}

/* Module arguments. Anything unknown is an error: a typo must never change
 * silently what the module does. */
static int parse_args(struct login *l, int argc, const char **argv, const char **config)
{
	int i;

	*config = TGOTP_DEFAULT_CONFIG;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "debug") == 0)
			l->log.debug = true;
		else if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] == '/')
			*config = argv[i] + 7;
		else {
			tgotp_log(&l->log, LOG_ERR, "unknown or invalid module argument \"%s\"",
				  argv[i]);
			return -1;
		}
	}
	return 0;
}

static void say(struct login *l, int style, const char *msg)
{
	if (style == PAM_TEXT_INFO && (l->flags & PAM_SILENT))
		return;
	pam_prompt(l->pamh, style, NULL, "%s", msg);
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

/* The one log line of a login. */
static int finish(struct login *l, int rc, const char *outcome)
{
	char cost[64] = "", user[TGOTP_LOG_FIELD_MAX], service[TGOTP_LOG_FIELD_MAX];
	char rhost[TGOTP_LOG_FIELD_MAX], given[TGOTP_LOG_FIELD_MAX + 16] = "";
	int prio = rc == PAM_SUCCESS || rc == PAM_IGNORE ? LOG_INFO : LOG_NOTICE;

	if (!l->outcome)
		l->outcome = outcome;
	if (rc == PAM_SUCCESS && strcmp(l->outcome, "success") != 0 &&
	    strcmp(l->outcome, "grace") != 0)
		prio = LOG_WARNING; /* failmode = safe let the user in without a code */
	if (l->last.has_cost)
		snprintf(cost, sizeof(cost), " request_cost=%.4f", l->last.request_cost);
	if (l->last.has_balance)
		snprintf(cost + strlen(cost), sizeof(cost) - strlen(cost),
			 " remaining_balance=%.4f", l->last.remaining_balance);
	if (l->given_user) {
		strcpy(given, " given_user=");
		tgotp_log_field(l->given_user, given + strlen(given),
				sizeof(given) - strlen(given));
	}
	tgotp_log(&l->log, prio,
		  "user=%s%s service=%s rhost=%s phone=%s request_id=%s outcome=%s "
		  "result=%s%s",
		  tgotp_log_field(l->user, user, sizeof(user)), given,
		  tgotp_log_field(l->service, service, sizeof(service)),
		  tgotp_log_field(l->rhost, rhost, sizeof(rhost)), l->masked[0] ? l->masked : "-",
		  l->request_id[0] ? l->request_id : "-", l->outcome, result_name(rc), cost);
	return rc;
}

/* Telegram cannot be used for this login, whatever failmode: the user is
 * told so, and the stack may fall back (PAM_AUTHINFO_UNAVAIL). */
static int not_available(struct login *l, const char *outcome)
{
	say(l, PAM_ERROR_MSG, "Telegram verification is not available.");
	return finish(l, PAM_AUTHINFO_UNAVAIL, outcome);
}

/* The Gateway or the directory cannot be reached: failmode decides. */
static int unavailable(struct login *l, const char *outcome)
{
	say(l, PAM_ERROR_MSG, "Telegram verification is not available.");
	if (l->cfg.failmode != TGOTP_FAIL_SAFE)
		return finish(l, PAM_AUTHINFO_UNAVAIL, outcome);
	/* SECURITY: in a setuid program (sudo, su) the caller controls the
	 * signals (Ctrl-Z past the timeout) and the environment of this
	 * process, so "unreachable" may be their doing: safe mode would be
	 * no second factor at all there. */
	if (getauxval(AT_SECURE)) {
		tgotp_log(&l->log, LOG_WARNING,
			  "failmode = safe is not applied in a setuid program (%s): its caller "
			  "could make the Gateway look unreachable",
			  l->service ? l->service : "-");
		return finish(l, PAM_AUTHINFO_UNAVAIL, outcome);
	}
	return finish(l, PAM_SUCCESS, outcome);
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
	tgotp_state_rate_give_back(l->state, l->user, l->slot_at);
	tgotp_state_budget_give_back(l->state, l->slot_at);
	l->slot_at = 0;
}

/* Maps a failed Gateway call (whose answer is st) to the contract's result. */
static int gateway_failed(struct login *l, enum tgotp_gw_result r, const struct tgotp_status *st)
{
	l->last_gw = r;
	give_back_slots(l, st);
	if (r == TGOTP_GW_REFUSED && st->flood_wait > 0)
		tgotp_state_flood_set(l->state, time(NULL) + st->flood_wait);
	switch (r) {
	case TGOTP_GW_UNDELIVERABLE:
		return not_available(l, "not_on_telegram");
	case TGOTP_GW_REFUSED:
		/* SECURITY: strangers can provoke these by trying logins; in
		 * safe mode they must not turn into no second factor. */
		return not_available(l, "sending_refused");
	case TGOTP_GW_ERROR:
		/* SECURITY: the Gateway answered; whatever made it refuse may
		 * be the caller's doing (the request carries their user name
		 * and host name): never "unreachable", whatever failmode. */
		return not_available(l, "gateway_error");
	default:
		return unavailable(l, "gateway_unavailable");
	}
}

static bool valid_user_name(const char *user)
{
	size_t i, n = user ? strlen(user) : 0;

	if (n == 0 || n > USER_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return false;
	return true;
}

static bool failed_password(pam_handle_t *pamh)
{
	const void *tok = NULL;

	return pam_get_item(pamh, PAM_AUTHTOK, &tok) == PAM_SUCCESS && tok &&
	       strcmp(tok, tgotp_sshd_bad_password) == 0;
}

/* No usable phone number for this user: unmapped decides. */
static int unmapped(struct login *l)
{
	switch (l->cfg.unmapped) {
	case TGOTP_UNMAPPED_IGNORE:
		return finish(l, PAM_IGNORE, "unmapped");
	case TGOTP_UNMAPPED_FALLBACK:
		return finish(l, PAM_AUTHINFO_UNAVAIL, "unmapped");
	default:
		say(l, PAM_ERROR_MSG, "Telegram verification failed.");
		return finish(l, PAM_AUTH_ERR, "unmapped");
	}
}

static void fill_payload(struct login *l, char out[TGOTP_PAYLOAD_MAX + 1])
{
	char host[256] = "";
	struct tgotp_payload_vars v;

	if (gethostname(host, sizeof(host) - 1) == 0)
		host[strcspn(host, ".")] = '\0';
	v.service = l->service;
	v.user = l->user;
	v.host = host;
	v.rhost = l->rhost;
	tgotp_payload_expand(l->cfg.payload, &v, out);
}

/* checkSendAbility (optional) then sendVerificationMessage. Returns -1 when
 * the code is on its way, else the PAM result. */
static int send_code(struct login *l)
{
	struct tgotp_send_req req = {0};
	struct tgotp_status ability = {0};
	char payload[TGOTP_PAYLOAD_MAX + 1];
	enum tgotp_gw_result r;

	if (l->cfg.check_ability) {
		r = tgotp_gw_check_send_ability(l->gw, l->phone, &ability);
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
	return -1;
}

/* Asks for the code. -1 when the conversation failed, else what the
 * answer is (code filled for TGOTP_ANSWER_CODE). */
static int read_answer(struct login *l, char code[TGOTP_ANSWER_MAX])
{
	char *resp = NULL;
	int ret = -1;

	code[0] = '\0';
	if (pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", l->cfg.prompt) == PAM_SUCCESS &&
	    resp)
		ret = (int)tgotp_answer_read(resp, l->cfg.code_length, code);
	tgotp_strfreezero(resp);
	return ret;
}

/* A failure of checkVerificationStatus, after the Gateway took the message.
 * SECURITY: whoever has the password can provoke one (stall the process,
 * send a code the Gateway chokes on); in safe mode it must not become a
 * success: it is PAM_AUTHINFO_UNAVAIL whatever failmode. */
static int check_failed(struct login *l, enum tgotp_gw_result r, const struct tgotp_status *st)
{
	l->last_gw = r;
	if (r == TGOTP_GW_REFUSED && st->flood_wait > 0)
		tgotp_state_flood_set(l->state, time(NULL) + st->flood_wait);
	return not_available(l, "check_failed");
}

#define ASK_AGAIN (-1)

/* Judges one answer. ASK_AGAIN for a wrong code, else the PAM result. */
static int try_answer(struct login *l, int a, const char *code)
{
	struct tgotp_status st;
	enum tgotp_gw_result r;

	switch (a) {
	case TGOTP_ANSWER_EMPTY:
		return finish(l, PAM_AUTH_ERR, "empty_answer");
	case TGOTP_ANSWER_SSHD_DENIED:
		/* sshd will refuse this user anyway (e.g. root under
		 * PermitRootLogin prohibit-password): stop spending tries. */
		return finish(l, PAM_AUTH_ERR, "denied_by_sshd");
	case TGOTP_ANSWER_MALFORMED:
		return ASK_AGAIN; /* a wrong try, without a Gateway call */
	case TGOTP_ANSWER_CODE:
		break;
	default:
		return finish(l, PAM_AUTH_ERR, "conversation_failed");
	}
	if (time(NULL) - l->sent_at > l->cfg.ttl)
		return finish(l, PAM_AUTH_ERR, "expired");
	r = tgotp_gw_check(l->gw, l->request_id, code, &st);
	if (r == TGOTP_GW_CODE_INVALID ||
	    (r == TGOTP_GW_OK && st.verification == TGOTP_VERIFY_CODE_INVALID))
		return ASK_AGAIN;
	if (r != TGOTP_GW_OK)
		return check_failed(l, r, &st);
	if (st.verification == TGOTP_VERIFY_CODE_VALID)
		return finish(l, PAM_SUCCESS, "success");
	/* expired, the Gateway's attempt limit (tries ran out), or a status
	 * we do not know: never success. */
	say(l, PAM_ERROR_MSG, "Telegram verification failed.");
	return finish(l, st.verification == TGOTP_VERIFY_MAX_ATTEMPTS ? PAM_MAXTRIES : PAM_AUTH_ERR,
		      tgotp_verification_str(st.verification));
}

/* Asks for the code up to max_tries times. Returns the PAM result. */
static int verify_code(struct login *l)
{
	char code[TGOTP_ANSWER_MAX], msg[64];
	long tries;
	int rc;

	for (tries = 1;; tries++) {
		rc = try_answer(l, read_answer(l, code), code);
		explicit_bzero(code, sizeof(code));
		if (rc != ASK_AGAIN)
			return rc;
		if (tries >= l->cfg.max_tries)
			break;
		snprintf(msg, sizeof(msg), "Wrong code. Tries left: %ld.",
			 l->cfg.max_tries - tries);
		say(l, PAM_ERROR_MSG, msg);
	}
	say(l, PAM_ERROR_MSG, "Telegram verification failed.");
	return finish(l, PAM_MAXTRIES, "wrong_code");
}

/* Finds the user's number. Returns -1 when found, else the PAM result. */
static int resolve_phone(struct login *l)
{
	switch (tgotp_users_lookup(&l->cfg, l->user, l->phone, &l->log)) {
	case TGOTP_LOOKUP_FOUND:
		tgotp_phone_mask(l->phone, l->masked);
		return -1;
	case TGOTP_LOOKUP_NOT_FOUND:
		return unmapped(l);
	case TGOTP_LOOKUP_UNAVAILABLE:
		return unavailable(l, "directory_unavailable");
	case TGOTP_LOOKUP_REFUSED:
		/* SECURITY: an answer can be provoked (lock the service
		 * account): never "unreachable", whatever failmode. */
		return not_available(l, "directory_refused");
	default:
		return finish(l, PAM_SERVICE_ERR, "config_error");
	}
}

/* SECURITY: one account, one name. sshd hands PAM the name the client
 * typed; with a case-insensitive directory "Alice" logs in as alice, and
 * must share alice's number, groups, rate limit and grace. A name NSS does
 * not know is used as given (sshd already refuses such users). -1 to go
 * on, else the PAM result. */
static int canonicalise_user(struct login *l)
{
	switch (tgotp_canonical_user(l->user, l->account, sizeof(l->account), &l->log)) {
	case 0:
		return -1;
	case 1:
		if (strcmp(l->account, l->user) != 0) {
			l->given_user = l->user;
			l->user = l->account;
		}
		return -1;
	default:
		return not_available(l, "nss_error");
	}
}

/* Everything before a code is sent. -1 to go on, else the PAM result. */
static int prepare(struct login *l, int argc, const char **argv)
{
	const char *config;
	const void *item = NULL;
	int rc;

	if (parse_args(l, argc, argv, &config) < 0)
		return finish(l, PAM_SERVICE_ERR, "bad_argument");
	if (pam_get_item(l->pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		l->service = item;
	if (pam_get_item(l->pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		l->rhost = item;
	if (pam_get_user(l->pamh, &l->user, NULL) != PAM_SUCCESS || !valid_user_name(l->user)) {
		l->user = NULL;
		return finish(l, PAM_AUTH_ERR, "invalid_user_name");
	}
	if (tgotp_config_load(config, &l->cfg, &l->log) < 0)
		return finish(l, PAM_SERVICE_ERR, "config_error");
	l->cfg_loaded = true;
	if (failed_password(l->pamh))
		return finish(l, PAM_AUTH_ERR, "password_failed");
	if ((rc = canonicalise_user(l)) >= 0)
		return rc;
	/* When NSS cannot tell, the user is asked for a code. */
	if (l->cfg.ngroups > 0 &&
	    tgotp_user_in_groups(l->user, l->cfg.groups, l->cfg.ngroups, &l->log) == 0)
		return finish(l, PAM_IGNORE, "not_in_groups");
	return resolve_phone(l);
}

/* The state directory, and the grace period of a recent verified login. */
static int open_state(struct login *l)
{
	enum tgotp_verdict v = TGOTP_STATE_OK;
	bool grace = false;

	l->state = tgotp_state_open(l->cfg.state_dir, &l->log);
	if (!l->state)
		return finish(l, PAM_SERVICE_ERR, "state_error");
	if (l->cfg.grace_period > 0)
		v = tgotp_state_grace_check(l->state, l->user, l->service, l->rhost, time(NULL),
					    l->cfg.grace_period, &grace);
	/* SECURITY: a lock held past its deadline (the line before names it)
	 * may be a local user's stopped sudo: whatever failmode, that must not
	 * let anyone in without a code. */
	if (v == TGOTP_STATE_BUSY)
		return not_available(l, "state_busy");
	if (v != TGOTP_STATE_OK)
		return finish(l, PAM_SERVICE_ERR, "state_error");
	return grace ? finish(l, PAM_SUCCESS, "grace") : -1;
}

/* Whether a code may be sent now: FLOOD_WAIT pause, codes per user, codes
 * per day. The slots are taken before sending so that concurrent logins
 * cannot overshoot; they are given back when nothing gets sent. */
static int take_slots(struct login *l)
{
	time_t now = time(NULL), until;
	long retry;
	char msg[128];
	enum tgotp_verdict v;

	v = tgotp_state_flood_check(l->state, now, &until);
	if (v == TGOTP_STATE_LIMITED) {
		return not_available(l, "flood_wait");
	}
	if (v == TGOTP_STATE_OK)
		v = tgotp_state_rate_take(l->state, l->user, l->cfg.rate_limit, l->cfg.rate_window,
					  now, &retry);
	if (v == TGOTP_STATE_LIMITED) {
		snprintf(msg, sizeof(msg),
			 "Too many Telegram codes were requested. Try again in %ld minute%s.",
			 (retry + 59) / 60, (retry + 59) / 60 == 1 ? "" : "s");
		say(l, PAM_ERROR_MSG, msg);
		return finish(l, PAM_MAXTRIES, "rate_limited");
	}
	if (v == TGOTP_STATE_OK) {
		l->slot_at = now;
		v = tgotp_state_budget_take(l->state, l->cfg.daily_budget, now);
	}
	if (v != TGOTP_STATE_OK && l->slot_at) {
		/* nothing will be sent: a held host-wide lock must not use
		 * up everyone's rate_limit as well */
		tgotp_state_rate_give_back(l->state, l->user, now);
		l->slot_at = 0;
	}
	if (v == TGOTP_STATE_LIMITED) {
		return not_available(l, "daily_budget");
	}
	if (v == TGOTP_STATE_BUSY)
		return not_available(l, "state_busy");
	return v == TGOTP_STATE_OK ? -1 : finish(l, PAM_SERVICE_ERR, "state_error");
}

static int open_gateway(struct login *l)
{
	struct tgotp_gw_opts o;
	char *token = tgotp_read_secret_line(l->cfg.token_file, TGOTP_SECRET_TOKEN, &l->log);

	if (!token)
		return finish(l, PAM_SERVICE_ERR, "token_unreadable");
	o.api_url = l->cfg.api_url;
	o.token = token;
	o.ca_file = l->cfg.ca_file;
	o.proxy = l->cfg.proxy;
	o.timeout = l->cfg.timeout;
	l->gw = tgotp_gateway_new(&o, &l->log);
	tgotp_strfreezero(token);
	return l->gw ? -1 : finish(l, PAM_SERVICE_ERR, "client_setup_failed");
}

TGOTP_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct login l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.pamh = pamh;
	l.flags = flags;
	l.log.fn = log_to_pam;
	l.log.ctx = pamh;
	rc = prepare(&l, argc, argv);
	if (rc < 0)
		rc = open_state(&l);
	if (rc < 0)
		rc = open_gateway(&l);
	if (rc < 0)
		rc = take_slots(&l);
	if (rc < 0)
		rc = send_code(&l);
	if (rc < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "A Telegram code was sent to %s.", l.masked);
		say(&l, PAM_TEXT_INFO, msg);
		rc = verify_code(&l);
	}
	/* A code that can no longer be used should not stay on the phone;
	 * skipped when the Gateway just failed (it would only add a timeout). */
	if (rc != PAM_SUCCESS && l.request_id[0] && l.last_gw != TGOTP_GW_UNAVAILABLE)
		tgotp_gw_revoke(l.gw, l.request_id);
	if (rc == PAM_SUCCESS && l.outcome && strcmp(l.outcome, "success") == 0 &&
	    l.cfg.grace_period > 0)
		tgotp_state_grace_record(l.state, l.user, l.service, l.rhost, time(NULL));
	tgotp_gateway_free(l.gw);
	tgotp_state_close(l.state);
	if (l.cfg_loaded)
		tgotp_config_free(&l.cfg);
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
