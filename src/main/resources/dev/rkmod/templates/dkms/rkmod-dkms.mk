# Written by 'rkmod dkms init'. dkms.conf's MAKE[0] runs 'make -f rkmod-dkms.mk RKMOD_KDIR=...'; DKMS puts its
# own -j and KERNELRELEASE= in front and may append CC=clang LD=ld.lld (dkms 3.0) or LLVM=1 (dkms 3.1 and later).
# make hands every such VAR=value to the kernel's make through MAKEFLAGS, unchanged and once; rkmod-dkms-build
# adds only RUSTC=. The '+' lets the kernel's make share DKMS's -j job slots.
RKMOD_KDIR ?= /lib/modules/$(KERNELRELEASE)/build

all:
	+@sh ./rkmod-dkms-build build '$(RKMOD_KDIR)'

clean:
	+@sh ./rkmod-dkms-build clean '$(RKMOD_KDIR)'

check:
	@sh ./rkmod-dkms-build decide '$(RKMOD_KDIR)'

.PHONY: all clean check
