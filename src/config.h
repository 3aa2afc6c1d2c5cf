/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration file (libconfuse), checked and copied into plain C. */
#ifndef TGOTP_CONFIG_H
#define TGOTP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define TGOTP_DEFAULT_CONFIG  "/etc/security/pam_tgotp.conf"
#define TGOTP_CONFIG_MAX_SIZE (1024 * 1024)

enum tgotp_failmode { TGOTP_FAIL_SECURE, TGOTP_FAIL_SAFE };
enum tgotp_unmapped { TGOTP_UNMAPPED_DENY, TGOTP_UNMAPPED_IGNORE, TGOTP_UNMAPPED_FALLBACK };
/* Who is asked for the code: PAM_USER, or PAM_RUSER (su's caller). */
enum tgotp_user_source { TGOTP_SOURCE_USER, TGOTP_SOURCE_RUSER };
enum tgotp_store_type { TGOTP_STORE_FILES, TGOTP_STORE_ETCD };
enum tgotp_when_down { TGOTP_DOWN_LOCAL, TGOTP_DOWN_DENY };
enum tgotp_grace_scope { TGOTP_GRACE_HOST, TGOTP_GRACE_FLEET };

/* A field per key of the key table (config_keys.c), which fills and frees
 * them: a key is one row there and one field here. */

struct tgotp_user_entry {
	char *name;  /* the section's title: first, as in every TITLED element */
	char *phone; /* as written; normalised at lookup */
};

struct tgotp_ldap_config {
	bool enabled; /* an ldap { } section is present; first, as in every SECTION */
	char *uri;    /* space-separated list */
	char *base;
	char *filter;
	char *attribute;
	char *bind_dn;
	char *bind_password_file;
	bool starttls;
	char *ca_file;
	long timeout;
};

/* What the user is told; the % directives each one knows are in its key's
 * check (config_keys.c), the expander in message.c. */
struct tgotp_messages {
	bool enabled; /* a messages { } section is present; first, as in every SECTION */
	char *sent;   /* %p */
	char *prompt;
	char *wrong; /* %n */
	char *unavailable;
	char *failed;
	char *rate_limited; /* %m */
	char *backup_prompt;
};

/* store { }: where the rate, budget, FLOOD_WAIT and (grace_scope = fleet)
 * grace records live when a fleet shares them (store.h). */
struct tgotp_store_config {
	bool enabled; /* a store { } section is present; first, as in every SECTION */
	enum tgotp_store_type type;
	char **endpoints; /* https:// URLs of etcd's members, tried in turn */
	size_t nendpoints;
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *prefix;
	long timeout; /* seconds for the whole store step of a login */
	enum tgotp_when_down when_down;
};

struct tgotp_config {
	char *api_url;
	char *token_file;
	char *ca_file;
	char *proxy;
	long timeout;
	long code_length;
	long ttl;
	long max_tries;
	bool check_ability;
	char *sender_username;
	char *callback_url;
	enum tgotp_failmode failmode;
	enum tgotp_unmapped unmapped;
	char *default_country_code;
	char *users_file;
	char **groups;
	size_t ngroups;
	char **exempt_groups;
	size_t nexempt_groups;
	char **trusted_networks; /* CIDRs, checked by the parser */
	size_t ntrusted_networks;
	enum tgotp_user_source user_source;
	char *prompt;
	char *payload;
	long rate_limit;
	long rate_window;
	long daily_budget;
	long grace_period;
	char *backup_codes_file;
	double balance_warning;
	char *state_dir;
	struct tgotp_user_entry *users;
	size_t nusers;
	struct tgotp_ldap_config ldap;
	struct tgotp_messages messages; /* filled with the defaults when absent */
	struct tgotp_store_config store;
	enum tgotp_grace_scope grace_scope;
};

/* Parses text (len bytes, the contents of the file called name) into *out.
 * Every error is logged with the file, the line and the key. 0 or -1. */
int tgotp_config_parse(const char *name, const char *text, size_t len, struct tgotp_config *out,
		       const struct tgotp_log *log);

/* Opens path safely (root-owned, not group/other writable) and parses it. */
int tgotp_config_load(const char *path, struct tgotp_config *out, const struct tgotp_log *log);

/* Frees what tgotp_config_load or tgotp_config_parse filled. Safe on a
 * zeroed struct, and after a failed load (which leaves it zeroed). */
void tgotp_config_free(struct tgotp_config *c);

#endif
