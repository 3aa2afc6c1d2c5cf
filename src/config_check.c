/* The checks libconfuse runs on each value as it parses it, so that an
 * error names the file, the line and the key. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_check.h"
#include "payload.h"

struct range {
	const char *section; /* NULL: top level */
	const char *key;
	long min, max;
};

static const struct range ranges[] = {
    {NULL, "timeout", 1, 120},
    {NULL, "code_length", 4, 8},
    {NULL, "ttl", 30, 3600},
    {NULL, "max_tries", 1, 10},
    {NULL, "rate_limit", 1, 1000},
    {NULL, "rate_window", 1, 86400},
    {NULL, "daily_budget", 0, 1000000},
    {NULL, "grace_period", 0, 86400},
    {"ldap", "timeout", 1, 60},
};

static int validate_range(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *key = cfg_opt_name(opt);
	const char *sec = strcmp(cfg->name, "root") == 0 ? NULL : cfg->name;
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (strcmp(ranges[i].key, key) != 0 ||
		    (sec == NULL) != (ranges[i].section == NULL) ||
		    (sec && strcmp(sec, ranges[i].section) != 0))
			continue;
		if (v < ranges[i].min || v > ranges[i].max) {
			cfg_error(cfg, "%s = %ld is out of range %ld..%ld", key, v, ranges[i].min,
				  ranges[i].max);
			return -1;
		}
		return 0;
	}
	return 0;
}

static const char *last_str(cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	return s ? s : "";
}

static int one_of(cfg_t *cfg, cfg_opt_t *opt, const char *const *allowed)
{
	const char *v = last_str(opt);

	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return 0;
	cfg_error(cfg, "%s = \"%s\" is not one of the allowed values", cfg_opt_name(opt), v);
	return -1;
}

static int validate_failmode(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const allowed[] = {"secure", "safe", NULL};
	return one_of(cfg, opt, allowed);
}

static int validate_unmapped(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const allowed[] = {"deny", "ignore", "fallback", NULL};
	return one_of(cfg, opt, allowed);
}

/* An URL we will pass to curl: the scheme, a host, nothing that could split
 * a request line or a log line. */
static int url_ok(const char *v, const char *const *schemes, size_t maxlen)
{
	size_t n = strlen(v), i;

	if (n > maxlen)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return 0;
	for (; *schemes; schemes++) {
		size_t sl = strlen(*schemes);
		if (strncasecmp(v, *schemes, sl) == 0 && v[sl] != '\0' && v[sl] != '/')
			return 1;
	}
	return 0;
}

/* Whether the ldap section's uri list has an ldap:// uri, which is in
 * clear unless StartTLS protects it. */
static bool has_plain_ldap(const char *uris)
{
	const char *p;

	for (p = uris; (p = strcasestr(p, "ldap://")); p++)
		if (p == uris || p[-1] == ' ')
			return true;
	return false;
}

/* SECURITY: the bind password and the phone numbers must not cross the
 * network in clear: ldap:// needs StartTLS (ldaps:// has TLS, ldapi:// is a
 * local socket). Checked on uri and on starttls, so that the error names
 * whichever of the two comes last in the section. */
static int check_clear_text(cfg_t *cfg, bool on_uri, const char *uris, bool starttls)
{
	if (starttls || !has_plain_ldap(uris))
		return 0;
	cfg_error(cfg,
		  on_uri ? "uri = \"%s\" with starttls = false would send the directory traffic "
			   "in clear: use ldaps://, ldapi:// or ldap:// with StartTLS"
			 : "starttls = false with uri \"%s\" would send the directory traffic "
			   "in clear: use ldaps://, ldapi:// or ldap:// with StartTLS",
		  uris);
	return -1;
}

static int validate_starttls(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *uris = cfg_getstr(cfg, "uri");

	return check_clear_text(cfg, false, uris ? uris : "",
				cfg_opt_getnbool(opt, cfg_opt_size(opt) - 1));
}

static int validate_url(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const https[] = {"https://", NULL};
	static const char *const proxies[] = {"http://", "https://", "socks5://", "socks5h://",
					      NULL};
	static const char *const ldap[] = {"ldap://", "ldaps://", "ldapi://", NULL};
	const char *key = cfg_opt_name(opt), *v = last_str(opt);
	const char *const *schemes = https;
	size_t maxlen = 1024;
	char *copy, *tok, *save = NULL;
	int ok = 1;

	if (strcmp(key, "proxy") == 0)
		schemes = proxies;
	else if (strcmp(key, "callback_url") == 0)
		maxlen = 256;
	if (*v == '\0' && strcmp(key, "api_url") != 0 && strcmp(key, "uri") != 0)
		return 0;
	if (strcmp(key, "uri") == 0) {
		copy = strdup(v);
		if (!copy)
			return -1;
		ok = 0;
		for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (!(ok = url_ok(tok, ldap, maxlen)))
				break;
		free(copy);
	} else {
		ok = url_ok(v, schemes, maxlen);
	}
	if (!ok) {
		cfg_error(cfg, "%s = \"%s\" is not an accepted URL (%s)", key, v,
			  strcmp(key, "uri") == 0
			      ? "ldap://, ldaps:// or ldapi:// with a host or path"
			  : schemes == https ? "https:// only"
					     : "see manual");
		return -1;
	}
	if (strcmp(key, "uri") == 0)
		return check_clear_text(cfg, true, v, cfg_getbool(cfg, "starttls"));
	return 0;
}

static int validate_charset(cfg_t *cfg, cfg_opt_t *opt, const char *set, size_t maxlen)
{
	const char *v = last_str(opt);

	if (strlen(v) <= maxlen && strspn(v, set) == strlen(v))
		return 0;
	cfg_error(cfg, "%s = \"%s\" has characters or a length that are not allowed",
		  cfg_opt_name(opt), v);
	return -1;
}

static int validate_country_code(cfg_t *cfg, cfg_opt_t *opt)
{
	if (last_str(opt)[0] == '0') {
		cfg_error(cfg, "default_country_code cannot start with 0");
		return -1;
	}
	return validate_charset(cfg, opt, "0123456789", 3);
}

static int validate_sender(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_charset(
	    cfg, opt, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", 64);
}

static int validate_payload(cfg_t *cfg, cfg_opt_t *opt)
{
	if (tgotp_payload_check(last_str(opt)) == 0)
		return 0;
	cfg_error(cfg, "payload: only %%s %%u %%H %%r and %%%% may follow a %%");
	return -1;
}

static int validate_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = last_str(opt);

	if (v[0] == '/' || (v[0] == '\0' && strcmp(cfg_opt_name(opt), "ca_file") == 0))
		return 0;
	cfg_error(cfg, "%s = \"%s\" must be an absolute path", cfg_opt_name(opt), v);
	return -1;
}

static int validate_prompt(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = last_str(opt);
	size_t i;

	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			break;
	if (v[i] == '\0' && i > 0 && i <= 200)
		return 0;
	cfg_error(cfg, "prompt must be 1..200 printable characters");
	return -1;
}

void tgotp_config_add_checks(cfg_t *cfg)
{
	static const char *const int_keys[] = {"timeout",      "code_length",  "ttl",
					       "max_tries",    "rate_limit",   "rate_window",
					       "daily_budget", "grace_period", "ldap|timeout"};
	static const char *const url_keys[] = {"api_url", "callback_url", "proxy", "ldap|uri"};
	static const char *const path_keys[] = {"token_file",	"ca_file",
						"users_file",	"state_dir",
						"ldap|ca_file", "ldap|bind_password_file"};
	size_t i;

	for (i = 0; i < sizeof(int_keys) / sizeof(int_keys[0]); i++)
		cfg_set_validate_func(cfg, int_keys[i], validate_range);
	for (i = 0; i < sizeof(url_keys) / sizeof(url_keys[0]); i++)
		cfg_set_validate_func(cfg, url_keys[i], validate_url);
	for (i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]); i++)
		cfg_set_validate_func(cfg, path_keys[i], validate_path);
	cfg_set_validate_func(cfg, "ldap|starttls", validate_starttls);
	cfg_set_validate_func(cfg, "failmode", validate_failmode);
	cfg_set_validate_func(cfg, "unmapped", validate_unmapped);
	cfg_set_validate_func(cfg, "default_country_code", validate_country_code);
	cfg_set_validate_func(cfg, "sender_username", validate_sender);
	cfg_set_validate_func(cfg, "payload", validate_payload);
	cfg_set_validate_func(cfg, "prompt", validate_prompt);
}
