#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# system-image.sh - the Debian 13 system that make check-system boots.
#
# A debootstrapped trixie (systemd as PID 1, apt pointed at the host's
# mirror, DHCP on the first network interface with systemd-networkd) with
# Debian's stock kernels of the matrix installed as packages: trixie's 6.12
# and trixie-backports' 7.3 generic flavours (the trixie-6.12 and
# trixie-bpo-7.3 entries of kernels.resolved). No compiler, no DKMS, no
# headers: the test installs them in the guest the way a user does. It holds
# one thing a user's system does not: bpfoomtest-phase.service (named so that
# no bpf-oom* pattern of the purge test matches it), which the
# harness pulls in from the kernel command line (systemd.wants=) to run a
# test phase from the second disk.
#
# Built on the host in a chroot, written into an ext4 image with mkfs.ext4 -d
# (no loop device), kept in $BPF_OOM_CACHE/system/ with each kernel's vmlinuz
# and the initrd.img the image made for it (QEMU boots them with -kernel
# and -initrd; root=/dev/vda). Tests never write to it: each run boots a qcow2
# overlay of it.
#
# Idempotent: a stamp names both kernels and this script's checksum; a new
# kernel in kernels.resolved (make setup) or any change here builds it again.
# Prints the image directory on stdout.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bpf_oom_begin

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
[ -s "$RESOLVED" ] || die "no resolved kernel matrix: run 'make setup' first"

IMAGE_SIZE=${BPF_OOM_SYSTEM_IMAGE_SIZE:-8G}
K612=$(awk '$1 == "trixie-6.12" { print $3 }' "$RESOLVED")
K73=$(awk '$1 == "trixie-bpo-7.3" { print $3 }' "$RESOLVED")
[ -n "$K612" ] && [ -n "$K73" ] ||
	die "kernels.resolved has no trixie-6.12 or trixie-bpo-7.3 entry: run 'make setup'"
SYSDIR=$BPF_OOM_CACHE/system
STAMP="$K612 $K73 $(sha256sum <"$0" | cut -c1-16)"
if [ "$(cat "$SYSDIR/ready" 2>/dev/null)" = "$STAMP" ]; then
	echo "$SYSDIR"
	exit 0
fi

MIRROR=${BPF_OOM_MIRROR:-$(host_mirror)} ||
	die "cannot find a Debian mirror in /etc/apt (set BPF_OOM_MIRROR)"
command -v mkfs.ext4 >/dev/null || die "no mkfs.ext4 on the host (e2fsprogs)"
command -v debootstrap >/dev/null || die "no debootstrap on the host: run 'make setup'"

t0=$(date +%s)
TREE=$SYSDIR/tree
LOGF=$SYSDIR/build.log

tree_umount() {
	local m
	for m in dev/pts dev sys proc; do
		if mountpoint -q "$TREE/$m"; then umount -l "$TREE/$m"; fi
	done
	return 0
}
trap 'tree_umount; rootfs_umount' EXIT
in_tree() {
	mountpoint -q "$TREE/proc" || mount -t proc proc "$TREE/proc"
	mountpoint -q "$TREE/sys" || mount -t sysfs sysfs "$TREE/sys"
	mountpoint -q "$TREE/dev" || mount --bind /dev "$TREE/dev"
	mountpoint -q "$TREE/dev/pts" || mount --bind /dev/pts "$TREE/dev/pts"
	chroot "$TREE" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

tree_umount
rm -rf --one-file-system "$SYSDIR"
mkdir -p "$SYSDIR"
: >"$LOGF"

# ---- 1. debootstrap ------------------------------------------------------
log "system image: debootstrap trixie from $MIRROR (log: $LOGF)"
debootstrap --variant=minbase \
	--include=systemd-sysv,udev,dbus,initramfs-tools,zstd,kmod,procps,apt \
	trixie "$TREE" "$MIRROR" >>"$LOGF" 2>&1 ||
	{ tail -n 20 "$LOGF"; die "debootstrap trixie failed"; }
t_deboot=$(date +%s)

# ---- 2. configuration ----------------------------------------------------
printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	"$MIRROR" >"$TREE/etc/apt/sources.list.d/debian.sources"
rm -f "$TREE/etc/apt/sources.list"
echo bpf-oom-test >"$TREE/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tbpf-oom-test\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$TREE/etc/hosts"
printf '/dev/vda\t/\text4\terrors=remount-ro\t0\t1\n' >"$TREE/etc/fstab"
# QEMU's user-mode network: DHCP from 10.0.2.2, DNS forwarded by 10.0.2.3.
mkdir -p "$TREE/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' >"$TREE/etc/systemd/network/50-qemu.network"
rm -f "$TREE/etc/resolv.conf"
echo 'nameserver 10.0.2.3' >"$TREE/etc/resolv.conf"
# The console is the first serial port; nobody logs in.
ln -sf /dev/null "$TREE/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$TREE/etc/systemd/system/getty@tty1.service"

# The test hook: mounts the harness's second disk (label bpfoomtest, made by
# scripts/system-vm.sh) and runs its run.sh with the phase the kernel
# command line names (bpfoom.phase=). Not enabled: only a boot with
# systemd.wants=bpfoomtest-phase.service runs it. After
# multi-user.target, so the phase sees the booted system as a user would.
cat >"$TREE/etc/systemd/system/bpfoomtest-phase.service" <<'EOF'
[Unit]
Description=bpf-oom system test phase (test image only)
After=multi-user.target network-online.target
Wants=network-online.target
ConditionKernelCommandLine=bpfoom.phase

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/bpf-oom-test && mount -o ro LABEL=bpfoomtest /run/bpf-oom-test && exec /run/bpf-oom-test/run.sh'
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS1
TTYReset=no
TTYVHangup=no
EOF

# ---- 3. kernels, as packages ---------------------------------------------
log "system image: installing linux-image-$K612 and linux-image-$K73/trixie-backports"
{
	in_tree systemctl enable systemd-networkd.service
	in_tree apt-get update
	in_tree apt-get install -y --no-install-recommends "linux-image-$K612/trixie" \
		"linux-image-$K73/trixie-backports"
	in_tree apt-get clean
} >>"$LOGF" 2>&1 || { tail -n 30 "$LOGF"; die "installing the kernels failed"; }
t_kernels=$(date +%s)
for k in "$K612" "$K73"; do
	img=
	for f in "$TREE/boot/vmlinuz-$k" "$TREE/usr/lib/modules/$k/vmlinuz"; do
		[ -e "$f" ] && img=$f && break
	done
	[ -n "$img" ] || die "no vmlinuz for $k in the image"
	[ -s "$TREE/boot/initrd.img-$k" ] || die "the image made no initrd.img-$k"
	cp "$img" "$SYSDIR/vmlinuz-$k"
	cp "$TREE/boot/initrd.img-$k" "$SYSDIR/initrd.img-$k"
done
tree_umount

# ---- 4. the disk image ---------------------------------------------------
log "system image: mkfs.ext4 -d ($IMAGE_SIZE, sparse)"
truncate -s "$IMAGE_SIZE" "$SYSDIR/root.img"
mkfs.ext4 -q -F -L root -d "$TREE" "$SYSDIR/root.img" >>"$LOGF" 2>&1 ||
	{ tail -n 20 "$LOGF"; die "mkfs.ext4 -d failed"; }
rm -rf --one-file-system "$TREE"
t_end=$(date +%s)
echo "$STAMP" >"$SYSDIR/ready"
log "system image ready in $((t_end - t0)) s (debootstrap $((t_deboot - t0)) s, kernels $((t_kernels - t_deboot)) s, image $((t_end - t_kernels)) s; $(du -sh --apparent-size "$SYSDIR/root.img" | cut -f1) apparent, $(du -sh "$SYSDIR/root.img" | cut -f1) used)"
echo "$SYSDIR"
