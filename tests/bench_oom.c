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
 * ROUNDS rounds, each a stock OOM then a policy OOM (interleaved, so drift
 * hits both sides alike); medians with min and max. Every round must kill
 * exactly the hog, and on the policy side the policy itself must have done
 * it (its counters): otherwise the benchmark fails. The OOM report's
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

#define ROUNDS 7
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
	*exit_s = tl_now() - t0;
	tl_write_file(TRACING "/tracing_on", "0");
	*oom_us = oom_trace_us();
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -1;
}

/* Median, min and max of @v (sorted in place). */
static void print_stat(const char *label, const char *what, double *v, int n, double scale,
		       const char *unit)
{
	tl_sort_doubles(v, n);
	printf("bench oom: %-24s %-16s median %9.1f %s  (min %.1f, max %.1f, %d rounds)\n",
	       label, what, v[n / 2] * scale, unit, v[0] * scale, v[n - 1] * scale, n);
}

int main(int argc, char **argv)
{
	double ex[2][ROUNDS], us[2][ROUNDS];
	unsigned long long hog_id, kills, killed;
	struct oom_largest_leaf_bpf *skel;
	char cg[64];
	int i, pid, side;

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
	hog_id = tl_cg_id("bench/hog");
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
	skel = oom_largest_leaf_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench oom: oom_largest_leaf cannot load: %s\n", strerror(errno));
		return 1;
	}
	printf("bench oom: %d tasks in %d memcgs under /bench (256 MiB), victim: /bench/hog; stock and policy rounds interleaved\n",
	       nr_tasks, nr_cgroups);
	tl_write_file(TRACING "/tracing_on", "0");
	if (!getenv("BENCH_NO_TRACE"))
		tl_write_file(TRACING "/current_tracer", "function_graph");
	/* trace out_of_memory() alone: graphing every function would make
	 * the whole VM crawl */
	tl_write_file(TRACING "/set_ftrace_filter", "out_of_memory");
	tl_write_file(TRACING "/set_graph_function", "out_of_memory");
	tl_write_file(TRACING "/max_graph_depth", "1");

	/* round i: the stock killer, then the policy; both must kill the hog */
	for (i = 0; i < ROUNDS; i++) {
		for (side = 0; side < 2; side++) {
			struct bpf_link *link = NULL;

			kills = tl_cg_event("bench/hog", "oom_kill");
			killed = skel->bss->processes_killed;
			if (side && !(link = bpf_map__attach_struct_ops(skel->maps.oom_largest_leaf))) {
				fprintf(stderr, "bench oom: attach: %s\n", strerror(errno));
				return 1;
			}
			if (one_oom(&ex[side][i], &us[side][i])) {
				fprintf(stderr, "bench oom: %s round %d: the hog did not die by SIGKILL\n",
					side ? "policy" : "stock", i);
				return 1;
			}
			bpf_link__destroy(link);
			if (tl_cg_event("bench/hog", "oom_kill") != kills + 1) {
				fprintf(stderr, "bench oom: %s round %d: expected exactly one OOM kill in /bench/hog\n",
					side ? "policy" : "stock", i);
				return 1;
			}
			/* the policy side counts only if the policy itself killed the hog */
			if (side && (skel->bss->processes_killed != killed + 1 ||
				     skel->bss->last_victim_cgroup != hog_id)) {
				fprintf(stderr, "bench oom: policy round %d: the policy did not kill the hog (kills %llu -> %llu)\n",
					i, killed, (unsigned long long)skel->bss->processes_killed);
				return 1;
			}
		}
	}
	for (side = 0; side < 2; side++) {
		const char *label = side ? "oom_largest_leaf policy" : "stock OOM killer";

		print_stat(label, "out_of_memory()", us[side], ROUNDS, 1, "us");
		print_stat(label, "OOM-to-exit", ex[side], ROUNDS, 1e3, "ms");
	}
	printf("bench oom: ratio policy/stock (medians): out_of_memory() %.2fx, OOM-to-exit %.2fx\n",
	       us[1][ROUNDS / 2] / us[0][ROUNDS / 2], ex[1][ROUNDS / 2] / ex[0][ROUNDS / 2]);
	oom_largest_leaf_bpf__destroy(skel);
	tl_write_file(TRACING "/current_tracer", "nop");
	return 0;
}
