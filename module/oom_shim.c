// SPDX-License-Identifier: GPL-2.0
/*
 * oom_shim.c - run the BPF OOM policies inside out_of_memory(), unpatched.
 *
 * Upstream inserts "if (bpf_handle_oom(oc)) return true;" into
 * out_of_memory() (mm/oom_kill.c) right before select_bad_process(). We get
 * there livepatch-style: an ftrace IPMODIFY callback on out_of_memory()
 * sends the call to bpf_oom_shim_out_of_memory(), which
 *
 *   1. redoes the part of out_of_memory() that precedes that point
 *      (bpf_oom_preamble(): a copy of 6.12.107's and 7.3.4's code, which
 *      are identical), deciding rather than acting: wherever the kernel
 *      would return early (OOM killer disabled, current already exiting,
 *      a GFP_NOFS global OOM, panic_on_oom, oom_kill_allocating_task) the
 *      kernel's own function does it;
 *   2. holds off a second kill while an earlier victim in the OOM's domain
 *      is still freeing its memory (bpf_oom_victim_pending(),
 *      oom_victims.c: the kernel's own guard loses sight of victims), then
 *      runs the policy chain (bpf_oom_handle()) with oc->constraint,
 *      totalpages and nodemask computed as the kernel would;
 *   3. if no policy freed memory, calls the real out_of_memory(), which
 *      does everything again, stock: the kernel OOM killer is the
 *      enforced fallback. Repeating the preamble is harmless: the OOM
 *      notifiers are only asked again (global OOMs) after they freed
 *      nothing, constrained_alloc() gives the same answer, and a
 *      panic_on_oom panic happens before any policy runs.
 *
 * With no policy attached the callback returns at once (a static key) and
 * out_of_memory() runs untouched.
 *
 * IBT (Debian's kernels seal the ENDBR of functions whose address the
 * kernel never takes; an indirect call into one faults):
 *   - the redirect is not a call: ftrace returns into the shim with a
 *     changed return address, as livepatch does;
 *   - every kernel function the shim calls that is not exported
 *     (out_of_memory itself, task_will_free_mem, mem_cgroup_get_max,
 *     __next_zones_zonelist, the cpuset check, oom_kill_process) is called
 *     through a static call, which the kernel patches into a direct call;
 *   - exported functions are linked directly by the module loader;
 *   - policies are called through their struct_ops trampolines, which the
 *     BPF JIT starts with ENDBR.
 * The VM has no IBT: tests check the pieces (sealed targets, patched static
 * call trampolines; see /proc/bpf_oom/ksyms), not the fault itself.
 *
 * arm64: ftrace_caller() returns through the pc the callback set ("ret x9",
 * arch/arm64/kernel/entry-ftrace.S), which BTI does not check; static
 * calls are generic, i.e. indirect (see ksyms.h for why that is safe on
 * Debian's kernels and compat.h for the kernels refused).
 *
 * The original is called back through the same static call; the callback
 * lets exactly that call through (it comes from the task the shim marked),
 * and the call is not a tail call (a jmp would look like the original
 * caller and be redirected again, forever, with oom_lock held).
 */
#include <linux/cpuset.h>
#include <linux/ftrace.h>
#include <linux/gfp.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/sched/signal.h>
#include <linux/srcu.h>
#include <linux/stringify.h>
#include <linux/swap.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"

/* ---- kernel internals ------------------------------------------------- */

static bool *ksym_oom_killer_disabled;
static struct blocking_notifier_head *ksym_oom_notify_list;
static int *ksym_sysctl_panic_on_oom;
static int *ksym_sysctl_oom_kill_allocating_task;
static long *ksym_total_swap_pages;
static struct static_key_false *ksym_cpusets_enabled_key;
static struct mutex *ksym_oom_lock;
static unsigned long ksym_out_of_memory;

/*
 * Functions a kernel header declares get static calls typed by that
 * declaration (ksyms.h); the two static ones of mm/oom_kill.c get stubs
 * copied from it, which scripts/kernel-features.sh checks against the
 * target kernel's BTF.
 */
BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_out_of_memory, out_of_memory);

/* static bool task_will_free_mem(struct task_struct *task) */
static bool bpf_oom_task_will_free_mem_stub(struct task_struct *task)
{
	return false;
}

DEFINE_STATIC_CALL(bpf_oom_task_will_free_mem, bpf_oom_task_will_free_mem_stub);

BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_mem_cgroup_get_max, mem_cgroup_get_max);
BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_next_zones_zonelist, __next_zones_zonelist);
BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_cpuset_node_allowed, BPF_OOM_CPUSET_NODE_ALLOWED);

/* static void oom_kill_process(struct oom_control *oc, const char *message) */
static void bpf_oom_oom_kill_process_stub(struct oom_control *oc, const char *message)
{
}

DEFINE_STATIC_CALL(bpf_oom_oom_kill_process, bpf_oom_oom_kill_process_stub);

static const struct bpf_oom_ksym shim_ksyms[] = {
	BPF_OOM_KSYM_DATA(oom_killer_disabled, ksym_oom_killer_disabled),
	BPF_OOM_KSYM_DATA(oom_notify_list, ksym_oom_notify_list),
	BPF_OOM_KSYM_DATA(sysctl_panic_on_oom, ksym_sysctl_panic_on_oom),
	BPF_OOM_KSYM_DATA(sysctl_oom_kill_allocating_task, ksym_sysctl_oom_kill_allocating_task),
	BPF_OOM_KSYM_DATA(total_swap_pages, ksym_total_swap_pages),
	BPF_OOM_KSYM_DATA(cpusets_enabled_key, ksym_cpusets_enabled_key),
	BPF_OOM_KSYM_DATA(oom_lock, ksym_oom_lock),
	BPF_OOM_KSYM_DATA(out_of_memory, ksym_out_of_memory),
	BPF_OOM_KSYM_CALL(out_of_memory, bpf_oom_out_of_memory),
	BPF_OOM_KSYM_CALL(task_will_free_mem, bpf_oom_task_will_free_mem),
	BPF_OOM_KSYM_CALL(mem_cgroup_get_max, bpf_oom_mem_cgroup_get_max),
	BPF_OOM_KSYM_CALL(__next_zones_zonelist, bpf_oom_next_zones_zonelist),
	BPF_OOM_KSYM_CALL(BPF_OOM_CPUSET_NODE_ALLOWED, bpf_oom_cpuset_node_allowed),
	BPF_OOM_KSYM_CALL(oom_kill_process, bpf_oom_oom_kill_process),
};

/**
 * bpf_oom_kill_process_call() - the kernel's oom_kill_process()
 * @oc: the OOM, with oc->chosen holding a task reference (dropped by it)
 * @message: the reason printed in the kernel log
 */
void bpf_oom_kill_process_call(struct oom_control *oc, const char *message)
{
	static_call(bpf_oom_oom_kill_process)(oc, message);
}

/** bpf_oom_lock() - the kernel's oom_lock */
struct mutex *bpf_oom_lock(void)
{
	return ksym_oom_lock;
}

/* ---- the preamble of out_of_memory() ---------------------------------- */

enum bpf_oom_preamble {
	BPF_OOM_RUN_POLICIES,	/* the upstream hook point is reached */
	BPF_OOM_FREED,		/* the OOM notifiers freed memory: done */
	BPF_OOM_TO_KERNEL,	/* the kernel returns before the hook point */
};

/*
 * constrained_alloc() of mm/oom_kill.c (6.12.107 = 7.3.4), with the
 * unexported calls made through static calls and the zonelist walk of
 * for_each_zone_zonelist_nodemask() spelt out for the same reason.
 */
static enum oom_constraint bpf_oom_constrained_alloc(struct oom_control *oc)
{
	enum zone_type highest_zoneidx = gfp_zone(oc->gfp_mask);
	long total_swap = READ_ONCE(*ksym_total_swap_pages);
	bool cpuset_limited = false;
	struct zoneref *z;
	int nid;

	if (oc->memcg) {
		oc->totalpages = static_call(bpf_oom_mem_cgroup_get_max)(oc->memcg) ?: 1;
		return CONSTRAINT_MEMCG;
	}

	oc->totalpages = totalram_pages() + total_swap;
	if (!IS_ENABLED(CONFIG_NUMA) || !oc->zonelist)
		return CONSTRAINT_NONE;
	if (oc->gfp_mask & __GFP_THISNODE)
		return CONSTRAINT_NONE;

	if (oc->nodemask && !nodes_subset(node_states[N_MEMORY], *oc->nodemask)) {
		oc->totalpages = total_swap;
		for_each_node_mask(nid, *oc->nodemask)
			oc->totalpages += node_present_pages(nid);
		return CONSTRAINT_MEMORY_POLICY;
	}

	/* cpuset_zone_allowed() is true for every zone while cpusets are off */
	if (static_key_enabled(ksym_cpusets_enabled_key)) {
		for (z = static_call(bpf_oom_next_zones_zonelist)(oc->zonelist->_zonerefs,
								  highest_zoneidx, oc->nodemask);
		     zonelist_zone(z);
		     z = static_call(bpf_oom_next_zones_zonelist)(z + 1, highest_zoneidx,
								  oc->nodemask))
			if (!static_call(bpf_oom_cpuset_node_allowed)(zonelist_node_idx(z),
								      oc->gfp_mask))
				cpuset_limited = true;
	}
	if (cpuset_limited) {
		oc->totalpages = total_swap;
		for_each_node_mask(nid, cpuset_current_mems_allowed)
			oc->totalpages += node_present_pages(nid);
		return CONSTRAINT_CPUSET;
	}
	return CONSTRAINT_NONE;
}

/* check_panic_on_oom(): would it panic? Then the kernel must do it. */
static bool bpf_oom_would_panic(struct oom_control *oc)
{
	int panic_on_oom = READ_ONCE(*ksym_sysctl_panic_on_oom);

	if (!panic_on_oom || oc->order == -1)
		return false;
	return panic_on_oom == 2 || oc->constraint == CONSTRAINT_NONE;
}

/*
 * The oom_kill_allocating_task test of out_of_memory(), less
 * oom_cpuset_eligible() (a .isra clone we cannot call): when only that
 * would fail, the kernel, not the policies, decides this OOM.
 */
static bool bpf_oom_kills_allocating_task(struct oom_control *oc)
{
	struct task_struct *p = current;

	return !oc->memcg && READ_ONCE(*ksym_sysctl_oom_kill_allocating_task) &&
	       p->mm && !is_global_init(p) && !(p->flags & PF_KTHREAD) &&
	       p->signal->oom_score_adj != OOM_SCORE_ADJ_MIN;
}

/* out_of_memory() up to the upstream hook point, deciding, not acting. */
static enum bpf_oom_preamble bpf_oom_preamble(struct oom_control *oc)
{
	unsigned long freed = 0;

	if (READ_ONCE(*ksym_oom_killer_disabled))
		return BPF_OOM_TO_KERNEL;

	if (!oc->memcg) {
		blocking_notifier_call_chain(ksym_oom_notify_list, 0, &freed);
		if (freed > 0 && oc->order != -1)	/* !is_sysrq_oom() */
			return BPF_OOM_FREED;
	}
	if (static_call(bpf_oom_task_will_free_mem)(current))
		return BPF_OOM_TO_KERNEL;
	if (!(oc->gfp_mask & __GFP_FS) && !oc->memcg)
		return BPF_OOM_TO_KERNEL;

	oc->constraint = bpf_oom_constrained_alloc(oc);
	if (oc->constraint != CONSTRAINT_MEMORY_POLICY)
		oc->nodemask = NULL;
	if (bpf_oom_would_panic(oc) || bpf_oom_kills_allocating_task(oc))
		return BPF_OOM_TO_KERNEL;
	return BPF_OOM_RUN_POLICIES;
}

/* ---- the redirect ------------------------------------------------------ */

/* Tasks inside the shim; module exit waits for them. */
DEFINE_STATIC_SRCU(bpf_oom_shim_srcu);
/* The task the shim lets through to the real out_of_memory() (oom_lock). */
static struct task_struct *bpf_oom_passthrough;

static bool bpf_oom_shim_run(struct oom_control *oc, bool declared)
{
	bool ret;
	int idx;

	idx = srcu_read_lock(&bpf_oom_shim_srcu);
	/* Every caller holds oom_lock; bpf_oom_current relies on it. */
	if (unlikely(!mutex_is_locked(ksym_oom_lock))) {
		pr_err_once("out_of_memory() called without oom_lock: BPF policies skipped\n");
	} else {
		switch (bpf_oom_preamble(oc)) {
		case BPF_OOM_FREED:
			ret = true;
			goto out;
		case BPF_OOM_RUN_POLICIES:
			/* select_bad_process()'s abort, made reliable */
			if (bpf_oom_victim_pending(oc)) {
				ret = true;
				goto out;
			}
			bpf_oom_episode_begin(oc, declared);
			if (bpf_oom_handle(oc)) {
				bpf_oom_episode_end();
				ret = true;
				goto out;
			}
			bpf_oom_episode_kernel_phase();
			break;
		case BPF_OOM_TO_KERNEL:
			break;
		}
	}
	WRITE_ONCE(bpf_oom_passthrough, current);
	ret = static_call(bpf_oom_out_of_memory)(oc);
	WRITE_ONCE(bpf_oom_passthrough, NULL);
	/* the records carry the victim the kernel marked meanwhile, if any */
	bpf_oom_episode_end();
out:
	srcu_read_unlock(&bpf_oom_shim_srcu, idx);
	return ret;
}

/**
 * bpf_oom_out_of_memory_call() - out_of_memory() as bpf-oom runs it
 * @oc: the OOM
 *
 * The shim's path whether or not an OOM policy is attached: an earlier
 * victim still freeing memory in @oc's domain holds off a new kill, then
 * the attached policies (if any), then the kernel's out_of_memory(). For
 * bpf_out_of_memory(): a PSI policy declaring OOMs each window must not kill
 * again while the last victim is on its way out.
 *
 * Context: oom_lock held; may sleep.
 * Return: what out_of_memory() returns (true if memory was or will be freed).
 */
bool bpf_oom_out_of_memory_call(struct oom_control *oc)
{
	return bpf_oom_shim_run(oc, true);
}

/* where ftrace sends out_of_memory() (an allocation that found no memory) */
static bool bpf_oom_shim_out_of_memory(struct oom_control *oc)
{
	return bpf_oom_shim_run(oc, false);
}

static void notrace bpf_oom_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					   struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	if (!static_branch_unlikely(&bpf_oom_policies_attached))
		return;
	if (READ_ONCE(bpf_oom_passthrough) == current)
		return;
	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)bpf_oom_shim_out_of_memory);
}

static struct ftrace_ops bpf_oom_ftrace_ops = {
	.func = bpf_oom_ftrace_handler,
	/* as livepatch's klp_patch_func() */
	.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT |
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
		 FTRACE_OPS_FL_SAVE_REGS |
#endif
		 0,
};

/**
 * bpf_oom_shim_init() - resolve what the shim needs and hook out_of_memory()
 *
 * Return: 0; -ENOENT naming a missing kernel symbol; -EBUSY if another
 * ftrace IPMODIFY user (a livepatch, another module) owns out_of_memory().
 */
int bpf_oom_shim_init(void)
{
	int err;

	err = bpf_oom_ksyms_resolve(shim_ksyms, ARRAY_SIZE(shim_ksyms));
	if (err)
		return err;

	err = ftrace_set_filter_ip(&bpf_oom_ftrace_ops, ksym_out_of_memory, 0, 0);
	if (err) {
		pr_err("cannot trace out_of_memory(): ftrace_set_filter_ip: %d\n", err);
		return err;
	}
	err = register_ftrace_function(&bpf_oom_ftrace_ops);
	if (err) {
		if (err == -EBUSY)
			pr_err("out_of_memory() is already modified by another ftrace IPMODIFY user (a livepatch or another module): bpf-oom cannot hook it (-EBUSY)\n");
		else
			pr_err("cannot hook out_of_memory(): register_ftrace_function: %d\n", err);
		ftrace_set_filter_ip(&bpf_oom_ftrace_ops, ksym_out_of_memory, 1, 0);
		return err;
	}
	return 0;
}

/**
 * bpf_oom_shim_exit() - unhook, then wait until no task runs shim code
 *
 * After unregistering, ftrace has waited (RCU tasks) until every task that
 * was sent to the shim left the gap before srcu_read_lock(); SRCU then
 * covers the body, and one more RCU-tasks grace period the few instructions
 * after srcu_read_unlock().
 */
void bpf_oom_shim_exit(void)
{
	unregister_ftrace_function(&bpf_oom_ftrace_ops);
	ftrace_set_filter_ip(&bpf_oom_ftrace_ops, ksym_out_of_memory, 1, 0);
	synchronize_srcu(&bpf_oom_shim_srcu);
	synchronize_rcu_tasks();
}
