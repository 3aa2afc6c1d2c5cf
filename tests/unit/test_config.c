/* Unit tests: configuration parsing and validation (src/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/config.h"
#include "../../src/config_keys.h"

#define NAME "/etc/security/test-tgotp.conf"

/* --- helpers ------------------------------------------------------------ */

static int parse(const char *text, struct tgotp_config *c)
{
	nlines = nerr = 0;
	memset(c, 0, sizeof(*c));
	return tgotp_config_parse(NAME, text, strlen(text), c, &test_log);
}

/* Parses text that must be accepted; the caller frees c. */
static void ok(const char *text, struct tgotp_config *c)
{
	int rc = parse(text, c);

	if (rc != 0) {
		print_message("rejected:\n%s\n", text);
		dump_log();
	}
	assert_int_equal(rc, 0);
}

/* Text that must be rejected, with at least one error logged. */
static void bad(const char *text)
{
	struct tgotp_config c;
	int rc = parse(text, &c);

	tgotp_config_free(&c);
	if (rc != -1)
		print_message("accepted:\n%s\n", text);
	assert_int_equal(rc, -1);
	assert_true(nerr > 0);
}

static void good(const char *text)
{
	struct tgotp_config c;

	ok(text, &c);
	tgotp_config_free(&c);
}

/* One error line that names the file and this line ("NAME:23: "), and
 * holds key: the line itself, not a digit of the value or the range. */
static bool logged_at(int line, const char *key)
{
	char where[sizeof(NAME) + 16];

	snprintf(where, sizeof(where), "%s:%d: ", NAME, line);
	if (logged3(where, key, ""))
		return true;
	print_message("wanted '%s' and '%s' in:\n", where, key);
	dump_log();
	return false;
}

/* Empty (NULL or "") for string options whose default is "". */
#define assert_empty(s) assert_true((s) == NULL || (s)[0] == '\0')

/* --- tests ----------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("", &c);
	assert_string_equal(c.api_url, "https://gatewayapi.telegram.org");
	assert_string_equal(c.token_file, "/etc/security/pam_tgotp.token");
	assert_empty(c.ca_file);
	assert_empty(c.proxy);
	assert_int_equal(c.timeout, 10);
	assert_int_equal(c.code_length, 6);
	assert_int_equal(c.ttl, 300);
	assert_int_equal(c.max_tries, 3);
	assert_true(c.check_ability);
	assert_empty(c.sender_username);
	assert_empty(c.callback_url);
	assert_int_equal(c.failmode, TGOTP_FAIL_SECURE);
	assert_int_equal(c.unmapped, TGOTP_UNMAPPED_DENY);
	assert_empty(c.default_country_code);
	assert_string_equal(c.users_file, "/etc/security/pam_tgotp.users");
	assert_int_equal(c.ngroups, 0);
	assert_string_equal(c.prompt, "Telegram code: ");
	assert_string_equal(c.payload, "%s %u@%H from %r");
	assert_int_equal(c.rate_limit, 5);
	assert_int_equal(c.rate_window, 900);
	assert_int_equal(c.daily_budget, 0);
	assert_int_equal(c.grace_period, 0);
	assert_empty(c.backup_codes_file);
	assert_true(c.balance_warning == 0.0);
	assert_string_equal(c.state_dir, "/var/lib/pam_tgotp");
	assert_int_equal(c.nusers, 0);
	assert_false(c.ldap.enabled);
	tgotp_config_free(&c);
}

static void test_every_key(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("# all keys, contract names\n"
	   "api_url = \"https://gw.example.org\"\n"
	   "token_file = \"/etc/tgotp/token\"\n"
	   "ca_file = \"/etc/tgotp/ca.pem\"\n"
	   "proxy = \"http://proxy.example.org:3128\"\n"
	   "timeout = 7\n"
	   "code_length = 8\n"
	   "ttl = 120\n"
	   "max_tries = 5\n"
	   "check_ability = false\n"
	   "sender_username = \"examplechan\"\n"
	   "callback_url = \"https://example.org/cb\"\n"
	   "failmode = \"safe\"\n"
	   "unmapped = \"ignore\"\n"
	   "default_country_code = \"44\"\n"
	   "users_file = \"/etc/tgotp/users\"\n"
	   "groups = {\"wheel\", \"admins\"}\n"
	   "prompt = \"Code: \"\n"
	   "payload = \"%u on %H\"\n"
	   "rate_limit = 2\n"
	   "rate_window = 600\n"
	   "daily_budget = 100\n"
	   "grace_period = 60\n"
	   "state_dir = \"/run/tgotp\"\n"
	   "user alice { phone = \"+44 20 7946 0958\" }\n"
	   "user bob { phone = \"+14155550101\" }\n"
	   "ldap {\n"
	   "  uri = \"ldaps://ldap1.example.org ldaps://ldap2.example.org\"\n"
	   "  base = \"ou=people,dc=example,dc=org\"\n"
	   "  filter = \"(&(uid=%u)(objectClass=person))\"\n"
	   "  attribute = \"telephoneNumber\"\n"
	   "  bind_dn = \"cn=pam,dc=example,dc=org\"\n"
	   "  bind_password_file = \"/etc/tgotp/ldap.secret\"\n"
	   "  starttls = false\n"
	   "  ca_file = \"/etc/tgotp/ldap-ca.pem\"\n"
	   "  timeout = 3\n"
	   "}\n",
	   &c);
	assert_string_equal(c.api_url, "https://gw.example.org");
	assert_string_equal(c.token_file, "/etc/tgotp/token");
	assert_string_equal(c.ca_file, "/etc/tgotp/ca.pem");
	assert_string_equal(c.proxy, "http://proxy.example.org:3128");
	assert_int_equal(c.timeout, 7);
	assert_int_equal(c.code_length, 8);
	assert_int_equal(c.ttl, 120);
	assert_int_equal(c.max_tries, 5);
	assert_false(c.check_ability);
	assert_string_equal(c.sender_username, "examplechan");
	assert_string_equal(c.callback_url, "https://example.org/cb");
	assert_int_equal(c.failmode, TGOTP_FAIL_SAFE);
	assert_int_equal(c.unmapped, TGOTP_UNMAPPED_IGNORE);
	assert_string_equal(c.default_country_code, "44");
	assert_string_equal(c.users_file, "/etc/tgotp/users");
	assert_int_equal(c.ngroups, 2);
	assert_string_equal(c.groups[0], "wheel");
	assert_string_equal(c.groups[1], "admins");
	assert_string_equal(c.prompt, "Code: ");
	assert_string_equal(c.payload, "%u on %H");
	assert_int_equal(c.rate_limit, 2);
	assert_int_equal(c.rate_window, 600);
	assert_int_equal(c.daily_budget, 100);
	assert_int_equal(c.grace_period, 60);
	assert_string_equal(c.state_dir, "/run/tgotp");
	assert_int_equal(c.nusers, 2);
	assert_string_equal(c.users[0].name, "alice");
	assert_string_equal(c.users[0].phone, "+44 20 7946 0958");
	assert_string_equal(c.users[1].name, "bob");
	assert_string_equal(c.users[1].phone, "+14155550101");
	assert_true(c.ldap.enabled);
	assert_string_equal(c.ldap.uri, "ldaps://ldap1.example.org ldaps://ldap2.example.org");
	assert_string_equal(c.ldap.base, "ou=people,dc=example,dc=org");
	assert_string_equal(c.ldap.filter, "(&(uid=%u)(objectClass=person))");
	assert_string_equal(c.ldap.attribute, "telephoneNumber");
	assert_string_equal(c.ldap.bind_dn, "cn=pam,dc=example,dc=org");
	assert_string_equal(c.ldap.bind_password_file, "/etc/tgotp/ldap.secret");
	assert_false(c.ldap.starttls);
	assert_string_equal(c.ldap.ca_file, "/etc/tgotp/ldap-ca.pem");
	assert_int_equal(c.ldap.timeout, 3);
	tgotp_config_free(&c);
}

struct range {
	const char *key;
	long lo, hi;
	size_t off;
	const char *context; /* lines after the key, for the whole-file checks */
};

static long get_long(const struct tgotp_config *c, size_t off)
{
	return *(const long *)(const void *)((const char *)c + off);
}

static void check_range(const struct range *r)
{
	struct tgotp_config c;
	char text[256];
	long accepted[2] = {r->lo, r->hi};
	long rejected[4] = {0, -1, r->lo - 1, r->hi + 1};
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "%s = %ld\n%s", r->key, accepted[i],
			 r->context ? r->context : "");
		ok(text, &c);
		assert_int_equal(get_long(&c, r->off), accepted[i]);
		tgotp_config_free(&c);
	}
	for (i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "%s = %ld\n", r->key, rejected[i]);
		bad(text);
		/* Logged with the file, the line and the key. */
		assert_true(logged_at(1, r->key));
	}
}

static void test_ranges(void **state)
{
	static const struct range ranges[] = {
	    {"timeout", 1, 120, offsetof(struct tgotp_config, timeout), NULL},
	    /* 4 digits only with few guesses a day (test_guessing_odds) */
	    {"code_length", 4, 8, offsetof(struct tgotp_config, code_length),
	     "max_tries = 1\nrate_limit = 1\nrate_window = 86400\n"},
	    {"ttl", 30, 3600, offsetof(struct tgotp_config, ttl), NULL},
	    {"max_tries", 1, 10, offsetof(struct tgotp_config, max_tries), NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		check_range(&ranges[i]);
}

/* SECURITY: max_tries x rate_limit x 86400 / rate_window guesses a day
 * against 10^code_length codes stay under 1 %. */
static void test_guessing_odds(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("", &c); /* the defaults: 1440 guesses a day, 10^6 codes: 0.144 % */
	tgotp_config_free(&c);
	good("code_length = 4\nmax_tries = 1\nrate_limit = 1\nrate_window = 900\n"); /* 0.96 % */
	bad("code_length = 4\nmax_tries = 1\nrate_limit = 1\nrate_window = 864\n");  /* 1 % */
	assert_true(logged3("max_tries x rate_limit", "rate_window", "code_length"));
	bad("code_length = 4\n");
	bad("rate_limit = 1000\nrate_window = 1\n");
	bad("max_tries = 10\nrate_limit = 70\n"); /* 10 x 70 x 96 = 67200: 6.7 % */
	good("max_tries = 10\nrate_limit = 10\n");
	good("code_length = 8\nmax_tries = 10\nrate_limit = 1000\nrate_window = 86400\n");
}

static void test_counters_not_negative(void **state)
{
	(void)state;
	bad("rate_limit = -1\n");
	bad("rate_window = -1\n");
	bad("daily_budget = -1\n");
	bad("grace_period = -1\n");
	good("daily_budget = 0\n"); /* 0 = no cap */
	good("grace_period = 0\n"); /* 0 = off */
}

static void test_wrong_types(void **state)
{
	(void)state;
	bad("timeout = \"ten\"\n");
	bad("timeout = 10.5\n");
	bad("timeout = 10s\n");
	bad("code_length = 99999999999999999999999\n");
	bad("check_ability = maybe\n");
}

static void test_api_url(void **state)
{
	(void)state;
	good("api_url = \"https://gw.example.org\"\n");
	good("api_url = \"https://127.0.0.1:8443\"\n");
	/* Scheme names are case-insensitive and curl is limited to https. */
	good("api_url = \"HTTPS://gw.example.org\"\n");
	bad("api_url = \"http://gatewayapi.telegram.org\"\n");
	bad("api_url = \"HTTP://gatewayapi.telegram.org\"\n");
	bad("api_url = \"ftp://gatewayapi.telegram.org\"\n");
	bad("api_url = \"gatewayapi.telegram.org\"\n");
	bad("api_url = \"\"\n");
	bad("api_url = \"https://\"\n");
	bad("api_url = \" https://gw.example.org\"\n");
}

static void test_enums(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("failmode = \"secure\"\nunmapped = \"fallback\"\n", &c);
	assert_int_equal(c.failmode, TGOTP_FAIL_SECURE);
	assert_int_equal(c.unmapped, TGOTP_UNMAPPED_FALLBACK);
	tgotp_config_free(&c);
	ok("failmode = \"safe\"\nunmapped = \"deny\"\n", &c);
	assert_int_equal(c.failmode, TGOTP_FAIL_SAFE);
	assert_int_equal(c.unmapped, TGOTP_UNMAPPED_DENY);
	tgotp_config_free(&c);
	ok("unmapped = \"ignore\"\n", &c);
	assert_int_equal(c.unmapped, TGOTP_UNMAPPED_IGNORE);
	tgotp_config_free(&c);

	bad("failmode = \"open\"\n");
	bad("failmode = \"\"\n");
	bad("failmode = \"secure \"\n");
	bad("unmapped = \"allow\"\n");
	bad("unmapped = \"\"\n");
}

static void test_unknown_key(void **state)
{
	(void)state;
	bad("timeout = 5\n"
	    "faillmode = \"safe\"\n");
	assert_true(logged_at(2, "faillmode"));
	bad("ldap { uri = \"ldap://127.0.0.1\" base = \"dc=x\" frobnicate = 1 }\n");
	bad("user alice { phone = \"+442079460958\" shell = \"/bin/sh\" }\n");
}

/* 22 lines before line 23: blank ones, or comment ones as every shipped
 * configuration starts with. */
#define BLANK22 "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
#define PAD22                                                                                      \
	"# pam_tgotp\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n"                                              \
	"#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n# end\n"

/* Every error names the file, line 23 and the key. */
static void check_error_location(const char *pad)
{
	static const struct {
		const char *line, *key;
	} cases[] = {
	    {"ttl 300\n", "ttl"},		     /* syntax error */
	    {"ttl = \"long\"\n", "ttl"},	     /* type error */
	    {"timeout = 121\n", "timeout"},	     /* out of range */
	    {"failmode = \"open\"\n", "failmode"},   /* not one of the values */
	    {"faillmode = \"safe\"\n", "faillmode"}, /* unknown key */
	    {"api_url = \"http://x\"\n", "api_url"},
	};
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", pad, cases[i].line);
		bad(text);
		assert_true(logged_at(23, cases[i].key));
	}
	/* Syntax errors libconfuse cannot tie to a key: the file at least. */
	snprintf(text, sizeof(text), "%s%s", pad, "ttl = = 300\n");
	bad(text);
	assert_true(logged_at(23, ""));
	snprintf(text, sizeof(text), "%s%s", pad, "ldap {\n"); /* unterminated */
	bad(text);
	assert_true(logged3(NAME, ":", ""));
}

static void test_error_location(void **state)
{
	(void)state;
	check_error_location(BLANK22);
}

static void test_error_location_after_comments(void **state)
{
	(void)state;
	check_error_location(PAD22);
}

/* The comments pam_tgotp blanks (for line numbers) are exactly those
 * libconfuse skips: a commented-out setting never comes alive, and a
 * value containing "//" stays a value. */
static void test_comments_agree_with_libconfuse(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("/*/ timeout = 5 /* */\n", &c);
	assert_int_equal(c.timeout, 10);
	tgotp_config_free(&c);
	ok("api_url = https://gw.example.org\n", &c);
	assert_string_equal(c.api_url, "https://gw.example.org");
	tgotp_config_free(&c);
	ok("/* a\n b */ ttl = 60 // c\nmax_tries = 2 # d\n", &c);
	assert_int_equal(c.ttl, 60);
	assert_int_equal(c.max_tries, 2);
	tgotp_config_free(&c);
	bad("prompt = a/*b\napi_url = \"https://x.example\"\n");
}

static void test_numbers_are_decimal(void **state)
{
	(void)state;
	bad("ttl = 0300\n"); /* not octal 192 */
	bad("timeout = 0x10\n");
	bad("max_tries = 3.0\n");
	good("ttl = 300\ndaily_budget = 0\n");
}

/* An amount: decimal, up to 4 digits after the point, in range; never
 * what strtod alone would take. */
static void test_balance_warning(void **state)
{
	static const char *const refused[] = {"1e3", "0x10", "nan", "inf",     "-1",
					      "1.",  ".5",   "01",  "2.00001", "1000000.01"};
	struct tgotp_config c;
	char text[64];
	size_t i;

	(void)state;
	ok("balance_warning = 2.5\n", &c);
	assert_true(c.balance_warning == 2.5);
	tgotp_config_free(&c);
	ok("balance_warning = 0.0125\n", &c);
	assert_true(c.balance_warning > 0.01249 && c.balance_warning < 0.01251);
	tgotp_config_free(&c);
	ok("balance_warning = 1000000\n", &c);
	assert_true(c.balance_warning == 1000000.0);
	tgotp_config_free(&c);
	ok("balance_warning = 0\n", &c);
	assert_true(c.balance_warning == 0.0);
	tgotp_config_free(&c);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(text, sizeof(text), "%sbalance_warning = %s\n", BLANK22, refused[i]);
		bad(text);
		if (!logged_at(23, "balance_warning"))
			fail_msg("balance_warning = %s: not refused at line 23", refused[i]);
	}
}

static void test_backup_codes_file(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("backup_codes_file = \"/etc/security/pam_tgotp.backup\"\n", &c);
	assert_string_equal(c.backup_codes_file, "/etc/security/pam_tgotp.backup");
	tgotp_config_free(&c);
	bad("backup_codes_file = \"relative/path\"\n");
}

static void test_users_sections(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("user alice { phone = \"+44 20 7946 0958\" }\n"
	   "user \"bob.smith\" {\n  phone = \"020 7946 0000\"\n}\n",
	   &c);
	assert_int_equal(c.nusers, 2);
	assert_string_equal(c.users[0].name, "alice");
	assert_string_equal(c.users[0].phone, "+44 20 7946 0958");
	assert_string_equal(c.users[1].name, "bob.smith");
	assert_string_equal(c.users[1].phone, "020 7946 0000");
	tgotp_config_free(&c);

	bad("user alice { phone = \"+442079460958\" }\n"
	    "user alice { phone = \"+14155550101\" }\n");
	bad("user { phone = \"+442079460958\" }\n");
}

static void test_groups(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("groups = {\"wheel\"}\n", &c);
	assert_int_equal(c.ngroups, 1);
	assert_string_equal(c.groups[0], "wheel");
	tgotp_config_free(&c);
	ok("groups = {\"wheel\", \"2fa-users\", \"admins\"}\n", &c);
	assert_int_equal(c.ngroups, 3);
	assert_string_equal(c.groups[0], "wheel");
	assert_string_equal(c.groups[1], "2fa-users");
	assert_string_equal(c.groups[2], "admins");
	tgotp_config_free(&c);
	ok("groups = {}\n", &c);
	assert_int_equal(c.ngroups, 0);
	tgotp_config_free(&c);
}

static void test_access_keys(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("", &c);
	assert_int_equal(c.ntrusted_networks, 0);
	assert_int_equal(c.nexempt_groups, 0);
	assert_int_equal(c.user_source, TGOTP_SOURCE_USER);
	tgotp_config_free(&c);
	ok("trusted_networks = {\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\"}\n"
	   "exempt_groups = {\"breakglass\"}\nuser_source = \"ruser\"\n",
	   &c);
	assert_int_equal(c.ntrusted_networks, 3);
	assert_string_equal(c.trusted_networks[1], "2001:db8::/32");
	assert_int_equal(c.nexempt_groups, 1);
	assert_string_equal(c.exempt_groups[0], "breakglass");
	assert_int_equal(c.user_source, TGOTP_SOURCE_RUSER);
	tgotp_config_free(&c);
	/* an invalid CIDR names the file, its line and the key, and why */
	bad("timeout = 5\ntrusted_networks = {\"10.0.0.0/8\", \"10.0.0.1/8\"}\n");
	assert_true(logged_at(2, "trusted_networks"));
	assert_true(log_contains("past the prefix length"));
	bad("trusted_networks = {\"10.0.0.0/33\"}\n");
	assert_true(log_contains("too long"));
	bad("trusted_networks = {\"gateway.example.org/32\"}\n");
	assert_true(log_contains("not an IPv4 or IPv6 address"));
	bad("trusted_networks = {\"010.0.0.0/8\"}\n");
	bad("trusted_networks = {\"10.0.0.0/08\"}\n");
	bad("trusted_networks = {\"\"}\n");
	bad("user_source = \"caller\"\n");
}

static void test_messages(void **state)
{
	struct tgotp_config c;

	(void)state;
	/* absent: the English texts */
	ok("", &c);
	assert_false(c.messages.enabled);
	assert_string_equal(c.messages.sent, "A Telegram code was sent to %p.");
	assert_string_equal(c.messages.prompt, "Telegram code: ");
	assert_string_equal(c.messages.backup_prompt, "Backup code: ");
	tgotp_config_free(&c);
	/* a missing key keeps its English text */
	ok("messages {\n  wrong = \"Falscher Code. Noch %n Versuche.\"\n"
	   "  prompt = \"Telegram-Code: \"\n}\n",
	   &c);
	assert_true(c.messages.enabled);
	assert_string_equal(c.messages.wrong, "Falscher Code. Noch %n Versuche.");
	assert_string_equal(c.messages.prompt, "Telegram-Code: ");
	assert_string_equal(c.messages.failed, "Telegram verification failed.");
	tgotp_config_free(&c);
	/* the old top-level prompt still works; both at once is refused */
	ok("prompt = \"Code: \"\n", &c);
	assert_string_equal(c.messages.prompt, "Code: ");
	tgotp_config_free(&c);
	bad("prompt = \"Code: \"\nmessages { prompt = \"Kod: \" }\n");
	assert_true(log_contains("set twice"));
	/* each message knows its own directives only: never printf's */
	bad("timeout = 5\nmessages {\n  wrong = \"%s%s%n\"\n}\n");
	assert_true(logged_at(3, "wrong"));
	bad("messages { sent = \"sent to %n\" }\n");
	bad("messages { rate_limited = \"wait %p\" }\n");
	bad("messages { failed = \"100%\" }\n");
	good("messages { failed = \"100%% failed\" }\n");
	/* printable UTF-8, capped */
	good("messages { failed = \"\xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0.\" }\n");
	bad("messages { failed = \"\xc3\x28\" }\n");
	bad("messages { failed = \"a\xc2\x9b[2Jb\" }\n");
	bad("messages { failed = \"\" }\n");
	{
		char text[300];

		snprintf(text, sizeof(text), "messages { unavailable = \"%0200d\" }\n", 0);
		good(text);
		snprintf(text, sizeof(text), "messages { unavailable = \"%0201d\" }\n", 0);
		bad(text);
		assert_true(log_contains("1 to 200 bytes"));
	}
	bad("messages { nonsense = \"x\" }\n");
	bad("messages { }\nmessages { }\n");
}

static void test_callback_url(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("callback_url = \"https://example.org/tg/cb\"\n", &c);
	assert_string_equal(c.callback_url, "https://example.org/tg/cb");
	tgotp_config_free(&c);
	good("callback_url = \"\"\n");
	bad("callback_url = \"http://example.org/tg/cb\"\n");
	bad("callback_url = \"example.org/tg/cb\"\n");
}

static void test_default_country_code(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("default_country_code = \"380\"\n", &c);
	assert_string_equal(c.default_country_code, "380");
	tgotp_config_free(&c);
	good("default_country_code = \"1\"\n");
	good("default_country_code = \"\"\n");
	bad("default_country_code = \"+44\"\n");
	bad("default_country_code = \"4a\"\n");
	bad("default_country_code = \" 44\"\n");
	bad("default_country_code = \"44 \"\n");
}

static void test_payload_template(void **state)
{
	(void)state;
	good("payload = \"%s %u@%H from %r\"\n");
	good("payload = \"login %u (100%%)\"\n");
	bad("payload = \"%u %x\"\n");
	bad("payload = \"%u %\"\n");
}

static void test_store(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("", &c);
	assert_false(c.store.enabled);
	assert_int_equal(c.grace_scope, TGOTP_GRACE_HOST);
	tgotp_config_free(&c);
	ok("store { type = \"etcd\" endpoints = {\"https://10.0.0.11:2379\", "
	   "\"https://10.0.0.12:2379/\"} cert_file = \"/etc/c.pem\" key_file = \"/etc/c.key\" }\n"
	   "grace_scope = \"fleet\"\n",
	   &c);
	assert_true(c.store.enabled);
	assert_int_equal(c.store.type, TGOTP_STORE_ETCD);
	assert_int_equal(c.store.nendpoints, 2);
	assert_string_equal(c.store.endpoints[1], "https://10.0.0.12:2379/");
	assert_string_equal(c.store.prefix, "/pam_tgotp/");
	assert_int_equal(c.store.timeout, 2);
	assert_int_equal(c.store.when_down, TGOTP_DOWN_LOCAL);
	assert_empty(c.store.ca_file);
	assert_int_equal(c.grace_scope, TGOTP_GRACE_FLEET);
	tgotp_config_free(&c);
	/* https only, at least one member */
	bad("store { type = \"etcd\" endpoints = {\"http://10.0.0.11:2379\"} }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a:1\", \"10.0.0.11:2379\"} }\n");
	bad("store { type = \"etcd\" }\n");
	bad("store { type = \"redis\" }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a\"} when_down = \"open\" }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a\"} timeout = 0 }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a\"} timeout = 61 }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a\"} prefix = \"\" }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a\"} key_file = \"/k\" }\n");
	bad("store { type = \"etcd\" endpoints = {\"https://a\"} cert_file = \"c.pem\" }\n");
	/* a grace the fleet shares needs a store the fleet shares */
	bad("grace_scope = \"fleet\"\n");
	bad("store { type = \"files\" }\ngrace_scope = \"fleet\"\n");
	bad("grace_scope = \"everywhere\"\n");
}

static void test_ldap_defaults(void **state)
{
	struct tgotp_config c;

	(void)state;
	ok("ldap { uri = \"ldap://127.0.0.1\" base = \"dc=example,dc=com\" }\n", &c);
	assert_true(c.ldap.enabled);
	assert_string_equal(c.ldap.uri, "ldap://127.0.0.1");
	assert_string_equal(c.ldap.base, "dc=example,dc=com");
	assert_string_equal(c.ldap.filter, "(uid=%u)");
	assert_string_equal(c.ldap.attribute, "mobile");
	assert_int_equal(c.ldap.timeout, 5);
	assert_true(c.ldap.starttls);
	assert_empty(c.ldap.bind_dn);
	assert_empty(c.ldap.bind_password_file);
	assert_empty(c.ldap.ca_file);
	tgotp_config_free(&c);

	bad("ldap { uri = \"http://127.0.0.1\" base = \"dc=example,dc=com\" }\n");
	/* Without a uri libldap would take one from ldap.conf or the environment. */
	bad("ldap { base = \"dc=example,dc=com\" }\n");
	bad("ldap { uri = \"ldap://127.0.0.1\" base = \"dc=x\" timeout = 0 }\n");
	bad("ldap { uri = \"ldap://127.0.0.1\" base = \"dc=x\" starttls = maybe }\n");
}

/* SECURITY: no directory traffic in clear. ldap:// needs StartTLS;
 * ldaps:// and ldapi:// (a local socket, its path URL-encoded) do not. The
 * error names the file, the line of whichever of uri and starttls comes
 * last, and that key. */
static void test_ldap_no_clear_text(void **state)
{
	(void)state;
	good("ldap { uri = \"ldaps://127.0.0.1\" base = \"dc=x\" starttls = false }\n");
	good(
	    "ldap { uri = \"ldapi://%2Frun%2Fslapd%2Fldapi\" base = \"dc=x\" starttls = false }\n");
	good("ldap { starttls = false uri = \"LDAPS://a LDAPI://%2Frun%2Fldapi\" base = \"dc=x\" "
	     "}\n");
	good("ldap { uri = \"ldap://127.0.0.1 ldaps://b\" base = \"dc=x\" starttls = true }\n");

	bad("ldap {\n  uri = \"ldap://127.0.0.1\"\n  base = \"dc=x\"\n  starttls = false\n}\n");
	assert_true(
	    logged3(NAME ":4: ", "starttls = false with uri \"ldap://127.0.0.1\"", "in clear"));
	bad("ldap {\n  starttls = false\n  base = \"dc=x\"\n  uri = \"ldaps://a LDAP://b\"\n}\n");
	assert_true(
	    logged3(NAME ":4: ", "uri = \"ldaps://a LDAP://b\" with starttls = false", "in clear"));
	/* no other scheme; ldapi:// names its socket */
	bad("ldap { uri = \"cldap://127.0.0.1\" base = \"dc=x\" }\n");
	assert_true(logged3(NAME, "uri = \"cldap://127.0.0.1\"", "ldapi://"));
	bad("ldap { uri = \"ldapx://127.0.0.1\" base = \"dc=x\" }\n");
	bad("ldap { uri = \"ldapi:///\" base = \"dc=x\" }\n");
	bad("ldap { uri = \"ldaps://a http://b\" base = \"dc=x\" }\n");
}

static void test_no_environment(void **state)
{
	(void)state;
	setenv("HOME", "/tmp/attacker", 1);
	setenv("TGOTP_TEST_PHONE", "+442079460958", 1);
	bad("token_file = \"${HOME}/token\"\n");
	bad("api_url = \"https://${HOME}\"\n");
	bad("user alice { phone = \"${TGOTP_TEST_PHONE}\" }\n");
	bad("token_file = ${HOME}\n");
	unsetenv("TGOTP_TEST_UNSET_VAR");
	bad("proxy = \"${TGOTP_TEST_UNSET_VAR}\"\n");
}

static void test_nul_byte_rejected(void **state)
{
	static const char text[] = "timeout = 7\n\0ttl = 31\n";
	struct tgotp_config c;

	(void)state;
	nlines = nerr = 0;
	memset(&c, 0, sizeof(c));
	assert_int_equal(tgotp_config_parse(NAME, text, sizeof(text) - 1, &c, &test_log), -1);
	tgotp_config_free(&c);
	assert_true(nerr > 0);
}

static void test_len_is_honoured(void **state)
{
	static const char text[] = "timeout = 7\nthis is not valid";
	struct tgotp_config c;

	(void)state;
	nlines = nerr = 0;
	memset(&c, 0, sizeof(c));
	assert_int_equal(tgotp_config_parse(NAME, text, strlen("timeout = 7\n"), &c, &test_log), 0);
	assert_int_equal(c.timeout, 7);
	tgotp_config_free(&c);
}

/* ---- the key table -------------------------------------------------------- */

/* "key = default" as it would be written in the file. */
static void write_default(const struct tgotp_config_key *k, char *out, size_t len)
{
	bool quoted = k->type == TGOTP_KEY_STR || k->type == TGOTP_KEY_ENUM;

	snprintf(out, len, "%s = %s%s%s", k->name, quoted ? "\"" : "", k->def, quoted ? "\"" : "");
}

/* What a section needs around one of its keys to be accepted. */
static const char *section_context(const char *section)
{
	if (strcmp(section, "ldap") == 0)
		return "ldap { uri = \"ldaps://ldap.example.org\" base = \"dc=example,dc=org\" ";
	if (strcmp(section, "messages") == 0)
		return "messages { ";
	if (strcmp(section, "store") == 0)
		return "store { ";
	return "user alice { ";
}

/* The field of a top-level key holds the same whether the default is
 * written out or left to the parser. */
static void assert_same_field(const struct tgotp_config_key *k, const struct tgotp_config *a,
			      const struct tgotp_config *b)
{
	const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;

	if (k->type == TGOTP_KEY_STR)
		assert_string_equal(*(char *const *)(const void *)fa,
				    *(char *const *)(const void *)fb);
	else if (k->type == TGOTP_KEY_INT)
		assert_int_equal(*(const long *)(const void *)fa, *(const long *)(const void *)fb);
	else if (k->type == TGOTP_KEY_AMOUNT)
		assert_true(*(const double *)(const void *)fa == *(const double *)(const void *)fb);
	else if (k->type == TGOTP_KEY_BOOL)
		assert_int_equal(*(const bool *)(const void *)fa, *(const bool *)(const void *)fb);
	else if (k->type == TGOTP_KEY_ENUM)
		assert_int_equal(*(const int *)(const void *)fa, *(const int *)(const void *)fb);
}

static void check_keys(const struct tgotp_config_key *keys, size_t n, const char *section)
{
	struct tgotp_config c, d;
	char text[512], def[256];
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct tgotp_config_key *k = &keys[i];

		assert_non_null(k->name);
		for (j = 0; j < i; j++)
			if (strcmp(keys[j].name, k->name) == 0)
				fail_msg("%s: given twice", k->name);
		/* One sentence for the key reference. */
		if (!k->doc || !*k->doc || k->doc[strlen(k->doc) - 1] != '.')
			fail_msg("%s: no documentation line", k->name);
		if (k->keys) {
			assert_null(section); /* one level of sections */
			check_keys(k->keys, k->nkeys, k->name);
			continue;
		}
		assert_null(k->keys);
		if (!k->def) /* none: empty unless given */
			continue;
		if (k->type == TGOTP_KEY_INT || k->type == TGOTP_KEY_AMOUNT)
			assert_in_range(strtol(k->def, NULL, 10), k->min, k->max);
		write_default(k, def, sizeof(def));
		if (section)
			snprintf(text, sizeof(text), "%s%s }\n", section_context(section), def);
		else
			snprintf(text, sizeof(text), "%s\n", def);
		ok(text, &c); /* parses, and its own checks pass */
		if (!section) {
			ok("", &d);
			assert_same_field(k, &c, &d);
			tgotp_config_free(&d);
		}
		tgotp_config_free(&c);
	}
}

static void test_key_table(void **state)
{
	size_t n = 0;
	const struct tgotp_config_key *keys = tgotp_config_keys(&n);

	(void)state;
	assert_true(n > 20);
	check_keys(keys, n, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_guessing_odds),
	    cmocka_unit_test(test_counters_not_negative),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_api_url),
	    cmocka_unit_test(test_enums),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_error_location),
	    cmocka_unit_test(test_error_location_after_comments),
	    cmocka_unit_test(test_comments_agree_with_libconfuse),
	    cmocka_unit_test(test_numbers_are_decimal),
	    cmocka_unit_test(test_balance_warning),
	    cmocka_unit_test(test_backup_codes_file),
	    cmocka_unit_test(test_users_sections),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_access_keys),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_callback_url),
	    cmocka_unit_test(test_default_country_code),
	    cmocka_unit_test(test_payload_template),
	    cmocka_unit_test(test_store),
	    cmocka_unit_test(test_ldap_defaults),
	    cmocka_unit_test(test_ldap_no_clear_text),
	    cmocka_unit_test(test_no_environment),
	    cmocka_unit_test(test_nul_byte_rejected),
	    cmocka_unit_test(test_len_is_honoured),
	    cmocka_unit_test(test_key_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
