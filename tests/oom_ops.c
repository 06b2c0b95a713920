// SPDX-License-Identifier: GPL-2.0
/*
 * oom_ops.c - bpf_oom_ops on a real kernel: real OOMs, real victims.
 *
 * Most tests build upstream's OOM test topology (oom_topo.h) and make it
 * run out of memory.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "oom_topo.h"
#include "oom_largest_leaf.skel.h"
#include "oom_policies.skel.h"
#include "oom_update.skel.h"
#include "oom_update_slow.skel.h"
#include "oom_verifier.skel.h"

static char kmsg[1 << 18];

/*
 * Can bpf_oom_kill_process() take the kernel's task pointers here? Only if
 * the module's BTF types its task argument with vmlinux's struct
 * task_struct. Built plainly for Debian's 7.3, module BTF carries private
 * copies of task_struct (Debian's own modules too), and the verifier then
 * rejects every kernel task pointer; scripts/pahole-dedup.sh prevents that.
 * NULL if fine, else why.
 */
static const char *task_kfuncs_unusable(void)
{
	static char why[256];
	static int verdict = -2;

	/* the same .ko gives the same answer, reloaded or not */
	if (verdict == -2)
		verdict = tl_kfunc_param_is_private("bpf_oom_kill_process", 1,
						    "struct task_struct", why, sizeof(why));
	return verdict ? why : NULL;
}

/* Skip a test that needs bpf_oom_kill_process() on a task; true if skipped. */
static bool skip_without_task_kfuncs(void)
{
	const char *why = task_kfuncs_unusable();

	if (why)
		tl_skip("%s", why);
	return why != NULL;
}

static bool listed(const char *name, unsigned long long cgroup_id, long *handled);

/* ---- upstream's scenario, and the stock killer on the same topology ---- */

static void test_oom_upstream_scenario(void)
{
	struct oom_largest_leaf_bpf *in_cg = NULL, *system = NULL;
	struct bpf_link *l_cg = NULL, *l_sys = NULL;
	int pids[NR_HOGS], first, status, kfd;

	if (skip_without_task_kfuncs())
		return;

	if (!topo_create())
		goto out;
	kfd = tl_kmsg_open();
	/* attached to /oom_test, declining: the OOM goes up the chain */
	in_cg = oom_largest_leaf_bpf__open();
	if (!CHECK_PTR(in_cg, "open oom_largest_leaf (cgroup copy)"))
		goto out;
	in_cg->rodata->decline_in_cgroups = true;
	in_cg->struct_ops.oom_largest_leaf->cgroup_id = tl_cg_id("oom_test");
	if (!CHECK_OK(oom_largest_leaf_bpf__load(in_cg), "load (cgroup copy)"))
		goto out;
	l_cg = bpf_map__attach_struct_ops(in_cg->maps.oom_largest_leaf);
	if (!CHECK_PTR(l_cg, "attach to /oom_test"))
		goto out;
	/* system-wide, acting */
	system = oom_largest_leaf_bpf__open_and_load();
	if (!CHECK_PTR(system, "open and load oom_largest_leaf (system-wide)"))
		goto out;
	l_sys = bpf_map__attach_struct_ops(system->maps.oom_largest_leaf);
	if (!CHECK_PTR(l_sys, "attach system-wide"))
		goto out;

	first = topo_run(pids, &status, NULL, 0, NULL);
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	close(kfd);
	topo_expect_victim(kmsg, pids, CG4, first, status);
	CHECK_EQ(tl_cg_event("oom_test/cg3/cg4", "oom_kill"), 1, "cg4 memory.events oom_kill");
	CHECK_GT(in_cg->bss->invocations, 0, "cgroup copy invoked");
	CHECK_EQ(in_cg->bss->processes_killed, 0, "cgroup copy kills");
	CHECK_EQ(system->bss->processes_killed, 1, "system-wide copy kills");
	CHECK_EQ(system->bss->last_victim_cgroup, tl_cg_id("oom_test/cg3/cg4"),
		 "system-wide copy's victim cgroup = cg4");
	CHECK(strstr(kmsg, "oom_policy=oom_largest_leaf (system-wide): killing"),
	      "no 'oom_policy=oom_largest_leaf' line next to the OOM report");
	CHECK(strstr(kmsg, "invoked oom-killer"), "no OOM report in the kernel log");
out:
	bpf_link__destroy(l_cg);
	bpf_link__destroy(l_sys);
	oom_largest_leaf_bpf__destroy(in_cg);
	oom_largest_leaf_bpf__destroy(system);
	topo_destroy();
}

static void test_oom_stock_victim_without_policy(void)
{
	int pids[NR_HOGS], first, status, kfd;

	if (!topo_create())
		return;
	kfd = tl_kmsg_open();
	first = topo_run(pids, &status, NULL, 0, NULL);
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	topo_expect_victim(kmsg, pids, CG1, first, status);
	CHECK_EQ(tl_cg_event("oom_test/cg1", "oom_kill"), 1, "cg1 memory.events oom_kill");
	CHECK(strstr(kmsg, "invoked oom-killer"), "no OOM report in the kernel log");
	CHECK(!strstr(kmsg, "oom_policy="), "a policy line without any policy attached");
	close(kfd);
	topo_destroy();
}

/* ---- fallback: whatever a policy does, the OOM gets resolved ---------- */

enum policy { KILL_PID, DECLINE, CLAIM, NOTE };

/* Open oom_policies.bpf.o with only the chosen maps created (and note's if @note). */
static struct oom_policies_bpf *policies_open_note(bool kill, bool decline, bool claim, bool note)
{
	struct oom_policies_bpf *skel = oom_policies_bpf__open();

	if (!skel)
		return NULL;
	bpf_map__set_autocreate(skel->maps.kill_pid, kill);
	bpf_program__set_autoload(skel->progs.kill_pid_oom, kill);
	bpf_map__set_autocreate(skel->maps.decline, decline);
	bpf_map__set_autocreate(skel->maps.claim, claim);
	bpf_map__set_autocreate(skel->maps.note, note);
	bpf_program__set_autoload(skel->progs.note_oom, note);
	bpf_map__set_autocreate(skel->maps.no_handler, false);
	return skel;
}

static struct oom_policies_bpf *policies_open(bool kill, bool decline, bool claim)
{
	return policies_open_note(kill, decline, claim, false);
}

static char events_out[1 << 16], events_err[4096];

/*
 * The note policy's first run: each bad argument refused with -EINVAL, the
 * good note taken, a second one -EALREADY; its record (the first of the
 * episode's, and of the run) a decline for "no_candidate" that carries the
 * kernel's victim, @victim.
 */
static void check_note_records(struct oom_policies_bpf *skel, struct tl_events *ev, int victim)
{
	static const int want[] = { -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, 0,
				    -EALREADY, -EINVAL };
	const char *line = events_out;
	long long v;
	char s[64];
	int rc, i;

	for (i = 0; i < 9; i++)
		CHECK(skel->data->note_ret[i] == want[i],
		      "bpf_oom_note_decision call %d: %d, expected %d", i, skel->data->note_ret[i],
		      want[i]);
	/*
	 * The record is emitted when the episode ends, after the kill: the
	 * victim may be seen dead first (seen once on 7.3: events stopped with
	 * 0 records).
	 */
	CHECK_OK(tl_events_wait(ev, 1, 10000), "the episode's record arrives");
	rc = tl_events_stop(ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
	CHECK_EQ(rc, 0, "bpf-oom events exit status");
	CHECK(!tl_json_str(line, NULL, "policy", s, sizeof(s)) && !strcmp(s, "test_note"),
	      "first record's policy: %s", s);
	CHECK(!tl_json_str(line, NULL, "action", s, sizeof(s)) && !strcmp(s, "decline"),
	      "first record's action: %s", s);
	CHECK(!tl_json_str(line, NULL, "reason", s, sizeof(s)) && !strcmp(s, "no_candidate"),
	      "first record's reason: %s (the first good note counts)", s);
	CHECK(strstr(line, "\"victim\":null") && strstr(line, "\n") > strstr(line, "\"victim\":null"),
	      "first record has a victim");
	CHECK(!tl_json_num(line, "\"kernel_victim\":{", "pid", &v) && v == victim,
	      "first record's kernel victim: %lld, expected %d", v, victim);
	CHECK(!tl_json_str(line, NULL, "domain_path", s, sizeof(s)) && !strcmp(s, "/oom_test"),
	      "first record's domain: %s", s);
	if (tl_failed())
		printf("# events output:\n%s# events stderr:\n%s", events_out, events_err);
}

static void fallback_case(enum policy which, bool zombie_target)
{
	struct oom_policies_bpf *skel;
	struct bpf_link *link = NULL;
	struct tl_events ev;
	int pids[NR_HOGS], first, status, kfd, zombie = -1;

	if (which == KILL_PID && skip_without_task_kfuncs())
		return;
	if (!topo_create())
		return;
	skel = policies_open_note(which == KILL_PID, which == DECLINE, which == CLAIM, which == NOTE);
	if (!CHECK_PTR(skel, "open oom_policies") ||
	    !CHECK_OK(oom_policies_bpf__load(skel), "load oom_policies"))
		goto out;
	if (zombie_target) {
		/*
		 * An exited, unreaped process: a grandchild, so that our
		 * waitpid(-1) cannot reap it. Its parent just waits.
		 */
		int pfd[2], z = -1;

		if (pipe(pfd))
			goto out;
		zombie = fork();
		if (zombie == 0) {
			/* inside /oom_test: else the kill is refused as out of reach */
			if (tl_cg_enter("oom_test/cg1", 0))
				_exit(1);
			z = fork();
			if (z == 0)
				_exit(0);
			if (write(pfd[1], &z, sizeof(z)) != sizeof(z))
				_exit(1);
			pause();
			_exit(0);
		}
		if (read(pfd[0], &z, sizeof(z)) != sizeof(z))
			z = -1;
		close(pfd[0]);
		close(pfd[1]);
		usleep(100000);
		skel->bss->target_pid = z;
	}
	link = bpf_map__attach_struct_ops(which == KILL_PID ? skel->maps.kill_pid :
					  which == DECLINE ? skel->maps.decline :
					  which == NOTE ? skel->maps.note : skel->maps.claim);
	if (!CHECK_PTR(link, "attach system-wide"))
		goto out;
	if (which == NOTE && !CHECK_OK(tl_events_start(&ev), "bpf-oom events --json"))
		goto out;
	kfd = tl_kmsg_open();
	first = topo_run(pids, &status, NULL, 0, NULL);
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	close(kfd);
	topo_expect_victim(kmsg, pids, CG1, first, status);
	if (which == NOTE)
		check_note_records(skel, &ev, pids[CG1]);
	CHECK(strstr(kmsg, "oom_policy=default: 1 BPF policy freed no memory"),
	      "no 'oom_policy=default' line when the policy did not free memory");
	switch (which) {
	case DECLINE:
		CHECK_GT(skel->bss->decline_calls[0], 0, "declining policy called");
		break;
	case CLAIM:
		CHECK_GT(skel->bss->claim_calls[0], 0, "claiming policy called");
		break;
	case NOTE:
		CHECK_GT(skel->bss->note_calls[0], 0, "noting policy called");
		break;
	case KILL_PID:
		CHECK_GT(skel->bss->kill_calls[0], 0, "zombie-killing policy called");
		CHECK(skel->data->kill_ret == -EINVAL,
		      "bpf_oom_kill_process(zombie): expected -EINVAL, got %d", skel->data->kill_ret);
		break;
	}
out:
	bpf_link__destroy(link);
	oom_policies_bpf__destroy(skel);
	if (zombie > 0)
		tl_reap(zombie, SIGKILL);
	topo_destroy();
}

static void test_oom_fallback_policy_declines(void)
{
	fallback_case(DECLINE, false);
}

static void test_oom_fallback_policy_claims_without_killing(void)
{
	fallback_case(CLAIM, false);
}

/* bpf_oom_note_decision(): bad arguments, and the record of a decline */
static void test_oom_note_decision(void)
{
	fallback_case(NOTE, false);
}

static void test_oom_fallback_policy_kills_exited_task(void)
{
	fallback_case(KILL_PID, true);
}

/* ---- kills outside the policy's reach are refused ----------------------- */

static int sleeper_fn(void *arg, int ready)
{
	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");	/* killable */
	tl_child_ready(ready);
	pause();
	return 0;
}

/*
 * kill_pid aimed at a task the kernel's OOM killer could never take for
 * an OOM in /oom_test: one in another cgroup, or cg2's hog (-1000). The
 * kfunc refuses with -EPERM, the OOM is not marked handled, and the
 * kernel decides (cg1, +1000); the target lives on.
 */
static void refused_case(bool outside)
{
	struct oom_policies_bpf *skel;
	struct bpf_link *link = NULL;
	int pids[NR_HOGS], first, status, kfd, outsider = -1;

	if (skip_without_task_kfuncs())
		return;
	if (!topo_create())
		return;
	skel = policies_open(true, false, false);
	if (!CHECK_PTR(skel, "open oom_policies") ||
	    !CHECK_OK(oom_policies_bpf__load(skel), "load oom_policies"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.kill_pid);
	if (!CHECK_PTR(link, "attach kill_pid system-wide"))
		goto out;
	if (outside) {
		tl_cg_create("oom_outside");
		outsider = tl_spawn_in_cg("oom_outside", sleeper_fn, NULL);
		if (!CHECK(outsider > 0, "outsider did not start: %d", outsider))
			goto out;
		skel->bss->target_pid = outsider;
	}
	kfd = tl_kmsg_open();
	first = topo_run(pids, &status, outside ? NULL : &skel->bss->target_pid, CG2, NULL);
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	close(kfd);
	topo_expect_victim(kmsg, pids, CG1, first, status);
	CHECK_GT(skel->bss->kill_calls[0], 0, "kill_pid called");
	CHECK(skel->data->kill_ret == -EPERM, "bpf_oom_kill_process(%s): expected -EPERM, got %d",
	      outside ? "a task outside /oom_test" : "cg2's -1000 hog", skel->data->kill_ret);
	CHECK(strstr(kmsg, "oom_policy=default: 1 BPF policy freed no memory"),
	      "no 'oom_policy=default' line: the refused kill counted as handling the OOM");
	if (outside)
		CHECK(topo_alive(outsider), "the task outside /oom_test was killed");
	else
		CHECK(topo_alive(pids[CG2]), "cg2's -1000 hog was killed");
out:
	bpf_link__destroy(link);
	oom_policies_bpf__destroy(skel);
	if (outsider > 0)
		tl_reap(outsider, SIGKILL);
	tl_cg_destroy("oom_outside");
	topo_destroy();
}

static void test_oom_kill_outside_domain_refused(void)
{
	refused_case(true);
}

static void test_oom_kill_unkillable_refused(void)
{
	refused_case(false);
}

/* ---- the chain --------------------------------------------------------- */

/*
 * kill_pid on /oom_test (aimed at cg5, which the stock killer would not
 * pick) and decline system-wide, or the other way round.
 */
static void chain_case(bool memcg_handles)
{
	struct oom_policies_bpf *skel;
	struct bpf_link *l_kill = NULL, *l_decl = NULL;
	int pids[NR_HOGS], first, status, kfd;
	unsigned long long oom_test;

	if (skip_without_task_kfuncs())
		return;
	if (!topo_create())
		return;
	oom_test = tl_cg_id("oom_test");
	skel = policies_open(true, true, false);
	if (!CHECK_PTR(skel, "open oom_policies"))
		goto out;
	if (memcg_handles)
		skel->struct_ops.kill_pid->cgroup_id = oom_test;
	else
		skel->struct_ops.decline->cgroup_id = oom_test;
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load oom_policies"))
		goto out;
	l_kill = bpf_map__attach_struct_ops(skel->maps.kill_pid);
	l_decl = bpf_map__attach_struct_ops(skel->maps.decline);
	if (!CHECK_PTR(l_kill, "attach kill_pid") || !CHECK_PTR(l_decl, "attach decline"))
		goto out;
	/* the victim is cg5, the allocating one, which the stock killer spares */
	kfd = tl_kmsg_open();
	first = topo_run(pids, &status, &skel->bss->target_pid, CG5, NULL);
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	close(kfd);
	topo_expect_victim(kmsg, pids, CG5, first, status);
	if (memcg_handles) {
		CHECK_GT(skel->bss->kill_calls[1], 0, "kill_pid on /oom_test called");
		CHECK_EQ(skel->bss->decline_calls[0], 0,
			 "system-wide policy called although the memcg one handled the OOM");
		CHECK_EQ(skel->data->last_ctx_cgroup_id, oom_test, "ctx->cgroup_id of the handler");
	} else {
		CHECK_GT(skel->bss->decline_calls[1], 0, "declining policy on /oom_test called");
		CHECK_GT(skel->bss->kill_calls[0], 0, "system-wide policy called after the decline");
		CHECK_EQ(skel->data->last_ctx_cgroup_id, 0, "ctx->cgroup_id of the system-wide handler");
	}
	CHECK_EQ(skel->data->kill_ret, 0, "bpf_oom_kill_process(cg5's hog)");
	{
		long handled = -1;

		CHECK(listed("test_kill_pid", memcg_handles ? oom_test : 0, &handled),
		      "kill_pid not in /proc/bpf_oom/policies");
		CHECK_EQ(handled, 1, "handled count of kill_pid in /proc/bpf_oom/policies");
	}
	CHECK_EQ(tl_cg_event("oom_test/cg3/cg5", "oom_kill"), 1, "cg5 memory.events oom_kill");
out:
	bpf_link__destroy(l_kill);
	bpf_link__destroy(l_decl);
	oom_policies_bpf__destroy(skel);
	topo_destroy();
}

static void test_oom_chain_memcg_policy_handles(void)
{
	chain_case(true);
}

static void test_oom_chain_memcg_policy_declines(void)
{
	chain_case(false);
}

/* ---- a system-wide OOM ------------------------------------------------- */

/* Allocate 64 MiB at a time, forever: only an OOM kill stops it. */
static int global_hog_fn(void *arg, int ready)
{
	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");	/* not the test's -1000 */
	tl_child_ready(ready);
	for (;;) {
		char *p = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, 1, 64 * MiB);
	}
	return 0;
}

static void test_oom_global_system_wide_policy(void)
{
	struct oom_policies_bpf *skel;
	struct bpf_link *link = NULL;
	int hog, pid, status, kfd;

	if (skip_without_task_kfuncs())
		return;

	/* Only the hog may go: protect this test (init is unkillable). */
	tl_write_file("/proc/self/oom_score_adj", "-1000");
	tl_cg_create("global_hog");
	skel = policies_open(true, false, false);
	if (!CHECK_PTR(skel, "open oom_policies") ||
	    !CHECK_OK(oom_policies_bpf__load(skel), "load oom_policies"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.kill_pid);
	if (!CHECK_PTR(link, "attach system-wide"))
		goto out;
	kfd = tl_kmsg_open();
	hog = tl_spawn_in_cg("global_hog", global_hog_fn, NULL);
	skel->bss->target_pid = hog;
	pid = tl_wait_any(&status, 120000);
	CHECK(pid == hog, "expected the hog (%d) to die, got %d", hog, pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "hog: expected SIGKILL, got status 0x%x", status);
	CHECK_GT(skel->bss->saw_global, 0, "OOMs the policy saw with oc->memcg == NULL");
	CHECK_EQ(skel->data->kill_ret, 0, "bpf_oom_kill_process(hog)");
	CHECK_EQ(skel->data->note_after_kill, -EALREADY, "bpf_oom_note_decision() after a kill");
	CHECK_EQ(skel->data->last_ctx_cgroup_id, 0, "ctx->cgroup_id (system-wide)");
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	close(kfd);
	CHECK(strstr(kmsg, "oom_policy=test_kill_pid (system-wide): killing"),
	      "no oom_policy line for the global OOM");
	CHECK(strstr(kmsg, "constraint=CONSTRAINT_NONE"), "global OOM report lacks CONSTRAINT_NONE");
out:
	bpf_link__destroy(link);
	oom_policies_bpf__destroy(skel);
	tl_cg_destroy("global_hog");
	tl_write_file("/proc/self/oom_score_adj", "0");
}

/* ---- attaching: errors ------------------------------------------------- */

static int attach_errno(struct bpf_map *map)
{
	struct bpf_link *link = bpf_map__attach_struct_ops(map);
	int err = link ? 0 : -errno;

	bpf_link__destroy(link);
	return err;
}

static void test_oom_attach_errors(void)
{
	struct oom_policies_bpf *skel = NULL;
	struct bpf_link *first = NULL;
	int err;

	tl_cg_create("attach_cg");
	tl_cg_create("nomem_parent");
	tl_cg_create("nomem_parent/child");	/* its parent enables no controller */

	/* second system-wide policy */
	skel = policies_open(false, true, true);
	if (!CHECK_PTR(skel, "open") || !CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	first = bpf_map__attach_struct_ops(skel->maps.claim);
	CHECK_PTR(first, "first system-wide attach");
	err = attach_errno(skel->maps.decline);
	CHECK(err == -EBUSY, "second system-wide attach: expected -EBUSY, got %d", err);
	bpf_link__destroy(first);
	first = NULL;
	oom_policies_bpf__destroy(skel);

	/* second policy on one cgroup */
	skel = policies_open(false, true, true);
	skel->struct_ops.claim->cgroup_id = tl_cg_id("attach_cg");
	skel->struct_ops.decline->cgroup_id = tl_cg_id("attach_cg");
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	first = bpf_map__attach_struct_ops(skel->maps.claim);
	CHECK_PTR(first, "first attach to attach_cg");
	err = attach_errno(skel->maps.decline);
	CHECK(err == -EBUSY, "second attach to attach_cg: expected -EBUSY, got %d", err);
	bpf_link__destroy(first);
	first = NULL;
	oom_policies_bpf__destroy(skel);

	/* a cgroup that does not exist, one without a memory controller */
	skel = policies_open(false, true, true);
	skel->struct_ops.claim->cgroup_id = 0x7fffffffffffULL;
	skel->struct_ops.decline->cgroup_id = tl_cg_id("nomem_parent/child");
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	err = attach_errno(skel->maps.claim);
	CHECK(err == -ENOENT, "attach to a missing cgroup: expected -ENOENT, got %d", err);
	err = attach_errno(skel->maps.decline);
	CHECK(err == -EINVAL, "attach to a cgroup without memcg: expected -EINVAL, got %d", err);
	oom_policies_bpf__destroy(skel);

	/* a name without its NUL */
	skel = policies_open(false, false, true);
	memset(skel->struct_ops.claim->__unsupported_2, 'A',
	       sizeof(skel->struct_ops.claim->__unsupported_2));
	/* the kernel sees the value at load or at attach, by libbpf version */
	err = oom_policies_bpf__load(skel) ?: attach_errno(skel->maps.claim);
	CHECK(err == -EINVAL, "unterminated name: expected -EINVAL, got %d", err);
	oom_policies_bpf__destroy(skel);

	/* no handle_out_of_memory */
	skel = policies_open(false, false, false);
	bpf_map__set_autocreate(skel->maps.no_handler, true);
	err = oom_policies_bpf__load(skel) ?: attach_errno(skel->maps.no_handler);
	CHECK(err == -EINVAL, "ops without handle_out_of_memory: expected -EINVAL, got %d", err);
	oom_policies_bpf__destroy(skel);

	/*
	 * Without CAP_SYS_ADMIN: BPF itself only wants CAP_BPF and
	 * CAP_PERFMON (which this thread keeps), bpf-oom refuses.
	 */
	skel = policies_open(false, false, true);
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	if (CHECK_OK(tl_cap_effective(CAP_SYS_ADMIN, false), "drop CAP_SYS_ADMIN")) {
		err = attach_errno(skel->maps.claim);
		tl_cap_effective(CAP_SYS_ADMIN, true);
		CHECK(err == -EPERM, "attach without CAP_SYS_ADMIN: expected -EPERM, got %d", err);
	}
	CHECK(!listed("test_claim", 0, NULL), "the refused policy is listed");

	/*
	 * Upstream's cgroup attach: BPF_LINK_CREATE with the cgroup's fd as
	 * the target. A stock kernel would drop it and attach system-wide.
	 */
	{
		int cg_fd = tl_cg_fd("attach_cg");
		int fd = bpf_link_create(bpf_map__fd(skel->maps.claim), cg_fd, BPF_STRUCT_OPS, NULL);

		CHECK(fd == -EOPNOTSUPP, "link_create with a cgroup fd as target: expected -EOPNOTSUPP, got %d",
		      fd);
		if (fd >= 0)
			close(fd);
		close(cg_fd);
	}
	CHECK(!listed("test_claim", 0, NULL), "the refused policy is listed");
out:
	bpf_link__destroy(first);
	oom_policies_bpf__destroy(skel);
	tl_cg_destroy("nomem_parent/child");
	tl_cg_destroy("nomem_parent");
	tl_cg_destroy("attach_cg");
}

/* ---- races --------------------------------------------------------------- */

struct racer {
	struct bpf_map *map;
	pthread_barrier_t *go;
	int err;
};

static void *attach_fn(void *arg)
{
	struct racer *r = arg;
	struct bpf_link *link;

	pthread_barrier_wait(r->go);
	link = bpf_map__attach_struct_ops(r->map);
	r->err = link ? 0 : -errno;
	/* keep the winner attached until both are done: the loser must see it */
	pthread_barrier_wait(r->go);
	bpf_link__destroy(link);
	return NULL;
}

/* Two attachers race for one slot, 20 times: exactly one wins, the other gets -EBUSY. */
static void attach_race(unsigned long long cgroup_id, const char *where)
{
	struct oom_policies_bpf *skel;
	pthread_barrier_t go;
	int round, wins = 0, busy = 0;

	skel = policies_open(false, true, true);
	if (!CHECK_PTR(skel, "open oom_policies"))
		return;
	skel->struct_ops.claim->cgroup_id = cgroup_id;
	skel->struct_ops.decline->cgroup_id = cgroup_id;
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	pthread_barrier_init(&go, NULL, 2);
	for (round = 0; round < 20; round++) {
		struct racer a = { skel->maps.claim, &go, 1 }, b = { skel->maps.decline, &go, 1 };
		pthread_t ta, tb;

		if (pthread_create(&ta, NULL, attach_fn, &a))
			break;
		if (pthread_create(&tb, NULL, attach_fn, &b)) {
			pthread_barrier_wait(&go);	/* release a */
			pthread_barrier_wait(&go);
			pthread_join(ta, NULL);
			break;
		}
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		wins += (a.err == 0) + (b.err == 0);
		busy += (a.err == -EBUSY) + (b.err == -EBUSY);
		CHECK((a.err == 0 && b.err == -EBUSY) || (a.err == -EBUSY && b.err == 0),
		      "%s round %d: expected one attach and one -EBUSY, got %d and %d", where,
		      round, a.err, b.err);
	}
	CHECK(wins == 20 && busy == 20, "%s: %d wins and %d -EBUSY in 20 rounds", where, wins, busy);
	pthread_barrier_destroy(&go);
out:
	oom_policies_bpf__destroy(skel);
}

static void test_oom_attach_race_one_slot(void)
{
	tl_cg_create("race_cg");
	attach_race(0, "system-wide");
	attach_race(tl_cg_id("race_cg"), "/race_cg");
	CHECK(!listed("test_claim", 0, NULL) && !listed("test_decline", 0, NULL),
	      "a racer is still listed after detaching");
	tl_cg_destroy("race_cg");
}

struct remover {
	pthread_barrier_t *go;
	int delay_us;	/* before the rmdir */
	int err;
};

static void *rmdir_fn(void *arg)
{
	struct remover *r = arg;

	pthread_barrier_wait(r->go);
	usleep(r->delay_us);
	r->err = rmdir(TL_CGROUP_ROOT "/race_rm") ? -errno : 0;
	return NULL;
}

/*
 * Attach to a cgroup while it is being removed, 30 times. Either the
 * attach fails with -ENOENT, or it succeeds and the removal detaches it
 * (handle_cgroup_offline once): never an attachment left behind. A third
 * of the rounds remove 100 ms after the attach starts and a third attach
 * 100 ms after the removal (so both outcomes are certain to be seen); the
 * rest start both at once, the rmdir 0 to 4.5 ms later.
 */
static void test_oom_attach_races_cgroup_removal(void)
{
	int round, attached = 0, enoent = 0, offline = 0;
	pthread_barrier_t go;

	pthread_barrier_init(&go, NULL, 2);
	for (round = 0; round < 30; round++) {
		struct oom_policies_bpf *skel = policies_open(false, true, false);
		int attach_delay = round % 3 == 1 ? 100000 : 0;
		struct remover r = { &go, round % 3 == 0 ? 100000 : (round % 10) * 500, 1 };
		unsigned long long id;
		struct bpf_link *link;
		pthread_t t;
		int err, i;

		if (!CHECK_PTR(skel, "open") || !CHECK_OK(tl_cg_create("race_rm"), "mkdir /race_rm")) {
			oom_policies_bpf__destroy(skel);
			break;
		}
		id = tl_cg_id("race_rm");
		skel->struct_ops.decline->cgroup_id = id;
		if (!CHECK_OK(oom_policies_bpf__load(skel), "load") ||
		    !CHECK_OK(pthread_create(&t, NULL, rmdir_fn, &r), "start the remover")) {
			oom_policies_bpf__destroy(skel);
			tl_cg_destroy("race_rm");
			break;
		}
		pthread_barrier_wait(&go);
		usleep(attach_delay);
		link = bpf_map__attach_struct_ops(skel->maps.decline);
		err = link ? 0 : -errno;
		pthread_join(t, NULL);
		CHECK_EQ(r.err, 0, "rmdir /race_rm");
		CHECK(err == 0 || err == -ENOENT, "round %d: attach: expected 0 or -ENOENT, got %d",
		      round, err);
		attached += !err;
		enoent += err == -ENOENT;
		/* the removal's offline work detaches it, at once */
		for (i = 0; i < 500 && listed("test_decline", id, NULL); i++)
			usleep(10000);
		CHECK(!listed("test_decline", id, NULL), "round %d: still attached 5 s after the removal",
		      round);
		if (!err)
			CHECK_EQ(skel->bss->offline_calls, 1, "handle_cgroup_offline calls");
		offline += skel->bss->offline_calls;
		bpf_link__destroy(link);
		oom_policies_bpf__destroy(skel);
	}
	pthread_barrier_destroy(&go);
	printf("# attach vs removal: %d attached (then detached by the removal), %d -ENOENT\n",
	       attached, enoent);
	CHECK(attached > 0 && enoent > 0, "the race never went both ways: %d attached, %d -ENOENT",
	      attached, enoent);
	CHECK_EQ(offline, attached, "handle_cgroup_offline calls in all");
}

/* ---- the policy list --------------------------------------------------- */

/* Is there a "/proc/bpf_oom/policies" line for @name at @cgroup_id? */
static bool listed(const char *name, unsigned long long cgroup_id, long *handled)
{
	char line[256], n[128];
	unsigned long long id;
	long long since;
	long invoked, h;
	bool found = false;
	FILE *f = fopen("/proc/bpf_oom/policies", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %llu %lld %ld %ld", n, &id, &since, &invoked, &h) == 5 &&
		    !strcmp(n, name) && id == cgroup_id) {
			found = true;
			if (handled)
				*handled = h;
		}
	}
	fclose(f);
	return found;
}

/* ---- cgroup offline ---------------------------------------------------- */

static void test_oom_cgroup_offline(void)
{
	struct oom_policies_bpf *skel;
	struct bpf_link *link = NULL;
	unsigned long long id;
	int i;

	tl_cg_create("offline_test");
	id = tl_cg_id("offline_test");
	skel = policies_open(false, true, false);
	if (!CHECK_PTR(skel, "open"))
		goto out;
	skel->struct_ops.decline->cgroup_id = id;
	if (!CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.decline);
	if (!CHECK_PTR(link, "attach to offline_test"))
		goto out;
	CHECK(listed("test_decline", id, NULL), "policy not in /proc/bpf_oom/policies after attach");

	CHECK_OK(tl_cg_destroy("offline_test"), "rmdir offline_test");
	for (i = 0; i < 300 && !skel->bss->offline_calls; i++)
		usleep(10000);
	CHECK_EQ(skel->bss->offline_calls, 1, "handle_cgroup_offline calls");
	CHECK_EQ(skel->bss->offline_cgroup_id, id, "handle_cgroup_offline cgroup_id");
	CHECK_EQ(skel->bss->offline_ctx_cgroup_id, id, "handle_cgroup_offline ctx->cgroup_id");
	for (i = 0; i < 100 && listed("test_decline", id, NULL); i++)
		usleep(10000);
	CHECK(!listed("test_decline", id, NULL), "attachment not dropped after offline");
out:
	bpf_link__destroy(link);	/* after the offline drop: must be a no-op */
	oom_policies_bpf__destroy(skel);
	tl_cg_destroy("offline_test");
}

/* ---- module unload ----------------------------------------------------- */

static int delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static void test_oom_rmmod_refused_while_attached(void)
{
	const char *ko = getenv("BPF_OOM_KO") ?: "/bpf-oom/bpf_oom.ko";
	struct oom_policies_bpf *skel;
	struct bpf_link *link;
	int err = 0, i, fd;

	skel = policies_open(false, true, false);
	if (!CHECK_PTR(skel, "open") || !CHECK_OK(oom_policies_bpf__load(skel), "load")) {
		oom_policies_bpf__destroy(skel);
		return;
	}
	link = bpf_map__attach_struct_ops(skel->maps.decline);
	CHECK_PTR(link, "attach");
	err = delete_module("bpf_oom");
	CHECK(err == -EWOULDBLOCK, "rmmod with a policy attached: expected -EWOULDBLOCK, got %d", err);
	bpf_link__destroy(link);
	oom_policies_bpf__destroy(skel);

	/* the map goes after an RCU grace period: retry briefly */
	for (i = 0; i < 100; i++) {
		err = delete_module("bpf_oom");
		if (err != -EWOULDBLOCK)
			break;
		usleep(50000);
	}
	CHECK_OK(err, "rmmod after detach");
	/* back for the following tests */
	fd = open(ko, O_RDONLY);
	CHECK_OK(fd < 0 ? -errno : (int)syscall(SYS_finit_module, fd, "", 0) ? -errno : 0,
		 "insmod again");
	if (fd >= 0)
		close(fd);
}

/* ---- attach and detach while OOMs happen ------------------------------ */

static int oom_loop_fn(void *arg, int ready)
{
	(void)arg;
	tl_child_ready(ready);
	for (;;) {
		int pid = fork(), status;

		if (pid == 0) {
			char *p = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED)
				memset(p, 1, 64 * MiB);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, &status, 0);
	}
	return 0;
}

static void test_oom_attach_detach_loop_during_ooms(void)
{
	struct oom_policies_bpf *skel;
	unsigned long long ooms = 0;
	int loop, i, attached = 0;

	tl_cg_create("loop_cg");
	tl_cg_write("loop_cg", "memory.max", "16777216");
	tl_cg_write("loop_cg", "memory.swap.max", "0");
	skel = policies_open(false, true, true);
	if (!CHECK_PTR(skel, "open") || !CHECK_OK(oom_policies_bpf__load(skel), "load"))
		goto out;
	loop = tl_spawn_in_cg("loop_cg", oom_loop_fn, NULL);
	for (i = 0; i < 60; i++) {
		struct bpf_link *link = bpf_map__attach_struct_ops(i % 2 ? skel->maps.claim :
								   skel->maps.decline);

		attached += link != NULL;
		usleep(20000);
		bpf_link__destroy(link);
	}
	tl_reap(loop, SIGKILL);
	tl_cg_read_key("loop_cg", "memory.events", "oom_kill", &ooms);
	CHECK_EQ(attached, 60, "attaches that worked");
	CHECK_GT(ooms, 2, "OOM kills in loop_cg during the loop");
	CHECK_GT(skel->bss->decline_calls[0] + skel->bss->claim_calls[0], 0,
		 "policies called during the loop");
	CHECK(!listed("test_decline", 0, NULL) && !listed("test_claim", 0, NULL),
	      "a policy still listed after its detach");
	printf("# %d attach/detach cycles, %llu OOM kills, %llu policy calls\n", attached, ooms,
	       (unsigned long long)(skel->bss->decline_calls[0] + skel->bss->claim_calls[0]));
out:
	oom_policies_bpf__destroy(skel);
	tl_cg_destroy("loop_cg");
}

/* ---- replacing a policy in place (BPF_LINK_UPDATE) ---------------------- */

#define UPD_CG "upd_test"

/* A cgroup whose OOMs the update tests cause: 16 MiB, no swap. */
static bool upd_cg_create(void)
{
	return CHECK_OK(tl_cg_create(UPD_CG), "mkdir /" UPD_CG) &&
	       CHECK_OK(tl_cg_write(UPD_CG, "memory.max", "16777216"), "memory.max") &&
	       (tl_cg_write(UPD_CG, "memory.swap.max", "0"), true);
}

/* Allocate 64 MiB in a 16 MiB cgroup: only an OOM kill stops it. */
static int upd_alloc_fn(void *arg, int ready)
{
	(void)arg;
	tl_write_file("/proc/self/oom_score_adj", "0");
	tl_child_ready(ready);
	tl_touch(64 * MiB);
	return 0;
}

/* One OOM in /upd_test; true if its child died of SIGKILL. */
static bool upd_one_oom(const char *what)
{
	int pid = tl_spawn_in_cg(UPD_CG, upd_alloc_fn, NULL), status;

	if (!CHECK(pid > 0, "%s: the allocating child did not start: %d", what, pid))
		return false;
	status = tl_reap(pid, 0);
	return CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		     "%s: expected the allocating child killed by SIGKILL, got status 0x%x", what,
		     status);
}

/* How often @needle occurs in @hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/*
 * Both policies of oom_update loaded for @target (0: system-wide), A
 * attached: its link in *@link, NULL if a step failed (said by a CHECK).
 * The skeleton, or NULL; the caller destroys both.
 */
static struct oom_update_bpf *upd_load_attach_a(unsigned long long target, struct bpf_link **link)
{
	struct oom_update_bpf *skel = oom_update_bpf__open();

	*link = NULL;
	if (!CHECK_PTR(skel, "open oom_update"))
		return NULL;
	skel->struct_ops.upd_a->cgroup_id = target;
	skel->struct_ops.upd_b->cgroup_id = target;
	if (!CHECK_OK(oom_update_bpf__load(skel), "load oom_update"))
		return skel;
	*link = bpf_map__attach_struct_ops(skel->maps.upd_a);
	CHECK_PTR(*link, "attach A");
	return skel;
}

/* "(system-wide)" or "(cgroup N)", as the kill lines name a target */
static const char *upd_where(unsigned long long target, char *buf, size_t len)
{
	if (target)
		snprintf(buf, len, "(cgroup %llu)", target);
	else
		snprintf(buf, len, "(system-wide)");
	return buf;
}

/* The id of the map @link holds now (0 if it cannot be read). */
static unsigned int link_map_id(struct bpf_link *link)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len) ? 0 :
	       info.struct_ops.map_id;
}

static unsigned int map_id(struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_map_get_info_by_fd(bpf_map__fd(map), &info, &len) ? 0 : info.id;
}

/*
 * Policy A decides an OOM; the link is updated to B; B decides the next
 * OOM and A never runs again. The policy list names B, with counters from
 * zero; detaching the link detaches B.
 */
static void update_case(bool in_cgroup)
{
	struct oom_update_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	unsigned long long target = 0;
	char where[48], want[160];
	long handled = -1;
	int kfd = -1, err;

	if (skip_without_task_kfuncs())
		return;
	if (!upd_cg_create())
		goto out;
	if (in_cgroup)
		target = tl_cg_id(UPD_CG);
	upd_where(target, where, sizeof(where));
	skel = upd_load_attach_a(target, &link);
	if (!link)
		goto out;
	kfd = tl_kmsg_open();

	upd_one_oom("the OOM before the update");
	CHECK_EQ(skel->bss->kills[0], 1, "A's kills before the update");

	err = bpf_link__update_map(link, skel->maps.upd_b);
	if (!CHECK_OK(err, "BPF_LINK_UPDATE from A to B"))
		goto out;
	CHECK_EQ(link_map_id(link), map_id(skel->maps.upd_b), "the link's map id after the update");
	CHECK(!listed("test_upd_a", target, NULL), "A still in /proc/bpf_oom/policies after the update");
	CHECK(listed("test_upd_b", target, &handled),
	      "B not in /proc/bpf_oom/policies at cgroup_id %llu after the update", target);
	CHECK_EQ(handled, 0, "B's handled count right after the update (counters restart)");

	upd_one_oom("the OOM after the update");
	CHECK_EQ(skel->bss->calls[0], 1, "A's calls (none after the update)");
	CHECK_EQ(skel->bss->calls[1], 1, "B's calls");
	CHECK_EQ(skel->bss->kills[1], 1, "B's kills");
	CHECK_EQ(skel->bss->failures[0] + skel->bss->failures[1], 0, "failed kills");
	CHECK(listed("test_upd_b", target, &handled), "B not listed after its OOM");
	CHECK_EQ(handled, 1, "B's handled count after its OOM");
	CHECK_EQ(tl_cg_event(UPD_CG, "oom_kill"), 2, UPD_CG " memory.events oom_kill");

	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	snprintf(want, sizeof(want), "oom_policy=test_upd_a %s: killing", where);
	CHECK_EQ(occurrences(kmsg, want), 1, "kernel log lines 'oom_policy=test_upd_a ...: killing'");
	snprintf(want, sizeof(want), "oom_policy=test_upd_b %s: killing", where);
	CHECK_EQ(occurrences(kmsg, want), 1, "kernel log lines 'oom_policy=test_upd_b ...: killing'");
	if (target)
		snprintf(want, sizeof(want), "policy test_upd_a replaced by test_upd_b on cgroup %llu",
			 target);
	else
		snprintf(want, sizeof(want),
			 "policy test_upd_a replaced by test_upd_b on system-wide");
	CHECK(strstr(kmsg, want), "no '%s' line in the kernel log", want);
	CHECK(!strstr(kmsg, "oom_policy=default"), "the kernel OOM killer decided an OOM");

	/* the link holds B now: destroying it detaches B */
	bpf_link__destroy(link);
	link = NULL;
	CHECK(!listed("test_upd_b", target, NULL), "B still listed after its link was destroyed");
	if (tl_failed())
		printf("# kernel log:\n%s", kmsg);
out:
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);
	oom_update_bpf__destroy(skel);
	tl_cg_destroy(UPD_CG);
}

static void test_oom_update_system_wide(void)
{
	update_case(false);
}

static void test_oom_update_cgroup(void)
{
	update_case(true);
}

/*
 * An update must keep the target: to ops of another cgroup, or system-wide
 * ones, it fails with -EINVAL; without CAP_SYS_ADMIN with -EPERM. Either
 * way the link keeps A, which stays attached and decides the next OOM.
 */
static void test_oom_update_refuses_other_target(void)
{
	struct oom_update_bpf *skel = NULL, *other = NULL;
	struct bpf_link *link = NULL;
	unsigned long long cg;
	int kfd = -1, err;

	if (skip_without_task_kfuncs())
		return;
	if (!upd_cg_create() || !CHECK_OK(tl_cg_create("upd_other"), "mkdir /upd_other"))
		goto out;
	cg = tl_cg_id(UPD_CG);
	skel = oom_update_bpf__open();
	other = oom_update_bpf__open();
	if (!CHECK_PTR(skel, "open oom_update") || !CHECK_PTR(other, "open oom_update again"))
		goto out;
	skel->struct_ops.upd_a->cgroup_id = cg;
	skel->struct_ops.upd_b->cgroup_id = 0;			/* system-wide */
	other->struct_ops.upd_a->cgroup_id = cg;		/* the same target */
	other->struct_ops.upd_b->cgroup_id = tl_cg_id("upd_other");
	if (!CHECK_OK(oom_update_bpf__load(skel), "load oom_update") ||
	    !CHECK_OK(oom_update_bpf__load(other), "load oom_update again"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.upd_a);
	if (!CHECK_PTR(link, "attach A to /" UPD_CG))
		goto out;
	kfd = tl_kmsg_open();

	err = bpf_link__update_map(link, skel->maps.upd_b);
	CHECK(err == -EINVAL, "update to system-wide ops: expected -EINVAL, got %d", err);
	err = bpf_link__update_map(link, other->maps.upd_b);
	CHECK(err == -EINVAL, "update to ops of /upd_other: expected -EINVAL, got %d", err);
	if (CHECK_OK(tl_cap_effective(CAP_SYS_ADMIN, false), "drop CAP_SYS_ADMIN")) {
		err = bpf_link__update_map(link, other->maps.upd_a);
		tl_cap_effective(CAP_SYS_ADMIN, true);
		CHECK(err == -EPERM, "update without CAP_SYS_ADMIN: expected -EPERM, got %d", err);
	}
	CHECK_EQ(link_map_id(link), map_id(skel->maps.upd_a), "the link's map id (A's)");
	CHECK(listed("test_upd_a", cg, NULL), "A no longer listed at /" UPD_CG);
	CHECK(!listed("test_upd_b", 0, NULL) && !listed("test_upd_b", tl_cg_id("upd_other"), NULL),
	      "a refused B is listed");

	upd_one_oom("the OOM after the refused updates");
	CHECK_EQ(skel->bss->kills[0], 1, "A's kills");
	CHECK_EQ(skel->bss->calls[1] + other->bss->calls[0] + other->bss->calls[1], 0,
		 "calls of the refused ops");
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	CHECK_EQ(occurrences(kmsg, "an update keeps the target (-EINVAL)"), 2,
		 "kernel log lines saying why an update was refused");
	/* a rate limit of its own: refused attaches of other tests cannot hide it */
	CHECK_EQ(occurrences(kmsg, "update bpf_oom_ops: CAP_SYS_ADMIN in the initial user "
				   "namespace is required (-EPERM)"),
		 1, "kernel log lines saying why the update without CAP_SYS_ADMIN was refused");
	CHECK(!strstr(kmsg, "replaced by"), "a refused update was logged as done");
	if (tl_failed())
		printf("# kernel log:\n%s", kmsg);
out:
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);
	oom_update_bpf__destroy(skel);
	oom_update_bpf__destroy(other);
	tl_cg_destroy("upd_other");
	tl_cg_destroy(UPD_CG);
}

/* What the OOM loop saw, in memory it shares with the test. */
struct upd_loop {
	volatile int stop;
	volatile int children;	/* reaped */
	volatile int killed;	/* of them, by SIGKILL */
};

/* Children allocating past memory.max, one after another, until told to stop. */
static int upd_loop_fn(void *arg, int ready)
{
	struct upd_loop *s = arg;

	tl_write_file("/proc/self/oom_score_adj", "0");
	tl_child_ready(ready);
	while (!s->stop) {
		int pid = fork(), status;

		if (pid == 0) {
			tl_touch(64 * MiB);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			return 20;
		s->children++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			s->killed++;
	}
	return 0;
}

static char upd_log[1 << 21];

/*
 * Check every policy kill line of @log: made by A or B as the programs
 * themselves recorded (victim pids), one per episode; returns how many.
 */
static int upd_check_kill_lines(const char *log, struct oom_update_bpf *skel, const char *where)
{
	unsigned long long last_episode = 0, episode;
	int lines = 0, seen[2] = { 0, 0 };
	const char *l;

	for (l = strstr(log, "oom_policy="); l; l = strstr(l + 1, "oom_policy=")) {
		const char *end = strchr(l, '\n'), *br;
		int who, pid, n;
		bool found = false;

		if (!strncmp(l, "oom_policy=test_upd_a ", 22))
			who = 0;
		else if (!strncmp(l, "oom_policy=test_upd_b ", 22))
			who = 1;
		else {
			CHECK(false, "a kill line of neither A nor B: %.*s", (int)(end ? end - l : 80), l);
			continue;
		}
		lines++;
		br = strstr(l, "], episode ");
		if (!CHECK(br && (!end || br < end) && !strncmp(l + 22, where, strlen(where)),
			   "unexpected kill line: %.*s", (int)(end ? end - l : 80), l))
			continue;
		episode = strtoull(br + strlen("], episode "), NULL, 10);
		CHECK(episode > last_episode, "episode %llu after %llu: two kills in one episode?",
		      episode, last_episode);
		last_episode = episode;
		while (br > l && br[-1] != '[')
			br--;
		pid = atoi(br);
		for (n = 0; n < (int)skel->bss->kills[who] && n < 512; n++)
			found |= (int)skel->bss->victims[who][n] == pid;
		CHECK(found, "the log says %s killed %d, which its program did not record",
		      who ? "B" : "A", pid);
		seen[who]++;
	}
	CHECK_EQ(seen[0], skel->bss->kills[0], "A's kill lines vs A's kills");
	CHECK_EQ(seen[1], skel->bss->kills[1], "B's kill lines vs B's kills");
	return lines;
}

/*
 * OOMs in a loop in one memcg while the link is updated from A to B and
 * back at least 100 times: every OOM is decided by A or B, whichever is
 * attached (the log line names the program that ran), with exactly one
 * kill, never by the kernel; every update succeeds, at once.
 */
static void test_oom_update_during_ooms(void)
{
	struct oom_update_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct upd_loop *s;
	unsigned long long cg, ooms = 0;
	unsigned long lost = tl_kmsg_lost;
	int kfd = -1, loop = -1, i = 0, ok = 0, lines, status = -1;
	size_t used = 0;
	double deadline;
	char where[48];

	if (skip_without_task_kfuncs())
		return;
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(s != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	memset(s, 0, sizeof(*s));
	if (!upd_cg_create())
		goto out;
	cg = tl_cg_id(UPD_CG);
	upd_where(cg, where, sizeof(where));
	skel = upd_load_attach_a(cg, &link);
	if (!link)
		goto out;
	kfd = tl_kmsg_open();
	loop = tl_spawn_in_cg(UPD_CG, upd_loop_fn, s);
	if (!CHECK(loop > 0, "the OOM loop did not start: %d", loop))
		goto out;

	/* 100 updates, and on until each policy has decided 5 OOMs (60 s at most) */
	deadline = tl_now() + 60;
	for (i = 0; (i < 100 || skel->bss->kills[0] < 5 || skel->bss->kills[1] < 5) &&
		    skel->bss->kills[0] + skel->bss->kills[1] < 400 && tl_now() < deadline; i++) {
		int err = bpf_link__update_map(link, i % 2 ? skel->maps.upd_a : skel->maps.upd_b);

		if (!CHECK(!err, "update %d (to %s): %d", i, i % 2 ? "A" : "B", err))
			break;
		ok++;
		usleep(5000 + (i % 7) * 5000);
		used += tl_kmsg_read(kfd, upd_log + used, sizeof(upd_log) - used);
	}
	/* the loop ends after its current child */
	s->stop = 1;
	for (int ms = 0; ms < 30000; ms += 10) {
		if (waitpid(loop, &status, WNOHANG) == loop) {
			loop = -1;
			break;
		}
		usleep(10000);
	}
	CHECK(loop < 0, "the OOM loop did not stop within 30 s");
	used += tl_kmsg_read(kfd, upd_log + used, sizeof(upd_log) - used);

	printf("# %d updates, %d OOMs in the loop, %llu decided by A, %llu by B\n", ok,
	       s->children, (unsigned long long)skel->bss->kills[0],
	       (unsigned long long)skel->bss->kills[1]);
	CHECK(ok >= 100, "only %d updates in 60 s", ok);
	CHECK(skel->bss->kills[0] >= 5 && skel->bss->kills[1] >= 5,
	      "each policy should have decided 5 OOMs during the updates: A %llu, B %llu",
	      (unsigned long long)skel->bss->kills[0], (unsigned long long)skel->bss->kills[1]);
	CHECK(status == 0, "the loop's exit status: 0x%x, expected 0 (it is never OOM-killed itself)",
	      status);
	CHECK_EQ(s->killed, s->children, "children of the loop killed by SIGKILL");
	CHECK_EQ(skel->bss->failures[0] + skel->bss->failures[1], 0, "failed kills of A and B");
	CHECK_EQ(skel->bss->kills[0] + skel->bss->kills[1], s->killed, "kills of A and B");
	tl_cg_read_key(UPD_CG, "memory.events", "oom_kill", &ooms);
	CHECK_EQ(ooms, s->killed, UPD_CG " memory.events oom_kill");
	CHECK_EQ(tl_kmsg_lost, lost, "kernel log records lost before they were read");
	CHECK(used < sizeof(upd_log) - 4096, "the kernel log filled the test's buffer");
	lines = upd_check_kill_lines(upd_log, skel, where);
	CHECK_EQ(lines, s->killed, "policy kill lines in the kernel log");
	CHECK_EQ(occurrences(upd_log, "Killed process "), s->killed, "'Killed process' lines");
	CHECK(!strstr(upd_log, "oom_policy=default"), "the kernel OOM killer decided an OOM");
	CHECK_EQ(occurrences(upd_log, "replaced by test_upd_"), ok,
		 "'replaced by' lines in the kernel log");
	CHECK(listed(ok % 2 ? "test_upd_b" : "test_upd_a", cg, NULL),
	      "the last update's ops not listed");
	if (tl_failed())
		printf("# kernel log:\n%s", upd_log);
out:
	if (loop > 0)
		tl_reap(loop, SIGKILL);
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);
	oom_update_bpf__destroy(skel);
	tl_cg_destroy(UPD_CG);
	munmap(s, sizeof(*s));
}

/*
 * An update to the link's own map changes nothing and succeeds: the policy
 * stays attached, its counters and "since" go on, nothing is logged as
 * replaced, and it decides the next OOM.
 */
static void test_oom_update_same_map(void)
{
	struct oom_update_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	unsigned long long cg;
	long handled = -1;
	int kfd = -1, err;

	if (skip_without_task_kfuncs())
		return;
	if (!upd_cg_create())
		goto out;
	cg = tl_cg_id(UPD_CG);
	skel = upd_load_attach_a(cg, &link);
	if (!link)
		goto out;
	kfd = tl_kmsg_open();
	upd_one_oom("the OOM before the update");

	err = bpf_link__update_map(link, skel->maps.upd_a);
	CHECK(err == 0, "update from A to A: expected 0, got %d", err);
	CHECK_EQ(link_map_id(link), map_id(skel->maps.upd_a), "the link's map id (A's)");
	CHECK(listed("test_upd_a", cg, &handled), "A not listed at /" UPD_CG " after the update");
	CHECK_EQ(handled, 1, "A's handled count after the update (kept: nothing was replaced)");

	upd_one_oom("the OOM after the update");
	CHECK_EQ(skel->bss->kills[0], 2, "A's kills");
	CHECK_EQ(skel->bss->calls[1], 0, "B's calls");
	CHECK_EQ(skel->bss->failures[0], 0, "A's failed kills");
	CHECK(listed("test_upd_a", cg, &handled), "A not listed after its second OOM");
	CHECK_EQ(handled, 2, "A's handled count after its second OOM");
	CHECK_EQ(tl_cg_event(UPD_CG, "oom_kill"), 2, UPD_CG " memory.events oom_kill");
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	CHECK(!strstr(kmsg, "replaced by"), "an update to the same map was logged as a replacement");
	CHECK(!strstr(kmsg, "oom_policy=default"), "the kernel OOM killer decided an OOM");
	if (tl_failed())
		printf("# kernel log:\n%s", kmsg);
out:
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);
	oom_update_bpf__destroy(skel);
	tl_cg_destroy(UPD_CG);
}

/*
 * Once the cgroup is removed and its offline work has dropped the
 * attachment, an update fails with -ENOENT, to other ops and to the link's
 * own map alike; the link keeps its map and nothing is attached.
 */
static void test_oom_update_after_cgroup_removed(void)
{
	struct oom_update_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	unsigned long long cg;
	char want[200];
	int kfd = -1, err, i;

	if (skip_without_task_kfuncs())
		return;
	if (!upd_cg_create())
		goto out;
	cg = tl_cg_id(UPD_CG);
	skel = upd_load_attach_a(cg, &link);
	if (!link)
		goto out;
	kfd = tl_kmsg_open();

	if (!CHECK_OK(tl_cg_destroy(UPD_CG), "rmdir /" UPD_CG))
		goto out;
	/* the offline work drops the attachment */
	for (i = 0; i < 300 && listed("test_upd_a", cg, NULL); i++)
		usleep(10000);
	if (!CHECK(!listed("test_upd_a", cg, NULL),
		   "A still listed 3 s after its cgroup was removed"))
		goto out;

	err = bpf_link__update_map(link, skel->maps.upd_b);
	CHECK(err == -ENOENT, "update from A to B after the rmdir: expected -ENOENT, got %d", err);
	err = bpf_link__update_map(link, skel->maps.upd_a);
	CHECK(err == -ENOENT, "update from A to A after the rmdir: expected -ENOENT, got %d", err);
	CHECK_EQ(link_map_id(link), map_id(skel->maps.upd_a), "the link's map id (A's)");
	CHECK(!listed("test_upd_a", cg, NULL) && !listed("test_upd_b", cg, NULL),
	      "a policy listed at the removed cgroup %llu", cg);

	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	snprintf(want, sizeof(want),
		 "update: policy test_upd_a on cgroup %llu is no longer attached (its cgroup was removed) (-ENOENT)",
		 cg);
	CHECK_EQ(occurrences(kmsg, want), 2, "kernel log lines saying why the updates failed");
	CHECK(!strstr(kmsg, "replaced by"), "a failed update was logged as done");
	if (tl_failed())
		printf("# kernel log:\n%s", kmsg);
out:
	if (kfd >= 0)
		close(kfd);
	bpf_link__destroy(link);	/* detached already: a no-op */
	oom_update_bpf__destroy(skel);
	tl_cg_destroy(UPD_CG);
}

/* An update from its own thread, and what it saw when it returned. */
struct upd_waiter {
	struct bpf_link *link;
	struct bpf_map *map;
	struct oom_update_slow_bpf *slow;
	volatile int started;
	volatile int returned;
	int err;
	unsigned long long returned_ns;		/* CLOCK_MONOTONIC */
	unsigned long long slow_exited_ns;	/* A's exited_ns then */
};

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *upd_waiter_fn(void *arg)
{
	struct upd_waiter *w = arg;
	int err;

	w->started = 1;
	err = bpf_link__update_map(w->link, w->map);
	w->returned_ns = mono_ns();
	w->slow_exited_ns = w->slow->bss->exited_ns;
	w->err = err;
	__atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait up to @ms for the waiter to return; true if it did (and was joined). */
static bool upd_waiter_join(pthread_t thread, struct upd_waiter *w, int ms)
{
	for (int i = 0; i < ms / 10 && !__atomic_load_n(&w->returned, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	if (!__atomic_load_n(&w->returned, __ATOMIC_ACQUIRE))
		return false;
	pthread_join(thread, NULL);
	return true;
}

/* Wait up to 10 s for the BPF object @id (of @get_fd_by_id's kind) to be gone. */
static bool upd_id_gone(int (*get_fd_by_id)(__u32 id), unsigned int id)
{
	for (int i = 0; i < 1000; i++) {
		int fd = get_fd_by_id(id);

		if (fd < 0 && errno == ENOENT)
			return true;
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return false;
}

/*
 * An update waits for the handler that runs the old ops. Policy A (its own
 * object) blocks in its OOM handler until released; the link is updated to
 * B (another object) from another thread, which must still wait 300 ms
 * later, and return 0 only after A's handler returned. Then A's object is
 * destroyed, so the kernel frees its map and programs, and B decides the
 * next OOM. One kill per OOM, neither by the kernel.
 */
static void test_oom_update_waits_for_running_handler(void)
{
	struct oom_update_slow_bpf *slow = NULL;
	struct oom_update_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct upd_waiter w = {};
	struct bpf_prog_info pinfo = {};
	__u32 plen = sizeof(pinfo);
	unsigned int slow_map_id = 0;
	unsigned long long cg, entered, released_ns;
	bool waiting = false, leak_link = false;
	int kfd = -1, child = -1, i;
	char where[48], want[160];
	pthread_t thread;

	if (skip_without_task_kfuncs())
		return;
	if (!upd_cg_create())
		goto out;
	cg = tl_cg_id(UPD_CG);
	upd_where(cg, where, sizeof(where));
	slow = oom_update_slow_bpf__open();
	skel = oom_update_bpf__open();
	if (!CHECK_PTR(slow, "open oom_update_slow") || !CHECK_PTR(skel, "open oom_update"))
		goto out;
	slow->struct_ops.upd_slow->cgroup_id = cg;
	skel->struct_ops.upd_a->cgroup_id = cg;
	skel->struct_ops.upd_b->cgroup_id = cg;
	if (!CHECK_OK(oom_update_slow_bpf__load(slow), "load oom_update_slow") ||
	    !CHECK_OK(oom_update_bpf__load(skel), "load oom_update"))
		goto out;
	slow_map_id = map_id(slow->maps.upd_slow);
	if (!CHECK_OK(bpf_prog_get_info_by_fd(bpf_program__fd(slow->progs.upd_slow_oom), &pinfo,
					      &plen), "A's program info"))
		goto out;
	link = bpf_map__attach_struct_ops(slow->maps.upd_slow);
	if (!CHECK_PTR(link, "attach A (slow)"))
		goto out;
	kfd = tl_kmsg_open();

	/* an OOM in /upd_test: A's handler enters and waits */
	child = tl_spawn_in_cg(UPD_CG, upd_alloc_fn, NULL);
	if (!CHECK(child > 0, "the allocating child did not start: %d", child))
		goto out;
	for (i = 0; i < 2000 && !slow->bss->entered_ns; i++)
		usleep(10000);
	entered = slow->bss->entered_ns;
	if (!CHECK(entered, "A's handler did not run within 20 s"))
		goto out;

	/* the update to B, from another thread */
	w.link = link;
	w.map = skel->maps.upd_b;
	w.slow = slow;
	if (!CHECK(!pthread_create(&thread, NULL, upd_waiter_fn, &w), "pthread_create"))
		goto out;
	waiting = true;
	while (!w.started)
		usleep(1000);
	usleep(300000);
	CHECK(!__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE),
	      "the update returned (%d) 300 ms after it started, while A's handler still ran (entered %llu ms before, returned: %s)",
	      w.err, (mono_ns() - entered) / 1000000, slow->bss->exited_ns ? "yes" : "no");
	CHECK(!slow->bss->exited_ns, "A's handler returned before it was released");
	/* the swap is done: only the wait for A is left */
	CHECK(listed("test_upd_b", cg, NULL), "B not listed while the update waits for A");

	released_ns = mono_ns();
	slow->bss->release = 1;
	if (!CHECK(upd_waiter_join(thread, &w, 15000),
		   "the update did not return 15 s after A was released")) {
		leak_link = true;	/* the thread still uses it */
		goto out;
	}
	waiting = false;
	CHECK(w.err == 0, "the update from A to B: expected 0, got %d", w.err);
	CHECK(w.slow_exited_ns, "the update returned before A's handler did");
	/* (had it not waited, A's handler may still be finishing) */
	for (i = 0; i < 1000 && !slow->bss->exited_ns; i++)
		usleep(10000);
	if (!CHECK(slow->bss->exited_ns, "A's handler did not return 10 s after it was released"))
		goto out;
	CHECK(w.returned_ns >= slow->bss->exited_ns,
	      "the update returned at %llu ns, A's handler at %llu ns", w.returned_ns,
	      (unsigned long long)slow->bss->exited_ns);
	CHECK(slow->bss->exited_ns >= released_ns, "A's handler returned before it was released");
	CHECK(!slow->bss->timed_out, "A's handler gave up waiting (5 s) instead of being released");
	CHECK(tl_wait_killed(child, 10000), "the allocating child was not killed by SIGKILL");
	child = -1;
	CHECK_EQ(slow->bss->calls, 1, "A's calls");
	CHECK_EQ(slow->bss->kills, 1, "A's kills");
	CHECK_EQ(link_map_id(link), map_id(skel->maps.upd_b), "the link's map id after the update");
	printf("# A's handler ran %.3f s; the update returned %.3f ms after it\n",
	       (slow->bss->exited_ns - entered) / 1e9,
	       ((long long)w.returned_ns - (long long)slow->bss->exited_ns) / 1e6);

	/* A's object goes: nothing holds its map and program any more */
	oom_update_slow_bpf__destroy(slow);
	slow = NULL;
	CHECK(upd_id_gone(bpf_map_get_fd_by_id, slow_map_id),
	      "A's map (id %u) still exists 10 s after its object was destroyed", slow_map_id);
	CHECK(upd_id_gone(bpf_prog_get_fd_by_id, pinfo.id),
	      "A's program (id %u) still exists 10 s after its object was destroyed", pinfo.id);

	upd_one_oom("the OOM after A was freed");
	CHECK_EQ(skel->bss->calls[1], 1, "B's calls");
	CHECK_EQ(skel->bss->kills[1], 1, "B's kills");
	CHECK_EQ(skel->bss->calls[0], 0, "calls of the unattached upd_a");
	CHECK_EQ(skel->bss->failures[1], 0, "B's failed kills");
	CHECK_EQ(tl_cg_event(UPD_CG, "oom_kill"), 2, UPD_CG " memory.events oom_kill");
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	snprintf(want, sizeof(want), "oom_policy=test_upd_slow %s: killing", where);
	CHECK_EQ(occurrences(kmsg, want), 1,
		 "kernel log lines 'oom_policy=test_upd_slow ...: killing'");
	snprintf(want, sizeof(want), "oom_policy=test_upd_b %s: killing", where);
	CHECK_EQ(occurrences(kmsg, want), 1,
		 "kernel log lines 'oom_policy=test_upd_b ...: killing'");
	CHECK_EQ(occurrences(kmsg, "Killed process "), 2, "'Killed process' lines");
	snprintf(want, sizeof(want), "policy test_upd_slow replaced by test_upd_b on cgroup %llu",
		 cg);
	CHECK_EQ(occurrences(kmsg, want), 1, "'replaced by' lines");
	CHECK(!strstr(kmsg, "oom_policy=default"), "the kernel OOM killer decided an OOM");
	if (tl_failed())
		printf("# kernel log:\n%s", kmsg);
out:
	/* never leave the handler spinning, nor the thread using what goes */
	if (slow)
		slow->bss->release = 1;
	if (waiting && !leak_link)
		leak_link = !upd_waiter_join(thread, &w, 15000);
	if (child > 0)
		tl_reap(child, SIGKILL);
	if (kfd >= 0)
		close(kfd);
	if (!leak_link) {
		bpf_link__destroy(link);
		oom_update_slow_bpf__destroy(slow);
		oom_update_bpf__destroy(skel);
	}
	tl_cg_destroy(UPD_CG);
}

/* ---- IBT, as far as the VM can tell ------------------------------------ */

#ifdef __aarch64__
/*
 * arm64: no IBT, and no HAVE_STATIC_CALL on Debian's kernels, so every call
 * into a resolved kernel function is the generic static call, an indirect
 * one; that is safe because Debian's GCC-built kernels have no kernel BTI
 * (the module refuses to build for one that has). Check that
 * /proc/bpf_oom/ksyms reports exactly that on the running kernel.
 */
static void test_oom_ibt_direct_calls(void)
{
	char line[256], name[128], kind[16], entry[16], tramp[16];
	int calls = 0, bti = 0;
	FILE *f = fopen("/proc/bpf_oom/ksyms", "r");

	if (!CHECK_PTR(f, "open /proc/bpf_oom/ksyms"))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %15s %15s %15s", name, kind, entry, tramp) != 4 ||
		    strcmp(kind, "call"))
			continue;
		calls++;
		bti += !strcmp(entry, "bti");
		CHECK(!strcmp(tramp, "indirect"), "%s: static call is '%s', not the generic (indirect) one",
		      name, tramp);
		CHECK(!strcmp(entry, "bti") || !strcmp(entry, "nobti"), "%s: entry state '%s'",
		      name, entry);
	}
	fclose(f);
	CHECK_GT(calls, 5, "resolved functions listed");
	printf("# arm64: %d resolved functions, called through generic static calls, %d start with a BTI landing pad\n",
	       calls, bti);
}
#else
/* Is this a KASAN kernel (kallsyms names kasan_report)? */
static bool kernel_has_kasan(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_report\n") != NULL;
	fclose(f);
	return found;
}

static void test_oom_ibt_direct_calls(void)
{
	char line[256], name[128], kind[16], entry[16], tramp[16];
	int calls = 0, direct = 0, sealed = 0;
	bool oom_sealed = false;
	FILE *f = fopen("/proc/bpf_oom/ksyms", "r");

	if (!CHECK_PTR(f, "open /proc/bpf_oom/ksyms"))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %15s %15s %15s", name, kind, entry, tramp) != 4 ||
		    strcmp(kind, "call"))
			continue;
		calls++;
		direct += !strcmp(tramp, "direct");
		sealed += !strcmp(entry, "sealed");
		CHECK(!strcmp(tramp, "direct"), "%s: static call trampoline is '%s', not a direct jmp",
		      name, tramp);
		if (!strcmp(name, "out_of_memory"))
			oom_sealed = !strcmp(entry, "sealed");
	}
	fclose(f);
	CHECK_GT(calls, 5, "resolved functions listed");
	/*
	 * Debian seals it: an indirect call there would fault on IBT CPUs.
	 * Not on a KASAN kernel (make check-debug): each instrumented
	 * function stores its own address in its ASan stack frame record
	 * (movq $<function>, seen in out_of_memory), so objtool keeps the ENDBR.
	 */
	if (kernel_has_kasan())
		printf("# out_of_memory's ENDBR %s: a KASAN kernel keeps it (ASan frame records take the function's address); sealing is checked on the stock kernels\n",
		       oom_sealed ? "sealed" : "not sealed");
	else
		CHECK(oom_sealed, "out_of_memory's ENDBR is not sealed on this kernel");
	printf("# %d resolved functions, all %d called directly, %d of them sealed\n",
	       calls, direct, sealed);
}
#endif

/* ---- the verifier keeps the OOM kfuncs to bpf_oom_ops ------------------ */

static char vlog[1 << 16];

static int verifier_load(const char *prog_name)
{
	size_t sz;
	const void *elf = oom_verifier_bpf__elf_bytes(&sz);

	return tl_load_prog_alone(elf, sz, prog_name, vlog, sizeof(vlog));
}

static void test_oom_verifier_kfuncs_only_in_oom_ops(void)
{
	static const char *const progs[] = { "victim_from_syscall", "victim_from_tracing" };
	const char *msg = "calling kernel function bpf_task_is_oom_victim is not allowed";
	size_t i;
	int err;

	err = verifier_load("control_from_syscall");
	CHECK(!err, "control program (no OOM kfunc) must load, got %d:\n%s", err, vlog);
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		err = verifier_load(progs[i]);
		if (CHECK(err == -EACCES || err == -EINVAL,
			  "%s: expected the verifier to reject it, got %d", progs[i], err))
			CHECK(strstr(vlog, msg), "%s: log lacks \"%s\":\n%s", progs[i], msg, vlog);
	}
}

static void test_oom_module_btf_reuses_kernel_types(void)
{
	const char *why = task_kfuncs_unusable();

	CHECK(!why, "%s (scripts/pahole-dedup.sh should have removed the copies)", why);
}

static const struct tl_test tests[] = {
	{ "oom_module_btf_reuses_kernel_types", test_oom_module_btf_reuses_kernel_types },
	{ "oom_ibt_direct_calls", test_oom_ibt_direct_calls },
	{ "oom_verifier_kfuncs_only_in_oom_ops", test_oom_verifier_kfuncs_only_in_oom_ops },
	{ "oom_upstream_scenario", test_oom_upstream_scenario },
	{ "oom_stock_victim_without_policy", test_oom_stock_victim_without_policy },
	{ "oom_fallback_policy_declines", test_oom_fallback_policy_declines },
	{ "oom_fallback_policy_claims_without_killing",
	  test_oom_fallback_policy_claims_without_killing },
	{ "oom_note_decision", test_oom_note_decision },
	{ "oom_fallback_policy_kills_exited_task", test_oom_fallback_policy_kills_exited_task },
	{ "oom_kill_outside_domain_refused", test_oom_kill_outside_domain_refused },
	{ "oom_kill_unkillable_refused", test_oom_kill_unkillable_refused },
	{ "oom_chain_memcg_policy_handles", test_oom_chain_memcg_policy_handles },
	{ "oom_chain_memcg_policy_declines", test_oom_chain_memcg_policy_declines },
	{ "oom_global_system_wide_policy", test_oom_global_system_wide_policy },
	{ "oom_attach_errors", test_oom_attach_errors },
	{ "oom_attach_race_one_slot", test_oom_attach_race_one_slot },
	{ "oom_attach_races_cgroup_removal", test_oom_attach_races_cgroup_removal },
	{ "oom_cgroup_offline", test_oom_cgroup_offline },
	{ "oom_attach_detach_loop_during_ooms", test_oom_attach_detach_loop_during_ooms },
	{ "oom_update_system_wide", test_oom_update_system_wide },
	{ "oom_update_cgroup", test_oom_update_cgroup },
	{ "oom_update_refuses_other_target", test_oom_update_refuses_other_target },
	{ "oom_update_during_ooms", test_oom_update_during_ooms },
	{ "oom_update_same_map", test_oom_update_same_map },
	{ "oom_update_after_cgroup_removed", test_oom_update_after_cgroup_removed },
	{ "oom_update_waits_for_running_handler", test_oom_update_waits_for_running_handler },
	{ "oom_rmmod_refused_while_attached", test_oom_rmmod_refused_while_attached },
};

int main(int argc, char **argv)
{
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
