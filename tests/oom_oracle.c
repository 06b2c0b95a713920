// SPDX-License-Identifier: GPL-2.0
/*
 * oom_oracle.c - oom_kernel_default (bpf/) against the kernel's OOM killer.
 *
 * oom_kernel_default_oracle: generated topologies (a random cgroup tree,
 * random task sizes and oom_score_adj values; memcg OOMs at a random inner
 * cgroup, and global OOMs), each run out of memory for real with the policy
 * attached system-wide in shadow mode (dry_run): in every OOM the policy
 * records its choice and declines, then the kernel chooses and kills. The
 * two choices come from the same OOM, under the same oom_lock: every kill
 * the kernel makes must be the policy's choice of that OOM, or a process
 * the policy scored exactly equal (its recorded ties); every choice must
 * have a kill. Seeds 1..50 by default (BPF_OOM_ORACLE_SEEDS=FIRST:COUNT to
 * explore others); a failure names its seed and prints the topology.
 *
 * oom_kernel_default_acts / _dry_run: a designed memcg OOM whose victim is
 * clear by construction (the highest score by oom_score_adj, not the
 * largest task); acting, the policy kills it and nothing else, and the
 * kernel's log names the policy; in shadow mode, the kernel kills the same
 * process and the policy chose it and killed nothing.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "oom_kernel_default.skel.h"

#define MiB (1024UL * 1024)
#define MAX_NODES 8
#define MAX_TASKS 12
#define MAX_KILLS 24
#define CHOICES 64	/* as in the policy */
#define TIES 4		/* BPF_OOM_TIES */

/* ---- generated topologies --------------------------------------------- */

struct topo {
	unsigned int seed;
	bool global;
	int nnodes;
	int parent[MAX_NODES];		/* node 0 is /oracle */
	int nchildren[MAX_NODES];
	int limit_node, limit_mib;	/* memcg OOMs: where memory.max is */
	int ntasks;
	int node[MAX_TASKS + 1];	/* the last one is the trigger */
	int mib[MAX_TASKS + 1];
	int adj[MAX_TASKS + 1];
	bool sparse[MAX_TASKS + 1];	/* half of its memory in page tables */
	int pid[MAX_TASKS + 1];
};

static unsigned int rng;

static unsigned int rnd(unsigned int n)
{
	/* xorshift32: the same topologies on every libc */
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng % n;
}

static int rnd_adj(bool killable)
{
	static const int picks[] = { -1000, -999, -500, -1, 0, 0, 0, 1, 500, 999, 1000 };
	int adj;

	do
		adj = rnd(2) ? picks[rnd(sizeof(picks) / sizeof(picks[0]))] : (int)rnd(2001) - 1000;
	while (killable && adj == -1000);
	return adj;
}

static void node_path(const struct topo *t, int n, char *buf, size_t len)
{
	int chain[MAX_NODES], depth = 0, off;

	for (; n > 0 && depth < MAX_NODES; n = t->parent[n])
		chain[depth++] = n;
	off = snprintf(buf, len, "oracle");
	while (depth-- > 0 && off > 0 && (size_t)off < len)
		off += snprintf(buf + off, len - off, "/n%d", chain[depth]);
}

/* Is node @n in the subtree of node @top? */
static bool under(const struct topo *t, int n, int top)
{
	for (; n != top; n = t->parent[n])
		if (n == 0)
			return top == 0;
	return true;
}

/*
 * @avail_mib: MemAvailable (global OOMs: the trigger asks for more);
 * @k_global: the kernel's pages per oom_score_adj point in a global OOM
 * (totalpages / 1000).
 */
static void topo_generate(struct topo *t, unsigned int seed, bool global, int avail_mib,
			  long k_global)
{
	int leaves[MAX_NODES], nleaves = 0, inner[MAX_NODES], ninner = 0, dom[MAX_NODES], ndom = 0;
	int depth[MAX_NODES] = { 0 }, i, used = 0;

	memset(t, 0, sizeof(*t));
	t->seed = seed;
	t->global = global;
	rng = seed * 2654435761u + 1;
	t->nnodes = 2 + rnd(MAX_NODES - 1);
	for (i = 1; i < t->nnodes; i++) {
		int p = rnd(i);

		if (depth[p] >= 3)
			p = 0;
		t->parent[i] = p;
		depth[i] = depth[p] + 1;
		t->nchildren[p]++;
	}
	for (i = 0; i < t->nnodes; i++) {
		if (t->nchildren[i])
			inner[ninner++] = i;
		else
			leaves[nleaves++] = i;
	}
	t->limit_node = inner[rnd(ninner)];
	t->limit_mib = 16 + rnd(25);
	for (i = 0; i < nleaves; i++)
		if (under(t, leaves[i], t->limit_node))
			dom[ndom++] = leaves[i];
	t->ntasks = 3 + rnd(MAX_TASKS - 2);
	for (i = 0; i < t->ntasks; i++) {
		t->node[i] = leaves[rnd(nleaves)];
		t->adj[i] = rnd_adj(false);
		t->sparse[i] = !rnd(4);
		if (global) {
			t->mib[i] = 1 + rnd(10);
		} else if (under(t, t->node[i], t->limit_node)) {
			/* what is inside the domain leaves the trigger room */
			t->mib[i] = 1 + rnd(6);
			if (used + t->mib[i] > t->limit_mib - 10)
				t->mib[i] = 1;
			used += t->mib[i];
		} else {
			t->mib[i] = 1 + rnd(6);
		}
	}
	/*
	 * A close contest for the top: the last task becomes a rival of the
	 * task with the highest nominal score (MiB * 256 + adj * pages per
	 * point): a twin (same size and adj), one MiB apart with the adj that
	 * makes up for it, or the same size and adj held half in page tables
	 * (sparse). Their real scores then differ by a few pages of process
	 * overhead, page tables and RSS counting: where an inexact score
	 * picks the wrong one.
	 */
	{
		long k = global ? k_global : t->limit_mib * 256L / 1000, best = 0, score;
		int top = -1, r = t->ntasks - 1, d;

		for (i = 0; i < r; i++) {
			score = t->mib[i] * 256L + t->adj[i] * k;
			if (t->adj[i] != -1000 && (global || under(t, t->node[i], t->limit_node)) &&
			    (top < 0 || score > best)) {
				top = i;
				best = score;
			}
		}
		if (top >= 0 && k > 0 && rnd(4)) {
			if (!global && under(t, t->node[r], t->limit_node))
				used -= t->mib[r];
			t->node[r] = t->node[top];
			t->mib[r] = t->mib[top];
			t->adj[r] = t->adj[top];
			t->sparse[r] = t->sparse[top];
			d = rnd(3);
			if (d == 0) {
				t->sparse[r] = !t->sparse[top];
			} else if (d == 1) {
				/* one MiB more, fewer adj points for it (or the reverse) */
				d = rnd(2) ? 1 : -1;
				if (t->mib[r] + d < 1)
					d = 1;
				t->mib[r] += d;
				t->adj[r] -= d * (int)((256 + k / 2) / k);
				if (t->adj[r] < -999)
					t->adj[r] = -999;
				if (t->adj[r] > 1000)
					t->adj[r] = 1000;
			}
			if (!global && used + t->mib[r] > t->limit_mib - 10)
				t->mib[r] = 1;	/* no room in the domain: no contest */
		}
	}
	/* the trigger: in the domain, killable, allocates past the limit */
	t->node[t->ntasks] = global ? leaves[rnd(nleaves)] : dom[rnd(ndom)];
	t->adj[t->ntasks] = rnd_adj(true);
	t->mib[t->ntasks] = global ? avail_mib + 48 : t->limit_mib + 16;
}

static void topo_print(const struct topo *t)
{
	char path[256];
	int i;

	printf("# seed %u: %s OOM", t->seed, t->global ? "global" : "memcg");
	if (!t->global) {
		node_path(t, t->limit_node, path, sizeof(path));
		printf(" at /%s (memory.max %d MiB)", path, t->limit_mib);
	}
	printf("\n");
	for (i = 0; i <= t->ntasks; i++) {
		node_path(t, t->node[i], path, sizeof(path));
		printf("#   %s pid %d in /%s: %d MiB%s, oom_score_adj %d\n",
		       i == t->ntasks ? "trigger" : "task   ", t->pid[i], path, t->mib[i],
		       t->sparse[i] ? " (sparse)" : "", t->adj[i]);
	}
}

static int set_adj(int adj)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", adj);
	return tl_write_file("/proc/self/oom_score_adj", v);
}

/* A task of the topology: oom_score_adj @adj, @mib MiB, then it waits to die. */
static int spawn_task(const char *cg, int mib, int adj, bool sparse)
{
	char v[16];
	struct tl_holder h = { .mib = mib, .adj = v, .sparse = sparse };

	snprintf(v, sizeof(v), "%d", adj);
	return tl_spawn_in_cg(cg, tl_holder_fn, &h);
}

/*
 * The trigger: allocates @mib a MiB at a time (each step a chance to run
 * out), writes one byte to @done when it has it all, then waits to die.
 * Returns its pid; *@done_fd reads that byte, or EOF if it died first.
 */
static int spawn_trigger(const char *cg, int mib, int adj, int *done_fd)
{
	int done[2], go[2], pid;
	char c;

	if (pipe2(done, O_CLOEXEC))
		return -errno;
	if (pipe(go)) {
		close(done[0]);
		close(done[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		int i;

		/* nothing of the parent's (a BPF link would outlive its detach) */
		if (dup2(go[0], 3) != 3 || dup2(done[1], 4) != 4)
			_exit(113);
		go[0] = 3;
		done[1] = 4;
		close_range(5, ~0U, 0);
		if (tl_cg_enter(cg, 0) || set_adj(adj) || read(go[0], &c, 1) != 1)
			_exit(112);
		for (i = 0; i < mib; i++)
			if (tl_touch(MiB))
				_exit(11);
		if (write(done[1], "d", 1) != 1)
			_exit(12);
		pause();
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	*done_fd = done[0];
	if (pid < 0 || write(go[1], "g", 1) != 1) {
		close(go[1]);
		close(done[0]);
		*done_fd = -1;
		return -ECHILD;
	}
	close(go[1]);
	return pid;
}

static char kmsg[1 << 20];

static void topo_destroy(const struct topo *t)
{
	char path[256];
	int i;

	for (i = t->nnodes - 1; i >= 0; i--) {
		node_path(t, i, path, sizeof(path));
		tl_cg_destroy(path);
	}
	/* reap its processes (cgroup.kill is asynchronous), not the ballast */
	for (i = 0; i <= t->ntasks; i++)
		if (t->pid[i] > 0)
			waitpid(t->pid[i], NULL, 0);
}

static bool topo_build(struct topo *t)
{
	char path[256];
	int i;

	for (i = 0; i < t->nnodes; i++) {
		node_path(t, i, path, sizeof(path));
		if (!CHECK_OK(tl_cg_create(path), path))
			return false;
		if (t->nchildren[i] &&
		    !CHECK_OK(tl_cg_write(path, "cgroup.subtree_control", "+memory"), "+memory"))
			return false;
	}
	if (!t->global) {
		char max[32];

		node_path(t, t->limit_node, path, sizeof(path));
		snprintf(max, sizeof(max), "%lu", t->limit_mib * MiB);
		if (!CHECK_OK(tl_cg_write(path, "memory.max", max), "memory.max"))
			return false;
		tl_cg_write(path, "memory.swap.max", "0");
	}
	for (i = 0; i < t->ntasks; i++) {
		node_path(t, t->node[i], path, sizeof(path));
		t->pid[i] = spawn_task(path, t->mib[i], t->adj[i], t->sparse[i]);
		if (!CHECK(t->pid[i] > 0, "seed %u: task %d did not start: %d", t->seed, i, t->pid[i]))
			return false;
	}
	return true;
}

struct oracle_stats {
	int kills, ties, choices;
};

/* One topology: its OOMs, the policy's choices against the kernel's kills. */
static void oracle_run(struct oom_kernel_default_bpf *skel, struct topo *t, struct oracle_stats *st)
{
	struct oom_kernel_default_bpf__bss *bss = skel->bss;
	int kills[MAX_KILLS], nkills, kfd, done_fd, i, k;
	unsigned long long domain = 0;
	u64 first, n;
	char path[256];
	bool ok = true;

	if (!topo_build(t)) {
		topo_print(t);
		topo_destroy(t);
		return;
	}
	if (!t->global) {
		node_path(t, t->limit_node, path, sizeof(path));
		domain = tl_cg_id(path);
	}
	kfd = tl_kmsg_open();
	first = __atomic_load_n(&bss->nr_choices, __ATOMIC_ACQUIRE);
	node_path(t, t->node[t->ntasks], path, sizeof(path));
	t->pid[t->ntasks] = spawn_trigger(path, t->mib[t->ntasks], t->adj[t->ntasks], &done_fd);
	if (!CHECK(t->pid[t->ntasks] > 0, "seed %u: trigger did not start", t->seed)) {
		close(kfd);
		topo_destroy(t);
		return;
	}
	tl_wait_done(done_fd, "trigger's done pipe");
	nkills = tl_kmsg_kills(kfd, kmsg, sizeof(kmsg), kills, NULL, MAX_KILLS);
	close(kfd);
	n = __atomic_load_n(&bss->nr_choices, __ATOMIC_ACQUIRE) - first;

	ok &= CHECK(n > 0 && n <= CHOICES, "seed %u: %llu choices by the policy (want 1..%d)",
		    t->seed, (unsigned long long)n, CHOICES);
	for (k = 0, i = 0; ok && i < (int)n; i++) {
		unsigned int slot = (first + i) % CHOICES, j;
		int chosen = bss->choice_pid[slot], killed;
		bool tie = false;

		ok &= CHECK(bss->choice_memcg[slot] == domain,
			    "seed %u, OOM %d: domain cgroup id %llu, expected %llu", t->seed, i,
			    (unsigned long long)bss->choice_memcg[slot], domain);
		if (!chosen)
			continue;	/* an earlier victim still exiting: no kill either */
		if (!CHECK(k < nkills, "seed %u, OOM %d: policy chose %d (%lld points), kernel killed nobody",
			   t->seed, i, chosen, (long long)bss->choice_points[slot])) {
			ok = false;
			break;
		}
		killed = kills[k++];
		/*
		 * Both scans go in the same order and keep the last of equal
		 * scores: even a tie must go the same way. The ties are only
		 * told, to tell an ordering bug from a scoring one.
		 */
		for (j = 0; j < bss->choice_nr_tied[slot] && j < TIES; j++)
			tie |= bss->choice_tied[slot][j] == killed;
		if (killed != chosen) {
			ok &= CHECK(0, "seed %u, OOM %d: kernel killed %d, policy chose %d (%lld points, %u candidates, %u ties%s)",
				    t->seed, i, killed, chosen, (long long)bss->choice_points[slot],
				    bss->choice_candidates[slot], bss->choice_nr_tied[slot],
				    tie ? ", the kernel's victim among them: an ordering difference" : "");
			break;
		}
		st->ties += bss->choice_nr_tied[slot] > 0;
		st->kills++;
	}
	st->choices += n;
	if (ok)
		ok &= CHECK(k == nkills, "seed %u: kernel killed %d times, policy chose %d victims",
			    t->seed, nkills, k);
	if (!ok) {
		topo_print(t);
		for (i = 0; i < nkills; i++)
			printf("#   kernel kill %d: pid %d\n", i, kills[i]);
	}
	topo_destroy(t);
}

/* ---- global OOMs: everything else out of reach ------------------------- */

static struct oom_kernel_default_bpf *open_policy(bool dry_run)
{
	struct oom_kernel_default_bpf *skel = oom_kernel_default_bpf__open();

	if (!CHECK_PTR(skel, "open oom_kernel_default"))
		return NULL;
	skel->rodata->dry_run = dry_run;
	if (!CHECK_OK(oom_kernel_default_bpf__load(skel), "load oom_kernel_default")) {
		oom_kernel_default_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void test_oracle(void)
{
	unsigned int first = 1, count = 50, s;
	struct oracle_stats st = { 0 };
	struct oom_kernel_default_bpf *skel;
	struct tl_saved_adj saved;
	struct bpf_link *link;
	const char *env = getenv("BPF_OOM_ORACLE_SEEDS");
	int ballast = -1, nglobal = 0, nmemcg = 0;

	if (env && sscanf(env, "%u:%u", &first, &count) != 2)
		CHECK(0, "BPF_OOM_ORACLE_SEEDS=%s: expected FIRST:COUNT", env);
	skel = open_policy(true);
	if (!skel)
		return;
	link = bpf_map__attach_struct_ops(skel->maps.oom_kernel_default);
	if (!CHECK_PTR(link, "attach oom_kernel_default system-wide"))
		goto out;
	tl_cg_destroy("oracle");

	/* memcg OOMs: three seeds in five */
	for (s = first; s < first + count && !tl_failed(); s++) {
		struct topo t;

		if (s % 5 == 0 || s % 5 == 2)
			continue;
		topo_generate(&t, s, false, 0, 0);
		oracle_run(skel, &t, &st);
		nmemcg++;
	}

	/*
	 * Global OOMs: every other process shielded (-1000, restored after), a
	 * -1000 ballast holding all but ~112 MiB, so that the topology alone
	 * runs the system out of memory, quickly.
	 */
	tl_shield_all(&saved);
	if (!tl_failed()) {
		long avail = tl_meminfo_mib("MemAvailable");

		if (CHECK(avail > 320, "MemAvailable %ld MiB, want > 320", avail) &&
		    CHECK_OK(tl_cg_create("oracle_ballast"), "mkdir /oracle_ballast")) {
			ballast = spawn_task("oracle_ballast", avail - 112, -1000, false);
			CHECK(ballast > 0, "ballast of %ld MiB did not start: %d", avail - 112, ballast);
		}
	}
	for (s = first; s < first + count && ballast > 0 && !tl_failed(); s++) {
		struct topo t;

		if (s % 5 != 0 && s % 5 != 2)
			continue;
		topo_generate(&t, s, true, (int)tl_meminfo_mib("MemAvailable"),
			      tl_meminfo_mib("MemTotal") * 256 / 1000);
		oracle_run(skel, &t, &st);
		nglobal++;
	}
	tl_cg_destroy("oracle_ballast");
	while (tl_wait_any(NULL, 5000) > 0)
		;
	tl_unshield_all(&saved);
	tl_cg_destroy("oracle");
	printf("# oracle: %d memcg + %d global topologies, %d OOMs, %d kills, all the policy's choice (%d among equal scores)\n",
	       nmemcg, nglobal, st.choices, st.kills, st.ties);
	printf("# RSS read as %s\n", skel->bss->rss_precise_used ?
	       "exact per-CPU sums (the kernel's get_mm_counter_sum())" :
	       "central counts (the kernel's get_mm_counter())");
	CHECK_EQ(skel->bss->bpf_oom_percpu_fallbacks, 0, "per-CPU sums that fell back to the count");
	CHECK_EQ(tl_kmsg_lost, 0, "kernel log records overwritten before the test read them");
	CHECK_EQ(nmemcg + nglobal, count, "topologies run");
	CHECK_EQ(skel->bss->kills, 0, "kills by the policy in shadow mode");
	CHECK_EQ(skel->bss->declines, skel->bss->invocations, "declines (every OOM, in shadow mode)");
out:
	bpf_link__destroy(link);
	oom_kernel_default_bpf__destroy(skel);
}

/* ---- the designed scenario, acting and in shadow mode ------------------ */

/*
 * /okd (memory.max 48 MiB): a 8 MiB at 0, b 12 MiB at -500, c 6 MiB at
 * +600, and a trigger at 0 that wants 22 MiB. At the OOM (the trigger near
 * 18 MiB) the scores in pages are about a 2100, b 3100 - 500 * 12 = -3000,
 * c 1600 + 600 * 12 = 8800, trigger 4700: c, neither the largest task nor
 * the one allocating. Killing c leaves the trigger room: one kill.
 */
static void designed(bool dry_run)
{
	static const struct { const char *cg; int mib, adj; } tasks[] = {
		{ "okd/a", 8, 0 }, { "okd/b", 12, -500 }, { "okd/c", 6, 600 },
	};
	struct oom_kernel_default_bpf *skel = open_policy(dry_run);
	struct bpf_link *link = NULL;
	int pids[3], kills[MAX_KILLS], nkills, kfd, done_fd, trigger, i;
	char want[128];

	if (!skel)
		return;
	tl_cg_destroy("okd");
	if (!CHECK_OK(tl_cg_create("okd"), "mkdir /okd") ||
	    !CHECK_OK(tl_cg_write("okd", "memory.max", "50331648"), "memory.max 48M") ||
	    !CHECK_OK(tl_cg_write("okd", "cgroup.subtree_control", "+memory"), "+memory"))
		goto out;
	tl_cg_write("okd", "memory.swap.max", "0");
	for (i = 0; i < 3; i++) {
		if (!CHECK_OK(tl_cg_create(tasks[i].cg), tasks[i].cg))
			goto out;
		pids[i] = spawn_task(tasks[i].cg, tasks[i].mib, tasks[i].adj, false);
		if (!CHECK(pids[i] > 0, "%s did not start", tasks[i].cg))
			goto out;
	}
	if (!CHECK_OK(tl_cg_create("okd/t"), "mkdir /okd/t"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.oom_kernel_default);
	if (!CHECK_PTR(link, "attach oom_kernel_default"))
		goto out;
	kfd = tl_kmsg_open();
	trigger = spawn_trigger("okd/t", 22, 0, &done_fd);
	if (!CHECK(trigger > 0, "trigger did not start"))
		goto out;
	tl_wait_done(done_fd, "trigger's done pipe");
	nkills = tl_kmsg_kills(kfd, kmsg, sizeof(kmsg), kills, NULL, MAX_KILLS);
	close(kfd);

	CHECK_EQ(nkills, 1, "kills");
	if (nkills >= 1)
		CHECK(kills[0] == pids[2], "killed pid %d, expected c (pid %d; a %d, b %d, trigger %d)",
		      kills[0], pids[2], pids[0], pids[1], trigger);
	/* who killed: the policy names itself, the kernel says what ran out */
	snprintf(want, sizeof(want), "%s: Killed process %d ",
		 dry_run ? "Memory cgroup out of memory" : "BPF OOM policy oom_kernel_default", pids[2]);
	CHECK(strstr(kmsg, want), "no '%s' in the kernel log", want);
	CHECK_EQ(skel->bss->nr_choices, 1, "choices");
	CHECK(skel->bss->choice_pid[0] == pids[2], "policy chose %d, expected c (pid %d)",
	      skel->bss->choice_pid[0], pids[2]);
	CHECK_EQ(skel->bss->kills, dry_run ? 0 : 1, "kills by the policy");
	for (i = 0; i < 2; i++)
		CHECK(waitpid(pids[i], NULL, WNOHANG) == 0, "%s died too", tasks[i].cg);
	CHECK(waitpid(trigger, NULL, WNOHANG) == 0, "the trigger died");
out:
	bpf_link__destroy(link);
	tl_cg_destroy("okd/t");
	for (i = 2; i >= 0; i--)
		tl_cg_destroy(tasks[i].cg);
	tl_cg_destroy("okd");
	while (tl_wait_any(NULL, 5000) > 0)
		;
	oom_kernel_default_bpf__destroy(skel);
}

static void test_acts(void)
{
	designed(false);
}

static void test_dry_run(void)
{
	designed(true);
}

static const struct tl_test tests[] = {
	{ "oom_kernel_default_acts", test_acts },
	{ "oom_kernel_default_dry_run", test_dry_run },
	{ "oom_kernel_default_oracle", test_oracle },
};

int main(int argc, char **argv)
{
	tl_libbpf_quiet();
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
