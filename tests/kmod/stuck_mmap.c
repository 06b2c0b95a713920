// SPDX-License-Identifier: GPL-2.0
/*
 * stuck_mmap - a test module that makes an OOM victim unable to exit: an
 * mmap() of /dev/bpf_oom_stuck sleeps uninterruptibly (SIGKILL cannot end
 * it) while the kernel holds the caller's mmap_lock for writing, so the OOM
 * reaper cannot reap it either. Writing 1 to the module parameter
 * "release" (or unloading) lets every such mmap() fail with -EINTR.
 * For the test of bpf-oom's bound on waiting for a victim.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/wait.h>

static DECLARE_WAIT_QUEUE_HEAD(stuck_wq);
static bool released;

static int release_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_bool(val, kp);

	if (!err && READ_ONCE(released))
		wake_up_all(&stuck_wq);
	return err;
}

static const struct kernel_param_ops release_ops = {
	.set = release_set,
	.get = param_get_bool,
};
module_param_cb(release, &release_ops, &released, 0600);

static int stuck_mmap(struct file *file, struct vm_area_struct *vma)
{
	wait_event(stuck_wq, READ_ONCE(released));	/* TASK_UNINTERRUPTIBLE */
	return -EINTR;
}

static const struct file_operations stuck_fops = {
	.owner = THIS_MODULE,
	.mmap = stuck_mmap,
};

static struct miscdevice stuck_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "bpf_oom_stuck",
	.fops = &stuck_fops,
};

static int __init stuck_init(void)
{
	return misc_register(&stuck_dev);
}

static void __exit stuck_exit(void)
{
	WRITE_ONCE(released, true);
	wake_up_all(&stuck_wq);
	misc_deregister(&stuck_dev);
}

module_init(stuck_init);
module_exit(stuck_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("bpf-oom test: an mmap() that sleeps uninterruptibly");
