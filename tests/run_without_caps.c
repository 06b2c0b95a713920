// SPDX-License-Identifier: GPL-2.0
/*
 * run_without_caps - run a command with an empty effective capability set.
 *
 *   run_without_caps COMMAND [ARG]...
 *
 * For the loader's "missing capability" test: the VM only has root, and
 * busybox has no capsh. The process stays uid 0 but, as for any user
 * without CAP_BPF/CAP_SYS_ADMIN, the kernel refuses it BPF.
 */
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (argc < 2) {
		fprintf(stderr, "usage: run_without_caps COMMAND [ARG]...\n");
		return 2;
	}
	/* without this, exec would give uid 0 every capability back */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED)) {
		perror("prctl(PR_SET_SECUREBITS)");
		return 1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data)) {
		perror("capset");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
