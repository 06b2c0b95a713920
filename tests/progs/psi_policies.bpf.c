// SPDX-License-Identifier: GPL-2.0
/*
 * psi_policies.bpf.c - bpf_psi_ops programs for the PSI tests.
 *
 * upstream: the upstream test_psi policy (shared/upstream-api.md §5), with
 *	t->cgroup_id read through bpf_psi_trigger_cgroup_id() (stock kernels'
 *	struct psi_trigger has no such member) and the ids the cgroup
 *	callbacks see kept apart from the ids userspace sets.
 * args: tries every invalid argument in init and records each result.
 * system: a system-wide memory trigger whose first event declares a
 *	system-wide OOM.
 * count: a system-wide memory trigger whose events are only counted (for
 *	detach while firing, and attach/detach loops).
 * busy: bpf_out_of_memory() without waiting, while another task holds
 *	oom_lock.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/psi.h>
#include "psi_args.h"

char _license[] SEC("license") = "GPL";

struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

/* ---- upstream ------------------------------------------------------------ */

u64 high_pressure_cgroup_id;	/* set by userspace: cg2 */
u64 io_cgroup_id;		/* set by userspace: cg1 */
const char constraint_name[] = "CONSTRAINT_BPF_PSI_MEM";

int init_ret_mem = 1, init_ret_io = 1;
u64 events, event_cgroup_id;
u32 event_state, event_threshold_us, event_window_us;
int oom_ret = 1;		/* 1: bpf_out_of_memory() not called */
u64 online_calls, online_cgroup_id;
int online_trigger_ret = 1;
u64 offline_calls, offline_cgroup_id;

static struct mem_cgroup *memcg_of(u64 cgroup_id, struct cgroup **cgrp)
{
	struct mem_cgroup *memcg;

	*cgrp = bpf_cgroup_from_id(cgroup_id);
	if (!*cgrp)
		return NULL;
	memcg = bpf_get_mem_cgroup(&(*cgrp)->self);
	if (!memcg)
		bpf_cgroup_release(*cgrp);
	return memcg;
}

SEC("struct_ops.s/init")
int BPF_PROG(upstream_init, struct bpf_psi *bpf_psi)
{
	init_ret_mem = bpf_psi_create_trigger(bpf_psi, high_pressure_cgroup_id,
					      PSI_MEM | BPF_PSI_FULL, 100000, 1000000);
	if (init_ret_mem)
		return init_ret_mem;
	init_ret_io = bpf_psi_create_trigger(bpf_psi, io_cgroup_id, PSI_IO, 100000, 1000000);
	return init_ret_io;
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(upstream_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	u64 cgroup_id = bpf_psi_trigger_cgroup_id(t);
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;

	/* what the program sees of the trigger (the first event's) */
	if (!events++) {
		event_cgroup_id = cgroup_id;
		event_state = t->state;
		event_threshold_us = t->threshold / 1000;
		event_window_us = t->win.size / 1000;
	}
	memcg = memcg_of(cgroup_id, &cgrp);
	if (!memcg)
		return;
	oom_ret = bpf_out_of_memory(memcg, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK, constraint_name);
	bpf_put_mem_cgroup(memcg);
	bpf_cgroup_release(cgrp);
}

SEC("struct_ops.s/handle_cgroup_online")
void BPF_PROG(upstream_online, struct bpf_psi *bpf_psi, u64 cgroup_id)
{
	online_calls++;
	online_cgroup_id = cgroup_id;
	online_trigger_ret = bpf_psi_create_trigger(bpf_psi, cgroup_id, PSI_IO, 100000, 1000000);
}

SEC("struct_ops.s/handle_cgroup_offline")
void BPF_PROG(upstream_offline, struct bpf_psi *bpf_psi, u64 cgroup_id)
{
	offline_calls++;
	offline_cgroup_id = cgroup_id;
}

SEC(".struct_ops.link")
struct bpf_psi_ops upstream = {
	.init = (void *)upstream_init,
	.handle_psi_event = (void *)upstream_event,
	.handle_cgroup_online = (void *)upstream_online,
	.handle_cgroup_offline = (void *)upstream_offline,
};

/* ---- args: every invalid argument --------------------------------------- */

int arg_ret[NR_ARGS];

#define PSI_IRQ_RES 3	/* enum psi_res: PSI_IRQ follows PSI_CPU where it exists */

SEC("struct_ops.s/init")
int BPF_PROG(args_init, struct bpf_psi *bpf_psi)
{
	arg_ret[ARG_BAD_RESOURCE] = bpf_psi_create_trigger(bpf_psi, 0, 7, 100000, 2000000);
	arg_ret[ARG_IRQ_SOME] = bpf_psi_create_trigger(bpf_psi, 0, PSI_IRQ_RES, 100000, 2000000);
	arg_ret[ARG_IRQ_FULL] = bpf_psi_create_trigger(bpf_psi, 0, PSI_IRQ_RES | BPF_PSI_FULL,
						       100000, 2000000);
	arg_ret[ARG_WINDOW_0] = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 100000, 0);
	arg_ret[ARG_WINDOW_ABOVE_10S] = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 100000,
							       10000001);
	arg_ret[ARG_WINDOW_1S] = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 100000, 1000000);
	arg_ret[ARG_THRESHOLD_0] = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 0, 2000000);
	arg_ret[ARG_THRESHOLD_ABOVE_WINDOW] = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM,
								     2000001, 2000000);
	arg_ret[ARG_NO_CGROUP] = bpf_psi_create_trigger(bpf_psi, ~0ULL >> 4, PSI_MEM,
							100000, 2000000);
	arg_ret[ARG_VALID_CGROUP] = bpf_psi_create_trigger(bpf_psi, io_cgroup_id, PSI_MEM,
							   100000, 2000000);
	arg_ret[ARG_VALID_SYSTEM] = bpf_psi_create_trigger(bpf_psi, 0, PSI_CPU | BPF_PSI_FULL,
							   100000, 2000000);
	arg_ret[OOM_BAD_FLAGS] = bpf_out_of_memory(NULL, 0, 2, "");
	arg_ret[OOM_ORDER_NEGATIVE] = bpf_out_of_memory(NULL, -1, 0, "");
	arg_ret[OOM_ORDER_ABOVE_MAX] = bpf_out_of_memory(NULL, 11, 0, "");
	return 0;
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(count_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	__sync_fetch_and_add(&events, 1);
}

SEC(".struct_ops.link")
struct bpf_psi_ops args = {
	.init = (void *)args_init,
	.handle_psi_event = (void *)count_event,
};

/* ---- system: a system-wide trigger declares a system-wide OOM ----------- */

int system_init_ret = 1;
u64 system_events;
u64 system_event_cgroup_id = ~0ULL;
int system_oom_ret = 1;		/* 1: not called */

SEC("struct_ops.s/init")
int BPF_PROG(system_init, struct bpf_psi *bpf_psi)
{
	system_init_ret = bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM | BPF_PSI_FULL,
						 100000, 1000000);
	return system_init_ret;
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(system_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	if (system_events++)
		return;
	system_event_cgroup_id = bpf_psi_trigger_cgroup_id(t);
	system_oom_ret = bpf_out_of_memory(NULL, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK, "");
}

SEC(".struct_ops.link")
struct bpf_psi_ops system = {
	.init = (void *)system_init,
	.handle_psi_event = (void *)system_event,
};

/* ---- count: events only ------------------------------------------------- */

u64 count_cgroup_id;	/* 0: system-wide */

SEC("struct_ops.s/init")
int BPF_PROG(count_init, struct bpf_psi *bpf_psi)
{
	return bpf_psi_create_trigger(bpf_psi, count_cgroup_id, PSI_MEM, 50000, 500000);
}

SEC(".struct_ops.link")
struct bpf_psi_ops count = {
	.init = (void *)count_init,
	.handle_psi_event = (void *)count_event,
	.handle_cgroup_offline = (void *)upstream_offline,
};

/* ---- busy: oom_lock contention ----------------------------------------- */

u64 busy_cgroup_id;
int busy_ret = 1;
const char busy_constraint[] = "CONSTRAINT_BPF_BUSY_TEST";
int busy_init_ret = 0;	/* what init returns: tests a failing init */

SEC("struct_ops.s/init")
int BPF_PROG(busy_init, struct bpf_psi *bpf_psi)
{
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;

	memcg = memcg_of(busy_cgroup_id, &cgrp);
	if (memcg) {
		busy_ret = bpf_out_of_memory(memcg, 0, 0, busy_constraint);
		bpf_put_mem_cgroup(memcg);
		bpf_cgroup_release(cgrp);
	}
	/* a trigger that a failing init must not leak */
	bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 100000, 2000000);
	return busy_init_ret;
}

SEC(".struct_ops.link")
struct bpf_psi_ops busy = {
	.init = (void *)busy_init,
	.handle_psi_event = (void *)count_event,
};

/* ---- hold_oom_lock: a bpf_oom_ops policy that sits on oom_lock ---------- */

u64 holding;	/* the handler is running (under oom_lock) */
u64 release;	/* set by userspace to let it return */
u64 hold_calls;	/* how often the handler was called */

static u64 hold_deadline;
static bool hold_done;

/* Spin until *@release is set, 30 s at most (in case userspace never says). */
static __always_inline void hold_until(volatile u64 *release)
{
	int i, j;

	hold_deadline = bpf_ktime_get_ns() + 30ULL * 1000000000;
	hold_done = false;
	/* an open-coded loop runs at most 1 << 23 times: nest two */
	bpf_for(j, 0, 1 << 20) {
		bpf_for(i, 0, 1 << 20) {
			if (*release || bpf_ktime_get_ns() > hold_deadline) {
				hold_done = true;
				break;
			}
		}
		if (hold_done)
			break;
	}
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(hold_lock, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	hold_calls++;
	holding = 1;
	hold_until(&release);
	holding = 0;
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops hold_oom_lock = {
	.handle_out_of_memory = (void *)hold_lock,
	.name = "test_hold_oom_lock",
};

/* ---- psi_hold: a handle_psi_event that runs until released --------------- */

u64 psi_hold_cgroup_id;
u64 psi_holding;	/* the handler is running */
u64 psi_release;	/* set by userspace to let it return */
u64 psi_hold_calls;

SEC("struct_ops.s/init")
int BPF_PROG(psi_hold_init, struct bpf_psi *bpf_psi)
{
	return bpf_psi_create_trigger(bpf_psi, psi_hold_cgroup_id, PSI_MEM, 50000, 500000);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(psi_hold_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	psi_hold_calls++;
	psi_holding = 1;
	hold_until(&psi_release);
	psi_holding = 0;
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_hold = {
	.init = (void *)psi_hold_init,
	.handle_psi_event = (void *)psi_hold_event,
};
