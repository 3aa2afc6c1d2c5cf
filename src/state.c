/* The state directory: opened safely, one lock, files replaced atomically,
 * user names encoded into file names. The limits are in limits.c, grace
 * periods in grace.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "state.h"
#include "state_io.h"

static bool owner_ok(const struct stat *s)
{
	return s->st_uid == 0 && (s->st_mode & (S_IRWXG | S_IRWXO)) == 0;
}

struct tgotp_state *tgotp_state_open(const char *dir, const struct tgotp_log *log)
{
	struct tgotp_state *st = calloc(1, sizeof(*st));
	struct stat s;

	if (!st)
		return NULL;
	st->log = log;
	st->dirfd = st->lockfd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		tgotp_log(log, LOG_ERR, "%s: cannot create: %s", dir, strerror(errno));
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dirfd < 0 || fstat(st->dirfd, &s) < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot open state directory: %s", dir,
			  strerror(errno));
		goto fail;
	}
	if (!owner_ok(&s)) {
		tgotp_log(log, LOG_ERR, "%s: refusing to use it: must be owned by root, mode 0700",
			  dir);
		goto fail;
	}
	st->lockfd = openat(st->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->lockfd < 0 || fstat(st->lockfd, &s) < 0 ||
	    tgotp_file_unsafe(&s, TGOTP_FILE_SECRET)) {
		tgotp_log(log, LOG_ERR, "%s/.lock: unusable lock file", dir);
		goto fail;
	}
	return st;
fail:
	tgotp_state_close(st);
	return NULL;
}

void tgotp_state_close(struct tgotp_state *st)
{
	if (!st)
		return;
	if (st->lockfd >= 0)
		close(st->lockfd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st);
}

int tgotp_state_lock(struct tgotp_state *st)
{
	int r;

	while ((r = flock(st->lockfd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0)
		tgotp_log(st->log, LOG_ERR, "state: cannot lock: %s", strerror(errno));
	return r;
}

void tgotp_state_unlock(struct tgotp_state *st)
{
	flock(st->lockfd, LOCK_UN);
}

void tgotp_state_encode(const char *key, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	const unsigned char *p;
	size_t o = 0;

	for (p = (const unsigned char *)key; *p; p++) {
		h = (h ^ *p) * 0x100000001b3ULL;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-') {
			if (o < TGOTP_STATE_NAME_MAX)
				out[o] = (char)*p;
			o++;
		} else {
			if (o + 2 < TGOTP_STATE_NAME_MAX) {
				out[o] = '%';
				out[o + 1] = hex[*p >> 4];
				out[o + 2] = hex[*p & 15];
			}
			o += 3;
		}
	}
	if (o <= TGOTP_STATE_NAME_MAX)
		out[o] = '\0';
	else /* a bucket: the files keep the full key inside */
		snprintf(out, TGOTP_STATE_NAME_MAX + 1, "%%%%%016llx", (unsigned long long)h);
}

int tgotp_state_read(struct tgotp_state *st, const char *name, char *buf, size_t cap)
{
	struct stat s;
	ssize_t n;
	int fd, ret;

	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &s) < 0 || tgotp_file_unsafe(&s, TGOTP_FILE_SECRET) ||
	    (size_t)s.st_size >= cap) {
		tgotp_log(st->log, LOG_ERR,
			  "state file %s: not a root-only regular file of sane size", name);
		ret = -EPERM;
		goto out;
	}
	n = read(fd, buf, cap - 1);
	ret = n < 0 ? -errno : (int)n;
	buf[n < 0 ? 0 : n] = '\0';
out:
	close(fd);
	return ret;
}

int tgotp_state_write(struct tgotp_state *st, const char *name, const char *text)
{
	char tmp[TGOTP_STATE_NAME_MAX + 16];
	size_t len = strlen(text);
	int fd, ok;

	snprintf(tmp, sizeof(tmp), ".tmp.%s", name);
	unlinkat(st->dirfd, tmp, 0);
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		tgotp_log(st->log, LOG_ERR, "state file %s: cannot write: %s", name,
			  strerror(errno));
		return -1;
	}
	ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && renameat(st->dirfd, tmp, st->dirfd, name) == 0)
		return 0;
	tgotp_log(st->log, LOG_ERR, "state file %s: cannot write: %s", name, strerror(errno));
	unlinkat(st->dirfd, tmp, 0);
	return -1;
}

int tgotp_state_parse_time(const char *s, const char *end, time_t *out)
{
	long long v = 0;

	if (s == end || end - s > 18)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = (time_t)v;
	return 0;
}
