#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once; cached) a debug build of Debian's own 6.12:
# the linux-source-6.12 package (Debian's patches applied) with the config
# of Debian's trixie 6.12 kernel, every module switched off (the VM needs
# none), plus lock, memory and object debugging. The build tree is the
# kernel's /lib/modules/<kver>/build in the trixie userland, so DKMS builds
# bpf-oom for it as for any kernel built from source; its image lands in the
# kernel cache for QEMU. Prints the kernel release on stdout.
#
# Usage: scripts/debug-kernel.sh   (make check-debug runs it)
set -euo pipefail
. "$(dirname "$0")/common.sh"
bpf_oom_begin
t0=$(date +%s)

# Bump when the debug options change: forces a rebuild.
DEBUG_CONFIG_VERSION=1

base=$(awk '$1 == "trixie-6.12" { print $3 }' "$RESOLVED" 2>/dev/null)
[ -n "$base" ] || die "no trixie-6.12 in the matrix: run 'make setup' first"
srcver=$(in_rootfs dpkg-query -W -f '${Version}' "linux-headers-$base")
DBG=$BPF_OOM_CACHE/debug-kernel
stamp=$DBG/.built-$srcver-v$DEBUG_CONFIG_VERSION
if [ -e "$stamp" ]; then
	kver=$(cat "$DBG/kernelrelease")
	log "debug kernel $kver: cached"
	echo "$kver"
	exit 0
fi

log "debug kernel from linux-source-6.12 $srcver with $base's config"
in_rootfs apt-get install -y -qq --no-install-recommends bc bison flex libssl-dev \
	openssl cpio kmod python3 "linux-source-6.12=$srcver" >/dev/null
in_rootfs sh -c '
	set -e
	rm -rf /cache/debug-kernel && mkdir -p /cache/debug-kernel && cd /cache/debug-kernel
	tar xaf /usr/src/linux-source-6.12.tar.xz
	cd linux-source-6.12
	cp "/usr/src/linux-headers-$1/.config" .config
	# no modules: the VM loads only bpf-oom and the test modules
	sed -i "s/=m\$/=n/" .config
	c=scripts/config
	$c --set-str LOCALVERSION -bpfoom-debug -d LOCALVERSION_AUTO
	# Debian signs with keys and certificates the source package does not
	# carry: a throw-away signing key generated at build (unsigned modules
	# still load, as on the stock kernel)
	$c --set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
		--set-str MODULE_SIG_KEY certs/signing_key.pem -d MODULE_SIG_ALL
	# locking: lockdep, RCU, sleeping in atomic context, raw-lock nesting
	# (what PREEMPT_RT would turn into a sleeping lock)
	$c -e DEBUG_KERNEL -e PROVE_LOCKING -e PROVE_RCU -e PROVE_RAW_LOCK_NESTING \
		-e DEBUG_ATOMIC_SLEEP -e DEBUG_SPINLOCK -e DEBUG_MUTEXES \
		-e DEBUG_RWSEMS -e DEBUG_LOCK_ALLOC -e DEBUG_PREEMPT
	# memory: KASAN (generic), kmemleak (scanned after the suite)
	$c -e KASAN -e KASAN_GENERIC -e KASAN_INLINE -e DEBUG_KMEMLEAK \
		-d DEBUG_KMEMLEAK_DEFAULT_OFF --set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 65536
	# objects: work items, RCU heads, timers
	$c -e DEBUG_OBJECTS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_WORK \
		-e DEBUG_OBJECTS_RCU_HEAD -e DEBUG_OBJECTS_TIMERS
	# UBSAN bounds, list corruption
	$c -e UBSAN -e UBSAN_BOUNDS -d UBSAN_ALIGNMENT -e DEBUG_LIST
	make -s olddefconfig
	# what bpf-oom needs, kept as in the stock build, and what was asked for
	for o in DEBUG_INFO_BTF DEBUG_INFO_BTF_MODULES BPF_JIT BPF_SYSCALL MODULES \
		DYNAMIC_FTRACE_WITH_ARGS FUNCTION_TRACER KPROBES PSI MEMCG X86_KERNEL_IBT \
		PROVE_LOCKING PROVE_RCU PROVE_RAW_LOCK_NESTING DEBUG_ATOMIC_SLEEP \
		KASAN KASAN_GENERIC DEBUG_KMEMLEAK DEBUG_OBJECTS_WORK DEBUG_OBJECTS_RCU_HEAD \
		DEBUG_OBJECTS_TIMERS UBSAN_BOUNDS DEBUG_LIST; do
		grep -qx "CONFIG_$o=y" .config || { echo "CONFIG_$o is not y after olddefconfig" >&2; exit 1; }
	done
	make -s kernelrelease >/cache/debug-kernel/kernelrelease
' sh "$base"
kver=$(cat "$DBG/kernelrelease")

log "building $kver ($(nproc) jobs; log: $DBG/build.log)"
tb=$(date +%s)
in_rootfs sh -c 'cd /cache/debug-kernel/linux-source-6.12 && make -j"$(nproc)" all' \
	>"$DBG/build.log" 2>&1 || { tail -n 40 "$DBG/build.log"; die "the debug kernel did not build"; }
log "built in $(($(date +%s) - tb)) s"
kdir=$KERNELS_DIR/$kver
mkdir -p "$kdir"
cp "$DBG/linux-source-6.12/arch/x86/boot/bzImage" "$kdir/vmlinuz"
in_rootfs sh -c 'mkdir -p "/usr/lib/modules/$1" &&
	ln -sfn /cache/debug-kernel/linux-source-6.12 "/usr/lib/modules/$1/build"' sh "$kver"
touch "$stamp"
log "debug kernel $kver ready in $(($(date +%s) - t0)) s"
echo "$kver"
