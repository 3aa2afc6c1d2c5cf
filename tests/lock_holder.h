/* A process that holds a lock file (flock LOCK_EX) until it is killed: the
 * stopped sudo of the state lock tests. Header-only, shared by
 * tests/unit/test_state.c and tests/integration/test_state_locks.c. */
#ifndef TGOTP_LOCK_HOLDER_H
#define TGOTP_LOCK_HOLDER_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

/* Returns the holder's pid once it holds path (created 0600 when missing),
 * or -1. The holder dies with its parent: a failed test leaves no lock. */
static inline pid_t lock_holder_start(const char *path)
{
	pid_t pid;
	int p[2], fd;
	char c;

	if (pipe(p) < 0)
		return -1;
	fflush(NULL); /* the child must not write the parent's buffers again */
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

#endif
