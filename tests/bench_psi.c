// SPDX-License-Identifier: GPL-2.0
/*
 * bench_psi.c - pressure to kill: a BPF PSI policy against a userspace
 * daemon doing the same with poll().
 *
 *   bench_psi SPINNERS [squeezed]
 *
 * Not a test: prints times and their ratio, both measured in the same VM
 * run, under the same load, rounds of the two sides interleaved.
 * /bench_psi/svc has memory.high 32 MiB and no swap; a hog there touches
 * 200 MiB over and over, so the kernel throttles it on every fault above
 * the limit and svc stalls on memory ("full"). Both sides watch svc with
 * the same kernel trigger, TRIGGER_THRESHOLD_US of stall in a
 * TRIGGER_WINDOW_US window, "full" (one definition, below, for both), and
 * react by killing the hog:
 *  - bpf: the sample policy bpf/psi_mem_guard (watching /bench_psi's
 *    children) declares a memcg OOM in svc from handle_psi_event; the
 *    kernel's OOM killer kills the hog;
 *  - userspace: a daemon process (as oomd does) writes the trigger to
 *    svc/memory.pressure, poll()s it for POLLPRI, then SIGKILLs every task
 *    of svc/cgroup.procs.
 * Measured per round: from the first charge above svc's memory.high (the
 * kernel's own "high" event in svc/memory.events, which the parent polls)
 * to the hog's death, as the parent sees it. The daemon is started before
 * the hog and idles, like a real one. Loads: SPINNERS CPU spinners compete
 * with the daemon and with bpf-oom's kworker for the CPUs; "squeezed" puts
 * the daemon in a cgroup that is itself over its memory.high (a co-tenant
 * keeps it there), so every allocation the daemon's reaction makes is
 * throttled, as happens to a userspace OOM daemon under the pressure it
 * watches - the case bpf-oom's in-kernel path is for. The co-tenant runs
 * in the BPF rounds too. Every round must end with the hog killed by
 * SIGKILL, by its side's mechanism; otherwise the benchmark fails.
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
#define TRIGGER_THRESHOLD_US 100000
#define TRIGGER_WINDOW_US 1000000

/* Touches (long)arg MiB forever (ready before it starts). */
static int hog(void *arg, int ready)
{
	size_t len = (long)arg * MiB, off;
	char *p;

	tl_write_file("/proc/self/oom_score_adj", "0");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 11;
	tl_child_ready(ready);
	for (;;)
		for (off = 0; off < len; off += 4096)
			p[off]++;
	return 0;
}

/* The userspace side: one trigger, one poll(), kill what is in svc. */
static int daemon_fn(void *arg, int ready)
{
	struct pollfd pfd;
	char pid[32], trig[64];
	FILE *procs;
	int fd;

	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "-1000");	/* only the hog may die */
	snprintf(trig, sizeof(trig), "full %d %d", TRIGGER_THRESHOLD_US, TRIGGER_WINDOW_US);
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

/* The "high" count of svc/memory.events, or -1. */
static long svc_high_events(int fd)
{
	char buf[512], *k;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	buf[sizeof(buf) - 1] = 0;
	k = strstr(buf, "high ");
	return k ? atol(k + 5) : -1;
}

/*
 * One round: the hog starts; the clock starts at svc's first charge above
 * memory.high (kernfs wakes a POLLPRI poller of memory.events when an
 * event is counted) and stops at the hog's death. Returns ms, or < 0.
 */
static double one_round(const char *side, bool userspace)
{
	int h, d = -1, pid, status, ev;
	struct pollfd pfd;
	long high0;
	double t0;

	if (userspace) {
		d = tl_spawn_in_cg("bench_psi_daemon", daemon_fn, NULL);
		if (d < 0)
			return -1;
	}
	ev = open(TL_CGROUP_ROOT "/bench_psi/svc/memory.events", O_RDONLY);
	high0 = svc_high_events(ev);
	h = tl_spawn_in_cg("bench_psi/svc", hog, (void *)200L);
	if (h < 0 || ev < 0 || high0 < 0)
		return -1;
	pfd.fd = ev;
	pfd.events = POLLPRI;
	while (svc_high_events(ev) == high0)
		if (poll(&pfd, 1, 100) < 0)
			return -1;
	t0 = tl_now();
	close(ev);
	pid = waitpid(h, &status, 0);
	t0 = (tl_now() - t0) * 1000;
	if (pid != h || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		printf("bench psi: %s: the hog did not die by SIGKILL (status 0x%x)\n", side, status);
		return -1;
	}
	if (d > 0 && (waitpid(d, &status, 0) != d || !WIFEXITED(status) || WEXITSTATUS(status))) {
		printf("bench psi: %s: the daemon did not do the kill (status 0x%x)\n", side, status);
		return -1;
	}
	/* let the pressure averages and the trigger windows settle */
	sleep(2);
	return t0;
}

static void report(const char *side, double *t)
{
	tl_sort_doubles(t, ROUNDS);
	printf("bench psi: %-40s pressure-to-kill %8.1f ms (median of %d, min %.1f, max %.1f)\n",
	       side, t[ROUNDS / 2], ROUNDS, t[0], t[ROUNDS - 1]);
}

int main(int argc, char **argv)
{
	struct psi_mem_guard_bpf *skel;
	int i, spinners = argc > 1 ? atoi(argv[1]) : 0;
	bool squeezed = argc > 2 && !strcmp(argv[2], "squeezed");
	double user[ROUNDS], bpf[ROUNDS];
	unsigned long long kills0;
	char high[32];

	tl_libbpf_quiet();
	tl_write_file("/proc/self/oom_score_adj", "-1000");
	tl_write_file("/proc/sys/vm/oom_dump_tasks", "0");
	tl_write_file("/proc/sys/kernel/printk", "1");
	tl_cg_create("bench_psi");
	tl_cg_write("bench_psi", "cgroup.subtree_control", "+memory");
	tl_cg_create("bench_psi/svc");
	tl_cg_create("bench_psi_daemon");
	snprintf(high, sizeof(high), "%lu", HIGH_MIB * MiB);
	tl_cg_write("bench_psi/svc", "memory.high", high);
	tl_cg_write("bench_psi/svc", "memory.swap.max", "0");
	for (i = 0; i < spinners; i++)
		tl_spawn_in_cg("bench_psi_daemon", spinner, NULL);
	if (squeezed) {
		/* the daemon's own cgroup kept above its memory.high */
		tl_cg_write("bench_psi_daemon", "memory.high", "16777216");
		tl_cg_write("bench_psi_daemon", "memory.swap.max", "0");
		if (tl_spawn_in_cg("bench_psi_daemon", hog, (void *)48L) < 0)
			return 1;
	}
	printf("bench psi: svc memory.high %d MiB, a 200 MiB hog, trigger full %d ms / %d ms, %d CPU spinner(s)%s\n",
	       HIGH_MIB, TRIGGER_THRESHOLD_US / 1000, TRIGGER_WINDOW_US / 1000, spinners,
	       squeezed ? ", the daemon's cgroup squeezed (16 MiB memory.high, a 48 MiB co-tenant)" : "");

	skel = psi_mem_guard_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->parent_cgroup_id = tl_cg_id("bench_psi");
	skel->rodata->threshold_us = TRIGGER_THRESHOLD_US;
	skel->rodata->window_us = TRIGGER_WINDOW_US;
	if (psi_mem_guard_bpf__load(skel)) {
		printf("bench psi: psi_mem_guard cannot load on this kernel (%s)\n", strerror(errno));
		return 1;
	}
	/* interleaved: a userspace round, then a BPF round */
	for (i = 0; i < ROUNDS; i++) {
		struct bpf_link *link;

		user[i] = one_round("userspace", true);
		if (user[i] < 0)
			return 1;
		kills0 = tl_cg_event("bench_psi/svc", "oom_kill");
		link = bpf_map__attach_struct_ops(skel->maps.psi_mem_guard);
		if (!link)
			return 1;
		bpf[i] = one_round("bpf", false);
		bpf_link__destroy(link);
		/* the BPF side's kill is the OOM it declared: one oom_kill in svc */
		if (bpf[i] < 0 || tl_cg_event("bench_psi/svc", "oom_kill") != kills0 + 1) {
			printf("bench psi: bpf round %d: the hog was not killed by the declared OOM\n", i);
			return 1;
		}
	}
	psi_mem_guard_bpf__destroy(skel);
	report(squeezed ? "userspace daemon, squeezed" : "userspace daemon (poll + SIGKILL)", user);
	report("bpf_psi_ops (psi_mem_guard)", bpf);
	printf("bench psi: ratio userspace/bpf (medians): pressure-to-kill %.2fx\n",
	       user[ROUNDS / 2] / bpf[ROUNDS / 2]);
	tl_cg_destroy("bench_psi_daemon");
	tl_cg_destroy("bench_psi/svc");
	tl_cg_destroy("bench_psi");
	return 0;
}
