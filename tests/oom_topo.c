// SPDX-License-Identifier: GPL-2.0
/*
 * oom_topo.c - upstream's OOM test topology (see oom_topo.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "oom_topo.h"

struct topo_hog topo_hogs[NR_HOGS] = {
	[CG1] = { "oom_test/cg1", 10, 1000 },
	[CG2] = { "oom_test/cg2", 40, -1000 },
	[CG4] = { "oom_test/cg3/cg4", 30, 0 },
	[CG5] = { "oom_test/cg3/cg5", 20, 0 },
};

static int hog_fn(void *arg, int ready)
{
	long i = (long)arg;
	char adj[16];
	char *p;

	snprintf(adj, sizeof(adj), "%d", topo_hogs[i].adj);
	if (tl_write_file("/proc/self/oom_score_adj", adj))
		return 10;
	p = mmap(NULL, (topo_hogs[i].mib - 2) * MiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 11;
	memset(p, 1, (topo_hogs[i].mib - 2) * MiB);
	tl_child_ready(ready);
	pause();
	return 0;
}

void topo_destroy(void)
{
	tl_cg_destroy("oom_test/cg3/cg5");
	tl_cg_destroy("oom_test/cg3/cg4");
	tl_cg_destroy("oom_test/cg3");
	tl_cg_destroy("oom_test/cg2");
	tl_cg_destroy("oom_test/cg1");
	tl_cg_destroy("oom_test");
	/* reap every hog (cgroup.kill is asynchronous), so none is taken for
	 * the next test's victim */
	while (tl_wait_any(NULL, 5000) > 0)
		;
}

bool topo_create(void)
{
	topo_destroy();
	return CHECK_OK(tl_cg_create("oom_test"), "mkdir /oom_test") &&
	       CHECK_OK(tl_cg_write("oom_test", "memory.max", "83886080"), "memory.max 80M") &&
	       (tl_cg_write("oom_test", "memory.swap.max", "0"), true) &&
	       CHECK_OK(tl_cg_write("oom_test", "cgroup.subtree_control", "+memory"), "+memory") &&
	       CHECK_OK(tl_cg_create("oom_test/cg1"), "mkdir cg1") &&
	       CHECK_OK(tl_cg_create("oom_test/cg2"), "mkdir cg2") &&
	       CHECK_OK(tl_cg_create("oom_test/cg3"), "mkdir cg3") &&
	       CHECK_OK(tl_cg_write("oom_test/cg3", "cgroup.subtree_control", "+memory"), "cg3 +memory") &&
	       CHECK_OK(tl_cg_create("oom_test/cg3/cg4"), "mkdir cg4") &&
	       CHECK_OK(tl_cg_create("oom_test/cg3/cg5"), "mkdir cg5");
}

int topo_run(int pids[NR_HOGS], int *status, int *target_pid, int target, int *cg5_done)
{
	int pid, k, go[2], done[2];
	long i;

	for (i = 0; i < NR_HOGS; i++)
		pids[i] = -1;
	if (cg5_done)
		*cg5_done = -1;
	for (i = CG1; i <= CG4; i++) {
		pids[i] = tl_spawn_in_cg(topo_hogs[i].cg, hog_fn, (void *)i);
		if (!CHECK(pids[i] > 0, "%s did not start: %d", topo_hogs[i].cg, pids[i]))
			return -1;
	}
	if (pipe(go))
		return -1;
	if (pipe2(done, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		close(done[0]);
		if (tl_cg_enter(topo_hogs[CG5].cg, 0) || read(go[0], &c, 1) != 1)
			_exit(112);
		_exit(hog_fn((void *)CG5, cg5_done ? done[1] : open("/dev/null", O_WRONLY)));
	}
	close(go[0]);
	close(done[1]);
	/* cg5 writes its ready byte here only if someone reads it */
	if (cg5_done)
		*cg5_done = done[0];
	else
		close(done[0]);
	pids[CG5] = pid;
	if (target_pid)
		*target_pid = pids[target];
	if (write(go[1], "g", 1) != 1)
		return -1;
	close(go[1]);
	pid = tl_wait_any(status, 60000);
	for (k = 0; k < NR_HOGS; k++)
		if (pids[k] == pid)
			return k;
	CHECK(0, "no hog died within 60 s (wait: %d)", pid);
	return -1;
}

bool topo_alive(int pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

int topo_first_killed(const char *log)
{
	const char *k = strstr(log, "Killed process ");

	return k ? atoi(k + strlen("Killed process ")) : -1;
}

int topo_kills_in(const char *log)
{
	int n = 0;

	for (log = strstr(log, "Killed process "); log; log = strstr(log + 1, "Killed process "))
		n++;
	return n;
}

void topo_expect_victim(const char *log, const int pids[NR_HOGS], int want,
			int first_reaped, int first_status)
{
	int victim = topo_first_killed(log), status = first_status, k;

	for (k = 0; k < NR_HOGS && pids[k] != victim; k++)
		;
	if (!CHECK(k == want, "first killed: expected %s (pid %d), got %s (pid %d)",
		   topo_hogs[want].cg, pids[want], k < NR_HOGS ? topo_hogs[k].cg : "none", victim))
		return;
	/* topo_run() may have reaped it already */
	if (first_reaped == want || waitpid(pids[want], &status, 0) == pids[want])
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "%s: expected SIGKILL, got status 0x%x", topo_hogs[want].cg, status);
	if (want == CG1)
		return;
	usleep(300000);
	for (k = 0; k < NR_HOGS; k++)
		CHECK(k == want || topo_alive(pids[k]), "%s died too (only %s should): %d kills",
		      topo_hogs[k].cg, topo_hogs[want].cg, topo_kills_in(log));
}
