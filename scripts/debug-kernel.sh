#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once; cached) a debug build of one of Debian's
# kernels of the matrix: its linux-source-<series> package (Debian's patches
# applied) with the config of that Debian kernel, every module switched off
# (the VM needs none), plus lock, memory and object debugging. The build
# tree is the kernel's /lib/modules/<kver>/build in the trixie userland, so
# DKMS builds bpf-oom for it as for any kernel built from source; its image
# lands in the kernel cache for QEMU. Prints the kernel release on stdout.
#
# Usage: scripts/debug-kernel.sh [ENTRY]   (make check-debug runs it)
#   ENTRY: a trixie-userland amd64 entry of tests/kernels.conf (default
#   trixie-6.12; make check-debug also builds trixie-bpo-7.3)
set -euo pipefail
. "$(dirname "$0")/common.sh"
bpf_oom_begin
t0=$(date +%s)

# Bump when the debug options change: forces a rebuild.
DEBUG_CONFIG_VERSION=2

entry=${1:-trixie-6.12}
base=$(awk -v e="$entry" '$1 == e && $5 == "trixie" { print $3 }' "$RESOLVED" 2>/dev/null)
[ -n "$base" ] || die "no trixie-userland entry $entry in the matrix: run 'make setup' first"
# The cache is keyed by series: one debug kernel per series, from the
# generic flavour's config (cloud and rt would share its tree and name).
echo "$base" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+\+deb[0-9]+-amd64$' ||
	die "$entry ($base): debug kernels are built from the generic amd64 flavour only"
# 6.12.117+deb13-amd64 -> 6.12: the source package's series
series=$(echo "$base" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
srcver=$(in_rootfs dpkg-query -W -f '${Version}' "linux-headers-$base")
DBG=$BPF_OOM_CACHE/debug-kernel
tree=linux-source-$series
stamp=$DBG/.built-$srcver-v$DEBUG_CONFIG_VERSION
if [ -e "$stamp" ] && [ -s "$DBG/kernelrelease-$series" ]; then
	kver=$(cat "$DBG/kernelrelease-$series")
	log "debug kernel $kver: cached"
	echo "$kver"
	exit 0
fi

log "debug kernel from $tree $srcver with $base's config"
in_rootfs apt-get install -y -qq --no-install-recommends bc bison flex libssl-dev \
	openssl cpio kmod python3 "$tree=$srcver" >/dev/null
in_rootfs sh -c '
	set -e
	mkdir -p /cache/debug-kernel && cd /cache/debug-kernel
	rm -rf "$2" "kernelrelease-$3"
	tar xaf "/usr/src/$2.tar.xz"
	cd "$2"
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
	# swap for the tests that need it (tl_swap_on): zram built in, with
	# the default compressor of the stock kernel
	$c -e ZRAM -e ZSMALLOC -e CRYPTO_LZ4 -e CRYPTO_LZ4HC -e ZRAM_BACKEND_LZ4
	make -s olddefconfig
	# what bpf-oom needs, kept as in the stock build, and what was asked for
	for o in DEBUG_INFO_BTF DEBUG_INFO_BTF_MODULES BPF_JIT BPF_SYSCALL MODULES \
		DYNAMIC_FTRACE_WITH_ARGS FUNCTION_TRACER KPROBES PSI MEMCG X86_KERNEL_IBT \
		PROVE_LOCKING PROVE_RCU PROVE_RAW_LOCK_NESTING DEBUG_ATOMIC_SLEEP \
		KASAN KASAN_GENERIC DEBUG_KMEMLEAK DEBUG_OBJECTS_WORK DEBUG_OBJECTS_RCU_HEAD \
		DEBUG_OBJECTS_TIMERS UBSAN_BOUNDS DEBUG_LIST ZRAM; do
		grep -qx "CONFIG_$o=y" .config || { echo "CONFIG_$o is not y after olddefconfig" >&2; exit 1; }
	done
	make -s kernelrelease >"../kernelrelease-$3.tmp"
' sh "$base" "$tree" "$series"
kver=$(cat "$DBG/kernelrelease-$series.tmp")

blog=$DBG/build-$series.log
log "building $kver ($(nproc) jobs; log: $blog)"
tb=$(date +%s)
in_rootfs sh -c 'cd "/cache/debug-kernel/$1" && make -j"$(nproc)" all' sh "$tree" \
	>"$blog" 2>&1 || { tail -n 40 "$blog"; die "the debug kernel did not build"; }
log "built in $(($(date +%s) - tb)) s"
kdir=$KERNELS_DIR/$kver
mkdir -p "$kdir"
cp "$DBG/$tree/arch/x86/boot/bzImage" "$kdir/vmlinuz"
in_rootfs sh -c 'mkdir -p "/usr/lib/modules/$1" &&
	ln -sfn "/cache/debug-kernel/$2" "/usr/lib/modules/$1/build"' sh "$kver" "$tree"
mv "$DBG/kernelrelease-$series.tmp" "$DBG/kernelrelease-$series"
touch "$stamp"
log "debug kernel $kver ready in $(($(date +%s) - t0)) s"
echo "$kver"
