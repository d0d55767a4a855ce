# deken packages (Pd's package manager); included by the Makefile.
#
#   make deken    build/deken/onyx[vVERSION](Linux-ARCH-32).dek for ARCH amd64
#                 (this PC), armv7 (Bela, Bela Mini: make PLATFORM=bela) and
#                 arm64 (Bela Gem: make PLATFORM=gem), each with its object
#                 list (.dek.txt) beside it
#   make deken-amd64 | deken-armv7 | deken-arm64   one of them
#   ONYX_VERSION=... sets the version in the names
#
# A package is a zip file (deken's .dek) holding one folder, onyx/, laid out
# as make install lays it out (see the Makefile): the architecture's two
# externals, stripped, the help patches, the models they load, the README.
# The name follows deken's rules: LIBNAME[vVERSION](OS-CPU-FLOATSIZE).dek,
# with Debian's CPU names as deken spells them (amd64, armv7, arm64) and 32
# for the float size of a single-precision Pd. The ARM externals are named
# .pd_linux like the PC's: deken tells them apart by their ELF header, and
# each package holds one architecture.
#
# The amd64 externals are built with the engine's own GEMM (BLAS=none, as on
# the boards) in build/deken-amd64/: they need nothing but the C library, where
# the OpenBLAS build of make pd needs libopenblas on the user's machine. The
# board builds come from make PLATFORM=bela|gem (build/bela/, build/gem/), with
# Debian's cross compilers; make deken is meant for an x86-64 PC.

ONYX_VERSION ?= 0.1.0
DEKEN_DIR := build/deken
DEKEN_ARCHS := amd64 armv7 arm64
# per architecture: the make arguments that build its externals, the folder
# they land in, and the strip command for them
DEKEN_MAKE_amd64 := BLAS=none VARIANT=deken-amd64
DEKEN_EXT_amd64 := build/deken-amd64
DEKEN_STRIP_amd64 := strip
DEKEN_MAKE_armv7 := PLATFORM=bela
DEKEN_EXT_armv7 := build/bela
DEKEN_STRIP_armv7 := arm-linux-gnueabihf-strip
DEKEN_MAKE_arm64 := PLATFORM=gem
DEKEN_EXT_arm64 := build/gem
DEKEN_STRIP_arm64 := aarch64-linux-gnu-strip

# deken-name ARCH: the package's file name (no make target: make reads
# parentheses in a target as an archive member)
deken-name = onyx[v$(ONYX_VERSION)](Linux-$1-32).dek

.PHONY: deken $(addprefix deken-,$(DEKEN_ARCHS))
deken: $(addprefix deken-,$(DEKEN_ARCHS))

# the object list deken's search reads: one line per object, TAB, what it does
DEKEN_OBJECTS := 'onyx~\t%s\nonyx\t%s\n' 'run an ONNX neural network on signals (audio rate)' \
	'run an ONNX neural network on lists (control rate)'

$(addprefix deken-,$(DEKEN_ARCHS)): deken-%:
	$(MAKE) $(DEKEN_MAKE_$*) platform-pd
	rm -rf $(DEKEN_DIR)/$* "$(DEKEN_DIR)/$(call deken-name,$*)"
	mkdir -p $(DEKEN_DIR)/$*/onyx/models/trained $(DEKEN_DIR)/$*/onyx/doc
	cp $(DEKEN_EXT_$*)/onyx~.pd_linux $(DEKEN_EXT_$*)/onyx.pd_linux $(PD_HELP) $(PD_DOCS) \
		$(DEKEN_DIR)/$*/onyx/
	cp $(PD_MODELS) $(DEKEN_DIR)/$*/onyx/models/trained/
	cp $(PD_PICTURES) $(DEKEN_DIR)/$*/onyx/doc/
	$(DEKEN_STRIP_$*) --strip-unneeded $(DEKEN_DIR)/$*/onyx/*.pd_linux
	cd $(DEKEN_DIR)/$* && zip -q -r -X "../$(call deken-name,$*)" onyx
	printf $(DEKEN_OBJECTS) >"$(DEKEN_DIR)/$(call deken-name,$*).txt"
	@echo "wrote $(DEKEN_DIR)/$(call deken-name,$*)"
