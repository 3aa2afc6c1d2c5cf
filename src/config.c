/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration file: read safely, parsed by libconfuse with the options
 * the key table (config_keys.c) describes and the checks of config_check.c,
 * copied into plain C and freed by walking the same table. */
#include <confuse.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_check.h"
#include "config_keys.h"
#include "fileio.h"
#include "text.h"

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
 * "ttl = 0300" as octal 192 and accept "0x10". At most 9 digits, without a
 * leading zero. */
static int parse_decimal(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	long long v;

	if (!*value) {
		cfg_error(cfg, "%s: expected a decimal number", cfg_opt_name(opt));
		return -1;
	}
	if ((value[0] == '0' && value[1]) ||
	    tgotp_parse_decimal(value, strlen(value), 999999999, &v) < 0) {
		cfg_error(cfg, "%s = %s: expected a decimal number", cfg_opt_name(opt), value);
		return -1;
	}
	*(long *)result = (long)v;
	return 0;
}

/* An amount of money: decimal, at most 9 digits before an optional point
 * and 4 after it. libconfuse alone (strtod) would take "1e3", "0x10",
 * "nan" and "inf", which no range check stops. */
static int parse_amount(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const char *dot = strchr(value, '.');
	size_t whole = dot ? (size_t)(dot - value) : strlen(value);
	long long w, f = 0;
	size_t frac = dot ? strlen(dot + 1) : 0, i;

	if ((value[0] == '0' && whole > 1) ||
	    tgotp_parse_decimal(value, whole, 999999999, &w) < 0 ||
	    (dot && (frac == 0 || frac > 4 || tgotp_parse_decimal(dot + 1, frac, 9999, &f) < 0))) {
		cfg_error(cfg, "%s = %s: expected an amount such as 5 or 2.50", cfg_opt_name(opt),
			  value);
		return -1;
	}
	for (i = frac; i < 4; i++)
		f *= 10;
	*(double *)result = (double)w + (double)f / 10000.0;
	return 0;
}

static void *field(void *base, const struct tgotp_config_key *k)
{
	return (char *)base + k->offset;
}

static void free_opts(const struct tgotp_config_key *keys, size_t n, cfg_opt_t *opts)
{
	size_t i;

	for (i = 0; opts && i < n; i++)
		if (keys[i].keys)
			free_opts(keys[i].keys, keys[i].nkeys, opts[i].subopts);
	free(opts);
}

/* libconfuse's options for keys, from the table; the zeroed last one is
 * CFG_END(). */
static cfg_opt_t *new_opts(const struct tgotp_config_key *keys, size_t n)
{
	cfg_opt_t *o = calloc(n + 1, sizeof(*o));
	const struct tgotp_config_key *k;
	size_t i;

	for (i = 0; o && i < n; i++) {
		k = &keys[i];
		switch (k->type) {
		case TGOTP_KEY_INT:
			o[i] = (cfg_opt_t)CFG_INT_CB(k->name, strtol(k->def, NULL, 10), CFGF_NONE,
						     parse_decimal);
			break;
		case TGOTP_KEY_AMOUNT:
			o[i] = (cfg_opt_t)CFG_FLOAT_CB(k->name, strtod(k->def, NULL), CFGF_NONE,
						       parse_amount);
			break;
		case TGOTP_KEY_BOOL:
			o[i] = (cfg_opt_t)CFG_BOOL(
			    k->name, strcmp(k->def, "true") == 0 ? cfg_true : cfg_false, CFGF_NONE);
			break;
		case TGOTP_KEY_STR:
		case TGOTP_KEY_ENUM:
			o[i] = (cfg_opt_t)CFG_STR(k->name, k->def, CFGF_NONE);
			break;
		case TGOTP_KEY_LIST:
			o[i] =
			    (cfg_opt_t)CFG_STR_LIST(k->name, (char *)(uintptr_t)k->def, CFGF_NONE);
			break;
		case TGOTP_KEY_SECTION:
		case TGOTP_KEY_TITLED:
			/* A SECTION given twice is let through, to be refused
			 * in words of our own (tgotp_config_check_whole). */
			o[i] =
			    (cfg_opt_t)CFG_SEC(k->name, new_opts(k->keys, k->nkeys),
					       k->type == TGOTP_KEY_SECTION
						   ? CFGF_MULTI
						   : CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
			if (!o[i].subopts) {
				free_opts(keys, i + 1, o);
				return NULL;
			}
			continue;
		}
		if (k->type == TGOTP_KEY_INT || k->type == TGOTP_KEY_AMOUNT ||
		    k->type == TGOTP_KEY_ENUM || k->check)
			o[i].validcb = tgotp_config_validate;
	}
	return o;
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

static int copy_keys(cfg_t *cfg, const struct tgotp_config_key *keys, size_t n, void *base,
		     const char **failed);

static int copy_str(const char *v, char **out)
{
	*out = strdup(v ? v : "");
	return *out ? 0 : -1;
}

/* The index of v among values, which is the enum's value; the first when
 * none matches (the check refused any other). */
static int index_of(const char *const *values, const char *v)
{
	int i;

	for (i = 0; values[i]; i++)
		if (v && strcmp(values[i], v) == 0)
			return i;
	return 0;
}

static int copy_list(cfg_t *cfg, const struct tgotp_config_key *k, void *base)
{
	char ***list = field(base, k);
	size_t *count = (size_t *)(void *)((char *)base + k->count);
	unsigned int n = cfg_size(cfg, k->name);

	if (!(*list = calloc(n + 1, sizeof(char *))))
		return -1;
	for (; *count < n; ++*count)
		if (copy_str(cfg_getnstr(cfg, k->name, (unsigned int)*count), &(*list)[*count]) < 0)
			return -1;
	return 0;
}

/* Each section into an element of an array; its title goes first. */
static int copy_titled(cfg_t *cfg, const struct tgotp_config_key *k, void *base,
		       const char **failed)
{
	char **array = field(base, k), *elem;
	size_t *count = (size_t *)(void *)((char *)base + k->count);
	unsigned int n = cfg_size(cfg, k->name);
	cfg_t *sec;
	int r;

	if (!(*array = calloc(n ? n : 1, k->size)))
		return -1;
	/* Counted before it is filled: the free sees a half-copied one. */
	for (; *count < n; ++*count) {
		sec = cfg_getnsec(cfg, k->name, (unsigned int)*count);
		elem = *array + *count * k->size;
		if ((r = copy_str(cfg_title(sec), (char **)(void *)elem)) != 0 ||
		    (r = copy_keys(sec, k->keys, k->nkeys, elem, failed)) != 0) {
			++*count;
			return r;
		}
	}
	return 0;
}

/* An absent section's keys get their defaults (enabled stays false): a
 * section of settings with defaults (messages) is usable without one. */
static int copy_defaults(cfg_t *cfg, const struct tgotp_config_key *k, void *f, const char **failed)
{
	cfg_t *dflt = cfg_init(cfg_getopt(cfg, k->name)->subopts, CFGF_NONE);
	int r;

	if (!dflt)
		return -1;
	r = copy_keys(dflt, k->keys, k->nkeys, f, failed);
	cfg_free(dflt);
	return r;
}

/* From libconfuse into plain C, key by key; *failed names the key that
 * could not be copied. */
static int copy_keys(cfg_t *cfg, const struct tgotp_config_key *keys, size_t n, void *base,
		     const char **failed)
{
	const struct tgotp_config_key *k;
	void *f;
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		k = &keys[i];
		f = field(base, k);
		*failed = k->name;
		switch (k->type) {
		case TGOTP_KEY_INT:
			*(long *)f = cfg_getint(cfg, k->name);
			break;
		case TGOTP_KEY_AMOUNT:
			*(double *)f = cfg_getfloat(cfg, k->name);
			break;
		case TGOTP_KEY_BOOL:
			*(bool *)f = cfg_getbool(cfg, k->name);
			break;
		case TGOTP_KEY_STR:
			r = copy_str(cfg_getstr(cfg, k->name), f);
			break;
		case TGOTP_KEY_ENUM:
			*(int *)f = index_of(k->values, cfg_getstr(cfg, k->name));
			break;
		case TGOTP_KEY_LIST:
			r = copy_list(cfg, k, base);
			break;
		case TGOTP_KEY_SECTION:
			if (cfg_size(cfg, k->name) == 0) {
				r = copy_defaults(cfg, k, f, failed);
				break;
			}
			*(bool *)f = true; /* enabled */
			r = copy_keys(cfg_getnsec(cfg, k->name, 0), k->keys, k->nkeys, f, failed);
			break;
		case TGOTP_KEY_TITLED:
			r = copy_titled(cfg, k, base, failed);
			break;
		}
	}
	return r;
}

static void free_keys(const struct tgotp_config_key *keys, size_t n, void *base)
{
	const struct tgotp_config_key *k;
	size_t i, j, *count;
	char **f;

	for (i = 0; i < n; i++) {
		k = &keys[i];
		f = field(base, k);
		count = (size_t *)(void *)((char *)base + k->count);
		if (k->type == TGOTP_KEY_STR) {
			free(*f);
		} else if (k->type == TGOTP_KEY_LIST) {
			for (j = 0; *f && j < *count; j++)
				free(((char **)(void *)*f)[j]);
			free(*f);
		} else if (k->type == TGOTP_KEY_SECTION) {
			free_keys(k->keys, k->nkeys, f);
		} else if (k->type == TGOTP_KEY_TITLED) {
			for (j = 0; *f && j < *count; j++) {
				free(*(char **)(void *)(*f + j * k->size));
				free_keys(k->keys, k->nkeys, *f + j * k->size);
			}
			free(*f);
		}
	}
}

/* prompt, a top-level key before messages { } existed, is still read: when
 * the file sets it (the whole-file check refused setting both), it goes
 * where the module looks, messages.prompt. */
static int fold_prompt(cfg_t *cfg, struct tgotp_config *c)
{
	size_t n;
	const struct tgotp_config_key *keys = tgotp_config_keys(&n);
	const struct tgotp_config_key *k =
	    tgotp_config_key_at(keys, n, offsetof(struct tgotp_config, prompt));
	char *p;

	if (!(cfg_getopt(cfg, k->name)->flags & CFGF_MODIFIED))
		return 0;
	if (!(p = strdup(c->prompt)))
		return -1;
	free(c->messages.prompt);
	c->messages.prompt = p;
	return 0;
}

int tgotp_config_parse(const char *name, const char *text, size_t len, struct tgotp_config *out,
		       const struct tgotp_log *log)
{
	const struct tgotp_config_key *keys;
	const char *failed = NULL;
	cfg_opt_t *opts = NULL;
	cfg_t *cfg = NULL;
	FILE *fp = NULL;
	char *copy = NULL;
	size_t n;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (refuse_env_refs(name, text, len, log) < 0)
		return -1;
	keys = tgotp_config_keys(&n);
	pthread_mutex_lock(&parse_lock);
	/* fmemopen refuses a zero size: an empty file is one blank line. */
	copy = len ? malloc(len) : strdup("\n");
	if (copy) {
		memcpy(copy, len ? text : "\n", len ? len : 1);
		blank_comments(copy, len ? len : 1);
		fp = fmemopen(copy, len ? len : 1, "r");
	}
	if (!fp || !(opts = new_opts(keys, n)) || !(cfg = cfg_init(opts, CFGF_NONE))) {
		tgotp_log(log, LOG_ERR, "%s: out of memory", name);
		goto out;
	}
	cfg_set_error_function(cfg, error_func);
	parse_log = log;
	parse_name = name;
	parse_root = cfg;
	cfg->line = 1;
	if (cfg_parse_fp(cfg, fp) != CFG_SUCCESS)
		goto out;
	if (copy_keys(cfg, keys, n, out, &failed) != 0) {
		tgotp_log(log, LOG_ERR, "%s: %s: out of memory", name, failed);
		goto out;
	}
	if (tgotp_config_check_whole(cfg, out, name, log) < 0)
		goto out;
	if (fold_prompt(cfg, out) < 0) {
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
	free_opts(keys, n, opts);
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

void tgotp_config_free(struct tgotp_config *c)
{
	size_t n;
	const struct tgotp_config_key *keys = tgotp_config_keys(&n);

	free_keys(keys, n, c);
	memset(c, 0, sizeof(*c));
}
