// SPDX-License-Identifier: GPL-2.0
/*
 * bench_oom.c - what a BPF OOM policy costs, against the stock OOM killer.
 *
 * Not a test: prints times and ratios, all measured in the same VM run.
 * Set-up: /bench (memory.max 256 MiB) holds NR_CGROUPS leaf memcgs with
 * NR_TASKS sleeping tasks between them, plus /bench/hog, whose task
 * allocates until the OOM killer stops it. Both the stock killer and the
 * sample policy bpf/oom_largest_leaf (system-wide) pick the hog, so the
 * same work is undone each time. Measured, per OOM:
 *  - time inside out_of_memory(): the function_graph tracer's duration of
 *    the call (with a policy attached that is the shim, the policy and, if
 *    it declines, the kernel's own path);
 *  - time from the hog's start to its exit (allocation, OOM, kill, exit).
 * Each mode runs ROUNDS times; the medians are compared. The OOM report's
 * task dump (vm.oom_dump_tasks) is turned off and the console quietened:
 * printing a thousand tasks to a TCG serial port would be all we measured.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
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
#include "oom_largest_leaf.skel.h"

#define ROUNDS 5
#define TRACING "/sys/kernel/tracing"

static int nr_cgroups = 100, nr_tasks = 1000;

static int sleeper(void *arg, int ready)
{
	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");	/* not the parent's -1000 */
	tl_child_ready(ready);
	pause();
	return 0;
}

static int hog(void *arg, int ready)
{
	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	tl_child_ready(ready);
	for (;;) {
		char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, 1, 16 << 20);
	}
	return 0;
}

/* Durations (us) of out_of_memory() calls in the graph trace, summed. */
static double oom_trace_us(void)
{
	char line[512];
	double total = 0;
	FILE *f = fopen(TRACING "/trace", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *bar = strchr(line, '|'), *p;

		if (!bar || !strstr(bar, "out_of_memory"))
			continue;
		for (p = line; p < bar && !(*p >= '0' && *p <= '9' && p[1] != ')'); p++)
			;
		/* "  1) ! 1234.567 us |  out_of_memory();" */
		p = strstr(line, ") ");
		if (p) {
			p += 2;
			while (*p == ' ' || *p == '!' || *p == '+' || *p == '#' || *p == '*' ||
			       *p == '@' || *p == '$')
				p++;
			total += strtod(p, NULL);
		}
	}
	fclose(f);
	return total;
}

/* One OOM: returns hog start-to-exit (s) and time in out_of_memory (us). */
static int one_oom(double *exit_s, double *oom_us)
{
	double t0;
	int pid, status;

	close(open(TRACING "/trace", O_WRONLY | O_TRUNC));	/* clears it */
	tl_write_file(TRACING "/tracing_on", "1");
	t0 = tl_now();
	pid = tl_spawn_in_cg("bench/hog", hog, NULL);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (getenv("BENCH_VERBOSE"))
		fprintf(stderr, "round: %.3f s\n", tl_now() - t0);
	*exit_s = tl_now() - t0;
	tl_write_file(TRACING "/tracing_on", "0");
	*oom_us = oom_trace_us();
	return WIFSIGNALED(status) ? 0 : -1;
}

static int run(const char *label, double *exit_med, double *oom_med)
{
	double ex[ROUNDS], us[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		if (one_oom(&ex[i], &us[i]))
			return fprintf(stderr, "bench: %s: OOM round %d failed\n", label, i), -1;
	tl_sort_doubles(ex, ROUNDS);
	tl_sort_doubles(us, ROUNDS);
	*exit_med = ex[ROUNDS / 2];
	*oom_med = us[ROUNDS / 2];
	printf("bench oom: %-28s out_of_memory() %9.1f us   OOM-to-exit %7.1f ms  (medians of %d)\n",
	       label, *oom_med, *exit_med * 1e3, ROUNDS);
	return 0;
}

int main(int argc, char **argv)
{
	double stock_exit, stock_us, pol_exit, pol_us;
	struct oom_largest_leaf_bpf *skel;
	struct bpf_link *link;
	char cg[64];
	int i, pid;

	if (argc > 2) {
		nr_cgroups = atoi(argv[1]);
		nr_tasks = atoi(argv[2]);
	}
	tl_libbpf_quiet();
	tl_write_file("/proc/self/oom_score_adj", "-1000");
	tl_write_file("/proc/sys/vm/oom_dump_tasks", "0");
	tl_write_file("/proc/sys/kernel/printk", "1");
	tl_cg_create("bench");
	tl_cg_write("bench", "cgroup.subtree_control", "+memory");
	tl_cg_write("bench", "memory.max", "268435456");
	tl_cg_write("bench", "memory.swap.max", "0");
	tl_cg_create("bench/hog");
	for (i = 0; i < nr_cgroups; i++) {
		snprintf(cg, sizeof(cg), "bench/c%d", i);
		tl_cg_create(cg);
	}
	for (i = 0; i < nr_tasks; i++) {
		snprintf(cg, sizeof(cg), "bench/c%d", i % nr_cgroups);
		pid = tl_spawn_in_cg(cg, sleeper, NULL);
		if (pid < 0) {
			fprintf(stderr, "bench: cannot start task %d: %d\n", i, pid);
			return 1;
		}
	}
	printf("bench oom: %d tasks in %d memcgs under /bench (256 MiB), victim: /bench/hog\n",
	       nr_tasks, nr_cgroups);
	tl_write_file(TRACING "/tracing_on", "0");
	if (!getenv("BENCH_NO_TRACE"))
		tl_write_file(TRACING "/current_tracer", "function_graph");
	/* trace out_of_memory() alone: graphing every function would make
	 * the whole VM crawl */
	tl_write_file(TRACING "/set_ftrace_filter", "out_of_memory");
	tl_write_file(TRACING "/set_graph_function", "out_of_memory");
	tl_write_file(TRACING "/max_graph_depth", "1");

	if (run("stock OOM killer", &stock_exit, &stock_us))
		return 1;
	skel = oom_largest_leaf_bpf__open_and_load();
	if (!skel) {
		printf("bench oom: oom_largest_leaf cannot load on this kernel (%s): policy side not measured\n",
		       strerror(errno));
		return 0;
	}
	link = bpf_map__attach_struct_ops(skel->maps.oom_largest_leaf);
	if (!link || run("oom_largest_leaf policy", &pol_exit, &pol_us))
		return 1;
	printf("bench oom: ratio policy/stock: out_of_memory() %.2fx, OOM-to-exit %.2fx\n",
	       pol_us / stock_us, pol_exit / stock_exit);
	bpf_link__destroy(link);
	oom_largest_leaf_bpf__destroy(skel);
	tl_write_file(TRACING "/current_tracer", "nop");
	return 0;
}
