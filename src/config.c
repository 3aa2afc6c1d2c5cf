/* The configuration file: read safely, parsed by libconfuse (with the checks
 * of config_check.c), copied into plain C. */
#include <confuse.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "config_check.h"

/* libconfuse's lexer keeps global state, and its error callback carries no
 * user data: one parse at a time per process (a module may live in a
 * threaded host), and the log of the parse in progress is kept here. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct tgotp_log *parse_log;
static const char *parse_name;
static cfg_t *parse_root;

static void error_func(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];
	int line = parse_root ? parse_root->line : 0;

	/* A section keeps its own line count; the larger one is current. */
	if (cfg && cfg->line > line)
		line = cfg->line;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	tgotp_log(parse_log, LOG_ERR, "%s:%d: %s", parse_name ? parse_name : "(config)", line, msg);
}

/* Integers are decimal, nothing else: libconfuse alone would read
 * "ttl = 0300" as octal 192 and accept "0x10". */
static int parse_decimal(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	long v = 0;
	size_t i;

	for (i = 0; value[i]; i++) {
		if (value[i] < '0' || value[i] > '9' || i >= 9 ||
		    (i == 0 && value[i] == '0' && value[1])) {
			cfg_error(cfg, "%s = %s: expected a decimal number", cfg_opt_name(opt),
				  value);
			return -1;
		}
		v = v * 10 + (value[i] - '0');
	}
	if (i == 0) {
		cfg_error(cfg, "%s: expected a decimal number", cfg_opt_name(opt));
		return -1;
	}
	*(long *)result = v;
	return 0;
}

static cfg_t *new_cfg(void)
{
	static char no_groups[] = "{}";
	static cfg_opt_t user_opts[] = {
	    CFG_STR("phone", "", CFGF_NONE),
	    CFG_END(),
	};
	static cfg_opt_t ldap_opts[] = {
	    CFG_STR("uri", "", CFGF_NONE),
	    CFG_STR("base", "", CFGF_NONE),
	    CFG_STR("filter", "(uid=%u)", CFGF_NONE),
	    CFG_STR("attribute", "mobile", CFGF_NONE),
	    CFG_STR("bind_dn", "", CFGF_NONE),
	    CFG_STR("bind_password_file", "", CFGF_NONE),
	    CFG_BOOL("starttls", cfg_true, CFGF_NONE),
	    CFG_STR("ca_file", "", CFGF_NONE),
	    CFG_INT_CB("timeout", 5, CFGF_NONE, parse_decimal),
	    CFG_END(),
	};
	static cfg_opt_t opts[] = {
	    CFG_STR("api_url", "https://gatewayapi.telegram.org", CFGF_NONE),
	    CFG_STR("token_file", "/etc/security/pam_tgotp.token", CFGF_NONE),
	    CFG_STR("ca_file", "", CFGF_NONE),
	    CFG_STR("proxy", "", CFGF_NONE),
	    CFG_INT_CB("timeout", 10, CFGF_NONE, parse_decimal),
	    CFG_INT_CB("code_length", 6, CFGF_NONE, parse_decimal),
	    CFG_INT_CB("ttl", 300, CFGF_NONE, parse_decimal),
	    CFG_INT_CB("max_tries", 3, CFGF_NONE, parse_decimal),
	    CFG_BOOL("check_ability", cfg_true, CFGF_NONE),
	    CFG_STR("sender_username", "", CFGF_NONE),
	    CFG_STR("callback_url", "", CFGF_NONE),
	    CFG_STR("failmode", "secure", CFGF_NONE),
	    CFG_STR("unmapped", "deny", CFGF_NONE),
	    CFG_STR("default_country_code", "", CFGF_NONE),
	    CFG_STR("users_file", "/etc/security/pam_tgotp.users", CFGF_NONE),
	    CFG_STR_LIST("groups", no_groups, CFGF_NONE),
	    CFG_STR("prompt", "Telegram code: ", CFGF_NONE),
	    CFG_STR("payload", "%s %u@%H from %r", CFGF_NONE),
	    CFG_INT_CB("rate_limit", 5, CFGF_NONE, parse_decimal),
	    CFG_INT_CB("rate_window", 900, CFGF_NONE, parse_decimal),
	    CFG_INT_CB("daily_budget", 0, CFGF_NONE, parse_decimal),
	    CFG_INT_CB("grace_period", 0, CFGF_NONE, parse_decimal),
	    CFG_STR("state_dir", "/var/lib/pam_tgotp", CFGF_NONE),
	    CFG_SEC("user", user_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("ldap", ldap_opts, CFGF_MULTI),
	    CFG_END(),
	};
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);

	if (!cfg)
		return NULL;
	cfg_set_error_function(cfg, error_func);
	tgotp_config_add_checks(cfg);
	return cfg;
}

/* SECURITY: libconfuse expands ${VAR} from the environment inside strings;
 * the environment of sshd or sudo must decide nothing, so such text is
 * refused before the parser sees it. NULs would hide the rest of the file. */
static int refuse_env_refs(const char *name, const char *text, size_t len,
			   const struct tgotp_log *log)
{
	size_t i;
	int line = 1;

	for (i = 0; i < len; i++) {
		if (text[i] == '\n')
			line++;
		if (text[i] == '\0') {
			tgotp_log(log, LOG_ERR, "%s:%d: NUL byte in the file", name, line);
			return -1;
		}
		if (text[i] == '$' && i + 1 < len && text[i + 1] == '{') {
			tgotp_log(log, LOG_ERR,
				  "%s:%d: \"${\" is not allowed: environment variables are not "
				  "expanded",
				  name, line);
			return -1;
		}
	}
	return 0;
}

/* Whether position i of t starts a token, as libconfuse's lexer sees it:
 * "//" and "/ *" open a comment only there ("https://x" is a value). */
static bool token_start(const char *t, size_t i)
{
	return i == 0 || strchr(" \t\r\n={},()", t[i - 1]) != NULL;
}

/* libconfuse 3.3 miscounts lines after a comment (each one counts three),
 * so error messages would point at the wrong line. The comments libconfuse
 * would skip are turned into blanks here, line breaks kept: '#' anywhere
 * outside quotes, "//" and block comments where a token starts. Anything
 * else is left for libconfuse to judge. */
static void blank_comments(char *t, size_t len)
{
	size_t i, j;
	char quote = 0;

	for (i = 0; i < len; i++) {
		if (quote) {
			if (t[i] == '\\' && i + 1 < len)
				i++;
			else if (t[i] == quote)
				quote = 0;
		} else if (t[i] == '"' || t[i] == '\'') {
			quote = t[i];
		} else if (t[i] == '#' ||
			   (t[i] == '/' && i + 1 < len && t[i + 1] == '/' && token_start(t, i))) {
			for (; i < len && t[i] != '\n'; i++)
				t[i] = ' ';
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*' && token_start(t, i)) {
			for (j = i + 2; j + 1 < len && !(t[j] == '*' && t[j + 1] == '/'); j++)
				;
			if (j + 1 >= len)
				return; /* unterminated: libconfuse reports it */
			for (; i <= j + 1; i++)
				if (t[i] != '\n')
					t[i] = ' ';
			i--;
		}
	}
}

static int dup_str(cfg_t *cfg, const char *key, char **out)
{
	const char *v = cfg_getstr(cfg, key);

	*out = strdup(v ? v : "");
	return *out ? 0 : -1;
}

static int copy_ldap(cfg_t *sec, struct tgotp_ldap_config *l)
{
	l->enabled = true;
	l->starttls = cfg_getbool(sec, "starttls");
	l->timeout = cfg_getint(sec, "timeout");
	return dup_str(sec, "uri", &l->uri) | dup_str(sec, "base", &l->base) |
	       dup_str(sec, "filter", &l->filter) | dup_str(sec, "attribute", &l->attribute) |
	       dup_str(sec, "bind_dn", &l->bind_dn) |
	       dup_str(sec, "bind_password_file", &l->bind_password_file) |
	       dup_str(sec, "ca_file", &l->ca_file);
}

static int copy_users(cfg_t *cfg, struct tgotp_config *c)
{
	unsigned int i, n = cfg_size(cfg, "user");
	cfg_t *sec;

	c->users = calloc(n ? n : 1, sizeof(*c->users));
	if (!c->users)
		return -1;
	for (i = 0; i < n; i++, c->nusers++) {
		sec = cfg_getnsec(cfg, "user", i);
		c->users[i].name = strdup(cfg_title(sec));
		c->users[i].phone = strdup(cfg_getstr(sec, "phone"));
		if (!c->users[i].name || !c->users[i].phone) {
			c->nusers++;
			return -1;
		}
	}
	return 0;
}

static int copy_groups(cfg_t *cfg, struct tgotp_config *c)
{
	unsigned int n = cfg_size(cfg, "groups");

	c->groups = calloc(n + 1, sizeof(char *));
	if (!c->groups)
		return -1;
	for (; c->ngroups < n; c->ngroups++) {
		c->groups[c->ngroups] =
		    strdup(cfg_getnstr(cfg, "groups", (unsigned int)c->ngroups));
		if (!c->groups[c->ngroups])
			return -1;
	}
	return 0;
}

static int copy_all(cfg_t *cfg, struct tgotp_config *c)
{
	int err;

	c->timeout = cfg_getint(cfg, "timeout");
	c->code_length = cfg_getint(cfg, "code_length");
	c->ttl = cfg_getint(cfg, "ttl");
	c->max_tries = cfg_getint(cfg, "max_tries");
	c->check_ability = cfg_getbool(cfg, "check_ability");
	c->failmode =
	    strcmp(cfg_getstr(cfg, "failmode"), "safe") == 0 ? TGOTP_FAIL_SAFE : TGOTP_FAIL_SECURE;
	c->unmapped = strcmp(cfg_getstr(cfg, "unmapped"), "ignore") == 0 ? TGOTP_UNMAPPED_IGNORE
		      : strcmp(cfg_getstr(cfg, "unmapped"), "fallback") == 0
			  ? TGOTP_UNMAPPED_FALLBACK
			  : TGOTP_UNMAPPED_DENY;
	c->rate_limit = cfg_getint(cfg, "rate_limit");
	c->rate_window = cfg_getint(cfg, "rate_window");
	c->daily_budget = cfg_getint(cfg, "daily_budget");
	c->grace_period = cfg_getint(cfg, "grace_period");
	err = dup_str(cfg, "api_url", &c->api_url) | dup_str(cfg, "token_file", &c->token_file) |
	      dup_str(cfg, "ca_file", &c->ca_file) | dup_str(cfg, "proxy", &c->proxy) |
	      dup_str(cfg, "sender_username", &c->sender_username) |
	      dup_str(cfg, "callback_url", &c->callback_url) |
	      dup_str(cfg, "default_country_code", &c->default_country_code) |
	      dup_str(cfg, "users_file", &c->users_file) | dup_str(cfg, "prompt", &c->prompt) |
	      dup_str(cfg, "payload", &c->payload) | dup_str(cfg, "state_dir", &c->state_dir);
	err |= copy_users(cfg, c) | copy_groups(cfg, c);
	if (cfg_size(cfg, "ldap") > 0)
		err |= copy_ldap(cfg_getnsec(cfg, "ldap", 0), &c->ldap);
	return err ? -1 : 0;
}

/* SECURITY: the odds that a stranger guesses a code within a day must stay
 * small: each sent code allows max_tries guesses, rate_limit codes go out
 * per rate_window, against 10^code_length possible codes. */
#define GUESS_ODDS_MAX 0.01

static int check_guessing_odds(cfg_t *cfg, const char *name, const struct tgotp_log *log)
{
	double guesses = (double)cfg_getint(cfg, "max_tries") *
			 (double)cfg_getint(cfg, "rate_limit") * 86400.0 /
			 (double)cfg_getint(cfg, "rate_window");
	double codes = 1;
	long i;

	for (i = 0; i < cfg_getint(cfg, "code_length"); i++)
		codes *= 10;
	if (guesses / codes < GUESS_ODDS_MAX)
		return 0;
	tgotp_log(log, LOG_ERR,
		  "%s: max_tries x rate_limit x 86400 / rate_window allows %.0f guesses a day "
		  "against 10^code_length = %.0f codes: a %.2f %% chance to guess one, must stay "
		  "under %.0f %%; lower max_tries or rate_limit, or raise rate_window or "
		  "code_length",
		  name, guesses, codes, 100 * guesses / codes, 100 * GUESS_ODDS_MAX);
	return -1;
}

/* Checks that need the whole file (libconfuse validates one key at a time). */
static int check_whole(cfg_t *cfg, const char *name, const struct tgotp_log *log)
{
	cfg_t *ldap;

	if (check_guessing_odds(cfg, name, log) < 0)
		return -1;

	if (cfg_size(cfg, "ldap") > 1) {
		tgotp_log(log, LOG_ERR, "%s: ldap: the section is given more than once", name);
		return -1;
	}
	if (cfg_size(cfg, "ldap") == 1) {
		ldap = cfg_getnsec(cfg, "ldap", 0);
		if (!*cfg_getstr(ldap, "uri") || !*cfg_getstr(ldap, "base") ||
		    !*cfg_getstr(ldap, "attribute")) {
			tgotp_log(log, LOG_ERR, "%s: ldap: uri, base and attribute are required",
				  name);
			return -1;
		}
		if (!*cfg_getstr(ldap, "bind_dn") != !*cfg_getstr(ldap, "bind_password_file")) {
			tgotp_log(log, LOG_ERR,
				  "%s: ldap: bind_dn and bind_password_file go together", name);
			return -1;
		}
	}
	return 0;
}

int tgotp_config_parse(const char *name, const char *text, size_t len, struct tgotp_config *out,
		       const struct tgotp_log *log)
{
	cfg_t *cfg = NULL;
	FILE *fp = NULL;
	char *copy = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (refuse_env_refs(name, text, len, log) < 0)
		return -1;
	pthread_mutex_lock(&parse_lock);
	cfg = new_cfg();
	/* fmemopen refuses a zero size: an empty file is one blank line. */
	copy = len ? malloc(len) : strdup("\n");
	if (copy) {
		memcpy(copy, len ? text : "\n", len ? len : 1);
		blank_comments(copy, len ? len : 1);
		fp = fmemopen(copy, len ? len : 1, "r");
	}
	if (!cfg || !fp) {
		tgotp_log(log, LOG_ERR, "%s: out of memory", name);
		goto out;
	}
	parse_log = log;
	parse_name = name;
	parse_root = cfg;
	cfg->line = 1;
	if (cfg_parse_fp(cfg, fp) != CFG_SUCCESS || check_whole(cfg, name, log) < 0)
		goto out;
	if (copy_all(cfg, out) < 0) {
		tgotp_log(log, LOG_ERR, "%s: out of memory", name);
		goto out;
	}
	ret = 0;
out:
	parse_log = NULL;
	parse_name = NULL;
	parse_root = NULL;
	if (fp)
		fclose(fp);
	free(copy);
	if (cfg)
		cfg_free(cfg);
	pthread_mutex_unlock(&parse_lock);
	if (ret < 0)
		tgotp_config_free(out);
	return ret;
}

int tgotp_config_load(const char *path, struct tgotp_config *out, const struct tgotp_log *log)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = tgotp_read_file(path, TGOTP_FILE_CONFIG, TGOTP_CONFIG_MAX_SIZE, &text, &len, log);
	if (ret == -ENOENT)
		tgotp_log(log, LOG_ERR, "%s: does not exist", path);
	if (ret < 0)
		return -1;
	ret = tgotp_config_parse(path, text, len, out, log);
	tgotp_freezero(text, len + 1);
	return ret;
}

static void free_ldap(struct tgotp_ldap_config *l)
{
	free(l->uri);
	free(l->base);
	free(l->filter);
	free(l->attribute);
	free(l->bind_dn);
	free(l->bind_password_file);
	free(l->ca_file);
}

void tgotp_config_free(struct tgotp_config *c)
{
	size_t i;

	free(c->api_url);
	free(c->token_file);
	free(c->ca_file);
	free(c->proxy);
	free(c->sender_username);
	free(c->callback_url);
	free(c->default_country_code);
	free(c->users_file);
	free(c->prompt);
	free(c->payload);
	free(c->state_dir);
	for (i = 0; c->groups && i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->groups);
	for (i = 0; c->users && i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].phone);
	}
	free(c->users);
	free_ldap(&c->ldap);
	memset(c, 0, sizeof(*c));
}
