/* libFuzzer target: the configuration file parser (libconfuse underneath).
 * The input is the file's contents, not NUL-terminated. What parses must
 * satisfy the ranges and checks of pam_tgotp.conf(5); what does not must free all. */
#include <string.h>
#include <strings.h>

#include "../../src/config.h"
#include "fuzz.h"
#include "../../src/payload.h"

static bool in_range(long v, long min, long max)
{
	return v >= min && v <= max;
}

static void check_parsed(const struct tgotp_config *c)
{
	size_t i;

	FUZZ_CHECK(strncasecmp(c->api_url, "https://", 8) == 0);
	FUZZ_CHECK(c->token_file[0] == '/' && c->users_file[0] == '/' && c->state_dir[0] == '/');
	FUZZ_CHECK(c->ca_file[0] == '\0' || c->ca_file[0] == '/');
	FUZZ_CHECK(c->proxy && c->sender_username && c->callback_url);
	FUZZ_CHECK(in_range(c->timeout, 1, 120) && in_range(c->code_length, 4, 8));
	FUZZ_CHECK(in_range(c->ttl, 30, 3600) && in_range(c->max_tries, 1, 10));
	FUZZ_CHECK(in_range(c->rate_limit, 1, 1000) && in_range(c->rate_window, 1, 86400));
	FUZZ_CHECK(in_range(c->daily_budget, 0, 1000000) && in_range(c->grace_period, 0, 86400));
	FUZZ_CHECK(strlen(c->default_country_code) <= 3 && c->default_country_code[0] != '0' &&
		   strspn(c->default_country_code, "0123456789") ==
		       strlen(c->default_country_code));
	FUZZ_CHECK(tgotp_payload_check(c->payload) == 0);
	FUZZ_CHECK(c->prompt[0] && strlen(c->prompt) <= 200 && fuzz_printable(c->prompt));
	FUZZ_CHECK(c->groups && c->groups[c->ngroups] == NULL);
	for (i = 0; i < c->ngroups; i++)
		FUZZ_CHECK(c->groups[i] != NULL);
	for (i = 0; i < c->nusers; i++)
		FUZZ_CHECK(c->users[i].name && c->users[i].phone);
	if (c->ldap.enabled) {
		FUZZ_CHECK(c->ldap.uri[0] && c->ldap.base[0] && c->ldap.filter &&
			   c->ldap.attribute);
		FUZZ_CHECK(in_range(c->ldap.timeout, 1, 60));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tgotp_config c;

	if (tgotp_config_parse("fuzz.conf", (const char *)data, size, &c, &fuzz_log) == 0) {
		check_parsed(&c);
		tgotp_config_free(&c);
	}
	return 0;
}
