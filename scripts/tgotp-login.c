/* A real PAM login from the terminal, for the demo and for trying a
 * configuration by hand:  tgotp-login CONFDIR SERVICE USER [RHOST]
 * pam_start_confdir reads the service file from CONFDIR, never from
 * /etc/pam.d; the conversation is libpam_misc's misc_conv. The module's
 * syslog lines are echoed to stderr so that the person sees what an
 * administrator would find in the auth log. */
#undef _FORTIFY_SOURCE /* the syslog functions below replace glibc's */
#include <stdarg.h>
#include <stdio.h>

#include <security/pam_appl.h>
#include <security/pam_misc.h>

#define VISIBLE __attribute__((visibility("default")))

VISIBLE void __syslog_chk(int pri, int flag, const char *fmt, ...);
VISIBLE void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

VISIBLE void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)pri;
	(void)flag;
	fputs("  [auth log] ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

VISIBLE void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	__vsyslog_chk(pri, flag, fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	struct pam_conv conv = {misc_conv, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s CONFDIR SERVICE USER [RHOST]\n", argv[0]);
		return 2;
	}
	rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, rc));
		return 2;
	}
	if (argc == 5)
		pam_set_item(pamh, PAM_RHOST, argv[4]);
	rc = pam_authenticate(pamh, 0);
	printf("pam_authenticate: %s\n", pam_strerror(pamh, rc));
	pam_end(pamh, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}
