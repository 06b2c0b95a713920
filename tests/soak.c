// SPDX-License-Identifier: GPL-2.0
/*
 * soak.c - OOMs everywhere for a while (make soak), invariants checked all
 * along. Not part of make check.
 *
 *   soak [SECONDS]     default 600, or BPF_OOM_SOAK_SECS
 *
 * /soak holds NR_MEMCGS leaf memcgs of 24 MiB, each with a bystander (2 MiB,
 * killable) and a worker that grows until it is killed and is started again
 * at once, so the memcgs run out of memory over and over, often at the same
 * time; /soak/g gets a hog 10 s in and 30 s after each one died, which
 * grows until a system-wide OOM kills it (a -1000 ballast holds all but
 * SOAK_HEADROOM_MIB of the memory, so that it gets there soon in any VM).
 * Policies:
 * tests/progs/soak_policy.bpf.c system-wide (kills the biggest task of the
 * biggest leaf; leaves /soak/m5's OOMs to the kernel's fallback),
 * bpf/oom_largest_leaf on /soak declining (the chain goes up), a declining
 * policy attached to and detached from /soak/m0 every 100 ms (churn), and a
 * PSI policy counting memory-pressure events on /soak.
 *
 * Invariants:
 *  - a bystander never dies: killing the worker (or the hog) alone always
 *    resolves the OOM, so a dead bystander is a second kill in an episode
 *    or a kill outside the OOM's domain; it fails the soak at once;
 *  - every death is an OOM kill (SIGKILL), and the kernel's OOM kill count
 *    (/proc/vmstat oom_kill) rose by exactly the deaths the soak saw, and
 *    each memcg's memory.events.local oom_kill by its workers' deaths;
 *  - the churn's attaches always succeed (its slot is its own);
 *  - at the end nothing is left attached, no PSI trigger, no dying memcg,
 *    no victim record.
 * The host scans the console for kernel warnings afterwards, as for make check.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "oom_topo.h"
#include "oom_largest_leaf.skel.h"
#include "oom_policies.skel.h"
#include "psi_policies.skel.h"
#include "soak_policy.skel.h"

#define NR_MEMCGS 6
#define MAX_CHILDREN 64
#define SOAK_HEADROOM_MIB 384	/* left beside the ballast: memcgs, hog, the rest */

enum kind { BYSTANDER, WORKER, HOG };
static const char *const kind_name[] = { "bystander", "worker", "hog" };

static struct {
	int pid;
	enum kind kind;
	int memcg;
} children[MAX_CHILDREN];

static volatile int stop;

static int bystander_fn(void *arg, int ready)
{
	char *p = malloc(2 * MiB);

	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	if (p)
		memset(p, 1, 2 * MiB);
	tl_child_ready(ready);
	for (;;)
		pause();
	return 0;
}

/* Grow 1 MiB at a time until killed. */
static int grower_fn(void *arg, int ready)
{
	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	tl_child_ready(ready);
	for (;;) {
		char *p = malloc(MiB);

		if (p)
			memset(p, 1, MiB);
	}
	return 0;
}

/* The ballast: @arg MiB, never an OOM victim (-1000). */
static int ballast_fn(void *arg, int ready)
{
	size_t bytes = (long)arg * MiB;
	char *p;

	tl_write_file("/proc/self/oom_score_adj", "-1000");
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 10;
	memset(p, 1, bytes);
	tl_child_ready(ready);
	pause();
	return 0;
}

static void track(int pid, enum kind kind, int memcg)
{
	int i;

	for (i = 0; i < MAX_CHILDREN; i++) {
		if (!children[i].pid) {
			children[i].pid = pid;
			children[i].kind = kind;
			children[i].memcg = memcg;
			return;
		}
	}
	CHECK(0, "more than %d children", MAX_CHILDREN);
}

/*
 * A child holds a copy of every fd of the soak, the churn's link among them,
 * from fork() until it closes them (before it says it is ready). A churn
 * detach in that window only drops the soak's reference: the policy stays
 * attached until the child's close, and the next attach finds the slot
 * taken (-EBUSY). Seen once on the debug kernel: "attach: cgroup N already
 * has a bpf_oom_ops" 35 ms before the previous link's "detached", which a
 * detach that dropped the last reference would have logged first; nothing
 * but a child holds another reference. Forks and the churn's detach take
 * turns.
 */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;

static int start(enum kind kind, int memcg)
{
	char cg[32];
	int pid;

	if (kind == HOG)
		snprintf(cg, sizeof(cg), "soak/g");
	else
		snprintf(cg, sizeof(cg), "soak/m%d", memcg);
	pthread_mutex_lock(&fork_lock);
	pid = tl_spawn_in_cg(cg, kind == BYSTANDER ? bystander_fn : grower_fn, NULL);
	pthread_mutex_unlock(&fork_lock);
	if (CHECK(pid > 0, "cannot start a %s in %s: %d", kind_name[kind], cg, pid))
		track(pid, kind, memcg);
	return pid;
}

static long vmstat(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");
	size_t n = strlen(key);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

/* ---- churn: attach and detach a policy on /soak/m0 -------------------- */

static struct oom_policies_bpf *churn_skel;
static long churn_cycles, churn_errors;

static void *churn_fn(void *arg)
{
	(void)arg;
	while (!stop) {
		struct bpf_link *link = bpf_map__attach_struct_ops(churn_skel->maps.decline);

		if (!link) {
			churn_errors++;
			printf("# churn: attach to /soak/m0 failed: %s\n", strerror(errno));
		}
		usleep(100000);
		pthread_mutex_lock(&fork_lock);
		bpf_link__destroy(link);
		pthread_mutex_unlock(&fork_lock);
		churn_cycles++;
		usleep(100000);
	}
	return NULL;
}

/* ---- the end: nothing left behind -------------------------------------- */

static int proc_lines(const char *path)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		n += line[0] != '#';
	if (f)
		fclose(f);
	return f ? n : -1;
}

static void check_nothing_left(void)
{
	unsigned long long dying = 1;
	int i, triggers = -1;

	for (i = 0; i < 100; i++) {
		FILE *f = fopen("/proc/bpf_oom/psi", "r");

		if (f && fscanf(f, "triggers %d", &triggers) != 1)
			triggers = -1;
		if (f)
			fclose(f);
		if (!triggers)
			break;
		usleep(50000);
	}
	CHECK_EQ(triggers, 0, "PSI triggers left");
	CHECK_EQ(proc_lines("/proc/bpf_oom/policies"), 0, "policies still listed");
	tl_write_file("/proc/sys/vm/drop_caches", "3");
	for (i = 0; i < 200; i++) {
		if (!tl_cg_read_key("", "cgroup.stat", "nr_dying_descendants", &dying) && !dying)
			break;
		usleep(50000);
	}
	CHECK_EQ(dying, 0, "memcgs still dying 10 s after the end");
	/* the victims file: one header line, then one line per record */
	for (i = 0; i < 100 && proc_lines("/proc/bpf_oom/victims") > 1; i++)
		usleep(50000);
	CHECK_EQ(proc_lines("/proc/bpf_oom/victims"), 1, "victim records left (header only expected)");
}

static void test_soak(void)
{
	const char *env = getenv("BPF_OOM_SOAK_SECS");
	long secs = env ? atol(env) : 600, worker_kills[NR_MEMCGS] = { 0 }, hog_kills = 0;
	struct oom_largest_leaf_bpf *decliner = NULL;
	struct soak_policy_bpf *acting = NULL;
	struct psi_policies_bpf *psi = NULL;
	struct bpf_link *l_act = NULL, *l_decl = NULL, *l_psi = NULL;
	double t0 = tl_now(), next_hog = t0 + 10, last_report = t0;
	long oom_kills0 = vmstat("oom_kill"), deaths = 0;
	bool hog_running = false, churning = false;
	int i, ballast = -1;
	long avail;
	pthread_t churn;
	char cg[32];

	tl_write_file("/proc/self/oom_score_adj", "-1000");
	CHECK_OK(tl_cg_create("soak"), "mkdir /soak");
	tl_cg_write("soak", "cgroup.subtree_control", "+memory");
	tl_cg_create("soak/g");
	for (i = 0; i < NR_MEMCGS; i++) {
		snprintf(cg, sizeof(cg), "soak/m%d", i);
		tl_cg_create(cg);
		tl_cg_write(cg, "memory.max", "25165824");
		tl_cg_write(cg, "memory.swap.max", "0");
	}

	acting = soak_policy_bpf__open();
	if (acting) {
		acting->rodata->decline_cgroup_id = tl_cg_id("soak/m5");
		if (soak_policy_bpf__load(acting)) {
			soak_policy_bpf__destroy(acting);
			acting = NULL;
		}
	}
	decliner = oom_largest_leaf_bpf__open();
	churn_skel = oom_policies_bpf__open();
	psi = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(acting, "load soak_policy") || !CHECK_PTR(decliner, "open oom_largest_leaf") ||
	    !CHECK_PTR(churn_skel, "open oom_policies") || !CHECK_PTR(psi, "load psi_policies"))
		goto out;
	decliner->rodata->decline_in_cgroups = true;
	decliner->struct_ops.oom_largest_leaf->cgroup_id = tl_cg_id("soak");
	bpf_map__set_autocreate(churn_skel->maps.kill_pid, false);
	bpf_program__set_autoload(churn_skel->progs.kill_pid_oom, false);
	bpf_map__set_autocreate(churn_skel->maps.claim, false);
	bpf_map__set_autocreate(churn_skel->maps.no_handler, false);
	churn_skel->struct_ops.decline->cgroup_id = tl_cg_id("soak/m0");
	if (!CHECK_OK(oom_largest_leaf_bpf__load(decliner), "load oom_largest_leaf") ||
	    !CHECK_OK(oom_policies_bpf__load(churn_skel), "load oom_policies"))
		goto out;
	psi->bss->count_cgroup_id = tl_cg_id("soak");
	l_act = bpf_map__attach_struct_ops(acting->maps.soak_policy);
	l_decl = bpf_map__attach_struct_ops(decliner->maps.oom_largest_leaf);
	l_psi = bpf_map__attach_struct_ops(psi->maps.count);
	if (!CHECK_PTR(l_act, "attach soak_policy system-wide") ||
	    !CHECK_PTR(l_decl, "attach oom_largest_leaf to /soak") ||
	    !CHECK_PTR(l_psi, "attach the PSI counter to /soak"))
		goto out;
	churning = !pthread_create(&churn, NULL, churn_fn, NULL);
	CHECK(churning, "cannot start the churn thread");

	for (i = 0; i < NR_MEMCGS; i++)
		start(BYSTANDER, i);
	for (i = 0; i < NR_MEMCGS; i++)
		start(WORKER, i);
	/*
	 * A -1000 ballast holds all but SOAK_HEADROOM_MIB of what is
	 * available, so that the global hog reaches a global OOM in seconds
	 * whatever the VM's size: in the debug kernel's 2 GiB VM, under TCG,
	 * it had not got there in 120 s.
	 */
	avail = tl_meminfo_mib("MemAvailable");
	if (avail > SOAK_HEADROOM_MIB + 64) {
		tl_cg_create("soak/ballast");
		ballast = tl_spawn_in_cg("soak/ballast", ballast_fn,
					 (void *)(avail - SOAK_HEADROOM_MIB));
		CHECK(ballast > 0, "ballast of %ld MiB did not start: %d", avail - SOAK_HEADROOM_MIB,
		      ballast);
	}

	printf("# soak: %ld s, %d memcgs of 24 MiB, a global hog 10 s in and 30 s after each one died\n", secs, NR_MEMCGS);
	while (!tl_failed() && tl_now() - t0 < secs) {
		int status, pid = tl_wait_any(&status, 100);

		if (!hog_running && tl_now() >= next_hog)
			hog_running = start(HOG, 0) > 0;
		if (tl_now() - last_report >= 60) {
			last_report = tl_now();
			printf("# soak: %.0f s: %ld deaths, %ld by global OOM; policy %llu kills, %llu declines; churn %ld cycles; PSI events %llu\n",
			       last_report - t0, deaths, hog_kills,
			       (unsigned long long)acting->bss->kills,
			       (unsigned long long)acting->bss->declines, churn_cycles,
			       (unsigned long long)psi->bss->events);
		}
		if (pid <= 0)
			continue;
		for (i = 0; i < MAX_CHILDREN && children[i].pid != pid; i++)
			;
		if (!CHECK(i < MAX_CHILDREN, "unknown child %d died", pid))
			continue;
		children[i].pid = 0;
		deaths++;
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "%s of m%d: died with status 0x%x, not by an OOM kill",
		      kind_name[children[i].kind], children[i].memcg, status);
		switch (children[i].kind) {
		case BYSTANDER:
			CHECK(0, "the bystander of /soak/m%d was killed after %.0f s: a second kill in an episode, or one outside its domain",
			      children[i].memcg, tl_now() - t0);
			break;
		case WORKER:
			worker_kills[children[i].memcg]++;
			start(WORKER, children[i].memcg);
			break;
		case HOG:
			hog_kills++;
			hog_running = false;
			next_hog = tl_now() + 30;
			break;
		}
	}
	/*
	 * Drain: stop the growers (SIGSTOP; a kill already under way still
	 * lands) and collect the OOM kills still in flight, so that the
	 * counters below compare like with like. What is left is ours to kill.
	 */
	stop = 1;
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid && children[i].kind != BYSTANDER)
			kill(children[i].pid, SIGSTOP);
	for (;;) {
		int status, j, pid = tl_wait_any(&status, 2000);

		if (pid <= 0)
			break;
		for (j = 0; j < MAX_CHILDREN && children[j].pid != pid; j++)
			;
		if (j == MAX_CHILDREN)
			continue;
		children[j].pid = 0;
		deaths++;
		if (!CHECK(children[j].kind != BYSTANDER && WIFSIGNALED(status) &&
			   WTERMSIG(status) == SIGKILL,
			   "%s of m%d died while draining (status 0x%x)", kind_name[children[j].kind],
			   children[j].memcg, status))
			continue;
		if (children[j].kind == WORKER)
			worker_kills[children[j].memcg]++;
		else
			hog_kills++;
	}
	if (churning)
		pthread_join(churn, NULL);
	CHECK_EQ(churn_errors, 0, "churn attaches that failed");
	CHECK_GT(psi->bss->events, 0, "PSI events on /soak");
	CHECK_GT(hog_kills, 0, "system-wide OOMs");
	CHECK_GT(acting->bss->declines, 0, "OOMs left to the kernel's fallback (/soak/m5)");
	CHECK_GT(worker_kills[5], 0, "kills in /soak/m5, by the kernel's fallback");
	CHECK_EQ(vmstat("oom_kill") - oom_kills0, deaths, "kernel OOM kills vs deaths seen");
	for (i = 0; i < NR_MEMCGS; i++) {
		unsigned long long local = 0;

		snprintf(cg, sizeof(cg), "soak/m%d", i);
		tl_cg_read_key(cg, "memory.events.local", "oom_kill", &local);
		CHECK_EQ(local, worker_kills[i], "memory.events.local oom_kill vs worker deaths");
	}
	printf("# soak: done after %.0f s: %ld deaths (%ld by global OOM), policy %llu kills and %llu declines, churn %ld cycles, PSI events %llu\n",
	       tl_now() - t0, deaths, hog_kills, (unsigned long long)acting->bss->kills,
	       (unsigned long long)acting->bss->declines, churn_cycles,
	       (unsigned long long)psi->bss->events);
	{
		char line[256];
		FILE *f = fopen("/proc/bpf_oom/victims", "r");

		if (f && fgets(line, sizeof(line), f))
			printf("# soak: /proc/bpf_oom/victims: %s", line);
		if (f)
			fclose(f);
	}
out:
	stop = 1;
	bpf_link__destroy(l_act);
	bpf_link__destroy(l_decl);
	bpf_link__destroy(l_psi);
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid)
			tl_reap(children[i].pid, SIGKILL);
	if (ballast > 0)
		tl_reap(ballast, SIGKILL);
	tl_cg_destroy("soak/ballast");
	tl_cg_destroy("soak/g");
	for (i = 0; i < NR_MEMCGS; i++) {
		snprintf(cg, sizeof(cg), "soak/m%d", i);
		tl_cg_destroy(cg);
	}
	tl_cg_destroy("soak");
	soak_policy_bpf__destroy(acting);
	oom_largest_leaf_bpf__destroy(decliner);
	oom_policies_bpf__destroy(churn_skel);
	psi_policies_bpf__destroy(psi);
	check_nothing_left();
}

static const struct tl_test tests[] = {
	{ "soak", test_soak },
};

int main(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9') {
		setenv("BPF_OOM_SOAK_SECS", argv[1], 1);
		argc = 1;
	}
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
