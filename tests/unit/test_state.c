/* State file names, limits, grace records and locks, and what tgotp state
 * and tgotp reset read and clear, on a private directory (root only: the
 * state must be root-owned). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lock_holder.h"
#include "state.h"
#include "state_grace.h"
#include "state_io.h"
#include "state_limits.h"

static char dir[64];

static void no_log(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	(void)msg;
}

static const struct tgotp_log log_ = {no_log, NULL, false};

/* fsync and renameat of this program stand in for libc's in the static
 * library under test: they note what happened, in order, then do it. */
static char events[64][12];
static int nevents;

static void note(const char *what)
{
	if (nevents < 64)
		snprintf(events[nevents++], sizeof(events[0]), "%s", what);
}

int fsync(int fd)
{
	struct stat s;

	note(fstat(fd, &s) == 0 && S_ISDIR(s.st_mode) ? "fsync-dir" : "fsync-file");
	return (int)syscall(SYS_fsync, fd);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	note("rename");
#ifdef SYS_renameat
	return (int)syscall(SYS_renameat, olddirfd, oldpath, newdirfd, newpath);
#else
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, 0);
#endif
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static struct tgotp_state *open_fresh(void)
{
	remove_dir();
	return tgotp_state_open(dir, &log_);
}

/* The grace verdict, which must be OK here. */
static bool grace(struct tgotp_state *st, const char *user, const char *service, const char *rhost,
		  time_t now, long period)
{
	bool granted = true;

	assert_int_equal(tgotp_state_grace_check(st, user, service, rhost, now, period, &granted),
			 TGOTP_STATE_OK);
	return granted;
}

static void encode_keeps_safe_names(void **state)
{
	char out[TGOTP_STATE_NAME_MAX + 1];

	(void)state;
	tgotp_state_encode("alice_01-x", out);
	assert_string_equal(out, "alice_01-x");
	tgotp_state_encode("../etc/passwd", out);
	assert_string_equal(out, "%2e%2e%2fetc%2fpasswd");
	tgotp_state_encode("a%b", out);
	assert_string_equal(out, "a%25b");
	tgotp_state_encode("", out);
	assert_string_equal(out, "");
}

static void encode_hashes_long_names(void **state)
{
	char a[300], b[300], ea[TGOTP_STATE_NAME_MAX + 1], eb[TGOTP_STATE_NAME_MAX + 1];

	(void)state;
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(a));
	b[10] = 'y';
	tgotp_state_encode(a, ea);
	tgotp_state_encode(b, eb);
	assert_int_equal(strlen(ea), 18);
	assert_true(strncmp(ea, "%%", 2) == 0);
	assert_string_not_equal(ea, eb);
	assert_null(strchr(ea, '/'));
	assert_null(strchr(ea, '.'));
}

static void rate_window_slides(void **state)
{
	struct tgotp_state *st = open_fresh();
	long retry;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1010, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1020, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(retry, 80);
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1100, &retry), TGOTP_STATE_OK);
	tgotp_state_rate_give_back(st, "u", 1100);
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1101, &retry), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

/* A renamed state file survives a crash only once its directory is synced
 * too: every rename is followed by an fsync of the directory. */
static void directory_synced_after_rename(void **state)
{
	struct tgotp_state *st = open_fresh();
	int i, renames = 0, synced = 0;
	long retry;

	(void)state;
	assert_non_null(st);
	nevents = 0;
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 5, 1000), TGOTP_STATE_OK);
	tgotp_state_close(st);
	for (i = 0; i < nevents; i++) {
		if (strcmp(events[i], "rename") == 0) {
			renames++;
			/* the file itself was synced before its rename */
			assert_true(i > 0 && strcmp(events[i - 1], "fsync-file") == 0);
			synced += i + 1 < nevents && strcmp(events[i + 1], "fsync-dir") == 0;
		}
	}
	assert_int_equal(renames, 2);
	assert_int_equal(synced, 2);
}

static void budget_counts_per_utc_day(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t day1 = 86400 * 20000 + 100, day2 = day1 + 86400;

	(void)state;
	assert_int_equal(tgotp_state_budget_take(st, 0, day1), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 2, day1), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 2, day1), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 2, day1), TGOTP_STATE_LIMITED);
	tgotp_state_budget_give_back(st, day1);
	assert_int_equal(tgotp_state_budget_take(st, 2, day1), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 2, day2), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

static void flood_pause(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t until;

	(void)state;
	assert_int_equal(tgotp_state_flood_check(st, 1000, &until), TGOTP_STATE_OK);
	tgotp_state_flood_set(st, 1030);
	tgotp_state_flood_set(st, 1010); /* an earlier end never shortens it */
	assert_int_equal(tgotp_state_flood_check(st, 1029, &until), TGOTP_STATE_LIMITED);
	assert_int_equal(until, 1030);
	assert_int_equal(tgotp_state_flood_check(st, 1030, &until), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

static void grace_is_exact(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t now = time(NULL);

	(void)state;
	tgotp_state_grace_record(st, "u", "sshd", "10.0.0.1", now);
	assert_true(grace(st, "u", "sshd", "10.0.0.1", now + 59, 60));
	assert_false(grace(st, "u", "sshd", "10.0.0.1", now + 60, 60));
	assert_false(grace(st, "u", "sshd", "10.0.0.1", now + 30, 30));
	assert_false(grace(st, "u", "sshd", "10.0.0.1", now - 10, 60));
	assert_false(grace(st, "u", "sudo", "10.0.0.1", now, 60));
	assert_false(grace(st, "u", "sshd", "10.0.0.10", now, 60));
	assert_false(grace(st, "u", "sshd", "10.0.0.", now, 60));
	assert_false(grace(st, "v", "sshd", "10.0.0.1", now, 60));
	tgotp_state_grace_record(st, "u", "sshd", "", now);
	assert_false(grace(st, "u", "sshd", "", now, 60));
	/* fields cannot run into each other */
	tgotp_state_grace_record(st, "u", "ab", "c", now);
	assert_false(grace(st, "u", "a", "bc", now, 60));
	tgotp_state_close(st);
}

/* The file keeps the newest entries of a user. */
static void grace_keeps_the_newest(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t now = time(NULL);
	char host[32];
	int i;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(host, sizeof(host), "10.0.0.%d", i);
		tgotp_state_grace_record(st, "u", "sshd", host, now);
	}
	assert_false(grace(st, "u", "sshd", "10.0.0.0", now, 60));
	assert_false(grace(st, "u", "sshd", "10.0.0.7", now, 60));
	assert_true(grace(st, "u", "sshd", "10.0.0.8", now, 60));
	assert_true(grace(st, "u", "sshd", "10.0.0.39", now, 60));
	tgotp_state_close(st);
}

/* Every name the module accepts (TGOTP_USER_NAME_MAX bytes, each one
 * escaped in the file) gets its grace, with the longest service and rhost;
 * one byte more is an error, never a silent "no grace". */
static void longest_name_gets_its_grace(void **state)
{
	struct tgotp_state *st = open_fresh();
	char user[TGOTP_USER_NAME_MAX + 2], field[256];
	time_t now = time(NULL);
	bool granted = true;

	(void)state;
	memset(user, '.', TGOTP_USER_NAME_MAX);
	user[TGOTP_USER_NAME_MAX] = '\0';
	memset(field, 'h', sizeof(field) - 1);
	field[sizeof(field) - 1] = '\0';
	assert_int_equal(tgotp_state_grace_record(st, user, field, field, now), TGOTP_STATE_OK);
	assert_true(grace(st, user, field, field, now, 60));
	assert_int_equal(tgotp_state_grace_record(st, user, "sshd", "10.0.0.1", now),
			 TGOTP_STATE_OK);
	assert_true(grace(st, user, "sshd", "10.0.0.1", now, 60));

	strcat(user, ".");
	assert_int_equal(tgotp_state_grace_record(st, user, "sshd", "10.0.0.1", now),
			 TGOTP_STATE_ERROR);
	assert_int_equal(tgotp_state_grace_check(st, user, "sshd", "10.0.0.1", now, 60, &granted),
			 TGOTP_STATE_ERROR);
	assert_false(granted);
	tgotp_state_close(st);
}

static void flood_far_ahead_is_capped(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t until;

	(void)state;
	tgotp_state_flood_set(st, 1000 + 10 * 86400);
	assert_int_equal(tgotp_state_flood_check(st, 1000, &until), TGOTP_STATE_LIMITED);
	assert_int_equal(until, 1000 + 86400);
	tgotp_state_close(st);
}

/* ---- users' sections */

static void read_state_file(const char *name, char *out, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void write_state_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
}

static int count_files(const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* The file names the full user name, escaped so that it cannot break the
 * format. */
static void files_name_their_user(void **state)
{
	struct tgotp_state *st = open_fresh();
	char text[256];
	long retry;

	(void)state;
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, 1000, &retry), TGOTP_STATE_OK);
	read_state_file("rate.u", text, sizeof(text));
	assert_string_equal(text, "user u\n1000\n");
	assert_int_equal(tgotp_state_rate_take(st, "a b\nuser c", 5, 100, 1000, &retry),
			 TGOTP_STATE_OK);
	read_state_file("rate.a%20b%0auser%20c", text, sizeof(text));
	assert_string_equal(text, "user a%20b%0auser%20c\n1000\n");
	tgotp_state_close(st);
}

/* Two names in one hash bucket share a file, never a count. */
static void bucket_keeps_users_apart(void **state)
{
	struct tgotp_state *st = open_fresh();
	char a[251], b[251], na[TGOTP_STATE_NAME_MAX + 8], nb[TGOTP_STATE_NAME_MAX + 8];
	char host[32];
	time_t now = time(NULL);
	long retry;
	int i;

	(void)state;
	assert_non_null(st);
	st->hash_mask = 0; /* every long name in one bucket */
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(a));
	b[10] = 'y';
	tgotp_state_name(st, "rate.", a, na);
	tgotp_state_name(st, "rate.", b, nb);
	assert_string_equal(na, nb);
	assert_string_equal(na, "rate.%%0000000000000000");

	assert_int_equal(tgotp_state_rate_take(st, a, 2, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, a, 2, 100, 1001, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, a, 2, 100, 1002, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(tgotp_state_rate_take(st, b, 2, 100, 1003, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, b, 2, 100, 1004, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, b, 2, 100, 1005, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(count_files("rate."), 1);
	/* a slot given back returns to its own user only */
	assert_int_equal(tgotp_state_rate_give_back(st, b, 1004), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, a, 2, 100, 1006, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(retry, 94);
	assert_int_equal(tgotp_state_rate_take(st, b, 2, 100, 1006, &retry), TGOTP_STATE_OK);

	tgotp_state_grace_record(st, a, "sshd", "10.0.0.1", now);
	assert_true(grace(st, a, "sshd", "10.0.0.1", now, 60));
	assert_false(grace(st, b, "sshd", "10.0.0.1", now, 60));
	/* b's logins never push a's out of the file */
	for (i = 0; i < 40; i++) {
		snprintf(host, sizeof(host), "10.0.1.%d", i);
		assert_int_equal(tgotp_state_grace_record(st, b, "sshd", host, now),
				 TGOTP_STATE_OK);
	}
	assert_true(grace(st, a, "sshd", "10.0.0.1", now, 60));
	assert_true(grace(st, b, "sshd", "10.0.1.39", now, 60));
	assert_int_equal(count_files("grace."), 1);
	tgotp_state_close(st);
}

/* A file written before users had sections is the reader's own: its
 * count is kept, and rewritten with a section. */
static void file_without_sections_is_the_readers(void **state)
{
	struct tgotp_state *st = open_fresh();
	char text[256];
	long retry;

	(void)state;
	write_state_file("rate.u", "1000\n1010\n");
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1020, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(tgotp_state_rate_take(st, "u", 3, 100, 1020, &retry), TGOTP_STATE_OK);
	read_state_file("rate.u", text, sizeof(text));
	assert_string_equal(text, "user u\n1000\n1010\n1020\n");
	tgotp_state_close(st);
}

/* Corrupt lines of one user cost that user, not the others of the file. */
static void corrupt_section_stays_with_its_user(void **state)
{
	struct tgotp_state *st = open_fresh();
	char text[256];
	time_t now = time(NULL);
	long retry;

	(void)state;
	snprintf(text, sizeof(text), "user v\n%lld 00\nuser u\nxyz\n", (long long)now);
	write_state_file("grace.u", text);
	assert_false(grace(st, "u", "sshd", "10.0.0.1", now, 60));
	read_state_file("grace.u", text, sizeof(text));
	assert_int_equal(strncmp(text, "user v\n", 7), 0);
	assert_null(strstr(text, "xyz"));
	write_state_file("rate.u", "user v\n1000\nuser u\n12x\n");
	assert_int_equal(tgotp_state_rate_take(st, "u", 2, 100, 1020, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(tgotp_state_rate_take(st, "v", 2, 100, 1020, &retry), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

/* ---- locks */

static pid_t holder = -1;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Starts a process that holds the lock file name of the state directory
 * until release_lock kills it. */
static void hold_lock(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	holder = lock_holder_start(path);
	assert_true(holder > 0);
}

static int release_lock(void **state)
{
	(void)state;
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}
	holder = -1;
	return 0;
}

/* A held lock of one user ends that user's operations BUSY after the
 * deadline, and nobody else's. */
static void user_lock_has_a_deadline(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t now = time(NULL), until;
	bool granted = true;
	double t0, busy, other;
	long retry;

	(void)state;
	assert_non_null(st);
	tgotp_state_grace_record(st, "u", "sshd", "10.0.0.1", now);
	hold_lock("lock.u");
	t0 = now_s();
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, now, &retry), TGOTP_STATE_BUSY);
	busy = now_s() - t0;
	t0 = now_s();
	assert_int_equal(tgotp_state_rate_take(st, "v", 5, 100, now, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 5, now), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_flood_check(st, now, &until), TGOTP_STATE_OK);
	other = now_s() - t0;
	printf("user lock held: BUSY after %.3f s; another user's operations took %.3f s\n", busy,
	       other);
	assert_true(busy > TGOTP_STATE_LOCK_MS / 1000.0 - 0.01 && busy < 3.0);
	assert_true(other < 0.5);
	st->lock_ms = 50; /* the other entry points: a short wait will do */
	assert_int_equal(tgotp_state_grace_check(st, "u", "sshd", "10.0.0.1", now, 60, &granted),
			 TGOTP_STATE_BUSY);
	assert_false(granted); /* SECURITY: busy is never a grace */
	assert_int_equal(tgotp_state_grace_record(st, "u", "sshd", "10.0.0.2", now),
			 TGOTP_STATE_BUSY);
	assert_int_equal(tgotp_state_rate_give_back(st, "u", now), TGOTP_STATE_BUSY);
	release_lock(NULL);
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, now, &retry), TGOTP_STATE_OK);
	assert_true(grace(st, "u", "sshd", "10.0.0.1", now, 60));
	tgotp_state_close(st);
}

/* A held host-wide lock ends the host-wide operations BUSY after the
 * deadline; the users' own files stay usable. */
static void host_lock_has_a_deadline(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t now = time(NULL), until;
	double t0, busy;
	long retry;

	(void)state;
	assert_non_null(st);
	hold_lock(".lock");
	t0 = now_s();
	assert_int_equal(tgotp_state_budget_take(st, 5, now), TGOTP_STATE_BUSY);
	busy = now_s() - t0;
	printf("host lock held: BUSY after %.3f s\n", busy);
	assert_true(busy > TGOTP_STATE_LOCK_MS / 1000.0 - 0.01 && busy < 3.0);
	st->lock_ms = 50;
	assert_int_equal(tgotp_state_flood_check(st, now, &until), TGOTP_STATE_BUSY);
	assert_int_equal(tgotp_state_flood_set(st, now + 10), TGOTP_STATE_BUSY);
	assert_int_equal(tgotp_state_budget_give_back(st, now), TGOTP_STATE_BUSY);
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, now, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_record(st, "u", "sshd", "10.0.0.1", now),
			 TGOTP_STATE_OK);
	release_lock(NULL);
	assert_int_equal(tgotp_state_budget_take(st, 5, now), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

/* Lock files are opened like the state files: root's, no symlinks. */
static void foreign_lock_file_is_refused(void **state)
{
	struct tgotp_state *st = open_fresh();
	char path[256];
	long retry;

	(void)state;
	assert_non_null(st);
	snprintf(path, sizeof(path), "%s/lock.u", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, 1000, &retry), TGOTP_STATE_ERROR);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(tgotp_state_rate_take(st, "u", 5, 100, 1000, &retry), TGOTP_STATE_ERROR);
	tgotp_state_close(st);
}

/* What tgotp state and tgotp reset read and clear. */

static void rate_listed_and_cleared(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t t[8];
	long retry;
	int n;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_rate_take(st, "u", 3, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 3, 100, 1010, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "v", 3, 100, 1005, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_list(st, "u", 100, 1050, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(t[0], 1000); /* oldest first */
	assert_int_equal(t[1], 1010);
	/* outside the window: not counted */
	assert_int_equal(tgotp_state_rate_list(st, "u", 100, 1105, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tgotp_state_rate_clear(st, "u"), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_list(st, "u", 100, 1050, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 0);
	/* another user's slots stay */
	assert_int_equal(tgotp_state_rate_list(st, "v", 100, 1050, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 1);
	/* a cleared user gets codes again */
	assert_int_equal(tgotp_state_rate_take(st, "u", 1, 100, 1060, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 1, 100, 1061, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(tgotp_state_rate_clear(st, "u"), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 1, 100, 1062, &retry), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

static void grace_listed_and_cleared(void **state)
{
	struct tgotp_state *st = open_fresh();
	struct tgotp_grace_entry e[4];
	bool granted;
	int n;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_grace_record(st, "u", "sshd", "10.0.0.1", 1000),
			 TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_record(st, "u", "sudo", "bad\x1bhost", 1001),
			 TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_list(st, "u", e, 4, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].service, "sshd");
	assert_string_equal(e[0].rhost, "10.0.0.1");
	assert_int_equal(e[0].at, 1000);
	assert_string_equal(e[1].rhost, "bad?host"); /* control bytes never shown */
	assert_int_equal(tgotp_state_grace_clear(st, "u"), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_list(st, "u", e, 4, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(tgotp_state_grace_check(st, "u", "sshd", "10.0.0.1", 1002, 600, &granted),
			 TGOTP_STATE_OK);
	assert_false(granted);
	tgotp_state_close(st);
}

static void users_with_state(void **state)
{
	struct tgotp_state *st = open_fresh();
	char long_name[300], **users;
	long retry;

	(void)state;
	assert_non_null(st);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(tgotp_state_rate_take(st, "zed", 3, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "a b", 3, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, long_name, 3, 100, 1000, &retry),
			 TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_record(st, "zed", "sshd", "h", 1000), TGOTP_STATE_OK);
	users = tgotp_state_users(st);
	assert_non_null(users);
	assert_string_equal(users[0], "a b");
	assert_string_equal(users[1], long_name); /* from its section, not the hashed name */
	assert_string_equal(users[2], "zed");
	assert_null(users[3]);
	tgotp_state_users_free(users);
	tgotp_state_close(st);
}

static void budget_used(void **state)
{
	struct tgotp_state *st = open_fresh();
	long used = -1;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_budget_used(st, 86400 * 100, &used), TGOTP_STATE_OK);
	assert_int_equal(used, 0);
	assert_int_equal(tgotp_state_budget_take(st, 5, 86400 * 100), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 5, 86400 * 100 + 1), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_used(st, 86400 * 100 + 2, &used), TGOTP_STATE_OK);
	assert_int_equal(used, 2);
	assert_int_equal(tgotp_state_budget_used(st, 86400 * 101, &used), TGOTP_STATE_OK);
	assert_int_equal(used, 0);
	tgotp_state_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encode_keeps_safe_names),
	    cmocka_unit_test(encode_hashes_long_names),
	    cmocka_unit_test(rate_window_slides),
	    cmocka_unit_test(directory_synced_after_rename),
	    cmocka_unit_test(budget_counts_per_utc_day),
	    cmocka_unit_test(flood_pause),
	    cmocka_unit_test(grace_is_exact),
	    cmocka_unit_test(grace_keeps_the_newest),
	    cmocka_unit_test(longest_name_gets_its_grace),
	    cmocka_unit_test(flood_far_ahead_is_capped),
	    cmocka_unit_test(files_name_their_user),
	    cmocka_unit_test(bucket_keeps_users_apart),
	    cmocka_unit_test(file_without_sections_is_the_readers),
	    cmocka_unit_test(corrupt_section_stays_with_its_user),
	    cmocka_unit_test_teardown(user_lock_has_a_deadline, release_lock),
	    cmocka_unit_test_teardown(host_lock_has_a_deadline, release_lock),
	    cmocka_unit_test(foreign_lock_file_is_refused),
	    cmocka_unit_test(rate_listed_and_cleared),
	    cmocka_unit_test(grace_listed_and_cleared),
	    cmocka_unit_test(users_with_state),
	    cmocka_unit_test(budget_used),
	};
	int rc;

	if (geteuid() != 0) {
		printf("SKIP: state tests need root (the state must be root-owned)\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/tgotp-state-test.%d", (int)getpid());
	rc = cmocka_run_group_tests_name("state", tests, NULL, NULL);
	remove_dir();
	return rc;
}
