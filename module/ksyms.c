// SPDX-License-Identifier: GPL-2.0
/*
 * ksyms.c - find unexported kernel symbols, once, in one place.
 *
 * kallsyms_lookup_name() has not been exported since 5.7. A kprobe on it
 * yields its address (the kprobe is registered and removed at once, it never
 * fires); from then on it is called through a static call like every other
 * resolved function (see ksyms.h for why only static calls are IBT-safe).
 */
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "ksyms.h"

BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_kallsyms_lookup_name, kallsyms_lookup_name);

/* The tables resolved so far, for /proc/bpf_oom/ksyms. */
static struct {
	const struct bpf_oom_ksym *syms;
	size_t count;
} tables[8];
static size_t nr_tables;

/**
 * bpf_oom_ksyms_init() - make kallsyms_lookup_name() callable
 *
 * Return: 0, or the negative errno of the kprobe registration.
 */
int bpf_oom_ksyms_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int err;

	err = register_kprobe(&kp);
	if (err) {
		pr_err("cannot find kallsyms_lookup_name: register_kprobe: %d\n", err);
		return err;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

	/*
	 * kp.addr may sit past the function's ENDBR slot: harmless for a
	 * direct call, but ask the function for its own exact address anyway.
	 */
	static_call_update(bpf_oom_kallsyms_lookup_name, (void *)addr);
	addr = static_call(bpf_oom_kallsyms_lookup_name)("kallsyms_lookup_name");
	if (!addr) {
		pr_err("kallsyms_lookup_name cannot find itself\n");
		return -ENOENT;
	}
	static_call_update(bpf_oom_kallsyms_lookup_name, (void *)addr);
	return 0;
}

/**
 * bpf_oom_ksym_lookup() - address of a kernel or module symbol
 * @name: exact symbol name
 *
 * Return: the address, or 0 if there is no such symbol.
 */
unsigned long bpf_oom_ksym_lookup(const char *name)
{
	return static_call(bpf_oom_kallsyms_lookup_name)(name);
}

/**
 * bpf_oom_ksym_in_vmlinux() - whether the kernel itself has a symbol
 * @name: exact symbol name
 *
 * kallsyms_lookup_name() searches vmlinux first, then every module, this one
 * included: a symbol found only in bpf_oom is not the kernel's.
 *
 * Return: true if vmlinux (or another module) defines @name.
 */
bool bpf_oom_ksym_in_vmlinux(const char *name)
{
	unsigned long addr = bpf_oom_ksym_lookup(name);

	return addr && !within_module(addr, THIS_MODULE);
}

/**
 * bpf_oom_ksyms_resolve() - resolve a table of symbols, all or nothing
 * @syms: the table
 * @count: its length
 *
 * Data pointers are filled in and static calls pointed at their functions.
 * On failure nothing is updated, and the module's init fails: no static
 * call of the table is ever called unresolved.
 *
 * Return: 0, or -ENOENT naming the first missing symbol in the log.
 */
int bpf_oom_ksyms_resolve(const struct bpf_oom_ksym *syms, size_t count)
{
	unsigned long addr;
	size_t i;

	/* First check them all, so a failure leaves every stub in place. */
	for (i = 0; i < count; i++) {
		addr = bpf_oom_ksym_lookup(syms[i].name);
		if (!addr || within_module(addr, THIS_MODULE)) {
			pr_err("kernel symbol %s not found: this kernel is not supported\n",
			       syms[i].name);
			return -ENOENT;
		}
	}
	for (i = 0; i < count; i++) {
		addr = bpf_oom_ksym_lookup(syms[i].name);
		if (syms[i].data)
			*syms[i].data = (void *)addr;
		else
			__static_call_update(syms[i].key, syms[i].tramp, (void *)addr);
	}
	if (nr_tables < ARRAY_SIZE(tables)) {
		tables[nr_tables].syms = syms;
		tables[nr_tables].count = count;
		nr_tables++;
	}
	return 0;
}

/*
 * /proc/bpf_oom/ksyms (root only): every resolved symbol, and for functions
 * what the indirect-branch argument rests on, checked on the running kernel.
 * x86: whether the target's ENDBR is sealed (the kernel never takes its
 * address: an indirect call would fault), and whether our static call's
 * trampoline was patched into a direct jmp to exactly that target. Call
 * sites are patched together with the trampoline
 * (arch_static_call_transform()).
 * arm64: whether the target starts with a BTI landing pad ("bti" or "nobti";
 * only informative, see compat.h), and "indirect" for the generic static
 * call (no HAVE_STATIC_CALL).
 */
static const char *ksym_entry_state(unsigned long addr)
{
	u32 insn = le32_to_cpu(*(__le32 *)addr);

	if (IS_ENABLED(CONFIG_ARM64))	/* bti c, bti jc */
		return insn == 0xd503245f || insn == 0xd50324df ? "bti" : "nobti";
	if (insn == 0xfa1e0ff3)		/* endbr64 */
		return "endbr";
	return "sealed";
}

static const char *ksym_tramp_state(void *tramp, unsigned long addr)
{
	u8 *t = tramp;

	if (!IS_ENABLED(CONFIG_HAVE_STATIC_CALL))
		return "indirect";
	if (!t)
		return "none";
	if (IS_ENABLED(CONFIG_X86) && t[0] == 0xe9 &&
	    (unsigned long)(t + 5) + *(s32 *)(t + 1) == addr)
		return "direct";
	return "other";
}

static int bpf_oom_ksyms_show(struct seq_file *m, void *v)
{
	size_t t, i;

	seq_puts(m, "# symbol kind entry trampoline\n");
	for (t = 0; t < nr_tables; t++) {
		for (i = 0; i < tables[t].count; i++) {
			const struct bpf_oom_ksym *k = &tables[t].syms[i];
			unsigned long addr = bpf_oom_ksym_lookup(k->name);

			if (k->data)
				seq_printf(m, "%s data - -\n", k->name);
			else
				seq_printf(m, "%s call %s %s\n", k->name, ksym_entry_state(addr),
					   ksym_tramp_state(k->tramp, addr));
		}
	}
	return 0;
}

/**
 * bpf_oom_ksyms_proc_init() - create /proc/bpf_oom/ksyms
 * @procdir: /proc/bpf_oom
 *
 * Return: 0 or -ENOMEM.
 */
int bpf_oom_ksyms_proc_init(struct proc_dir_entry *procdir)
{
	return proc_create_single("ksyms", 0400, procdir, bpf_oom_ksyms_show) ? 0 : -ENOMEM;
}
