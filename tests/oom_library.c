// SPDX-License-Identifier: GPL-2.0
/*
 * oom_library.c - the reference policies of bpf/, each on a scenario built
 * for its rule, acting and in shadow mode (dry_run).
 *
 * oom_largest_task_hog (systemd #25853): /olt/term, a terminal scope of
 * 2,000 small processes and a hog that allocates until /olt runs out;
 * /olt/svc, a service of three 8 MiB processes with memory.oom.group=1.
 * The largest leaf is term and its largest process the hog. Acting, the
 * policy kills the hog and nothing else: the 2,000 and the service live.
 * In shadow mode the policy chose the hog and killed nothing; the kernel
 * decided (its log names the memcg OOM, not the policy).
 *
 * oom_largest_task_group: /olg/svc (memory.oom.group=1), three 12 MiB
 * processes and a fourth allocating until /olg runs out, is the largest
 * leaf; /olg/term holds 50 small processes and a 16 MiB one, the largest
 * single process, the kernel's own choice. Acting, all four of svc die (the
 * kernel's group kill through the policy's one kill) and term is
 * untouched; in shadow mode the policy chose a process of svc, killed
 * nothing, and the kernel killed term's 16 MiB process first.
 *
 * Every round also follows the decision records with `bpf-oom events
 * --json` and checks each record against what happened: one per OOM the
 * policy saw, its action (kill, or dry_run with the kernel's victim of the
 * same episode beside the policy's), the victim, the OOM's domain, and the
 * episode number the kernel log shows next to the OOM report.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "oom_largest_task.skel.h"

#define MiB (1024UL * 1024)
#define MAX_SMALL 2000

static char kmsg[1 << 20];

/*
 * @n small processes in @cg: forked from inside @cg, so that what a fork
 * allocates (page tables, kernel stack) is charged there. Each closes every
 * descriptor (a policy's link among them) and waits to die.
 */
static int spawn_small(const char *cg, int n, int *pids)
{
	int i;

	if (tl_cg_enter(cg, 0))
		return -1;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close_range(3, ~0U, 0);
			pause();
			_exit(0);
		}
		if (pids[i] < 0)
			break;
	}
	tl_cg_enter("", 0);	/* back to the root cgroup */
	return i == n ? 0 : -1;
}

/* A process in @cg that allocates @mib a MiB at a time, then says so on *@done_fd. */
static int spawn_grower(const char *cg, int mib, int *done_fd)
{
	int done[2], pid, i;

	if (pipe2(done, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		/* nothing of the parent's (a BPF link would outlive its detach) */
		if (dup2(done[1], 3) != 3)
			_exit(113);
		done[1] = 3;
		close_range(4, ~0U, 0);
		if (tl_cg_enter(cg, 0))
			_exit(112);
		for (i = 0; i < mib; i++)
			if (tl_touch(MiB))
				_exit(11);
		if (write(done[1], "d", 1) != 1)
			_exit(12);
		pause();
		_exit(0);
	}
	close(done[1]);
	*done_fd = done[0];
	if (pid < 0) {
		close(done[0]);
		*done_fd = -1;
		return -errno;
	}
	return pid;
}

/* Wait up to 10 s for all @n processes to die (a killed one still exits). */
static int wait_dead(const int *pids, int n)
{
	int i, left = n, dead[8] = { 0 };

	for (i = 0; i < 1000 && left; i++) {
		int j;

		for (j = 0, left = 0; j < n && j < 8; j++) {
			if (!dead[j] && waitpid(pids[j], NULL, WNOHANG) == pids[j])
				dead[j] = 1;
			left += !dead[j];
		}
		if (left)
			usleep(10000);
	}
	return left;
}

/* ---- decision records ------------------------------------------------- */

static char events_out[1 << 16], events_err[4096];

/* The number after @prefix in the kernel log (kmsg[]), -1 if none. */
static long long kmsg_number_after(const char *prefix)
{
	const char *k = strstr(kmsg, prefix);

	return k ? atoll(k + strlen(prefix)) : -1;
}

static bool events_begin(struct tl_events *ev)
{
	return CHECK_OK(tl_events_start(ev), "bpf-oom events --json started");
}

/*
 * Stop the events command; check that it exited 0 (nothing lost) and wrote
 * @want records of policy @policy for memcg OOMs in @domain; return the
 * records (events_out, one per line) or NULL.
 */
static const char *events_end(struct tl_events *ev, long want, const char *domain)
{
	const char *line;
	long n = 0;
	int rc;

	/* an episode's record is out when it ends, after the kill was seen */
	tl_events_wait(ev, want, 10000);
	rc = tl_events_stop(ev, events_out, sizeof(events_out), events_err, sizeof(events_err));

	for (line = events_out; *line; line = strchr(line, '\n') + 1, n++) {
		char s[256];

		if (!strchr(line, '\n'))
			break;
		CHECK(!tl_json_str(line, NULL, "policy", s, sizeof(s)) &&
		      !strcmp(s, "oom_largest_task"), "record %ld: policy %s", n, s);
		CHECK(!tl_json_str(line, NULL, "trigger", s, sizeof(s)) && !strcmp(s, "memcg_oom"),
		      "record %ld: trigger %s, expected memcg_oom", n, s);
		CHECK(!tl_json_str(line, NULL, "domain_path", s, sizeof(s)) && !strcmp(s, domain),
		      "record %ld: domain %s, expected %s", n, s, domain);
	}
	CHECK_EQ(rc, 0, "bpf-oom events exit status (3: records lost)");
	CHECK_EQ(n, want, "decision records");
	if (tl_failed())
		printf("# events output:\n%s# events stderr:\n%s", events_out, events_err);
	return n == want ? events_out : NULL;
}

/* Member @key of the task object @which ("victim", "kernel_victim") in @rec. */
static long long rec_task(const char *rec, const char *which, const char *key)
{
	char from[32];
	long long v;

	snprintf(from, sizeof(from), "\"%s\":{", which);
	return tl_json_num(rec, from, key, &v) ? -1 : v;
}

static long long rec_num(const char *rec, const char *key)
{
	long long v;

	return tl_json_num(rec, NULL, key, &v) ? -1 : v;
}

static int count_alive(const int *pids, int n)
{
	int i, a = 0;

	for (i = 0; i < n; i++)
		a += tl_alive(pids[i]);
	return a;
}

static struct oom_largest_task_bpf *open_olt(bool dry_run)
{
	struct oom_largest_task_bpf *skel = oom_largest_task_bpf__open();

	if (!CHECK_PTR(skel, "open oom_largest_task"))
		return NULL;
	skel->rodata->dry_run = dry_run;
	if (!CHECK_OK(oom_largest_task_bpf__load(skel), "load oom_largest_task")) {
		oom_largest_task_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void destroy(const char *top, const char *const *cgs, int ncg)
{
	int i;

	for (i = ncg - 1; i >= 0; i--)
		tl_cg_destroy(cgs[i]);
	tl_cg_destroy(top);
	while (tl_wait_any(NULL, 5000) > 0)
		;
}

/* ---- the hog in a terminal scope ------------------------------------- */

static int small[MAX_SMALL];

static void hog_round(bool dry_run)
{
	static const char *const cgs[] = { "olt/term", "olt/svc" };
	struct oom_largest_task_bpf *skel = open_olt(dry_run);
	struct bpf_link *link = NULL;
	int svc[3], kills[8], nkills, kfd, done, hog = -1, i;
	unsigned long long cur = 0;
	char max[32], want[128];
	struct tl_events ev;
	const char *rec;

	if (!skel)
		return;
	destroy("olt", cgs, 2);
	if (!CHECK_OK(tl_cg_create("olt"), "mkdir /olt") ||
	    !CHECK_OK(tl_cg_write("olt", "cgroup.subtree_control", "+memory"), "+memory") ||
	    !CHECK_OK(tl_cg_create("olt/term"), "mkdir /olt/term") ||
	    !CHECK_OK(tl_cg_create("olt/svc"), "mkdir /olt/svc") ||
	    !CHECK_OK(tl_cg_write("olt/svc", "memory.oom.group", "1"), "svc memory.oom.group"))
		goto out;
	tl_cg_write("olt", "memory.swap.max", "0");
	if (!CHECK_OK(spawn_small("olt/term", MAX_SMALL, small), "2,000 small processes"))
		goto out;
	for (i = 0; i < 3; i++) {
		svc[i] = tl_spawn_in_cg("olt/svc", tl_holder_fn, &(struct tl_holder){ .mib = 8 });
		if (!CHECK(svc[i] > 0, "svc process %d did not start", i))
			goto out;
	}
	/* room for the hog: what is charged now and 48 MiB */
	tl_cg_read_u64("olt", "memory.current", &cur);
	snprintf(max, sizeof(max), "%llu", cur + 48 * MiB);
	if (!CHECK_OK(tl_cg_write("olt", "memory.max", max), "memory.max"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.oom_largest_task);
	if (!CHECK_PTR(link, "attach oom_largest_task") || !events_begin(&ev))
		goto out;
	kfd = tl_kmsg_open();
	hog = spawn_grower("olt/term", 96, &done);
	if (!CHECK(hog > 0, "hog did not start")) {
		tl_events_stop(&ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
		goto out;
	}
	tl_wait_done(done, "done pipe");
	nkills = tl_kmsg_kills(kfd, kmsg, sizeof(kmsg), kills, NULL, 8);
	close(kfd);

	/* one record: the policy's kill, or its dry-run choice and the kernel's */
	rec = events_end(&ev, 1, "/olt");
	if (rec) {
		CHECK(tl_json_is(rec, "action", dry_run ? "dry_run" : "kill"), "record: action: %s", rec);
		CHECK(tl_json_is(rec, "reason", dry_run ? "dry_run" : "none"), "record: reason: %s", rec);
		CHECK_EQ(rec_task(rec, "victim", "pid"), hog, "record: victim pid");
		CHECK_EQ(rec_task(rec, "victim", "cgroup_id"), tl_cg_id("olt/term"),
			 "record: victim cgroup");
		CHECK_EQ(rec_num(rec, "domain_cgroup_id"), tl_cg_id("olt"), "record: domain cgroup");
		CHECK_EQ(rec_num(rec, "attach_cgroup_id"), 0, "record: attached system-wide");
		CHECK(rec_task(rec, "victim", "rss_kb") >= 48 * 1024,
		      "record: victim rss %lld kB, the hog has at least 48 MiB",
		      rec_task(rec, "victim", "rss_kb"));
		if (dry_run) {
			CHECK_EQ(rec_task(rec, "kernel_victim", "pid"), hog,
				 "record: the kernel's victim of the same episode");
			CHECK_EQ(rec_num(rec, "episode"),
				 kmsg_number_after("the kernel OOM killer decides (episode "),
				 "record: episode, as the kernel log shows it");
		} else {
			CHECK(strstr(rec, "\"kernel_victim\":null"), "record: a kernel victim: %s", rec);
			CHECK_EQ(rec_num(rec, "episode"), kmsg_number_after(", episode "),
				 "record: episode, as the kernel log shows it");
		}
	}

	CHECK_EQ(skel->bss->invocations, 1, "OOMs the policy saw");
	CHECK(skel->bss->last_pid == hog, "policy chose %d, expected the hog %d",
	      skel->bss->last_pid, hog);
	CHECK_EQ(skel->bss->last_leaf, tl_cg_id("olt/term"), "leaf chosen (cgroup id of /olt/term)");
	CHECK_EQ(skel->bss->kills, dry_run ? 0 : 1, "kills by the policy");
	CHECK_EQ(nkills, 1, "kills");
	if (nkills >= 1)
		CHECK(kills[0] == hog, "killed %d, expected the hog %d", kills[0], hog);
	snprintf(want, sizeof(want), "%s: Killed process %d ",
		 dry_run ? "Memory cgroup out of memory" : "BPF OOM policy oom_largest_task", hog);
	CHECK(strstr(kmsg, want), "no '%s' in the kernel log", want);
	CHECK_EQ(count_alive(small, MAX_SMALL), MAX_SMALL, "small processes alive");
	CHECK_EQ(tl_kmsg_lost, 0, "kernel log records overwritten before the test read them");
	CHECK_EQ(count_alive(svc, 3), 3, "svc processes alive");
out:
	bpf_link__destroy(link);
	destroy("olt", cgs, 2);
	oom_largest_task_bpf__destroy(skel);
}

static void test_hog(void)
{
	hog_round(false);
	if (!tl_failed())
		hog_round(true);
}

/* ---- an oom.group service --------------------------------------------- */

static void group_round(bool dry_run)
{
	static const char *const cgs[] = { "olg/term", "olg/svc" };
	struct oom_largest_task_bpf *skel = open_olt(dry_run);
	struct bpf_link *link = NULL;
	int svc[4], big = -1, kills[16], nkills, kfd, done, i;
	unsigned long long cur = 0;
	struct tl_events ev;
	const char *rec;
	char max[32];

	if (!skel)
		return;
	destroy("olg", cgs, 2);
	if (!CHECK_OK(tl_cg_create("olg"), "mkdir /olg") ||
	    !CHECK_OK(tl_cg_write("olg", "cgroup.subtree_control", "+memory"), "+memory") ||
	    !CHECK_OK(tl_cg_create("olg/term"), "mkdir /olg/term") ||
	    !CHECK_OK(tl_cg_create("olg/svc"), "mkdir /olg/svc") ||
	    !CHECK_OK(tl_cg_write("olg/svc", "memory.oom.group", "1"), "svc memory.oom.group"))
		goto out;
	tl_cg_write("olg", "memory.swap.max", "0");
	if (!CHECK_OK(spawn_small("olg/term", 50, small), "50 small processes"))
		goto out;
	big = tl_spawn_in_cg("olg/term", tl_holder_fn, &(struct tl_holder){ .mib = 16 });
	if (!CHECK(big > 0, "the 16 MiB process did not start"))
		goto out;
	for (i = 0; i < 3; i++) {
		svc[i] = tl_spawn_in_cg("olg/svc", tl_holder_fn, &(struct tl_holder){ .mib = 12 });
		if (!CHECK(svc[i] > 0, "svc process %d did not start", i))
			goto out;
	}
	/*
	 * Room for 8 MiB more: the fourth svc process is smaller than the
	 * 16 MiB one at the OOM, so the kernel's own rule would kill that
	 * one, in term; the policy's rule takes svc, the largest leaf (about
	 * 44 MiB against term's 16 MiB and the 50 small processes' kernel
	 * stacks and page tables, some 150 KiB each: with 200 of them term
	 * was the larger).
	 */
	tl_cg_read_u64("olg", "memory.current", &cur);
	snprintf(max, sizeof(max), "%llu", cur + 8 * MiB);
	if (!CHECK_OK(tl_cg_write("olg", "memory.max", max), "memory.max"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.oom_largest_task);
	if (!CHECK_PTR(link, "attach oom_largest_task") || !events_begin(&ev))
		goto out;
	kfd = tl_kmsg_open();
	svc[3] = spawn_grower("olg/svc", 64, &done);
	if (!CHECK(svc[3] > 0, "the fourth svc process did not start")) {
		tl_events_stop(&ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
		goto out;
	}
	tl_wait_done(done, "done pipe");
	nkills = tl_kmsg_kills(kfd, kmsg, sizeof(kmsg), kills, NULL, 16);
	close(kfd);

	/* one record per OOM the policy saw, each naming a process of svc */
	rec = events_end(&ev, skel->bss->invocations, "/olg");
	for (i = 0; rec && *rec; rec = strchr(rec, '\n') + 1, i++) {
		long long v = rec_task(rec, "victim", "pid");
		int j;

		for (j = 0; j < 4 && v != svc[j]; j++)
			;
		CHECK(j < 4, "record %d: victim %lld, not a process of svc", i, v);
		CHECK(tl_json_is(rec, "action", dry_run ? "dry_run" : "kill"), "record %d: action: %.200s",
		      i, rec);
		/* the first OOM: the kernel's own choice was term's 16 MiB process */
		if (dry_run && i == 0)
			CHECK_EQ(rec_task(rec, "kernel_victim", "pid"), big,
				 "record 0: the kernel's victim of the same episode");
		if (!dry_run)
			CHECK(strstr(rec, "\"kernel_victim\":null"), "record %d: a kernel victim", i);
	}

	CHECK_EQ(skel->bss->last_leaf, tl_cg_id("olg/svc"), "leaf chosen (cgroup id of /olg/svc)");
	for (i = 0; i < 4 && skel->bss->last_pid != svc[i]; i++)
		;
	CHECK(i < 4, "policy chose %d, not a process of svc (%d %d %d %d)",
	      skel->bss->last_pid, svc[0], svc[1], svc[2], svc[3]);
	CHECK_EQ(skel->bss->kills, dry_run ? 0 : 1, "kills by the policy");
	if (!dry_run) {
		CHECK_EQ(skel->bss->invocations, 1, "OOMs the policy saw");
		/*
		 * The kernel's group kill logs the victim twice when it has not
		 * exited by the time the group is walked (oom_kill_process():
		 * __oom_kill_process() on it, then on every member): count
		 * processes, and none outside svc.
		 */
		for (i = 0; i < nkills; i++) {
			int j;

			for (j = 0; j < 4 && kills[i] != svc[j]; j++)
				;
			CHECK(j < 4, "killed %d, not a process of svc", kills[i]);
		}
		CHECK(strstr(kmsg, "BPF OOM policy oom_largest_task: Killed process"),
		      "the kernel log does not name the policy");
		CHECK_EQ(wait_dead(svc, 4), 0, "svc processes alive 10 s after the kill");
		CHECK_EQ(count_alive(small, 50), 50, "term's small processes alive");
		CHECK(tl_alive(big), "term's 16 MiB process died");
	} else {
		/* the kernel decided: first the 16 MiB process of term */
		CHECK(nkills >= 1 && kills[0] == big, "the kernel killed %d first, expected term's 16 MiB process %d",
		      nkills >= 1 ? kills[0] : -1, big);
		CHECK(!strstr(kmsg, "BPF OOM policy oom_largest_task"),
		      "shadow mode, yet the kernel log names the policy");
	}
	CHECK_EQ(tl_kmsg_lost, 0, "kernel log records overwritten before the test read them");
out:
	bpf_link__destroy(link);
	destroy("olg", cgs, 2);
	oom_largest_task_bpf__destroy(skel);
}

static void test_group(void)
{
	group_round(false);
	if (!tl_failed())
		group_round(true);
}

static const struct tl_test tests[] = {
	{ "oom_largest_task_hog", test_hog },
	{ "oom_largest_task_group", test_group },
};

int main(int argc, char **argv)
{
	tl_libbpf_quiet();
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
