// SPDX-License-Identifier: GPL-2.0
/*
 * oom_ops.c - the bpf_oom_ops struct_ops: attachment and the policy chain.
 *
 * Upstream v2 (mm/bpf_oom.c of the "mm: BPF OOM" series) keeps one
 * bpf_oom_ops per memory cgroup in struct mem_cgroup and a system-wide one,
 * and attaches to a cgroup through the cgroup fd of link_create. A module can
 * do neither: attachments live here, in an xarray keyed by cgroup id, and the
 * target cgroup comes from the ops' cgroup_id data member (0 = system-wide),
 * which bpf-oom's loader sets before load.
 *
 * The chain (bpf_oom_handle()) runs from the out_of_memory() shim with
 * oom_lock held: for a memcg OOM from the OOM'ing memcg up to the root, then
 * the system-wide ops; it stops at the first handler that has freed memory
 * through bpf_oom_kill_process() (upstream: that also returned non-zero).
 *
 * Attaching needs CAP_SYS_ADMIN in the initial user namespace
 * (bpf_oom_attach_check()): the BPF syscall alone only asks for CAP_BPF
 * and CAP_PERFMON, which a BPF token can delegate to a user namespace, and
 * an OOM policy decides which processes of the whole host die.
 *
 * Lifetimes: handlers run inside bpf_oom_srcu; detaching removes the
 * attachment and waits for that SRCU before the struct_ops map (and its
 * programs) can go, so detach is safe while an OOM is being handled.
 *
 * Replacing: BPF_LINK_UPDATE on a bpf_oom_ops link swaps the ops an
 * attachment runs in place (bpf_oom_ops_update()), with no moment where the
 * target has no policy. An OOM handler takes the ops once per run, so a run
 * sees the old ops or the new ones, never some of each; the update waits for
 * the runs of the old ops before the kernel may free them.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/compat.h>
#include <linux/jump_label.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/proc_fs.h>
#include <linux/sched/task_stack.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "compat.h"
#include "bpf_oom.h"
#include <bpf_oom/oom.h>

/*
 * Upstream teaches the verifier that oom_control.memcg is trusted or NULL,
 * so policies can hand &oc->memcg->css to bpf_get_mem_cgroup(). Stock
 * verifiers read that from a BTF type named <struct>__safe_trusted_or_null
 * listing the member, looked up in the BTF the program's context comes from:
 * ours. Emitted into the module's BTF by bpf_oom_ops_init().
 */
struct oom_control__safe_trusted_or_null {
	struct mem_cgroup *memcg;
};

/**
 * struct bpf_oom_policy_ops - the ops an attachment runs, and what they did
 * @ops: the kernel copy of the ops, owned by its struct_ops map
 * @since: when these ops became the policy there, by attach or update
 *	(CLOCK_REALTIME seconds)
 * @invoked: how often their handle_out_of_memory ran
 * @handled: how often that resolved the OOM
 *
 * A link update replaces it whole: the policy list then shows the new ops'
 * name with a fresh @since and counters, so no line ever mixes two policies'
 * numbers (the old ones go to the kernel log with the replacement).
 */
struct bpf_oom_policy_ops {
	struct bpf_oom_ops *ops;
	time64_t since;
	atomic_long_t invoked;
	atomic_long_t handled;
};

/**
 * struct bpf_oom_policy - one attachment of a bpf_oom_ops
 * @cur: the ops it runs; SRCU (bpf_oom_srcu) for the OOM path, written
 *	under bpf_oom_attach_lock by attach and update
 * @cgroup_id: where it is attached; 0 = system-wide. An update keeps it.
 * @node: in bpf_oom_policies while attached
 * @offline_work: runs handle_cgroup_offline when its cgroup goes away
 */
struct bpf_oom_policy {
	struct bpf_oom_policy_ops __rcu *cur;
	u64 cgroup_id;
	struct list_head node;
	struct work_struct offline_work;
};

/* Attach, detach and offline; the readers (OOM path) use SRCU and RCU. */
static DEFINE_MUTEX(bpf_oom_attach_lock);
static LIST_HEAD(bpf_oom_policies);
static struct bpf_oom_policy __rcu *bpf_oom_system_policy;
static DEFINE_XARRAY(bpf_oom_cgroup_policies);
DEFINE_STATIC_SRCU(bpf_oom_srcu);
/* Attached policies, as a static key: the shim's fast path. */
DEFINE_STATIC_KEY_FALSE(bpf_oom_policies_attached);
static struct workqueue_struct *bpf_oom_wq;

/* The OOM being handled; oom_lock serializes out_of_memory() calls. */
static struct bpf_oom_run *bpf_oom_current;

/*
 * The struct_ops type's id in our BTF as built (resolve_btfids) and as the
 * running kernel numbers it (module BTF is relocated against vmlinux at
 * load): their difference maps the ids the verifier hands the kfunc filter
 * back to ours. Learnt from the first program verified against the ops.
 */
BTF_ID_LIST_SINGLE(bpf_oom_ops_btf_ids, struct, bpf_oom_ops)
static s64 bpf_oom_btf_id_delta = S64_MIN;
static struct btf *bpf_oom_btf;

/* ---- the chain ---------------------------------------------------------- */

/**
 * bpf_oom_run_of() - the policy run handling @oc, for the OOM kfuncs
 * @oc: the oom_control a kfunc was handed
 *
 * Context: called from a policy's handle_out_of_memory, under oom_lock.
 * Return: the run, or NULL if @oc is not the OOM being handled.
 */
struct bpf_oom_run *bpf_oom_run_of(struct oom_control *oc)
{
	struct bpf_oom_run *run = READ_ONCE(bpf_oom_current);

	return run && run->oc == oc ? run : NULL;
}

static bool bpf_oom_run_policy(struct bpf_oom_policy *policy, struct oom_control *oc)
{
	/*
	 * One read of the ops for the whole run: a link update swapping them
	 * meanwhile leaves this run on the old ops (name, handler, counters
	 * alike), which the update waits for (bpf_oom_srcu).
	 */
	struct bpf_oom_policy_ops *cur = srcu_dereference(policy->cur, &bpf_oom_srcu);
	struct bpf_oom_ops *ops = cur->ops;
	struct bpf_oom_ctx ctx = { .cgroup_id = policy->cgroup_id };
	struct bpf_oom_run run = {
		.oc = oc,
		.policy_name = ops->name,
		.cgroup_id = policy->cgroup_id,
	};
	u64 start;
	int ret;

	run.rec = bpf_oom_record_open(ops->name, policy->cgroup_id);
	WRITE_ONCE(bpf_oom_current, &run);
	/*
	 * The OOM may come from a page fault with mmap_lock held: a fault
	 * taken by the program (bpf_copy_from_user()) must fail, not wait
	 * for that lock. The call is indirect, into the struct_ops
	 * trampoline the BPF JIT built: it starts with ENDBR, so it is
	 * IBT-safe.
	 */
	start = ktime_get_ns();
	pagefault_disable();
	ret = ops->handle_out_of_memory(&ctx, oc);
	pagefault_enable();
	bpf_oom_record_close(run.rec, ktime_get_ns() - start);
	WRITE_ONCE(bpf_oom_current, NULL);

	atomic_long_inc(&cur->invoked);
	/*
	 * Upstream v2 ends the chain only if the handler also returned
	 * non-zero. bpf-oom ends it at any kill: a handler that killed and
	 * returned 0 would otherwise let the next policy, then the kernel,
	 * kill again for the same OOM.
	 */
	if (run.memory_freed) {
		if (!ret)
			pr_warn_ratelimited("oom_policy=%s killed but returned 0: the OOM counts as handled all the same\n",
					    ops->name);
		atomic_long_inc(&cur->handled);
		return true;
	}
	return false;
}

/**
 * bpf_oom_handle() - run the attached policies for an OOM
 * @oc: the OOM, as out_of_memory() received it (constraint computed)
 *
 * Context: process context, oom_lock held; may sleep.
 * Return: true if a policy killed (bpf_oom_kill_process() succeeded); the
 * chain stops there.
 */
bool bpf_oom_handle(struct oom_control *oc)
{
	struct bpf_oom_policy *policy;
	struct mem_cgroup *memcg;
	bool handled = false;
	int ran = 0, idx;

	idx = srcu_read_lock(&bpf_oom_srcu);
	/*
	 * Attachments are keyed by cgroup v2 ids; a memcg of a cgroup v1
	 * hierarchy has its own numbering, which may collide with them: its
	 * OOMs only see the system-wide policy.
	 */
	memcg = oc->memcg;
	if (memcg && memcg->css.cgroup->root != &cgrp_dfl_root)
		memcg = NULL;
	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		policy = xa_load(&bpf_oom_cgroup_policies, cgroup_id(memcg->css.cgroup));
		if (!policy)
			continue;
		ran++;
		handled = bpf_oom_run_policy(policy, oc);
		if (handled)
			goto out;
	}
	policy = srcu_dereference(bpf_oom_system_policy, &bpf_oom_srcu);
	if (policy) {
		ran++;
		handled = bpf_oom_run_policy(policy, oc);
	}
out:
	srcu_read_unlock(&bpf_oom_srcu, idx);
	/*
	 * Not rate limited, like the kernel's "Killed process" line: the
	 * episode number ties the decision records to the OOM report.
	 */
	if (ran && !handled)
		pr_warn("oom_policy=default: %d BPF polic%s freed no memory, the kernel OOM killer decides (episode %llu)\n",
			ran, ran == 1 ? "y" : "ies", bpf_oom_episode_id());
	return handled;
}

/* ---- attach and detach ------------------------------------------------ */

static void bpf_oom_detach_locked(struct bpf_oom_policy *policy)
{
	lockdep_assert_held(&bpf_oom_attach_lock);
	if (policy->cgroup_id)
		xa_erase(&bpf_oom_cgroup_policies, policy->cgroup_id);
	else
		RCU_INIT_POINTER(bpf_oom_system_policy, NULL);
	list_del_init(&policy->node);
	static_branch_dec(&bpf_oom_policies_attached);
}

/* The ops @policy runs, for attach, update, detach, offline and the list. */
static struct bpf_oom_policy_ops *bpf_oom_cur_locked(struct bpf_oom_policy *policy)
{
	return rcu_dereference_protected(policy->cur, lockdep_is_held(&bpf_oom_attach_lock));
}

static struct bpf_oom_policy *bpf_oom_find_locked(struct bpf_oom_ops *ops)
{
	struct bpf_oom_policy *policy;

	lockdep_assert_held(&bpf_oom_attach_lock);
	list_for_each_entry(policy, &bpf_oom_policies, node)
		if (bpf_oom_cur_locked(policy)->ops == ops)
			return policy;
	return NULL;
}

static struct bpf_oom_policy_ops *bpf_oom_policy_ops_alloc(struct bpf_oom_ops *ops)
{
	struct bpf_oom_policy_ops *cur = kzalloc(sizeof(*cur), GFP_KERNEL);

	if (cur) {
		cur->ops = ops;
		cur->since = ktime_get_real_seconds();
	}
	return cur;
}

/* The cgroup must exist, be alive and have its own memory controller. */
static int bpf_oom_check_cgroup(struct cgroup *cgrp, u64 id)
{
	bool has_memcg;

	if (!(READ_ONCE(cgrp->self.flags) & CSS_ONLINE)) {
		pr_err("attach: cgroup %llu is being removed\n", id);
		return -ENOENT;
	}
	rcu_read_lock();
	has_memcg = rcu_dereference(cgrp->subsys[memory_cgrp_id]);
	rcu_read_unlock();
	if (!has_memcg) {
		pr_err("attach: cgroup %llu has no memory controller (enable +memory in its parent's cgroup.subtree_control)\n",
		       id);
		return -EINVAL;
	}
	return 0;
}

static int bpf_oom_attach_cgroup(struct bpf_oom_policy *policy)
{
	u64 id = policy->cgroup_id;
	struct cgroup *cgrp;
	int err;

	cgrp = cgroup_get_from_id(id);
	if (IS_ERR(cgrp)) {
		pr_err("attach: no cgroup with id %llu: %ld\n", id, PTR_ERR(cgrp));
		return PTR_ERR(cgrp);
	}
	err = bpf_oom_check_cgroup(cgrp, id);
	if (err)
		goto out;
	err = xa_insert(&bpf_oom_cgroup_policies, id, policy, GFP_KERNEL);
	if (err) {
		if (err == -EBUSY)
			pr_err("attach: cgroup %llu already has a bpf_oom_ops\n", id);
		goto out;
	}
	/*
	 * An rmdir between the check and the insert would have found no
	 * attachment: check again. Pairs with the barrier in
	 * bpf_oom_cgroup_rmdir() (the flag is cleared before it runs).
	 */
	smp_mb();
	if (!(READ_ONCE(cgrp->self.flags) & CSS_ONLINE)) {
		xa_erase(&bpf_oom_cgroup_policies, id);
		pr_err("attach: cgroup %llu was removed meanwhile\n", id);
		err = -ENOENT;
	}
out:
	cgroup_put(cgrp);
	return err;
}

/*
 * Did the bpf() call that is attaching us ask for a target? Upstream
 * attaches a policy to a cgroup through BPF_LINK_CREATE with the cgroup's
 * fd in target_fd (and a flag); stock kernels accept and drop both for
 * struct_ops, so the policy would silently end up system-wide. reg() runs
 * inside that bpf() call: read its attribute back from the caller.
 *
 * Best effort, for the honest mistake (an upstream loader), not a security
 * boundary (attaching needs CAP_SYS_ADMIN anyway): a 32-bit caller, a
 * BPF_LINK_CREATE from a BPF syscall program (bpf_sys_bpf()), a cgroup that
 * is fd 0, or a caller changing the attribute meanwhile are not caught.
 */
static bool bpf_oom_link_create_has_target(void)
{
	struct pt_regs *regs = task_pt_regs(current);
	struct {
		u32 map_fd;
		u32 target_fd;
		u32 attach_type;
		u32 flags;
	} lc;
	unsigned long args[6];

	if (in_compat_syscall() || syscall_get_nr(current, regs) != __NR_bpf)
		return false;
	syscall_get_arguments(current, regs, args);
	if (args[0] != BPF_LINK_CREATE || args[2] < sizeof(lc))
		return false;
	if (copy_from_user(&lc, (const void __user *)args[1], sizeof(lc)))
		return false;
	return lc.target_fd || lc.flags;
}

/**
 * bpf_oom_attach_check() - may the calling task attach a bpf-oom struct_ops?
 * @what: the struct_ops' name, for the log
 *
 * Context: a struct_ops reg(), in the attaching task's bpf() call.
 * Return: 0; -EPERM without CAP_SYS_ADMIN in the initial user namespace;
 * -EOPNOTSUPP for a BPF_LINK_CREATE with a target (upstream's cgroup
 * attach), which stock kernels would silently make system-wide.
 */
int bpf_oom_attach_check(const char *what)
{
	if (!capable(CAP_SYS_ADMIN)) {
		pr_err_ratelimited("attach %s: CAP_SYS_ADMIN in the initial user namespace is required (-EPERM)\n",
				   what);
		return -EPERM;
	}
	if (bpf_oom_link_create_has_target()) {
		pr_err("attach %s: BPF_LINK_CREATE with a target (a cgroup fd?) is not supported on this kernel, which would attach system-wide: set the ops' cgroup_id instead (-EOPNOTSUPP)\n",
		       what);
		return -EOPNOTSUPP;
	}
	return 0;
}

static void bpf_oom_offline_workfn(struct work_struct *work);

/*
 * Free a policy no list or slot holds any more: once no rmdir probe can
 * still queue its offline work (RCU), that work is not running, and no OOM
 * handler still runs its ops (SRCU). Also for a failed attach: a policy
 * briefly published in the xarray may have been seen by both.
 */
static void bpf_oom_policy_free(struct bpf_oom_policy *policy)
{
	synchronize_rcu();
	cancel_work_sync(&policy->offline_work);
	synchronize_srcu(&bpf_oom_srcu);
	kfree(rcu_dereference_protected(policy->cur, true));
	kfree(policy);
}

static int bpf_oom_ops_reg(void *kdata, struct bpf_link *link)
{
	struct bpf_oom_ops *ops = kdata;
	struct bpf_oom_policy_ops *cur;
	struct bpf_oom_policy *policy;
	int err;

	err = bpf_oom_attach_check("bpf_oom_ops");
	if (err)
		return err;

	policy = kzalloc(sizeof(*policy), GFP_KERNEL);
	cur = bpf_oom_policy_ops_alloc(ops);
	if (!policy || !cur) {
		kfree(policy);
		kfree(cur);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(policy->cur, cur);
	policy->cgroup_id = ops->cgroup_id;
	INIT_LIST_HEAD(&policy->node);
	INIT_WORK(&policy->offline_work, bpf_oom_offline_workfn);

	mutex_lock(&bpf_oom_attach_lock);
	if (policy->cgroup_id) {
		err = bpf_oom_attach_cgroup(policy);
	} else if (rcu_access_pointer(bpf_oom_system_policy)) {
		pr_err("attach: a system-wide bpf_oom_ops is already attached\n");
		err = -EBUSY;
	} else {
		rcu_assign_pointer(bpf_oom_system_policy, policy);
	}
	if (!err) {
		list_add_tail(&policy->node, &bpf_oom_policies);
		static_branch_inc(&bpf_oom_policies_attached);
	}
	mutex_unlock(&bpf_oom_attach_lock);

	if (err) {
		bpf_oom_policy_free(policy);
		return err;
	}
	if (policy->cgroup_id)
		pr_info("policy %s attached to cgroup %llu\n", ops->name, policy->cgroup_id);
	else
		pr_info("policy %s attached system-wide\n", ops->name);
	return 0;
}

static void bpf_oom_ops_unreg(void *kdata, struct bpf_link *link)
{
	struct bpf_oom_ops *ops = kdata;
	struct bpf_oom_policy *policy;

	mutex_lock(&bpf_oom_attach_lock);
	policy = bpf_oom_find_locked(ops);
	if (policy)
		bpf_oom_detach_locked(policy);
	mutex_unlock(&bpf_oom_attach_lock);

	if (policy) {
		/* waits until no OOM handler runs the ops any more */
		bpf_oom_policy_free(policy);
		pr_info("policy %s detached\n", ops->name);
		return;
	}
	/*
	 * The offline work detached it first (and frees it): still, no OOM
	 * handler may run the ops once the map and its programs go.
	 */
	synchronize_srcu(&bpf_oom_srcu);
}

/* ---- replace in place (BPF_LINK_UPDATE) -------------------------------- */

/* "system-wide" or "cgroup <id>", for the log */
static const char *bpf_oom_target_str(u64 cgroup_id, char *buf, size_t len)
{
	if (!cgroup_id)
		return "system-wide";
	snprintf(buf, len, "cgroup %llu", cgroup_id);
	return buf;
}

/**
 * bpf_oom_ops_update() - replace the ops of an attachment in place
 * @kdata: the new ops (the kernel copy in the new struct_ops map)
 * @old_kdata: the ops the link holds now
 * @link: the struct_ops link being updated
 *
 * The kernel's side is bpf_struct_ops_map_link_update() (kernel/bpf/
 * bpf_struct_ops.c, the same in 6.12 and 7.3): under its update_mutex, it
 * calls this only for a new map of the same struct_ops type that is ready to
 * attach (created with BPF_F_LINK, value set, so .validate has passed); if
 * this returns 0 it points the link at the new map and puts the link's
 * reference on the old one right away. That can be the last reference: the
 * old map, its trampolines and programs then go through
 * bpf_struct_ops_map_free(), which waits for an RCU and an RCU-tasks grace
 * period only, not for a sleepable handler still running in bpf_oom_srcu. So
 * the swap is done under bpf_oom_attach_lock (against attach, detach and the
 * offline work) and then bpf_oom_srcu is waited for before returning: from
 * then on no OOM handler runs the old ops. On an error the kernel leaves the
 * link on the old map, which stays attached and in use.
 *
 * The new ops must name the same target (cgroup_id) as the old: the
 * attachment is replaced, never moved; since a target holds one policy,
 * the new ops cannot be attached anywhere else. The attach checks apply, as
 * for reg.
 * The policy list then shows the new ops' name, with the time of the update
 * as "since" and counters from zero; the old ops' totals are logged.
 *
 * Context: process context, in the updating task's bpf(BPF_LINK_UPDATE)
 * call; sleeps.
 * Return: 0; -EPERM without CAP_SYS_ADMIN in the initial user namespace;
 * -EINVAL if the new ops target another place; -ENOENT if the attachment is
 * gone (its cgroup was removed); -ENOMEM.
 */
static int bpf_oom_ops_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct bpf_oom_ops *ops = kdata, *old_ops = old_kdata;
	struct bpf_oom_policy_ops *cur, *old = NULL;
	struct bpf_oom_policy *policy;
	char where[32], old_where[32];
	int err;

	err = bpf_oom_attach_check("bpf_oom_ops");
	if (err)
		return err;
	if (ops->cgroup_id != old_ops->cgroup_id) {
		pr_err("update: policy %s targets %s, not %s where %s is attached: an update keeps the target (-EINVAL)\n",
		       ops->name, bpf_oom_target_str(ops->cgroup_id, where, sizeof(where)),
		       bpf_oom_target_str(old_ops->cgroup_id, old_where, sizeof(old_where)),
		       old_ops->name);
		return -EINVAL;
	}
	/* The link's own map again: nothing changes. */
	if (ops == old_ops)
		return 0;

	cur = bpf_oom_policy_ops_alloc(ops);
	if (!cur)
		return -ENOMEM;
	mutex_lock(&bpf_oom_attach_lock);
	policy = bpf_oom_find_locked(old_ops);
	if (!policy) {
		err = -ENOENT;
		pr_err("update: policy %s on %s is no longer attached (its cgroup was removed) (-ENOENT)\n",
		       old_ops->name, bpf_oom_target_str(old_ops->cgroup_id, where, sizeof(where)));
	} else {
		old = rcu_replace_pointer(policy->cur, cur,
					  lockdep_is_held(&bpf_oom_attach_lock));
	}
	mutex_unlock(&bpf_oom_attach_lock);
	if (err) {
		kfree(cur);
		return err;
	}

	/*
	 * No OOM handler runs the old ops once this returns: the kernel may
	 * free them. (@policy itself may be gone by now: the offline work.)
	 */
	synchronize_srcu(&bpf_oom_srcu);
	pr_info("policy %s replaced by %s on %s (%s: invoked %ld, handled %ld)\n",
		old_ops->name, ops->name,
		bpf_oom_target_str(ops->cgroup_id, where, sizeof(where)), old_ops->name,
		atomic_long_read(&old->invoked), atomic_long_read(&old->handled));
	kfree(old);
	return 0;
}

/* ---- cgroup offline --------------------------------------------------- */

/**
 * bpf_oom_cgroup_rmdir() - a cgroup was removed (cgroup_rmdir tracepoint)
 * @id: its cgroup id
 *
 * Context: atomic (a tracepoint probe); queues the work that calls
 * handle_cgroup_offline and drops the attachment.
 */
void bpf_oom_cgroup_rmdir(u64 id)
{
	struct bpf_oom_policy *policy;

	smp_mb();	/* pairs with bpf_oom_attach_cgroup() */
	rcu_read_lock();
	policy = xa_load(&bpf_oom_cgroup_policies, id);
	if (policy)
		queue_work(bpf_oom_wq, &policy->offline_work);
	rcu_read_unlock();
}

static void bpf_oom_offline_workfn(struct work_struct *work)
{
	struct bpf_oom_policy *policy = container_of(work, struct bpf_oom_policy, offline_work);
	struct bpf_oom_ctx ctx = { .cgroup_id = policy->cgroup_id };
	bool detached = false;

	mutex_lock(&bpf_oom_attach_lock);
	/* Unless unreg got here first (it then owns and frees the policy). */
	if (!list_empty(&policy->node)) {
		/*
		 * The ops attached now: unreg and update wait on the mutex, so
		 * they stay valid for the call; an update that came first has
		 * made the new ops the ones told.
		 */
		struct bpf_oom_ops *ops = bpf_oom_cur_locked(policy)->ops;

		bpf_oom_detach_locked(policy);
		detached = true;
		if (ops->handle_cgroup_offline)
			ops->handle_cgroup_offline(&ctx, policy->cgroup_id);
		pr_info("policy %s detached: cgroup %llu went offline\n", ops->name,
			policy->cgroup_id);
	}
	mutex_unlock(&bpf_oom_attach_lock);
	if (!detached)
		return;
	/* No probe or OOM handler can see it any more: free it ourselves. */
	synchronize_rcu();
	synchronize_srcu(&bpf_oom_srcu);
	kfree(rcu_dereference_protected(policy->cur, true));
	kfree(policy);
}

/* ---- struct_ops plumbing ---------------------------------------------- */

/* CFI stubs: their prototypes are what the BPF trampolines are typed as. */
static int bpf_oom_ops__handle_out_of_memory(struct bpf_oom_ctx *ctx, struct oom_control *oc)
{
	return 0;
}

static void bpf_oom_ops__handle_cgroup_offline(struct bpf_oom_ctx *ctx, u64 cgroup_id)
{
}

static struct bpf_oom_ops bpf_oom_ops_cfi_stubs = {
	.handle_out_of_memory = bpf_oom_ops__handle_out_of_memory,
	.handle_cgroup_offline = bpf_oom_ops__handle_cgroup_offline,
};

static const struct bpf_func_proto *
bpf_oom_ops_get_func_proto(enum bpf_func_id func_id, const struct bpf_prog *prog)
{
	return bpf_base_func_proto(func_id, prog);
}

static bool bpf_oom_ops_is_valid_access(int off, int size, enum bpf_access_type type,
					const struct bpf_prog *prog,
					struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/*
 * What programs of bpf-oom's struct_ops (OOM and PSI) may do besides their
 * kfuncs: the base helpers, and read their arguments as BTF pointers.
 */
const struct bpf_verifier_ops bpf_oom_verifier_ops = {
	.get_func_proto = bpf_oom_ops_get_func_proto,
	.is_valid_access = bpf_oom_ops_is_valid_access,
};

static int bpf_oom_ops_init(struct btf *btf)
{
	BTF_TYPE_EMIT(struct oom_control__safe_trusted_or_null);
	bpf_oom_btf = btf;
	return 0;
}

/* Every member of bpf_oom_ops may sleep: nothing to refuse per member. */
static int bpf_oom_ops_check_member(const struct btf_type *t,
				    const struct btf_member *member,
				    const struct bpf_prog *prog)
{
	bpf_oom_btf_learn_id_delta(prog, bpf_oom_ops_btf_ids[0]);
	return 0;
}

static int bpf_oom_ops_init_member(const struct btf_type *t,
				   const struct btf_member *member,
				   void *kdata, const void *udata)
{
	const struct bpf_oom_ops *uops = udata;
	struct bpf_oom_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct bpf_oom_ops, name):
		if (strnlen(uops->name, sizeof(uops->name)) == sizeof(uops->name)) {
			pr_err("bpf_oom_ops.name is not NUL-terminated\n");
			return -EINVAL;
		}
		strscpy_pad(ops->name, uops->name[0] ? uops->name : "bpf_defined_policy",
			    sizeof(ops->name));
		return 1;
	case offsetof(struct bpf_oom_ops, cgroup_id):
		ops->cgroup_id = uops->cgroup_id;
		return 1;
	}
	return 0;
}

static int bpf_oom_ops_validate(void *kdata)
{
	struct bpf_oom_ops *ops = kdata;

	if (!ops->handle_out_of_memory) {
		pr_err("bpf_oom_ops %s: handle_out_of_memory is mandatory\n", ops->name);
		return -EINVAL;
	}
	return 0;
}

static struct bpf_struct_ops bpf_oom_struct_ops = {
	.verifier_ops = &bpf_oom_verifier_ops,
	.init = bpf_oom_ops_init,
	.check_member = bpf_oom_ops_check_member,
	.init_member = bpf_oom_ops_init_member,
	.reg = bpf_oom_ops_reg,
	.unreg = bpf_oom_ops_unreg,
	.update = bpf_oom_ops_update,
	.validate = bpf_oom_ops_validate,
	.cfi_stubs = &bpf_oom_ops_cfi_stubs,
	.owner = THIS_MODULE,
	.name = "bpf_oom_ops",
};

/**
 * bpf_oom_btf_learn_id_delta() - learn how the kernel renumbered our BTF
 * @prog: a program being verified against one of our struct_ops types
 * @static_id: that type's id as built (BTF_ID_LIST)
 *
 * Called from the struct_ops check_member callbacks, which run before the
 * verifier looks at the program's kfunc calls.
 */
void bpf_oom_btf_learn_id_delta(const struct bpf_prog *prog, u32 static_id)
{
	/* attach_btf_id is the running kernel's id of the struct_ops type */
	WRITE_ONCE(bpf_oom_btf_id_delta, (s64)prog->aux->attach_btf_id - static_id);
}

/**
 * bpf_oom_prog_is_ops() - is @prog a program of one of our struct_ops?
 * @prog: a struct_ops program being verified
 * @static_id: the struct_ops type's id as built (BTF_ID_LIST)
 *
 * For the kfunc filter: 6.12 has no prog->aux->st_ops, so compare the
 * program's struct_ops type with ours, by id.
 */
bool bpf_oom_prog_is_ops(const struct bpf_prog *prog, u32 static_id)
{
	s64 delta = READ_ONCE(bpf_oom_btf_id_delta);

	return prog->type == BPF_PROG_TYPE_STRUCT_OPS && delta != S64_MIN &&
	       prog->aux->attach_btf == bpf_oom_btf &&
	       (s64)prog->aux->attach_btf_id - delta == static_id;
}

/**
 * bpf_oom_prog_is_oom_ops() - is @prog a bpf_oom_ops program?
 * @prog: a struct_ops program being verified
 */
bool bpf_oom_prog_is_oom_ops(const struct bpf_prog *prog)
{
	return bpf_oom_prog_is_ops(prog, bpf_oom_ops_btf_ids[0]);
}

/**
 * bpf_oom_btf_id_static() - a kfunc id as the verifier passes it, as built
 * @id: id in the running kernel's numbering of our BTF
 *
 * Return: the id resolve_btfids gave it, or 0 if not yet known.
 */
u32 bpf_oom_btf_id_static(u32 id)
{
	s64 delta = READ_ONCE(bpf_oom_btf_id_delta);

	return delta == S64_MIN ? 0 : (u32)((s64)id - delta);
}

/* ---- /proc/bpf_oom/policies ------------------------------------------- */

static int bpf_oom_policies_show(struct seq_file *m, void *v)
{
	struct bpf_oom_policy *policy;

	seq_puts(m, "# name cgroup_id since invoked handled\n");
	mutex_lock(&bpf_oom_attach_lock);
	list_for_each_entry(policy, &bpf_oom_policies, node) {
		struct bpf_oom_policy_ops *cur = bpf_oom_cur_locked(policy);

		seq_printf(m, "%s %llu %lld %ld %ld\n", cur->ops->name, policy->cgroup_id,
			   cur->since, atomic_long_read(&cur->invoked),
			   atomic_long_read(&cur->handled));
	}
	mutex_unlock(&bpf_oom_attach_lock);
	return 0;
}

/**
 * bpf_oom_ops_register() - register the bpf_oom_ops struct_ops
 * @procdir: /proc/bpf_oom, for the policy list
 *
 * Return: 0 or a negative errno.
 */
int bpf_oom_ops_register(struct proc_dir_entry *procdir)
{
	int err;

	bpf_oom_wq = alloc_workqueue("bpf_oom", WQ_UNBOUND, 0);
	if (!bpf_oom_wq)
		return -ENOMEM;
	if (!proc_create_single("policies", 0400, procdir, bpf_oom_policies_show)) {
		destroy_workqueue(bpf_oom_wq);
		return -ENOMEM;
	}
	/* No unregistration: the type goes away with the module's BTF. */
	err = register_bpf_struct_ops(&bpf_oom_struct_ops, bpf_oom_ops);
	if (err) {
		pr_err("cannot register struct_ops bpf_oom_ops: %d\n", err);
		remove_proc_entry("policies", procdir);
		destroy_workqueue(bpf_oom_wq);
	}
	return err;
}

/**
 * bpf_oom_ops_unregister() - undo bpf_oom_ops_register()
 * @procdir: /proc/bpf_oom
 *
 * Only reached with nothing attached (every map holds a module reference);
 * offline works that are still freeing their policy finish first.
 */
void bpf_oom_ops_unregister(struct proc_dir_entry *procdir)
{
	remove_proc_entry("policies", procdir);
	destroy_workqueue(bpf_oom_wq);
}
