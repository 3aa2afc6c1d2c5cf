/* SPDX-License-Identifier: BSD-3-Clause */
/* The records a fleet shares, in an etcd v3 cluster spoken to through its
 * JSON gateway (HTTPS, POST /v3/kv/range, /v3/kv/txn, /v3/kv/deleterange,
 * /v3/lease/grant; keys and values in base64).
 *
 * Under prefix (store { prefix }), each value the text of the state file of
 * the same record (state_limits.h, state_grace.h), one record per key:
 *
 *   <prefix>rate/<user>          "<time>\n" lines: codes sent to user; lease
 *                                of rate_window seconds
 *   <prefix>budget/<YYYY-MM-DD>  "<n>\n": codes sent by the fleet on that
 *                                UTC day; lease of two days
 *   <prefix>flood                "<time>\n": no sending before then; lease
 *                                until then
 *   <prefix>grace/<user>         "<time> <key>\n" lines (grace_scope =
 *                                fleet); lease of a day
 *
 * <user> is the name as it is (printable, checked by the module): the key
 * holds nothing below it, so a '/' in a name is no ambiguity. Never a phone
 * number, a code or the token. Every change is a transaction that compares
 * the key's mod_revision with the one read: a concurrent change fails it,
 * and it is done again on the new value, at most TGOTP_ETCD_CAS_TRIES
 * times (then BUSY, logged). Expiry is left to the leases.
 *
 * Time: every request of a login draws on one allowance of timeout seconds;
 * a request may use what is left of it divided by the endpoints not yet
 * tried, so a member that stalls cannot take it all. The members are tried
 * in turn from the one that answered last. When none answers within the
 * allowance, or it is spent, the operation is TGOTP_STATE_UNAVAILABLE
 * (logged), and so is every later one of the handle without a request. */
#ifndef TGOTP_STORE_ETCD_H
#define TGOTP_STORE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "log.h"
#include "state.h"
#include "state_grace.h"

#define TGOTP_ETCD_CAS_TRIES 32

struct tgotp_etcd_opts {
	char *const *endpoints; /* https:// URLs */
	size_t nendpoints;
	const char *ca_file;   /* "" or NULL: the system store */
	const char *cert_file; /* client certificate, "" or NULL: none */
	const char *key_file;  /* its key: root-only */
	const char *prefix;
	long timeout_ms; /* the allowance of the handle */
};

struct tgotp_etcd;

/* NULL (logged) when the client cannot be set up: a certificate or key file
 * that is missing or unsafe, no memory. No request is made. */
struct tgotp_etcd *tgotp_etcd_open(const struct tgotp_etcd_opts *o, const struct tgotp_log *log);
void tgotp_etcd_close(struct tgotp_etcd *e);

/* As the functions of the same names in state_limits.h and state_grace.h,
 * for the fleet; each can also end TGOTP_STATE_UNAVAILABLE. */
enum tgotp_verdict tgotp_etcd_flood_check(struct tgotp_etcd *e, time_t now, time_t *until);
enum tgotp_verdict tgotp_etcd_flood_set(struct tgotp_etcd *e, time_t now, time_t until);
enum tgotp_verdict tgotp_etcd_rate_take(struct tgotp_etcd *e, const char *user, long limit,
					long window, time_t now, long *retry_after);
enum tgotp_verdict tgotp_etcd_rate_give_back(struct tgotp_etcd *e, const char *user, time_t now);
enum tgotp_verdict tgotp_etcd_budget_take(struct tgotp_etcd *e, long budget, time_t now);
enum tgotp_verdict tgotp_etcd_budget_give_back(struct tgotp_etcd *e, time_t now);
enum tgotp_verdict tgotp_etcd_grace_check(struct tgotp_etcd *e, const char *user,
					  const char *service, const char *rhost, time_t now,
					  long period, bool *granted);
enum tgotp_verdict tgotp_etcd_grace_record(struct tgotp_etcd *e, const char *user,
					   const char *service, const char *rhost, time_t now);

enum tgotp_verdict tgotp_etcd_rate_list(struct tgotp_etcd *e, const char *user, long window,
					time_t now, time_t *t, int max, int *n);
enum tgotp_verdict tgotp_etcd_rate_clear(struct tgotp_etcd *e, const char *user);
enum tgotp_verdict tgotp_etcd_budget_used(struct tgotp_etcd *e, time_t now, long *count);
enum tgotp_verdict tgotp_etcd_grace_list(struct tgotp_etcd *e, const char *user,
					 struct tgotp_grace_entry *g, int max, int *n);
enum tgotp_verdict tgotp_etcd_grace_clear(struct tgotp_etcd *e, const char *user);
/* The users with rate (and grace when with_grace) records: a
 * NULL-terminated array of names, sorted, without repeats, for
 * tgotp_state_users_free; *v says why when NULL. */
char **tgotp_etcd_users(struct tgotp_etcd *e, bool with_grace, enum tgotp_verdict *v);

#endif
