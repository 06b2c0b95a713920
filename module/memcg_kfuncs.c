// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_kfuncs.c - the memory cgroup kfuncs of Linux 7.0, for older kernels.
 *
 * Upstream merged eight kfuncs in 7.0 (mm/bpf_memcontrol.c): get/put a memcg,
 * the root memcg, and reads of its usage, page state, vm events and memory
 * events. Kernels before 7.0 (Debian's 6.12) lack them; this file provides
 * the ones the kernel being built for does not have, with the same names,
 * prototypes, flags and results, so programs written for upstream load
 * unchanged. Where the kernel has one natively, it is not even compiled
 * (generated/features.h), and registration is decided again at load time
 * from what the running kernel has.
 *
 * The kernel internals needed on 6.12 are not exported: they are resolved by
 * ksyms.c and called through static calls (direct calls, IBT-safe).
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/page_counter.h>
#include <linux/slab.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"
#include <bpf_oom/kfuncs.h>

/* ---- kernel internals (6.12: mm/memcontrol.c), resolved at load -------- */

#if !BPF_OOM_KERNEL_HAS_bpf_get_root_mem_cgroup
/* Exported only since 6.16; before that a data symbol to resolve. */
static struct mem_cgroup **ksym_root_mem_cgroup;
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_vm_events
/*
 * memcg_events() WARNs on an event memcg does not track; its tracking table
 * is mem_cgroup_events_index[] (U8_MAX = untracked), which we read to return
 * -1 instead, as 7.0's memcg_vm_event_item_valid() does.
 */
static u8 *ksym_memcg_events_index;

/*
 * unsigned long memcg_events(struct mem_cgroup *memcg, int event), from
 * mm/memcontrol-v1.h, which the headers package lacks: a copied prototype,
 * checked against the kernel's BTF by scripts/kernel-features.sh.
 */
static unsigned long bpf_oom_memcg_events_stub(struct mem_cgroup *memcg, int event)
{
	return (unsigned long)-1;
}

DEFINE_STATIC_CALL(bpf_oom_memcg_events, bpf_oom_memcg_events_stub);
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_page_state
/* Same for memcg_page_state(): mem_cgroup_stats_index[] (7.0: memcg_stat_item_valid()). */
static u8 *ksym_memcg_stats_index;

/* unsigned long memcg_page_state_output(struct mem_cgroup *memcg, int item): as above */
static unsigned long bpf_oom_memcg_page_state_output_stub(struct mem_cgroup *memcg, int item)
{
	return (unsigned long)-1;
}

DEFINE_STATIC_CALL(bpf_oom_memcg_page_state_output, bpf_oom_memcg_page_state_output_stub);
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_flush_stats
BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_mem_cgroup_flush_stats, mem_cgroup_flush_stats);
#endif

static const struct bpf_oom_ksym memcg_ksyms[] = {
#if !BPF_OOM_KERNEL_HAS_bpf_get_root_mem_cgroup
	BPF_OOM_KSYM_DATA(root_mem_cgroup, ksym_root_mem_cgroup),
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_vm_events
	BPF_OOM_KSYM_DATA(mem_cgroup_events_index, ksym_memcg_events_index),
	BPF_OOM_KSYM_CALL(memcg_events, bpf_oom_memcg_events),
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_page_state
	BPF_OOM_KSYM_DATA(mem_cgroup_stats_index, ksym_memcg_stats_index),
	BPF_OOM_KSYM_CALL(memcg_page_state_output, bpf_oom_memcg_page_state_output),
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_flush_stats
	BPF_OOM_KSYM_CALL(mem_cgroup_flush_stats, bpf_oom_mem_cgroup_flush_stats),
#endif
	{ }	/* keeps the array non-empty when the kernel has every kfunc */
};

/* An index table entry names a slot of memcg's counters, or U8_MAX for none. */
static bool __maybe_unused memcg_index_valid(const u8 *table, int idx, int nr)
{
	return (u32)idx < (u32)nr && table[idx] != U8_MAX;
}

/* ---- the kfuncs ------------------------------------------------------- */

__bpf_kfunc_start_defs();

#if !BPF_OOM_KERNEL_HAS_bpf_get_root_mem_cgroup
/**
 * bpf_get_root_mem_cgroup - the root memory cgroup
 *
 * Acquires nothing: the root memcg lives as long as the kernel, and css_get()
 * and css_put() skip it. The verifier still sees KF_ACQUIRE, so a program
 * must pass the result to bpf_put_mem_cgroup(), which is then a no-op.
 *
 * Return: the root memcg, or NULL if the memory controller is disabled.
 *
 * Safety: callable from any program type, in any context; no lock is taken.
 */
__bpf_kfunc struct mem_cgroup *bpf_get_root_mem_cgroup(void)
{
	if (mem_cgroup_disabled())
		return NULL;
	return READ_ONCE(*ksym_root_mem_cgroup);
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_get_mem_cgroup
/**
 * bpf_get_mem_cgroup - take a reference to the memcg of a css
 * @css: a memory controller css, or any cgroup's css (such as cgroup->self,
 *       which cgroup iterators hand out); then its memory css is used
 *
 * Return: the memcg with its css reference raised, or NULL if the memory
 * controller is disabled, the cgroup has no memory css, or it is dying.
 *
 * Safety: @css must be RCU-protected or trusted (KF_RCU); the result is
 * acquired (KF_ACQUIRE) and must be released with bpf_put_mem_cgroup().
 * Does not sleep.
 */
__bpf_kfunc struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css)
{
	struct cgroup_subsys_state *mem_css;
	struct mem_cgroup *memcg = NULL;

	if (mem_cgroup_disabled())
		return NULL;

	rcu_read_lock();
	if (css->ss == &memory_cgrp_subsys)
		mem_css = css;
	else
		mem_css = rcu_dereference(css->cgroup->subsys[memory_cgrp_id]);
	if (mem_css && css_tryget(mem_css))
		memcg = mem_cgroup_from_css(mem_css);
	rcu_read_unlock();

	return memcg;
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_put_mem_cgroup
/**
 * bpf_put_mem_cgroup - release a memcg reference
 * @memcg: a memcg returned by bpf_get_mem_cgroup() or bpf_get_root_mem_cgroup()
 *
 * Safety: @memcg must be an acquired reference (KF_RELEASE); the verifier
 * forbids its use afterwards. May be called in any context.
 */
__bpf_kfunc void bpf_put_mem_cgroup(struct mem_cgroup *memcg)
{
	css_put(&memcg->css);
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_vm_events
/**
 * bpf_mem_cgroup_vm_events - a vm event counter of a memcg (hierarchical)
 * @memcg: memory cgroup
 * @event: an enum vm_event_item the memory controller tracks
 *
 * The value is the one memory.stat prints for the event after the last stats
 * flush (see bpf_mem_cgroup_flush_stats()).
 *
 * Return: the counter, or (unsigned long)-1 if @event is out of range or
 * not tracked per memcg.
 *
 * Safety: @memcg must be trusted (KF_TRUSTED_ARGS). Does not sleep.
 */
__bpf_kfunc unsigned long bpf_mem_cgroup_vm_events(struct mem_cgroup *memcg,
						   enum vm_event_item event)
{
	if (!memcg_index_valid(ksym_memcg_events_index, event, NR_VM_EVENT_ITEMS))
		return (unsigned long)-1;
	return static_call(bpf_oom_memcg_events)(memcg, event);
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_memory_events
/**
 * bpf_mem_cgroup_memory_events - a memory.events counter of a memcg
 * @memcg: memory cgroup
 * @event: an enum memcg_memory_event (MEMCG_LOW ... MEMCG_OOM_GROUP_KILL ...)
 *
 * Hierarchical, like memory.events (not memory.events.local).
 *
 * Return: the counter, or (unsigned long)-1 if @event is out of range.
 *
 * Safety: @memcg must be trusted (KF_TRUSTED_ARGS). Does not sleep.
 */
__bpf_kfunc unsigned long bpf_mem_cgroup_memory_events(struct mem_cgroup *memcg,
						       enum memcg_memory_event event)
{
	if ((u32)event >= MEMCG_NR_MEMORY_EVENTS)
		return (unsigned long)-1;
	return atomic_long_read(&memcg->memory_events[event]);
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_usage
/**
 * bpf_mem_cgroup_usage - memory charged to a memcg, in bytes
 * @memcg: memory cgroup
 *
 * The same number as memory.current. The root memcg is not charged itself:
 * for it this is the sum of its children's charges.
 *
 * Return: the usage in bytes.
 *
 * Safety: @memcg must be trusted (KF_TRUSTED_ARGS). Does not sleep.
 */
__bpf_kfunc unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg)
{
	return page_counter_read(&memcg->memory) * PAGE_SIZE;
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_page_state
/**
 * bpf_mem_cgroup_page_state - a memory.stat counter of a memcg
 * @memcg: memory cgroup
 * @idx: an enum node_stat_item or enum memcg_stat_item the memory
 *       controller tracks
 *
 * In memory.stat's unit: bytes for page-based items, a plain count for the
 * workingset ones, as of the last stats flush.
 *
 * Return: the value, or (unsigned long)-1 if @idx is out of range or not
 * tracked per memcg.
 *
 * Safety: @memcg must be trusted (KF_TRUSTED_ARGS). Does not sleep.
 */
__bpf_kfunc unsigned long bpf_mem_cgroup_page_state(struct mem_cgroup *memcg, int idx)
{
	if (!memcg_index_valid(ksym_memcg_stats_index, idx, MEMCG_NR_STAT))
		return (unsigned long)-1;
	return static_call(bpf_oom_memcg_page_state_output)(memcg, idx);
}
#endif

#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_flush_stats
/**
 * bpf_mem_cgroup_flush_stats - fold pending per-cpu stats of a memcg subtree
 * @memcg: memory cgroup
 *
 * As reading memory.stat does: the flush only happens when enough updates are
 * pending, so afterwards the counters match what cgroupfs shows.
 *
 * Safety: @memcg must be trusted (KF_TRUSTED_ARGS). May sleep
 * (KF_SLEEPABLE): sleepable programs only.
 */
__bpf_kfunc void bpf_mem_cgroup_flush_stats(struct mem_cgroup *memcg)
{
	static_call(bpf_oom_mem_cgroup_flush_stats)(memcg);
}
#endif

__bpf_kfunc_end_defs();

/* ---- registration ----------------------------------------------------- */

/*
 * MEMCG_KFUNCS(X) expands X(name, flags) for every kfunc this build provides,
 * with upstream's flags; the ID set, the ID list and the table below are all
 * generated from it, so they cannot disagree.
 */
#if !BPF_OOM_KERNEL_HAS_bpf_get_root_mem_cgroup
#define MEMCG_KFUNC_get_root(X) X(bpf_get_root_mem_cgroup, KF_ACQUIRE | KF_RET_NULL)
#else
#define MEMCG_KFUNC_get_root(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_get_mem_cgroup
#define MEMCG_KFUNC_get(X) X(bpf_get_mem_cgroup, KF_ACQUIRE | KF_RET_NULL | KF_RCU)
#else
#define MEMCG_KFUNC_get(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_put_mem_cgroup
#define MEMCG_KFUNC_put(X) X(bpf_put_mem_cgroup, KF_RELEASE)
#else
#define MEMCG_KFUNC_put(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_vm_events
#define MEMCG_KFUNC_vm_events(X) X(bpf_mem_cgroup_vm_events, KF_TRUSTED_ARGS)
#else
#define MEMCG_KFUNC_vm_events(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_memory_events
#define MEMCG_KFUNC_memory_events(X) X(bpf_mem_cgroup_memory_events, KF_TRUSTED_ARGS)
#else
#define MEMCG_KFUNC_memory_events(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_usage
#define MEMCG_KFUNC_usage(X) X(bpf_mem_cgroup_usage, KF_TRUSTED_ARGS)
#else
#define MEMCG_KFUNC_usage(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_page_state
#define MEMCG_KFUNC_page_state(X) X(bpf_mem_cgroup_page_state, KF_TRUSTED_ARGS)
#else
#define MEMCG_KFUNC_page_state(X)
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_flush_stats
#define MEMCG_KFUNC_flush(X) X(bpf_mem_cgroup_flush_stats, KF_TRUSTED_ARGS | KF_SLEEPABLE)
#else
#define MEMCG_KFUNC_flush(X)
#endif

#define MEMCG_KFUNCS(X)							\
	MEMCG_KFUNC_get_root(X) MEMCG_KFUNC_get(X) MEMCG_KFUNC_put(X)	\
	MEMCG_KFUNC_vm_events(X) MEMCG_KFUNC_memory_events(X)		\
	MEMCG_KFUNC_usage(X) MEMCG_KFUNC_page_state(X) MEMCG_KFUNC_flush(X)

/*
 * The kfunc set as the kernel's build tools expect it: pahole tags its
 * members as kfuncs in our BTF, resolve_btfids fills in (and sorts) the ids.
 * It is not registered as is: see bpf_oom_memcg_kfuncs_init().
 */
#define MEMCG_SET_ENTRY(fn, flags) BTF_ID_FLAGS(func, fn, flags)
BTF_KFUNCS_START(bpf_oom_memcg_kfunc_ids)
MEMCG_KFUNCS(MEMCG_SET_ENTRY)
BTF_KFUNCS_END(bpf_oom_memcg_kfunc_ids)

/* The same ids in table order (a set is sorted by id, a list is not). */
#define MEMCG_LIST_ENTRY(fn, flags) BTF_ID(func, fn)
BTF_ID_LIST(memcg_kfunc_btf_ids)
MEMCG_KFUNCS(MEMCG_LIST_ENTRY)

struct memcg_kfunc {
	const char *name;
	u32 flags;
};

#define MEMCG_TABLE_ENTRY(fn, flags) { #fn, flags },
static const struct memcg_kfunc memcg_kfuncs[] = {
	MEMCG_KFUNCS(MEMCG_TABLE_ENTRY)
};

/* All eight, built here or not: the running kernel must have the others. */
static const char *const memcg_kfunc_names[] = {
	"bpf_get_root_mem_cgroup", "bpf_get_mem_cgroup", "bpf_put_mem_cgroup",
	"bpf_mem_cgroup_vm_events", "bpf_mem_cgroup_memory_events",
	"bpf_mem_cgroup_usage", "bpf_mem_cgroup_page_state",
	"bpf_mem_cgroup_flush_stats",
};

/*
 * The index tables are u8 arrays sized by the enums of the headers we were
 * built with; make sure the symbols we found look like that before trusting
 * them to guard the kernel's WARN_ONCE()s.
 */
static int memcg_check_index_tables(void)
{
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_page_state
	if (!memcg_index_valid(ksym_memcg_stats_index, NR_ANON_MAPPED, MEMCG_NR_STAT) ||
	    !memcg_index_valid(ksym_memcg_stats_index, MEMCG_KMEM, MEMCG_NR_STAT)) {
		pr_err("mem_cgroup_stats_index does not track NR_ANON_MAPPED/MEMCG_KMEM: unsupported kernel\n");
		return -EINVAL;
	}
#endif
#if !BPF_OOM_KERNEL_HAS_bpf_mem_cgroup_vm_events
	if (!memcg_index_valid(ksym_memcg_events_index, PGFAULT, NR_VM_EVENT_ITEMS)) {
		pr_err("mem_cgroup_events_index does not track PGFAULT: unsupported kernel\n");
		return -EINVAL;
	}
#endif
	return 0;
}

static bool memcg_kfunc_built(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(memcg_kfuncs); i++)
		if (!strcmp(memcg_kfuncs[i].name, name))
			return true;
	return false;
}

/**
 * bpf_oom_memcg_kfuncs_init() - register the memcg kfuncs the kernel lacks
 *
 * Each kfunc built here is registered only if the running kernel does not
 * have it (decided from its symbols, not its version). A module may register
 * one set per program-type hook (6.12 WARNs on a second one), so the set is
 * assembled from the kfuncs needed and registered once; the kernel copies
 * it. Registered for every program type (BPF_PROG_TYPE_UNSPEC), as upstream.
 * There is no unregistration: a module's kfuncs go away with its BTF.
 *
 * Return: 0, or a negative errno (the cause is logged).
 */
int bpf_oom_memcg_kfuncs_init(void)
{
	struct btf_kfunc_id_set kset = { .owner = THIS_MODULE };
	char names[256] = "";
	struct btf_id_set8 *set;
	int nr_native = 0, err;
	size_t i, len = 0;

	for (i = 0; i < ARRAY_SIZE(memcg_kfunc_names); i++) {
		const char *name = memcg_kfunc_names[i];

		if (memcg_kfunc_built(name) || bpf_oom_ksym_in_vmlinux(name))
			continue;
		pr_err("%s: built against headers that have it, but the running kernel lacks it; rebuild bpf-oom for this kernel\n",
		       name);
		return -ENOENT;
	}

	err = bpf_oom_ksyms_resolve(memcg_ksyms, ARRAY_SIZE(memcg_ksyms) - 1);
	if (err)
		return err;
	err = memcg_check_index_tables();
	if (err)
		return err;

	set = kzalloc(struct_size(set, pairs, ARRAY_SIZE(memcg_kfuncs)), GFP_KERNEL);
	if (!set)
		return -ENOMEM;
	set->flags = BTF_SET8_KFUNCS;
	for (i = 0; i < ARRAY_SIZE(memcg_kfuncs); i++) {
		if (bpf_oom_ksym_in_vmlinux(memcg_kfuncs[i].name))
			continue;	/* the kernel's own serves */
		set->pairs[set->cnt].id = memcg_kfunc_btf_ids[i];
		set->pairs[set->cnt].flags = memcg_kfuncs[i].flags;
		set->cnt++;
		len += scnprintf(names + len, sizeof(names) - len, " %s", memcg_kfuncs[i].name);
	}
	nr_native = ARRAY_SIZE(memcg_kfunc_names) - set->cnt;

	if (set->cnt) {
		kset.set = set;
		err = register_btf_kfunc_id_set(BPF_PROG_TYPE_UNSPEC, &kset);
		if (err)
			pr_err("cannot register the memcg kfuncs:%s: %d\n", names, err);
		else
			pr_info("memcg kfuncs: registered %u (the kernel lacks them):%s\n",
				set->cnt, names);
	}
	kfree(set);
	if (!err && nr_native)
		pr_info("memcg kfuncs: %d provided by the kernel itself, not registered\n",
			nr_native);
	return err;
}
