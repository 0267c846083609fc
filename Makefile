# SPDX-License-Identifier: GPL-2.0
#
# cowstat top-level Makefile.
#
#   make                      build cowstat.ko for the running kernel, or for
#                             KERNELRELEASE=... / KDIR=... (falls back to
#                             Debian's linux-image-amd64 kernel when the
#                             running kernel has no headers, as on build hosts)
#   make BUILDDIR=DIR         the same, built in DIR (DIR/cowstat.ko) from a
#                             copy of the sources, not in place
#   make demo                 install what is needed, boot the kernel in qemu,
#                             load the module, show numbers for a workload
#   make check                build everything and run every test in a VM of
#                             each kernel (KERNELS=..., default: all supported)
#   make debug-check          the same on the two debug kernels: a
#                             KASAN/lockdep/kmemleak build of 6.1 and a
#                             PREEMPT_RT/lockdep build of 6.12
#                             (scripts/debug-kernel.sh; the first build of
#                             each takes about half an hour, then it is cached)
#   make bench                the benchmark (bench/run.sh): module vs. no
#                             module vs. bpftrace in one VM boot, BENCHMARKS.md
#                             (ROUNDS=, BOOTS=, SCALE=0, BASE=COMMIT)
#   make selftests            build the selftests only
#   make tools                build the cowstat tool and the demo workload
#   make install              install the cowstat tool and its manual page
#                             (PREFIX=/usr/local, DESTDIR=)
#   make dkms-install         copy the module's sources to /usr/src and build
#                             and install it with DKMS for KERNELRELEASE
#   make dkms-uninstall       remove it from DKMS (every kernel) and /usr/src
#   make clean

ifeq ($(KDIR),)
ifeq ($(origin KERNELRELEASE),undefined)
KERNELRELEASE := $(shell uname -r)
# A build host runs a kernel it has no headers for: use Debian's instead.
ifeq ($(wildcard /lib/modules/$(KERNELRELEASE)/build),)
KERNELRELEASE := $(shell scripts/kernel-release.sh 2>/dev/null)
endif
endif
KDIR := /lib/modules/$(KERNELRELEASE)/build
endif

CFLAGS_TOOLS := -O2 -Wall -Wextra -Werror

export KERNELS

.PHONY: all module selftest-modules selftests tools install uninstall \
	dkms-check dkms-install dkms-uninstall demo check debug-check bench \
	clean help

all: module

# Where the module is built: in place, or, with BUILDDIR=, in a directory of
# its own (scripts/check.sh uses build/<release>/), so that the objects of
# several kernels never mix.  Kbuild builds an external module next to its
# sources, hence the copy; cp -u keeps the objects of unchanged files.
ifneq ($(BUILDDIR),)
MODDIR := $(abspath $(BUILDDIR))
MISSING_PROBE_DIR := $(BUILDDIR)/missing-probe
else
MODDIR := $(CURDIR)
MISSING_PROBE_DIR := build/missing-probe
endif

module:
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR): run scripts/setup.sh or set KDIR" >&2; exit 1; }
ifneq ($(BUILDDIR),)
	mkdir -p $(MODDIR) && cp -r -u Kbuild module $(MODDIR)/
endif
	$(MAKE) -C $(KDIR) M=$(MODDIR) modules

selftests:
	$(MAKE) -C selftests/cowstat

# A second build of the module, for the selftests only: it has one more
# required probe, on a symbol no kernel has, so its load must fail cleanly.

selftest-modules: module
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR)" >&2; exit 1; }
	rm -rf $(MISSING_PROBE_DIR) && mkdir -p $(MISSING_PROBE_DIR)
	cp -r Kbuild module $(MISSING_PROBE_DIR)/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MISSING_PROBE_DIR) \
		KCFLAGS=-DCOWSTAT_SELFTEST_MISSING_PROBE modules

tools: tools/demo/fork_write
	$(MAKE) -C tools/cowstat

tools/demo/fork_write: tools/demo/fork_write.c
	$(CC) $(CFLAGS_TOOLS) -o $@ $<

# The tool's own Makefile takes PREFIX, BINDIR, MANDIR and DESTDIR from the
# command line.
install:
	$(MAKE) -C tools/cowstat install

uninstall:
	$(MAKE) -C tools/cowstat uninstall

# DKMS builds from a copy of the module's sources in /usr/src/NAME-VERSION;
# the version is dkms.conf's.  dkms-install replaces an earlier installation
# of the same version, so it can be run again after a change.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC := /usr/src/cowstat-$(DKMS_VERSION)
DKMS_MOD := -m cowstat -v $(DKMS_VERSION)
DKMS_RELEASE := $(or $(KERNELRELEASE),$(shell uname -r))

dkms-check:
	@command -v dkms >/dev/null || { echo "dkms is not installed: apt-get install dkms (or scripts/setup.sh)" >&2; exit 1; }
	@test -n "$(DKMS_VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }

dkms-install: dkms-check dkms-uninstall
	mkdir -p $(DKMS_SRC)
	cp -r Kbuild dkms.conf module $(DKMS_SRC)/
	dkms add $(DKMS_MOD)
	dkms build $(DKMS_MOD) -k $(DKMS_RELEASE)
	dkms install $(DKMS_MOD) -k $(DKMS_RELEASE)

dkms-uninstall: dkms-check
	@if [ -n "$$(dkms status $(DKMS_MOD))" ]; then \
		echo "dkms remove $(DKMS_MOD) --all"; \
		dkms remove $(DKMS_MOD) --all || exit 1; \
	fi
	rm -rf $(DKMS_SRC)

demo:
	@scripts/demo.sh

check:
	@scripts/check.sh

debug-check:
	@KERNELS="debug debug-rt" scripts/check.sh

bench:
	@bench/run.sh $(ROUNDS)

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(MAKE) -C selftests/cowstat clean
	rm -f tools/demo/fork_write bench/cowbench
	$(MAKE) -C tools/cowstat clean
	rm -rf build

help:
	@sed -n '3,27p' Makefile
