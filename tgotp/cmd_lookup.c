/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp lookup: where a user's number comes from, as the module finds it. */
#include <stdio.h>
#include <string.h>

#include "../src/nss.h"
#include "../src/users.h"
#include "tgotp.h"

static const char *lookup_str(enum tgotp_lookup r)
{
	switch (r) {
	case TGOTP_LOOKUP_FOUND:
		return "found";
	case TGOTP_LOOKUP_NOT_FOUND:
		return "not_found";
	case TGOTP_LOOKUP_UNAVAILABLE:
		return "unavailable";
	case TGOTP_LOOKUP_REFUSED:
		return "refused";
	default:
		return "error";
	}
}

static const char *unmapped_str(enum tgotp_unmapped u)
{
	return u == TGOTP_UNMAPPED_IGNORE     ? "ignore: PAM_IGNORE"
	       : u == TGOTP_UNMAPPED_FALLBACK ? "fallback: PAM_AUTHINFO_UNAVAIL"
					      : "deny: PAM_AUTH_ERR";
}

/* Whether groups would ask user: "yes", "no", or "yes" when NSS cannot
 * tell (the module then asks rather than let the user through). */
static bool asked(struct cli *c, const char *user, const char **why)
{
	int r;

	if (c->cfg.ngroups == 0) {
		*why = "groups is empty: everybody is asked";
		return true;
	}
	r = tgotp_user_in_groups(user, c->cfg.groups, c->cfg.ngroups, &c->log);
	*why = r == 1	? "a member of groups"
	       : r == 0 ? "not in groups: PAM_IGNORE, no code"
			: "NSS could not tell: asked, to be safe";
	return r != 0;
}

static void print_text(struct cli *c, const char *user, enum tgotp_lookup r,
		       const struct tgotp_where *w, const char *shown, bool ask, const char *why)
{
	printf("user:    %s\n", user);
	printf("asked:   %s (%s)\n", ask ? "yes" : "no", why);
	if (r != TGOTP_LOOKUP_FOUND) {
		printf("number:  none (%s)%s%s\n", lookup_str(r),
		       r == TGOTP_LOOKUP_NOT_FOUND ? "; unmapped = " : "",
		       r == TGOTP_LOOKUP_NOT_FOUND ? unmapped_str(c->cfg.unmapped) : "");
		return;
	}
	printf("number:  %s\n", shown);
	if (w->source == TGOTP_SOURCE_CONFIG)
		printf("source:  config (%s, user section)\n", c->config);
	else if (w->source == TGOTP_SOURCE_USERS_FILE)
		printf("source:  users_file %s line %d\n", c->cfg.users_file, w->line);
	else
		printf("source:  ldap %s\n", w->dn);
}

static cJSON *as_json(struct cli *c, const char *given, const char *user, enum tgotp_lookup r,
		      const struct tgotp_where *w, const char *shown, bool ask, bool full)
{
	static const char *const sources[] = {NULL, "config", "users_file", "ldap"};
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "user", given);
	cJSON_AddStringToObject(j, "account", user);
	cJSON_AddBoolToObject(j, "asked", ask);
	cJSON_AddStringToObject(j, "result", lookup_str(r));
	cJSON_AddBoolToObject(j, "found", r == TGOTP_LOOKUP_FOUND);
	if (r == TGOTP_LOOKUP_FOUND) {
		cJSON_AddStringToObject(j, full ? "phone" : "masked", shown);
		cJSON_AddStringToObject(j, "source", sources[w->source]);
		if (w->source == TGOTP_SOURCE_USERS_FILE) {
			cJSON_AddStringToObject(j, "file", c->cfg.users_file);
			cJSON_AddNumberToObject(j, "line", w->line);
		} else if (w->source == TGOTP_SOURCE_LDAP) {
			cJSON_AddStringToObject(j, "dn", w->dn);
		} else {
			cJSON_AddStringToObject(j, "file", c->config);
		}
	}
	return j;
}

int tgotp_cmd_lookup(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {"--full", "--json", NULL};
	bool set[2] = {false, false}, ask = true;
	const char *pos[1], *user, *why = "";
	char account[257], phone[TGOTP_PHONE_MAX], masked[TGOTP_MASKED_MAX];
	struct tgotp_where w;
	enum tgotp_lookup r = TGOTP_LOOKUP_ERROR;

	if (cli_args(argc, argv, flags, set, NULL, pos, 1) != 1) {
		fprintf(stderr, "usage: tgotp [-c FILE] lookup USER [--full] [--json]\n");
		return EXIT_USAGE;
	}
	c->json = set[1];
	if (set[0] && cli_need_root("lookup --full", "the users file is root-only") < 0)
		return EXIT_PROBLEM;
	if (cli_load_config(c) < 0)
		return EXIT_PROBLEM;
	user = cli_account(c, pos[0], account, sizeof(account));
	ask = asked(c, user, &why);
	/* looked up even when groups would not ask: the administrator may
	 * be about to add the user to them */
	r = tgotp_users_lookup_where(&c->cfg, user, phone, &w, &c->log);
	tgotp_phone_mask(phone, masked);
	if (c->json)
		cli_print_json(
		    c, as_json(c, pos[0], user, r, &w, set[0] ? phone : masked, ask, set[0]));
	else
		print_text(c, user, r, &w, set[0] ? phone : masked, ask, why);
	explicit_bzero(phone, sizeof(phone));
	return r == TGOTP_LOOKUP_FOUND || !ask ? 0 : EXIT_PROBLEM;
}
