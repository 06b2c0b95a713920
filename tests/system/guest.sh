#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh - one phase of make check-system, run inside the Debian 13 system
# that scripts/system-vm.sh boots (by bpfoomtest-phase.service, after
# multi-user.target, from the harness's second disk, output on ttyS1).
#
#   A (6.12)  apt installs the headers of the running kernel from the mirror,
#             then ./bpf-oom-dkms_*.deb ./bpf-oom_*.deb: DKMS builds the
#             module in the guest; a configuration for the service.
#   B (6.12)  after the reboot: the configured policy is attached (by the
#             service, before multi-user.target), a memcg OOM in a slice of
#             two services is decided by it (the kernel would choose the
#             other service) and journaled; the 7.3 headers from
#             trixie-backports: DKMS builds the module for 7.3 by itself.
#   C (7.3)   the DKMS-built 7.3 module, the same policy, one OOM decided;
#             stop detaches everything; apt purge leaves nothing behind.
#
# Prints "PASS <phase>.<test>[: detail]" or "FAIL <phase>.<test>: expected
# ..., got ...", then "@@SYSTEM-DONE <phase> <failures>" and powers off. A
# step the later ones cannot do without prints "@@SYSTEM-ABORT <phase>".
set -uo pipefail
exec >/dev/ttyS1 2>&1
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
HERE=$(dirname "$0")
# K612 K73 VERSION, written by the harness
. "$HERE/env.sh"
PHASE=$(sed -n 's/.*bpfoom\.phase=\([A-Z]\).*/\1/p' /proc/cmdline)
LOGDIR=/var/log/bpf-oom-test
mkdir -p "$LOGDIR"
POLICY=oom_largest_task
CONF=/etc/bpf-oom/policies.d/50-check-system.conf
SLICE=bpfoomtest.slice
failures=0

echo "@@SYSTEM-START $PHASE $(cut -d' ' -f1 /proc/uptime)"

pass() { echo "PASS $PHASE.$1${2:+: $2}"; }
fail() {
	echo "FAIL $PHASE.$1: $2"
	failures=$((failures + 1))
}
# expect TEST EXPECTED ACTUAL [DETAIL]: exact comparison.
expect() {
	if [ "$2" = "$3" ]; then
		pass "$1" "${4:-$3}"
	else
		fail "$1" "expected '$2', got '$3'"
	fi
}
# The state a failure needs to explain itself.
diagnose() {
	echo "---- systemctl --failed ----"
	systemctl --failed --no-pager --plain
	echo "---- journalctl -b (last 150 lines) ----"
	journalctl -b --no-pager -n 150
	echo "---- dmesg (last 40 lines) ----"
	dmesg | tail -n 40
	echo "----"
}
finish() {
	[ $failures = 0 ] || diagnose
	echo "@@SYSTEM-DONE $PHASE $failures"
	sync
	systemctl poweroff --no-block
	exit 0
}
abort() {
	fail "$1" "$2"
	[ -n "${3:-}" ] && tail -n 40 "$3"
	diagnose
	echo "@@SYSTEM-ABORT $PHASE"
	echo "@@SYSTEM-DONE $PHASE $failures"
	sync
	systemctl poweroff --no-block
	exit 0
}
# timed NAME COMMAND...: run it, log its output to $LOGDIR/NAME.log, print
# the time it took ("# time NAME N s") for the harness's phase report.
timed() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	"$@" >"$LOGDIR/$name.log" 2>&1
	rc=$?
	echo "# time $name $(($(date +%s) - t0)) s"
	return $rc
}

# The policy list the module keeps (header line, then "name cgroup_id since
# invoked handled" per attached policy), without the header and "since".
attached() {
	awk 'NR > 1 { print $1, $2, $4, $5 }' /proc/bpf_oom/policies 2>/dev/null | paste -sd';'
}

# The DKMS-built module file of kernel $1: Debian's kernels compress their
# modules with xz (CONFIG_MODULE_COMPRESS_XZ), and DKMS follows the kernel.
dkms_ko() { echo "/lib/modules/$1/updates/dkms/bpf_oom.ko.xz"; }

# dkms_time KVER: how long DKMS's build took in the guest (its make.log).
dkms_time() {
	echo "# time dkms_build_$1 $(sed -n 's/^# elapsed time: //p' \
		"/var/lib/dkms/bpf-oom/$VERSION/$1/x86_64/log/make.log" 2>/dev/null)"
}

# journal_fields: journalctl -o export on stdin; per entry, one line of the
# record fields the test checks, in a fixed order.
journal_fields() {
	awk -F= '
		function flush() {
			if (n) print v["POLICY"], v["SCOPE"], v["TRIGGER"], v["DOMAIN"], v["ACTION"],
				v["REASON"], v["KILLS"], v["VICTIM_PID"], v["VICTIM_COMM"], v["VICTIM_CGROUP"],
				v["VICTIM_OOM_SCORE_ADJ"], v["EPISODE"], v["SYSLOG_IDENTIFIER"]
			n = 0; delete v
		}
		/^$/ { flush(); next }
		$1 ~ /^(POLICY|SCOPE|TRIGGER|DOMAIN|ACTION|REASON|KILLS|VICTIM_PID|VICTIM_COMM|VICTIM_CGROUP|VICTIM_OOM_SCORE_ADJ|EPISODE|SYSLOG_IDENTIFIER)$/ {
			v[$1] = $0; n++
		}
		END { flush() }'
}

# oom_round: a memcg OOM in $SLICE (MemoryMax=64M), which holds two
# services: bystander (sleep, OOMScoreAdjust=1000) and hog (tail /dev/zero:
# one ever-growing line, OOMScoreAdjust=-500). The kernel's choice would be
# bystander (1000 thousandths of the memcg's pages outweigh the hog's
# size less half of them); oom_largest_task takes the largest leaf, hog, and
# its largest process. Exactly one kill: hog's tail.
oom_round() {
	local hog by st i k kills rec ep
	mkdir -p /run/systemd/system
	printf '[Slice]\nMemoryMax=64M\n' >/run/systemd/system/$SLICE
	systemctl daemon-reload
	rm -f /run/bpfoomtest.go && mkfifo /run/bpfoomtest.go
	systemd-run -q --unit=bystander --slice=$SLICE -p OOMScoreAdjust=1000 sleep infinity
	# The hog waits for the go, so its pid is known before it grows.
	systemd-run -q --unit=hog --slice=$SLICE -p OOMScoreAdjust=-500 \
		/bin/sh -c 'read go </run/bpfoomtest.go && exec tail /dev/zero'
	by=$(systemctl show -P MainPID bystander)
	hog=$(systemctl show -P MainPID hog)
	k=$(dmesg | grep -c 'Killed process')
	echo go >/run/bpfoomtest.go
	for i in $(seq 1200); do
		st=$(systemctl show -P ActiveState hog)
		case "$st" in active|activating|deactivating) sleep 0.1 ;; *) break ;; esac
	done
	expect oom_hog_result oom-kill "$(systemctl show -P Result hog)" "hog.service (pid $hog) ended: Result=oom-kill"
	expect oom_bystander_lives "active $by" "$(systemctl show -P ActiveState bystander) $(systemctl show -P MainPID bystander)" \
		"bystander.service (pid $by, the kernel's choice) still running"
	expect oom_one_kill "1" "$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/$SLICE/memory.events)" \
		"$SLICE memory.events: oom_kill 1"
	kills=$(dmesg | grep 'Killed process' | tail -n +$((k + 1)))
	expect oom_kernel_log_names_policy \
		"BPF OOM policy $POLICY: Killed process $hog (tail)" \
		"$(echo "$kills" | sed -n 's/^\[[ 0-9.]*\] //; s/ total-vm.*//p' | paste -sd';')"
	# The service's record of it, as structured journal fields
	# (one record: the policy decided once), its episode the one of
	# the module's kernel log line.
	ep=$(dmesg | sed -n "s/.*bpf_oom: oom_policy=$POLICY (system-wide): killing tail\[$hog\], episode \([0-9]*\).*/\1/p")
	for i in $(seq 100); do
		rec=$(journalctl -b -u bpf-oom.service POLICY=$POLICY -o export 2>/dev/null | journal_fields)
		[ -n "$rec" ] && break
		sleep 0.1
	done
	expect journal_records_decision \
		"POLICY=$POLICY SCOPE=system TRIGGER=memcg_oom DOMAIN=/$SLICE ACTION=kill REASON=none KILLS=1 VICTIM_PID=$hog VICTIM_COMM=tail VICTIM_CGROUP=/$SLICE/hog.service VICTIM_OOM_SCORE_ADJ=-500 EPISODE=${ep:-?} SYSLOG_IDENTIFIER=bpf-oom" \
		"$rec" "journalctl -u bpf-oom POLICY=$POLICY: $rec"
	systemctl stop bystander
	systemctl reset-failed hog 2>/dev/null
	rm -f /run/systemd/system/$SLICE /run/bpfoomtest.go
	systemctl daemon-reload
}

# service_attached_at_boot: bpf-oom.service is active, became so before
# basic.target (its WantedBy/Before, service-spec) and so before
# multi-user.target, and attached the configured policy.
service_attached_at_boot() {
	local s b m
	expect service_active active "$(systemctl is-active bpf-oom.service)"
	s=$(systemctl show -P ActiveEnterTimestampMonotonic bpf-oom.service)
	b=$(systemctl show -P ActiveEnterTimestampMonotonic basic.target)
	m=$(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)
	if [ "${s:-0}" -gt 0 ] && [ "$s" -lt "$b" ] && [ "$b" -le "$m" ]; then
		pass service_before_multi_user "active at ${s} us, basic.target ${b} us, multi-user.target ${m} us (monotonic)"
	else
		fail service_before_multi_user "active at '${s}' us, basic.target '${b}', multi-user.target '${m}'"
	fi
}

phase_A() {
	local k
	expect kernel "$K612" "$(uname -r)"
	# As the README tells a Debian 13 user: the headers, then the packages.
	timed apt_update apt-get update || abort apt_update "apt-get update failed" "$LOGDIR/apt_update.log"
	timed apt_install_headers apt install -y "linux-headers-$(uname -r)" ||
		abort apt_install_headers "apt install linux-headers-$(uname -r) failed" "$LOGDIR/apt_install_headers.log"
	timed apt_install_debs apt install -y "$HERE"/bpf-oom-dkms_*.deb "$HERE"/bpf-oom_*.deb ||
		abort apt_install_debs "apt install ./bpf-oom-dkms_*.deb ./bpf-oom_*.deb failed" "$LOGDIR/apt_install_debs.log"
	pass apt_install "headers from the mirror, then bpf-oom-dkms and bpf-oom $VERSION"
	dkms_time "$K612"
	grep -E '^(Building|Installing|Sign|Error|Warning)|dkms|bpf-oom:' "$LOGDIR/apt_install_debs.log" | sed 's/^/# /'
	# DKMS built and installed it for the running kernel only: 7.3 is
	# installed but has no headers yet.
	expect dkms_status "bpf-oom/$VERSION, $K612, x86_64: installed" "$(dkms status bpf-oom 2>&1)"
	expect module_in_updates_dkms "$(dkms_ko "$K612")" "$(modinfo -n bpf_oom 2>&1)"
	expect module_version "$VERSION" "$(modinfo -F version bpf_oom 2>&1)"
	# Signed by DKMS with the key it made (openssl, a Recommends of
	# bpf-oom-dkms): what a Secure Boot machine loads once that key is
	# enrolled (mokutil --import /var/lib/dkms/mok.pub).
	expect module_signed_by_dkms "DKMS module signing key" "$(modinfo -F signer bpf_oom 2>&1)"
	expect dkms_mok_key "/var/lib/dkms/mok.key /var/lib/dkms/mok.pub" "$(ls /var/lib/dkms/mok.key /var/lib/dkms/mok.pub 2>&1 | paste -sd' ')"
	expect no_module_without_headers "" "$(find "/lib/modules/$K73" -name 'bpf_oom.ko*')" \
		"no bpf_oom.ko for $K73 (no headers)"
	expect command_version "bpf-oom $VERSION" "$(bpf-oom --version 2>&1 | head -n1)"
	k=$(ls /usr/lib/bpf-oom/policies/$POLICY.bpf.o 2>&1)
	expect policy_installed "/usr/lib/bpf-oom/policies/$POLICY.bpf.o" "$k"
	# debhelper's default: enabled and started; no policy configured
	# yet, so nothing attached.
	expect service_enabled enabled "$(systemctl is-enabled bpf-oom.service)"
	expect service_active_unconfigured active "$(systemctl is-active bpf-oom.service)"
	expect nothing_attached_unconfigured "" "$(attached)"
	printf '# make check-system: the largest process of the largest leaf cgroup, system-wide\nPolicy=%s\n' \
		"$POLICY" >"$CONF"
	pass configured "$CONF: Policy=$POLICY (system-wide)"
}

phase_B() {
	expect kernel "$K612" "$(uname -r)"
	service_attached_at_boot
	expect module_loaded_from_dkms "$(dkms_ko "$K612")" "$(modinfo -n bpf_oom)"
	expect policy_attached "$POLICY 0 0 0" "$(attached)" "/proc/bpf_oom/policies: $POLICY system-wide, not yet invoked"
	oom_round
	expect policy_decided "$POLICY 0 1 1" "$(attached)" "/proc/bpf_oom/policies: invoked 1, handled 1"
	# A second kernel's headers: DKMS's kernel hook builds for it.
	timed apt_install_headers_73 apt install -y "linux-headers-$K73" ||
		abort apt_install_headers_73 "apt install linux-headers-$K73 failed" "$LOGDIR/apt_install_headers_73.log"
	grep -E '^(Building|Installing|Error|Warning)|dkms|bpf-oom:' "$LOGDIR/apt_install_headers_73.log" | sed 's/^/# /'
	dkms_time "$K73"
	expect dkms_status_both "bpf-oom/$VERSION, $K612, x86_64: installed;bpf-oom/$VERSION, $K73, x86_64: installed" \
		"$(dkms status bpf-oom 2>&1 | sort | paste -sd';')"
	expect module_built_for_73 "$(dkms_ko "$K73")" "$(modinfo -k "$K73" -n bpf_oom 2>&1)"
	expect module_vermagic_73 "$K73" "$(modinfo -k "$K73" -F vermagic bpf_oom 2>&1 | cut -d' ' -f1)"
}

phase_C() {
	local left
	expect kernel "$K73" "$(uname -r)"
	service_attached_at_boot
	expect module_loaded_from_dkms "$(dkms_ko "$K73")" "$(modinfo -n bpf_oom)"
	expect module_running_is_dkms_build "$(modinfo -F srcversion "$(dkms_ko "$K73")")" \
		"$(cat /sys/module/bpf_oom/srcversion 2>&1)" "srcversion $(cat /sys/module/bpf_oom/srcversion 2>&1)"
	expect policy_attached "$POLICY 0 0 0" "$(attached)"
	oom_round
	expect policy_decided "$POLICY 0 1 1" "$(attached)"
	systemctl stop bpf-oom.service
	expect stop_detaches "" "$(attached)" "systemctl stop bpf-oom: /proc/bpf_oom/policies empty"
	timed apt_purge apt purge -y bpf-oom bpf-oom-dkms ||
		abort apt_purge "apt purge bpf-oom bpf-oom-dkms failed" "$LOGDIR/apt_purge.log"
	grep -E 'dkms|bpf-oom|bpf_oom' "$LOGDIR/apt_purge.log" | sed 's/^/# /'
	expect purge_packages_gone "" "$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' 'bpf-oom*' 2>/dev/null)"
	expect purge_dkms_status "" "$(dkms status bpf-oom 2>&1)"
	expect purge_modules "" "$(find /lib/modules/*/updates -name 'bpf_oom.ko*' 2>/dev/null)"
	expect purge_sources "" "$(ls -d /usr/src/bpf-oom-* /var/lib/dkms/bpf-oom 2>/dev/null)"
	expect purge_config "" "$(ls -d /etc/bpf-oom 2>/dev/null)"
	expect purge_files "" "$(ls -d /usr/sbin/bpf-oom /usr/lib/bpf-oom 2>/dev/null)"
	left=$(find /etc/systemd /usr/lib/systemd /run/systemd/system -name 'bpf-oom*' 2>/dev/null)
	expect purge_unit "" "$left" "no bpf-oom unit file or enablement symlink"
	expect purge_pins "" "$(ls -A /sys/fs/bpf/bpf-oom 2>/dev/null)" "no pins under /sys/fs/bpf/bpf-oom"
	echo "# after purge: $(grep -c '^bpf_oom ' /proc/modules) bpf_oom module(s) still loaded (purge removes files, it does not unload)"
}

case "$PHASE" in
A) phase_A ;;
B) phase_B ;;
C) phase_C ;;
*) abort phase "no bpfoom.phase=A|B|C on the kernel command line: $(cat /proc/cmdline)" ;;
esac
finish
