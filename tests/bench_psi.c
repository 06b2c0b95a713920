// SPDX-License-Identifier: GPL-2.0
/*
 * bench_psi.c - pressure to kill: a BPF PSI policy against a userspace
 * daemon doing the same with poll().
 *
 * Not a test: prints times and their ratio, both measured in the same VM
 * run, under the same load. /bench_psi/svc has memory.high 32 MiB and no
 * swap; a hog there touches 200 MiB over and over, so the kernel throttles
 * it on every fault above the limit and svc stalls on memory ("full").
 * Both sides watch svc with the same kernel trigger, "full 100000
 * 1000000" (100 ms of stall in a 1 s window), and react by killing the hog:
 *  - bpf: the sample policy bpf/psi_mem_guard (watching /bench_psi's
 *    children) declares a memcg OOM in svc from handle_psi_event; the
 *    kernel's OOM killer kills the hog;
 *  - userspace: a daemon process (as oomd does) writes the trigger to
 *    svc/memory.pressure, poll()s it for POLLPRI, then SIGKILLs every task
 *    of svc/cgroup.procs.
 * Measured per round: from the hog's first fault above the limit (it
 * reports when it has touched memory.high's worth) to its death, as the
 * parent sees it. The daemon is started before the hog and idles, like a
 * real one; the optional "busy" load (argv[2] CPU spinners) competes with
 * it, and with bpf-oom's kworker, for the CPUs. ROUNDS rounds per side,
 * medians compared.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "psi_mem_guard.skel.h"

#define MiB (1024UL * 1024)
#define ROUNDS 5
#define HIGH_MIB 32

/* Touches 200 MiB forever; ready once it has touched memory.high's worth. */
static int hog(void *arg, int ready)
{
	size_t len = 200 * MiB, off;
	char *p;

	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 11;
	memset(p, 1, (HIGH_MIB - 2) * MiB);
	tl_child_ready(ready);
	for (;;)
		for (off = 0; off < len; off += 4096)
			p[off]++;
	return 0;
}

/* The userspace side: one trigger, one poll(), kill what is in svc. */
static int daemon_fn(void *arg, int ready)
{
	const char *trig = "full 100000 1000000";
	struct pollfd pfd;
	char pid[32];
	FILE *procs;
	int fd;

	(void)arg;
	fd = open(TL_CGROUP_ROOT "/bench_psi/svc/memory.pressure", O_RDWR | O_NONBLOCK);
	if (fd < 0 || write(fd, trig, strlen(trig) + 1) < 0)
		return 20;
	tl_child_ready(ready);
	pfd.fd = fd;
	pfd.events = POLLPRI;
	for (;;) {
		if (poll(&pfd, 1, -1) < 0)
			return 21;
		if (pfd.revents & POLLERR)
			return 22;
		if (pfd.revents & POLLPRI)
			break;
	}
	procs = fopen(TL_CGROUP_ROOT "/bench_psi/svc/cgroup.procs", "r");
	while (procs && fgets(pid, sizeof(pid), procs))
		kill(atoi(pid), SIGKILL);
	if (procs)
		fclose(procs);
	return 0;
}

static int spinner(void *arg, int ready)
{
	(void)arg;
	tl_child_ready(ready);
	for (;;)
		;
	return 0;
}

/* One side, ROUNDS times: the median pressure-to-kill time (ms), or < 0. */
static double run(const char *side, bool userspace)
{
	double t[ROUNDS], t0;
	int i, h, d = -1, pid, status;

	for (i = 0; i < ROUNDS; i++) {
		if (userspace) {
			d = tl_spawn_in_cg("bench_psi/daemon", daemon_fn, NULL);
			if (d < 0)
				return -1;
		}
		h = tl_spawn_in_cg("bench_psi/svc", hog, NULL);
		if (h < 0)
			return -1;
		t0 = tl_now();
		pid = waitpid(h, &status, 0);
		t[i] = (tl_now() - t0) * 1000;
		if (pid != h || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			printf("bench psi: %s: the hog did not die by SIGKILL (status 0x%x)\n", side,
			       status);
			return -1;
		}
		if (d > 0)
			waitpid(d, NULL, 0);
		/* let the pressure averages and the trigger windows settle */
		sleep(2);
	}
	tl_sort_doubles(t, ROUNDS);
	printf("bench psi: %-40s pressure-to-kill %8.1f ms (median of %d, min %.1f, max %.1f)\n",
	       side, t[ROUNDS / 2], ROUNDS, t[0], t[ROUNDS - 1]);
	return t[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	struct psi_mem_guard_bpf *skel;
	struct bpf_link *link;
	int i, spinners = argc > 1 ? atoi(argv[1]) : 0;
	double bpf, user;
	char high[32];

	tl_libbpf_quiet();
	tl_write_file("/proc/self/oom_score_adj", "-1000");
	tl_write_file("/proc/sys/vm/oom_dump_tasks", "0");
	tl_write_file("/proc/sys/kernel/printk", "1");
	tl_cg_create("bench_psi");
	tl_cg_write("bench_psi", "cgroup.subtree_control", "+memory");
	tl_cg_create("bench_psi/svc");
	tl_cg_create("bench_psi/daemon");
	snprintf(high, sizeof(high), "%lu", HIGH_MIB * MiB);
	tl_cg_write("bench_psi/svc", "memory.high", high);
	tl_cg_write("bench_psi/svc", "memory.swap.max", "0");
	for (i = 0; i < spinners; i++)
		tl_spawn_in_cg("bench_psi/daemon", spinner, NULL);
	printf("bench psi: svc memory.high %d MiB, a 200 MiB hog, trigger full 100 ms / 1 s, %d CPU spinner(s)\n",
	       HIGH_MIB, spinners);

	user = run("userspace daemon (poll + SIGKILL)", true);
	skel = psi_mem_guard_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->parent_cgroup_id = tl_cg_id("bench_psi");
	if (psi_mem_guard_bpf__load(skel)) {
		printf("bench psi: psi_mem_guard cannot load on this kernel (%s)\n", strerror(errno));
		return 1;
	}
	link = bpf_map__attach_struct_ops(skel->maps.psi_mem_guard);
	if (!link)
		return 1;
	bpf = run("bpf_psi_ops (psi_mem_guard)", false);
	bpf_link__destroy(link);
	psi_mem_guard_bpf__destroy(skel);
	if (bpf > 0 && user > 0)
		printf("bench psi: ratio userspace/bpf: pressure-to-kill %.2fx\n", user / bpf);
	tl_cg_destroy("bench_psi/daemon");
	tl_cg_destroy("bench_psi/svc");
	tl_cg_destroy("bench_psi");
	return bpf > 0 && user > 0 ? 0 : 1;
}
