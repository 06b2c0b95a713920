// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom: the "mm: BPF OOM" API of upstream Linux (v2) for stock kernels.
 *
 * This file only sequences initialisation and teardown; each part lives in
 * a file of its own (see bpf_oom.h). Exit is the exact reverse of init.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/utsname.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"

static int __init bpf_oom_init(void)
{
	int err;

	err = bpf_oom_ksyms_init();
	if (err)
		return err;

	/* Nothing to undo on failure: kfunc sets live and die with our BTF. */
	err = bpf_oom_memcg_kfuncs_init();
	if (err)
		return err;

	pr_info("loaded on %s\n", init_utsname()->release);
	return 0;
}

static void __exit bpf_oom_exit(void)
{
	pr_info("unloaded\n");
}

module_init(bpf_oom_init);
module_exit(bpf_oom_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The bpf-oom developers");
MODULE_DESCRIPTION("BPF OOM policies (upstream mm: BPF OOM API) for stock kernels");
MODULE_VERSION(BPF_OOM_VERSION);
