# SPDX-License-Identifier: GPL-2.0
#
# suite.sh - the bpf-oom test suite, run inside the test VM by /init.
#
# Prints one "PASS <test>" or "FAIL <test>: <why>" line per test (test
# binaries print their own). Module load/unload tests wrap the rest: the
# module is loaded for the binaries and unloaded at the end.
ko=/bpf-oom/bpf_oom.ko

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# rmmod may need a moment after the last BPF user (RCU); retry briefly.
unload() {
	i=0
	while ! rmmod bpf_oom 2>/tmp/rmmod.err; do
		i=$((i + 1))
		[ $i -ge 50 ] && return 1
		sleep 0.1
	done
	return 0
}

t=module_load
if ! insmod $ko 2>/tmp/insmod.err; then
	fail $t "insmod: $(cat /tmp/insmod.err)"
	dmesg | tail -n 20
	exit 1
fi
if [ ! -e /sys/kernel/btf/bpf_oom ]; then
	fail $t "/sys/kernel/btf/bpf_oom missing after insmod"
elif ! dmesg | grep -q "bpf_oom: memcg kfuncs: "; then
	fail $t "no 'memcg kfuncs:' line in the kernel log"
else
	pass $t
fi
dmesg | grep "bpf_oom: " | sed 's/^/# /'

t=module_unload_reload
err=
unload || err="first rmmod failed: $(cat /tmp/rmmod.err)"
[ -z "$err" ] && [ -e /sys/kernel/btf/bpf_oom ] && err="/sys/kernel/btf/bpf_oom still there after rmmod"
[ -z "$err" ] && { insmod $ko 2>/tmp/insmod.err || err="second insmod: $(cat /tmp/insmod.err)"; }
[ -z "$err" ] && { unload || err="second rmmod failed: $(cat /tmp/rmmod.err)"; }
[ -z "$err" ] && { insmod $ko 2>/tmp/insmod.err || err="third insmod: $(cat /tmp/insmod.err)"; }
[ -z "$err" ] && [ ! -e /sys/kernel/btf/bpf_oom ] && err="/sys/kernel/btf/bpf_oom missing after reload"
if [ -n "$err" ]; then fail $t "$err"; else pass $t; fi

for bin in /bpf-oom/tests/memcg_kfuncs; do
	$bin || echo "# $bin exited with $?"
done

t=module_unload
if unload && [ ! -e /sys/module/bpf_oom ] && [ ! -e /sys/kernel/btf/bpf_oom ]; then
	pass $t
else
	fail $t "rmmod: $(cat /tmp/rmmod.err 2>/dev/null)"
fi

t=no_kernel_warnings
bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|UBSAN|refcount_t|list_(add|del) corruption|Bad page|cut here")
if [ -n "$bad" ]; then fail $t "$(echo "$bad" | head -n 3)"; else pass $t; fi
