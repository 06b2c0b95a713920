// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_kfuncs.bpf.c - reads memcg counters through the memcg kfuncs.
 *
 * Userspace fills reqs[] with (kind, index) pairs, using enum values it
 * looked up in the running kernel's BTF, and runs the sleepable cgroup
 * iterator over one cgroup (self only); the program flushes that memcg's
 * stats and stores every requested value in vals[].
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf_oom/kfuncs.h>

char _license[] SEC("license") = "GPL";

#define MAX_REQS 32

enum req_kind { REQ_PAGE_STATE, REQ_VM_EVENTS, REQ_MEMORY_EVENTS, REQ_USAGE };

int nr_reqs;
int req_kind[MAX_REQS];
int req_idx[MAX_REQS];
unsigned long vals[MAX_REQS];

/* 1: read done, -1: no memcg for the cgroup */
int status;
/* Whether bpf_get_mem_cgroup() on this cgroup gave the root memcg. */
int is_root_memcg;

SEC("iter.s/cgroup")
int read_memcg(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct mem_cgroup *memcg, *root;
	int i;

	if (!cgrp)
		return 1;

	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (!memcg) {
		status = -1;
		return 1;
	}
	root = bpf_get_root_mem_cgroup();
	if (root) {
		is_root_memcg = root == memcg;
		bpf_put_mem_cgroup(root);
	}

	bpf_mem_cgroup_flush_stats(memcg);
	for (i = 0; i < nr_reqs && i < MAX_REQS; i++) {
		switch (req_kind[i]) {
		case REQ_PAGE_STATE:
			vals[i] = bpf_mem_cgroup_page_state(memcg, req_idx[i]);
			break;
		case REQ_VM_EVENTS:
			vals[i] = bpf_mem_cgroup_vm_events(memcg, req_idx[i]);
			break;
		case REQ_MEMORY_EVENTS:
			vals[i] = bpf_mem_cgroup_memory_events(memcg, req_idx[i]);
			break;
		case REQ_USAGE:
			vals[i] = bpf_mem_cgroup_usage(memcg);
			break;
		}
	}
	bpf_put_mem_cgroup(memcg);
	status = 1;
	return 0;
}

/*
 * Bad input: the same reads on the root memcg from a syscall program, for
 * indices userspace chose to be out of range or untracked.
 */
SEC("syscall")
int read_root(void *ctx)
{
	struct mem_cgroup *root;
	int i;

	root = bpf_get_root_mem_cgroup();
	if (!root) {
		status = -1;
		return 0;
	}
	for (i = 0; i < nr_reqs && i < MAX_REQS; i++) {
		switch (req_kind[i]) {
		case REQ_PAGE_STATE:
			vals[i] = bpf_mem_cgroup_page_state(root, req_idx[i]);
			break;
		case REQ_VM_EVENTS:
			vals[i] = bpf_mem_cgroup_vm_events(root, req_idx[i]);
			break;
		case REQ_MEMORY_EVENTS:
			vals[i] = bpf_mem_cgroup_memory_events(root, req_idx[i]);
			break;
		case REQ_USAGE:
			vals[i] = bpf_mem_cgroup_usage(root);
			break;
		}
	}
	bpf_put_mem_cgroup(root);
	status = 1;
	return 0;
}
