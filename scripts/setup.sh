#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh - prepare everything `make check` needs, on a fresh machine.
#
#   1. host tools: qemu-system-x86 and debootstrap (installed with apt if
#      missing; the host's apt sources are read, never changed);
#   2. a private Debian trixie userland (debootstrap --variant=minbase) in the
#      cache, with gcc-14, pahole, clang, libbpf, bpftool and dkms: Debian's
#      6.12+ kernels cannot be built against with bookworm's toolchain;
#   3. for every kernel of tests/kernels.conf: resolve the newest build of its
#      suite and series, install its headers (and image) in the rootfs the way
#      a user would, and keep its vmlinuz for QEMU.
#
# Idempotent and resumable: each step leaves a stamp and is skipped when its
# stamp is there. Everything lives in $BPF_OOM_CACHE, outside the repository.
#
# Usage: scripts/setup.sh [NAME=KVER ...]
#   NAME=KVER forces matrix entry NAME to the exact kernel KVER, e.g.
#   trixie-6.12=6.12.57+deb13-amd64 (it must still be in the mirror).
set -euo pipefail
. "$(dirname "$0")/common.sh"
bpf_oom_begin

# Bump when the rootfs package list changes: forces a re-provision.
ROOTFS_STAMP=$ROOTFS/.bpf-oom-rootfs-v1
ROOTFS_PKGS="gcc-14 gcc make dwarves clang llvm libbpf-dev libelf-dev zlib1g-dev
	bpftool dkms kmod cpio busybox-static binutils xz-utils zstd pkg-config
	ca-certificates"

declare -A FORCED=()
for arg in "$@"; do
	case "$arg" in
	*=*) FORCED[${arg%%=*}]=${arg#*=} ;;
	*) die "unknown argument '$arg' (expected NAME=KVER)" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and apt need it)"

t0=$(date +%s)

# --- 1. host tools -------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
	log "installing host packages: ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >/dev/null
fi

# --- 2. trixie rootfs ----------------------------------------------------
MIRROR=${BPF_OOM_MIRROR:-$(host_mirror)} ||
	die "cannot find a Debian mirror in /etc/apt (set BPF_OOM_MIRROR)"
mkdir -p "$BPF_OOM_CACHE" "$KERNELS_DIR"

if [ ! -e "$ROOTFS_STAMP" ]; then
	if [ ! -e "$ROOTFS/.debootstrap-done" ]; then
		rootfs_umount
		rm -rf "$ROOTFS"
		log "debootstrap trixie (minbase) from $MIRROR into $ROOTFS"
		debootstrap --variant=minbase trixie "$ROOTFS" "$MIRROR" \
			>"$BPF_OOM_CACHE/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$BPF_OOM_CACHE/debootstrap.log"; die "debootstrap failed"; }
		touch "$ROOTFS/.debootstrap-done"
	fi
	# trixie-backports carries the 7.x kernels; bookworm only the floor
	# kernel's headers for the refusal test, pinned so it never wins.
	cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<-EOF
	Types: deb
	URIs: $MIRROR
	Suites: trixie trixie-backports bookworm
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	rm -f "$ROOTFS/etc/apt/sources.list"
	cat >"$ROOTFS/etc/apt/preferences.d/bookworm" <<-EOF
	Package: *
	Pin: release n=bookworm
	Pin-Priority: 100
	EOF
	# No man pages or docs: a third of the size, none of the use.
	cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-nodoc" <<-EOF
	path-exclude /usr/share/doc/*
	path-exclude /usr/share/man/*
	path-exclude /usr/share/locale/*
	EOF
	log "installing the trixie toolchain in the rootfs"
	in_rootfs apt-get update -qq
	# shellcheck disable=SC2086
	in_rootfs apt-get install -y -qq --no-install-recommends $ROOTFS_PKGS >/dev/null
	touch "$ROOTFS_STAMP"
fi
in_rootfs sh -c 'apt-get update -qq -o Acquire::Check-Valid-Until=false'

# --- 3. kernels ----------------------------------------------------------
# resolve_kernel SUITE SERIES: the newest linux-headers-<SERIES>.*-amd64
# package (the generic flavour: not -rt, not -cloud) that SUITE carries,
# printed as its kernel version.
resolve_kernel() {
	in_rootfs sh -c '
		suite=$1 series=$2
		apt-cache search --names-only "^linux-headers-${series}[.-][0-9a-z.+-]*[0-9]-amd64\$" |
		awk "{print \$1}" | while read -r pkg; do
			apt-cache madison "$pkg" | awk -v s="$suite" -v p="$pkg" \
				"\$0 ~ (\" \" s \"/main\") { print \$3, p }"
		done | sort -V | tail -n1 | awk "{print \$2}" | sed "s/^linux-headers-//"
	' sh "$1" "$2"
}

tmp_resolved=$(mktemp)
while read -r name suite series role _; do
	case "$name" in ''|\#*) continue ;; esac
	kver=${FORCED[$name]:-}
	[ -n "$kver" ] || kver=$(resolve_kernel "$suite" "$series")
	[ -n "$kver" ] || die "no linux-headers-$series.* for $suite in the mirror ($name)"
	kdir=$KERNELS_DIR/$kver
	if [ ! -e "$kdir/.ready" ]; then
		mkdir -p "$kdir"
		case "$role" in
		test)
			log "$name: installing linux-headers-$kver ($suite)"
			in_rootfs apt-get install -y -qq --no-install-recommends \
				"linux-headers-$kver/$suite" >/dev/null
			# 6.12's headers pull in linux-image (vmlinuz in /boot);
			# 7.x split the image into linux-binary, which the headers
			# do not need: unpack that one into the cache instead of
			# installing it (no initramfs build in the chroot).
			if [ ! -e "$ROOTFS/boot/vmlinuz-$kver" ]; then
				in_rootfs sh -c '
					set -e
					rm -rf /tmp/kimg && mkdir /tmp/kimg && cd /tmp/kimg
					apt-get download -qq -o APT::Sandbox::User=root \
						"linux-binary-$1/$2" >/dev/null
					dpkg -x linux-binary-*.deb x
					cp x/usr/lib/modules/"$1"/vmlinuz "/cache/kernels/$1/vmlinuz"
					cd / && rm -rf /tmp/kimg
				' sh "$kver" "$suite"
			else
				cp "$ROOTFS/boot/vmlinuz-$kver" "$kdir/vmlinuz"
			fi
			[ -s "$kdir/vmlinuz" ] || die "$name: no vmlinuz for $kver"
			;;
		floor)
			# Only the headers, unpacked: the floor kernel is never
			# built for or booted, DKMS must refuse it.
			log "$name: unpacking linux-headers-$kver ($suite) for the floor test"
			in_rootfs sh -c '
				set -e
				rm -rf /tmp/khdr && mkdir /tmp/khdr && cd /tmp/khdr
				apt-get download -qq -o APT::Sandbox::User=root \
					"linux-headers-$1/$2" >/dev/null
				common=$(dpkg-deb -f linux-headers-"$1"_*.deb Depends |
					tr "," "\n" | grep -o "linux-headers-[^ ]*-common" | head -n1)
				apt-get download -qq -o APT::Sandbox::User=root \
					"$common/$2" >/dev/null
				# Unpack aside: a bookworm package has a real /lib,
				# which must not replace trixie'"'"'s /lib -> usr/lib link.
				for d in *.deb; do dpkg -x "$d" x; done
				cp -a x/usr/src/. /usr/src/
				mkdir -p "/usr/lib/modules/$1"
				ln -sfn "/usr/src/linux-headers-$1" "/usr/lib/modules/$1/build"
				cd / && rm -rf /tmp/khdr
			' sh "$kver" "$suite"
			;;
		*) die "$name: unknown role '$role' in $MATRIX" ;;
		esac
		touch "$kdir/.ready"
	fi
	printf '%s %s %s %s\n' "$name" "$suite" "$kver" "$role" >>"$tmp_resolved"
done <"$MATRIX"
mv "$tmp_resolved" "$RESOLVED"

log "kernel matrix (newest builds at setup time):"
while read -r name suite kver role; do
	printf '  %-16s %-18s %-28s %s\n' "$name" "$suite" "$kver" "$role" >&2
done <"$RESOLVED"
log "setup done in $(($(date +%s) - t0)) s; cache: $BPF_OOM_CACHE"
