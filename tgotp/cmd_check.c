/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp check: the configuration exactly as the module parses it, the files
 * it names, the users file line by line, the PAM stacks (check_pam.c) and,
 * with --online, the Gateway token and the directory bind. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/config_keys.h"
#include "../src/backup.h"
#include "../src/fileio.h"
#include "../src/ldapdir.h"
#include "../src/users.h"
#include "tgotp.h"

#define USERS_FILE_MAX (16 * 1024 * 1024)

/* The line of the configuration that sets key (inside "ldap { }" when
 * in_ldap), the last one when set twice; 0 when it is not set (the
 * default applies). A plain scan: the file parsed already. */
/* A key's name from the key table, by its field: never written twice. */
#define TOP_KEY(field) tgotp_config_key_name(TGOTP_KEY_TOP, offsetof(struct tgotp_config, field))
#define STORE_KEY(field)                                                                           \
	tgotp_config_key_name(offsetof(struct tgotp_config, store),                                \
			      offsetof(struct tgotp_store_config, field))
#define LDAP_KEY(field)                                                                            \
	tgotp_config_key_name(offsetof(struct tgotp_config, ldap),                                 \
			      offsetof(struct tgotp_ldap_config, field))

/* The line of key in text: at the top level for section NULL, else inside
 * that section; 0 when it is not written. */
static int key_line(const char *text, const char *key, const char *section)
{
	const char *p = text, *q;
	size_t n = strlen(key), sn = section ? strlen(section) : 0;
	int line = 0, found = 0, depth = 0;
	bool inside = false;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		line++;
		for (q = p; *q == ' ' || *q == '\t'; q++)
			;
		if (section && depth == 0 && strncmp(q, section, sn) == 0 &&
		    (q[sn] == ' ' || q[sn] == '{' || q[sn] == '\t'))
			inside = true;
		if (strncmp(q, key, n) == 0 && (q[n] == ' ' || q[n] == '\t' || q[n] == '=') &&
		    (section ? inside && depth > 0 : depth == 0))
			found = line;
		for (; *q && *q != '\n' && *q != '#'; q++) {
			if (*q == '{')
				depth++;
			else if (*q == '}' && --depth <= 0)
				depth = 0, inside = false;
		}
	}
	return found;
}

struct ctx {
	struct cli *c;
	char *text; /* the configuration, for line numbers */
	size_t len;
	cJSON *files;
};

/* Library lines about key now start "CONFIG:LINE: key: ". */
static void at_key(struct ctx *x, const char *key, const char *section)
{
	int line = x->text ? key_line(x->text, key, section) : 0;
	char k[64];

	snprintf(k, sizeof(k), "%s%s%s", section ? section : "", section ? "." : "", key);
	if (line)
		snprintf(x->c->prefix, sizeof(x->c->prefix), "%s:%d: %s: ", x->c->config, line, k);
	else
		snprintf(x->c->prefix, sizeof(x->c->prefix), "%s: %s (default): ", x->c->config, k);
}

/* What the file is: a JSON entry with path, existence, owner and mode. */
static cJSON *describe(struct ctx *x, const char *key, const char *path, struct stat *st,
		       bool *exists)
{
	cJSON *f = cJSON_CreateObject();

	*exists = lstat(path, st) == 0;
	cJSON_AddStringToObject(f, "key", key);
	cJSON_AddStringToObject(f, "path", path);
	cJSON_AddBoolToObject(f, "exists", *exists);
	if (*exists) {
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st->st_mode & 07777));
		cJSON_AddNumberToObject(f, "uid", st->st_uid);
		cJSON_AddNumberToObject(f, "gid", st->st_gid);
		cJSON_AddStringToObject(f, "mode", mode);
	}
	cJSON_AddItemToArray(x->files, f);
	return f;
}

/* Runs before and after a library call: the number of new errors. */
static void verdict(struct ctx *x, cJSON *f, int errors_before)
{
	cJSON_AddBoolToObject(f, "ok", x->c->errors == errors_before);
}

static void check_secret(struct ctx *x, const char *key, const char *path, const char *section,
			 enum tgotp_secret_kind kind)
{
	struct stat st;
	bool exists;
	int before = x->c->errors;
	cJSON *f = describe(x, key, path, &st, &exists);
	char *secret;

	at_key(x, key, section);
	secret = tgotp_read_secret_line(path, kind, &x->c->log);
	tgotp_strfreezero(secret);
	verdict(x, f, before);
}

/* A CA bundle: curl reads it; whoever can write it can add a CA. */
static void check_ca(struct ctx *x, const char *key, const char *path, const char *section)
{
	struct stat st;
	bool exists;
	int before = x->c->errors;
	cJSON *f;
	const char *why = NULL;

	if (!*path)
		return;
	f = describe(x, key, path, &st, &exists);
	at_key(x, key, section);
	if (!exists)
		why = "does not exist";
	else if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		why = "must be owned by root and not writable by group or others (whoever can "
		      "write it can add a CA)";
	else if (access(path, R_OK) < 0)
		why = "cannot be read";
	if (why)
		tgotp_log(&x->c->log, LOG_ERR, "%s: %s", path, why);
	verdict(x, f, before);
}

static void check_state_dir(struct ctx *x)
{
	const char *path = x->c->cfg.state_dir;
	struct stat st;
	bool exists;
	int before = x->c->errors;
	cJSON *f = describe(x, TOP_KEY(state_dir), path, &st, &exists);

	at_key(x, TOP_KEY(state_dir), NULL);
	if (!exists)
		tgotp_log(&x->c->log, LOG_INFO,
			  "%s: does not exist yet: the first login creates it (root, 0700)", path);
	else if (!S_ISDIR(st.st_mode))
		tgotp_log(&x->c->log, LOG_ERR, "%s: not a directory", path);
	else if (st.st_uid != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)))
		/* the module's words (state.c) */
		tgotp_log(&x->c->log, LOG_ERR,
			  "%s: refusing to use it: must be owned by root, mode 0700", path);
	verdict(x, f, before);
}

static cJSON *check_users_file(struct ctx *x)
{
	const char *path = x->c->cfg.users_file;
	struct stat st;
	bool exists;
	int before = x->c->errors, bad = 0, r;
	cJSON *f = describe(x, TOP_KEY(users_file), path, &st, &exists);
	char *text = NULL;
	size_t len = 0;

	at_key(x, TOP_KEY(users_file), NULL);
	r = tgotp_read_file(path, TGOTP_FILE_PERSONAL, USERS_FILE_MAX, &text, &len, &x->c->log);
	if (r == -ENOENT)
		tgotp_log(&x->c->log, LOG_INFO, "%s: does not exist: an empty map", path);
	x->c->prefix[0] = '\0';
	if (r == 0 && memchr(text, '\0', len)) {
		tgotp_log(&x->c->log, LOG_ERR, "%s: NUL byte in the file", path);
	} else if (r == 0) {
		bad =
		    tgotp_users_check_text(path, text, x->c->cfg.default_country_code, &x->c->log);
		cJSON_AddNumberToObject(f, "bad_lines", bad);
	}
	if (text)
		tgotp_freezero(text, len + 1);
	verdict(x, f, before);
	return f;
}

/* backup_codes_file, read as the module reads it: owner, mode, every line. */
static void check_backup_codes(struct ctx *x)
{
	const char *path = x->c->cfg.backup_codes_file;
	struct stat st;
	bool exists;
	int before = x->c->errors;
	cJSON *f = describe(x, TOP_KEY(backup_codes_file), path, &st, &exists);

	at_key(x, TOP_KEY(backup_codes_file), NULL);
	if (!exists)
		tgotp_log(&x->c->log, LOG_INFO,
			  "%s: does not exist yet: tgotp backup-codes creates it (root, 0600)",
			  path);
	else
		tgotp_backup_count(path, "", &x->c->log); /* logs what makes it unusable */
	verdict(x, f, before);
}

/* The etcd store's CA and client certificate (public, root's) and key
 * (secret: root, 0600), as the store reads them. */
static void check_store_files(struct ctx *x)
{
	const struct tgotp_store_config *s = &x->c->cfg.store;
	const char *sec = TOP_KEY(store);
	struct stat st;
	bool exists;
	int before;
	cJSON *f;
	char *key = NULL;
	size_t len = 0;

	check_ca(x, STORE_KEY(ca_file), s->ca_file, sec);
	check_ca(x, STORE_KEY(cert_file), s->cert_file, sec);
	if (!s->key_file[0])
		return;
	before = x->c->errors;
	f = describe(x, STORE_KEY(key_file), s->key_file, &st, &exists);
	at_key(x, STORE_KEY(key_file), sec);
	if (tgotp_read_file(s->key_file, TGOTP_FILE_SECRET, 1 << 20, &key, &len, &x->c->log) == 0)
		tgotp_freezero(key, len + 1);
	verdict(x, f, before);
}

static void check_files(struct ctx *x)
{
	const struct tgotp_config *cfg = &x->c->cfg;

	check_secret(x, TOP_KEY(token_file), cfg->token_file, NULL, TGOTP_SECRET_TOKEN);
	check_ca(x, TOP_KEY(ca_file), cfg->ca_file, NULL);
	check_users_file(x);
	check_state_dir(x);
	if (cfg->backup_codes_file[0])
		check_backup_codes(x);
	if (cfg->ldap.enabled) {
		if (cfg->ldap.bind_password_file[0])
			check_secret(x, LDAP_KEY(bind_password_file), cfg->ldap.bind_password_file,
				     TOP_KEY(ldap), TGOTP_SECRET_PASSWORD);
		check_ca(x, LDAP_KEY(ca_file), cfg->ldap.ca_file, TOP_KEY(ldap));
	}
	if (cfg->store.enabled && cfg->store.type == TGOTP_STORE_ETCD)
		check_store_files(x);
	x->c->prefix[0] = '\0';
}

/* ---- --online */

/* A request id that no message has: revoking it costs nothing. */
#define PROBE_REQUEST_ID "0"

static void check_gateway(struct ctx *x, cJSON *online)
{
	struct cli *c = x->c;
	struct tgotp_gw_opts o = {c->cfg.api_url, NULL, c->cfg.ca_file, c->cfg.proxy,
				  c->cfg.timeout};
	struct tgotp_status st = {0};
	struct tgotp_gateway *gw = NULL;
	enum tgotp_gw_result r = TGOTP_GW_UNAVAILABLE;
	cJSON *g = cJSON_AddObjectToObject(online, "gateway"), *held;
	char *token;
	bool accepted = false;

	cJSON_AddStringToObject(g, "api_url", c->cfg.api_url);
	/* an unreadable token was reported above */
	held = c->held = cJSON_CreateArray();
	token = tgotp_read_secret_line(c->cfg.token_file, TGOTP_SECRET_TOKEN, &c->log);
	c->held = NULL;
	cJSON_Delete(held);
	if (token) {
		o.token = token;
		gw = tgotp_gateway_new(&o, &c->log);
		tgotp_strfreezero(token);
	}
	if (gw) {
		/* the Gateway's refusal of the unknown id is the expected
		 * answer: its log line is shown only when the token failed */
		held = c->held = cJSON_CreateArray();
		r = tgotp_gw_revoke_status(gw, PROBE_REQUEST_ID, &st);
		c->held = NULL;
		accepted = r == TGOTP_GW_OK || (st.answered && st.error[0] &&
						strncmp(st.error, "ACCESS_TOKEN_", 13) != 0);
		if (!accepted)
			cli_replay(c, held);
		cJSON_Delete(held);
	}
	cJSON_AddBoolToObject(g, "reached", st.answered);
	cJSON_AddBoolToObject(g, "token_accepted", accepted);
	if (st.error[0])
		cJSON_AddStringToObject(g, "answer", st.error);
	if (accepted)
		cli_say(c, LOG_INFO, "gateway: %s: TLS ok, the token is accepted (%s)",
			c->cfg.api_url, st.error[0] ? st.error : "ok");
	else if (st.answered && st.error[0])
		cli_say(c, LOG_ERR, "%s: token_file: the Gateway refuses the token: %s", c->config,
			st.error);
	else if (gw)
		cli_say(c, LOG_ERR, "gateway: %s: cannot be reached (%s)", c->cfg.api_url,
			tgotp_gw_result_str(r));
	else
		cli_say(c, LOG_INFO, "gateway: not asked: the token file is not usable");
	tgotp_gateway_free(gw);
}

static void check_ldap(struct ctx *x, cJSON *online)
{
	int before = x->c->errors;
	cJSON *l = cJSON_AddObjectToObject(online, "ldap");

	cJSON_AddStringToObject(l, "uri", x->c->cfg.ldap.uri);
	tgotp_ldap_probe(&x->c->cfg.ldap, &x->c->log);
	cJSON_AddBoolToObject(l, "ok", x->c->errors == before);
}

int tgotp_cmd_check(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {"--online", "--json",
					    "--pam-dir=", "--sshd-config=", NULL};
	bool set[4] = {false, false, false, false};
	const char *vals[4] = {NULL, NULL, NULL, NULL}, *pos[1];
	struct ctx x = {c, NULL, 0, NULL};
	cJSON *out = NULL, *online;
	int before;

	if (cli_args(argc, argv, flags, set, vals, pos, 0) < 0)
		return EXIT_USAGE;
	c->json = set[1];
	if (cli_need_root("check", "it reads the token and the state directory as the module "
				   "does") < 0)
		return EXIT_PROBLEM;
	out = cJSON_CreateObject();
	x.files = cJSON_CreateArray();
	cJSON_AddStringToObject(out, "config", c->config);
	before = c->errors;
	if (cli_load_config(c) == 0) {
		tgotp_read_file(c->config, TGOTP_FILE_CONFIG, TGOTP_CONFIG_MAX_SIZE, &x.text,
				&x.len, &c->log);
		cli_say(c, LOG_INFO, "%s: configuration ok", c->config);
		check_files(&x);
	}
	cJSON_AddBoolToObject(out, "config_ok", c->cfg_loaded && c->errors == before);
	cJSON_AddItemToObject(out, "files", x.files);
	check_pam(c, vals[2] ? vals[2] : "/etc/pam.d", vals[3], out);
	if (set[0] && c->cfg_loaded) {
		online = cJSON_AddObjectToObject(out, "online");
		check_gateway(&x, online);
		if (c->cfg.ldap.enabled)
			check_ldap(&x, online);
	}
	cJSON_AddBoolToObject(out, "ok", c->errors == 0);
	if (x.text)
		tgotp_freezero(x.text, x.len + 1);
	if (c->json)
		cli_print_json(c, out);
	else
		cJSON_Delete(out);
	if (!c->json)
		printf("%d error%s, %d warning%s\n", c->errors, c->errors == 1 ? "" : "s",
		       c->warnings, c->warnings == 1 ? "" : "s");
	return c->errors ? EXIT_PROBLEM : 0;
}
