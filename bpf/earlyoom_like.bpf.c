// SPDX-License-Identifier: GPL-2.0
/*
 * earlyoom_like - earlyoom's rule, in the kernel: kill the process with the
 * highest OOM score before the kernel has to, once available memory and
 * free swap have both fallen below their thresholds.
 *
 * What it does: a system-wide PSI trigger on memory "some" stalls
 * (stall_threshold_ms per window_ms) is its clock: at each event it reads
 * MemAvailable, MemTotal, SwapFree and SwapTotal as /proc/meminfo computes
 * them (include/bpf_oom/policy.h) and acts when MemAvailable is at most
 * mem_min_percent of MemTotal and SwapFree at most swap_min_percent of
 * SwapTotal (no swap counts as none free), as earlyoom does; with
 * pressure_full_ms set, a second trigger on "full" stalls acts whatever
 * the memory figures. It takes the process with the highest score as
 * /proc/PID/oom_score computes it (the kernel's oom_badness() over the
 * whole system, 0..1333), plus 300 for a command named in prefer_comm,
 * minus 300 for one in avoid_comm (earlyoom's --prefer and --avoid, with
 * exact command names instead of regular expressions; equal scores go to
 * the first process seen, where earlyoom takes the larger), and kills it
 * through the
 * kernel's OOM path: the PSI side declares a system-wide OOM
 * (bpf_out_of_memory()) and the policy's own OOM side, attached
 * system-wide, chooses by the same rule and kills with oom_kill_process().
 * After a kill it waits min_interval_ms before the next. A real OOM meets
 * the same rule within its domain.
 *
 * When to use it: desktops and small servers where the kernel's OOM comes
 * too late (minutes of thrashing first) and a userspace earlyoom could
 * itself be stalled or killed; the same thresholds, in the kernel.
 *
 * Where it fails:
 *  - it looks at memory when the system stalls, not on a timer as earlyoom
 *    does (every 100 ms or more): memory that runs low with no stall at all
 *    (no swap, no page cache left to reclaim, kswapd not yet awake: on
 *    Debian's kernels kswapd starts at the low watermark, about 1% of
 *    memory) is seen only when the first stall comes, which may be the
 *    kernel's own OOM; a stall_threshold_ms of a few ms makes it wake at
 *    the first reclaim;
 *  - command names, not regular expressions, and at most 4 of each;
 *  - between its choice and the declared OOM the victim may exit: the OOM
 *    side chooses again; if nothing is left, the kernel's OOM killer
 *    decides that OOM (bpf-oom's enforced fallback);
 *  - concurrent events are handled one at a time; the one that finds the
 *    policy busy is skipped (counted);
 *  - OOMs constrained by a cpuset or a memory policy are left to the
 *    kernel, as in oom_kernel_default;
 *  - it refuses to attach (-ENOENT from init) on a kernel where libbpf
 *    cannot resolve the counters it reads.
 * Events where memory is above the thresholds are counted (below), not
 * recorded: they are no decision.
 *
 * Knobs (rodata, bpf-oom attach -D NAME=VALUE):
 *   dry_run             record what it would kill, kill nothing
 *   mem_min_percent     MemAvailable threshold, % of MemTotal (10)
 *   swap_min_percent    SwapFree threshold, % of SwapTotal (10)
 *   stall_threshold_ms  the clock: "some" stall per window (10)
 *   window_ms           the PSI window (1000)
 *   pressure_full_ms    act on this much "full" stall per window; 0: off (0)
 *   min_interval_ms     at least this long between kills (1000)
 *   prefer_comm         up to 4 command names, comma-separated: +300
 *   avoid_comm          likewise: -300
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

#define NAMES 4
#define COMM_LEN 16

const volatile bool dry_run;
const volatile u32 mem_min_percent = 10;
const volatile u32 swap_min_percent = 10;
const volatile u32 stall_threshold_ms = 10;
const volatile u32 window_ms = 1000;
const volatile u32 pressure_full_ms;
const volatile u32 min_interval_ms = 1000;
const volatile char prefer_comm[NAMES][COMM_LEN];
const volatile char avoid_comm[NAMES][COMM_LEN];

/* What it did, for whoever reads the map (the tests do). */
u64 events;		/* PSI events */
u64 below;		/* events with memory above the thresholds */
u64 busy;		/* events skipped: another was being handled */
u64 declared;		/* OOMs it declared */
u64 kills;		/* kills by its OOM side */
u64 dry_runs;		/* choices recorded in shadow mode */
u64 declines;		/* events or OOMs it killed nothing for */
s32 last_pid;		/* the last process chosen */
s64 last_score;		/* its score */
s64 last_mem_available;	/* pages, at the last event */
int last_ret;		/* bpf_out_of_memory()'s last result */

static u64 last_kill_ns;


/* held while a PSI event is handled (a try-lock: see lmkd_like) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} handling SEC(".maps");

struct eo_pick {
	s32 pid;
	s64 score;
	u64 start_time;
};
/* one per side; hidden globals, not static: see lmkd_like */
__hidden struct eo_pick psi_pick, oom_pick;

static __always_inline bool comm_in(const char *comm, const volatile char names[NAMES][COMM_LEN])
{
	int i, j;

	for (i = 0; i < NAMES; i++) {
		if (!names[i][0])
			continue;
		for (j = 0; j < COMM_LEN; j++) {
			if (comm[j] != names[i][j])
				break;
			if (!comm[j])
				return true;
		}
		if (j == COMM_LEN)
			return true;
	}
	return false;
}

/*
 * /proc/PID/oom_score (proc_oom_score() of fs/proc/base.c: the kernel's
 * oom_badness() over totalram + swap, scaled to 0..2000, then by 2/3),
 * with earlyoom's +/-300 for preferred and avoided commands. Equal scores:
 * the first process seen stays.
 */
static __always_inline void eo_consider(struct eo_pick *k, struct task_struct *p, u64 totalpages,
					bool precise)
{
	char comm[COMM_LEN];
	long points;
	s64 score;
	u64 scaled;

	if (bpf_oom_task_unkillable(p) || bpf_oom_task_is_victim(p))
		return;
	points = bpf_oom_badness(p->pid, p->start_time, totalpages, precise);
	if (points == BPF_OOM_POINTS_NONE)
		return;
	/*
	 * 1000 + points * 1000 / totalpages is never negative (points is at
	 * least -totalpages); BPF's baseline division is unsigned only.
	 */
	if (points < 0)
		scaled = 1000 - (u64)(-points) * 1000 / totalpages;
	else
		scaled = 1000 + (u64)points * 1000 / totalpages;
	score = (s64)(scaled * 2 / 3);
	__builtin_memcpy(comm, p->comm, COMM_LEN);
	if (comm_in(comm, prefer_comm))
		score += 300;
	if (comm_in(comm, avoid_comm))
		score -= 300;
	if (k->pid && score <= k->score)
		return;
	k->pid = p->tgid;
	k->score = score;
	k->start_time = p->start_time;
}

/* every process (@memcg NULL), or those of @memcg's subtree */
static __always_inline void eo_select(struct eo_pick *k, struct mem_cgroup *memcg)
{
	long swap = bpf_oom_swap_total();
	u64 totalpages = bpf_oom_mem_total() + (swap > 0 ? swap : 0);
	bool precise = bpf_oom_kernel_rss_precise();
	struct task_struct *p;
	bool truncated;
	u32 n, i;

	k->pid = 0;
	if (!totalpages)
		totalpages = 1;
	if (!memcg) {
		bpf_rcu_read_lock();
		bpf_for_each(task, p, NULL, BPF_TASK_ITER_ALL_PROCS)
			eo_consider(k, p, totalpages, precise);
		bpf_rcu_read_unlock();
		return;
	}
	n = bpf_oom_memcg_subtree(memcg, &truncated);
	bpf_oom_for_each_listed_process(i, n, p, eo_consider(k, p, totalpages, precise));
}

SEC("struct_ops.s/init")
int BPF_PROG(eo_init, struct bpf_psi *bpf_psi)
{
	int err;

	/* without the kernel's counters the memory figures would read 0 */
	if (!bpf_oom_meminfo_available())
		return -2;	/* -ENOENT */

	err = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, stall_threshold_ms * 1000,
				     window_ms * 1000);
	if (err || !pressure_full_ms)
		return err;
	return bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM | BPF_PSI_FULL, pressure_full_ms * 1000,
				      window_ms * 1000);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(eo_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	bool full = t->state == bpf_core_enum_value(enum psi_states, PSI_MEM_FULL);
	long total, avail, swap_total, swap_free;
	struct task_struct *victim;
	u32 key = 0, one = 1;
	bool low;
	u64 now;

	if (bpf_map_update_elem(&handling, &key, &one, BPF_NOEXIST)) {
		__sync_fetch_and_add(&busy, 1);
		return;
	}
	/* read under the lock: an earlier holder may just have killed */
	now = bpf_ktime_get_ns();
	total = bpf_oom_mem_total();
	avail = bpf_oom_mem_available();
	swap_total = bpf_oom_swap_total();
	swap_free = bpf_oom_swap_free();
	events++;
	last_mem_available = avail;
	low = total > 0 && avail * 100 <= (long)mem_min_percent * total &&
	      (swap_total <= 0 || swap_free * 100 <= (long)swap_min_percent * swap_total);
	if (!low && !full) {
		below++;
		goto out;
	}
	if (last_kill_ns && now - last_kill_ns < (u64)min_interval_ms * 1000000) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_MIN_INTERVAL);
		__sync_fetch_and_add(&declines, 1);
		goto out;
	}
	eo_select(&psi_pick, NULL);
	victim = bpf_oom_task_get(psi_pick.pid, psi_pick.start_time);
	if (!victim) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_NO_CANDIDATE);
		__sync_fetch_and_add(&declines, 1);
		goto out;
	}
	last_pid = psi_pick.pid;
	last_score = psi_pick.score;
	if (dry_run) {
		bpf_psi_record_dry_run(bpf_psi, t, victim);
		bpf_task_release(victim);
		__sync_fetch_and_add(&dry_runs, 1);
		last_kill_ns = now;	/* as if: the interval holds in shadow mode too */
		goto out;
	}
	bpf_task_release(victim);
	declared++;
	last_ret = bpf_out_of_memory(NULL, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK, "earlyoom_like");
	last_kill_ns = bpf_ktime_get_ns();
out:
	bpf_map_delete_elem(&handling, &key);
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(eo_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct task_struct *victim;
	int killed;

	if (bpf_oom_leave_constrained(oc)) {
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	eo_select(&oom_pick, oc->memcg);
	victim = bpf_oom_task_get(oom_pick.pid, oom_pick.start_time);
	if (!victim) {
		bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_NO_CANDIDATE);
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	last_pid = oom_pick.pid;
	last_score = oom_pick.score;
	killed = bpf_oom_act(oc, victim, dry_run, "BPF OOM policy earlyoom_like");
	__sync_fetch_and_add(killed ? &kills : dry_run ? &dry_runs : &declines, 1);
	return killed;
}

SEC(".struct_ops.link")
struct bpf_oom_ops earlyoom_like = {
	.handle_out_of_memory = (void *)eo_oom,
	.name = "earlyoom_like",
};

SEC(".struct_ops.link")
struct bpf_psi_ops earlyoom_like_psi = {
	.init = (void *)eo_init,
	.handle_psi_event = (void *)eo_event,
	.name = "earlyoom_like",
};
