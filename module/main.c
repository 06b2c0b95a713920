// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom: the "mm: BPF OOM" API of upstream Linux (v2) for stock kernels.
 *
 * This file only sequences initialisation and teardown; each part lives in
 * a file of its own (see bpf_oom.h). Exit is the reverse of init, but for the
 * cgroup probes, which stop first (see bpf_oom_exit()).
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/utsname.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"

static struct proc_dir_entry *bpf_oom_procdir;

#ifdef BPF_OOM_TESTING
/*
 * Only in the test suite's build (make module BPF_OOM_TESTING=1), never in
 * what DKMS builds: one more kernel symbol that must resolve, so that the
 * "needed symbol missing" failure can be provoked on a kernel that has
 * everything.
 */
static char *require_ksym;
module_param(require_ksym, charp, 0400);
MODULE_PARM_DESC(require_ksym, "testing: fail to load unless this kernel symbol exists too");

static void *required_ksym_addr;
/* static: ksyms.c keeps a pointer to every table it resolved */
static struct bpf_oom_ksym required_ksym = { .data = &required_ksym_addr };

static int bpf_oom_check_required_ksym(void)
{
	if (!require_ksym)
		return 0;
	required_ksym.name = require_ksym;
	return bpf_oom_ksyms_resolve(&required_ksym, 1);
}
#else
static int bpf_oom_check_required_ksym(void)
{
	return 0;
}
#endif

/*
 * A kernel with BPF OOM built in already runs policies inside
 * out_of_memory(): two hooks must never both decide, so refuse to load.
 * The names are upstream's kfunc and the hook's entry point.
 */
static int bpf_oom_check_not_native(void)
{
	static const char *const native[] = { "bpf_oom_kill_process", "bpf_handle_oom" };
	int i;

	for (i = 0; i < ARRAY_SIZE(native); i++) {
		if (bpf_oom_ksym_in_vmlinux(native[i])) {
			pr_err("this kernel has BPF OOM built in (it defines %s): use it instead of bpf-oom, which refuses to load (-EEXIST)\n",
			       native[i]);
			return -EEXIST;
		}
	}
	return 0;
}

static int __init bpf_oom_init(void)
{
	int err;

	err = bpf_oom_ksyms_init();
	if (err)
		return err;
	err = bpf_oom_check_not_native();
	if (err)
		return err;
	err = bpf_oom_check_required_ksym();
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
	err = bpf_oom_records_init(bpf_oom_procdir);
	if (err)
		goto err_procdir;
	err = bpf_oom_victims_init(bpf_oom_procdir);
	if (err)
		goto err_procdir;
	err = bpf_oom_cgroup_events_init();
	if (err)
		goto err_victims;
	err = bpf_oom_shim_init();
	if (err)
		goto err_cgroup_events;
	/* Last: once registered, policies can attach. */
	err = bpf_oom_ops_register(bpf_oom_procdir);
	if (err)
		goto err_shim;
	err = bpf_psi_ops_register(bpf_oom_procdir);
	if (err)
		goto err_oom_ops;

	pr_info("loaded on %s\n", init_utsname()->release);
	return 0;

err_oom_ops:
	bpf_oom_cgroup_events_exit();
	bpf_oom_ops_unregister(bpf_oom_procdir);
	bpf_oom_shim_exit();
	goto err_victims;
err_shim:
	bpf_oom_shim_exit();
err_cgroup_events:
	bpf_oom_cgroup_events_exit();
err_victims:
	bpf_oom_victims_exit(bpf_oom_procdir);
err_procdir:
	proc_remove(bpf_oom_procdir);
	return err;
}

static void __exit bpf_oom_exit(void)
{
	/*
	 * Nothing is attached (each struct_ops map holds a module
	 * reference). The cgroup probes go first: they queue work on the
	 * workqueues the ops' unregistration destroys. The victim records
	 * go last: the shim consults them until it is unhooked.
	 */
	bpf_oom_cgroup_events_exit();
	bpf_psi_ops_unregister(bpf_oom_procdir);
	bpf_oom_ops_unregister(bpf_oom_procdir);
	bpf_oom_shim_exit();
	bpf_oom_victims_exit(bpf_oom_procdir);
	proc_remove(bpf_oom_procdir);
	pr_info("unloaded\n");
}

module_init(bpf_oom_init);
module_exit(bpf_oom_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The bpf-oom developers");
MODULE_DESCRIPTION("BPF OOM policies (upstream mm: BPF OOM API) for stock kernels");
MODULE_VERSION(BPF_OOM_VERSION);
