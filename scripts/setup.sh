#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh - prepare everything `make check` needs, on a fresh machine.
#
#   1. host tools: qemu-system-x86, qemu-system-arm (for arm64 entries),
#      qemu-utils, debootstrap and groff (installed with apt if missing; the
#      host's apt sources are read, never changed);
#   2. private Debian userlands (debootstrap --variant=minbase) in the cache:
#      trixie's, with gcc-14, pahole, clang, libbpf, bpftool and dkms (it
#      builds the tests and trixie's kernels), and one for every other suite
#      the matrix builds in (bookworm: gcc-12 and pahole 1.24, as a Debian 12
#      user has; sid: gcc-16);
#   3. for every kernel of tests/kernels.conf: resolve the newest build of its
#      suite, series and flavour, install its headers (and image) in its
#      userland the way a user would, and keep its vmlinuz for QEMU;
#   4. the Debian 13 system image make check-system boots
#      (scripts/system-image.sh: trixie with systemd and the 6.12 and 7.3
#      kernels of the matrix installed as packages).
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
command -v qemu-img >/dev/null || need+=(qemu-utils)	# check-system's overlays
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v groff >/dev/null || need+=(groff-base)	# make check lints the manual
if awk '!/^#/ && $5 ~ /arm64$/ { f = 1 } END { exit !f }' "$MATRIX"; then
	ARM64=1
	command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
else
	ARM64=0
fi
if [ ${#need[@]} -gt 0 ]; then
	log "installing host packages: ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >/dev/null
fi

# --- 2. userlands ---------------------------------------------------------
MIRROR=${BPF_OOM_MIRROR:-$(host_mirror)} ||
	die "cannot find a Debian mirror in /etc/apt (set BPF_OOM_MIRROR)"
# bookworm's 6.12 kernels are only in bookworm-security.
SECURITY_MIRROR=${BPF_OOM_SECURITY_MIRROR:-$MIRROR-security}
mkdir -p "$BPF_OOM_CACHE" "$KERNELS_DIR"

# What each userland gets. trixie builds the tests, the BPF objects and the
# VM's initramfs, and builds the module for trixie's kernels; bookworm and sid
# only build the module for their kernels, with what a user there has (DKMS,
# the compiler the headers pull in, pahole; bpftool for the build's prototype
# check). make deb adds the packaging tools (dpkg-buildpackage, dh-dkms,
# lintian) and, in trixie, the generic headers metapackage its policies'
# BTF comes from (debian/README.source). Bump a stamp when its list or
# sources change: forces a re-provision.
userland_stamp() { echo "$(rootfs_dir "$1")/.bpf-oom-rootfs-v3"; }
userland_pkgs() {
	case "$1" in
	trixie) echo "gcc-14 gcc make dwarves clang llvm libbpf-dev libelf-dev zlib1g-dev
		bpftool dkms kmod cpio busybox-static binutils xz-utils zstd pkg-config
		ca-certificates build-essential debhelper dh-dkms lintian linux-headers-amd64" ;;
	bookworm) echo "gcc make dwarves libelf-dev bpftool dkms kmod binutils
		xz-utils zstd ca-certificates build-essential debhelper dh-dkms" ;;
	sid) echo "gcc make dwarves libelf-dev bpftool dkms kmod binutils
		xz-utils zstd ca-certificates" ;;
	*) die "no package list for userland '$1'" ;;
	esac
}
userland_sources() {
	case "$1" in
	trixie) printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$MIRROR" ;;
	bookworm) printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$MIRROR" "$SECURITY_MIRROR" ;;
	sid) printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$MIRROR" ;;
	esac
}

# provision_userland SUITE: debootstrap it (minbase), point apt at the
# mirror, install its packages.
provision_userland() {
	local suite=$1 ROOTFS
	ROOTFS=$(rootfs_dir "$suite")
	[ -e "$(userland_stamp "$suite")" ] && return 0
	if [ ! -e "$ROOTFS/.debootstrap-done" ]; then
		rootfs_umount
		rm -rf "$ROOTFS"
		log "debootstrap $suite (minbase) from $MIRROR into $ROOTFS"
		debootstrap --variant=minbase "$suite" "$ROOTFS" "$MIRROR" \
			>"$BPF_OOM_CACHE/debootstrap-$suite.log" 2>&1 ||
			{ tail -n 20 "$BPF_OOM_CACHE/debootstrap-$suite.log"; die "debootstrap $suite failed"; }
		touch "$ROOTFS/.debootstrap-done"
	fi
	userland_sources "$suite" >"$ROOTFS/etc/apt/sources.list.d/debian.sources"
	rm -f "$ROOTFS/etc/apt/sources.list" "$ROOTFS/etc/apt/preferences.d/bookworm"
	# The mirror is a snapshot: sid's Release has expired (its signature
	# is still checked).
	echo 'Acquire::Check-Valid-Until "false";' >"$ROOTFS/etc/apt/apt.conf.d/90bpf-oom"
	# No man pages or docs: a third of the size, none of the use.
	cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-nodoc" <<-EOF
	path-exclude /usr/share/doc/*
	path-exclude /usr/share/man/*
	path-exclude /usr/share/locale/*
	EOF
	log "installing the $suite toolchain in its rootfs"
	in_rootfs apt-get update -qq
	# shellcheck disable=SC2046
	in_rootfs apt-get install -y -qq --no-install-recommends $(userland_pkgs "$suite") >/dev/null
	touch "$(userland_stamp "$suite")"
}

userlands=$( (echo trixie; awk '!/^#/ && NF { print $2 }' "$MATRIX") | awk '!seen[$0]++')
for u in $userlands; do
	provision_userland "$u"
	in_userland "$u" apt-get update -qq
done

# arm64 kernels are cross-built in the trixie userland: Debian's arm64
# headers name aarch64-linux-gnu-gcc-14 as their compiler on any machine
# (.kernelvariables), and their scripts/ link to linux-kbuild-<ver>, whose
# amd64 build runs here. The arm64 libraries (multiarch) link the test
# binaries; the VM's busybox and bpftool cannot be installed beside the
# amd64 ones, so they are unpacked into $ARM64_VM_DIR.
ARM64_STAMP=$ROOTFS/.bpf-oom-arm64-v1
if [ $ARM64 = 1 ] && [ ! -e "$ARM64_STAMP" ]; then
	log "arm64: cross compiler, arm64 libraries and the VM's busybox and bpftool"
	in_rootfs dpkg --add-architecture arm64
	in_rootfs apt-get update -qq
	in_rootfs apt-get install -y -qq --no-install-recommends gcc-14-aarch64-linux-gnu \
		binutils-aarch64-linux-gnu libc6-dev:arm64 libbpf-dev:arm64 libelf-dev:arm64 \
		zlib1g-dev:arm64 libzstd-dev:arm64 libcap2:arm64 >/dev/null
	in_rootfs sh -c '
		set -e
		rm -rf /cache/arm64-vm /tmp/a64 && mkdir -p /cache/arm64-vm /tmp/a64 && cd /tmp/a64
		apt-get download -qq -o APT::Sandbox::User=root busybox-static:arm64 bpftool:arm64 >/dev/null
		for d in *.deb; do dpkg -x "$d" /cache/arm64-vm; done
		cd / && rm -rf /tmp/a64
	'
	touch "$ARM64_STAMP"
fi

# --- 3. kernels ----------------------------------------------------------
# resolve_kernel SUITE SERIES FLAVOUR: the newest linux-headers-<SERIES>.*-<FLAVOUR>
# package SUITE carries, printed as its kernel version (the flavour must
# follow the ABI part directly: "amd64" does not match the cloud or rt ones).
resolve_kernel() {
	in_rootfs sh -c '
		suite=$1 series=$2 flavour=$3
		apt-cache search --names-only "^linux-headers-${series}[.-][0-9a-z.+-]*[0-9]-${flavour}\$" |
		awk "{print \$1}" | while read -r pkg; do
			apt-cache madison "$pkg" | awk -v s="$suite" -v p="$pkg" \
				"\$0 ~ (\" \" s \"/main\") { print \$3, p }"
		done | sort -V | tail -n1 | awk "{print \$2}" | sed "s/^linux-headers-//"
	' sh "$1" "$2" "$3"
}

# KEEP_SWAP_MODULES KVER SUITE (run in the kernel's userland): from the
# installed image when the headers pulled it in (6.12), else from the
# package downloaded and unpacked: linux-modules (7.x), linux-image (arm64).
KEEP_SWAP_MODULES='
	set -e
	kver=$1 suite=$2
	out=/cache/kernels/$kver/modules
	root=/usr/lib/modules/$kver/kernel
	tmp=
	if [ ! -d "$root" ]; then
		tmp=$(mktemp -d) && cd "$tmp"
		trap "rm -rf $tmp" EXIT
		a=; case "$kver" in *-arm64) a=:arm64 ;; esac
		apt-get download -qq -o APT::Sandbox::User=root "linux-modules-$kver$a/$suite" \
			>/dev/null 2>&1 ||
			apt-get download -qq -o APT::Sandbox::User=root "linux-image-$kver$a/$suite" >/dev/null
		for d in *.deb; do dpkg -x "$d" x; done
		root=$tmp/x/usr/lib/modules/$kver/kernel
	fi
	# depth first: a module after everything it depends on
	want() {
		local f d
		# modinfo names dependencies with "_", some files have "-"
		f=$(find "$root" \( -name "$1.ko*" -o -name "$(echo "$1" | tr _ -).ko*" \) | head -n1)
		[ -n "$f" ] || { echo "no $1.ko in $kver" >&2; exit 1; }
		grep -qx "$1.ko" "$out/order" 2>/dev/null && return 0
		for d in $(modinfo -F depends "$f" | tr , " "); do want "$d"; done
		case "$f" in
		*.xz) xz -dc "$f" >"$out/$1.ko" ;;
		*.zst) zstd -qdc "$f" >"$out/$1.ko" ;;
		*) cp "$f" "$out/$1.ko" ;;
		esac
		echo "$1.ko" >>"$out/order"
	}
	: >"$out/order"
	want zram
	[ -z "$tmp" ] || { cd / && rm -rf "$tmp"; }
'

tmp_resolved=$(mktemp)
while read -r name userland suite series flavour role _ <&3; do
	case "$name" in ''|\#*) continue ;; esac
	ROOTFS=$(rootfs_dir "$userland")
	kver=${FORCED[$name]:-}
	[ -n "$kver" ] || kver=$(resolve_kernel "$suite" "$series" "$flavour")
	[ -n "$kver" ] || die "no linux-headers-$series.*-$flavour in $suite ($name)"
	kdir=$KERNELS_DIR/$kver
	# The stamp names the userland: a kernel moved to another one is
	# installed there again.
	if [ ! -e "$kdir/.ready-$userland" ]; then
		mkdir -p "$kdir"
		log "$name: installing linux-headers-$kver ($suite) in the $userland userland"
		case "$kver" in
		*-arm64)
			# Unpacked, not installed (they would pull in arm64
			# binaries of linux-kbuild and gcc); linux-kbuild itself
			# is installed for amd64, same version.
			in_rootfs apt-get install -y -qq --no-install-recommends \
				"linux-kbuild-${kver%-arm64}/$suite" >/dev/null
			in_rootfs sh -c '
				set -e
				rm -rf /tmp/khdr && mkdir /tmp/khdr && cd /tmp/khdr
				apt-get download -qq -o APT::Sandbox::User=root \
					"linux-headers-$1:arm64/$2" >/dev/null
				common=$(dpkg-deb -f linux-headers-"$1"_*.deb Depends |
					tr "," "\n" | grep -o "linux-headers-[^ ]*-common" | head -n1)
				apt-get download -qq -o APT::Sandbox::User=root "$common/$2" >/dev/null
				for d in *.deb; do dpkg -x "$d" x; done
				cp -a x/usr/src/. /usr/src/
				mkdir -p "/usr/lib/modules/$1"
				ln -sfn "/usr/src/linux-headers-$1" "/usr/lib/modules/$1/build"
				# the kernel: linux-binary (7.x) or linux-image (6.12)
				rm -rf x && apt-get download -qq -o APT::Sandbox::User=root \
					"linux-binary-$1:arm64/$2" >/dev/null 2>&1 ||
					apt-get download -qq -o APT::Sandbox::User=root \
					"linux-image-$1:arm64/$2" >/dev/null
				for d in linux-binary-*.deb linux-image-*.deb; do
					[ -e "$d" ] && dpkg -x "$d" x
				done
				for k in x/usr/lib/modules/"$1"/vmlinuz x/boot/vmlinuz-"$1"; do
					[ -e "$k" ] && cp "$k" "/cache/kernels/$1/vmlinuz" && break
				done
				cd / && rm -rf /tmp/khdr
			' sh "$kver" "$suite"
			;;
		*)
			in_rootfs apt-get install -y -qq --no-install-recommends \
				"linux-headers-$kver/$suite" >/dev/null
			;;
		esac
		if [ "$role" = test ] && [ ! -s "$kdir/vmlinuz" ]; then
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
		fi
		[ "$role" != test ] || [ -s "$kdir/vmlinuz" ] || die "$name: no vmlinuz for $kver"
		case "$role" in
		test|floor) ;;
		*) die "$name: unknown role '$role' in $MATRIX" ;;
		esac
		touch "$kdir/.ready-$userland"
	fi
	# The modules a test needs for swap (zram and what it depends on),
	# from the kernel's own package, decompressed (busybox's insmod reads
	# plain ELF) and listed in load order in $kdir/modules/order.
	if [ "$role" = test ] && [ ! -e "$kdir/modules/.ready" ]; then
		log "$name: keeping zram and its dependencies from $kver's package"
		rm -rf "$kdir/modules"
		mkdir -p "$kdir/modules"
		in_rootfs sh -c "$KEEP_SWAP_MODULES" sh "$kver" "$suite"
		touch "$kdir/modules/.ready"
	fi
	printf '%s %s %s %s %s\n' "$name" "$suite" "$kver" "$role" "$userland" >>"$tmp_resolved"
done 3<"$MATRIX"
ROOTFS=$(rootfs_dir trixie)
mv "$tmp_resolved" "$RESOLVED"

# --- 4. the system image ------------------------------------------------
"$BPF_OOM_TOP/scripts/system-image.sh" >/dev/null

log "kernel matrix (newest builds at setup time):"
while read -r name suite kver role userland; do
	printf '  %-22s %-18s %-30s %-6s %s\n' "$name" "$suite" "$kver" "$role" "$userland" >&2
done <"$RESOLVED"
log "setup done in $(($(date +%s) - t0)) s; cache: $BPF_OOM_CACHE"
