// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_verifier.bpf.c - reference rules of bpf_get_mem_cgroup().
 *
 * balanced must load; leak and double_put differ from it by one line and
 * must be rejected by the verifier. Userspace loads them one at a time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf_oom/kfuncs.h>

char _license[] SEC("license") = "GPL";

unsigned long usage;

SEC("?iter.s/cgroup")
int balanced(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct mem_cgroup *memcg;

	if (!cgrp)
		return 1;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (!memcg)
		return 1;
	usage = bpf_mem_cgroup_usage(memcg);
	bpf_put_mem_cgroup(memcg);
	return 0;
}

SEC("?iter.s/cgroup")
int leak(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct mem_cgroup *memcg;

	if (!cgrp)
		return 1;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (!memcg)
		return 1;
	usage = bpf_mem_cgroup_usage(memcg);
	return 0;		/* no bpf_put_mem_cgroup() */
}

SEC("?iter.s/cgroup")
int double_put(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct mem_cgroup *memcg;

	if (!cgrp)
		return 1;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (!memcg)
		return 1;
	usage = bpf_mem_cgroup_usage(memcg);
	bpf_put_mem_cgroup(memcg);
	bpf_put_mem_cgroup(memcg);
	return 0;
}

/* The flush sleeps: a non-sleepable program may not call it. */
SEC("?iter/cgroup")
int flush_not_sleepable(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct mem_cgroup *memcg;

	if (!cgrp)
		return 1;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (!memcg)
		return 1;
	bpf_mem_cgroup_flush_stats(memcg);
	bpf_put_mem_cgroup(memcg);
	return 0;
}
