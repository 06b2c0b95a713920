// SPDX-License-Identifier: GPL-2.0
/*
 * lmkd_like - Android's low-memory killer rule (lmkd, PSI mode), in the
 * kernel.
 *
 * What it does: it watches the system's memory pressure with two PSI
 * triggers, "some" (some_threshold_ms of stall per window: medium pressure)
 * and "full" (full_threshold_ms: critical pressure). Each event allows
 * killing processes down to an oom_score_adj floor: medium_adj at medium
 * pressure (lmkd's ro.lmk.medium, 800: cached apps), critical_adj at
 * critical pressure (ro.lmk.critical, 0: anything but the system's own).
 * Among the processes at or above the floor it takes the highest
 * oom_score_adj band first and, within the band, the largest resident set,
 * as lmkd does (kill_heaviest_task). It kills at most once per
 * kill_timeout_ms (ro.lmk.kill_timeout_ms). The kill goes through the
 * kernel's OOM path: the PSI side declares a system-wide OOM
 * (bpf_out_of_memory()) and the policy's own OOM side, attached
 * system-wide, picks by the same rule and kills with the kernel's
 * oom_kill_process() (report, counters, reaper, memory.oom.group). A real
 * OOM meets the same rule with every band allowed (as lmkd's kernel
 * fallback would), within the OOM's memory cgroup for a memcg OOM.
 *
 * When to use it: machines whose processes carry meaningful oom_score_adj
 * values (Android-like stacks, a desktop session manager that ranks its
 * apps, containers launched with --oom-score-adj): the least important
 * process goes first, before the kernel has to choose, however large the
 * important ones are.
 *
 * Where it fails:
 *  - processes without adj values are all one band (0): it then kills the
 *    largest, like the kernel, but only at critical pressure;
 *  - PSI measures stalls, not free memory: a machine can run out of memory
 *    with little stall (no swap, no page cache to reclaim) and get the
 *    kernel's OOM first, which this policy then decides by the same rule;
 *  - between its choice and the declared OOM the victim may exit: the OOM
 *    side chooses again by the same floor; if nothing is left above it, the
 *    kernel's OOM killer decides that OOM (bpf-oom's enforced fallback);
 *  - "full" system pressure needs every non-idle task stalled at once: one
 *    busy task that does not stall keeps it at medium (as on Android);
 *  - concurrent events (both triggers at once) are handled one at a time;
 *    the one that finds the policy busy is skipped (counted): a critical
 *    event during a medium one waits for the next window;
 *  - OOMs constrained by a cpuset or a memory policy are left to the
 *    kernel, as in oom_kernel_default.
 *
 * Knobs (rodata, bpf-oom attach -D NAME=VALUE):
 *   dry_run            record what it would kill (decision records), kill
 *                      nothing (real OOMs are then the kernel's)
 *   some_threshold_ms  medium pressure: "some" stall per window (70)
 *   full_threshold_ms  critical pressure: "full" stall per window (700)
 *   window_ms          the PSI window (1000)
 *   medium_adj         lowest oom_score_adj killed at medium pressure (800)
 *   critical_adj       lowest oom_score_adj killed at critical pressure (0)
 *   kill_timeout_ms    at least this long between kills (100)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/psi.h>
#include <bpf_oom/policy.h>

char _license[] SEC("license") = "GPL";

const volatile bool dry_run;
const volatile u32 some_threshold_ms = 70;
const volatile u32 full_threshold_ms = 700;
const volatile u32 window_ms = 1000;
const volatile s32 medium_adj = 800;
const volatile s32 critical_adj = 0;
const volatile u32 kill_timeout_ms = 100;

/* What it did, for whoever reads the map (the tests do). */
u64 events_medium, events_critical;	/* PSI events by level */
u64 busy;		/* events skipped: another was being handled */
u64 declared;		/* OOMs it declared */
u64 kills;		/* kills by its OOM side */
u64 dry_runs;		/* choices recorded in shadow mode */
u64 declines;		/* events or OOMs it killed nothing for */
s32 last_pid;		/* the last process chosen */
s32 last_adj;		/* its oom_score_adj */
int last_ret;		/* bpf_out_of_memory()'s last result */

#define NO_FLOOR (BPF_OOM_SCORE_ADJ_MAX + 1)

/*
 * The floor of the OOM the PSI side declares, and the kworker declaring it:
 * the OOM runs in that same task (bpf_out_of_memory() is synchronous), so a
 * real OOM that holds oom_lock meanwhile, in another task, is not mistaken
 * for it.
 */
static s32 declared_floor = NO_FLOOR;
static u32 declaring_tid;
static u64 last_kill_ns;

/*
 * Held while a PSI event is handled: inserting key 0 with BPF_NOEXIST is a
 * try-lock (no atomic exchange in the baseline BPF instruction set).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} handling SEC(".maps");

/* A choice: the highest band, the largest process in it. One per side. */
struct lmk_pick {
	s32 pid;
	s32 adj;
	u64 rss;
	u64 start_time;
};
/*
 * Globals (see policy.h), hidden rather than static: clang splits a static
 * struct into one global per member, which its BTF then describes as the
 * whole struct each (libbpf: "Invalid size"); a hidden global keeps its
 * shape and stays out of the skeleton.
 */
__hidden struct lmk_pick psi_pick, oom_pick;

static __always_inline void lmk_consider(struct lmk_pick *k, struct task_struct *p, s32 floor)
{
	struct mm_struct *mm = p->mm;
	s32 adj;
	u64 rss;

	if (bpf_oom_task_unkillable(p) || !mm || bpf_oom_task_is_victim(p) ||
	    bpf_oom_mm_oom_skip(mm))
		return;
	adj = BPF_CORE_READ(p, signal, oom_score_adj);
	if (adj == BPF_OOM_SCORE_ADJ_MIN || adj < floor)
		return;
	rss = bpf_oom_mm_rss(mm, false);
	if (k->pid && (adj < k->adj || (adj == k->adj && rss <= k->rss)))
		return;
	k->pid = p->tgid;
	k->adj = adj;
	k->rss = rss;
	k->start_time = p->start_time;
}

/* Every process (@memcg NULL), or those of @memcg's subtree. */
static __always_inline void lmk_select(struct lmk_pick *k, s32 floor, struct mem_cgroup *memcg)
{
	struct task_struct *p;
	bool truncated;
	u32 n, i;

	k->pid = 0;
	if (!memcg) {
		bpf_rcu_read_lock();
		bpf_for_each(task, p, NULL, BPF_TASK_ITER_ALL_PROCS)
			lmk_consider(k, p, floor);
		bpf_rcu_read_unlock();
		return;
	}
	n = bpf_oom_memcg_subtree(memcg, &truncated);
	bpf_oom_for_each_listed_process(i, n, p, lmk_consider(k, p, floor));
}

SEC("struct_ops.s/init")
int BPF_PROG(lmk_init, struct bpf_psi *bpf_psi)
{
	int err;

	err = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, some_threshold_ms * 1000,
				     window_ms * 1000);
	if (err)
		return err;
	return bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM | BPF_PSI_FULL, full_threshold_ms * 1000,
				      window_ms * 1000);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(lmk_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	bool critical = t->state == bpf_core_enum_value(enum psi_states, PSI_MEM_FULL);
	s32 floor = critical ? critical_adj : medium_adj;
	struct task_struct *victim;
	u32 key = 0, one = 1;
	u64 now;

	if (bpf_map_update_elem(&handling, &key, &one, BPF_NOEXIST)) {
		__sync_fetch_and_add(&busy, 1);
		return;
	}
	now = bpf_ktime_get_ns();	/* under the lock: an earlier holder may just have killed */
	if (critical)
		events_critical++;
	else
		events_medium++;
	if (last_kill_ns && now - last_kill_ns < (u64)kill_timeout_ms * 1000000) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_MIN_INTERVAL);
		__sync_fetch_and_add(&declines, 1);
		goto out;
	}
	lmk_select(&psi_pick, floor, NULL);
	victim = bpf_oom_task_get(psi_pick.pid, psi_pick.start_time);
	if (!victim) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_NO_CANDIDATE);
		__sync_fetch_and_add(&declines, 1);
		goto out;
	}
	last_pid = psi_pick.pid;
	last_adj = psi_pick.adj;
	if (dry_run) {
		bpf_psi_record_dry_run(bpf_psi, t, victim);
		bpf_task_release(victim);
		__sync_fetch_and_add(&dry_runs, 1);
		last_kill_ns = now;	/* as if: the interval holds in shadow mode too */
		goto out;
	}
	bpf_task_release(victim);
	declared_floor = floor;
	declaring_tid = (u32)bpf_get_current_pid_tgid();
	declared++;
	last_ret = bpf_out_of_memory(NULL, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK, "lmkd_like");
	declaring_tid = 0;
	declared_floor = NO_FLOOR;
	last_kill_ns = bpf_ktime_get_ns();
out:
	bpf_map_delete_elem(&handling, &key);
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(lmk_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	s32 floor = NO_FLOOR;
	struct task_struct *victim;
	int killed;

	if (bpf_oom_leave_constrained(oc)) {
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	if (declaring_tid && declaring_tid == (u32)bpf_get_current_pid_tgid())
		floor = declared_floor;
	/* a real OOM: every band, within its domain */
	if (floor == NO_FLOOR)
		floor = BPF_OOM_SCORE_ADJ_MIN + 1;
	lmk_select(&oom_pick, floor, oc->memcg);
	victim = bpf_oom_task_get(oom_pick.pid, oom_pick.start_time);
	if (!victim) {
		bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_NO_CANDIDATE);
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	last_pid = oom_pick.pid;
	last_adj = oom_pick.adj;
	killed = bpf_oom_act(oc, victim, dry_run, "BPF OOM policy lmkd_like");
	__sync_fetch_and_add(killed ? &kills : dry_run ? &dry_runs : &declines, 1);
	return killed;
}

SEC(".struct_ops.link")
struct bpf_oom_ops lmkd_like = {
	.handle_out_of_memory = (void *)lmk_oom,
	.name = "lmkd_like",
};

SEC(".struct_ops.link")
struct bpf_psi_ops lmkd_like_psi = {
	.init = (void *)lmk_init,
	.handle_psi_event = (void *)lmk_event,
	.name = "lmkd_like",
};
