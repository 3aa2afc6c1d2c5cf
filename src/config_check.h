/* SPDX-License-Identifier: BSD-3-Clause */
/* The rules of the configuration: each value's checks, run by libconfuse as
 * it parses (so that an error names the file, the line and the key), and
 * the rules that need the whole file. */
#ifndef TGOTP_CONFIG_CHECK_H
#define TGOTP_CONFIG_CHECK_H

#include "config.h"

struct cfg_t;
struct cfg_opt_t;

/* libconfuse's validating callback for every key: the range of an integer,
 * the values of an enumeration, then the key's own check from the table. */
int tgotp_config_validate(struct cfg_t *cfg, struct cfg_opt_t *opt);

/* The keys' own checks, named in the key table (config_keys.c). */
int tgotp_check_api_url(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_callback_url(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_proxy(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_ldap_uri(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_starttls(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_store_prefix(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_path(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_path_or_empty(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_country_code(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_sender(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_payload(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_networks(struct cfg_t *cfg, struct cfg_opt_t *opt);
/* A message without directives, and those that know %p, %n or %m. */
int tgotp_check_message(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_message_p(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_message_n(struct cfg_t *cfg, struct cfg_opt_t *opt);
int tgotp_check_message_m(struct cfg_t *cfg, struct cfg_opt_t *opt);

/* The rules that need the whole file, on what was parsed (cfg) and copied
 * (c). Errors are logged as "name: what is wrong". 0 or -1. */
int tgotp_config_check_whole(struct cfg_t *cfg, const struct tgotp_config *c, const char *name,
			     const struct tgotp_log *log);

/* The rules that tie the keys of an ldap section together. Run on the
 * whole file, and again by the lookup for settings that did not come
 * through the parser. name: the file, or NULL. 0 or -1. */
int tgotp_config_check_ldap(const struct tgotp_ldap_config *l, const char *name,
			    const struct tgotp_log *log);

#endif
