/* Backup codes: their shape, the file, made, counted, used once (root
 * only: the file and the state must be root's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "state.h"
#include "unit.h"

static char dir[64], path[128];
static struct tgotp_state *st;

static int setup(void **state)
{
	char sdir[96];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tgotp-backup.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/backup", dir);
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	st = tgotp_state_open(sdir, &test_log);
	assert_non_null(st);
	nlines = nerr = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	tgotp_state_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *text, unsigned mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_normalise(void **state)
{
	tgotp_backup_code c;

	(void)state;
	assert_true(tgotp_backup_normalise("abcde-fghjk", c));
	assert_string_equal(c, "abcde-fghjk");
	assert_true(tgotp_backup_normalise(" ABCDE fghJK\n", c));
	assert_string_equal(c, "abcde-fghjk");
	assert_true(tgotp_backup_normalise("abcdefghjk", c));
	assert_string_equal(c, "abcde-fghjk");
	assert_false(tgotp_backup_normalise("abcd-efghjk", c));
	assert_false(tgotp_backup_normalise("abcde--fghjk", c));
	assert_false(tgotp_backup_normalise("abcde-fghjkm", c));
	assert_false(tgotp_backup_normalise("abcde-fghj", c));
	assert_false(tgotp_backup_normalise("123456", c));
	assert_false(tgotp_backup_normalise("abcde-fgh1k", c));
	assert_false(tgotp_backup_normalise("", c));
}

static void test_made_used_once(void **state)
{
	tgotp_backup_code codes[5];
	struct stat s;
	int i, left;
	const char *p;

	(void)state;
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), 0); /* no file */
	assert_int_equal(tgotp_backup_replace(st, path, "alice", 5, codes), TGOTP_STATE_OK);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(strlen(codes[i]), 11);
		assert_int_equal(codes[i][5], '-');
		assert_int_equal(strspn(codes[i], TGOTP_BACKUP_ALPHABET "-"), 11);
		assert_null(strstr(unit_read_file(path), codes[i])); /* only hashes are kept */
	}
	p = unit_read_file(path);
	assert_int_equal(strncmp(p, "alice $y$", 9), 0);
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), 5);
	assert_int_equal(tgotp_backup_use(st, path, "alice", codes[2], &left), TGOTP_BACKUP_USED);
	assert_int_equal(left, 4);
	assert_int_equal(tgotp_backup_use(st, path, "alice", codes[2], &left), TGOTP_BACKUP_WRONG);
	assert_int_equal(left, 4);
	assert_int_equal(tgotp_backup_use(st, path, "bob", codes[1], &left), TGOTP_BACKUP_NONE);
	assert_int_equal(tgotp_backup_use(st, path, "alice", "abcde-fghjk", &left),
			 TGOTP_BACKUP_WRONG);
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), 4);
	assert_int_equal(nerr, 0);
}

static void test_replaced_and_others_kept(void **state)
{
	tgotp_backup_code a[2], b[2], old[2];
	struct stat s;
	int left;

	(void)state;
	write_text("# backup codes\n\n", 0400);
	assert_int_equal(tgotp_backup_replace(st, path, "alice", 2, old), TGOTP_STATE_OK);
	assert_int_equal(tgotp_backup_replace(st, path, "bob smith", 2, b), TGOTP_STATE_OK);
	assert_int_equal(tgotp_backup_replace(st, path, "alice", 2, a), TGOTP_STATE_OK);
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), 2);
	assert_int_equal(tgotp_backup_count(path, "bob smith", &test_log), 2);
	assert_int_equal(tgotp_backup_count(path, "bob", &test_log), 0);
	assert_int_equal(tgotp_backup_use(st, path, "alice", old[0], &left), TGOTP_BACKUP_WRONG);
	/* another user's code is no code of alice's */
	assert_int_equal(tgotp_backup_use(st, path, "alice", b[0], &left), TGOTP_BACKUP_WRONG);
	assert_int_equal(tgotp_backup_use(st, path, "bob smith", b[0], &left), TGOTP_BACKUP_USED);
	assert_int_equal(left, 1);
	assert_int_equal(strncmp(unit_read_file(path), "# backup codes\n\n", 16), 0);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0400); /* the mode is kept */
}

/* Any crypt(3) hash will do: an older SHA-512 one too. */
static void test_sha512_hash(void **state)
{
	struct crypt_data cd;
	char text[512];
	int left;

	(void)state;
	memset(&cd, 0, sizeof(cd));
	snprintf(text, sizeof(text), "carol %s\n", crypt_r("mnpqr-stuvw", "$6$saltsaltsalt$", &cd));
	write_text(text, 0600);
	assert_int_equal(tgotp_backup_use(st, path, "carol", "mnpqr-stuvx", &left),
			 TGOTP_BACKUP_WRONG);
	assert_int_equal(tgotp_backup_use(st, path, "carol", "mnpqr-stuvw", &left),
			 TGOTP_BACKUP_USED);
	assert_int_equal(left, 0);
	assert_string_equal(unit_read_file(path), "");
}

static void test_unsafe_files_refused(void **state)
{
	tgotp_backup_code c[1];
	int left;

	(void)state;
	write_text("alice $y$j9T$x$y\n", 0640);
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), -1);
	assert_true(log_contains("readable by group or others"));
	assert_int_equal(tgotp_backup_use(st, path, "alice", "abcde-fghjk", &left),
			 TGOTP_BACKUP_ERROR);
	assert_int_equal(tgotp_backup_replace(st, path, "alice", 1, c), TGOTP_STATE_ERROR);
	/* a symbolic link is not followed */
	unlink(path);
	assert_int_equal(symlink("/etc/shadow", path), 0);
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), -1);
	assert_int_equal(tgotp_backup_replace(st, path, "alice", 1, c), TGOTP_STATE_ERROR);
	unlink(path);
	/* a line of something else: the whole file is not used */
	nlines = 0;
	write_text("alice $y$j9T$x$y\nalice\n", 0600);
	assert_int_equal(tgotp_backup_count(path, "alice", &test_log), -1);
	assert_true(log_contains("backup:2: not a \"USER HASH\" line"));
	assert_int_equal(tgotp_backup_use(st, path, "alice", "abcde-fghjk", &left),
			 TGOTP_BACKUP_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test_setup_teardown(test_made_used_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_and_others_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sha512_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsafe_files_refused, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("SKIP: the backup code tests need root: the file and the state must be "
		       "root's\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
