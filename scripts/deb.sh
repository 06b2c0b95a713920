#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh - build the Debian packages (make deb).
#
#   build/deb/trixie/    Debian 13: the source package, bpf-oom-dkms and
#                        bpf-oom (dpkg-buildpackage in the trixie userland)
#   build/deb/bookworm/  Debian 12: bpf-oom-dkms only, version <v>~bpo12+1
#                        (dpkg-buildpackage -A in the bookworm userland;
#                        debian/README.source says why not bpf-oom)
#
# Each build starts from a fresh export of the checkout's tracked files, as
# they are in the working tree (untracked files are not packaged). lintian
# (the trixie userland's) then checks every result; any error or warning
# fails the build. The build tools come from `make setup`.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bpf_oom_begin

[ "$(id -u)" = 0 ] || die "must run as root (chroot)"
for u in trixie bookworm; do
	[ -x "$(rootfs_dir "$u")/usr/bin/dh" ] ||
		die "no debhelper in the $u userland: run 'make setup'"
done

VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$BPF_OOM_TOP/dkms.conf")
OUT=$BPF_OOM_TOP/build/deb
git -C "$BPF_OOM_TOP" rev-parse --git-dir >/dev/null 2>&1 ||
	die "$BPF_OOM_TOP is not a git checkout (make deb packages its tracked files)"

# export_tree DIR: the tracked files as in the working tree (a commit object
# of them that no branch refers to; HEAD when nothing is modified).
export_tree() {
	local tree
	tree=$(git -C "$BPF_OOM_TOP" stash create)
	git -C "$BPF_OOM_TOP" archive --format=tar "${tree:-HEAD}" | tar -C "$1" -xf -
}

# build SUITE VERSION DPKG-BUILDPACKAGE-ARGS...: build in the SUITE userland
# into $OUT/SUITE. VERSION differs from the checkout's for a rebuild: a
# changelog entry for it is added to the export.
build() {
	local suite=$1 version=$2 src
	shift 2
	src=$OUT/src-$suite/bpf-oom-$version
	rm -rf "$OUT/src-$suite" "${OUT:?}/$suite"
	mkdir -p "$src" "$OUT/$suite"
	export_tree "$src"
	if [ "$version" != "$VERSION" ]; then
		# The maintainer of the entry it rebuilds, dated one second
		# after it (an entry must be newer than the one before): the
		# build stays reproducible (SOURCE_DATE_EPOCH).
		local top trailer date
		top=$(head -n1 "$src/debian/changelog")
		trailer=$(grep -m1 '^ -- ' "$src/debian/changelog")
		date=${trailer##*>  }
		trailer="${trailer%>  *}>  $(LC_ALL=C date -u -R -d "@$(($(date -d "$date" +%s) + 1))")"
		{
			printf 'bpf-oom (%s) %s-backports; urgency=medium\n\n' "$version" "$suite"
			printf '  * Rebuild for Debian %s (%s): bpf-oom-dkms only.\n\n' \
				"$(debian_release "$suite")" "$suite"
			printf '%s\n\n' "$trailer"
			cat "$src/debian/changelog"
		} >"$src/debian/changelog.new"
		mv "$src/debian/changelog.new" "$src/debian/changelog"
		log "$suite: rebuilding '$top' as $version"
	fi
	log "$suite: dpkg-buildpackage${*:+ $*} (log: build/deb/$suite/build.log)"
	if ! in_userland "$suite" sh -c "cd '$CHROOT_SRC/build/deb/src-$suite/bpf-oom-$version' &&
		dpkg-buildpackage -us -uc $*" >"$OUT/$suite/build.log" 2>&1; then
		tail -n 30 "$OUT/$suite/build.log" >&2
		die "$suite: dpkg-buildpackage failed (build/deb/$suite/build.log)"
	fi
	find "$OUT/src-$suite" -maxdepth 1 -type f -exec mv -t "$OUT/$suite/" {} +
	rm -rf "$OUT/src-$suite"
}

debian_release() {
	case "$1" in
	bookworm) echo 12 ;;
	trixie) echo 13 ;;
	esac
}

build trixie "$VERSION"
build bookworm "$VERSION~bpo12+1" -A

# lintian: errors and warnings fail; info tags are printed for the record.
rc=0
for suite in trixie bookworm; do
	for changes in "$OUT/$suite"/*.changes; do
		log "lintian ${changes#"$BPF_OOM_TOP"/}"
		in_rootfs lintian --display-info --fail-on error,warning \
			"$CHROOT_SRC/${changes#"$BPF_OOM_TOP"/}" | tee "$OUT/$suite/lintian.log" || rc=1
	done
done
[ $rc = 0 ] || die "lintian found errors or warnings (build/deb/*/lintian.log)"

for suite in trixie bookworm; do
	log "build/deb/$suite: $(cd "$OUT/$suite" && echo *.deb)"
done
