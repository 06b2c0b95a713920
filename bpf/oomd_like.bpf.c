// SPDX-License-Identifier: GPL-2.0
/*
 * oomd_like - systemd-oomd's memory-pressure rule (ManagedOOMMemoryPressure=
 * kill), in the kernel.
 *
 * What it does: it watches one cgroup (the `cgroup` knob; the whole system
 * if unset) with a PSI "full" memory trigger: mem_pressure_limit percent of
 * stall in a window_ms window (10 s and 60 %, systemd-oomd's avg10 against
 * ManagedOOMMemoryPressureLimit=). Once the pressure has stayed over the
 * limit for duration_ms (ManagedOOMMemoryPressureDurationSec=, 30 s) and the
 * cgroup has seen reclaim in the last 30 s (its pgscan grew between two
 * events), it kills one cgroup under it and then waits post_action_delay_ms
 * (15 s) before acting again, as systemd-oomd does (a kill by its OOM side
 * for a real OOM starts the delay too). The candidates are the cgroups below the
 * watched one: the leaves, and a cgroup with memory.oom.group set, taken
 * whole (its subtree is not searched further). They are ranked as
 * systemd-oomd ranks them: `avoid` ones last, then by reclaim activity
 * (pgscan: the pages the kernel scanned to reclaim from the cgroup since the
 * PSI side's previous look, at the previous event; since the cgroup's
 * creation at the first event of all), then by memory usage; `omit` ones are
 * never chosen, nor is a cgroup with no usage and no reclaim ever, nor one
 * with nothing to kill (only page cache, or -1000 processes: the next is
 * tried, up to OOMD_TRIES). Every process of the chosen cgroup is killed
 * (systemd-oomd SIGKILLs the whole cgroup), but for oom_score_adj -1000
 * ones, which the kernel promises never to OOM-kill. The kill goes through the kernel's OOM path: the PSI
 * side declares an OOM in the watched cgroup (bpf_out_of_memory()) and the
 * policy's own OOM side, attached system-wide, chooses and kills with the
 * kernel's oom_kill_process() (report, counters, reaper), all processes in
 * one decision record. A real OOM inside the watched cgroup (its limit or a
 * descendant's) is decided by the same rule; other OOMs, and every real OOM
 * when it watches the whole system, are left to the kernel.
 *
 * When to use it: where systemd-oomd fits - a slice of services or user
 * sessions on a machine with swap (zram, as Fedora ships it), where a
 * workload thrashing the others should go as a whole before the machine
 * crawls - without a daemon that must itself get memory and CPU to act,
 * and with the kernel's OOM killer as the enforced fallback.
 *
 * Where it fails:
 *  - without swap, anonymous memory is never scanned: pgscan then sees
 *    only page cache and usage decides, and pressure may not build before
 *    the limit is hit (the kernel's OOM, decided by the same rule);
 *  - pgscan counts pages scanned in a cgroup, not by it: the cgroup
 *    reclaim takes from (often the largest idle one, under a shared limit)
 *    can outrank the one that allocates, as in systemd-oomd;
 *  - "full" pressure needs every non-idle task of the cgroup stalled at
 *    once; one busy task that does not stall hides the others' stalls;
 *  - PSI's window is at most 10 s and a trigger fires at most once per
 *    window: duration_ms is met in whole windows, the pgscan rate is over
 *    the last window, not systemd-oomd's last second, and a handler held
 *    up for two windows (waiting for oom_lock) starts the duration over;
 *  - omit/avoid name cgroups by id (a path on the command line), at most
 *    OOMD_PREFS each; a cgroup created later under the same path is not
 *    the same cgroup; as in systemd, neither applies to descendants;
 *  - at most OOMD_MAX_PROCS processes of the chosen cgroup (and
 *    OOMD_MAX_GROUP memory cgroups of an oom.group subtree) are killed per
 *    decision; the rest stay for the next one;
 *  - one watched cgroup per policy; ManagedOOMSwap= (kill by swap use) is
 *    not mirrored;
 *  - the OOM it declares is an OOM: if its OOM side then kills nothing
 *    (the chosen processes exited in between, or a -1000 one is all that
 *    is left), the kernel's OOM killer decides it, in the watched cgroup
 *    (the whole system without `cgroup`), omitted cgroups included;
 *    another bpf_oom_ops attached to the watched cgroup or an ancestor
 *    runs before this one's OOM side (bpf-oom's chain order);
 *  - with panic_on_oom set, a declared OOM panics as a real one would
 *    (bpf-oom leaves a panicking OOM to the kernel): watching the whole
 *    system then means a panic; with panic_on_oom=2 watching a cgroup too;
 *  - the processes are listed once per decision: one forked after that
 *    lives; more than the module's victim table (64) makes later OOMs of
 *    the domain wait for victim_wait_ms;
 *  - a leaf is a cgroup without children: one whose children do not enable
 *    the memory controller is neither a candidate nor searched, so its
 *    processes are never chosen (the kernel's fallback may take them);
 *  - removing the watched cgroup ends its PSI trigger: the policy stays
 *    attached, declines every OOM as not in scope, and acts no more until
 *    attached again;
 *  - OOMs constrained by a cpuset or a memory policy are left to the
 *    kernel.
 *
 * Knobs (rodata, bpf-oom attach -D NAME=VALUE):
 *   cgroup                the watched cgroup (a path); unset: the system
 *   dry_run               record what it would kill, kill nothing
 *   mem_pressure_limit    percent of "full" stall per window (60)
 *   window_ms             the PSI window, 500..10000 (10000)
 *   duration_ms           how long the pressure must last (30000)
 *   post_action_delay_ms  quiet time after acting (15000)
 *   omit, avoid           cgroups (paths, comma-separated) never chosen /
 *                         chosen last
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

#define OOMD_PREFS	16	/* omit and avoid entries each */
#define OOMD_MAX_PROCS	1024	/* processes killed per decision */
#define OOMD_MAX_GROUP	64	/* memory cgroups of an oom.group candidate */
#define OOMD_RECLAIM_NS	(30ULL * 1000000000)	/* systemd-oomd's RECLAIM_DURATION_USEC */
#define OOMD_TRIES	8	/* candidates tried, best first, per decision */

const volatile bool dry_run;
const volatile u64 cgroup;
const volatile u32 mem_pressure_limit = 60;
const volatile u32 window_ms = 10000;
const volatile u32 duration_ms = 30000;
const volatile u32 post_action_delay_ms = 15000;
const volatile u64 omit[OOMD_PREFS];
const volatile u64 avoid[OOMD_PREFS];

/* What it did, for whoever reads the map (the tests do). */
u64 events;		/* PSI events */
u64 busy;		/* events skipped: another was being handled */
u64 declared;		/* OOMs it declared */
u64 kills;		/* cgroups killed (decisions) */
u64 killed_procs;	/* processes killed in them */
u64 dry_runs;		/* choices recorded in shadow mode */
u64 declines;		/* events or OOMs it killed nothing for */
u64 omitted;		/* candidates passed over as omit */
u64 last_cgroup;	/* the last cgroup chosen */
u64 last_pgscan;	/* its pgscan since the previous look */
u64 last_usage;		/* its memory usage, bytes */
u32 last_candidates;	/* candidates ranked for it */
bool last_avoided;	/* it was an avoid one (nothing else left) */
int last_ret;		/* bpf_out_of_memory()'s last result */

/*
 * pgscan counters, by name through CO-RE: vm events up to 6.x (only these
 * three are kept per memcg), node stat items in 7.x, which added
 * PGSCAN_PROACTIVE. Flavoured local copies, so vmlinux.h may come from
 * either kernel.
 */
enum node_stat_item___oomd {
	PGSCAN_KSWAPD___n, PGSCAN_DIRECT___n, PGSCAN_KHUGEPAGED___n, PGSCAN_PROACTIVE___n,
};
enum vm_event_item___oomd {
	PGSCAN_KSWAPD___v, PGSCAN_DIRECT___v, PGSCAN_KHUGEPAGED___v,
};

/* The pgscan of every candidate at the previous look, by cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	/* twice the walk's bound: an LRU map evicts before it is full */
	__uint(max_entries, 2 * BPF_OOM_MAX_MEMCGS);
	__type(key, u64);
	__type(value, u64);
} pgscan_seen SEC(".maps");

/* Held while a PSI event is handled (a try-lock, see lmkd_like). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} handling SEC(".maps");

/*
 * PREF_PART: not a candidate, a leaf of the oom.group candidate before it;
 * PREF_EXCL: ruled out for this decision (nothing to kill in it)
 */
enum { PREF_NONE, PREF_AVOID, PREF_OMIT, PREF_PART, PREF_EXCL };

/* A choice and the processes to kill for it. One per side. */
struct oomd_pick {
	u64 id;			/* the chosen cgroup, 0: none */
	u64 pgscan;		/* its pgscan since the previous look */
	u64 usage;
	u32 pref;
	u32 candidates;
	bool group;		/* memory.oom.group: its subtree too */
	int skip_level;		/* in the walk: an oom.group subtree's level */
	u32 nr_cand;		/* the candidates found by the walk */
	int open;		/* in the ranking: the candidate being summed */
	u64 open_total;		/* its pgscan so far */
	u64 open_usage;
	u64 cand[BPF_OOM_MAX_MEMCGS];
	u8 cand_pref[BPF_OOM_MAX_MEMCGS];
	u8 cand_group[BPF_OOM_MAX_MEMCGS];
	u32 nr_ids;
	u64 ids[OOMD_MAX_GROUP];
	u32 nr_excl;		/* candidates ruled out for this decision */
	u64 excl[OOMD_TRIES];
	u32 nr_procs;
	s32 pid[OOMD_MAX_PROCS];
	u64 start_time[OOMD_MAX_PROCS];
};
/* hidden globals, not static: see lmkd_like */
__hidden struct oomd_pick psi_pick, oom_pick;

static u64 streak_start_ns, last_event_ns, last_action_ns, last_reclaim_ns;
static u64 watched_pgscan;
static bool watched_seen;

static __always_inline u64 oomd_stat(struct mem_cgroup *m, bool node, int item)
{
	unsigned long v;

	v = node ? bpf_mem_cgroup_page_state(m, item)
		 : bpf_mem_cgroup_vm_events(m, (enum vm_event_item)item);
	return v == (unsigned long)-1 ? 0 : v;
}

/* memory.stat's pgscan of @m (hierarchical; flush first) */
static __always_inline u64 oomd_pgscan(struct mem_cgroup *m)
{
	u64 n;

	if (bpf_core_enum_value_exists(enum node_stat_item___oomd, PGSCAN_DIRECT___n)) {
		n = oomd_stat(m, true, bpf_core_enum_value(enum node_stat_item___oomd,
							  PGSCAN_KSWAPD___n)) +
		    oomd_stat(m, true, bpf_core_enum_value(enum node_stat_item___oomd,
							  PGSCAN_DIRECT___n)) +
		    oomd_stat(m, true, bpf_core_enum_value(enum node_stat_item___oomd,
							  PGSCAN_KHUGEPAGED___n));
		if (bpf_core_enum_value_exists(enum node_stat_item___oomd, PGSCAN_PROACTIVE___n))
			n += oomd_stat(m, true, bpf_core_enum_value(enum node_stat_item___oomd,
								   PGSCAN_PROACTIVE___n));
		return n;
	}
	return oomd_stat(m, false, bpf_core_enum_value(enum vm_event_item___oomd, PGSCAN_KSWAPD___v)) +
	       oomd_stat(m, false, bpf_core_enum_value(enum vm_event_item___oomd, PGSCAN_DIRECT___v)) +
	       oomd_stat(m, false, bpf_core_enum_value(enum vm_event_item___oomd,
						       PGSCAN_KHUGEPAGED___v));
}


/* The memory cgroup with id @id, referenced, or NULL. */
static __always_inline struct mem_cgroup *oomd_memcg(u64 id)
{
	struct mem_cgroup *m;
	struct cgroup *cg;

	cg = bpf_cgroup_from_id(id);
	if (!cg)
		return NULL;
	m = bpf_get_mem_cgroup(&cg->self);
	bpf_cgroup_release(cg);
	return m;
}


/*
 * What the knobs and the decision so far say of cgroup @id, for the PSI
 * side's pick (@psi) or the OOM side's. A global function: the verifier
 * checks it once, not in every state of the walk that calls it.
 */
__noinline int oomd_pref_of(u64 id, bool psi)
{
	struct oomd_pick *k = psi ? &psi_pick : &oom_pick;
	int i;

	for (i = 0; i < OOMD_TRIES; i++)
		if (i < k->nr_excl && k->excl[i] == id)
			return PREF_EXCL;
	for (i = 0; i < OOMD_PREFS; i++) {
		if (omit[i] && omit[i] == id)
			return PREF_OMIT;
		if (avoid[i] && avoid[i] == id)
			return PREF_AVOID;
	}
	return PREF_NONE;
}

/* The candidate oomd_rank() has summed up (k->open): rank it. */
static __always_inline void oomd_rank_close(struct oomd_pick *k, bool refresh)
{
	u64 id, cur, usage, delta, *seen;
	int o = k->open;

	if (o < 0 || o >= BPF_OOM_MAX_MEMCGS)
		return;
	k->open = -1;
	id = k->cand[o];
	cur = k->open_total;
	usage = k->open_usage;
	seen = bpf_map_lookup_elem(&pgscan_seen, &id);
	delta = seen && *seen <= cur ? cur - *seen : cur;
	if (refresh)
		bpf_map_update_elem(&pgscan_seen, &id, &cur, BPF_ANY);
	if (!cur && !usage)
		return;
	k->candidates++;
	if (k->id && (k->cand_pref[o] > k->pref ||
		      (k->cand_pref[o] == k->pref &&
		       (delta < k->pgscan || (delta == k->pgscan && usage <= k->usage)))))
		return;
	k->id = id;
	k->pgscan = delta;
	k->usage = usage;
	k->pref = k->cand_pref[o];
	k->group = k->cand_group[o];
}

/*
 * Rank the candidates under @root (systemd-oomd's
 * recursively_get_cgroup_context() and compare_pgscan_rate_and_memory_usage()):
 * fills k->id etc.; with @refresh, remembers each candidate's pgscan for the
 * next look (the rate is over the time between looks).
 *
 * pgscan is read from leaves only, each flushed on its own, an oom.group
 * candidate's as the sum of its leaves': from 7.x (mm/memcontrol.c
 * memcg_rstat_updated()) a cgroup with enough pending updates stops
 * counting them into its ancestors, so a flush of an ancestor can find too
 * few to act on and leave its pgscan up to the periodic flush (2 s)
 * behind: a busy cgroup's rate would read 0.
 */
static __always_inline void oomd_rank(struct oomd_pick *k, struct mem_cgroup *root, bool refresh)
{
	struct cgroup_subsys_state *pos;
	struct mem_cgroup *m;
	u32 i;

	k->id = 0;
	k->candidates = 0;
	k->nr_cand = 0;
	k->skip_level = -1;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		struct cgroup *cg = pos->cgroup;
		int level = cg->level;
		u32 n = k->nr_cand;
		bool group;
		u32 pref;
		u64 id;

		if (n >= BPF_OOM_MAX_MEMCGS)
			break;
		if (!(pos->flags & BPF_OOM_CSS_ONLINE))
			continue;
		/* pre-order: an oom.group candidate's subtree follows it */
		if (k->skip_level >= 0 && level > k->skip_level) {
			if (cg->nr_descendants)
				continue;
			/* a leaf of it: its pgscan is part of the group's */
			k->cand[n] = cg->kn->id;
			k->cand_pref[n] = PREF_PART;
			k->cand_group[n] = 0;
			k->nr_cand = n + 1;
			continue;
		}
		k->skip_level = -1;
		m = bpf_get_mem_cgroup(pos);
		if (!m)
			continue;
		group = m->oom_group;
		bpf_put_mem_cgroup(m);
		if (cg->nr_descendants && !group)
			continue;
		if (cg->nr_descendants)
			k->skip_level = level;
		id = cg->kn->id;
		pref = oomd_pref_of(id, k == &psi_pick);
		if (pref == PREF_OMIT)
			__sync_fetch_and_add(&omitted, 1);
		if (pref == PREF_EXCL)
			pref = PREF_OMIT;
		/* a group ruled out still heads its leaves (not summed anywhere) */
		if (pref == PREF_OMIT && !cg->nr_descendants)
			continue;
		k->cand[n] = id;
		k->cand_pref[n] = pref;
		k->cand_group[n] = group && cg->nr_descendants;
		k->nr_cand = n + 1;
	}
	bpf_rcu_read_unlock();

	/* a candidate, then the leaves of it if it is a group: summed, then ranked */
	k->open = -1;
	bpf_for(i, 0, k->nr_cand) {
		u64 cur;

		if (i >= BPF_OOM_MAX_MEMCGS)
			break;
		if (k->cand_pref[i] != PREF_PART) {
			oomd_rank_close(k, refresh);
			if (k->cand_pref[i] == PREF_OMIT)
				continue;	/* and its leaves, with k->open -1 */
			k->open = i;
			k->open_total = 0;
			k->open_usage = 0;
		}
		if (k->open < 0)
			continue;
		m = oomd_memcg(k->cand[i]);
		if (!m)
			continue;	/* removed since */
		if (k->cand_pref[i] != PREF_PART)
			k->open_usage = bpf_mem_cgroup_usage(m);	/* exact: page counter */
		if (k->cand_pref[i] == PREF_PART || !k->cand_group[i]) {
			bpf_mem_cgroup_flush_stats(m);
			cur = oomd_pgscan(m);
			k->open_total += cur;
		}
		bpf_put_mem_cgroup(m);
	}
	oomd_rank_close(k, refresh);
}


/* The processes of the chosen cgroup (its subtree for an oom.group one). */
static __always_inline void oomd_list(struct oomd_pick *k)
{
	struct cgroup_subsys_state *pos;
	struct task_struct *p;
	struct mem_cgroup *m;
	u32 i;

	k->nr_ids = 0;
	k->nr_procs = 0;
	m = oomd_memcg(k->id);
	if (!m)
		return;
	if (k->group) {
		bpf_rcu_read_lock();
		bpf_for_each(css, pos, &m->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
			u32 n = k->nr_ids;

			if (n >= OOMD_MAX_GROUP)
				break;
			k->ids[n] = pos->cgroup->kn->id;
			k->nr_ids = n + 1;
		}
		bpf_rcu_read_unlock();
	} else {
		k->ids[0] = k->id;
		k->nr_ids = 1;
	}
	bpf_put_mem_cgroup(m);
	bpf_for(i, 0, k->nr_ids) {
		if (i >= OOMD_MAX_GROUP)
			break;
		m = oomd_memcg(k->ids[i]);
		if (!m)
			continue;
		bpf_rcu_read_lock();
		bpf_for_each(css_task, p, &m->css, CSS_TASK_ITER_PROCS) {
			u32 n = k->nr_procs;

			if (n >= OOMD_MAX_PROCS)
				break;
			if (bpf_oom_task_unkillable(p) ||
			    p->signal->oom_score_adj == BPF_OOM_SCORE_ADJ_MIN)
				continue;
			k->pid[n] = p->tgid;
			k->start_time[n] = p->start_time;
			k->nr_procs = n + 1;
		}
		bpf_rcu_read_unlock();
		bpf_put_mem_cgroup(m);
	}
}

/*
 * The best candidate under @root with a process to kill, listed in k->pid[]
 * (systemd-oomd's kill loop moves on from a cgroup it cannot kill): a leaf
 * may hold only page cache, or only -1000 or exiting processes. k->id is 0
 * if none of the first OOMD_TRIES has one.
 */
static __always_inline void oomd_choose(struct oomd_pick *k, struct mem_cgroup *root)
{
	u32 try;

	k->nr_excl = 0;
	bpf_for(try, 0, OOMD_TRIES) {
		oomd_rank(k, root, false);
		if (!k->id)
			return;
		oomd_list(k);
		if (k->nr_procs)
			return;
		if (k->nr_excl < OOMD_TRIES)
			k->excl[k->nr_excl++] = k->id;
	}
	k->id = 0;
}

/* The first listed process still there, referenced, or NULL. */
static __always_inline struct task_struct *oomd_first(struct oomd_pick *k)
{
	struct task_struct *t;
	u32 i;

	bpf_for(i, 0, k->nr_procs) {
		if (i >= OOMD_MAX_PROCS)
			break;
		t = bpf_oom_task_get(k->pid[i], k->start_time[i]);
		if (t)
			return t;
	}
	return NULL;
}

static __always_inline void oomd_note(struct oomd_pick *k)
{
	last_cgroup = k->id;
	last_pgscan = k->pgscan;
	last_usage = k->usage;
	last_candidates = k->candidates;
	last_avoided = k->pref == PREF_AVOID;
}

/* the kworker declaring an OOM: the OOM runs in it (see lmkd_like) */
static u32 declaring_tid;

/*
 * Whether the OOM of @memcg (NULL: the system) is this policy's to decide:
 * the one its PSI side declared, or a real one in the watched cgroup's
 * subtree. Watching the whole system, it leaves real OOMs to the kernel:
 * ranking a machine's every memcg OOM by reclaim, and killing whole
 * cgroups for them, is not what systemd-oomd does either.
 */
static __always_inline bool oomd_in_scope(struct mem_cgroup *memcg)
{
	struct cgroup *cg, *w, *anc = NULL;
	u32 want;

	if (declaring_tid && declaring_tid == (u32)bpf_get_current_pid_tgid())
		return true;
	if (!cgroup || !memcg)
		return false;
	w = bpf_cgroup_from_id(cgroup);
	if (!w)
		return false;
	want = w->level;
	bpf_cgroup_release(w);
	cg = memcg->css.cgroup;
	/* (the verifier wants the index bounded: cgroup levels are small) */
	if (want > (u32)cg->level || want > 4096)
		return false;
	/* ancestors[level] is the cgroup itself (include/linux/cgroup-defs.h) */
	bpf_core_read(&anc, sizeof(anc), &cg->ancestors[want]);
	return anc && BPF_CORE_READ(anc, kn, id) == cgroup;
}

SEC("struct_ops.s/init")
int BPF_PROG(oomd_init, struct bpf_psi *bpf_psi)
{
	u32 window_us = window_ms * 1000;

	/* the kernel refuses a threshold of 0 or over the window (-EINVAL) */
	return bpf_psi_create_trigger(bpf_psi, cgroup, PSI_MEM | BPF_PSI_FULL,
				      window_us / 100 * mem_pressure_limit, window_us);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(oomd_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	u64 now, cur, window_ns = (u64)window_ms * 1000000;
	struct task_struct *victim;
	struct mem_cgroup *m;
	u32 key = 0, one = 1;

	if (bpf_map_update_elem(&handling, &key, &one, BPF_NOEXIST)) {
		__sync_fetch_and_add(&busy, 1);
		return;
	}
	now = bpf_ktime_get_ns();
	events++;
	/* a trigger fires at most once a window while the pressure lasts */
	if (!last_event_ns || now - last_event_ns > 2 * window_ns)
		streak_start_ns = now;
	last_event_ns = now;
	m = cgroup ? oomd_memcg(cgroup) : bpf_get_root_mem_cgroup();
	if (!m) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_NO_CANDIDATE);
		__sync_fetch_and_add(&declines, 1);
		goto out;
	}
	bpf_mem_cgroup_flush_stats(m);
	cur = oomd_pgscan(m);
	/* reclaim: its pgscan grew since the previous event (the first sets the base) */
	if (watched_seen && cur > watched_pgscan)
		last_reclaim_ns = now;
	watched_pgscan = cur;
	watched_seen = true;
	if (last_action_ns && now - last_action_ns < (u64)post_action_delay_ms * 1000000) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_MIN_INTERVAL);
		goto look;
	}
	if (now - streak_start_ns < (u64)duration_ms * 1000000 ||
	    !last_reclaim_ns || now - last_reclaim_ns > OOMD_RECLAIM_NS) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_NOT_SUSTAINED);
		goto look;
	}
	/* a choice first: an OOM declared with none would be the kernel's */
	oomd_choose(&psi_pick, m);
	if (!psi_pick.id) {
		bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_NO_CANDIDATE);
		goto look;
	}
	if (dry_run) {
		victim = oomd_first(&psi_pick);
		if (!victim) {
			bpf_psi_record_decline(bpf_psi, t, BPF_OOM_REASON_NO_CANDIDATE);
			goto look;
		}
		oomd_note(&psi_pick);
		bpf_psi_record_dry_run(bpf_psi, t, victim);
		bpf_task_release(victim);
		__sync_fetch_and_add(&dry_runs, 1);
		last_action_ns = now;	/* as if: the delay holds in shadow mode too */
		goto refresh;
	}
	declaring_tid = (u32)bpf_get_current_pid_tgid();
	declared++;
	last_ret = bpf_out_of_memory(cgroup ? m : NULL, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK,
				     "oomd_like");
	declaring_tid = 0;
	/* the kernel's fallback may have killed instead: an action all the same */
	last_action_ns = bpf_ktime_get_ns();
	goto refresh;
look:
	__sync_fetch_and_add(&declines, 1);
refresh:
	/*
	 * The candidates' pgscan now, for the rate at the next event: only the
	 * PSI side looks, once a window, so every rate spans the same time.
	 */
	oomd_rank(&psi_pick, m, true);
	bpf_put_mem_cgroup(m);
out:
	bpf_map_delete_elem(&handling, &key);
}

static u32 oom_killed;	/* (a global: a stack counter in a loop is a verifier state each) */

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(oomd_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct mem_cgroup *memcg = oc->memcg, *root;
	struct oomd_pick *k = &oom_pick;
	struct task_struct *t;
	u32 i;

	if (bpf_oom_leave_constrained(oc)) {
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	if (!oomd_in_scope(memcg)) {
		bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_NOT_IN_SCOPE);
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	root = memcg ? bpf_get_mem_cgroup(&memcg->css) : bpf_get_root_mem_cgroup();
	if (!root)
		goto none;
	oomd_choose(k, root);
	bpf_put_mem_cgroup(root);
	if (!k->id)
		goto none;
	oomd_note(k);
	if (dry_run) {
		t = oomd_first(k);
		if (!t)
			goto none;
		bpf_oom_record_dry_run(oc, t);
		bpf_task_release(t);
		__sync_fetch_and_add(&dry_runs, 1);
		return 0;
	}
	/* the whole cgroup, one decision (the record counts the processes) */
	oom_killed = 0;
	bpf_for(i, 0, k->nr_procs) {
		if (i >= OOMD_MAX_PROCS)
			break;
		t = bpf_oom_task_get(k->pid[i], k->start_time[i]);
		if (!t)
			continue;
		if (!bpf_oom_kill_process(oc, t, "BPF OOM policy oomd_like"))
			oom_killed++;
		bpf_task_release(t);
	}
	if (!oom_killed) {
		bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_KILL_FAILED);
		__sync_fetch_and_add(&declines, 1);
		return 0;
	}
	__sync_fetch_and_add(&kills, 1);
	__sync_fetch_and_add(&killed_procs, oom_killed);
	last_action_ns = bpf_ktime_get_ns();
	return 1;
none:
	bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_NO_CANDIDATE);
	__sync_fetch_and_add(&declines, 1);
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops oomd_like = {
	.handle_out_of_memory = (void *)oomd_oom,
	.name = "oomd_like",
};

SEC(".struct_ops.link")
struct bpf_psi_ops oomd_like_psi = {
	.init = (void *)oomd_init,
	.handle_psi_event = (void *)oomd_event,
	.name = "oomd_like",
};
