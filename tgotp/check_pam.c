/* SPDX-License-Identifier: BSD-3-Clause */
/* tgotp check: the PAM stacks that load pam_tgotp.so, and sshd's view of
 * its own configuration (sshd -T). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/modargs.h"
#include "tgotp.h"

#define MAX_ARGS  32
#define MAX_LINES 512
#define MAX_DEPTH 8
#define FIELD_MAX 256
#define MODULE_SO "pam_tgotp.so"

struct pline {
	char file[PATH_MAX];
	int line;
	char type[32];
	char control[FIELD_MAX];
	char module[FIELD_MAX];
	char args[MAX_ARGS][FIELD_MAX];
	int nargs;
};

struct stack {
	struct pline *l;
	int n;
};

/* The next field of a pam.d line: a word, or [ ... ] kept whole. */
static char *field(char **p, char *out, size_t cap)
{
	char *s = *p, *e;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	if (*s == '[') {
		e = strchr(s, ']');
		e = e ? e + 1 : s + strlen(s);
	} else {
		for (e = s; *e && *e != ' ' && *e != '\t'; e++)
			;
	}
	n = (size_t)(e - s) < cap ? (size_t)(e - s) : cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e;
	return out;
}

static bool is_module(const char *path, const char *so)
{
	const char *b = strrchr(path, '/');

	return strcmp(b ? b + 1 : path, so) == 0;
}

static void expand(const char *dir, const char *file, const char *want, int depth, struct stack *s);

/* One line of a pam.d file, added to s when its type is want. */
static void take_line(const char *dir, const char *file, int lineno, char *text, const char *want,
		      int depth, struct stack *s)
{
	struct pline *l;
	char *p = text, *h = strchr(text, '#'), inc[FIELD_MAX];
	const char *type;

	if (h)
		*h = '\0';
	if (strncmp(p, "@include", 8) == 0) {
		p += 8;
		if (field(&p, inc, sizeof(inc)))
			expand(dir, inc, want, depth + 1, s);
		return;
	}
	if (s->n >= MAX_LINES)
		return;
	l = &s->l[s->n];
	memset(l, 0, sizeof(*l));
	if (!field(&p, l->type, sizeof(l->type)) || !field(&p, l->control, sizeof(l->control)) ||
	    !field(&p, l->module, sizeof(l->module)))
		return;
	type = l->type[0] == '-' ? l->type + 1 : l->type;
	if (want && strcmp(type, want) != 0)
		return;
	if (strcmp(l->control, "include") == 0 || strcmp(l->control, "substack") == 0) {
		expand(dir, l->module, type, depth + 1, s);
		return;
	}
	while (l->nargs < MAX_ARGS && field(&p, l->args[l->nargs], FIELD_MAX))
		l->nargs++;
	snprintf(l->file, sizeof(l->file), "%s/%s", dir, file);
	l->line = lineno;
	s->n++;
}

/* The lines of file (in dir) of type want (all types: NULL), includes
 * followed. */
static void expand(const char *dir, const char *file, const char *want, int depth, struct stack *s)
{
	char path[PATH_MAX], *line = NULL, *joined = NULL;
	size_t cap = 0, jl = 0, n;
	ssize_t len;
	int lineno = 0, start = 0;
	FILE *f;

	if (depth > MAX_DEPTH || strchr(file, '/'))
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!joined)
			start = lineno;
		n = (size_t)len;
		joined = realloc(joined, jl + n + 2);
		if (!joined)
			break;
		memcpy(joined + jl, line, n + 1);
		jl += n;
		if (jl > 0 && joined[jl - 1] == '\\') { /* continued on the next line */
			joined[jl - 1] = ' ';
			continue;
		}
		take_line(dir, file, start, joined, want, depth, s);
		free(joined);
		joined = NULL;
		jl = 0;
	}
	free(joined);
	free(line);
	fclose(f);
}

static const char *const password_modules[] = {
    "pam_unix.so",    "pam_sss.so",    "pam_ldap.so",	 "pam_krb5.so",
    "pam_winbind.so", "pam_userdb.so", "pam_pwdfile.so", NULL,
};

static bool is_password_module(const char *m)
{
	int i;

	for (i = 0; password_modules[i]; i++)
		if (is_module(m, password_modules[i]))
			return true;
	return false;
}

/* A line that ends the stack on failure: requisite, or die in brackets. */
static bool stops(const char *control)
{
	return strcmp(control, "requisite") == 0 || strstr(control, "default=die") ||
	       strstr(control, "auth_err=die");
}

/* Whether the messages of one physical line were said already. */
static bool said(cJSON *seen, const char *key)
{
	cJSON *v;

	cJSON_ArrayForEach(v, seen)
	{
		if (strcmp(v->valuestring, key) == 0)
			return true;
	}
	cJSON_AddItemToArray(seen, cJSON_CreateString(key));
	return false;
}

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(a, b) == 0)
		return true;
	return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

/* The line itself: arguments, type, where it sits. Once per line. */
static cJSON *judge_line(struct cli *c, const struct pline *l)
{
	const char *argv[MAX_ARGS], *bad, *base = strrchr(l->file, '/') + 1;
	struct tgotp_args a;
	cJSON *j = cJSON_CreateObject(), *args = cJSON_AddArrayToObject(j, "args");
	int i, ok;

	for (i = 0; i < l->nargs; i++) {
		argv[i] = l->args[i];
		cJSON_AddItemToArray(args, cJSON_CreateString(l->args[i]));
	}
	cJSON_AddStringToObject(j, "file", l->file);
	cJSON_AddNumberToObject(j, "line", l->line);
	cJSON_AddStringToObject(j, "type", l->type);
	cJSON_AddStringToObject(j, "control", l->control);
	ok = tgotp_args_parse(l->nargs, argv, &a, &bad) == 0;
	if (!ok)
		cli_say(c, LOG_ERR,
			"%s:%d: " MODULE_SO ": unknown or invalid module argument \"%s\"", l->file,
			l->line, bad);
	else
		cJSON_AddStringToObject(j, "config", a.config);
	if (ok && !same_file(a.config, c->config))
		cli_say(c, LOG_WARNING,
			"%s:%d: " MODULE_SO ": config=%s is not the file checked here (%s): run "
			"tgotp -c %s check",
			l->file, l->line, a.config, c->config, a.config);
	if (strcmp(l->type[0] == '-' ? l->type + 1 : l->type, "auth") != 0)
		cli_say(c, LOG_ERR, "%s:%d: " MODULE_SO " has no %s part: use it as auth only",
			l->file, l->line, l->type);
	if (strcmp(base, "common-auth") == 0 || strcmp(base, "system-auth") == 0 ||
	    strcmp(base, "password-auth") == 0)
		cli_say(
		    c, LOG_WARNING,
		    "%s:%d: " MODULE_SO " in %s: every service that includes it asks for a "
		    "code, screen lockers and cron's su among them; add it to the services' own "
		    "files instead",
		    l->file, l->line, base);
	return j;
}

/* The stack of one service: does a wrong password stop before a code? */
static void judge_stack(struct cli *c, const char *service, const struct stack *s, int at,
			cJSON *seen)
{
	char key[PATH_MAX + FIELD_MAX + 32];
	bool password = false, stopped = false;
	int i;

	for (i = 0; i < at; i++) {
		if (is_password_module(s->l[i].module)) {
			password = true;
			stopped = stops(s->l[i].control);
		} else if (password && stops(s->l[i].control)) {
			stopped = true;
		}
	}
	snprintf(key, sizeof(key), "stack %s %s:%d", service, s->l[at].file, s->l[at].line);
	if (password && !stopped && !said(seen, key))
		cli_say(c, LOG_WARNING,
			"%s:%d: " MODULE_SO " (stack %s): no requisite password module before it: "
			"a wrong password goes on to send a code; make the password module "
			"requisite",
			s->l[at].file, s->l[at].line, service);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool check_sshd(struct cli *c, bool loads, const char *sshd_config, cJSON *out);

void check_pam(struct cli *c, const char *pamdir, const char *sshd_config, cJSON *out)
{
	struct dirent **ents = NULL;
	struct stack s = {calloc(MAX_LINES, sizeof(struct pline)), 0};
	cJSON *lines = cJSON_AddArrayToObject(out, "pam"), *seen = cJSON_CreateArray();
	char self[PATH_MAX], key[PATH_MAX + 16];
	bool sshd = false;
	int n, i, k;

	n = scandir(pamdir, &ents, NULL, by_name);
	if (n < 0)
		cli_say(c, LOG_WARNING, "%s: cannot read: %s: PAM stacks not checked", pamdir,
			strerror(errno));
	for (i = 0; i < n && s.l; i++) {
		if (ents[i]->d_name[0] == '.')
			continue;
		/* the file itself, every type: each line judged once */
		s.n = 0;
		snprintf(self, sizeof(self), "%s/%s", pamdir, ents[i]->d_name);
		expand(pamdir, ents[i]->d_name, NULL, 0, &s);
		for (k = 0; k < s.n; k++) {
			if (!is_module(s.l[k].module, MODULE_SO) || strcmp(s.l[k].file, self) != 0)
				continue;
			snprintf(key, sizeof(key), "%s:%d", s.l[k].file, s.l[k].line);
			if (!said(seen, key))
				cJSON_AddItemToArray(lines, judge_line(c, &s.l[k]));
		}
		/* the service's auth stack */
		s.n = 0;
		expand(pamdir, ents[i]->d_name, "auth", 0, &s);
		for (k = 0; k < s.n; k++) {
			if (!is_module(s.l[k].module, MODULE_SO))
				continue;
			judge_stack(c, ents[i]->d_name, &s, k, seen);
			if (strcmp(ents[i]->d_name, "sshd") == 0)
				sshd = true;
		}
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(s.l);
	cJSON_Delete(seen);
	if (cJSON_GetArraySize(lines) == 0)
		cli_say(c, LOG_INFO, "%s: no stack loads " MODULE_SO, pamdir);
	check_sshd(c, sshd, sshd_config, out);
}

/* ---- sshd -T */

static const char *find_sshd(void)
{
	static const char *const where[] = {"/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd",
					    NULL};
	int i;

	for (i = 0; where[i]; i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

/* Runs sshd -T [-f FILE]; its output (malloc'd) or NULL. */
static char *sshd_t(const char *sshd, const char *config, int *status)
{
	int pfd[2], devnull;
	pid_t pid;
	char *out = NULL, buf[4096];
	size_t len = 0;
	ssize_t r;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		dup2(pfd[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		if (config)
			execl(sshd, sshd, "-T", "-f", config, (char *)NULL);
		else
			execl(sshd, sshd, "-T", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (pid > 0 && (r = read(pfd[0], buf, sizeof(buf))) > 0) {
		char *more = realloc(out, len + (size_t)r + 1);
		if (!more)
			break;
		out = more;
		memcpy(out + len, buf, (size_t)r);
		len += (size_t)r;
		out[len] = '\0';
	}
	close(pfd[0]);
	*status = -1;
	if (pid > 0)
		waitpid(pid, status, 0);
	return out;
}

/* The value of a lower-case keyword in sshd -T's output, into v. */
static const char *sshd_value(const char *out, const char *key, char *v, size_t cap)
{
	const char *p;
	size_t n = strlen(key), m;

	for (p = out; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ') {
			m = strcspn(p + n + 1, "\n");
			m = m < cap ? m : cap - 1;
			memcpy(v, p + n + 1, m);
			v[m] = '\0';
			return v;
		}
	}
	snprintf(v, cap, "-");
	return v;
}

static bool check_sshd(struct cli *c, bool loads, const char *sshd_config, cJSON *out)
{
	const char *sshd = find_sshd();
	char *t, usepam[16], kbd[16], methods[512];
	cJSON *j;
	int status;

	if (!sshd)
		return true;
	j = cJSON_AddObjectToObject(out, "sshd");
	cJSON_AddStringToObject(j, "path", sshd);
	t = sshd_t(sshd, sshd_config, &status);
	if (!t || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_say(c, loads ? LOG_WARNING : LOG_INFO,
			"%s -T failed (exit %d): sshd's settings not checked", sshd,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		cJSON_AddBoolToObject(j, "ok", false);
		free(t);
		return false;
	}
	sshd_value(t, "usepam", usepam, sizeof(usepam));
	sshd_value(t, "kbdinteractiveauthentication", kbd, sizeof(kbd));
	if (strcmp(kbd, "-") == 0)
		sshd_value(t, "challengeresponseauthentication", kbd, sizeof(kbd));
	sshd_value(t, "authenticationmethods", methods, sizeof(methods));
	free(t);
	cJSON_AddStringToObject(j, "usepam", usepam);
	cJSON_AddStringToObject(j, "kbdinteractiveauthentication", kbd);
	cJSON_AddStringToObject(j, "authenticationmethods", methods);
	cJSON_AddBoolToObject(j, "loads_module", loads);
	cli_say(c, LOG_INFO,
		"sshd -T: UsePAM %s, KbdInteractiveAuthentication %s, "
		"AuthenticationMethods %s",
		usepam, kbd, methods);
	if (!loads)
		return true;
	if (strcmp(usepam, "yes") != 0)
		cli_say(c, LOG_ERR,
			"sshd -T: UsePAM %s: sshd never runs its PAM stack, and so "
			"never asks for a code",
			usepam);
	if (strcmp(kbd, "yes") != 0)
		cli_say(c, LOG_ERR,
			"sshd -T: KbdInteractiveAuthentication %s: the code prompt "
			"needs keyboard-interactive",
			kbd);
	if (strcmp(methods, "any") == 0)
		cli_say(c, LOG_WARNING,
			"sshd -T: AuthenticationMethods any: a public key alone "
			"logs in without a code (see conf/sshd_config.d)");
	return true;
}
