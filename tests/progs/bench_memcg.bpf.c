// SPDX-License-Identifier: GPL-2.0
/*
 * bench_memcg.bpf.c - one read of a memcg's counters per program run, the
 * kfunc side of the memory.stat benchmark (tests/bench_memcg.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf_oom/kfuncs.h>

char _license[] SEC("license") = "GPL";

#define MAX_REQS 16

struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

unsigned long long cgroup_id;
int nr_reqs;
int req_idx[MAX_REQS];		/* page state items */
int pgfault_idx;
unsigned long vals[MAX_REQS + 1];

SEC("syscall")
int read_stats(void *ctx)
{
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;
	int i;

	cgrp = bpf_cgroup_from_id(cgroup_id);
	if (!cgrp)
		return -1;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		return -1;

	bpf_mem_cgroup_flush_stats(memcg);
	for (i = 0; i < nr_reqs && i < MAX_REQS; i++)
		vals[i] = bpf_mem_cgroup_page_state(memcg, req_idx[i]);
	vals[MAX_REQS] = bpf_mem_cgroup_vm_events(memcg, pgfault_idx);
	bpf_put_mem_cgroup(memcg);
	return 0;
}
