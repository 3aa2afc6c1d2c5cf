/* SPDX-License-Identifier: BSD-3-Clause */
/* The rules of the configuration: the checks libconfuse runs on each value
 * as it parses it, so that an error names the file, the line and the key,
 * and the rules that need the whole file. Which key gets which check is
 * written in the key table (config_keys.c). */
#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_check.h"
#include "config_keys.h"
#include "text.h"
#include "message.h"
#include "netaddr.h"
#include "payload.h"

static const char *last_str(cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	return s ? s : "";
}

/* The name of the key of cfg's section whose field sits at offset: how a
 * check reads another key's value without writing its name again. */
static const char *sibling(cfg_t *cfg, size_t offset)
{
	size_t n;
	const struct tgotp_config_key *keys = tgotp_config_section_keys(cfg->name, &n);

	return tgotp_config_key_at(keys, n, offset)->name;
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

int tgotp_config_validate(cfg_t *cfg, cfg_opt_t *opt)
{
	size_t n;
	const struct tgotp_config_key *keys = tgotp_config_section_keys(cfg->name, &n);
	const struct tgotp_config_key *k = tgotp_config_key_named(keys, n, cfg_opt_name(opt));
	long v;

	if (!k)
		return 0;
	if (k->type == TGOTP_KEY_INT) {
		v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);
		if (v < k->min || v > k->max) {
			cfg_error(cfg, "%s = %ld is out of range %ld..%ld", k->name, v, k->min,
				  k->max);
			return -1;
		}
	}
	if (k->type == TGOTP_KEY_AMOUNT) {
		double a = cfg_opt_getnfloat(opt, cfg_opt_size(opt) - 1);

		if (a < (double)k->min || a > (double)k->max) {
			cfg_error(cfg, "%s = %.4f is out of range %ld..%ld", k->name, a, k->min,
				  k->max);
			return -1;
		}
	}
	if (k->type == TGOTP_KEY_ENUM && one_of(cfg, opt, k->values) < 0)
		return -1;
	return k->check ? k->check(cfg, opt) : 0;
}

/* An URL we will pass to curl: the scheme, a host, nothing that could split
 * a request line or a log line. */
static int url_ok(const char *v, const char *const *schemes, size_t maxlen)
{
	size_t n = strlen(v);

	if (n > maxlen || !tgotp_text_printable(v, n, TGOTP_TEXT_TOKEN))
		return 0;
	for (; *schemes; schemes++) {
		size_t sl = strlen(*schemes);
		if (strncasecmp(v, *schemes, sl) == 0 && v[sl] != '\0' && v[sl] != '/')
			return 1;
	}
	return 0;
}

struct url_rule {
	const char *const *schemes;
	size_t maxlen;
	bool empty_ok;
	bool list; /* space-separated, at least one */
	const char *hint;
};

static int check_url(cfg_t *cfg, cfg_opt_t *opt, const struct url_rule *r)
{
	const char *v = last_str(opt);
	char *copy, *tok, *save = NULL;
	int ok = 0;

	if (*v == '\0' && r->empty_ok)
		return 0;
	if (!r->list) {
		ok = url_ok(v, r->schemes, r->maxlen);
	} else if ((copy = strdup(v))) {
		for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (!(ok = url_ok(tok, r->schemes, r->maxlen)))
				break;
		free(copy);
	} else {
		cfg_error(cfg, "%s: out of memory", cfg_opt_name(opt));
		return -1;
	}
	if (ok)
		return 0;
	cfg_error(cfg, "%s = \"%s\" is not an accepted URL (%s)", cfg_opt_name(opt), v, r->hint);
	return -1;
}

static const char *const https[] = {"https://", NULL};

int tgotp_check_api_url(cfg_t *cfg, cfg_opt_t *opt)
{
	static const struct url_rule rule = {https, 1024, false, false, "https:// only"};
	return check_url(cfg, opt, &rule);
}

int tgotp_check_callback_url(cfg_t *cfg, cfg_opt_t *opt)
{
	static const struct url_rule rule = {https, 256, true, false, "https:// only"};
	return check_url(cfg, opt, &rule);
}

int tgotp_check_proxy(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const proxies[] = {"http://", "https://", "socks5://", "socks5h://",
					      NULL};
	static const struct url_rule rule = {proxies, 1024, true, false, "see manual"};
	return check_url(cfg, opt, &rule);
}

/* The first ldap:// uri of a space-separated list (in clear unless StartTLS
 * protects it), or NULL. */
static const char *plain_ldap(const char *uris)
{
	const char *p;

	for (p = uris; (p = strcasestr(p, "ldap://")); p++)
		if (p == uris || p[-1] == ' ')
			return p;
	return NULL;
}

/* SECURITY: the bind password and the phone numbers must not cross the
 * network in clear: ldap:// needs StartTLS (ldaps:// has TLS, ldapi:// is a
 * local socket). Checked on uri and on starttls, so that the error names
 * whichever of the two comes last in the section. */
static int check_clear_text(cfg_t *cfg, bool on_uri, const char *uris, bool starttls)
{
	if (starttls || !plain_ldap(uris))
		return 0;
	cfg_error(cfg,
		  on_uri ? "uri = \"%s\" with starttls = false would send the directory traffic "
			   "in clear: use ldaps://, ldapi:// or ldap:// with StartTLS"
			 : "starttls = false with uri \"%s\" would send the directory traffic "
			   "in clear: use ldaps://, ldapi:// or ldap:// with StartTLS",
		  uris);
	return -1;
}

int tgotp_check_ldap_uri(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const ldap[] = {"ldap://", "ldaps://", "ldapi://", NULL};
	static const struct url_rule rule = {ldap, 1024, false, true,
					     "ldap://, ldaps:// or ldapi:// with a host or path"};

	if (check_url(cfg, opt, &rule) < 0)
		return -1;
	return check_clear_text(
	    cfg, true, last_str(opt),
	    cfg_getbool(cfg, sibling(cfg, offsetof(struct tgotp_ldap_config, starttls))));
}

int tgotp_check_starttls(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *uris = cfg_getstr(cfg, sibling(cfg, offsetof(struct tgotp_ldap_config, uri)));

	return check_clear_text(cfg, false, uris ? uris : "",
				cfg_opt_getnbool(opt, cfg_opt_size(opt) - 1));
}

static int check_charset(cfg_t *cfg, cfg_opt_t *opt, const char *set, size_t maxlen)
{
	const char *v = last_str(opt);

	if (strlen(v) <= maxlen && strspn(v, set) == strlen(v))
		return 0;
	cfg_error(cfg, "%s = \"%s\" has characters or a length that are not allowed",
		  cfg_opt_name(opt), v);
	return -1;
}

int tgotp_check_country_code(cfg_t *cfg, cfg_opt_t *opt)
{
	if (last_str(opt)[0] == '0') {
		cfg_error(cfg, "%s cannot start with 0", cfg_opt_name(opt));
		return -1;
	}
	return check_charset(cfg, opt, "0123456789", 3);
}

int tgotp_check_sender(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_charset(cfg, opt,
			     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", 64);
}

int tgotp_check_payload(cfg_t *cfg, cfg_opt_t *opt)
{
	if (tgotp_payload_check(last_str(opt)) == 0)
		return 0;
	cfg_error(cfg, "%s: only %%s %%u %%H %%r and %%%% may follow a %%", cfg_opt_name(opt));
	return -1;
}

/* Printable, without spaces, at most 256 bytes; not empty. */
int tgotp_check_store_prefix(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = last_str(opt);
	size_t n = strlen(v);

	if (n > 0 && n <= 256 && tgotp_text_printable(v, n, TGOTP_TEXT_TOKEN))
		return 0;
	cfg_error(cfg, "%s = \"%s\" must be 1..256 printable characters without spaces",
		  cfg_opt_name(opt), v);
	return -1;
}

int tgotp_check_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = last_str(opt);

	if (v[0] == '/')
		return 0;
	cfg_error(cfg, "%s = \"%s\" must be an absolute path", cfg_opt_name(opt), v);
	return -1;
}

int tgotp_check_path_or_empty(cfg_t *cfg, cfg_opt_t *opt)
{
	return last_str(opt)[0] == '\0' ? 0 : tgotp_check_path(cfg, opt);
}

static int check_message(cfg_t *cfg, cfg_opt_t *opt, const char *known)
{
	const char *why = tgotp_message_check(last_str(opt), known);

	if (!why)
		return 0;
	cfg_error(cfg, "%s %s", cfg_opt_name(opt), why);
	return -1;
}

int tgotp_check_message(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_message(cfg, opt, "");
}

int tgotp_check_message_p(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_message(cfg, opt, "p");
}

int tgotp_check_message_n(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_message(cfg, opt, "n");
}

int tgotp_check_message_m(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_message(cfg, opt, "m");
}

/* Every CIDR of the list (libconfuse may call this once per value, or once
 * for the list: each time, all are checked). */
int tgotp_check_networks(cfg_t *cfg, cfg_opt_t *opt)
{
	struct tgotp_cidr c;
	const char *v, *why;
	unsigned int i;

	for (i = 0; i < cfg_opt_size(opt); i++) {
		v = cfg_opt_getnstr(opt, i);
		if (v && tgotp_cidr_parse(v, &c, &why) < 0) {
			cfg_error(cfg, "%s: \"%s\": %s", cfg_opt_name(opt), v, why);
			return -1;
		}
	}
	return 0;
}

/* SECURITY: the odds that a stranger guesses a code within a day must stay
 * small: each sent code allows max_tries guesses, rate_limit codes go out
 * per rate_window, against 10^code_length possible codes. */
#define GUESS_ODDS_MAX 0.01

static int check_guessing_odds(const struct tgotp_config *c, const char *name,
			       const struct tgotp_log *log)
{
	double guesses =
	    (double)c->max_tries * (double)c->rate_limit * 86400.0 / (double)c->rate_window;
	double codes = 1;
	long i;

	for (i = 0; i < c->code_length; i++)
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

int tgotp_config_check_ldap(const struct tgotp_ldap_config *l, const char *name,
			    const struct tgotp_log *log)
{
	const char *sep = name ? ": " : "", *plain;

	name = name ? name : "";
	if (!*l->uri || !*l->base || !*l->attribute) {
		tgotp_log(log, LOG_ERR, "%s%sldap: uri, base and attribute are required", name,
			  sep);
		return -1;
	}
	if (!*l->bind_dn != !*l->bind_password_file) {
		tgotp_log(log, LOG_ERR, "%s%sldap: bind_dn and bind_password_file go together",
			  name, sep);
		return -1;
	}
	/* The parser refused this on the uri or starttls line already. */
	if (!l->starttls && (plain = plain_ldap(l->uri))) {
		tgotp_log(log, LOG_ERR,
			  "%s%sldap: %.*s: ldap:// with starttls = false would send the "
			  "directory traffic in clear",
			  name, sep, (int)strcspn(plain, " "), plain);
		return -1;
	}
	return 0;
}

static bool set_in_file(cfg_t *cfg, const struct tgotp_config_key *keys, size_t n, size_t offset)
{
	return cfg_getopt(cfg, tgotp_config_key_at(keys, n, offset)->name)->flags & CFGF_MODIFIED;
}

/* prompt is the one message that had a top-level key before messages { }:
 * both would leave the reader guessing which one is shown. */
static int check_one_prompt(cfg_t *cfg, const char *name, const struct tgotp_log *log)
{
	size_t n, nm;
	const struct tgotp_config_key *keys = tgotp_config_keys(&n);
	const struct tgotp_config_key *m =
	    tgotp_config_key_at(keys, n, offsetof(struct tgotp_config, messages));
	const struct tgotp_config_key *top =
	    tgotp_config_key_at(keys, n, offsetof(struct tgotp_config, prompt));

	nm = m->nkeys;
	if (cfg_size(cfg, m->name) == 0 || !set_in_file(cfg, keys, n, top->offset) ||
	    !set_in_file(cfg_getnsec(cfg, m->name, 0), m->keys, nm,
			 offsetof(struct tgotp_messages, prompt)))
		return 0;
	tgotp_log(log, LOG_ERR, "%s: %s is set twice, at the top and in %s { }: keep one", name,
		  top->name, m->name);
	return -1;
}

#define STORE_ENDPOINTS_MAX 16

/* store { }: an etcd store needs its members, each https://; a client
 * certificate needs its key; a grace shared by the fleet needs a store the
 * fleet shares. */
static int check_store(const struct tgotp_config *c, const char *name, const struct tgotp_log *log)
{
	const struct tgotp_store_config *s = &c->store;
	size_t i, n;
	const struct tgotp_config_key *top = tgotp_config_keys(&n);
	const struct tgotp_config_key *sec =
	    tgotp_config_key_at(top, n, offsetof(struct tgotp_config, store));
	const char *ep = tgotp_config_key_at(sec->keys, sec->nkeys,
					     offsetof(struct tgotp_store_config, endpoints))
			     ->name;
	bool etcd = s->enabled && s->type == TGOTP_STORE_ETCD;

	if (etcd && (s->nendpoints == 0 || s->nendpoints > STORE_ENDPOINTS_MAX)) {
		tgotp_log(log, LOG_ERR, "%s: %s: an etcd store needs 1 to %d %s", name, sec->name,
			  STORE_ENDPOINTS_MAX, ep);
		return -1;
	}
	for (i = 0; etcd && i < s->nendpoints; i++) {
		if (!url_ok(s->endpoints[i], https, 1024)) {
			tgotp_log(log, LOG_ERR, "%s: %s: %s: \"%s\" is not an https:// URL", name,
				  sec->name, ep, s->endpoints[i]);
			return -1;
		}
	}
	if (s->enabled && !s->cert_file[0] != !s->key_file[0]) {
		tgotp_log(log, LOG_ERR,
			  "%s: %s: a client certificate needs its key, and a key "
			  "its certificate",
			  name, sec->name);
		return -1;
	}
	if (c->grace_scope == TGOTP_GRACE_FLEET && !etcd) {
		tgotp_log(
		    log, LOG_ERR, "%s: %s = fleet needs a store the fleet shares (etcd)", name,
		    tgotp_config_key_at(top, n, offsetof(struct tgotp_config, grace_scope))->name);
		return -1;
	}
	return 0;
}

int tgotp_config_check_whole(cfg_t *cfg, const struct tgotp_config *c, const char *name,
			     const struct tgotp_log *log)
{
	size_t i, n;
	const struct tgotp_config_key *keys = tgotp_config_keys(&n);

	if (check_guessing_odds(c, name, log) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (keys[i].type == TGOTP_KEY_SECTION && cfg_size(cfg, keys[i].name) > 1) {
			tgotp_log(log, LOG_ERR, "%s: %s: the section is given more than once", name,
				  keys[i].name);
			return -1;
		}
	}
	if (c->ldap.enabled && tgotp_config_check_ldap(&c->ldap, name, log) < 0)
		return -1;
	if (check_one_prompt(cfg, name, log) < 0)
		return -1;
	return check_store(c, name, log);
}
