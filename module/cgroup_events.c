// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_events.c - learn that a cgroup goes away, without a kernel hook.
 *
 * Upstream calls handle_cgroup_offline from the cgroup core. A module gets
 * the same moment from the cgroup_rmdir tracepoint, fired by cgroup_rmdir()
 * right after the cgroup went offline (CSS_ONLINE cleared). Tracepoints are
 * not exported by name, but for_each_kernel_tracepoint() is.
 *
 * The probe runs in atomic context (under a spinlock, IRQs off): it only
 * looks the cgroup up and queues work. It is called by the tracepoint
 * machinery through a static call or its iterator; its address is taken,
 * so it keeps its ENDBR (IBT-safe).
 */
#include <linux/cgroup.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "bpf_oom.h"

static struct tracepoint *bpf_oom_tp_cgroup_rmdir;

static void bpf_oom_find_tracepoint(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "cgroup_rmdir"))
		bpf_oom_tp_cgroup_rmdir = tp;
}

/* TP_PROTO(struct cgroup *cgrp, const char *path) */
static void bpf_oom_probe_cgroup_rmdir(void *data, struct cgroup *cgrp, const char *path)
{
	bpf_oom_cgroup_rmdir(cgroup_id(cgrp));
}

/**
 * bpf_oom_cgroup_events_init() - start watching cgroup removals
 *
 * Return: 0; -ENOENT if the kernel has no cgroup_rmdir tracepoint; or the
 * errno of the probe registration.
 */
int bpf_oom_cgroup_events_init(void)
{
	int err;

	for_each_kernel_tracepoint(bpf_oom_find_tracepoint, NULL);
	if (!bpf_oom_tp_cgroup_rmdir) {
		pr_err("kernel tracepoint cgroup_rmdir not found: this kernel is not supported\n");
		return -ENOENT;
	}
	err = tracepoint_probe_register(bpf_oom_tp_cgroup_rmdir,
					bpf_oom_probe_cgroup_rmdir, NULL);
	if (err)
		pr_err("cannot attach to tracepoint cgroup_rmdir: %d\n", err);
	return err;
}

/** bpf_oom_cgroup_events_exit() - stop, and wait for running probes */
void bpf_oom_cgroup_events_exit(void)
{
	tracepoint_probe_unregister(bpf_oom_tp_cgroup_rmdir, bpf_oom_probe_cgroup_rmdir, NULL);
	tracepoint_synchronize_unregister();
}
