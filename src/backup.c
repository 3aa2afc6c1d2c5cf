/* SPDX-License-Identifier: BSD-3-Clause */
/* Backup codes: the file (format in backup.h), made, counted, checked
 * through crypt(3) and used up under the state directory's lock. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "fileio.h"
#include "state_io.h"

#define CODE_LETTERS 10

bool tgotp_backup_normalise(const char *s, tgotp_backup_code out)
{
	size_t n = 0;
	bool dash = false;
	char c;

	for (; *s; s++) {
		c = *s;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '-' && n == CODE_LETTERS / 2 && !dash) {
			dash = true;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c < 'a' || c > 'z' || n == CODE_LETTERS)
			goto no;
		out[n < CODE_LETTERS / 2 ? n : n + 1] = c;
		n++;
	}
	if (n != CODE_LETTERS)
		goto no;
	out[CODE_LETTERS / 2] = '-';
	out[TGOTP_BACKUP_CODE_LEN] = '\0';
	return true;
no:
	explicit_bzero(out, sizeof(tgotp_backup_code));
	return false;
}

/* ---- the file */

struct entry {
	const char *user, *hash;
	size_t ulen, hlen;
};

/* One line (n bytes, no newline): 1 for a code line into *e, 0 for a
 * comment or a blank line, -1 for anything else. */
static int parse_line(const char *p, size_t n, struct entry *e)
{
	const char *sp;
	size_t i;

	if (n == 0 || p[0] == '#')
		return 0;
	for (sp = p + n; sp > p && sp[-1] != ' ';)
		sp--;
	if (sp <= p + 1 || *sp != '$')
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return -1;
	e->user = p;
	e->ulen = (size_t)(sp - 1 - p);
	e->hash = sp;
	e->hlen = (size_t)(p + n - sp);
	for (i = 0; i < e->hlen; i++)
		if (e->hash[i] <= ' ' || (unsigned char)e->hash[i] > '~')
			return -1;
	return 1;
}

static bool is_user(const struct entry *e, const char *user)
{
	return e->ulen == strlen(user) && memcmp(e->user, user, e->ulen) == 0;
}

/* Walks the lines of buf: for each, fn(ctx, line, length with newline, the
 * entry or NULL). -1 (logged with the line) at a line that is no line of
 * the file; else 0, or what fn returned when not 0. */
typedef int line_fn(void *ctx, const char *line, size_t n, const struct entry *e);

static int each_line(const char *buf, size_t len, const char *path, const struct tgotp_log *log,
		     line_fn *fn, void *ctx)
{
	const char *p = buf, *nl, *end = buf + len;
	struct entry e;
	int lineno = 1, r;
	size_t n;

	for (; p < end; p += n, lineno++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		r = parse_line(p, nl ? n - 1 : n, &e);
		if (r < 0 || memchr(p, '\0', n)) {
			tgotp_log(log, LOG_ERR, "%s:%d: not a \"USER HASH\" line: file not used",
				  path, lineno);
			return -1;
		}
		if ((r = fn(ctx, p, n, r ? &e : NULL)) != 0)
			return r;
	}
	return 0;
}

/* The file into *buf (*len bytes): empty when it does not exist. 0 or -1
 * (logged). */
static int load(const char *path, const struct tgotp_log *log, char **buf, size_t *len)
{
	int r = tgotp_read_file(path, TGOTP_FILE_SECRET, TGOTP_BACKUP_FILE_MAX, buf, len, log);

	if (r == -ENOENT) {
		*buf = calloc(1, 1);
		*len = 0;
		return *buf ? 0 : -1;
	}
	return r < 0 ? -1 : 0;
}

static void unload(char *buf, size_t len)
{
	tgotp_freezero(buf, len + 1);
}

struct count_ctx {
	const char *user;
	int n;
};

static int count_line(void *ctx, const char *line, size_t n, const struct entry *e)
{
	struct count_ctx *c = ctx;

	(void)line;
	(void)n;
	if (e && is_user(e, c->user))
		c->n++;
	return 0;
}

/* user's codes in buf, or -1 (logged) */
static int count_in(const char *buf, size_t len, const char *path, const char *user,
		    const struct tgotp_log *log)
{
	struct count_ctx c = {user, 0};

	return each_line(buf, len, path, log, count_line, &c) < 0 ? -1 : c.n;
}

int tgotp_backup_count(const char *path, const char *user, const struct tgotp_log *log)
{
	char *buf = NULL;
	size_t len = 0;
	int n;

	if (!path || !*path)
		return 0;
	if (load(path, log, &buf, &len) < 0)
		return -1;
	n = count_in(buf, len, path, user, log);
	unload(buf, len);
	return n;
}

/* Replaces path with the n bytes of text: a temporary file beside it with
 * the old file's group and mode (root, 0600 for a new one), fsync, rename,
 * fsync of the directory. 0 or -1 (logged). */
static int replace_file(const char *path, const char *text, size_t n, const struct tgotp_log *log)
{
	char tmp[4096], dir[4096];
	struct stat old;
	mode_t mode = 0600;
	gid_t gid = 0;
	int fd = -1, dfd = -1, r = -1;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if (lstat(path, &old) == 0) {
		if (tgotp_file_unsafe(&old, TGOTP_FILE_SECRET)) {
			tgotp_log(log, LOG_ERR, "%s: refusing to replace it: %s", path,
				  tgotp_file_unsafe(&old, TGOTP_FILE_SECRET));
			return -1;
		}
		mode = old.st_mode & 0600;
		gid = old.st_gid;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		goto fail;
	ok = fchown(fd, 0, gid) == 0 && fchmod(fd, mode) == 0;
	ok = ok && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	fd = -1;
	if (!ok || rename(tmp, path) < 0)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot sync its directory: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
	goto out;
fail:
	tgotp_log(log, LOG_ERR, "%s: cannot write: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* ---- hashing and checking */

static bool equal_ct(const char *a, const char *b, size_t n)
{
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Whether crypt(code, hash) gives hash back, in time that does not depend
 * on where they differ. */
static bool hash_matches(const char *code, const char *hash, size_t hlen, struct crypt_data *cd)
{
	char setting[CRYPT_OUTPUT_SIZE];
	const char *out;
	bool ok;

	if (hlen >= sizeof(setting))
		return false;
	memcpy(setting, hash, hlen);
	setting[hlen] = '\0';
	out = crypt_rn(code, setting, cd, (int)sizeof(*cd));
	/* a failed crypt_rn returns NULL, or a string starting with '*' */
	ok = out && out[0] != '*' && strlen(out) == hlen && equal_ct(out, setting, hlen);
	explicit_bzero(cd, sizeof(*cd));
	return ok;
}

int tgotp_backup_hash(const char *code, char *out, size_t cap, const struct tgotp_log *log)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h = NULL;
	int r = -1;

	if (!cd)
		return -1;
	/* yescrypt where libcrypt has it: NULL entropy asks libcrypt for
	 * its own from the kernel */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) ||
	    crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)))
		h = crypt_rn(code, salt, cd, (int)sizeof(*cd));
	if (!h || h[0] == '*' || strlen(h) >= cap)
		tgotp_log(log, LOG_ERR, "crypt(3) could not hash a backup code: %s",
			  strerror(errno));
	else {
		memcpy(out, h, strlen(h) + 1);
		r = 0;
	}
	tgotp_freezero(cd, sizeof(*cd));
	return r;
}

struct match_ctx {
	const char *user, *code;
	struct crypt_data *cd;
	int n;	     /* user's codes */
	char *found; /* the hash that matched */
};

static int match_line(void *ctx, const char *line, size_t n, const struct entry *e)
{
	struct match_ctx *m = ctx;

	(void)line;
	(void)n;
	if (!e || !is_user(e, m->user))
		return 0;
	m->n++;
	if (!m->found && hash_matches(m->code, e->hash, e->hlen, m->cd) &&
	    !(m->found = strndup(e->hash, e->hlen)))
		return -1;
	return 0;
}

/* Copies the lines of the file to out but user's that hold hash (every
 * line of user's when hash is NULL). */
struct rewrite_ctx {
	const char *user, *hash;
	char *out;
	size_t len;
	int removed, kept; /* user's lines */
};

static int rewrite_line(void *ctx, const char *line, size_t n, const struct entry *e)
{
	struct rewrite_ctx *w = ctx;

	if (e && is_user(e, w->user) &&
	    (!w->hash || (e->hlen == strlen(w->hash) && memcmp(e->hash, w->hash, e->hlen) == 0))) {
		w->removed++;
		return 0;
	}
	if (e && is_user(e, w->user))
		w->kept++;
	memcpy(w->out + w->len, line, n);
	w->len += n;
	if (line[n - 1] != '\n')
		w->out[w->len++] = '\n';
	return 0;
}

/* The file at path rewritten, under the host lock: user's lines holding
 * hash gone (every line of user's for NULL), add appended. *removed and
 * *kept count user's lines. OK, BUSY or ERROR (logged). */
static enum tgotp_verdict rewrite(struct tgotp_state *st, const char *path, const char *user,
				  const char *hash, const char *add, int *removed, int *kept)
{
	struct rewrite_ctx w = {user, hash, NULL, 0, 0, 0};
	enum tgotp_verdict v;
	char *buf = NULL;
	size_t len = 0, alen = add ? strlen(add) : 0;
	int lock;

	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	v = TGOTP_STATE_ERROR;
	/* SECURITY: read again under the lock: what was read before may
	 * have been used up by a login racing with this one. */
	if (load(path, st->log, &buf, &len) < 0 || !(w.out = malloc(len + alen + 2)) ||
	    each_line(buf, len, path, st->log, rewrite_line, &w) < 0)
		goto out;
	memcpy(w.out + w.len, add ? add : "", alen);
	w.len += alen;
	if (w.len + 1 > TGOTP_BACKUP_FILE_MAX) {
		tgotp_log(st->log, LOG_ERR, "%s: would grow past %d bytes: not written", path,
			  TGOTP_BACKUP_FILE_MAX);
		goto out;
	}
	if ((w.removed == 0 && !add) || replace_file(path, w.out, w.len, st->log) == 0)
		v = TGOTP_STATE_OK;
out:
	tgotp_state_unlock(lock);
	*removed = w.removed;
	*kept = w.kept;
	unload(buf, len);
	tgotp_freezero(w.out, w.out ? len + alen + 2 : 0);
	return v;
}

enum tgotp_backup_result tgotp_backup_use(struct tgotp_state *st, const char *path,
					  const char *user, const char *code, int *left)
{
	struct match_ctx m = {user, code, NULL, 0, NULL};
	enum tgotp_backup_result res = TGOTP_BACKUP_ERROR;
	enum tgotp_verdict v;
	char *buf = NULL;
	size_t len = 0;
	int removed = 0, kept = 0;

	*left = -1;
	if (!path || !*path)
		return TGOTP_BACKUP_NONE;
	if (load(path, st->log, &buf, &len) < 0 || !(m.cd = calloc(1, sizeof(*m.cd))))
		goto out;
	/* crypt(3) is slow on purpose: checked before the lock is taken, so
	 * that other logins do not wait for it */
	if (each_line(buf, len, path, st->log, match_line, &m) < 0)
		goto out;
	*left = m.n;
	if (m.n == 0) {
		res = TGOTP_BACKUP_NONE;
		goto out;
	}
	res = TGOTP_BACKUP_WRONG;
	if (!m.found)
		goto out;
	v = rewrite(st, path, user, m.found, NULL, &removed, &kept);
	if (v != TGOTP_STATE_OK) {
		res = v == TGOTP_STATE_BUSY ? TGOTP_BACKUP_BUSY : TGOTP_BACKUP_ERROR;
		*left = -1;
		goto out;
	}
	*left = kept;
	if (removed > 0)
		res = TGOTP_BACKUP_USED;
out:
	unload(buf, len);
	tgotp_freezero(m.cd, sizeof(*m.cd));
	tgotp_strfreezero(m.found);
	return res;
}

/* ---- new codes */

static int random_code(tgotp_backup_code out)
{
	static const char alphabet[] = TGOTP_BACKUP_ALPHABET;
	const unsigned limit = 256 - 256 % (sizeof(alphabet) - 1); /* no modulo bias */
	unsigned char r[64];
	size_t n = 0, i = sizeof(r);
	ssize_t got;

	while (n < CODE_LETTERS) {
		if (i == sizeof(r)) {
			got = getrandom(r, sizeof(r), 0);
			if (got < 0 && errno == EINTR)
				continue;
			if (got != (ssize_t)sizeof(r))
				return -1;
			i = 0;
		}
		if (r[i] < limit) {
			out[n < CODE_LETTERS / 2 ? n : n + 1] =
			    alphabet[r[i] % (sizeof(alphabet) - 1)];
			n++;
		}
		i++;
	}
	out[CODE_LETTERS / 2] = '-';
	out[TGOTP_BACKUP_CODE_LEN] = '\0';
	explicit_bzero(r, sizeof(r));
	return 0;
}

enum tgotp_verdict tgotp_backup_replace(struct tgotp_state *st, const char *path, const char *user,
					int n, tgotp_backup_code *codes)
{
	enum tgotp_verdict v = TGOTP_STATE_ERROR;
	size_t line_max = strlen(user) + CRYPT_OUTPUT_SIZE + 2, o = 0;
	char *text = NULL, hash[CRYPT_OUTPUT_SIZE];
	int i, removed, kept;

	if (n < 1 || n > TGOTP_BACKUP_COUNT_MAX || strchr(user, '\n') || !*user || !path || !*path)
		return TGOTP_STATE_ERROR;
	if (!(text = malloc((size_t)n * line_max + 1)))
		return TGOTP_STATE_ERROR;
	/* hashed before the lock is taken: crypt(3) is slow on purpose */
	for (i = 0; i < n; i++) {
		if (random_code(codes[i]) < 0) {
			tgotp_log(st->log, LOG_ERR, "getrandom: %s", strerror(errno));
			goto out;
		}
		if (tgotp_backup_hash(codes[i], hash, sizeof(hash), st->log) < 0)
			goto out;
		o += (size_t)snprintf(text + o, line_max + 1, "%s %s\n", user, hash);
	}
	v = rewrite(st, path, user, NULL, text, &removed, &kept);
out:
	tgotp_freezero(text, (size_t)n * line_max + 1);
	if (v != TGOTP_STATE_OK)
		explicit_bzero(codes, (size_t)n * sizeof(*codes));
	return v;
}
