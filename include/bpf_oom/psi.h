/* SPDX-License-Identifier: GPL-2.0 */
/*
 * psi.h - the PSI struct_ops of the upstream "mm: BPF OOM" series (v2).
 *
 * As with oom.h, the types reach BPF programs through the module's BTF (a
 * vmlinux.h dumped from /sys/kernel/btf/bpf_oom); BPF programs include this
 * header for the constants only.
 */
#ifndef _BPF_OOM_PSI_H
#define _BPF_OOM_PSI_H

/*
 * bpf_psi_create_trigger()'s @resource: an enum psi_res value (PSI_IO = 0,
 * PSI_MEM = 1, PSI_CPU = 2, PSI_IRQ = 3 where the kernel accounts IRQ time),
 * OR-ed with BPF_PSI_FULL for the "full" state, else "some".
 */
#define BPF_PSI_FULL 0x80000000

#define BPF_PSI_NAME_MAX_LEN 64

#ifdef __KERNEL__
#include <linux/types.h>

struct bpf_psi;
struct psi_trigger;

/**
 * struct bpf_psi_ops - a BPF policy driven by PSI (pressure stall) events
 * @init: mandatory, sleepable. Runs once when the ops is attached, in the
 *	attaching task; creates the ops' triggers with bpf_psi_create_trigger().
 *	A non-zero return fails the attach (its triggers are destroyed).
 * @handle_psi_event: mandatory, sleepable. A trigger of this ops fired (at
 *	most once per window, the kernel's rate limit). Runs on the bpf_psi
 *	workqueue, never in the PSI aggregator; @t is the kernel's trigger.
 * @handle_cgroup_online: optional, sleepable. A cgroup was created; called
 *	for every new cgroup, with its id.
 * @handle_cgroup_offline: optional, sleepable. A cgroup on which this ops
 *	has triggers was removed; its triggers are destroyed right after.
 * @bpf_psi: private to the module (upstream: the ops' runtime state).
 * @name: bpf-oom extension, not in upstream v2: the policy's name in its
 *	decision records (bpf_psi_note_decision()); empty means
 *	"bpf_psi_policy", which is what upstream policies get.
 */
struct bpf_psi_ops {
	int (*init)(struct bpf_psi *bpf_psi);
	void (*handle_psi_event)(struct bpf_psi *bpf_psi, struct psi_trigger *t);
	void (*handle_cgroup_online)(struct bpf_psi *bpf_psi, u64 cgroup_id);
	void (*handle_cgroup_offline)(struct bpf_psi *bpf_psi, u64 cgroup_id);
	struct bpf_psi *bpf_psi;
	char name[BPF_PSI_NAME_MAX_LEN];
};
#endif /* __KERNEL__ */

#endif /* _BPF_OOM_PSI_H */
