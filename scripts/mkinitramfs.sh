#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KO JOB OUT [ARCH] - pack the test VM's initramfs (runs in the
# trixie rootfs).
#
# KO is the bpf_oom.ko for the kernel to boot (the one DKMS built), JOB the
# shell script /init runs, OUT the cpio archive to write, ARCH x86_64 (the
# default) or arm64. The test binaries (build/tests, or build/tests-arm64)
# come along with the shared libraries they need (static linking against
# trixie's libelf fails), and a static busybox. For arm64 the busybox and
# bpftool are the arm64 packages setup.sh unpacked into /cache/arm64-vm, and
# the libraries come from the rootfs's arm64 multiarch directory.
set -eu

ko=$1 job=$2 out=$3 arch=${4:-x86_64}
top=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# What every VM gets: /init, the suite scripts, the job, the module, the
# test-only modules built for the same kernel, if any, and zram's.
mkdir -p "$stage/bin" "$stage/bpf-oom/tests" "$stage/proc" "$stage/sys" "$stage/dev" \
	"$stage/tmp" "$stage/usr/sbin"
cp "$top/tests/vm/init" "$stage/init"
chmod 755 "$stage/init"
cp "$top/tests/vm/suite.sh" "$top/tests/vm/loader.sh" "$top/tests/vm/service.sh" \
	"$top/tests/vm/demo.sh" "$top/tests/vm/lockdown.sh" "$stage/bpf-oom/"
cp "$job" "$stage/bpf-oom/job"
cp "$ko" "$stage/bpf-oom/bpf_oom.ko"
for m in "$(dirname "$ko")"/kmod/*.ko; do
	[ -e "$m" ] && cp "$m" "$stage/bpf-oom/"
done
# zram and its dependencies from the kernel's package (setup.sh), for the
# tests that need swap (testlib's tl_swap_on); a debug kernel builds zram in.
swapmods=/cache/kernels/$(basename "$(dirname "$ko")")/modules
if [ -s "$swapmods/order" ]; then
	mkdir -p "$stage/bpf-oom/swap"
	cp "$swapmods/order" "$swapmods"/*.ko "$stage/bpf-oom/swap/"
fi

if [ "$arch" = arm64 ]; then
	a64=/cache/arm64-vm
	lib=/usr/lib/aarch64-linux-gnu
	mkdir -p "$stage/lib/aarch64-linux-gnu"
	cp "$a64/usr/bin/busybox" "$stage/bin/busybox"
	cp "$a64/usr/sbin/bpftool" "$stage/usr/sbin/bpftool"
	for f in "$top"/build/tests-arm64/*; do
		case "$f" in *.h) continue ;; esac
		cp "$f" "$stage/bpf-oom/tests/"
	done
	# ldd cannot run arm64 binaries: follow DT_NEEDED with readelf,
	# breadth-first, through the arm64 multiarch directory.
	todo=$(for f in "$stage"/bpf-oom/tests/* "$stage/usr/sbin/bpftool"; do
		case "$f" in *.o) ;; *) readelf -dW "$f" 2>/dev/null ;; esac
	done | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
	while [ -n "$todo" ]; do
		next=
		for l in $todo; do
			[ -e "$stage/lib/aarch64-linux-gnu/$l" ] && continue
			[ -e "$lib/$l" ] || { echo "mkinitramfs: no arm64 $l in $lib" >&2; exit 1; }
			cp -L "$lib/$l" "$stage/lib/aarch64-linux-gnu/"
			next="$next $(readelf -dW "$lib/$l" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
		done
		todo=$(echo $next | tr ' ' '\n' | sort -u)
	done
	cp -L "$lib/ld-linux-aarch64.so.1" "$stage/lib/ld-linux-aarch64.so.1"
else
	mkdir -p "$stage/lib64" "$stage/lib/x86_64-linux-gnu"
	cp /usr/bin/busybox "$stage/bin/busybox"
	cp /usr/sbin/bpftool "$stage/usr/sbin/bpftool"
	cp "$top"/build/tests/*.bpf.o "$stage/bpf-oom/tests/"
	for bin in "$top"/build/tests/* /usr/sbin/bpftool; do
		case "$bin" in *.o|*.h) continue ;; esac
		[ -x "$bin" ] || continue
		[ "$bin" = /usr/sbin/bpftool ] || cp "$bin" "$stage/bpf-oom/tests/"
		ldd "$bin" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | while read -r lib; do
			[ -e "$lib" ] || continue
			case "$lib" in
			*/ld-linux*) cp -L "$lib" "$stage/lib64/" ;;
			*) cp -L "$lib" "$stage/lib/x86_64-linux-gnu/" ;;
			esac
		done
	done
fi

(cd "$stage" && find . | cpio -o -H newc --quiet) >"$out"
