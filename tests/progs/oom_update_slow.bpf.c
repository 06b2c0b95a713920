// SPDX-License-Identifier: GPL-2.0
/*
 * oom_update_slow.bpf.c - a bpf_oom_ops policy whose OOM handler stays
 * inside until the test lets it go, for the test that a link update waits
 * for a running handler (oom_update_waits_for_running_handler).
 *
 * Its own object, apart from oom_update.bpf.c's policy B that replaces it:
 * once the test destroys this object, nothing holds this map any more and
 * the kernel frees it, programs and all. If the update had returned while
 * this handler still ran, that would free code that is running.
 *
 * The handler records that it entered, spins (bpf_loop, nested, checking the
 * clock) until the test sets @release or @max_block_ns has passed (so a
 * broken test cannot hang the VM; the soft lockup detector would speak after
 * 20 s), then kills the allocating task and records when it returned.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>

char _license[] SEC("license") = "GPL";

/* The longest the handler blocks, whatever the test does. */
const volatile u64 max_block_ns = 5000000000ULL;

/* Set by the test: the handler may return. */
volatile u32 release;

u64 calls, kills, failures, timed_out;
u32 victim;
/* CLOCK_MONOTONIC (bpf_ktime_get_ns()) when the handler entered and returned */
volatile u64 entered_ns, exited_ns;

/* when the handler stops waiting for @release */
u64 deadline_ns;

static bool may_leave(void)
{
	return release || bpf_ktime_get_ns() > deadline_ns;
}

static long spin_inner(u64 i, void *ctx)
{
	return may_leave();
}

static long spin_outer(u64 i, void *ctx)
{
	bpf_loop(1 << 16, spin_inner, NULL, 0);
	return may_leave();
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(upd_slow_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct task_struct *task = bpf_get_current_task_btf();
	u32 pid = task->pid;
	int err;

	calls++;
	deadline_ns = bpf_ktime_get_ns() + max_block_ns;
	entered_ns = bpf_ktime_get_ns();
	/* 2^23 * 2^16 rounds at most; the clock ends it long before */
	bpf_loop(1 << 23, spin_outer, NULL, 0);
	if (!release)
		timed_out++;

	err = bpf_oom_kill_process(oc, task, "bpf-oom test policy (slow, link update)");
	if (err) {
		failures++;
	} else {
		kills++;
		victim = pid;
	}
	exited_ns = bpf_ktime_get_ns();
	return err ? 0 : 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops upd_slow = {
	.handle_out_of_memory = (void *)upd_slow_oom,
	.name = "test_upd_slow",
};
