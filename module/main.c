// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom: the "mm: BPF OOM" API of upstream Linux (v2) for stock kernels.
 *
 * This file only sequences initialisation and teardown; each part lives in
 * a file of its own (see bpf_oom.h). Exit is the exact reverse of init.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/utsname.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"

static struct proc_dir_entry *bpf_oom_procdir;

static int __init bpf_oom_init(void)
{
	int err;

	err = bpf_oom_ksyms_init();
	if (err)
		return err;

	/* Nothing to undo for kfunc sets: they live and die with our BTF. */
	err = bpf_oom_memcg_kfuncs_init();
	if (err)
		return err;
	err = bpf_oom_kfuncs_init();
	if (err)
		return err;

	bpf_oom_procdir = proc_mkdir("bpf_oom", NULL);
	if (!bpf_oom_procdir)
		return -ENOMEM;
	err = bpf_oom_ksyms_proc_init(bpf_oom_procdir);
	if (err)
		goto err_procdir;
	err = bpf_oom_cgroup_events_init();
	if (err)
		goto err_procdir;
	err = bpf_oom_shim_init();
	if (err)
		goto err_cgroup_events;
	/* Last: once registered, policies can attach. */
	err = bpf_oom_ops_register(bpf_oom_procdir);
	if (err)
		goto err_shim;

	pr_info("loaded on %s\n", init_utsname()->release);
	return 0;

err_shim:
	bpf_oom_shim_exit();
err_cgroup_events:
	bpf_oom_cgroup_events_exit();
err_procdir:
	proc_remove(bpf_oom_procdir);
	return err;
}

static void __exit bpf_oom_exit(void)
{
	bpf_oom_ops_unregister(bpf_oom_procdir);
	bpf_oom_shim_exit();
	bpf_oom_cgroup_events_exit();
	proc_remove(bpf_oom_procdir);
	pr_info("unloaded\n");
}

module_init(bpf_oom_init);
module_exit(bpf_oom_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The bpf-oom developers");
MODULE_DESCRIPTION("BPF OOM policies (upstream mm: BPF OOM API) for stock kernels");
MODULE_VERSION(BPF_OOM_VERSION);
