// SPDX-License-Identifier: GPL-2.0
/*
 * ipmodify_holder - a test module standing in for a livepatch: it claims
 * out_of_memory() with an ftrace IPMODIFY ops (and changes nothing), so the
 * test can check that bpf_oom then refuses to load, saying why.
 */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/string.h>

static void notrace holder_func(unsigned long ip, unsigned long parent_ip,
				struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops holder_ops = {
	.func = holder_func,
	.flags = FTRACE_OPS_FL_IPMODIFY |
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
		 FTRACE_OPS_FL_SAVE_REGS |
#endif
		 0,
};

static int __init holder_init(void)
{
	static char func[] = "out_of_memory";
	int err;

	err = ftrace_set_filter(&holder_ops, func, strlen(func), 0);
	if (!err)
		err = register_ftrace_function(&holder_ops);
	if (err)
		ftrace_free_filter(&holder_ops);
	return err;
}

/* The filter hash is the ops' own: free it, or kmemleak reports it. */
static void __exit holder_exit(void)
{
	unregister_ftrace_function(&holder_ops);
	ftrace_free_filter(&holder_ops);
}

module_init(holder_init);
module_exit(holder_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bpf-oom test: hold out_of_memory() with an IPMODIFY ftrace ops");
