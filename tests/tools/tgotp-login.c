/* A real PAM login from the terminal, for the demo and for trying a
 * configuration by hand: tgotp-login CONFDIR SERVICE USER
 * (pam_start_confdir: the service file is read from CONFDIR, never from
 * /etc/pam.d). The conversation is libpam_misc's misc_conv. */
#include <stdio.h>

#include <security/pam_appl.h>
#include <security/pam_misc.h>

int main(int argc, char **argv)
{
	struct pam_conv conv = {misc_conv, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CONFDIR SERVICE USER\n", argv[0]);
		return 2;
	}
	rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, rc));
		return 2;
	}
	pam_set_item(pamh, PAM_RHOST, "demo.example");
	rc = pam_authenticate(pamh, 0);
	printf("pam_authenticate: %s\n", pam_strerror(pamh, rc));
	pam_end(pamh, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}
