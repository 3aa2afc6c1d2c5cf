/* A fleet that shares one store: three configurations stand for three hosts
 * (three state_dirs), one etcd cluster of three members on loopback
 * (tests/etcd/etcd-cluster.sh, TLS and client certificates), logins through
 * real libpam. Each test has a prefix of its own in the cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define HOSTS 3

static char cluster[256];    /* the cluster's directory */
static char script[512];     /* tests/etcd/etcd-cluster.sh */
static char endpoints[1024]; /* "https://127.0.0.1:P1 ..." */
static char dead[128];	     /* an https:// port nothing listens on */
static int test_no;
/* Under valgrind (which preloads its own library) a login costs a hundred
 * times the CPU: fewer logins at once (say so in the output), and a store
 * timeout that its slowness cannot exhaust. */
static bool slow;

/* The rhost of a login on host n (1..3): the service file sends each rhost
 * to its host's configuration (see write_service). */
static const char *const rhosts[HOSTS + 1] = {NULL, "192.0.2.1", "192.0.2.2", "192.0.2.3"};

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_store: failed: %s\n", cmd);
		exit(2);
	}
}

static void member_stop(int n)
{
	run("'%s' '%s' - kill %d", script, cluster, n);
}

static void member_start(int n)
{
	run("'%s' '%s' - start %d", script, cluster, n);
}

static pid_t member_pid(int n)
{
	char cmd[1024], out[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' '%s' - pid %d", script, cluster, n);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return (pid_t)atoi(out);
}

/* The value of "export NAME='...'" or "export NAME=..." in text. */
static void env_value(const char *text, const char *name, char *out, size_t len)
{
	char needle[64];
	const char *p;
	size_t n;

	snprintf(needle, sizeof(needle), "export %s=", name);
	out[0] = '\0';
	if (!(p = strstr(text, needle)))
		return;
	p += strlen(needle);
	if (*p == '\'')
		p++;
	n = strcspn(p, "'\n");
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

static int cluster_start(void)
{
	char cmd[1024], text[2048] = "", skip[256];
	FILE *p;
	size_t n;

	snprintf(cluster, sizeof(cluster), "/tmp/tgotp-etcd.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' start", script, cluster, getenv("TGOTP_CERTS"));
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, p);
	text[n] = '\0';
	if (pclose(p) != 0)
		return -1;
	env_value(text, "TGOTP_ETCD_SKIP", skip, sizeof(skip));
	if (skip[0]) {
		printf("SKIP: %s\n", skip);
		return 77;
	}
	env_value(text, "TGOTP_ETCD_ENDPOINTS", endpoints, sizeof(endpoints));
	env_value(text, "TGOTP_ETCD_DEAD", dead, sizeof(dead));
	return endpoints[0] ? 0 : -1;
}

static int group_setup(void **state)
{
	h_group_setup(state);
	return 0;
}

static int group_teardown(void **state)
{
	run("'%s' '%s' - stop", script, cluster);
	return h_group_teardown(state);
}

static void write_text(const char *name, const char *text, unsigned mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", h_dir(), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The module's line for each host, chosen by the login's rhost. A login
 * whose rhost is none of them fails at the end of the stack. */
static void write_service(void)
{
	char text[4096] = "", line[1024];
	int n;

	for (n = 1; n <= HOSTS; n++) {
		snprintf(line, sizeof(line),
			 "auth [success=ok default=1] pam_succeed_if.so quiet rhost = %s\n"
			 "auth [success=done default=die] %s debug config=%s/host%d.conf\n",
			 rhosts[n], getenv("TGOTP_MODULE"), h_dir(), n);
		strcat(text, line);
	}
	strcat(text, "auth requisite pam_deny.so\n");
	write_text("pam.d/tgotp-test", text, 0644);
}

/* Endpoints as a configuration list: {"a", "b", "c"}. */
static void endpoint_list(const char *eps, char *out, size_t len)
{
	char copy[1024], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", eps);
	snprintf(out, len, "{");
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		snprintf(out + strlen(out), len - strlen(out), "%s\"%s\"", out[1] ? ", " : "", tok);
	snprintf(out + strlen(out), len - strlen(out), "}");
}

struct fleet {
	const char *extra;     /* more top-level keys, for every host */
	const char *store;     /* more keys of the store section */
	const char *endpoints; /* NULL: the cluster's */
	const char *client;    /* certificate and key stem in TGOTP_CERTS; "": none */
	const char *ca;	       /* the CA file's stem; NULL: ca */
	long timeout;	       /* of the store; 0: 10 */
};

/* The base configuration (the mock, the token, alice) and for each host its
 * own state_dir and the store section; then the service file. */
static void fleet(const struct fleet *f)
{
	const char *certs = getenv("TGOTP_CERTS");
	const char *client = f->client ? f->client : "etcd-client";
	char base[8192], conf[12288], list[1024], cert[1024] = "", path[512];
	FILE *in;
	size_t n;
	int h;

	test_no++;
	run("rm -rf '%s/state1' '%s/state2' '%s/state3'", h_dir(), h_dir(), h_dir());
	h_config(f->extra);
	snprintf(path, sizeof(path), "%s/pam_tgotp.conf", h_dir());
	in = fopen(path, "r");
	assert_non_null(in);
	n = fread(base, 1, sizeof(base) - 1, in);
	base[n] = '\0';
	fclose(in);
	endpoint_list(f->endpoints ? f->endpoints : endpoints, list, sizeof(list));
	if (client[0])
		snprintf(cert, sizeof(cert), "cert_file = \"%s/%s.pem\" key_file = \"%s/%s.key\"",
			 certs, client, certs, client);
	for (h = 1; h <= HOSTS; h++) {
		/* state_dir again: the last value counts */
		snprintf(conf, sizeof(conf),
			 "%sstate_dir = \"%s/state%d\"\n"
			 "store {\n type = \"etcd\"\n endpoints = %s\n ca_file = \"%s/%s.pem\"\n"
			 " %s\n prefix = \"/tgotp-test-%d/\"\n timeout = %ld\n %s\n}\n",
			 base, h_dir(), h, list, certs, f->ca ? f->ca : "ca", cert, test_no,
			 f->timeout ? f->timeout
			 : slow	    ? 60
				    : 10,
			 f->store ? f->store : "");
		snprintf(path, sizeof(path), "host%d.conf", h);
		write_text(path, conf, 0600);
	}
	write_service();
}

/* Every login on host n's configuration, whatever its rhost; 0: the
 * configuration without a store. */
static void service_of_host(int n)
{
	char text[1024], conf[32] = "pam_tgotp.conf";

	if (n > 0)
		snprintf(conf, sizeof(conf), "host%d.conf", n);
	snprintf(text, sizeof(text), "auth required %s debug config=%s/%s\n",
		 getenv("TGOTP_MODULE"), h_dir(), conf);
	write_text("pam.d/tgotp-test", text, 0644);
}

static int sends(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	return s.send;
}

static int requests(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	return s.requests;
}

/* A login of alice on host n. */
static void login_on(int n, struct h_login *l)
{
	*l = H_LOGIN(.rhost = rhosts[n], .answers = {ANSWER_CODE});
	h_run_as_written(l);
}

/* ---- many logins at once */

enum { CHILD_ANSWERED = 0, CHILD_REFUSED = 3, CHILD_OTHER = 4 };

/* One login on host n, answered with nothing: exit 0 when it got a code,
 * 3 when refused is its module result, 4 otherwise. exit(), not _exit():
 * the sanitizers and valgrind check the child at its exit. */
static void child(int n, const char *refused)
{
	struct h_login l = H_LOGIN(.rhost = rhosts[n], .answers = {""});
	int code = CHILD_OTHER;

	h_run_as_written(&l);
	if (strcmp(l.result, "PAM_AUTH_ERR") == 0)
		code = CHILD_ANSWERED;
	else if (strcmp(l.result, refused) == 0)
		code = CHILD_REFUSED;
	else
		fprintf(stderr, "login on host %d ended %s, log:\n%s", n, l.result, h_log());
	exit(code);
}

/* N logins of alice at once, spread over the hosts: how many got a code
 * (*answered) and how many ended with the result refused (*limited); every
 * one must end one of the two ways. */
static void at_once(int N, const char *refused, int *answered, int *limited)
{
	pid_t pids[64];
	int i, status, other = 0;

	assert_true(N <= 64);
	if (slow) {
		N = N / 5;
		printf("store: under valgrind: %d logins at once, not %d\n", N, N * 5);
	}
	*answered = *limited = 0;
	fflush(NULL); /* children must not write the parent's buffers again */
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			child(1 + i % HOSTS, refused);
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_ANSWERED)
			(*answered)++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_REFUSED)
			(*limited)++;
		else {
			/* signalled, 98 (sanitizer), 99 (valgrind) or 4 */
			fprintf(stderr, "login %d: status %#x\n", i, status);
			other++;
		}
	}
	printf("store: %d logins on %d hosts at once: %d codes sent, %d answered, %d %s, %d "
	       "other\n",
	       N, HOSTS, sends(), *answered, *limited, refused, other);
	assert_int_equal(other, 0);
}

static void rate_limit_is_the_fleets(void **state)
{
	int answered, limited;

	(void)state;
	fleet(&(struct fleet){.extra = "rate_limit = 3\nrate_window = 600"});
	at_once(60, "PAM_MAXTRIES", &answered, &limited);
	assert_int_equal(sends(), 3);
	assert_int_equal(answered, 3);
	assert_int_equal(answered + limited, slow ? 12 : 60);
}

static void daily_budget_is_the_fleets(void **state)
{
	int answered, limited;

	(void)state;
	fleet(&(struct fleet){.extra = "daily_budget = 3\nrate_limit = 100\ncode_length = 8\n"
				       "max_tries = 1\nfailmode = safe"});
	/* SECURITY: a drained budget is never "nobody answered": failmode =
	 * safe must not let the other 57 in. */
	at_once(60, "PAM_AUTHINFO_UNAVAIL", &answered, &limited);
	assert_int_equal(sends(), 3);
	assert_int_equal(answered, 3);
	assert_int_equal(answered + limited, slow ? 12 : 60);
}

static void flood_wait_stops_every_host(void **state)
{
	struct h_login l;
	int h;

	(void)state;
	fleet(&(struct fleet){0});
	h_mock_fault("{\"mode\": \"error\", \"arg\": \"FLOOD_WAIT_3\", \"count\": 1}");
	login_on(1, &l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	h_mock_reset();
	for (h = 1; h <= HOSTS; h++) {
		login_on(h, &l);
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
		assert_outcome("flood_wait");
	}
	assert_int_equal(requests(), 0);
	sleep(4); /* the pause is over, for every host */
	login_on(2, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_int_equal(sends(), 1);
}

static void grace_scope(void **state)
{
	/* the same user, service and remote host on hosts 1 and 2 */
	struct h_login l = H_LOGIN(.rhost = "198.51.100.9", .answers = {ANSWER_CODE});

	(void)state;
	fleet(&(struct fleet){.extra = "grace_period = 300\ngrace_scope = \"fleet\""});
	service_of_host(1);
	h_run_as_written(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
	h_mock_reset();
	service_of_host(2);
	h_run_as_written(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("grace");
	assert_int_equal(requests(), 0);

	fleet(&(struct fleet){.extra = "grace_period = 300\ngrace_scope = \"host\""});
	service_of_host(1);
	h_run_as_written(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	service_of_host(1);
	h_run_as_written(&l); /* the host that verified lets in */
	assert_outcome("grace");
	service_of_host(2);
	h_run_as_written(&l); /* the next one asks */
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
}

/* ---- records and files that cannot be trusted */

static void corrupt_record_is_full(void **state)
{
	const char *certs = getenv("TGOTP_CERTS");
	char first[sizeof(endpoints)];
	struct h_login l;

	(void)state;
	fleet(&(struct fleet){0});
	snprintf(first, sizeof(first), "%s", endpoints);
	first[strcspn(first, " ")] = '\0';
	run("ETCDCTL_API=3 etcdctl --endpoints '%s' --cacert '%s/ca.pem' --cert "
	    "'%s/etcd-client.pem' "
	    "--key '%s/etcd-client.key' put /tgotp-test-%d/rate/alice '12x' >/dev/null",
	    first, certs, certs, certs, test_no);
	login_on(1, &l);
	/* SECURITY: a count that cannot be read is a full one */
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_true(h_log_has("the rate record is corrupt"));
	assert_int_equal(requests(), 0);
}

static void unsafe_key_file(void **state)
{
	char key[512];
	struct h_login l;

	(void)state;
	run("cp '%s/etcd-client.pem' '%s/etcd-client.key' '%s/'", getenv("TGOTP_CERTS"),
	    getenv("TGOTP_CERTS"), h_dir());
	snprintf(key, sizeof(key), "%s/etcd-client.key", h_dir());
	assert_int_equal(chmod(key, 0644), 0);
	fleet(&(struct fleet){0});
	/* the same configuration, with the copies */
	run("sed -i 's|%s/etcd-client|%s/etcd-client|g' '%s/host1.conf'", getenv("TGOTP_CERTS"),
	    h_dir(), h_dir());
	login_on(1, &l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_outcome("state_error");
	assert_int_equal(chmod(key, 0600), 0);
	login_on(1, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
}

/* ---- what the store costs a login */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* n sequential logins on host 1's configuration: the median and the 99th
 * percentile of their times, in ms. */
static void timed_logins(int n, double *median, double *p99)
{
	double t[200];
	struct h_login l;
	int i;

	assert_true(n <= 200);
	for (i = 0; i < n; i++) {
		login_on(1, &l);
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
		t[i] = l.seconds * 1000;
	}
	qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
	*median = t[n / 2];
	*p99 = t[(n * 99 + 99) / 100 - 1];
}

/* The time the store adds to a login over files, for README: run with
 * TGOTP_STORE_BENCH=N (logins per store); without it, nothing is measured. */
static void cost_per_login(void **state)
{
	const char *env = getenv("TGOTP_STORE_BENCH");
	int n = env ? atoi(env) : 0;
	double fm, fp, em, ep;

	(void)state;
	if (n <= 0 || n > 200)
		return;
	fleet(&(struct fleet){.extra = "rate_limit = 1000\ncode_length = 8\nmax_tries = 1\n"
				       "daily_budget = 100000"});
	timed_logins(n, &em, &ep);
	h_config("rate_limit = 1000\ncode_length = 8\nmax_tries = 1\ndaily_budget = 100000");
	service_of_host(0); /* pam_tgotp.conf: the same, without a store */
	timed_logins(n, &fm, &fp);
	printf("store: %d sequential logins each: files median %.1f ms p99 %.1f ms; etcd median "
	       "%.1f ms p99 %.1f ms; added median %.1f ms p99 %.1f ms\n",
	       n, fm, fp, em, ep, em - fm, ep - fp);
}

/* ---- the administrator's command on the store */

/* tgotp -c hostN.conf ARGS: its output into out. */
static void tgotp(int n, const char *args, char *out, size_t len)
{
	char cmd[1024], module[512];
	size_t got;
	FILE *p;

	snprintf(module, sizeof(module), "%s", getenv("TGOTP_MODULE"));
	*strrchr(module, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "'%s/tgotp' -c '%s/host%d.conf' %s 2>&1", module, h_dir(), n,
		 args);
	fflush(NULL);
	p = popen(cmd, "r");
	assert_non_null(p);
	got = fread(out, 1, len - 1, p);
	out[got] = '\0';
	pclose(p);
	printf("store: tgotp %s on host %d:\n%s", args, n, out);
}

static void state_and_reset(void **state)
{
	struct h_login l;
	char out[4096];

	(void)state;
	fleet(&(struct fleet){.extra = "rate_limit = 1\ngrace_period = 300\n"
				       "grace_scope = \"fleet\"\ndaily_budget = 10"});
	login_on(1, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	tgotp(2, "state", out, sizeof(out));
	assert_non_null(strstr(out, "alice: 1 of 1 codes"));
	assert_non_null(strstr(out, "grace tgotp-test from 192.0.2.1"));
	assert_non_null(strstr(out, "1 code sent today"));
	login_on(3, &l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	tgotp(3, "reset alice", out, sizeof(out));
	assert_non_null(strstr(out, "cleared"));
	tgotp(1, "state alice", out, sizeof(out));
	assert_non_null(strstr(out, "alice: 0 of 1 codes"));
	assert_null(strstr(out, "grace tgotp-test"));
	login_on(2, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
}

/* ---- members down */

static void one_member_stopped(void **state)
{
	int answered, limited;

	(void)state;
	fleet(&(struct fleet){.extra = "rate_limit = 3\nrate_window = 600"});
	member_stop(1);
	at_once(30, "PAM_MAXTRIES", &answered, &limited);
	member_start(1);
	assert_false(h_log_has("store=local"));
	assert_int_equal(sends(), 3);
	assert_int_equal(answered, 3);
}

/* A login takes at most the store's timeout more than the Gateway's time
 * (a few requests to the mock on loopback: well under a second). */
static void assert_bounded(const struct h_login *l, long timeout)
{
	printf("store: login took %.2f s (store timeout %ld s)\n", l->seconds, timeout);
	assert_true(l->seconds < (double)timeout + 1.5);
}

static void all_members_stopped(void **state)
{
	struct h_login l;
	int n;

	(void)state;
	for (n = 1; n <= HOSTS; n++)
		member_stop(n);
	fleet(&(struct fleet){.timeout = 2});
	login_on(1, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("store=local"));
	assert_bounded(&l, 2);
	fleet(&(struct fleet){
	    .timeout = 2, .store = "when_down = \"deny\"", .extra = "failmode = safe"});
	h_mock_reset();
	login_on(2, &l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("store_unavailable");
	assert_bounded(&l, 2);
	assert_int_equal(requests(), 0);
	/* an administrator's reset is the fleet's or nothing, whatever
	 * when_down: "cleared" here would leave the user locked out later */
	fleet(&(struct fleet){.timeout = 2});
	{
		char out[4096];

		tgotp(1, "reset alice", out, sizeof(out));
		assert_null(strstr(out, "entries cleared"));
		assert_non_null(strstr(out, "not cleared"));
	}
	for (n = 1; n <= HOSTS; n++)
		member_start(n);
}

static void stalled_member(void **state)
{
	struct h_login l;
	pid_t pid = member_pid(1);

	(void)state;
	assert_true(pid > 0);
	fleet(&(struct fleet){.timeout = 2});
	assert_int_equal(kill(pid, SIGSTOP), 0);
	login_on(1, &l);
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_bounded(&l, 2);
	/* SECURITY: the stalled member had its share of the time only, and
	 * the others answered (a new leader within the election timeout) */
	assert_false(h_log_has("store=local"));
	assert_true(l.seconds < 2.0);
}

/* ---- TLS refused */

static void other_ca_and_no_client_certificate(void **state)
{
	struct h_login l;

	(void)state;
	fleet(&(struct fleet){.ca = "other-ca", .timeout = 2});
	login_on(1, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("store: https://127.0.0.1:"));
	assert_true(h_log_has("store=local"));
	fleet(&(struct fleet){.ca = "other-ca", .timeout = 2, .store = "when_down = \"deny\""});
	login_on(1, &l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("store_unavailable");

	fleet(&(struct fleet){.client = "", .timeout = 2});
	login_on(1, &l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("store=local"));
	fleet(&(struct fleet){
	    .client = "other-client", .timeout = 2, .store = "when_down = \"deny\""});
	login_on(1, &l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("store_unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(rate_limit_is_the_fleets, h_setup),
	    cmocka_unit_test_setup(daily_budget_is_the_fleets, h_setup),
	    cmocka_unit_test_setup(flood_wait_stops_every_host, h_setup),
	    cmocka_unit_test_setup(grace_scope, h_setup),
	    cmocka_unit_test_setup(state_and_reset, h_setup),
	    cmocka_unit_test_setup(corrupt_record_is_full, h_setup),
	    cmocka_unit_test_setup(unsafe_key_file, h_setup),
	    cmocka_unit_test_setup(cost_per_login, h_setup),
	    cmocka_unit_test_setup(other_ca_and_no_client_certificate, h_setup),
	    cmocka_unit_test_setup(stalled_member, h_setup),
	    cmocka_unit_test_setup(one_member_stopped, h_setup),
	    cmocka_unit_test_setup(all_members_stopped, h_setup),
	};
	int rc;

	if (geteuid() != 0) {
		printf("SKIP: the store tests need root: the module accepts only root-owned "
		       "configuration, token and state\n");
		return 77;
	}
	snprintf(script, sizeof(script), "%s", __FILE__);
	*strrchr(script, '/') = '\0';
	*strrchr(script, '/') = '\0';
	strcat(script, "/etcd/etcd-cluster.sh");
	slow = getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload");
	if (!getenv("TGOTP_CERTS")) {
		fprintf(stderr, "test_store: run through tests/run-tests.sh\n");
		return 2;
	}
	rc = cluster_start();
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "test_store: the etcd cluster did not start\n");
		return rc < 0 ? 2 : rc;
	}
	return cmocka_run_group_tests_name("pam_store", tests, group_setup, group_teardown);
}
