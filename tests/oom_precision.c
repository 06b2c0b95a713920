// SPDX-License-Identifier: GPL-2.0
/*
 * oom_precision.c - one OOM, one kill.
 *
 * Upstream's topology (oom_topo.h) with cg1's oom_score_adj at 0, so that
 * the stock killer's choice is cg4 too: killing cg4 alone leaves room for
 * cg5, so one kill resolves the OOM. Rounds alternate between the stock
 * killer (nothing attached) and upstream's test policy (oom_largest_leaf,
 * system-wide); each counts the kills of its episode, from the first kill
 * until cg5 holds all its memory and 300 ms more passed.
 *
 * With a policy attached any second kill fails the test. The stock
 * kernel's rate is printed beside it, not judged: it is the kernel's own
 * behaviour, the one bpf-oom improves on (README, "One OOM, one kill").
 *
 * BPF_OOM_PRECISION_ROUNDS=N sets the rounds per side (default 10);
 * BPF_OOM_TRACE=1 records the OOM, exit and uncharge path with tracefs and
 * prints the trace of every round that killed more than once
 * (BPF_OOM_TRACE=all: of every round).
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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "oom_topo.h"
#include "oom_largest_leaf.skel.h"
#include "oom_policies.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define MAX_KILLS 8

/* ---- optional tracing (BPF_OOM_TRACE=1) -------------------------------- */

static bool tracing, trace_all;

static void trace_write(const char *file, const char *val, bool append)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		printf("# trace: %s <- '%s': %s\n", file, val, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * The OOM path (memcg OOM entry with the memcg's usage, victims, its
 * verdict), the victim's exit (exit_mmap from entry to its tracepoint at the
 * end, tlb_finish_mmu which frees the gathered pages) and the reaper.
 */
static void trace_setup(void)
{
	static const char *const kprobes[] = {
		"p:bpfoom/memcg_oom mem_cgroup_out_of_memory usage=memcg->memory.usage.counter:s64 order=order",
		"r:bpfoom/memcg_oom_ret mem_cgroup_out_of_memory ret=$retval:u8",
		"p:bpfoom/exit_mmap_enter exit_mmap",
		/* right after exit_mmap() set MMF_OOM_SKIP: the stock killer's blind spot starts */
		"p:bpfoom/free_pgtables free_pgtables",
		"p:bpfoom/tlb_finish_mmu tlb_finish_mmu",
		"r:bpfoom/tlb_finish_mmu_ret tlb_finish_mmu",
		"p:bpfoom/oom_evaluate_task oom_evaluate_task pid=task->pid:s32",
		NULL,
	};
	static const char *const events[] = {
		"oom/mark_victim", "oom/wake_reaper", "oom/start_task_reaping",
		"oom/finish_task_reaping", "oom/skip_task_reaping",
		"sched/sched_process_exit", "mmap/exit_mmap", "bpfoom",
		NULL,
	};
	char path[256];
	int i;

	trace_write("tracing_on", "0", false);
	trace_write("kprobe_events", "", false);
	for (i = 0; kprobes[i]; i++)
		trace_write("kprobe_events", kprobes[i], true);
	trace_write("buffer_size_kb", "8192", false);
	for (i = 0; events[i]; i++) {
		snprintf(path, sizeof(path), "events/%s/enable", events[i]);
		trace_write(path, "1", false);
	}
	/* only the test's own processes free pages through these */
	trace_write("events/bpfoom/tlb_finish_mmu/filter", "comm == \"oom_precision\"", false);
	trace_write("events/bpfoom/tlb_finish_mmu_ret/filter", "comm == \"oom_precision\"", false);
	trace_write("events/bpfoom/free_pgtables/filter", "comm == \"oom_precision\"", false);
}

static void trace_start(void)
{
	trace_write("trace", "", false);
	trace_write("tracing_on", "1", false);
}

static void trace_dump(void)
{
	char line[512];
	FILE *f;

	trace_write("tracing_on", "0", false);
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#')
			printf("# trace: %s", line);
	fclose(f);
}

/* ---- one episode ------------------------------------------------------- */

struct episode {
	int kills;		/* "Killed process" lines */
	int oom_kill;		/* /oom_test memory.events oom_kill */
	int first;		/* hog killed first, -1 if none */
	char victims[128];	/* the hogs killed, in order */
	double gap_ms;		/* first to second kill */
};

static int hog_of(const int pids[NR_HOGS], int pid)
{
	int k;

	for (k = 0; k < NR_HOGS; k++)
		if (pids[k] == pid)
			return k;
	return -1;
}

static void run_episode(struct episode *ep)
{
	int kill_pid[MAX_KILLS];
	double kill_ts[MAX_KILLS];
	int pids[NR_HOGS], status, done = -1, kfd, i;
	struct pollfd pfd;
	char c;

	memset(ep, 0, sizeof(*ep));
	ep->first = -1;
	if (!topo_create())
		return;
	kfd = tl_kmsg_open();
	if (tracing)
		trace_start();
	topo_run(pids, &status, NULL, 0, &done);
	/* the episode lasts until cg5 holds its memory (or died), and 300 ms */
	pfd.fd = done;
	pfd.events = POLLIN;
	if (done >= 0 && poll(&pfd, 1, 30000) == 1 && read(done, &c, 1) < 0)
		printf("# reading cg5's done pipe: %s\n", strerror(errno));
	usleep(300000);
	if (done >= 0)
		close(done);
	ep->kills = tl_kmsg_kills(kfd, NULL, 0, kill_pid, kill_ts, MAX_KILLS);
	close(kfd);
	ep->oom_kill = (int)tl_cg_event("oom_test", "oom_kill");
	for (i = 0; i < ep->kills && i < MAX_KILLS; i++) {
		int k = hog_of(pids, kill_pid[i]);
		size_t len = strlen(ep->victims);

		if (i == 0)
			ep->first = k;
		snprintf(ep->victims + len, sizeof(ep->victims) - len, "%s%s", i ? "," : "",
			 k >= 0 ? topo_hogs[k].cg + strlen("oom_test/") : "other");
	}
	if (ep->kills > 1)
		ep->gap_ms = (kill_ts[1] - kill_ts[0]) * 1e3;
	if (tracing && (ep->kills > 1 || trace_all))
		trace_dump();
	else if (tracing)
		trace_write("tracing_on", "0", false);
	topo_destroy();
}

/* ---- the test ---------------------------------------------------------- */

static void test_oom_precision(void)
{
	const char *env = getenv("BPF_OOM_PRECISION_ROUNDS");
	int rounds = env ? atoi(env) : 10, over[2] = { 0, 0 }, r;
	struct oom_largest_leaf_bpf *skel;
	struct utsname u;

	uname(&u);
	tracing = getenv("BPF_OOM_TRACE") != NULL;
	trace_all = tracing && !strcmp(getenv("BPF_OOM_TRACE"), "all");
	if (tracing)
		trace_setup();
	topo_hogs[CG1].adj = 0;
	skel = oom_largest_leaf_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load oom_largest_leaf"))
		goto out;
	for (r = 0; r < 2 * rounds; r++) {
		bool policy = r % 2;
		struct bpf_link *link = NULL;
		unsigned long long killed = skel->bss->processes_killed;
		struct episode ep;

		if (policy) {
			link = bpf_map__attach_struct_ops(skel->maps.oom_largest_leaf);
			if (!CHECK_PTR(link, "attach oom_largest_leaf"))
				break;
		}
		run_episode(&ep);
		bpf_link__destroy(link);
		printf("# %s round %d: %d kill(s) [%s]%s", policy ? "policy" : "stock ",
		       r / 2 + 1, ep.kills, ep.victims, ep.kills > 1 ? "" : "\n");
		if (ep.kills > 1)
			printf(", second %.1f ms after the first\n", ep.gap_ms);
		over[policy] += ep.kills > 1;
		CHECK_EQ(ep.oom_kill, ep.kills, "/oom_test memory.events oom_kill vs 'Killed process' lines");
		CHECK(ep.first == CG4, "%s round %d: first victim: expected cg3/cg4, got [%s]",
		      policy ? "policy" : "stock", r / 2 + 1, ep.victims);
		if (!policy)
			continue;
		CHECK(ep.kills == 1, "policy round %d: expected exactly 1 kill, got %d [%s]",
		      r / 2 + 1, ep.kills, ep.victims);
		CHECK_EQ(skel->bss->processes_killed - killed, 1, "processes the policy killed");
	}
	printf("# precision on %s: rounds with more than one kill: stock killer %d of %d, with oom_largest_leaf %d of %d\n",
	       u.release, over[0], rounds, over[1], rounds);
out:
	oom_largest_leaf_bpf__destroy(skel);
	topo_hogs[CG1].adj = 1000;
}

/* ---- forward progress: a victim that frees nothing -------------------- */

/* /proc/bpf_oom/victims' header counter @key, or -1. */
static long victims_stat(const char *key)
{
	char line[256], *k;
	FILE *f = fopen("/proc/bpf_oom/victims", "r");
	long v = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		for (k = strtok(line, " \n"); k; k = strtok(NULL, " \n"))
			if (!strcmp(k, key) && (k = strtok(NULL, " \n")))
				v = atol(k);
	}
	fclose(f);
	return v;
}

/*
 * The forward-progress set-up: @cg (memory.max @max, no swap) with
 * children a and b, and test_kill_pid attached system-wide (its target set
 * by the test). Returns the link (NULL, a check failed) and the skeleton.
 */
static struct bpf_link *fp_setup(const char *cg, const char *max, struct oom_policies_bpf **skelp)
{
	struct oom_policies_bpf *skel;
	struct bpf_link *link;
	char path[64];

	tl_cg_create(cg);
	tl_cg_write(cg, "memory.max", max);
	tl_cg_write(cg, "memory.swap.max", "0");
	tl_cg_write(cg, "cgroup.subtree_control", "+memory");
	snprintf(path, sizeof(path), "%s/a", cg);
	tl_cg_create(path);
	snprintf(path, sizeof(path), "%s/b", cg);
	tl_cg_create(path);
	*skelp = skel = oom_policies_bpf__open();
	if (!CHECK_PTR(skel, "open oom_policies"))
		return NULL;
	bpf_map__set_autocreate(skel->maps.decline, false);
	bpf_map__set_autocreate(skel->maps.claim, false);
	bpf_map__set_autocreate(skel->maps.no_handler, false);
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load oom_policies"))
		return NULL;
	link = bpf_map__attach_struct_ops(skel->maps.kill_pid);
	CHECK_PTR(link, "attach kill_pid");
	return link;
}

#define PIN_FILE "/tmp/bpf-oom-pinned"

/* /fp/a: 24 MiB in a tmpfs file, charged to /fp/a, that outlives it. */
static int pinner_fn(void *arg, int ready)
{
	int fd = open(PIN_FILE, O_CREAT | O_TRUNC | O_RDWR, 0600);
	static char buf[1 << 20];
	int i;

	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	memset(buf, 1, sizeof(buf));
	for (i = 0; fd >= 0 && i < 24; i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			return 10;
	tl_child_ready(ready);
	pause();
	return 0;
}

/* Anonymous memory: (long)arg MiB, then sleep; or grow 1 MiB at a time if < 0. */
static int anon_fn(void *arg, int ready)
{
	long mib = (long)arg;
	char *p;

	if (mib > 0) {
		tl_write_file("/proc/self/oom_score_adj", "-1000");
		p = malloc(mib * MiB);
		if (!p)
			return 11;
		memset(p, 1, mib * MiB);
		tl_child_ready(ready);
		pause();
	}
	tl_write_file("/proc/self/oom_score_adj", "0");
	tl_child_ready(ready);
	for (;;) {
		p = malloc(MiB);
		if (p)
			memset(p, 1, MiB);
	}
	return 0;
}

/*
 * The first victim's memory stays charged after it died (a tmpfs file it
 * wrote): once it has exited there is nothing more to wait for, and the
 * next OOM must kill again at once, not after the bound. /fp (48 MiB):
 * /fp/a pins 24 MiB, /fp/b holds 12 MiB (-1000) and a grower. The policy
 * kills /fp/a's task; the grower's next OOM is left to the kernel (the
 * policy's target is gone), which kills the grower.
 */
static void test_oom_forward_progress_pinned(void)
{
	int kill_pid[MAX_KILLS];
	double kill_ts[MAX_KILLS];
	struct oom_policies_bpf *skel;
	struct bpf_link *link = NULL;
	int pinner = -1, holder = -1, grower = -1, kfd = -1, n, pid;
	long expired;

	unlink(PIN_FILE);
	link = fp_setup("fp", "50331648", &skel);
	if (!link)
		goto out;
	pinner = tl_spawn_in_cg("fp/a", pinner_fn, NULL);
	holder = tl_spawn_in_cg("fp/b", anon_fn, (void *)12L);
	if (!CHECK(pinner > 0 && holder > 0, "hogs did not start: %d %d", pinner, holder))
		goto out;
	skel->bss->target_pid = pinner;
	expired = victims_stat("expired");
	kfd = tl_kmsg_open();
	grower = tl_spawn_in_cg("fp/b", anon_fn, (void *)-1L);
	pid = tl_wait_any(NULL, 60000);
	CHECK(pid == pinner, "first to die: expected the pinner (%d), got %d", pinner, pid);
	pid = tl_wait_any(NULL, 60000);
	CHECK(pid == grower, "second to die: expected the grower (%d), got %d", grower, pid);
	if (pid == grower)
		grower = -1;
	usleep(300000);
	n = tl_kmsg_kills(kfd, NULL, 0, kill_pid, kill_ts, MAX_KILLS);
	CHECK(n == 2, "expected 2 kills (the pinner, then the grower), got %d", n);
	if (n >= 2) {
		double gap = (kill_ts[1] - kill_ts[0]) * 1e3;

		printf("# pinned: second kill %.1f ms after the first (bound: victim_wait_ms)\n", gap);
		CHECK(kill_pid[0] == pinner && kill_pid[1] == pid,
		      "kills: expected %d then %d, got %d then %d", pinner, pid, kill_pid[0],
		      kill_pid[1]);
		CHECK(gap < 3000, "the second kill came %.0f ms after the first: it waited for the bound, not for the exit",
		      gap);
	}
	CHECK_EQ(victims_stat("expired"), expired, "victims given up on after victim_wait_ms");
	CHECK(topo_alive(holder), "the -1000 holder was killed");
	CHECK_EQ(tl_cg_event("fp", "oom_kill"), 2, "/fp memory.events oom_kill");
out:
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);
	oom_policies_bpf__destroy(skel);
	unlink(PIN_FILE);	/* frees the pinned pages: /fp/a can go */
	tl_cg_destroy("fp/b");
	tl_cg_destroy("fp/a");
	tl_cg_destroy("fp");
	while (tl_wait_any(NULL, 2000) > 0)
		;
}

/* ---- forward progress: a victim that cannot exit ---------------------- */

#define STUCK_RELEASE "/sys/module/stuck_mmap/parameters/release"
#define WAIT_MS_PARAM "/sys/module/bpf_oom/parameters/victim_wait_ms"

/* 24 MiB, then an mmap() that sleeps uninterruptibly (tests/kmod/stuck_mmap.c). */
static int stuck_fn(void *arg, int ready)
{
	char *p = malloc(24 * MiB);
	int fd = open("/dev/bpf_oom_stuck", O_RDWR);

	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	if (!p || fd < 0)
		return 10;
	memset(p, 1, 24 * MiB);
	tl_child_ready(ready);
	mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	return 0;
}

/* The state letter of /proc/<pid>/stat, or '?'. */
static char proc_state(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * A victim that can neither exit nor be reaped (it sleeps uninterruptibly
 * holding its mmap_lock): bpf-oom waits for it victim_wait_ms (set to 1 s
 * here), then lets the next OOM kill. /st (40 MiB): /st/a holds the stuck
 * task, /st/b a grower. The policy kills the stuck task first, then (its
 * target switched once the first kill is seen) the grower: not before the
 * bound, and well before the OOM reaper gives up on the stuck one (3 s).
 */
static void test_oom_forward_progress_stuck(void)
{
	int kill_pid[MAX_KILLS];
	double kill_ts[MAX_KILLS];
	struct oom_policies_bpf *skel;
	struct bpf_link *link = NULL;
	int stuck = -1, grower = -1, kfd = -1, n, i;
	long expired, marked;

	if (system("insmod /bpf-oom/stuck_mmap.ko")) {
		CHECK(0, "cannot load the test module stuck_mmap");
		return;
	}
	tl_write_file(WAIT_MS_PARAM, "1000");
	link = fp_setup("st", "41943040", &skel);
	if (!link)
		goto out;
	stuck = tl_spawn_in_cg("st/a", stuck_fn, NULL);
	if (!CHECK(stuck > 0, "the stuck task did not start: %d", stuck))
		goto out;
	for (i = 0; i < 100 && proc_state(stuck) != 'D'; i++)
		usleep(20000);
	if (!CHECK(proc_state(stuck) == 'D', "the stuck task is in state %c, not D", proc_state(stuck)))
		goto out;
	skel->bss->target_pid = stuck;
	expired = victims_stat("expired");
	marked = victims_stat("marked");
	kfd = tl_kmsg_open();
	grower = tl_spawn_in_cg("st/b", anon_fn, (void *)-1L);
	/* once the stuck task is a victim, the policy's next choice is the grower */
	for (i = 0; i < 3000 && victims_stat("marked") == marked; i++)
		usleep(1000);
	skel->bss->target_pid = grower;
	CHECK_EQ(tl_wait_any(NULL, 60000), grower, "the grower's death");
	usleep(300000);
	n = tl_kmsg_kills(kfd, NULL, 0, kill_pid, kill_ts, MAX_KILLS);
	CHECK(n == 2, "expected 2 kills (the stuck task, then the grower), got %d", n);
	if (n >= 2) {
		double gap = (kill_ts[1] - kill_ts[0]) * 1e3;

		printf("# stuck: second kill %.0f ms after the first (victim_wait_ms 1000; the reaper gives up after 3000)\n",
		       gap);
		CHECK(kill_pid[0] == stuck && kill_pid[1] == grower,
		      "kills: expected %d then %d, got %d then %d", stuck, grower, kill_pid[0],
		      kill_pid[1]);
		/* the bound counts in jiffies: up to one tick (10 ms at HZ=100) less */
		CHECK(gap >= 990, "the second kill came %.0f ms after the first, before victim_wait_ms (1000)",
		      gap);
		CHECK(gap < 2500, "the second kill came %.0f ms after the first: not bounded by victim_wait_ms",
		      gap);
	}
	CHECK_EQ(victims_stat("expired"), expired + 1, "victims given up on after victim_wait_ms");
out:
	tl_write_file(STUCK_RELEASE, "1");
	if (stuck > 0)
		CHECK(WIFSIGNALED(tl_reap(stuck, SIGKILL)), "the stuck task did not die once released");
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);
	oom_policies_bpf__destroy(skel);
	tl_cg_destroy("st/b");
	tl_cg_destroy("st/a");
	tl_cg_destroy("st");
	while (tl_wait_any(NULL, 2000) > 0)
		;
	tl_write_file(WAIT_MS_PARAM, "3000");
	CHECK(system("rmmod stuck_mmap") == 0, "rmmod stuck_mmap");
}

/*
 * victim_wait_ms takes 0 to 60000 ms; anything else is refused and changes
 * nothing: -EINVAL, or -ERANGE for a number beyond 32 bits (kstrtouint()).
 */
static void test_oom_victim_wait_ms_range(void)
{
	static const struct {
		const char *val;
		int err;
	} bad[] = {
		{ "60001", -EINVAL }, { "-1", -EINVAL }, { "abc", -EINVAL },
		{ "4294967296", -ERANGE },
	};
	unsigned long long v = 0;
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = tl_write_file(WAIT_MS_PARAM, bad[i].val);

		CHECK(err == bad[i].err, "victim_wait_ms=%s: expected %d, got %d", bad[i].val,
		      bad[i].err, err);
	}
	f = fopen(WAIT_MS_PARAM, "r");
	CHECK(f && fscanf(f, "%llu", &v) == 1 && v == 3000,
	      "victim_wait_ms after the refused writes: expected 3000, got %llu", v);
	if (f)
		fclose(f);
	CHECK_OK(tl_write_file(WAIT_MS_PARAM, "0"), "victim_wait_ms=0");
	CHECK_OK(tl_write_file(WAIT_MS_PARAM, "60000"), "victim_wait_ms=60000");
	CHECK_OK(tl_write_file(WAIT_MS_PARAM, "3000"), "victim_wait_ms=3000 (back to the default)");
}

static const struct tl_test tests[] = {
	{ "oom_precision", test_oom_precision },
	{ "oom_forward_progress_pinned", test_oom_forward_progress_pinned },
	{ "oom_forward_progress_stuck", test_oom_forward_progress_stuck },
	{ "oom_victim_wait_ms_range", test_oom_victim_wait_ms_range },
};

int main(int argc, char **argv)
{
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
