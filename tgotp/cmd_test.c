/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp test USER: a real login from the terminal; tgotp enroll USER PHONE:
 * proof that PHONE gets USER's codes, then USER mapped to it. */
#include <stdio.h>
#include <string.h>

#include "../src/nss.h"
#include "../src/users.h"
#include "tgotp.h"

int tgotp_cmd_test(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {NULL};
	const char *pos[1];
	char account[257];
	struct walk w = {0};
	enum tgotp_lookup r;
	struct tgotp_where where;
	bool ok = false;

	if (cli_args(argc, argv, flags, NULL, NULL, pos, 1) != 1) {
		fprintf(stderr, "usage: tgotp [-c FILE] test USER\n");
		return EXIT_USAGE;
	}
	if (cli_need_root("test", "it reads the token and the state directory") < 0 ||
	    cli_load_config(c) < 0)
		return EXIT_PROBLEM;
	w.c = c;
	w.user = cli_account(c, pos[0], account, sizeof(account));
	w.service = "tgotp-test";
	if (c->cfg.ngroups > 0 &&
	    tgotp_user_in_groups(w.user, c->cfg.groups, c->cfg.ngroups, &c->log) == 0) {
		cli_say(c, LOG_ERR, "%s: not in groups: a login gets PAM_IGNORE, no code is sent",
			w.user);
		return EXIT_PROBLEM;
	}
	r = tgotp_users_lookup_where(&c->cfg, w.user, w.phone, &where, &c->log);
	if (r != TGOTP_LOOKUP_FOUND) {
		cli_say(c, LOG_ERR, "%s: no usable phone number: a login would not get a code",
			w.user);
		return EXIT_PROBLEM;
	}
	if (walk_send(&w) == 0)
		ok = walk_verify(&w) == 0;
	walk_end(&w, ok);
	explicit_bzero(w.phone, sizeof(w.phone));
	printf("%s: %s\n", w.user, ok ? "verified: a login would succeed" : "not verified");
	return ok ? 0 : EXIT_PROBLEM;
}

int tgotp_cmd_enroll(struct cli *c, int argc, char **argv)
{
	static const char *const flags[] = {NULL};
	const char *pos[2];
	struct walk w = {0};
	bool ok = false;
	size_t i;

	if (cli_args(argc, argv, flags, NULL, NULL, pos, 2) != 2) {
		fprintf(stderr, "usage: tgotp [-c FILE] enroll USER PHONE\n");
		return EXIT_USAGE;
	}
	if (cli_need_root("enroll", "it reads the token and writes the users file") < 0 ||
	    cli_load_config(c) < 0)
		return EXIT_PROBLEM;
	if (!tgotp_users_name_ok(pos[0])) {
		cli_say(c, LOG_ERR, "%s: not a name the users file can hold", pos[0]);
		return EXIT_PROBLEM;
	}
	w.c = c;
	w.user = pos[0];
	w.service = "tgotp-enroll";
	if (tgotp_phone_normalise(pos[1], c->cfg.default_country_code, w.phone) < 0) {
		cli_say(c, LOG_ERR, "%s: not a phone number%s", pos[1],
			c->cfg.default_country_code[0] ? ""
						       : " (without default_country_code, "
							 "write it with +)");
		return EXIT_PROBLEM;
	}
	for (i = 0; i < c->cfg.nusers; i++)
		if (strcmp(c->cfg.users[i].name, w.user) == 0)
			cli_say(c, LOG_WARNING,
				"%s: a user section names %s: it comes before users_file",
				c->config, w.user);
	if (walk_send(&w) == 0)
		ok = walk_verify(&w) == 0;
	walk_end(&w, ok);
	if (!ok)
		cli_say(c, LOG_ERR, "%s: not verified: %s is unchanged", w.user, c->cfg.users_file);
	else if (tgotp_users_set(c->cfg.users_file, w.user, w.phone, &c->log) < 0)
		ok = false;
	else
		printf("%s: %s written to %s\n", w.user, w.masked, c->cfg.users_file);
	explicit_bzero(w.phone, sizeof(w.phone));
	return ok ? 0 : EXIT_PROBLEM;
}
