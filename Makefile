# SPDX-License-Identifier: GPL-2.0
#
# bpf-oom top-level Makefile.
#
# On a user's machine (what DKMS runs):
#   make module [KVER=<kernel>] [KDIR=<headers>]   build bpf_oom.ko, fail without BTF
#   make dkms-install / dkms-uninstall             register with DKMS (as root)
#
# In this repository (developers and CI, as root):
#   make setup    prepare the cached trixie toolchain and the kernel matrix
#   make check    build via DKMS for every kernel, boot each in QEMU, run the tests
#   make demo     one memcg OOM in the VM: the stock killer's victim vs the policy's
#   make bench    run the benchmarks in the VM
#   make soak     OOMs everywhere for BPF_OOM_SOAK_SECS (600) per kernel, invariants checked
#   make check-debug   the suite, a short soak and kmemleak on lockdep/KASAN builds of Debian's 6.12 and 7.3
#   make check-system  the packages (make deb) on a booted Debian 13 system: apt install, DKMS in
#                 the guest, the policy at boot, an OOM, a second kernel, purge (6.12, 7.3)
#   make vm-run K=<name|kver> CMD='...'   run a command in the VM, module loaded
#   make readme-table   write the README's tested-kernel table from the last make check
#   make deb      Debian packages into build/deb/trixie (bpf-oom-dkms, bpf-oom) and
#                 build/deb/bookworm (bpf-oom-dkms), lintian clean or it fails
#   make help

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PAHOLE ?= pahole
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)

# What DKMS needs in /usr/src/bpf-oom-<version>.
DKMS_FILES := dkms.conf Kbuild Makefile LICENSE module include \
	scripts/kernel-features.sh scripts/check-ko.sh scripts/pahole-dedup.sh

.PHONY: all module clean-module dkms-install dkms-uninstall dkms-src \
	setup check check-debug check-system bench soak demo vm-run readme-table deb bpf-build clean help

all: module

# Kbuild runs pahole through scripts/pahole-dedup.sh: module BTF has to
# reuse the kernel's types (see that script for why, on Linux >= 6.15).
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) PAHOLE=$(CURDIR)/scripts/pahole-dedup.sh \
		BPF_OOM_PAHOLE=$(PAHOLE) modules
	scripts/check-ko.sh bpf_oom.ko

clean-module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Copy the module sources to $(DESTDIR)/usr/src/bpf-oom-$(VERSION).
dkms-src:
	rm -rf $(DESTDIR)/usr/src/bpf-oom-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/bpf-oom-$(VERSION)
	cp -a --parents $(DKMS_FILES) $(DESTDIR)/usr/src/bpf-oom-$(VERSION)/
	find $(DESTDIR)/usr/src/bpf-oom-$(VERSION) -name generated -prune -exec rm -rf {} +

dkms-install: dkms-src
	dkms install bpf-oom/$(VERSION)

dkms-uninstall:
	dkms remove bpf-oom/$(VERSION) --all
	rm -rf /usr/src/bpf-oom-$(VERSION)

# Test programs and BPF objects; run inside the trixie rootfs by scripts/.
bpf-build:
	$(MAKE) -C tests

setup:
	scripts/setup.sh $(FORCE)

check:
	scripts/check.sh

check-debug:
	scripts/check.sh --debug

check-system:
	scripts/system-vm.sh

bench:
	scripts/check.sh --bench

soak:
	scripts/check.sh --soak

demo:
	scripts/demo.sh $(K)

vm-run:
	@test -n "$$K" -a -n "$$CMD" || { echo "usage: make vm-run K=<kernel> CMD='...'" >&2; exit 2; }
	scripts/vm-run.sh "$$K" -- "$$CMD"

readme-table:
	scripts/kernel-table.sh --update-readme

deb:
	scripts/deb.sh

clean:
	rm -rf build
	$(MAKE) -C tests clean

help:
	@sed -n '3,22p' Makefile | sed 's/^# \{0,1\}//'
