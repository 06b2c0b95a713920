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

# A test binary exits 0 (all passed) or 1 (some failed, each said so);
# anything else (a crash, a signal) is a failure of its own.
for bin in /bpf-oom/tests/memcg_kfuncs /bpf-oom/tests/oom_ops /bpf-oom/tests/oom_precision \
	/bpf-oom/tests/oom_oracle /bpf-oom/tests/oom_library \
	/bpf-oom/tests/psi_ops /bpf-oom/tests/psi_library /bpf-oom/tests/oomd_library; do
	$bin
	rc=$?
	[ $rc -le 1 ] || fail "${bin##*/}" "exited with status $rc (crashed?)"
done

. /bpf-oom/loader.sh
loader_test
psi_loader_test
cmd_test
. /bpf-oom/service.sh
service_test

# Every memcg the tests created is gone once nothing pins it: a leaked css
# reference (a kfunc that takes one and never drops it) keeps it "dying".
t=memcg_no_leaked_references
echo 3 >/proc/sys/vm/drop_caches
i=0
dying=$(sed -n 's/^nr_dying_descendants //p' /sys/fs/cgroup/cgroup.stat)
while [ "$dying" != 0 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
	dying=$(sed -n 's/^nr_dying_descendants //p' /sys/fs/cgroup/cgroup.stat)
done
if [ "$dying" = 0 ]; then
	pass $t
else
	fail $t "$dying cgroup(s) still dying 10 s after the tests removed them"
	# where: every live cgroup with dying descendants, and the memory
	# the root still has charged to dying ones (kernel memory, page cache)
	for f in $(find /sys/fs/cgroup -name cgroup.stat); do
		n=$(sed -n 's/^nr_dying_descendants //p' "$f")
		[ "$n" != 0 ] && echo "#   ${f%/cgroup.stat}: $n dying below"
	done
	grep -E '^(anon|file|kernel|slab|percpu|sock|shmem) ' /sys/fs/cgroup/memory.stat 2>/dev/null |
		sed 's/^/#   root memory.stat: /'
fi

# rmmod racing a detach, five times: the module cannot go while the policy
# holds it; once the detach is through it unloads (RCU may take a moment)
# and loads again. The console scan catches anything worse.
t=module_unload_races_detach
err=
for i in 1 2 3 4 5; do
	out=$($L attach $P 2>&1) || { err="round $i: attach: $out"; break; }
	$L detach -s >/dev/null 2>&1 &
	n=0
	while [ $n -lt 200 ] && ! rmmod bpf_oom 2>/dev/null; do n=$((n + 1)); done
	wait
	if [ -e /sys/module/bpf_oom ] && ! unload; then
		err="round $i: rmmod still fails after the detach: $(cat /tmp/rmmod.err)"
		break
	fi
	insmod $ko 2>/tmp/insmod.err || { err="round $i: insmod again: $(cat /tmp/insmod.err)"; break; }
done
if [ -n "$err" ]; then fail $t "$err"; else pass $t; fi

t=module_unload
if unload && [ ! -e /sys/module/bpf_oom ] && [ ! -e /sys/kernel/btf/bpf_oom ]; then
	pass $t
else
	fail $t "rmmod: $(cat /tmp/rmmod.err 2>/dev/null)"
fi

t=loader_without_module
out=$(/bpf-oom/tests/bpf-oom attach /bpf-oom/tests/loader_policy.bpf.o 2>&1)
case "$?:$out" in
1:*"the bpf_oom module is not loaded"*) pass $t ;;
*) fail $t "expected exit 1 and 'the bpf_oom module is not loaded', got: $out" ;;
esac
cmd_without_module_test

# The test parameter exists only in the fault-injection build: the module
# users get ignores it (and says so).
t=module_has_no_test_parameters
if ! insmod $ko require_ksym=bpf_oom_no_such_symbol 2>/tmp/insmod.err; then
	fail $t "insmod with require_ksym= failed: $(cat /tmp/insmod.err)"
elif [ -e /sys/module/bpf_oom/parameters/require_ksym ]; then
	fail $t "the production module has the test parameter require_ksym"
	unload
elif ! dmesg | grep -q "bpf_oom: unknown parameter 'require_ksym' ignored"; then
	fail $t "no 'unknown parameter' line for require_ksym"
	unload
elif ! unload; then
	fail $t "rmmod: $(cat /tmp/rmmod.err)"
else
	pass $t
fi

# A kernel symbol the module needs is missing: the load fails, naming it.
t=module_refuses_missing_symbol
if insmod /bpf-oom/bpf_oom_testing.ko require_ksym=bpf_oom_no_such_symbol 2>/tmp/insmod.err; then
	fail $t "bpf_oom loaded although a required symbol is missing"
	unload
elif ! dmesg | grep -q "bpf_oom: kernel symbol bpf_oom_no_such_symbol not found"; then
	fail $t "no message naming the missing symbol; insmod said: $(cat /tmp/insmod.err)"
else
	pass $t
fi

# A livepatch (here a stand-in) owning out_of_memory(): bpf_oom must refuse
# to load and say why; once it is gone, bpf_oom loads again.
t=module_refuses_foreign_ipmodify
if ! insmod /bpf-oom/ipmodify_holder.ko 2>/tmp/holder.err; then
	fail $t "cannot load the stand-in: $(cat /tmp/holder.err)"
elif insmod $ko 2>/tmp/insmod.err; then
	fail $t "bpf_oom loaded although out_of_memory() is taken"
	unload
elif ! dmesg | grep -q "bpf_oom: out_of_memory() is already modified by another ftrace IPMODIFY user"; then
	fail $t "no message naming the conflict; insmod said: $(cat /tmp/insmod.err)"
else
	rmmod ipmodify_holder
	if insmod $ko && unload; then pass $t; else fail $t "bpf_oom does not load after the stand-in left"; fi
fi
rmmod ipmodify_holder 2>/dev/null

t=no_kernel_warnings
bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|UBSAN|refcount_t|list_(add|del) corruption|Bad page|cut here")
if [ -n "$bad" ]; then fail $t "$(echo "$bad" | head -n 3)"; else pass $t; fi
