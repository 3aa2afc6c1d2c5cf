/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp: the administrator's command. Built on the module's own library
 * (build/libtgotp.a): the same configuration parser, user map, state files
 * and Gateway client, so that what it says is what the module will do. */
#ifndef TGOTP_CLI_H
#define TGOTP_CLI_H

#include <stdbool.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "../src/config.h"
#include "../src/gateway.h"
#include "../src/log.h"
#include "../src/phone.h"
#include "../src/state.h"
#include "../src/state_grace.h"
#include "../src/state_limits.h"
#include "../src/store.h"

#define EXIT_PROBLEM 1 /* a problem was found, or the action failed */
#define EXIT_USAGE   2

struct cli {
	const char *config; /* -c */
	bool json;
	struct tgotp_log log; /* library lines: to stderr, counted */
	int errors, warnings;
	char prefix[512];  /* put before library lines: "FILE:LINE: key: " */
	cJSON *held;	   /* while set, lines are kept here instead of printed */
	cJSON *err, *warn; /* with --json: every error and warning line */
	struct tgotp_config cfg;
	bool cfg_loaded;
};

/* The subcommands: argv[0] is the subcommand's name. Each returns the exit
 * status. */
int tgotp_cmd_check(struct cli *c, int argc, char **argv);
int tgotp_cmd_lookup(struct cli *c, int argc, char **argv);
int tgotp_cmd_test(struct cli *c, int argc, char **argv);
int tgotp_cmd_enroll(struct cli *c, int argc, char **argv);
int tgotp_cmd_state(struct cli *c, int argc, char **argv);
int tgotp_cmd_reset(struct cli *c, int argc, char **argv);
int tgotp_cmd_backup_codes(struct cli *c, int argc, char **argv);

/* ---- shared (main.c) */

/* One line of ours, as the library's are: counted, to stderr (errors and
 * warnings) or stdout, kept for --json. */
void cli_say(struct cli *c, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Says the lines kept in held (see struct cli) after all. */
void cli_replay(struct cli *c, cJSON *held);
/* Options of a subcommand: each flag in flags (NULL-terminated, "--json")
 * sets the bool at the same index; a flag ending in '=' ("--pam-dir=")
 * takes a value into vals at that index. Positional arguments go to pos
 * (at most npos). Returns their number, or -1 after a usage message. */
int cli_args(int argc, char **argv, const char *const *flags, bool *set, const char **vals,
	     const char **pos, int npos);
/* 0 when running as root; else says "tgotp: WHAT needs root (WHY)", -1. */
int cli_need_root(const char *what, const char *why);
/* Loads -c as the module would; errors to stderr with file and line. */
int cli_load_config(struct cli *c);
/* The account's own name for user (as the module keys everything). */
const char *cli_account(struct cli *c, const char *user, char *buf, size_t len);
/* Prints obj (adding the errors and warnings) on stdout and frees it. */
void cli_print_json(struct cli *c, cJSON *obj);
/* "2024-05-01T12:00:00Z" */
const char *cli_time(time_t t, char out[32]);

/* ---- the PAM stacks and sshd (check_pam.c), for check: results into out */
/* sshd_config: NULL for sshd's own default. */
void check_pam(struct cli *c, const char *pamdir, const char *sshd_config, cJSON *out);

/* ---- a code sent and checked, as a login does (walk.c): test, enroll */

struct walk {
	struct cli *c;
	const char *user;    /* whose rate limit it counts against */
	const char *service; /* for the payload */
	char phone[TGOTP_PHONE_MAX];
	char masked[TGOTP_MASKED_MAX];
	struct tgotp_store *state;
	struct tgotp_gateway *gw;
	time_t slot_at;
	bool charged;
	char request_id[TGOTP_REQID_MAX];
	time_t sent_at;
	enum tgotp_gw_result last_gw;
};

/* State, rate slot, budget, token, Gateway client; then
 * checkSendAbility (check_ability) and sendVerificationMessage, each step
 * printed. 0 when the code is on its way. */
int walk_send(struct walk *w);
/* Asks for the code on stdin up to max_tries times; 0 when verified. */
int walk_verify(struct walk *w);
/* Revokes an unused code, gives back unused slots, frees (w->phone is
 * left for the caller to use and wipe). */
void walk_end(struct walk *w, bool verified);

#endif
