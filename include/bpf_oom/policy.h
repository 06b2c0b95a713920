/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - helpers for BPF OOM policies: the kernel's own victim
 * selection (oom_badness(), oom_evaluate_task()), candidate scans over a
 * memory cgroup subtree or the whole system, and cgroup sizing.
 *
 * Ordinary BPF code: a policy built with it uses upstream names (kfuncs.h)
 * and the kernel's own kfuncs, and a user may copy any of it. The one
 * bpf-oom extension it calls, bpf_oom_note_decision() (decision records),
 * is tested for with bpf_ksym_exists(): without it (upstream's own BPF
 * OOM) the record helpers do nothing and the policy runs unchanged.
 * Include after vmlinux.h, <bpf/bpf_helpers.h>, <bpf/bpf_core_read.h> and
 * <bpf_oom/kfuncs.h>.
 *
 * Each helper names the kernel function it mirrors (mm/oom_kill.c unless
 * said otherwise; Debian's 6.12.117 and 7.3.4 sources). Where the kernels
 * differ, the helper follows the running kernel (CO-RE, or the kernel
 * version where nothing in BTF tells the difference: said so in place).
 */
#ifndef _BPF_OOM_POLICY_H
#define _BPF_OOM_POLICY_H

#include <bpf_oom/record.h>

#define BPF_OOM_SCORE_ADJ_MIN	(-1000)	/* OOM_SCORE_ADJ_MIN: never killed */
#define BPF_OOM_SCORE_ADJ_MAX	1000
#define BPF_OOM_POINTS_NONE	(-0x7fffffffffffffffL - 1)	/* LONG_MIN: not a candidate */
#define BPF_OOM_POINTS_ORIGIN	0x7fffffffffffffffL		/* LONG_MAX: oom_task_origin() */

/* include/linux/sched.h, include/linux/mm_types.h: stable since 4.x */
#define BPF_OOM_PF_KTHREAD	0x00200000
#define BPF_OOM_MMF_OOM_SKIP	21
/* the anonymous enum of mm_types.h (MM_FILEPAGES...), not in BTF by name */
#define BPF_OOM_MM_FILEPAGES	0
#define BPF_OOM_MM_ANONPAGES	1
#define BPF_OOM_MM_SWAPENTS	2
#define BPF_OOM_MM_SHMEMPAGES	3

#ifndef BPF_OOM_MAX_CPUS
#define BPF_OOM_MAX_CPUS	1024	/* the per-CPU sums read at most this many */
#endif

/* The kernel's kfuncs the helpers use (6.7 and later). */
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;
struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;
struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

/*
 * Typeless kernel symbols, resolved by libbpf from /proc/kallsyms: the
 * per-CPU offsets (x86-64 and arm64 both keep the generic array) and the
 * number of possible CPUs, for exact per-CPU counter sums.
 */
extern const void __per_cpu_offset __ksym __weak;
extern const void nr_cpu_ids __ksym __weak;

/*
 * Read RSS the way the running kernel's oom_badness() does: the exact
 * per-CPU sum (get_mm_counter_sum(), "mm: fix OOM killer inaccuracy on
 * large many-core systems", posted for the mm tree in January 2026) or the
 * approximate central count (get_mm_counter()). Debian's 7.2.13 and 7.3.4
 * sum, 6.12.117 does not; the matrix has no 7.0 or 7.1 to tell where the
 * change landed, so the switch is placed at 7.0. Nothing in BTF tells the
 * two apart (both are inline), hence the version. The patch is marked for
 * stable: a 6.12 update that takes it would show in the oracle test
 * (tests/oom_oracle.c) only where the difference flips a choice (the VM's
 * two CPUs keep it under 64 pages a counter). A policy may force either
 * with a knob of its own (oom_kernel_default: rss_precise).
 */
extern int LINUX_KERNEL_VERSION __kconfig;

static __always_inline bool bpf_oom_kernel_rss_precise(void)
{
	return LINUX_KERNEL_VERSION >= ((7 << 16) + (0 << 8));
}

/*
 * percpu_counter_sum_positive() of lib/percpu_counter.c: the central count
 * plus every CPU's pending delta, at least 0. Offline CPUs hold 0 (their
 * deltas are folded in when they go down), so summing every possible CPU
 * is the kernel's sum. Falls back to the count if the symbols are missing.
 */
u64 bpf_oom_percpu_fallbacks;	/* sums that fell back to the count */

static __noinline s64 bpf_oom_percpu_counter_sum(s64 count, u64 counters)
{
	const u64 *offsets = (const u64 *)&__per_cpu_offset;
	u32 nr = 0;
	s64 sum = count;
	int cpu;

	if (!offsets || !&nr_cpu_ids || !counters) {
		__sync_fetch_and_add(&bpf_oom_percpu_fallbacks, 1);
		return count > 0 ? count : 0;
	}
	bpf_probe_read_kernel(&nr, sizeof(nr), &nr_cpu_ids);
	bpf_for(cpu, 0, nr) {
		u64 off = 0;
		s32 v = 0;

		if (cpu >= BPF_OOM_MAX_CPUS)
			break;
		bpf_probe_read_kernel(&off, sizeof(off), &offsets[cpu]);
		bpf_probe_read_kernel(&v, sizeof(v), (void *)(counters + off));
		sum += v;
	}
	return sum > 0 ? sum : 0;
}

/*
 * One rss_stat counter: count and per-CPU pointer. The index must be a
 * constant for CO-RE to scale it by the running kernel's
 * sizeof(struct percpu_counter), which lock debugging changes (a
 * vmlinux.h from one kernel would otherwise read the wrong element on the
 * other).
 */
#define bpf_oom__rss_stat(mm, i, count, counters) ({				\
	bpf_core_read(&(count), sizeof(count), &(mm)->rss_stat[i].count);	\
	bpf_core_read(&(counters), sizeof(counters), &(mm)->rss_stat[i].counters); \
})

/* get_mm_counter() / get_mm_counter_sum() of include/linux/mm.h */
static __always_inline u64 bpf_oom_mm_counter(struct mm_struct *mm, int member, bool precise)
{
	s64 count = 0;
	u64 counters = 0;

	switch (member) {
	case BPF_OOM_MM_FILEPAGES:
		bpf_oom__rss_stat(mm, BPF_OOM_MM_FILEPAGES, count, counters);
		break;
	case BPF_OOM_MM_ANONPAGES:
		bpf_oom__rss_stat(mm, BPF_OOM_MM_ANONPAGES, count, counters);
		break;
	case BPF_OOM_MM_SWAPENTS:
		bpf_oom__rss_stat(mm, BPF_OOM_MM_SWAPENTS, count, counters);
		break;
	case BPF_OOM_MM_SHMEMPAGES:
		bpf_oom__rss_stat(mm, BPF_OOM_MM_SHMEMPAGES, count, counters);
		break;
	default:
		return 0;
	}
	if (!precise)
		return count > 0 ? count : 0;	/* percpu_counter_read_positive() */
	return bpf_oom_percpu_counter_sum(count, counters);
}

/* get_mm_rss() / get_mm_rss_sum(): resident pages, file + anon + shmem */
static __always_inline u64 bpf_oom_mm_rss(struct mm_struct *mm, bool precise)
{
	return bpf_oom_mm_counter(mm, BPF_OOM_MM_FILEPAGES, precise) +
	       bpf_oom_mm_counter(mm, BPF_OOM_MM_ANONPAGES, precise) +
	       bpf_oom_mm_counter(mm, BPF_OOM_MM_SHMEMPAGES, precise);
}

/*
 * test_bit(MMF_OOM_SKIP, &mm->flags) (6.12) / mm_flags_test() (7.x): the
 * flags are an unsigned long up to 6.17 and a bitmap struct (mm_flags_t)
 * from 6.18, whose first word sits where the field starts. Two CO-RE
 * flavours find the field in either; the one that does not match is
 * dead code the verifier drops.
 */
struct mm_struct___flags_word {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct bpf_oom__mm_flags_bitmap {
	unsigned long __mm_flags[1];
};

struct mm_struct___flags_bitmap {
	struct bpf_oom__mm_flags_bitmap flags;
} __attribute__((preserve_access_index));

static __always_inline bool bpf_oom_mm_oom_skip(struct mm_struct *mm)
{
	unsigned long word = 0, off;

	if (bpf_core_field_exists(struct mm_struct___flags_word, flags))
		off = bpf_core_field_offset(struct mm_struct___flags_word, flags);
	else
		off = bpf_core_field_offset(struct mm_struct___flags_bitmap, flags);
	bpf_probe_read_kernel(&word, sizeof(word), (void *)mm + off);
	return word & (1UL << BPF_OOM_MMF_OOM_SKIP);
}

/*
 * PAGE_SHIFT: 4 KiB pages, what Debian's amd64 and arm64 kernels use.
 * (CONFIG_PAGE_SHIFT as a __kconfig extern would need the kernel's config
 * file at load time, which libbpf refuses to do without, even for a weak
 * extern: -EINVAL where /boot/config-* and /proc/config.gz are missing,
 * as in the test VM.) Define BPF_OOM_PAGE_SHIFT for 16K/64K kernels.
 */
#ifndef BPF_OOM_PAGE_SHIFT
#define BPF_OOM_PAGE_SHIFT 12
#endif

/* oom_unkillable_task(): init and kernel threads */
static __always_inline bool bpf_oom_task_unkillable(struct task_struct *p)
{
	return p->tgid == 1 || (p->flags & BPF_OOM_PF_KTHREAD);
}

/* tsk_is_oom_victim() of include/linux/oom.h */
static __always_inline bool bpf_oom_task_is_victim(struct task_struct *p)
{
	return BPF_CORE_READ(p, signal, oom_mm) != NULL;
}

/*
 * oom_badness(): the kernel's score of the task with id @pid started at
 * @start_time (task->start_time: an id may be freed and reused), rss + swap
 * entries + page tables in pages, plus oom_score_adj in thousandths of
 * @totalpages (the OOM domain's size: oc->totalpages).
 * BPF_OOM_POINTS_NONE for tasks the kernel never picks: init, kernel
 * threads, no mm left, oom_score_adj -1000, already reaped (MMF_OOM_SKIP),
 * a vfork child sharing its parent's mm, or a task that has gone. As
 * find_lock_task_mm() does, a process whose leader has exited is scored by
 * the first of its threads that still has an mm.
 *
 * A global function, so that the verifier checks it once, not once per
 * scan loop and path (it takes a pid because a global function cannot
 * take a task pointer on the kernels we support). Call it with the RCU
 * read lock held across the scan that produced @pid, so that the id still
 * names that task. A policy object includes this header once.
 */
__noinline long bpf_oom_badness(s32 pid, u64 start_time, u64 totalpages, bool precise)
{
	struct task_struct *p, *t;
	struct mm_struct *mm;
	long points = BPF_OOM_POINTS_NONE, adj;
	bool vfork;

	p = bpf_task_from_pid(pid);
	if (!p)
		return BPF_OOM_POINTS_NONE;
	/* the id freed and taken again by a new task since the scan saw it */
	if (p->start_time != start_time || bpf_oom_task_unkillable(p))
		goto out;
	mm = p->mm;
	/* in_vfork() of include/linux/sched/mm.h, of the task holding the mm */
	vfork = p->vfork_done && BPF_CORE_READ(p, real_parent, mm) == mm;
	if (!mm) {
		bpf_rcu_read_lock();	/* (the verifier checks this function alone) */
		bpf_for_each(task, t, p, BPF_TASK_ITER_PROC_THREADS) {
			mm = t->mm;
			if (mm) {
				vfork = t->vfork_done && BPF_CORE_READ(t, real_parent, mm) == mm;
				break;
			}
		}
		bpf_rcu_read_unlock();
		if (!mm)
			goto out;
	}
	adj = BPF_CORE_READ(p, signal, oom_score_adj);
	if (adj == BPF_OOM_SCORE_ADJ_MIN || bpf_oom_mm_oom_skip(mm) || vfork)
		goto out;
	points = bpf_oom_mm_rss(mm, precise) +
		 bpf_oom_mm_counter(mm, BPF_OOM_MM_SWAPENTS, precise) +
		 ((u64)BPF_CORE_READ(mm, pgtables_bytes.counter) >> BPF_OOM_PAGE_SHIFT);
	adj *= totalpages / 1000;
	points += adj;
out:
	bpf_task_release(p);
	return points;
}

#define BPF_OOM_TIES 4	/* equal scores remembered beside the choice */

/*
 * The kernel's choice as a scan goes (oc->chosen, oc->chosen_points). Keep
 * it in a global (static struct bpf_oom_choice c;), not on the stack: the
 * verifier follows the value of every stack slot, and through the nested
 * loops of a scan the combinations exceed its budget.
 */
struct bpf_oom_choice {
	long points;		/* BPF_OOM_POINTS_NONE: nothing chosen yet */
	s32 pid;		/* the chosen process (its tgid) */
	/*
	 * Processes with the same score seen before it, which the kernel's
	 * scan (in its own order) could have picked as well; nr_tied may
	 * exceed BPF_OOM_TIES, only that many are kept.
	 */
	s32 tied[BPF_OOM_TIES];
	u32 nr_tied;
	u64 start_time;		/* its start time: the pid is not reused under us */
	u32 candidates;		/* tasks scored (not skipped) */
	bool abort;		/* an earlier victim still has memory to free */
	bool truncated;		/* more memory cgroups than BPF_OOM_MAX_MEMCGS */
	bool precise;		/* RSS read as bpf_oom_kernel_rss_precise() says */
};

static __always_inline void bpf_oom_choice_init(struct bpf_oom_choice *c, bool precise)
{
	c->points = BPF_OOM_POINTS_NONE;
	c->pid = 0;
	c->nr_tied = 0;
	c->start_time = 0;
	c->candidates = 0;
	c->abort = false;
	c->truncated = false;
	c->precise = precise;
}

/*
 * oom_evaluate_task(): consider @p for @oc. Returns 1 when the scan must
 * stop: @p is an OOM victim that still has memory to free, and the kernel
 * would pick nobody (c->abort). Ties go to the task seen last, as in the
 * kernel (a later equal score replaces the earlier). Not mirrored: the
 * cpuset/mempolicy check of global OOMs (oom_cpuset_eligible()). Policies
 * should leave OOMs constrained that way (oc->constraint) to the kernel;
 * even an unconstrained global OOM skips the tasks whose cpuset shares no
 * memory node with the allocating task's, which only differs on NUMA
 * machines with disjoint cpuset.mems.
 */
static __always_inline int bpf_oom_consider(struct bpf_oom_choice *c, struct task_struct *p,
					    struct oom_control *oc)
{
	long points;

	if (bpf_oom_task_unkillable(p))
		return 0;
	/* is_sysrq_oom(): order -1 */
	if (oc->order != -1 && bpf_oom_task_is_victim(p)) {
		struct mm_struct *omm = BPF_CORE_READ(p, signal, oom_mm);

		if (omm && bpf_oom_mm_oom_skip(omm))
			return 0;
		c->abort = true;
		c->pid = 0;
		return 1;
	}
	/* oom_task_origin(): swapoff and KSM's unmerge ask to go first */
	if (BPF_CORE_READ(p, signal, oom_flag_origin)) {
		points = BPF_OOM_POINTS_ORIGIN;
	} else {
		points = bpf_oom_badness(p->pid, p->start_time, oc->totalpages, c->precise);
		if (points == BPF_OOM_POINTS_NONE)
			return 0;
		c->candidates++;
		if (points < c->points)
			return 0;
	}
	if (points == c->points && c->pid) {
		u32 n = c->nr_tied;

		if (n < BPF_OOM_TIES)
			c->tied[n] = c->pid;
		c->nr_tied = n + 1;
	} else {
		c->nr_tied = 0;
	}
	c->points = points;
	c->pid = p->tgid;
	c->start_time = p->start_time;
	return 0;
}

#ifndef BPF_OOM_MAX_MEMCGS
#define BPF_OOM_MAX_MEMCGS 4096	/* memory cgroups a memcg scan visits at most */
#endif

/*
 * The memory cgroups of the scan being made, in pre-order. A global, not
 * a stack array: scans of one policy object do not overlap (OOM handlers
 * run under oom_lock); a policy that also scans from a PSI handler must
 * serialize the two itself.
 */
static u64 bpf_oom__scan_ids[BPF_OOM_MAX_MEMCGS];
/* (a counter on the stack would be a new verifier state per iteration) */
static u32 bpf_oom__scan_n;

/* The ids of @root's memory cgroup subtree, pre-order; how many. */
static __always_inline u32 bpf_oom_memcg_subtree(struct mem_cgroup *root, bool *truncated)
{
	struct cgroup_subsys_state *pos;

	*truncated = false;
	bpf_oom__scan_n = 0;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		u32 n = bpf_oom__scan_n;

		if (n >= BPF_OOM_MAX_MEMCGS) {
			*truncated = true;
			break;
		}
		bpf_oom__scan_ids[n] = pos->cgroup->kn->id;
		bpf_oom__scan_n = n + 1;
	}
	bpf_rcu_read_unlock();
	return bpf_oom__scan_n;
}

/* Consider every process charged to the memory cgroup with id @id. */
static __always_inline int bpf_oom_consider_memcg(struct bpf_oom_choice *c, u64 id,
						  struct oom_control *oc)
{
	struct mem_cgroup *memcg;
	struct task_struct *p;
	struct cgroup *cgrp;
	int stop = 0;

	cgrp = bpf_cgroup_from_id(id);
	if (!cgrp)
		return 0;	/* removed since */
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		return 0;
	bpf_rcu_read_lock();
	bpf_for_each(css_task, p, &memcg->css, CSS_TASK_ITER_PROCS) {
		if (bpf_oom_consider(c, p, oc)) {
			stop = 1;
			break;
		}
	}
	bpf_rcu_read_unlock();
	bpf_put_mem_cgroup(memcg);
	return stop;
}

/*
 * select_bad_process(): scan the OOM's domain as the kernel does, the memory
 * cgroup subtree of a memcg OOM in pre-order, each memory cgroup's
 * processes in turn (mem_cgroup_scan_tasks()), or every process
 * (for_each_process()). Fills @c; c->pid is 0 if nothing can be chosen (or
 * c->abort). A subtree of more than BPF_OOM_MAX_MEMCGS memory cgroups is
 * scanned in part (c->truncated).
 */
static __always_inline void bpf_oom_select(struct bpf_oom_choice *c, struct oom_control *oc)
{
	struct mem_cgroup *memcg = oc->memcg, *domain;
	struct task_struct *p;
	u32 n, i;

	if (!memcg) {
		bpf_rcu_read_lock();
		bpf_for_each(task, p, NULL, BPF_TASK_ITER_ALL_PROCS) {
			if (bpf_oom_consider(c, p, oc))
				break;
		}
		bpf_rcu_read_unlock();
		return;
	}
	domain = bpf_get_mem_cgroup(&memcg->css);
	if (!domain)
		return;
	n = bpf_oom_memcg_subtree(domain, &c->truncated);
	bpf_put_mem_cgroup(domain);
	bpf_for(i, 0, n) {
		if (i >= BPF_OOM_MAX_MEMCGS)
			break;
		if (bpf_oom_consider_memcg(c, bpf_oom__scan_ids[i], oc))
			break;
	}
}

/*
 * Process @pid, referenced (release with bpf_task_release()), if it is
 * still the one that started at @start_time; NULL if it has gone (or its
 * pid now names a newer process).
 */
static __always_inline struct task_struct *bpf_oom_task_get(s32 pid, u64 start_time)
{
	struct task_struct *p;

	if (pid <= 0)
		return NULL;
	p = bpf_task_from_pid(pid);
	if (p && p->start_time != start_time) {
		bpf_task_release(p);
		return NULL;
	}
	return p;
}

/* The chosen process: bpf_oom_task_get() */
static __always_inline struct task_struct *bpf_oom_choice_task(const struct bpf_oom_choice *c)
{
	return bpf_oom_task_get(c->pid, c->start_time);
}

/*
 * The processes of the memory cgroups bpf_oom_memcg_subtree() listed, one
 * cgroup at a time under the RCU read lock: @p names each in @body.
 * A statement; @i is a u32 the caller declares.
 */
#define bpf_oom_for_each_listed_process(i, n, p, body)				\
	bpf_for(i, 0, n) {							\
		struct cgroup *__cgrp;						\
		struct mem_cgroup *__m;						\
										\
		if (i >= BPF_OOM_MAX_MEMCGS)					\
			break;							\
		__cgrp = bpf_cgroup_from_id(bpf_oom__scan_ids[i]);		\
		if (!__cgrp)							\
			continue;						\
		__m = bpf_get_mem_cgroup(&__cgrp->self);			\
		bpf_cgroup_release(__cgrp);					\
		if (!__m)							\
			continue;						\
		bpf_rcu_read_lock();						\
		bpf_for_each(css_task, p, &__m->css, CSS_TASK_ITER_PROCS) {	\
			body;							\
		}								\
		bpf_rcu_read_unlock();						\
		bpf_put_mem_cgroup(__m);					\
	}

/*
 * Memory a cgroup would give back if killed: what is charged to it minus
 * its page cache (usage - NR_FILE_PAGES, both in bytes: the page-state
 * kfunc answers in memory.stat's unit), as upstream's test policy sizes
 * leaves. Flush the stats first (bpf_mem_cgroup_flush_stats()).
 */
static __always_inline s64 bpf_oom_memcg_unreclaimable(struct mem_cgroup *memcg)
{
	return (s64)bpf_mem_cgroup_usage(memcg) -
	       (s64)bpf_mem_cgroup_page_state(memcg,
			bpf_core_enum_value(enum node_stat_item, NR_FILE_PAGES));
}

/* Sizes of the leaves bpf_oom_memcg_leaves() found (bytes, -1: none). */
static s64 bpf_oom__scan_sizes[BPF_OOM_MAX_MEMCGS];

#define BPF_OOM_CSS_ONLINE	(1 << 1)	/* CSS_ONLINE of include/linux/cgroup-defs.h */

/*
 * The online leaf memory cgroups of @root's subtree (@root itself if it has
 * no children), with bpf_oom_memcg_unreclaimable() sizes (at least 0): their
 * ids in bpf_oom__scan_ids[], sizes in bpf_oom__scan_sizes[]; returns how
 * many. Flushes @root's stats first. A leaf is a cgroup without children
 * (upstream's test policy's rule): a cgroup whose children do not enable
 * the memory controller holds their memory but is not a leaf here.
 */
static __always_inline u32 bpf_oom_memcg_leaves(struct mem_cgroup *root, bool *truncated)
{
	struct cgroup_subsys_state *pos;

	*truncated = false;
	bpf_oom__scan_n = 0;
	bpf_mem_cgroup_flush_stats(root);
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		struct mem_cgroup *memcg;
		u32 n = bpf_oom__scan_n;

		s64 size;

		/* a removed cgroup lingers, offline, while memory is charged to it */
		if (pos->cgroup->nr_descendants || !(pos->flags & BPF_OOM_CSS_ONLINE))
			continue;
		if (n >= BPF_OOM_MAX_MEMCGS) {
			*truncated = true;
			break;
		}
		memcg = bpf_get_mem_cgroup(pos);
		if (!memcg)
			continue;
		/* usage is exact, the page cache count may lag behind it */
		size = bpf_oom_memcg_unreclaimable(memcg);
		bpf_oom__scan_sizes[n] = size > 0 ? size : 0;
		bpf_put_mem_cgroup(memcg);
		bpf_oom__scan_ids[n] = pos->cgroup->kn->id;
		bpf_oom__scan_n = n + 1;
	}
	bpf_rcu_read_unlock();
	return bpf_oom__scan_n;
}

/*
 * The largest leaf bpf_oom_memcg_leaves() found that is not yet ruled out
 * (size -1), as an index into bpf_oom__scan_ids[]; -1 if none is left.
 */
static s64 bpf_oom__best_size;	/* (globals: see bpf_oom__scan_n) */
static int bpf_oom__best;

static __always_inline int bpf_oom_largest_leaf(u32 n)
{
	u32 i;

	bpf_oom__best = -1;
	bpf_oom__best_size = -1;
	bpf_for(i, 0, n) {
		if (i >= BPF_OOM_MAX_MEMCGS)
			break;
		if (bpf_oom__scan_sizes[i] > bpf_oom__best_size) {
			bpf_oom__best_size = bpf_oom__scan_sizes[i];
			bpf_oom__best = i;
		}
	}
	return bpf_oom__best;
}

/*
 * System memory as /proc/meminfo shows it, in pages, read from the kernel's
 * own counters (typeless symbols, resolved from kallsyms by libbpf; the
 * offsets and enum values by CO-RE): si_mem_available() of mm/show_mem.c
 * (the same in 6.12.117 and 7.3.4) for MemAvailable, totalram_pages(),
 * nr_swap_pages and total_swap_pages for MemTotal, SwapFree and SwapTotal
 * (during a swapoff /proc/meminfo's SwapFree also counts the pages of the
 * device going away; these do not).
 * For policies that act before the kernel's OOM (earlyoom_like).
 */
extern const void vm_zone_stat __ksym __weak;
extern const void vm_node_stat __ksym __weak;
extern const void totalreserve_pages __ksym __weak;
extern const void _totalram_pages __ksym __weak;
extern const void nr_swap_pages __ksym __weak;
extern const void total_swap_pages __ksym __weak;
extern const void node_data __ksym __weak;		/* NUMA kernels */
extern const void node_states __ksym __weak;
extern const void nr_node_ids __ksym __weak;
extern const void contig_page_data __ksym __weak;	/* the others */

#define BPF_OOM_MAX_NODES	1024	/* MAX_NUMNODES of Debian's kernels (NODES_SHIFT 10) */
#define BPF_OOM_MAX_ZONES	8

static __always_inline long bpf_oom__read_long(const void *addr)
{
	long v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

/* global_zone_page_state(), global_node_page_state(): negative reads as 0 */
static __always_inline long bpf_oom__zone_stat(long item)
{
	long x = bpf_oom__read_long((const char *)&vm_zone_stat + item * 8);

	return x < 0 ? 0 : x;
}

static __always_inline long bpf_oom__node_stat(long item)
{
	long x = bpf_oom__read_long((const char *)&vm_node_stat + item * 8);

	return x < 0 ? 0 : x;
}

/* low_wmark_pages() of every zone of @pgdat (a kernel address) */
static __always_inline unsigned long bpf_oom__pgdat_wmark_low(const char *pgdat)
{
	long nr_zones = bpf_core_enum_value(enum zone_type, __MAX_NR_ZONES);
	unsigned long zsize = bpf_core_type_size(struct zone), sum = 0;
	unsigned long zoff = bpf_core_field_offset(struct pglist_data, node_zones);
	unsigned long woff = bpf_core_field_offset(struct zone, _watermark) +
			     bpf_core_enum_value(enum zone_watermarks, WMARK_LOW) * 8;
	unsigned long boff = bpf_core_field_offset(struct zone, watermark_boost);
	int z;

	for (z = 0; z < BPF_OOM_MAX_ZONES && z < nr_zones; z++) {
		const char *zone = pgdat + zoff + z * zsize;

		sum += bpf_oom__read_long(zone + woff) + bpf_oom__read_long(zone + boff);
	}
	return sum;
}

/* for_each_zone(): every online node's zones; the sum of low_wmark_pages() */
static __noinline unsigned long bpf_oom__wmark_low(void)
{
	unsigned long sum = 0, mask_size = bpf_core_type_size(nodemask_t);
	long online = bpf_core_enum_value(enum node_states, N_ONLINE);
	int nid, nodes = 0;

	if (!&node_data)
		return &contig_page_data ? bpf_oom__pgdat_wmark_low((const char *)&contig_page_data) : 0;
	bpf_probe_read_kernel(&nodes, sizeof(nodes), &nr_node_ids);	/* unsigned int */
	bpf_for(nid, 0, nodes) {
		if (nid >= BPF_OOM_MAX_NODES)
			break;
		long word = bpf_oom__read_long((const char *)&node_states + online * mask_size +
					       (nid / 64) * 8);
		const char *pgdat;

		if (!((word >> (nid % 64)) & 1))
			continue;
		pgdat = (const char *)bpf_oom__read_long((const char *)&node_data + nid * 8);
		if (pgdat)
			sum += bpf_oom__pgdat_wmark_low(pgdat);
	}
	return sum;
}

/* Whether every counter the figures below read was resolved. */
static __always_inline bool bpf_oom_meminfo_available(void)
{
	return &vm_zone_stat && &vm_node_stat && &totalreserve_pages && &_totalram_pages &&
	       &nr_swap_pages && &total_swap_pages &&
	       ((&node_data && &node_states && &nr_node_ids) || &contig_page_data);
}

/* MemAvailable in pages: si_mem_available() */
static __always_inline long bpf_oom_mem_available(void)
{
	unsigned long wmark_low = bpf_oom__wmark_low(), pagecache, reclaimable;
	long available;

	available = bpf_oom__zone_stat(bpf_core_enum_value(enum zone_stat_item, NR_FREE_PAGES)) -
		    bpf_oom__read_long(&totalreserve_pages);
	pagecache = bpf_oom__node_stat(bpf_core_enum_value(enum node_stat_item, NR_ACTIVE_FILE)) +
		    bpf_oom__node_stat(bpf_core_enum_value(enum node_stat_item, NR_INACTIVE_FILE));
	pagecache -= pagecache / 2 < wmark_low ? pagecache / 2 : wmark_low;
	available += pagecache;
	reclaimable = bpf_oom__node_stat(bpf_core_enum_value(enum node_stat_item,
							     NR_SLAB_RECLAIMABLE_B)) +
		      bpf_oom__node_stat(bpf_core_enum_value(enum node_stat_item,
							     NR_KERNEL_MISC_RECLAIMABLE));
	reclaimable -= reclaimable / 2 < wmark_low ? reclaimable / 2 : wmark_low;
	available += reclaimable;
	return available < 0 ? 0 : available;
}

/* MemTotal, SwapFree, SwapTotal in pages */
static __always_inline long bpf_oom_mem_total(void)
{
	return bpf_oom__read_long(&_totalram_pages);
}

static __always_inline long bpf_oom_swap_free(void)
{
	long v = bpf_oom__read_long(&nr_swap_pages);

	return v < 0 ? 0 : v;
}

static __always_inline long bpf_oom_swap_total(void)
{
	return bpf_oom__read_long(&total_swap_pages);
}

/*
 * Decision records (include/bpf_oom/record.h): the module records a kill
 * by itself; a policy that kills nothing says what it would have killed
 * (shadow mode) or why it declined. A run that says nothing is recorded as
 * a decline, reason "unspecified". Both return 0, -EOPNOTSUPP without the
 * extension, or the kfunc's errno.
 */
static __always_inline int bpf_oom_record_dry_run(struct oom_control *oc,
						   struct task_struct *victim)
{
	if (!bpf_ksym_exists(bpf_oom_note_decision))
		return -95;	/* -EOPNOTSUPP */
	return bpf_oom_note_decision(oc, victim, BPF_OOM_ACTION_DRY_RUN, BPF_OOM_REASON_DRY_RUN);
}

/* @task: the candidate it gave up on (a failed kill), or NULL */
static __always_inline int bpf_oom_record_decline(struct oom_control *oc,
						  struct task_struct *task, u32 reason)
{
	if (!bpf_ksym_exists(bpf_oom_note_decision))
		return -95;	/* -EOPNOTSUPP */
	return bpf_oom_note_decision(oc, task, BPF_OOM_ACTION_DECLINE, reason);
}

/* The same for a PSI policy's decisions, in handle_psi_event (@t its trigger). */
static __always_inline int bpf_psi_record_dry_run(struct bpf_psi *bpf_psi, struct psi_trigger *t,
						  struct task_struct *victim)
{
	if (!bpf_ksym_exists(bpf_psi_note_decision))
		return -95;	/* -EOPNOTSUPP */
	return bpf_psi_note_decision(bpf_psi, t, victim, BPF_OOM_ACTION_DRY_RUN,
				     BPF_OOM_REASON_DRY_RUN);
}

static __always_inline int bpf_psi_record_decline(struct bpf_psi *bpf_psi, struct psi_trigger *t,
						  u32 reason)
{
	if (!bpf_ksym_exists(bpf_psi_note_decision))
		return -95;	/* -EOPNOTSUPP */
	return bpf_psi_note_decision(bpf_psi, t, NULL, BPF_OOM_ACTION_DECLINE, reason);
}

/* enum oom_constraint of include/linux/oom.h */
#define BPF_OOM_CONSTRAINT_CPUSET		1
#define BPF_OOM_CONSTRAINT_MEMORY_POLICY	2

/*
 * An OOM a policy should leave to the kernel: constrained by a cpuset or
 * a memory policy, where only the kernel knows which tasks may use the
 * nodes short of memory (oom_cpuset_eligible()). Records the decline.
 */
static __always_inline bool bpf_oom_leave_constrained(struct oom_control *oc)
{
	if (oc->constraint != BPF_OOM_CONSTRAINT_CPUSET &&
	    oc->constraint != BPF_OOM_CONSTRAINT_MEMORY_POLICY)
		return false;
	bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_NOT_IN_SCOPE);
	return true;
}

/*
 * Act on an OOM handler's choice: in shadow mode (@dry_run) record it and
 * kill nothing; else kill it with the kernel's oom_kill_process() (@message,
 * a string literal, in the kernel's log line), a failed kill recorded as a
 * decline. Releases @victim. Returns what the handler should return: 1 if
 * it killed.
 */
static __always_inline int bpf_oom_act(struct oom_control *oc, struct task_struct *victim,
				       bool dry_run, const char *message)
{
	int err;

	if (dry_run) {
		bpf_oom_record_dry_run(oc, victim);
		bpf_task_release(victim);
		return 0;
	}
	err = bpf_oom_kill_process(oc, victim, message);
	if (err)
		bpf_oom_record_decline(oc, victim, BPF_OOM_REASON_KILL_FAILED);
	bpf_task_release(victim);
	return err ? 0 : 1;
}

#endif /* _BPF_OOM_POLICY_H */
