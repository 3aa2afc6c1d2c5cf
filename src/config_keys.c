/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration keys, one table. Adding a key is one row here and one
 * field in struct tgotp_config (config.h); a check it needs of its own goes
 * in config_check.c. Kept apart from the parser so that it reads top to
 * bottom as the file's reference, and so that what prints the reference
 * (man page, `tgotp check`) needs nothing of libconfuse. */
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "config_check.h"
#include "config_keys.h"

/* Indexed by the C value, which is what the copy stores. */
static const char *const failmodes[] = {
    [TGOTP_FAIL_SECURE] = "secure", [TGOTP_FAIL_SAFE] = "safe", NULL};
static const char *const unmappeds[] = {[TGOTP_UNMAPPED_DENY] = "deny",
					[TGOTP_UNMAPPED_IGNORE] = "ignore",
					[TGOTP_UNMAPPED_FALLBACK] = "fallback",
					NULL};
static const char *const user_sources[] = {
    [TGOTP_SOURCE_USER] = "user", [TGOTP_SOURCE_RUSER] = "ruser", NULL};

_Static_assert(sizeof(enum tgotp_failmode) == sizeof(int), "an ENUM field is stored as an int");
_Static_assert(sizeof(enum tgotp_unmapped) == sizeof(int), "an ENUM field is stored as an int");
_Static_assert(sizeof(enum tgotp_user_source) == sizeof(int), "an ENUM field is stored as an int");
static const char *const store_types[] = {
    [TGOTP_STORE_FILES] = "files", [TGOTP_STORE_ETCD] = "etcd", NULL};
static const char *const when_downs[] = {
    [TGOTP_DOWN_LOCAL] = "local", [TGOTP_DOWN_DENY] = "deny", NULL};
static const char *const grace_scopes[] = {
    [TGOTP_GRACE_HOST] = "host", [TGOTP_GRACE_FLEET] = "fleet", NULL};
_Static_assert(sizeof(enum tgotp_store_type) == sizeof(int), "an ENUM field is stored as an int");
_Static_assert(sizeof(enum tgotp_when_down) == sizeof(int), "an ENUM field is stored as an int");
_Static_assert(sizeof(enum tgotp_grace_scope) == sizeof(int), "an ENUM field is stored as an int");
_Static_assert(offsetof(struct tgotp_store_config, enabled) == 0, "a SECTION starts with enabled");
_Static_assert(offsetof(struct tgotp_user_entry, name) == 0,
	       "a TITLED element starts with its title");
_Static_assert(offsetof(struct tgotp_ldap_config, enabled) == 0, "a SECTION starts with enabled");
_Static_assert(offsetof(struct tgotp_messages, enabled) == 0, "a SECTION starts with enabled");

/* One row each: the name in the file, the default as written there, the
 * range or check, the struct and field it fills, the line for the key
 * reference. */
#define INT(n, d, lo, hi, s, f, txt)                                                               \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_INT, .def = #d, .min = lo, .max = hi, .doc = txt,     \
		.offset = offsetof(s, f)                                                           \
	}
#define AMOUNT(n, d, lo, hi, s, f, txt)                                                            \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_AMOUNT, .def = #d, .min = lo, .max = hi, .doc = txt,  \
		.offset = offsetof(s, f)                                                           \
	}
#define BOOL(n, d, chk, s, f, txt)                                                                 \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_BOOL, .def = d, .check = chk, .doc = txt,             \
		.offset = offsetof(s, f)                                                           \
	}
#define STR(n, d, chk, s, f, txt)                                                                  \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_STR, .def = d, .check = chk, .doc = txt,              \
		.offset = offsetof(s, f)                                                           \
	}
#define ENUM(n, d, vals, s, f, txt)                                                                \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_ENUM, .def = d, .values = vals, .doc = txt,           \
		.offset = offsetof(s, f)                                                           \
	}
#define LIST(n, d, chk, s, f, nf, txt)                                                             \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_LIST, .def = d, .check = chk, .doc = txt,             \
		.offset = offsetof(s, f), .count = offsetof(s, nf)                                 \
	}
#define SECTION(n, sub, s, f, txt)                                                                 \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_SECTION, .doc = txt, .offset = offsetof(s, f),        \
		.keys = sub, .nkeys = NKEYS(sub)                                                   \
	}
#define TITLED(n, sub, s, f, nf, txt)                                                              \
	{                                                                                          \
		.name = n, .type = TGOTP_KEY_TITLED, .doc = txt, .offset = offsetof(s, f),         \
		.count = offsetof(s, nf), .size = sizeof(*((s *)0)->f), .keys = sub,               \
		.nkeys = NKEYS(sub)                                                                \
	}
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

#define USER struct tgotp_user_entry
static const struct tgotp_config_key user_keys[] = {
    STR("phone", "", NULL, USER, phone,
	"The user's phone number, international or with default_country_code."),
};

#define LDAP struct tgotp_ldap_config
static const struct tgotp_config_key ldap_keys[] = {
    STR("uri", NULL, tgotp_check_ldap_uri, LDAP, uri,
	"Space-separated ldaps://, ldap:// (with StartTLS) or ldapi:// servers, tried in turn."),
    STR("base", NULL, NULL, LDAP, base, "The DN under which users are searched."),
    STR("filter", "(uid=%u)", NULL, LDAP, filter,
	"The search filter; %u is the user name, escaped."),
    STR("attribute", "mobile", NULL, LDAP, attribute, "The attribute that holds the number."),
    STR("bind_dn", "", NULL, LDAP, bind_dn, "The DN to bind as; empty: an anonymous search."),
    STR("bind_password_file", NULL, tgotp_check_path, LDAP, bind_password_file,
	"A root-only file whose first line is bind_dn's password."),
    BOOL("starttls", "true", tgotp_check_starttls, LDAP, starttls,
	 "Whether ldap:// servers are spoken to over StartTLS (they must be)."),
    STR("ca_file", "", tgotp_check_path_or_empty, LDAP, ca_file,
	"A PEM file of the CA that signed the servers' certificates; empty: ldap.conf's."),
    INT("timeout", 5, 1, 60, LDAP, timeout, "Seconds for the whole lookup, over every uri."),
};

#define MSG struct tgotp_messages
static const struct tgotp_config_key message_keys[] = {
    STR("sent", "A Telegram code was sent to %p.", tgotp_check_message_p, MSG, sent,
	"Told once the code is sent; %p is the masked number."),
    STR("prompt", "Telegram code: ", tgotp_check_message, MSG, prompt, "The code prompt."),
    STR("wrong", "Wrong code. Tries left: %n.", tgotp_check_message_n, MSG, wrong,
	"After a wrong code; %n is the tries left."),
    STR("unavailable", "Telegram verification is not available.", tgotp_check_message, MSG,
	unavailable, "When no code can be sent or checked."),
    STR("failed", "Telegram verification failed.", tgotp_check_message, MSG, failed,
	"When the tries ran out, or the code expired at the Gateway."),
    STR("rate_limited", "Too many Telegram codes were requested. Try again in %m minutes.",
	tgotp_check_message_m, MSG, rate_limited,
	"When the user asked for too many codes; %m is the minutes to wait."),
    STR("backup_prompt", "Backup code: ", tgotp_check_message, MSG, backup_prompt,
	"The prompt for a backup code."),
};

#define STORE struct tgotp_store_config
static const struct tgotp_config_key store_keys[] = {
    ENUM("type", "files", store_types, STORE, type,
	 "files: this host's state_dir; etcd: an etcd v3 cluster the fleet shares."),
    LIST("endpoints", "{}", NULL, STORE, endpoints, nendpoints,
	 "The etcd members' https:// URLs, tried in turn."),
    STR("ca_file", "", tgotp_check_path_or_empty, STORE, ca_file,
	"A PEM file of the CA that signed the members' certificates; empty: the system store."),
    STR("cert_file", "", tgotp_check_path_or_empty, STORE, cert_file,
	"This host's client certificate (PEM), root-owned."),
    STR("key_file", "", tgotp_check_path_or_empty, STORE, key_file,
	"The client certificate's key (PEM), root-only (0600)."),
    STR("prefix", "/pam_tgotp/", tgotp_check_store_prefix, STORE, prefix,
	"Where the module's keys live in etcd."),
    INT("timeout", 2, 1, 60, STORE, timeout,
	"Seconds for the whole store step of a login, over every endpoint."),
    ENUM("when_down", "local", when_downs, STORE, when_down,
	 "When no member answers: local uses state_dir, deny refuses the login."),
};

#define TOP struct tgotp_config
static const struct tgotp_config_key keys[] = {
    STR("api_url", "https://gatewayapi.telegram.org", tgotp_check_api_url, TOP, api_url,
	"The Telegram Gateway API, https:// only."),
    STR("token_file", "/etc/security/pam_tgotp.token", tgotp_check_path, TOP, token_file,
	"A root-only file whose first line is the Gateway API token."),
    STR("ca_file", "", tgotp_check_path_or_empty, TOP, ca_file,
	"A PEM bundle to verify the Gateway with instead of the system store."),
    STR("proxy", "", tgotp_check_proxy, TOP, proxy,
	"An http(s):// or socks5(h):// proxy for the Gateway; the environment is never used."),
    INT("timeout", 10, 1, 120, TOP, timeout, "Seconds per Gateway request, connect included."),
    INT("code_length", 6, 4, 8, TOP, code_length, "Digits in a code."),
    INT("ttl", 300, 30, 3600, TOP, ttl, "Seconds a code is valid."),
    INT("max_tries", 3, 1, 10, TOP, max_tries, "Code entries allowed per message."),
    BOOL("check_ability", "true", NULL, TOP, check_ability,
	 "Whether to ask checkSendAbility before sending a code (its fee covers the send)."),
    STR("sender_username", "", tgotp_check_sender, TOP, sender_username,
	"A verified channel that signs the message; empty: none."),
    STR("callback_url", "", tgotp_check_callback_url, TOP, callback_url,
	"An https:// URL for delivery reports; empty: none."),
    ENUM("failmode", "secure", failmodes, TOP, failmode,
	 "When the Gateway cannot be reached: secure denies (or falls back), safe lets in."),
    ENUM("unmapped", "deny", unmappeds, TOP, unmapped,
	 "For a user without a number: deny, ignore (PAM_IGNORE) or fallback."),
    STR("default_country_code", "", tgotp_check_country_code, TOP, default_country_code,
	"The country code for numbers written without one; empty: none."),
    STR("users_file", "/etc/security/pam_tgotp.users", tgotp_check_path, TOP, users_file,
	"A root-owned file of \"name +E164\" lines."),
    LIST("groups", "{}", NULL, TOP, groups, ngroups,
	 "Only members of these groups are asked for a code; {}: everybody."),
    LIST("exempt_groups", "{}", NULL, TOP, exempt_groups, nexempt_groups,
	 "Members of these groups are not asked for a code (PAM_IGNORE); checked after groups."),
    LIST("trusted_networks", "{}", tgotp_check_networks, TOP, trusted_networks, ntrusted_networks,
	 "CIDRs whose literal remote addresses are not asked for a code (PAM_IGNORE); never a "
	 "host name."),
    ENUM("user_source", "user", user_sources, TOP, user_source,
	 "Who is asked for the code: user (PAM_USER) or ruser (PAM_RUSER, the caller of su)."),
    STR("prompt", "Telegram code: ", tgotp_check_message, TOP, prompt,
	"What the user is asked; the same as prompt in messages { }, which is the place for it."),
    STR("payload", "%s %u@%H from %r", tgotp_check_payload, TOP, payload,
	"Audit text sent with the request, never shown: %s service, %u user, %H host, %r remote."),
    INT("rate_limit", 5, 1, 1000, TOP, rate_limit, "Codes per user per rate_window."),
    INT("rate_window", 900, 1, 86400, TOP, rate_window, "Seconds of the rate_limit window."),
    INT("daily_budget", 0, 0, 1000000, TOP, daily_budget,
	"Codes per UTC day for this host; 0: no cap."),
    INT("grace_period", 0, 0, 86400, TOP, grace_period,
	"Seconds without a new code after a verified login from the same place; 0: off."),
    STR("backup_codes_file", "", tgotp_check_path_or_empty, TOP, backup_codes_file,
	"A root-only file of single-use backup codes (tgotp backup-codes); empty: none."),
    AMOUNT("balance_warning", 0, 0, 1000000, TOP, balance_warning,
	   "Log a warning when the Gateway's remaining_balance falls below this; 0: off."),
    STR("state_dir", "/var/lib/pam_tgotp", tgotp_check_path, TOP, state_dir,
	"The root-only directory of the rate, budget and grace records."),
    TITLED("user", user_keys, TOP, users, nusers, "A user's number: user NAME { phone = ... }."),
    SECTION("ldap", ldap_keys, TOP, ldap,
	    "Numbers from a directory, after inline users and users_file."),
    SECTION("messages", message_keys, TOP, messages,
	    "What the user is told, in any language: printable UTF-8, at most 200 bytes each."),
    SECTION("store", store_keys, TOP, store,
	    "Records shared by a fleet of hosts: rate, budget, FLOOD_WAIT, fleet grace."),
    ENUM("grace_scope", "host", grace_scopes, TOP, grace_scope,
	 "host: a grace period counts on the host that verified; fleet: on every host of the "
	 "store."),
};

const struct tgotp_config_key *tgotp_config_keys(size_t *n)
{
	*n = NKEYS(keys);
	return keys;
}

const struct tgotp_config_key *tgotp_config_key_named(const struct tgotp_config_key *k, size_t n,
						      const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(k[i].name, name) == 0)
			return &k[i];
	return NULL;
}

const struct tgotp_config_key *tgotp_config_key_at(const struct tgotp_config_key *k, size_t n,
						   size_t offset)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (k[i].offset == offset)
			return &k[i];
	return NULL;
}

const char *tgotp_config_key_name(size_t section, size_t offset)
{
	const struct tgotp_config_key *k = keys, *row;
	size_t n = NKEYS(keys);

	if (section != TGOTP_KEY_TOP) {
		row = tgotp_config_key_at(keys, n, section);
		if (!row || !row->keys)
			return "?";
		k = row->keys;
		n = row->nkeys;
	}
	row = tgotp_config_key_at(k, n, offset);
	return row ? row->name : "?";
}

const struct tgotp_config_key *tgotp_config_section_keys(const char *name, size_t *n)
{
	const struct tgotp_config_key *sec =
	    name ? tgotp_config_key_named(keys, NKEYS(keys), name) : NULL;

	if (sec && sec->keys) {
		*n = sec->nkeys;
		return sec->keys;
	}
	*n = NKEYS(keys);
	return keys;
}
