# SPDX-License-Identifier: GPL-2.0
# Shared settings for the bpf-oom developer scripts. Sourced, never run.
#
# Everything downloaded or built for the test environment lives under
# $BPF_OOM_CACHE (default ~/.cache/bpf-oom), outside the repository, so a
# fresh clone reuses it and `git clean` never throws it away.

BPF_OOM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BPF_OOM_CACHE=${BPF_OOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpf-oom}
# The userlands (debootstrapped Debian roots) live in $BPF_OOM_CACHE/rootfs-<suite>.
# trixie's is the main one: it builds the tests and the VM's initramfs; each
# kernel of the matrix is built for in the userland its users run (a Debian 12
# 6.12 kernel with bookworm's gcc-12 and pahole 1.24, sid's with gcc-16).
rootfs_dir() { echo "$BPF_OOM_CACHE/rootfs-$1"; }
ROOTFS=$(rootfs_dir trixie)
KERNELS_DIR=$BPF_OOM_CACHE/kernels
RESOLVED=$BPF_OOM_CACHE/kernels.resolved
MATRIX=$BPF_OOM_TOP/tests/kernels.conf
# Where the repository appears inside the rootfs (bind mount).
CHROOT_SRC=/src/bpf-oom

log()  { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die()  { printf '[%s] error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Print the Debian mirror the host's apt already uses (deb822 first, then
# one-line sources). The host's apt configuration is only read, never changed.
host_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '
			/^[[:space:]]*$/ { if (u != "" && s !~ /security/ && s ~ /[a-z]/) { print u; exit } u = ""; s = "" }
			/^URIs:/   { u = $2 }
			/^Suites:/ { s = $0 }
			END        { if (u != "" && s !~ /security/) print u }' "$f" | head -n1)
		case "$uri" in */debian|*/debian/) echo "${uri%/}"; return 0 ;; esac
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
		case "$uri" in */debian|*/debian/) echo "${uri%/}"; return 0 ;; esac
	done
	return 1
}

# Take the cache lock (one bpf-oom script at a time: they share the rootfs,
# its DKMS tree and build/), and drop mounts a killed run may have left,
# whose bind of the repository could point at another checkout. Also
# installs the EXIT trap that unmounts again.
bpf_oom_begin() {
	mkdir -p "$BPF_OOM_CACHE"
	# A script run by one that holds the lock shares it.
	if [ -z "${BPF_OOM_LOCKED:-}" ]; then
		exec 9>"$BPF_OOM_CACHE/lock"
		if ! flock -n 9; then
			log "waiting for another bpf-oom script to finish ($BPF_OOM_CACHE/lock)"
			flock 9
		fi
		export BPF_OOM_LOCKED=1
	fi
	rootfs_umount
	trap rootfs_umount EXIT
}

# Run a command inside the rootfs $ROOTFS (trixie's unless the caller sets it,
# see in_userland) with the repository bind-mounted at
# $CHROOT_SRC and the cache at /cache. /proc, /sys and /dev are mounted on
# first use (dkms, apt and gcc want them); the calling script unmounts them
# all on exit (see rootfs_umount, installed as an EXIT trap by each script).
in_rootfs() {
	rootfs_mount
	chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# in_userland SUITE COMMAND...: in_rootfs in the userland of that suite.
in_userland() {
	local ROOTFS
	ROOTFS=$(rootfs_dir "$1")
	shift
	in_rootfs "$@"
}

rootfs_mount() {
	mkdir -p "$ROOTFS$CHROOT_SRC" "$ROOTFS/cache"
	mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"
	mountpoint -q "$ROOTFS/sys"  || mount --rbind /sys "$ROOTFS/sys"
	mountpoint -q "$ROOTFS/dev"  || mount --rbind /dev "$ROOTFS/dev"
	mountpoint -q "$ROOTFS$CHROOT_SRC" || mount --bind "$BPF_OOM_TOP" "$ROOTFS$CHROOT_SRC"
	mountpoint -q "$ROOTFS/cache" || mount --bind "$BPF_OOM_CACHE" "$ROOTFS/cache"
}

# Unmount what rootfs_mount mounted, in every userland.
rootfs_umount() {
	local m r
	for r in "$ROOTFS" "$BPF_OOM_CACHE"/rootfs-*; do
		[ -d "$r" ] || continue
		for m in cache "${CHROOT_SRC#/}" dev sys proc; do
			if mountpoint -q "$r/$m"; then umount -l "$r/$m"; fi
		done
	done
	return 0
}
