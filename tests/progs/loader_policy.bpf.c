// SPDX-License-Identifier: GPL-2.0
/*
 * loader_policy.bpf.c - a policy that only counts and declines, for the
 * loader and bpftool tests: attaching it proves the attach path, its
 * invocation count (/proc/bpf_oom/policies) that it really runs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/oom.h>

char _license[] SEC("license") = "GPL";

u64 calls;

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(count_and_decline, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	calls++;
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops loader_policy = {
	.handle_out_of_memory = (void *)count_and_decline,
	.name = "loader_policy",
};
