/* SPDX-License-Identifier: GPL-2.0 */
/*
 * oom.h - the OOM struct_ops of the upstream "mm: BPF OOM" series (v2).
 *
 * The module defines these types, so they are in its BTF
 * (/sys/kernel/btf/bpf_oom) and reach BPF programs through a vmlinux.h dumped
 * from it; BPF programs include this header only for the constants, which
 * BTF does not carry.
 */
#ifndef _BPF_OOM_OOM_H
#define _BPF_OOM_OOM_H

#define BPF_OOM_NAME_MAX_LEN 64

/* bpf_out_of_memory() flags: wait for oom_lock instead of failing -EBUSY */
#define BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK (1ULL << 0)

#ifdef __KERNEL__
#include <linux/types.h>

struct oom_control;

/**
 * struct bpf_oom_ctx - where the running OOM handler is attached
 * @cgroup_id: id of the cgroup the ops is attached to, 0 when system-wide
 */
struct bpf_oom_ctx {
	u64 cgroup_id;
};

/**
 * struct bpf_oom_ops - a BPF OOM policy
 * @handle_out_of_memory: mandatory, sleepable. Runs under oom_lock before
 *	the kernel picks a victim. Returns non-zero if it handled the OOM;
 *	that only counts if it also freed memory through a releasing kfunc
 *	(bpf_oom_kill_process()), else the next handler or the kernel's OOM
 *	killer runs. bpf-oom differs from upstream v2 in two ways: a handler
 *	that killed ends the chain whatever it returns (no second kill for
 *	the same OOM), and it is not called at all while an earlier victim
 *	inside the OOM's domain is still freeing its memory (README, "One
 *	OOM, one kill").
 * @handle_cgroup_offline: optional, sleepable. The cgroup the ops is
 *	attached to (@cgroup_id) went offline; the attachment is dropped
 *	right after the call.
 * @name: the policy's name in the OOM report and the policy list; empty
 *	means "bpf_defined_policy".
 * @cgroup_id: bpf-oom extension, not in upstream v2: the cgroup to attach
 *	to, 0 (the default, what upstream policies leave it at) for
 *	system-wide. Stock kernels ignore the cgroup fd upstream passes to
 *	link_create, so `bpf-oom attach -c` (bpf/bpf-oom.c) sets this before load.
 */
struct bpf_oom_ops {
	int (*handle_out_of_memory)(struct bpf_oom_ctx *ctx, struct oom_control *oc);
	void (*handle_cgroup_offline)(struct bpf_oom_ctx *ctx, u64 cgroup_id);
	char name[BPF_OOM_NAME_MAX_LEN];
	u64 cgroup_id;
};
#endif /* __KERNEL__ */

#endif /* _BPF_OOM_OOM_H */
