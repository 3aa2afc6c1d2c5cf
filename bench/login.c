/* One login through libpam for make bench:
 *   bench-login CONFDIR SERVICE USER ANSWER [START_NS]
 * pam_start_confdir reads SERVICE from CONFDIR. ANSWER is the mock's control
 * port (the code is then read from its /last, as a person reads the phone)
 * or "code=DIGITS" (the mock's fixed code, for concurrent logins, where
 * /last may be another login's). With START_NS (CLOCK_REALTIME, ns) the
 * login waits for that instant and is timed from it, so that many start at
 * once. Prints one line "rc=N login_ms=T" and every syslog line of the module
 * (under debug: its timing line) on stdout. */
#undef _FORTIFY_SOURCE /* the syslog functions below replace glibc's */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define VISIBLE __attribute__((visibility("default")))

VISIBLE void __syslog_chk(int pri, int flag, const char *fmt, ...);

/* libpam's pam_syslog (built with _FORTIFY_SOURCE) lands here: the program
 * is linked -rdynamic. */
VISIBLE void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)pri;
	(void)flag;
	va_start(ap, fmt);
	fputs("log: ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* The code of the mock's last message: GET /last on its control port. */
static char *code_from_mock(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static const char req[] = "GET /last HTTP/1.0\r\n\r\n";
	char buf[8192], *p, *code = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto out;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	p = strstr(buf, "\"code\":");
	if (p && (p = strchr(p + 7, '"')) != NULL)
		code = strndup(p + 1, strspn(p + 1, "0123456789"));
out:
	if (fd >= 0)
		close(fd);
	return code;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *answer = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		r[i].resp = strncmp(answer, "code=", 5) == 0 ? strdup(answer + 5)
							     : code_from_mock(atoi(answer));
		if (!r[i].resp) {
			while (i-- > 0)
				free(r[i].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_REALTIME, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
	struct pam_conv c = {conv, NULL};
	pam_handle_t *pamh = NULL;
	struct timespec start;
	int rc;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s CONFDIR SERVICE USER PORT|code=DIGITS [START_NS]\n",
			argv[0]);
		return 2;
	}
	c.appdata_ptr = argv[4];
	if (argc == 6) {
		long long ns = atoll(argv[5]);
		start.tv_sec = (time_t)(ns / 1000000000);
		start.tv_nsec = (long)(ns % 1000000000);
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &start, NULL) == EINTR)
			;
	} else {
		clock_gettime(CLOCK_REALTIME, &start);
	}
	rc = pam_start_confdir(argv[2], argv[3], &c, argv[1], &pamh);
	if (rc == PAM_SUCCESS) {
		pam_set_item(pamh, PAM_RHOST, "192.0.2.7");
		rc = pam_authenticate(pamh, PAM_SILENT);
		pam_end(pamh, rc);
	}
	printf("rc=%d login_ms=%.3f\n", rc, ms_since(&start));
	return rc == PAM_SUCCESS ? 0 : 1;
}
