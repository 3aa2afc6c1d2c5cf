/* Phone numbers from the directory: real libpam and the built module against
 * a real slapd on loopback (tests/ldap/slapd-start.sh, started by
 * tests/run-tests.sh) with StartTLS and ldaps:// from the test CA, and a
 * second slapd whose certificate comes from a CA the module must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"
#include "ldapdir.h"

#define LOGIN(...) ((struct h_login){.user = "dora", .rhost = "192.0.2.7", __VA_ARGS__})
#define BASE	   "dc=example,dc=org"
#define READER	   "cn=reader,dc=example,dc=org"
#define PASSWORD   "reader secret, with spaces" /* AD passwords often have spaces */

static const char *uri_starttls, *uri_ldaps, *uri_ldapi, *uri_other, *uri_other_ldaps,
    *uri_wronghost, *uri_dead, *lockout_dn;
static pid_t slapd_pid, other_pid;
static char certs[1024], ca[1100], other_ca[1100], pwfile[512], both_cas[512];
static bool stalled;
/* what config() writes into the ldap section; setup() resets them */
static const char *cfg_base, *cfg_ca;
static int cfg_timeout;

/* ---- set-up */

static void write_file(const char *path, const char *text, unsigned mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) < 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	close(fd);
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The bind password file, as the administrator would write it. */
static void password_file(const char *text, unsigned mode)
{
	write_file(pwfile, text, mode);
}

static int group_setup(void **state)
{
	char both[32768];
	size_t n;

	(void)state;
	h_init();
	snprintf(certs, sizeof(certs), "%s", getenv("TGOTP_CERTS"));
	snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
	snprintf(other_ca, sizeof(other_ca), "%s/other-ca.pem", certs);
	snprintf(pwfile, sizeof(pwfile), "%s/bindpw", h_dir());
	snprintf(both_cas, sizeof(both_cas), "%s/both-cas.pem", h_dir());
	snprintf(both, sizeof(both), "%s", slurp(ca));
	n = strlen(both);
	snprintf(both + n, sizeof(both) - n, "%s", slurp(other_ca));
	write_file(both_cas, both, 0644);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	h_mock_reset();
	h_users_file("# no users\n");
	password_file(PASSWORD "\n", 0600);
	h_config(NULL);
	cfg_base = BASE;
	cfg_ca = ca;
	cfg_timeout = 5;
	return 0;
}

/* SECURITY: whatever happened, the log holds no bind password and no whole
 * phone number; a stalled slapd is woken for the next test. */
static int teardown(void **state)
{
	const char *log = h_log_all();

	(void)state;
	if (stalled) {
		kill(slapd_pid, SIGCONT);
		stalled = false;
	}
	assert_null(strstr(log, PASSWORD));
	assert_null(strstr(log, "wrong-secret"));
	assert_null(strstr(log, "2079460958"));
	assert_null(strstr(log, "4155550101"));
	return 0;
}

/* The configuration: the base settings, top (top-level keys), and an ldap
 * section with uris, cfg_base, cfg_ca, cfg_timeout and more. */
static void config(const char *top, const char *uris, const char *more)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "%s\nldap {\n  uri = \"%s\"\n  base = \"%s\"\n  ca_file = \"%s\"\n"
		 "  timeout = %d\n%s\n}\n",
		 top ? top : "", uris, cfg_base, cfg_ca, cfg_timeout, more ? more : "");
	h_config(text);
}

/* The same with the bind account and its password file. */
static void config_bind(const char *top, const char *uris, const char *more)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "  bind_dn = \"" READER "\"\n  bind_password_file = \"%s\"\n%s", pwfile,
		 more ? more : "");
	config(top, uris, text);
}

static void assert_log(const char *needle)
{
	if (!h_log_has(needle)) {
		fprintf(stderr, "log was:\n%s", h_log());
		fail_msg("no log line with \"%s\"", needle);
	}
}

static void assert_sent_to(const char *phone)
{
	assert_string_equal(h_mock_last_param("phone_number"), phone);
}

static void assert_nothing_sent(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	assert_int_equal(s.send, 0);
	assert_int_equal(s.check_send_ability, 0);
}

/* A TCP socket listening on a free loopback port, which goes to *port. */
static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return s;
}

/* Fails unless nobody connected to the listening socket s: the kernel
 * completes a connection without accept(), so one made during the login
 * is waiting now. */
static void assert_no_connection(int s)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	char buf[4096];
	ssize_t n, total = 0;
	int c;

	if (poll(&p, 1, 100) == 0)
		return;
	c = accept(s, NULL, NULL);
	while (c >= 0 && (n = recv(c, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
	if (c >= 0)
		close(c);
	fail_msg("the module connected and sent %zd bytes", total);
}

/* ---- numbers in the forms people type */

/* lena's mobile is there for the bind account only: the number proves
 * the bind, and without it there is none. */
static void starttls_bind_international(void **state)
{
	struct h_login l = LOGIN(.user = "lena", .answers = {ANSWER_CODE});

	(void)state;
	config_bind(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+442079460958");
	assert_true(h_messages_has(&l, "+44 \u2022\u2022\u2022\u2022 \u2022\u202258"));

	h_mock_reset();
	config(NULL, uri_starttls, NULL);
	l = LOGIN(.user = "lena", .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_log("ldap: user lena: the entry has no mobile");
	assert_nothing_sent();
}

static void ldaps_anonymous_national_number(void **state)
{
	struct h_login l = LOGIN(.user = "erin", .answers = {ANSWER_CODE});

	(void)state;
	config("default_country_code = \"1\"", uri_ldaps, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+14155550101");
}

static void double_zero_prefix(void **state)
{
	struct h_login l = LOGIN(.user = "fred", .answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+442079460958"); /* written 0044 20 7946 0958 */
}

static void national_number_without_country_code(void **state)
{
	struct h_login l = LOGIN(.user = "erin", .answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("unmapped");
	assert_log(
	    "ldap: user erin: value 1 of mobile is not a valid phone number (14 characters), "
	    "skipped");
	assert_nothing_sent();
}

static void first_value_that_is_a_number_wins(void **state)
{
	struct h_login l = LOGIN(.user = "gina", .answers = {ANSWER_CODE});

	(void)state;
	config("default_country_code = \"1\"", uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+14155550101");
	assert_log("value 1 of mobile is not a valid phone number (21 characters)");
}

static void entry_without_value(void **state)
{
	struct h_login l = LOGIN(.user = "hank", .answers = {ANSWER_CODE});

	(void)state;
	config("unmapped = \"ignore\"", uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE"); /* the only module */
	assert_log("ldap: user hank: the entry has no mobile");
	assert_nothing_sent();
}

static void value_that_is_not_a_number(void **state)
{
	struct h_login l = LOGIN(.user = "ivan", .answers = {ANSWER_CODE});

	(void)state;
	config("unmapped = \"fallback\"", uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("unmapped");
	assert_log("value 1 of mobile is not a valid phone number (3 characters)");
	assert_nothing_sent();
}

static void user_not_in_directory(void **state)
{
	struct h_login l = LOGIN(.user = "nobody", .answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("unmapped");
	assert_log("ldap: user nobody: no entry");
	assert_nothing_sent();
}

static void two_entries_are_an_error(void **state)
{
	struct h_login l = LOGIN(.user = "twin", .answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_log("more than one entry under \"" BASE "\" matches (uid=%u) for user twin");
	assert_nothing_sent();
}

static void base_that_does_not_exist(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	cfg_base = "ou=nowhere," BASE;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_log("cannot search under base: No such object");
	assert_nothing_sent();
}

static void custom_filter_and_attribute(void **state)
{
	struct h_login l = LOGIN(.user = "judy", .answers = {ANSWER_CODE});

	(void)state;
	config_bind("default_country_code = \"44\"", uri_starttls,
		    "  filter = \"(&(objectClass=inetOrgPerson)(uid=%u))\"\n"
		    "  attribute = \"telephoneNumber\"");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+14155550101");
}

/* ---- lookup order: inline, users_file, then the directory */

static void inline_and_users_file_come_first(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	/* The directory says +44 for dora and +1 for kate. */
	config("user dora { phone = \"+1 415 555 0101\" }", uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+14155550101");

	h_mock_reset();
	h_users_file("kate +44 20 7946 0958\n");
	l = LOGIN(.user = "kate", .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+442079460958");
}

static void directory_not_asked_when_mapped(void **state)
{
	struct h_login l = LOGIN(.user = "alice", .answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_dead, NULL); /* alice is an inline entry */
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_null(strstr(h_log(), "ldap:"));
}

/* ---- bind */

static void protected_attribute_needs_the_bind(void **state)
{
	struct h_login l = LOGIN(.user = "judy", .answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_starttls, "  attribute = \"telephoneNumber\"");
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_log("ldap: user judy: the entry has no telephoneNumber");

	h_mock_reset();
	config_bind(NULL, uri_starttls, "  attribute = \"telephoneNumber\"");
	l = LOGIN(.user = "judy", .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+14155550101");
}

static void wrong_password_secure(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	password_file("wrong-secret\n", 0600);
	config_bind(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("directory_refused");
	assert_log("bind failed: Invalid credentials");
	assert_log("ldap: user dora: the directory refused the lookup");
	assert_nothing_sent();
}

static void wrong_password_not_retried_elsewhere(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char uris[512];

	(void)state;
	/* SECURITY: every refused bind counts toward the account's lockout. */
	password_file("wrong-secret\n", 0600);
	snprintf(uris, sizeof(uris), "%s %s", uri_starttls, uri_ldaps);
	config_bind(NULL, uris, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_null(strstr(h_log(), uri_ldaps));
}

/* SECURITY: the server answered; safe mode is for silence only. */
static void wrong_password_safe(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	password_file("wrong-secret\n", 0600);
	config_bind("failmode = \"safe\"", uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("directory_refused");
	assert_nothing_sent();
}

/* The module's service account locked by wrong passwords (slapd's ppolicy,
 * three failures, in a database of its own: lockout.ldif). Anyone who can
 * send binds can do this to a real directory; with the right password the
 * bind is still refused, and failmode = safe must not let the user in
 * without a code. Each failed login below is one bind: the module does not
 * lock the account faster than the logins that reach it. */
static void service_account_locked(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char more[1024];
	int i;

	(void)state;
	snprintf(more, sizeof(more), "  bind_dn = \"%s\"\n  bind_password_file = \"%s\"",
		 lockout_dn, pwfile);
	config("failmode = \"safe\"", uri_starttls, more);
	h_state_reset(); /* dora's codes of the tests before */
	h_run(&l);	 /* before: the account works */
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+442079460958");

	password_file("wrong-secret\n", 0600);
	for (i = 0; i < 3; i++) {
		h_run(&l);
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
		assert_outcome("directory_refused");
	}

	h_mock_reset();
	password_file(PASSWORD "\n", 0600);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("directory_refused");
	assert_log("bind failed: Invalid credentials");
	assert_nothing_sent();
}

static void password_file_unsafe_or_missing(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	password_file(PASSWORD "\n", 0644);
	config_bind(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_log("bindpw: refusing to use it: readable by group or others");

	unlink(pwfile);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_log("bindpw: does not exist");

	config(NULL, uri_starttls, "  bind_dn = \"" READER "\"");
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_log("ldap: bind_dn and bind_password_file go together");
	assert_nothing_sent();
}

/* ---- filters */

static void filter_without_valid_syntax(void **state)
{
	static const char *const filters[] = {
	    "(uid=%u",		  /* unbalanced: refused before connecting */
	    "(&(uid=%u)(bogus))", /* balanced but no filter: libldap's verdict */
	    "(uid=alice)",	  /* no %u: every user would get alice's number */
	    "(uid=%U)",		  /* a typo */
	};
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char more[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		snprintf(more, sizeof(more), "  filter = \"%s\"", filters[i]);
		config(NULL, uri_starttls, more);
		h_run(&l);
		assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
		assert_outcome("config_error");
		assert_log("ldap: filter \"");
	}
	assert_nothing_sent();
}

/* ---- hostile user names */

static void hostile_names_match_nothing(void **state)
{
	static const char *const names[] = {
	    "*",       "vic*",	       "*)(uid=victim", "alice)(uid=*",	   "\\", "\\2a",
	    "victim)", "(uid=victim)", "x)(|(uid=*",	"nobody\0)(uid=*", /* cut at the NUL by C
									      and by PAM */
	};
	struct h_login l;
	size_t i;

	(void)state;
	/* Under ou=hostile only uid=victim would answer an unescaped wildcard. */
	cfg_base = "ou=hostile," BASE;
	config(NULL, uri_starttls, NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		l = LOGIN(.user = names[i], .answers = {ANSWER_CODE});
		h_run(&l);
		if (l.rc != PAM_AUTH_ERR || !h_log_has("outcome=unmapped ")) {
			fprintf(stderr, "name %s; log:\n%s", names[i], h_log());
			fail();
		}
	}
	assert_nothing_sent();
}

static void names_with_metacharacters_match_themselves(void **state)
{
	static const char *const names[] = {"paren(s)", "back\\slash"};
	struct h_login l;
	size_t i;

	(void)state;
	cfg_base = "ou=hostile," BASE;
	config(NULL, uri_starttls, NULL);
	for (i = 0; i < 2; i++) {
		h_mock_reset();
		l = LOGIN(.user = names[i], .answers = {ANSWER_CODE});
		h_run(&l);
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
		assert_sent_to("+14155550101"); /* not victim's +44 */
	}
}

static void long_name(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char name[301];

	(void)state;
	memset(name, '*', 300);
	name[300] = '\0';
	cfg_base = "ou=hostile," BASE;
	config(NULL, uri_starttls, NULL);
	l.user = name;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("invalid_user_name"); /* the module stops it first */
	assert_nothing_sent();
}

/* SECURITY: a user name that looks like a field of the log line is
 * escaped in every line the lookup writes: a value that is not a number,
 * an entry without the attribute, no entry, the directory unreachable or
 * refusing. */
static void user_name_cannot_forge_log_fields(void **state)
{
	static const char name[] = "x outcome=success", field[] = "x%20outcome%3dsuccess";
	struct h_login l = LOGIN(.user = name, .answers = {ANSWER_CODE});

	(void)state;
	cfg_base = "ou=hostile," BASE;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_log("ldap: user x%20outcome%3dsuccess: value 1 of mobile is not a valid phone");
	config(NULL, uri_starttls, "  attribute = \"telephoneNumber\"");
	h_run(&l);
	assert_log("ldap: user x%20outcome%3dsuccess: the entry has no telephoneNumber");
	cfg_base = "ou=people," BASE;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_log("ldap: user x%20outcome%3dsuccess: no entry");
	config(NULL, uri_dead, NULL);
	h_run(&l);
	assert_log("ldap: user x%20outcome%3dsuccess: the directory cannot be reached");
	password_file("wrong-secret\n", 0600);
	config_bind(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_log("ldap: user x%20outcome%3dsuccess: the directory refused the lookup");
	assert_true(strstr(h_log_all(), field) != NULL);
	assert_null(strstr(h_log_all(), name));
	assert_nothing_sent();
}

/* The same names straight to the lookup, without the module's own check of
 * the user name in front. */
static void capture(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	(void)msg;
}

static struct tgotp_ldap_config direct_config(const char *uri, const char *base)
{
	struct tgotp_ldap_config c = {0};

	c.enabled = true;
	c.uri = (char *)(uintptr_t)uri;
	c.base = (char *)(uintptr_t)base;
	c.filter = (char *)(uintptr_t) "(uid=%u)";
	c.attribute = (char *)(uintptr_t) "mobile";
	c.bind_dn = (char *)(uintptr_t) "";
	c.bind_password_file = (char *)(uintptr_t) "";
	c.starttls = true;
	c.ca_file = ca;
	c.timeout = 5;
	return c;
}

static void hostile_names_direct(void **state)
{
	static const char *const names[] = {"*",    "vic\001tim", "vic\ntim", "*)(uid=*))(|(uid=*",
					    "\\5c", "\x80*",	  ""};
	struct tgotp_ldap_config c = direct_config(uri_starttls, "ou=hostile," BASE);
	struct tgotp_log log = {capture, NULL, true};
	char phone[TGOTP_PHONE_MAX], name[301];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(tgotp_ldap_lookup(&c, "1", names[i], phone, &log),
				 TGOTP_LOOKUP_NOT_FOUND);
		assert_string_equal(phone, "");
	}
	memset(name, '*', 300);
	name[300] = '\0';
	assert_int_equal(tgotp_ldap_lookup(&c, "1", name, phone, &log), TGOTP_LOOKUP_NOT_FOUND);
	assert_int_equal(tgotp_ldap_lookup(&c, "1", "paren(s)", phone, &log), TGOTP_LOOKUP_FOUND);
	assert_string_equal(phone, "+14155550101");
}

/* ---- TLS */

static void certificate_from_another_ca(void **state)
{
	const char *uris[] = {uri_other, uri_other_ldaps};
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		config(NULL, uris[i], NULL);
		h_run(&l);
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
		assert_outcome("directory_unavailable");
		assert_log("is the server certificate from the CA in ca_file");
	}
	assert_nothing_sent();
}

static void certificate_for_another_host(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_wronghost, NULL); /* 127.0.0.2: not in the certificate */
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_log("is the server certificate from the CA in ca_file");
	assert_nothing_sent();
}

static void ca_file_of_another_ca(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	cfg_ca = other_ca;
	config("failmode = \"safe\"", uri_ldaps, NULL);
	h_run(&l);
	/* safe mode lets in without a code; the log says why */
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("directory_unavailable");
	assert_log("is the server certificate from the CA in ca_file");
	assert_nothing_sent();
}

static void ca_file_unreadable(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char path[600];

	(void)state;
	snprintf(path, sizeof(path), "%s/nothing.pem", h_dir());
	cfg_ca = path;
	config(NULL, uri_starttls, NULL);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_log("cannot set up TLS");
}

/* ---- no directory traffic in clear: ldaps://, StartTLS or ldapi:// */

/* The local socket: no TLS (starttls, true by default, does not apply),
 * anonymous or with the bind password, which never leaves the host. */
static void ldapi_socket(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	config(NULL, uri_ldapi, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+442079460958");

	h_mock_reset();
	config_bind(NULL, uri_ldapi, "  starttls = false\n  attribute = \"telephoneNumber\"");
	l = LOGIN(.user = "judy", .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+14155550101"); /* readable after the bind only */
}

/* SECURITY: nothing authenticates the server of a socket, so whoever may
 * create files in its directory could stand in for the directory. */
static void ldapi_socket_in_open_directory(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char dir[600], uri[1024], *o;
	const char *p;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/open", h_dir());
	mkdir(dir, 0700);
	assert_int_equal(chmod(dir, 01777), 0);
	o = uri + snprintf(uri, sizeof(uri), "ldapi://");
	for (p = dir; *p; p++)
		o += *p == '/' ? sprintf(o, "%%2F") : sprintf(o, "%c", *p);
	snprintf(o, sizeof(uri) - (size_t)(o - uri), "%%2Fldapi");
	config(NULL, uri, NULL);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_outcome("config_error");
	assert_log("open is writable by group or others");
	assert_nothing_sent();
}

/* ldap:// with starttls = false is a configuration error, whichever of
 * the two keys comes last (the error is on its line), also beside an
 * ldaps:// uri; found before anything is sent: the server standing in for
 * the directory sees no connection at all. */
static void plain_ldap_refused(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char plain[64], text[1024], needle[1024];
	int s, port;

	(void)state;
	s = listen_loopback(&port);
	snprintf(plain, sizeof(plain), "ldap://127.0.0.1:%d", port);
	config(NULL, plain, "  starttls = false"); /* line 15 */
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_outcome("config_error");
	snprintf(needle, sizeof(needle),
		 "%s/pam_tgotp.conf:15: starttls = false with uri \"%s\" would send the "
		 "directory traffic in clear",
		 h_dir(), plain);
	assert_log(needle);
	assert_no_connection(s);

	snprintf(text, sizeof(text),
		 "ldap {\n  starttls = false\n  base = \"" BASE "\"\n  uri = \"%s %s\"\n}",
		 uri_ldaps, plain);
	h_config(text); /* uri on line 12 */
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	snprintf(needle, sizeof(needle), "%s/pam_tgotp.conf:12: uri = \"%s %s\" with starttls",
		 h_dir(), uri_ldaps, plain);
	assert_log(needle);
	assert_no_connection(s);
	assert_nothing_sent();
	close(s);
}

/* The lookup refuses it too when the configuration did not come through
 * the parser (and an unknown scheme), before the first uri is tried. */
static void plain_ldap_refused_by_the_lookup(void **state)
{
	static const char *const bad[] = {"ldap", "cldap"};
	struct tgotp_ldap_config c;
	struct tgotp_log log = {capture, NULL, true};
	char phone[TGOTP_PHONE_MAX], uris[1024];
	size_t i;
	int s, port;

	(void)state;
	s = listen_loopback(&port);
	for (i = 0; i < 2; i++) {
		snprintf(uris, sizeof(uris), "%s://127.0.0.1:%d %s", bad[i], port, uri_ldapi);
		c = direct_config(uris, BASE);
		c.starttls = false;
		c.timeout = 1;
		assert_int_equal(tgotp_ldap_lookup(&c, "", "dora", phone, &log),
				 TGOTP_LOOKUP_ERROR);
		assert_string_equal(phone, "");
		assert_no_connection(s);
	}
	close(s);
}

/* ---- the directory cannot be reached */

static void first_uri_dead_second_answers(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char uris[512], needle[300];

	(void)state;
	snprintf(uris, sizeof(uris), "%s %s", uri_dead, uri_ldaps);
	config_bind(NULL, uris, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	snprintf(needle, sizeof(needle), "ldap: %s: ", uri_dead);
	assert_log(needle);
	assert_log("Can't contact LDAP server");
}

static void every_uri_dead(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char uris[512];

	(void)state;
	snprintf(uris, sizeof(uris), "%s ldaps://127.0.0.1:1", uri_dead);
	config_bind(NULL, uris, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("directory_unavailable");
	assert_log("ldap: user dora: the directory cannot be reached");

	config_bind("failmode = \"safe\"", uris, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("directory_unavailable");
	assert_nothing_sent();
}

/* The state letter of a process from /proc/PID/stat ('T': stopped). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void stall_slapd(void)
{
	int i;

	assert_int_equal(kill(slapd_pid, SIGSTOP), 0);
	stalled = true;
	/* SIGSTOP is delivered asynchronously: a lookup started at once could
	 * still be served. Wait until the kernel reports it stopped. */
	for (i = 0; i < 200 && proc_state(slapd_pid) != 'T'; i++)
		usleep(10000);
	assert_int_equal(proc_state(slapd_pid), 'T');
}

/* SIGSTOP: the kernel still accepts connections, nothing answers. */
static void stalled_slapd_times_out(void **state)
{
	const char *uris[] = {uri_starttls, uri_ldaps, uri_ldapi};
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	size_t i;

	(void)state;
	cfg_timeout = 1;
	stall_slapd();
	for (i = 0; i < 3; i++) {
		config_bind(NULL, uris[i], NULL);
		h_run(&l);
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
		assert_outcome("directory_unavailable");
		if (l.seconds < 0.9 || l.seconds > 1.0 + 3.0 * h_time_scale())
			fail_msg("%s: the lookup took %.2f s with timeout = 1", uris[i], l.seconds);
	}
	assert_nothing_sent();
}

static void stalled_first_uri_second_answers(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char uris[512];

	(void)state;
	stall_slapd();
	/* both servers' CAs trusted, so that the second one may answer */
	cfg_ca = both_cas;
	cfg_timeout = 1;
	snprintf(uris, sizeof(uris), "%s %s", uri_ldaps, uri_other);
	config(NULL, uris, NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_sent_to("+442079460958");
	/* The first of two uris may use half of the one second. */
	assert_log("TLS handshake failed: Timed out");
	assert_true(l.seconds >= 0.45);
}

/* ldap.timeout bounds the whole lookup, not each step of each server:
 * three servers that accept the connection and never answer (StartTLS,
 * TLS handshake, StartTLS) cost one timeout, not three, and each of them
 * still gets its turn. */
static void stalled_servers_share_one_deadline(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	static const char *const schemes[] = {"ldap", "ldaps", "ldap"};
	char uris[3][64], all[256], needle[512];
	int s[3], port;
	size_t i;

	(void)state;
	cfg_timeout = 2;
	for (i = 0; i < 3; i++) {
		s[i] = listen_loopback(&port); /* never accepted: the kernel still connects */
		snprintf(uris[i], sizeof(uris[i]), "%s://127.0.0.1:%d", schemes[i], port);
	}
	snprintf(all, sizeof(all), "%s %s %s", uris[0], uris[1], uris[2]);
	config_bind("failmode = \"safe\"", all, NULL);
	h_run(&l);
	printf("three stalled servers, timeout = 2: the login took %.3f s\n", l.seconds);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS"); /* silence: failmode decides */
	assert_outcome("directory_unavailable");
	if (l.seconds < 1.9 || l.seconds > 2.0 + 1.5 * h_time_scale())
		fail_msg("the lookup took %.2f s with timeout = 2", l.seconds);
	for (i = 0; i < 3; i++) {
		snprintf(needle, sizeof(needle), "ldap: %s: %s failed: Timed out", uris[i],
			 i == 1 ? "TLS handshake" : "StartTLS");
		assert_log(needle);
		close(s[i]);
	}
	assert_nothing_sent();
}

/* A server that reads the first request of every connection and resets it:
 * libldap then writes its goodbye to a closed socket, and SIGPIPE must not
 * kill the host (sudo and login do not ignore it). */
static void *resetter(void *arg)
{
	struct linger lg = {1, 0};
	int s = *(int *)arg, c;
	char buf[512];

	while ((c = accept(s, NULL, NULL)) >= 0) {
		if (recv(c, buf, sizeof(buf), 0) < 0)
			break;
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c);
	}
	return NULL;
}

static void server_resets_connection(void **state)
{
	static const char *const schemes[] = {"ldap", "ldaps"};
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	sigset_t pipe_only;
	char uri[64];
	pthread_t t;
	size_t i;
	int s, port;

	(void)state;
	/* as in a host that neither ignores nor blocks it */
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL);
	signal(SIGPIPE, SIG_DFL);
	s = listen_loopback(&port);
	assert_int_equal(pthread_create(&t, NULL, resetter, &s), 0);
	for (i = 0; i < 2; i++) {
		snprintf(uri, sizeof(uri), "%s://127.0.0.1:%d", schemes[i], port);
		config_bind(NULL, uri, NULL);
		h_run(&l); /* without the module's care, SIGPIPE ends the test here */
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	}
	shutdown(s, SHUT_RDWR);
	pthread_join(t, NULL);
	close(s);
}

/* A server on the listening socket fd that answers the first request of
 * every connection with resultCode busy (51), as a loaded directory may:
 * in a response of type op (0x78 ExtendedResponse for StartTLS, 0x65
 * SearchResultDone), with diag as the diagnostic message. */
struct busy {
	int fd;
	unsigned char op;
	const char *diag; /* under 100 bytes */
};

static void *busy_server(void *arg)
{
	const struct busy *b = arg;
	size_t dl = strlen(b->diag), i;
	unsigned char req[512], reply[128] = {0x30,
					      (unsigned char)(12 + dl),
					      0x02,
					      0x01,
					      0x01,
					      b->op,
					      (unsigned char)(7 + dl),
					      0x0a,
					      0x01,
					      0x33,
					      0x04,
					      0x00,
					      0x04,
					      (unsigned char)dl};
	struct timeval tv = {2, 0};
	ssize_t n;
	int c;

	memcpy(reply + 14, b->diag, dl);
	while ((c = accept(b->fd, NULL, NULL)) >= 0) {
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(c, req, sizeof(req), 0);
		i = n > 1 && (req[1] & 0x80) ? 2 + (req[1] & 0x7f) : 2;
		if (n > (ssize_t)i + 2 && req[i] == 0x02 && req[i + 1] == 0x01)
			reply[4] = req[i + 2]; /* the request's message id */
		if (n > 0 && send(c, reply, 14 + dl, MSG_NOSIGNAL) == (ssize_t)(14 + dl))
			while (recv(c, req, sizeof(req), 0) > 0)
				;
		close(c);
	}
	return NULL;
}

/* SECURITY: "busy" is an answer (load can be caused from outside): never
 * "unreachable", whatever failmode, and whatever another uri did, unless
 * another server answers the search. No password was sent yet, so the next
 * uri is tried. */
static void busy_server_is_an_answer(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct busy b = {.op = 0x78, .diag = "busy"};
	char busy[64], uris[3][512];
	pthread_t t;
	size_t i;
	int port;

	(void)state;
	b.fd = listen_loopback(&port);
	assert_int_equal(pthread_create(&t, NULL, busy_server, &b), 0);
	snprintf(busy, sizeof(busy), "ldap://127.0.0.1:%d", port);
	snprintf(uris[0], sizeof(uris[0]), "%s", busy);
	snprintf(uris[1], sizeof(uris[1]), "%s %s", busy, uri_dead);
	snprintf(uris[2], sizeof(uris[2]), "%s %s", uri_dead, busy);
	for (i = 0; i < 3; i++) {
		config_bind("failmode = \"safe\"", uris[i], NULL);
		h_run(&l);
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
		assert_outcome("directory_refused");
		assert_log("StartTLS failed: Server is busy (busy)");
	}
	assert_nothing_sent();

	h_state_reset(); /* dora's codes of the tests before */
	snprintf(uris[0], sizeof(uris[0]), "%s %s", busy, uri_starttls);
	config_bind("failmode = \"safe\"", uris[0], NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
	assert_sent_to("+442079460958");
	shutdown(b.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(b.fd);
}

/* A search refused over ldapi:// (a local stand-in for slapd, no bind):
 * an answer, so REFUSED; and the server's text, which may repeat the
 * filter and with it the user name, is escaped like the name. */
static void search_refused_text_escaped(void **state)
{
	struct h_login l = LOGIN(.user = "x outcome=success", .answers = {ANSWER_CODE});
	struct busy b = {.op = 0x65, .diag = "no search for x outcome=success now"};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char uri[1024], *o;
	const char *p;
	pthread_t t;

	(void)state;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/busy-ldapi", h_dir());
	unlink(a.sun_path);
	b.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(b.fd >= 0);
	assert_int_equal(bind(b.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(b.fd, 8), 0);
	assert_int_equal(pthread_create(&t, NULL, busy_server, &b), 0);
	o = uri + snprintf(uri, sizeof(uri), "ldapi://");
	for (p = a.sun_path; *p; p++)
		o += *p == '/' ? sprintf(o, "%%2F") : sprintf(o, "%c", *p);
	config("failmode = \"safe\"", uri, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("directory_refused");
	assert_log(
	    "search failed: Server is busy (no%20search%20for%20x%20outcome%3dsuccess%20now)");
	assert_null(strstr(h_log_all(), "x outcome=success"));
	shutdown(b.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(b.fd);
	unlink(a.sun_path);
}

/* Stops the second slapd for good: keep this among the last tests. */
static void slapd_stopped(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	int i;

	(void)state;
	assert_int_equal(kill(other_pid, SIGTERM), 0);
	for (i = 0; i < 100 && kill(other_pid, 0) == 0; i++)
		usleep(50000);
	config(NULL, uri_other, NULL);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_log("Can't contact LDAP server");
}

/* ---- speed: one lookup with StartTLS and a bind */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void lookup_speed(void **state)
{
	struct tgotp_ldap_config c = direct_config(uri_starttls, BASE);
	struct tgotp_log log = {capture, NULL, false};
	const char *preload = getenv("LD_PRELOAD");
	bool slow = preload && strstr(preload, "vgpreload"); /* valgrind */
	int i, n = slow ? 10 : 100;
	char phone[TGOTP_PHONE_MAX];
	struct timespec t0, t1;
	double ms[100];

	(void)state;
	c.bind_dn = (char *)(uintptr_t)READER;
	c.bind_password_file = pwfile;
	for (i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(tgotp_ldap_lookup(&c, "", "dora", phone, &log),
				 TGOTP_LOOKUP_FOUND);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	qsort(ms, (size_t)n, sizeof(ms[0]), cmp_double);
	printf("lookup with StartTLS and bind: median %.2f ms, min %.2f, max %.2f (%d runs)\n",
	       ms[n / 2], ms[0], ms[n - 1], n);
	if (!slow)
		assert_true(ms[n / 2] < 50.0);
}

static const char *need(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		printf("SKIP: %s is not set: slapd was not started (tests/ldap/slapd-start.sh)\n",
		       name);
		exit(77);
	}
	return v;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(starttls_bind_international),
	    T(ldaps_anonymous_national_number),
	    T(double_zero_prefix),
	    T(national_number_without_country_code),
	    T(first_value_that_is_a_number_wins),
	    T(entry_without_value),
	    T(value_that_is_not_a_number),
	    T(user_not_in_directory),
	    T(two_entries_are_an_error),
	    T(base_that_does_not_exist),
	    T(custom_filter_and_attribute),
	    T(inline_and_users_file_come_first),
	    T(directory_not_asked_when_mapped),
	    T(protected_attribute_needs_the_bind),
	    T(wrong_password_secure),
	    T(wrong_password_not_retried_elsewhere),
	    T(wrong_password_safe),
	    T(service_account_locked),
	    T(password_file_unsafe_or_missing),
	    T(filter_without_valid_syntax),
	    T(hostile_names_match_nothing),
	    T(names_with_metacharacters_match_themselves),
	    T(long_name),
	    T(user_name_cannot_forge_log_fields),
	    T(hostile_names_direct),
	    T(certificate_from_another_ca),
	    T(certificate_for_another_host),
	    T(ca_file_of_another_ca),
	    T(ca_file_unreadable),
	    T(ldapi_socket),
	    T(ldapi_socket_in_open_directory),
	    T(plain_ldap_refused),
	    T(plain_ldap_refused_by_the_lookup),
	    T(first_uri_dead_second_answers),
	    T(every_uri_dead),
	    T(stalled_slapd_times_out),
	    T(stalled_first_uri_second_answers),
	    T(stalled_servers_share_one_deadline),
	    T(server_resets_connection),
	    T(busy_server_is_an_answer),
	    T(search_refused_text_escaped),
	    T(lookup_speed),
	    T(slapd_stopped), /* last: it stops the second slapd */
	};
	const char *skip = getenv("TGOTP_LDAP_SKIP");

	if (geteuid() != 0) {
		printf("SKIP: the LDAP tests need root: slapd and the module's root-owned files\n");
		return 77;
	}
	if (skip) {
		printf("SKIP: %s\n", skip);
		return 77;
	}
	uri_starttls = need("TGOTP_LDAP_URI");
	uri_ldaps = need("TGOTP_LDAPS_URI");
	uri_ldapi = need("TGOTP_LDAPI_URI");
	uri_other = need("TGOTP_LDAP_OTHER_URI");
	uri_other_ldaps = need("TGOTP_LDAPS_OTHER_URI");
	uri_wronghost = need("TGOTP_LDAPS_WRONGHOST_URI");
	uri_dead = need("TGOTP_LDAP_DEAD_URI");
	lockout_dn = need("TGOTP_LDAP_LOCKOUT_DN");
	/* SECURITY: libldap reads these when it starts (as ldap.conf would
	 * say them); the module's own TLS settings must win over both. */
	setenv("LDAPTLS_REQCERT", "never", 1);
	setenv("LDAPTLS_CACERT", "/dev/null", 1);
	slapd_pid = (pid_t)atoi(need("TGOTP_LDAP_PID"));
	other_pid = (pid_t)atoi(need("TGOTP_LDAP_OTHER_PID"));
	return cmocka_run_group_tests_name("ldap_integration", tests, group_setup,
					   h_group_teardown);
}
