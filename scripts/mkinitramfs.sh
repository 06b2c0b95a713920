#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KO JOB OUT - pack the test VM's initramfs (runs in the rootfs).
#
# KO is the bpf_oom.ko for the kernel to boot (the one DKMS built), JOB the
# shell script /init runs, OUT the cpio archive to write. The test binaries
# from build/tests come along with the shared libraries they need (static
# linking against trixie's libelf fails), and a static busybox.
set -eu

ko=$1 job=$2 out=$3
top=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/bin" "$stage/bpf-oom/tests" "$stage/proc" "$stage/sys" "$stage/dev" \
	"$stage/tmp" "$stage/lib64" "$stage/lib/x86_64-linux-gnu"
cp /usr/bin/busybox "$stage/bin/busybox"
cp "$top/tests/vm/init" "$stage/init"
chmod 755 "$stage/init"
cp "$top/tests/vm/suite.sh" "$top/tests/vm/loader.sh" "$top/tests/vm/demo.sh" "$stage/bpf-oom/"
cp "$job" "$stage/bpf-oom/job"
cp "$ko" "$stage/bpf-oom/bpf_oom.ko"
# test-only modules built for the same kernel, if any
for m in "$(dirname "$ko")"/kmod/*.ko; do
	[ -e "$m" ] && cp "$m" "$stage/bpf-oom/"
done

mkdir -p "$stage/usr/sbin"
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

(cd "$stage" && find . | cpio -o -H newc --quiet) >"$out"
