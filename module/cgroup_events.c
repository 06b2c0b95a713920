// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_events.c - learn that cgroups come and go, without a kernel hook.
 *
 * Upstream calls handle_cgroup_online/offline from the cgroup core. A module
 * gets the same moments from the cgroup_mkdir tracepoint, fired by
 * cgroup_mkdir() once the new cgroup's controllers are online, and the
 * cgroup_rmdir tracepoint, fired by cgroup_rmdir() right after the cgroup
 * went offline (CSS_ONLINE cleared). Tracepoints are not exported by name,
 * but for_each_kernel_tracepoint() is.
 *
 * The probes run in atomic context (cgroup_mutex and a spinlock held, IRQs
 * off): they only look at the cgroup and queue work. Only cgroups of the
 * default (v2) hierarchy count: cgroup ids are per hierarchy, and a v1
 * cgroup may share its number with a v2 one. The probes are called by the
 * tracepoint machinery through a static call or its iterator; their
 * address is taken, so they keep their ENDBR (IBT-safe).
 */
#include <linux/cgroup.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "bpf_oom.h"

static struct tracepoint *bpf_oom_tp_cgroup_mkdir;
static struct tracepoint *bpf_oom_tp_cgroup_rmdir;

static void bpf_oom_find_tracepoints(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "cgroup_mkdir"))
		bpf_oom_tp_cgroup_mkdir = tp;
	else if (!strcmp(tp->name, "cgroup_rmdir"))
		bpf_oom_tp_cgroup_rmdir = tp;
}

/* TP_PROTO(struct cgroup *cgrp, const char *path) */
static void bpf_oom_probe_cgroup_mkdir(void *data, struct cgroup *cgrp, const char *path)
{
	if (cgrp->root == &cgrp_dfl_root)
		bpf_psi_cgroup_mkdir(cgrp);
}

static void bpf_oom_probe_cgroup_rmdir(void *data, struct cgroup *cgrp, const char *path)
{
	if (cgrp->root != &cgrp_dfl_root)
		return;
	bpf_oom_cgroup_rmdir(cgroup_id(cgrp));
	bpf_psi_cgroup_rmdir(cgroup_id(cgrp));
}

/**
 * bpf_oom_cgroup_events_init() - start watching cgroup creation and removal
 *
 * Return: 0; -ENOENT if the kernel lacks one of the tracepoints; or the
 * errno of the probe registration.
 */
int bpf_oom_cgroup_events_init(void)
{
	int err;

	for_each_kernel_tracepoint(bpf_oom_find_tracepoints, NULL);
	if (!bpf_oom_tp_cgroup_mkdir || !bpf_oom_tp_cgroup_rmdir) {
		pr_err("kernel tracepoint %s not found: this kernel is not supported\n",
		       bpf_oom_tp_cgroup_mkdir ? "cgroup_rmdir" : "cgroup_mkdir");
		return -ENOENT;
	}
	err = tracepoint_probe_register(bpf_oom_tp_cgroup_mkdir,
					bpf_oom_probe_cgroup_mkdir, NULL);
	if (err) {
		pr_err("cannot attach to tracepoint cgroup_mkdir: %d\n", err);
		return err;
	}
	err = tracepoint_probe_register(bpf_oom_tp_cgroup_rmdir,
					bpf_oom_probe_cgroup_rmdir, NULL);
	if (err) {
		pr_err("cannot attach to tracepoint cgroup_rmdir: %d\n", err);
		tracepoint_probe_unregister(bpf_oom_tp_cgroup_mkdir,
					    bpf_oom_probe_cgroup_mkdir, NULL);
		tracepoint_synchronize_unregister();
	}
	return err;
}

/** bpf_oom_cgroup_events_exit() - stop, and wait for running probes */
void bpf_oom_cgroup_events_exit(void)
{
	tracepoint_probe_unregister(bpf_oom_tp_cgroup_rmdir, bpf_oom_probe_cgroup_rmdir, NULL);
	tracepoint_probe_unregister(bpf_oom_tp_cgroup_mkdir, bpf_oom_probe_cgroup_mkdir, NULL);
	tracepoint_synchronize_unregister();
}
