/* Integration harness: real libpam (pam_start_confdir) driving the built
 * module against the mock Gateway, with the module's syslog lines and the
 * conversation captured for assertions. */
#ifndef TGOTP_HARNESS_H
#define TGOTP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#define H_MAX_ANSWERS 8

/* Special answers for the conversation. */
#define ANSWER_CODE	    "@CODE"	  /* the code the mock generated */
#define ANSWER_WRONG	    "@WRONG"	  /* a wrong code of the right length */
#define ANSWER_SPACED	    "@SPACED"	  /* the right code with blanks inside */
#define ANSWER_EXPIRED_CODE "@EXPIRED"	  /* the mock expires the message, then the code */
#define ANSWER_CONV_ERROR   "@CONV_ERROR" /* the conversation function fails */
/* The right code with a NUL after its third digit, the rest of it still in
 * the reply's buffer after the NUL (as a conversation that reuses a buffer
 * leaves it): the reply is a C string, so the module must see three digits.
 * A literal "12\0" "3456" would be cut by the copy the harness makes. */
#define ANSWER_NUL_INSIDE "@NUL_INSIDE"

struct h_login {
	const char *user;
	const char *rhost; /* NULL: not set */
	const char *ruser; /* PAM_RUSER (su's caller), NULL: not set */
	int flags;
	const char *answers[H_MAX_ANSWERS];
	const char *module_args;  /* extra pam.d arguments, NULL for none */
	const char *stack_before; /* pam.d lines before the module, or NULL */
	/* filled by h_run */
	int rc;
	char result[32]; /* the module's own result from its log line, e.g. "PAM_IGNORE" */
	int prompts;
	char prompt_texts[1024]; /* every prompt's text, one per line */
	char messages[4096];	 /* every PAM_TEXT_INFO/PAM_ERROR_MSG, one per line */
	double seconds;
};

struct h_stats {
	int connections;
	int requests;
	int check_send_ability;
	int send;
	int check;
	int revoke;
	int stolen;
};

/* A login of alice from 192.0.2.7; fields given override these. */
#define H_LOGIN(...) ((struct h_login){.user = "alice", .rhost = "192.0.2.7", __VA_ARGS__})

/* Per-process set-up from TGOTP_MOCK_PORTS, TGOTP_CERTS, TGOTP_MODULE. */
/* TGOTP_TIME_SCALE (tests/run-tests.sh: 1 plain, 2 ASan, 4 valgrind): how
 * much a time bound's margin over a deadline widens in a slow flavour. */
double h_time_scale(void);

void h_init(void);
void h_cleanup(void);

/* cmocka fixtures: h_init/h_cleanup for a group, and per test a fresh mock,
 * state directory, token, users file and base configuration. */
int h_group_setup(void **state);
int h_group_teardown(void **state);
int h_setup(void **state);

/* Writes the test's configuration: the base settings pointing at the mock
 * (gateway port, test CA, token, users file) followed by extra. */
void h_config(const char *extra);
/* Same, with the API on another mock port: "gateway", "badca", "wronghost",
 * "expired", "stall", or "closed" (a port nothing listens on). */
void h_config_port(const char *port_name, const char *extra);
/* Writes the users file. */
void h_users_file(const char *text);
/* Writes the config file raw (no base settings) with the given mode. */
void h_config_raw(const char *text, unsigned mode);
/* Rewrites the token file with this text and mode. */
void h_token(const char *text, unsigned mode);
const char *h_dir(void);
/* Removes the module's state directory (rate, budget, grace, flood). */
void h_state_reset(void);

/* One login: h_service, then h_run_as_written. */
void h_run(struct h_login *l);
/* Writes the pam.d service file for l's stack and module arguments. */
void h_service(const struct h_login *l);
/* Runs l against the service file as it is: logins in child processes run
 * this after the parent wrote the file once, so that no process rewrites
 * it while another reads it. */
void h_run_as_written(struct h_login *l);

/* Fails the test, showing the module's log, when the stack result is not
 * rc or the module's own result is not name. */
void h_assert_result(const struct h_login *l, int rc, const char *name, const char *file, int line);
#define assert_result(l, rc, name) h_assert_result(l, rc, name, __FILE__, __LINE__)

/* Fails the test, showing the module's log, when no log line of the last
 * login has "outcome=OUTCOME ". */
void h_assert_outcome(const char *outcome, const char *file, int line);
#define assert_outcome(outcome) h_assert_outcome(outcome, __FILE__, __LINE__)

/* Mock control. */
void h_mock_reset(void);
void h_mock_fault(const char *json);
void h_mock_config(const char *json);
void h_mock_expire(void);
void h_mock_stats(struct h_stats *s);
/* The mock's record of the last sendVerificationMessage (JSON), or "". */
const char *h_mock_last(void);
/* One parameter of the last sendVerificationMessage as the mock received
 * it, or "" when absent. */
const char *h_mock_last_param(const char *key);

/* Fails the test unless every API request the mock recorded since its last
 * reset came with "Authorization: Bearer" and had the token nowhere else
 * (URL path, query, body, another header). Returns how many there were. */
int h_assert_token_in_header_only(const char *token, const char *file, int line);
#define assert_token_in_header_only(token) h_assert_token_in_header_only(token, __FILE__, __LINE__)

/* Captured syslog lines of the module since the last h_run. */
const char *h_log(void);
/* Every line captured since h_init (for the secret-hygiene check). */
const char *h_log_all(void);
bool h_log_has(const char *needle);
bool h_messages_has(const struct h_login *l, const char *needle);

#endif
