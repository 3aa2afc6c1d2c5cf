/* SPDX-License-Identifier: BSD-3-Clause */
/* Phone numbers from a directory: one connection per login, each uri in
 * turn, TLS checked, options on the handle only (the module shares its
 * process with sshd, sudo or login, which may use libldap themselves). */
#include <errno.h>
#include <ldap.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "config_check.h"
#include "fileio.h"
#include "ldapdir.h"
#include "text.h"

/* Longer attribute values are not phone numbers in any written form. */
#define VALUE_MAX 64

enum scheme {
	SCHEME_LDAP,  /* TCP, then StartTLS */
	SCHEME_LDAPS, /* TCP with TLS from the first byte */
	SCHEME_LDAPI, /* a local socket: no TLS */
};

/* The scheme of a parsed uri, or -1 for any other. */
static int scheme_of(const LDAPURLDesc *lud)
{
	if (strcasecmp(lud->lud_scheme, "ldap") == 0)
		return SCHEME_LDAP;
	if (strcasecmp(lud->lud_scheme, "ldaps") == 0)
		return SCHEME_LDAPS;
	if (strcasecmp(lud->lud_scheme, "ldapi") == 0)
		return SCHEME_LDAPI;
	return -1;
}

struct query {
	const struct tgotp_ldap_config *cfg;
	const char *default_cc;
	const char *user_log; /* the user name as a log field (tgotp_log_field) */
	const char *filter;   /* expanded */
	const char *password; /* NULL: anonymous */
	char *phone;
	const struct tgotp_log *log;
	int64_t end;	     /* of the whole lookup: monotonic clock, microseconds */
	int64_t uri_end;     /* of the current uri's share of it */
	struct timeval step; /* left for the step under way; on_connect reads it */
	struct ldap_conncb conncb;
	char *dn; /* NULL, or dnlen bytes for the DN of the entry found */
	size_t dnlen;
	bool probe; /* tgotp check --online: connect, TLS, bind; no search */
};

int tgotp_ldap_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		/* RFC 4515 requires * ( ) \ and NUL; control characters are
		 * escaped too so that no filter carries them raw. */
		if (c == '*' || c == '(' || c == ')' || c == '\\' || tgotp_text_is_control(c)) {
			if (o + 3 >= outlen)
				goto toolong;
			out[o++] = '\\';
			tgotp_hex_byte(out + o, c);
			o += 2;
		} else {
			if (o + 1 >= outlen)
				goto toolong;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return 0;
toolong:
	out[0] = '\0'; /* never half a value */
	return -1;
}

/* Parentheses of the template balance. User names cannot upset this: their
 * parentheses are escaped. Deeper syntax is libldap's (LDAP_FILTER_ERROR). */
static bool filter_balanced(const char *f)
{
	long depth = 0;

	for (; *f; f++) {
		if (*f == '(')
			depth++;
		else if (*f == ')' && --depth < 0)
			return false;
	}
	return depth == 0;
}

/* The filter with every %u replaced by the escaped user name and %% by %.
 * NULL (logged) for a template that is not usable. */
static char *expand_filter(const char *tmpl, const char *user, const struct tgotp_log *log)
{
	size_t n = 0, size, o = 0, used = 0;
	const char *p;
	char *out;

	if (!filter_balanced(tmpl)) {
		tgotp_log(log, LOG_ERR, "ldap: filter \"%s\" is not a valid filter with %%u", tmpl);
		return NULL;
	}
	for (p = tmpl; (p = strstr(p, "%u")); p += 2)
		n++;
	size = strlen(tmpl) + n * 3 * strlen(user) + 1;
	out = malloc(size);
	if (!out)
		return NULL;
	for (p = tmpl; *p; p++) {
		if (*p != '%') {
			out[o++] = *p;
		} else if (p[1] == '%') {
			out[o++] = *++p;
		} else if (p[1] == 'u' && tgotp_ldap_escape(user, out + o, size - o) == 0) {
			o += strlen(out + o);
			p++;
			used++;
		} else {
			tgotp_log(log, LOG_ERR,
				  "ldap: filter \"%s\": only %%u and %%%% may follow a %%", tmpl);
			free(out);
			return NULL;
		}
	}
	out[o] = '\0';
	/* SECURITY: without %u (a "%%u" is a literal) every user would get
	 * the same entry's number. */
	if (used == 0) {
		tgotp_log(log, LOG_ERR, "ldap: filter \"%s\" is not a valid filter with %%u", tmpl);
		free(out);
		return NULL;
	}
	return out;
}

/* Logs a failure with the uri, libldap's text and, when the server or the
 * TLS library said more, that too. echoes_user: the request carried the
 * user name (the search filter), which the server's text may repeat.
 * SECURITY: such text is escaped like the user name itself, so that a user
 * called "x outcome=success" cannot forge a field through it. */
static void log_failure(const struct query *q, LDAP *ld, const char *uri, const char *what, int rc,
			bool echoes_user)
{
	char *diag = NULL, field[3 * 256 + 1];
	const char *said = "";

	if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) != LDAP_OPT_SUCCESS)
		diag = NULL;
	if (diag && *diag)
		said = echoes_user ? tgotp_log_field(diag, field, sizeof(field)) : diag;
	/* A refused certificate comes out of libldap as "Connect error"
	 * with GnuTLS's "(unknown error code)": say where to look. */
	tgotp_log(q->log, LOG_ERR, "ldap: %s: %s: %s%s%s%s%s", uri, what, ldap_err2string(rc),
		  *said ? " (" : "", said, *said ? ")" : "",
		  rc == LDAP_CONNECT_ERROR ? "; is the server certificate from the CA in ca_file, "
					     "and for this host name?"
					   : "");
	ldap_memfree(diag);
}

/* One option of the handle, logged by name when it cannot be set (what:
 * "TLS" or "connection"). libldap says no more than LDAP_OPT_ERROR, which
 * ldap_err2string would read as "Can't contact LDAP server". */
static int set_option(const struct query *q, LDAP *ld, const char *uri, const char *what,
		      const char *name, int option, const void *value)
{
	if (ldap_set_option(ld, option, value) == LDAP_OPT_SUCCESS)
		return 0;
	tgotp_log(q->log, LOG_ERR, "ldap: %s: cannot set the %s options: %s", uri, what, name);
	return -1;
}

static int set_tls_options(const struct query *q, LDAP *ld, const char *uri)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, server = 0;
	const char *ca = q->cfg->ca_file;

	/* SECURITY: certificate and host name are checked whatever
	 * ldap.conf says (TLS_REQCERT never is a common copy-paste). */
	if (set_option(q, ld, uri, "TLS", "require_cert", LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) ||
	    set_option(q, ld, uri, "TLS", "protocol_min", LDAP_OPT_X_TLS_PROTOCOL_MIN, &min))
		return -1;
	/* SECURITY: the private CA alone, not it plus a directory of others
	 * that ldap.conf may name. */
	if (ca[0] && (set_option(q, ld, uri, "TLS", "cacertfile", LDAP_OPT_X_TLS_CACERTFILE, ca) ||
		      set_option(q, ld, uri, "TLS", "cacertdir", LDAP_OPT_X_TLS_CACERTDIR, "")))
		return -1;
	/* TLS options of a handle take effect only in a context of the
	 * handle's own, made after them; without it libldap would use the
	 * process-wide context and ignore them. */
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server) != LDAP_OPT_SUCCESS) {
		tgotp_log(q->log, LOG_ERR, "ldap: cannot set up TLS with ca_file \"%s\"",
			  ca[0] ? ca : "(ldap.conf's TLS_CACERT)");
		return -1;
	}
	return 0;
}

/* A receive and send timeout on the socket bounds every read and write: in
 * the handshake of start_tls() libldap reads from the blocking socket
 * without polling first, so this is what ends a handshake with a server
 * that accepted the connection and then stalls. */
static void socket_timeouts(ber_socket_t fd, const struct timeval *tv)
{
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, sizeof(*tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, sizeof(*tv));
}

/* Called by libldap once the connection stands, before any TLS. */
static int on_connect(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
		      struct ldap_conncb *ctx)
{
	ber_socket_t fd = -1;

	(void)ld;
	(void)srv;
	(void)addr;
	if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0)
		socket_timeouts(fd, ctx->lc_arg);
	return 0;
}

static void on_close(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

static int set_options(const struct query *q, LDAP *ld, const char *uri, bool tls)
{
	int version = LDAP_VERSION3;

	/* SECURITY: no referrals: one would send the search on to a server the
	 * directory names, outside the configured list and its TLS checks. */
	if (set_option(q, ld, uri, "connection", "protocol_version", LDAP_OPT_PROTOCOL_VERSION,
		       &version) ||
	    set_option(q, ld, uri, "connection", "referrals", LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    set_option(q, ld, uri, "connection", "connect_cb", LDAP_OPT_CONNECT_CB, &q->conncb))
		return -1;
	return tls ? set_tls_options(q, ld, uri) : 0;
}

/* What a failed libldap call says about the server.
 *
 * Nobody answered only when libldap says so itself: LDAP_SERVER_DOWN (no
 * connection, or it was lost before an answer came), LDAP_CONNECT_ERROR
 * (TCP connect or TLS handshake failed), LDAP_TIMEOUT (no answer in time;
 * also a stalled TLS handshake in libldap 2.5) and LDAP_X_CONNECTING (what
 * later libldap returns instead for a handshake on a handle made
 * asynchronous, see start_tls(), that had not finished in time).
 *
 * Everything else is an answer: a result code >= 0 came in an LDAP message
 * from the server (a refused bind, a locked account, busy, unwilling,
 * insufficient access, a refused StartTLS), and LDAP_DECODING_ERROR means
 * the server sent something. The remaining negative codes are libldap's
 * own (memory, parameters, encoding, controls, a local error): they show
 * nothing about the server being down.
 *
 * SECURITY: failmode = safe opens the door on UNAVAILABLE, so only silence
 * may give it. An answer can be provoked (lock the service account with
 * wrong passwords, load the server until it says busy) and a code we cannot
 * place is no proof of an outage: all of them are REFUSED. */
static enum tgotp_lookup classify(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_X_CONNECTING:
		return TGOTP_LOOKUP_UNAVAILABLE;
	default:
		return TGOTP_LOOKUP_REFUSED;
	}
}

static int64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The time left until end in tv; false when less than a millisecond is
 * left (nothing fits, and a zero timeout means "none" to setsockopt). */
static bool time_left(int64_t end, struct timeval *tv)
{
	int64_t left = end - now_us();

	if (left < 1000)
		return false;
	tv->tv_sec = (time_t)(left / 1000000);
	tv->tv_usec = (suseconds_t)(left % 1000000);
	return true;
}

/* Before each step (connect, TLS, bind, search): what is left of this
 * uri's share of the deadline bounds the connect and the TLS handshake
 * (network timeout), each synchronous operation (API timeout, search time
 * limit) and, once connected, each read and write on the socket. No step
 * has a timeout of its own: N stalled steps or servers cost the deadline,
 * not N timeouts. Returns an LDAP result: LDAP_TIMEOUT when the time is
 * spent. */
static int arm(struct query *q, LDAP *ld)
{
	ber_socket_t fd = -1;

	if (!time_left(q->uri_end, &q->step))
		return LDAP_TIMEOUT;
	if (ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &q->step) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &q->step) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS && fd >= 0)
		socket_timeouts(fd, &q->step);
	return LDAP_SUCCESS;
}

/* Normalises one value of the attribute; logs it (masked) when it is not a
 * phone number. Returns 0 when phone was filled. */
static int take_value(const struct query *q, const struct berval *v, int index)
{
	char buf[VALUE_MAX + 1];
	int ret = -1;

	if (v->bv_len <= VALUE_MAX && !memchr(v->bv_val, '\0', v->bv_len)) {
		memcpy(buf, v->bv_val, v->bv_len);
		buf[v->bv_len] = '\0';
		ret = tgotp_phone_normalise(buf, q->default_cc, q->phone);
		explicit_bzero(buf, sizeof(buf));
	}
	if (ret < 0)
		/* SECURITY: a value that failed may still be mostly a real
		 * number: never log it whole. */
		tgotp_log(q->log, LOG_WARNING,
			  "ldap: user %s: value %d of %s is not a valid phone number (%lu "
			  "characters), skipped",
			  q->user_log, index + 1, q->cfg->attribute, (unsigned long)v->bv_len);
	return ret;
}

static void copy_dn(const struct query *q, LDAP *ld, LDAPMessage *entry)
{
	char *dn = ldap_get_dn(ld, entry);

	tgotp_text_copy_printable(dn ? dn : "", dn ? strlen(dn) : 0, q->dn, q->dnlen);
	ldap_memfree(dn);
}

static enum tgotp_lookup take_entry(const struct query *q, LDAP *ld, LDAPMessage *entry)
{
	struct berval **vals = ldap_get_values_len(ld, entry, q->cfg->attribute);
	enum tgotp_lookup ret = TGOTP_LOOKUP_NOT_FOUND;
	int i;

	if (!vals) {
		tgotp_log(q->log, LOG_INFO, "ldap: user %s: the entry has no %s", q->user_log,
			  q->cfg->attribute);
		return ret;
	}
	for (i = 0; vals[i]; i++) {
		if (take_value(q, vals[i], i) == 0) {
			ret = TGOTP_LOOKUP_FOUND;
			break;
		}
	}
	ldap_value_free_len(vals);
	if (ret == TGOTP_LOOKUP_FOUND && q->dn)
		copy_dn(q, ld, entry);
	return ret;
}

static enum tgotp_lookup search_user(struct query *q, LDAP *ld, const char *uri, bool *next)
{
	char *attrs[] = {q->cfg->attribute, NULL};
	enum tgotp_lookup ret = TGOTP_LOOKUP_ERROR;
	LDAPMessage *res = NULL;
	struct timeval tv;
	int rc, n;

	/* A size limit of 2 is enough to see that the filter is ambiguous. */
	if ((rc = arm(q, ld)) == LDAP_SUCCESS) {
		tv = q->step;
		rc = ldap_search_ext_s(ld, q->cfg->base, LDAP_SCOPE_SUBTREE, q->filter, attrs, 0,
				       NULL, NULL, &tv, 2, &res);
	}
	n = rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED ? ldap_count_entries(ld, res) : 0;
	if (rc == LDAP_SIZELIMIT_EXCEEDED || n > 1) {
		/* SECURITY: choosing one would send the code to whichever
		 * entry the server lists first. */
		tgotp_log(q->log, LOG_ERR,
			  "ldap: %s: more than one entry under \"%s\" matches %s for user %s", uri,
			  q->cfg->base, q->cfg->filter, q->user_log);
	} else if (rc == LDAP_FILTER_ERROR) {
		tgotp_log(q->log, LOG_ERR, "ldap: filter \"%s\" is not a valid LDAP filter",
			  q->cfg->filter);
	} else if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX) {
		log_failure(q, ld, uri, "cannot search under base", rc, true);
	} else if (rc != LDAP_SUCCESS) {
		log_failure(q, ld, uri, "search failed", rc, true);
		ret = classify(rc);
		/* Another replica may serve what this one could not; the bind
		 * is done, so trying it costs nothing toward a lockout. */
		*next =
		    ret == TGOTP_LOOKUP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_UNAVAILABLE;
	} else if (n == 0) {
		tgotp_log(q->log, LOG_INFO, "ldap: user %s: no entry", q->user_log);
		ret = TGOTP_LOOKUP_NOT_FOUND;
	} else {
		ret = take_entry(q, ld, ldap_first_entry(ld, res));
	}
	ldap_msgfree(res);
	return ret;
}

static int bind_simple(const struct query *q, LDAP *ld)
{
	struct berval cred;

	cred.bv_val = (char *)(uintptr_t)q->password;
	cred.bv_len = strlen(q->password);
	return ldap_sasl_bind_s(ld, q->cfg->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* What libldap connects to: ldaps:// becomes ldap:// with the port made
 * explicit (the TCP connection is made first, TLS started on it
 * afterwards); ldapi:// goes as it is. *scheme is set; NULL when uri does
 * not parse or has another scheme. */
static char *connect_uri(const char *uri, int *scheme)
{
	LDAPURLDesc *lud = NULL;
	char *out = NULL, *tcp;

	*scheme = -1;
	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS)
		return NULL;
	*scheme = scheme_of(lud);
	if (*scheme == SCHEME_LDAPI) {
		out = ber_strdup(uri);
	} else if (*scheme >= 0 && (tcp = ber_strdup("ldap"))) {
		ber_memfree(lud->lud_scheme);
		lud->lud_scheme = tcp;
		out = ldap_url_desc2str(lud);
	}
	ldap_free_urldesc(lud);
	return out;
}

/* TLS on the connection that stands: at once for ldaps://, after the
 * StartTLS request otherwise. */
static int start_tls(LDAP *ld, bool ldaps)
{
	/* The libldap of Debian 12 (2.5.13) looks at its network timeout
	 * during a TLS handshake only when the handle is asynchronous;
	 * otherwise it retries a non-blocking handshake in a busy loop,
	 * forever if the server never answers. Asynchronous, it reads, gets
	 * on_connect's timeout, and gives up once the network timeout has
	 * passed. The connection stands already: nothing else changes. */
	if (ldap_set_option(ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	return ldaps ? ldap_install_tls(ld) : ldap_start_tls_s(ld, NULL, NULL);
}

/* One server: connect, TLS, bind, search. *next tells whether the next uri
 * is worth a try after a failure: until the password is sent, always;
 * after it, only when the bind got no answer. */
static enum tgotp_lookup try_uri(struct query *q, const char *uri, bool *next)
{
	enum tgotp_lookup ret = TGOTP_LOOKUP_ERROR;
	int scheme, rc;
	char *target = connect_uri(uri, &scheme);
	LDAP *ld = NULL;
	bool tls;

	*next = false;
	/* SECURITY: TLS on every TCP connection (tgotp_config_check_ldap()
	 * refused ldap:// without StartTLS); none on a local socket, which
	 * never leaves the host. */
	tls = scheme != SCHEME_LDAPI;
	if (!target || ldap_initialize(&ld, target) != LDAP_SUCCESS) {
		tgotp_log(q->log, LOG_ERR, "ldap: %s: not a usable uri", uri);
		goto out;
	}
	if (set_options(q, ld, uri, tls) < 0)
		goto out;
	*next = true;
	if ((rc = arm(q, ld)) != LDAP_SUCCESS || (rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		log_failure(q, ld, uri, "cannot connect", rc, false);
		ret = classify(rc);
		goto out;
	}
	if (tls && ((rc = arm(q, ld)) != LDAP_SUCCESS ||
		    (rc = start_tls(ld, scheme == SCHEME_LDAPS)) != LDAP_SUCCESS)) {
		log_failure(q, ld, uri,
			    scheme == SCHEME_LDAPS ? "TLS handshake failed" : "StartTLS failed", rc,
			    false);
		ret = classify(rc);
		goto out;
	}
	if (q->password &&
	    ((rc = arm(q, ld)) != LDAP_SUCCESS || (rc = bind_simple(q, ld)) != LDAP_SUCCESS)) {
		log_failure(q, ld, uri, "bind failed", rc, false);
		ret = classify(rc);
		/* SECURITY: every refused bind counts toward the service
		 * account's lockout, and another replica would refuse it
		 * too. */
		*next = ret == TGOTP_LOOKUP_UNAVAILABLE;
		goto out;
	}
	*next = false;
	if (q->probe) {
		tgotp_log(q->log, LOG_INFO, "ldap: %s: connected%s%s", uri,
			  !tls			   ? ""
			  : scheme == SCHEME_LDAPS ? ", TLS"
						   : ", StartTLS",
			  q->password ? ", bound" : ", anonymous");
		ret = TGOTP_LOOKUP_FOUND;
		goto out;
	}
	ret = search_user(q, ld, uri, next);
out:
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ldap_memfree(target);
	return ret;
}

/* libldap writes with plain write(): a server that closed the connection
 * would raise SIGPIPE, which kills a host that does not ignore it. The
 * signal is blocked for this thread meanwhile and one raised by us is
 * discarded; nothing process-wide changes. */
static void sigpipe_block(sigset_t *old, bool *was_pending)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
	*was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

static void sigpipe_restore(const sigset_t *old, bool was_pending)
{
	const struct timespec zero = {0, 0};
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* How bad a failed try is: silence, then a refusal, then a broken
 * configuration. */
static int severity(enum tgotp_lookup r)
{
	switch (r) {
	case TGOTP_LOOKUP_UNAVAILABLE:
		return 1;
	case TGOTP_LOOKUP_REFUSED:
		return 2;
	default:
		return 3;
	}
}

static int count_words(const char *s)
{
	int n = 0;
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] != ' ' && (i == 0 || s[i - 1] == ' '))
			n++;
	return n;
}

/* Each uri in turn until one answers the search or another try makes no
 * sense. An answer (FOUND, NOT_FOUND) is the directory's word; otherwise
 * the result is the worst failure seen.
 * SECURITY: one server that refused and another that was down is REFUSED:
 * the order of the uris must not turn a refusal into "unreachable", which
 * failmode = safe would let in.
 * The deadline is shared: a uri may use what is left of it divided by the
 * number of uris still to try, so that a first server that stalls leaves
 * the others their turn, and the last one gets all that remains. */
static enum tgotp_lookup try_all(struct query *q, char *uris)
{
	enum tgotp_lookup ret = TGOTP_LOOKUP_ERROR, r;
	char *uri, *save = NULL;
	bool next = true, tried = false;
	int n = count_words(uris);
	int64_t left;

	for (uri = strtok_r(uris, " ", &save); uri && next; uri = strtok_r(NULL, " ", &save), n--) {
		if ((left = q->end - now_us()) < 1000) {
			tgotp_log(q->log, LOG_ERR,
				  "ldap: %s%s: not tried: the timeout of %ld s has passed", uri,
				  n > 1 ? " and the uris after it" : "", q->cfg->timeout);
			r = TGOTP_LOOKUP_UNAVAILABLE;
			next = false;
		} else {
			q->uri_end = q->end - left + left / n;
			r = try_uri(q, uri, &next);
		}
		if (r == TGOTP_LOOKUP_FOUND || r == TGOTP_LOOKUP_NOT_FOUND)
			return r;
		if (!tried || severity(r) > severity(ret))
			ret = r;
		tried = true;
	}
	return ret;
}

/* SECURITY: nothing authenticates the server at the end of a local socket:
 * whoever can create the socket file could answer in the directory's name
 * and hand out their own phone number for any user. Its directory must be
 * writable by its owner alone (not /tmp). */
static bool socket_dir_safe(const char *path, const char *uri, const struct tgotp_log *log)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	char dir[4096];
	struct stat st;

	if (!slash || path[0] != '/' || (size_t)(slash - path) >= sizeof(dir)) {
		tgotp_log(log, LOG_ERR, "ldap: %s: ldapi:// needs the socket's absolute path", uri);
		return false;
	}
	if (slash == path) {
		strcpy(dir, "/");
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	/* A directory that does not exist yet fails the connection. */
	if (stat(dir, &st) == 0 && (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		tgotp_log(log, LOG_ERR,
			  "ldap: %s: refusing the socket: %s is writable by group or others", uri,
			  dir);
		return false;
	}
	return true;
}

/* One uri, checked before anything is sent anywhere: its scheme decides how
 * to connect, and a local socket's directory is looked at now. */
static int check_uri(const char *uri, const struct tgotp_log *log)
{
	LDAPURLDesc *lud = NULL;
	int ret = -1, scheme = -1;

	if (ldap_url_parse(uri, &lud) == LDAP_URL_SUCCESS)
		scheme = scheme_of(lud);
	if (scheme < 0)
		tgotp_log(log, LOG_ERR, "ldap: %s: not an ldap://, ldaps:// or ldapi:// uri", uri);
	else if (scheme != SCHEME_LDAPI || socket_dir_safe(lud->lud_host, uri, log))
		ret = 0;
	if (lud)
		ldap_free_urldesc(lud);
	return ret;
}

/* The configuration's rules (tgotp_config_check_ldap: the settings may not
 * have come through the parser), then each uri as it stands now. */
static int check_config(const struct tgotp_ldap_config *l, const struct tgotp_log *log)
{
	char *copy, *uri, *save = NULL;
	int ret = -1, n = 0;

	if (tgotp_config_check_ldap(l, NULL, log) < 0 || !(copy = strdup(l->uri)))
		return -1;
	for (uri = strtok_r(copy, " ", &save); uri; uri = strtok_r(NULL, " ", &save), n++)
		if (check_uri(uri, log) < 0)
			goto out;
	if (n > 0)
		ret = 0;
	else
		tgotp_log(log, LOG_ERR, "ldap: uri must not be empty");
out:
	free(copy);
	return ret;
}

/* The lookup (or, with q->probe, the probe) of q->cfg; q->user_log is
 * filled here. */
static enum tgotp_lookup run(struct query *q, const char *user, char phone[TGOTP_PHONE_MAX])
{
	const struct tgotp_ldap_config *l = q->cfg;
	const struct tgotp_log *log = q->log;
	enum tgotp_lookup ret = TGOTP_LOOKUP_ERROR;
	char *filter = NULL, *password = NULL, *uris = NULL, user_field[3 * 256 + 1];
	bool was_pending;
	sigset_t old;

	q->phone = phone;
	q->end = now_us() + (int64_t)l->timeout * 1000000;
	q->conncb = (struct ldap_conncb){on_connect, on_close, NULL};
	phone[0] = '\0';
	/* SECURITY: escaped in every line, so that a user called
	 * "x outcome=success" cannot forge a field of the log. */
	q->user_log = tgotp_log_field(user, user_field, sizeof(user_field));
	q->conncb.lc_arg = &q->step;
	if (check_config(l, log) < 0 || !(q->filter = filter = expand_filter(l->filter, user, log)))
		goto out;
	if (l->bind_dn[0] && !(q->password = password = tgotp_read_secret_line(
				   l->bind_password_file, TGOTP_SECRET_PASSWORD, log)))
		goto out;
	if (!(uris = strdup(l->uri)))
		goto out;
	sigpipe_block(&old, &was_pending);
	ret = try_all(q, uris);
	sigpipe_restore(&old, was_pending);
	if (q->probe)
		; /* each failure is logged with its uri */
	else if (ret == TGOTP_LOOKUP_UNAVAILABLE)
		tgotp_log(log, LOG_ERR, "ldap: user %s: the directory cannot be reached",
			  q->user_log);
	else if (ret == TGOTP_LOOKUP_REFUSED)
		tgotp_log(log, LOG_ERR, "ldap: user %s: the directory refused the lookup",
			  q->user_log);
out:
	tgotp_strfreezero(password);
	free(filter);
	free(uris);
	if (ret != TGOTP_LOOKUP_FOUND)
		phone[0] = '\0';
	return ret;
}

enum tgotp_lookup tgotp_ldap_lookup(const struct tgotp_ldap_config *l, const char *default_cc,
				    const char *user, char phone[TGOTP_PHONE_MAX],
				    const struct tgotp_log *log)
{
	return tgotp_ldap_lookup_dn(l, default_cc, user, phone, NULL, 0, log);
}

enum tgotp_lookup tgotp_ldap_lookup_dn(const struct tgotp_ldap_config *l, const char *default_cc,
				       const char *user, char phone[TGOTP_PHONE_MAX], char *dn,
				       size_t dnlen, const struct tgotp_log *log)
{
	struct query q = {.cfg = l, .default_cc = default_cc, .log = log, .dn = dn, .dnlen = dnlen};

	if (dn && dnlen)
		dn[0] = '\0';
	return run(&q, user, phone);
}

int tgotp_ldap_probe(const struct tgotp_ldap_config *l, const struct tgotp_log *log)
{
	char phone[TGOTP_PHONE_MAX], *uris = strdup(l->uri), *uri, *save = NULL;
	struct tgotp_ldap_config one = *l;
	struct query q;
	int failed = 0;

	if (!uris)
		return -1;
	/* each uri on its own, with the whole timeout: every server is
	 * checked, not only the first that answers */
	for (uri = strtok_r(uris, " ", &save); uri; uri = strtok_r(NULL, " ", &save)) {
		one.uri = uri;
		q = (struct query){.cfg = &one, .log = log, .probe = true};
		if (run(&q, "probe", phone) != TGOTP_LOOKUP_FOUND)
			failed++;
	}
	free(uris);
	return failed ? -1 : 0;
}
