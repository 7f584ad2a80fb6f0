# Berth — developer entry points.
#
#   make deps         install the system packages the build and tests need (root)
#   make build        debug build (the default goal)
#   make release      release build
#   make test         build, then run the test suite against the built binaries
#   make run          run berthd in the foreground on its default paths (root)
#   make demo         start berthd if needed and walk through berthctl (root)
#   make bench        release build, then the benchmarks in bench/ (root)
#   make completions  regenerate contrib/completions/ from the built berthctl
#   make clean        remove build products
#
# Only one Swift build at a time: none of these targets builds in parallel with
# another, and `make -j` gains nothing here (swift build schedules its own jobs).

SWIFT ?= swift
# Extra flags for every `swift build` / `swift test`, e.g. SWIFT_FLAGS="-j 1".
SWIFT_FLAGS ?=

# The toolchain lives in /opt/swift on the project machines and is not always on
# PATH. Add it only when $(SWIFT) cannot be found otherwise.
ifeq ($(shell command -v $(SWIFT) 2>/dev/null),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif

# Where the built executables are. Recursive (`=`) on purpose: swift is asked
# only when a recipe expands it, i.e. after the build it depends on. PATH is
# passed explicitly because make 4.3's $(shell) does not see exported variables.
BIN = $(shell PATH='$(PATH)' $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)
RELEASE_BIN = $(shell PATH='$(PATH)' $(SWIFT) build $(SWIFT_FLAGS) -c release --show-bin-path)

COMPLETION_SHELLS := bash zsh fish
COMPLETIONS_DIR := contrib/completions

.DEFAULT_GOAL := build
.NOTPARALLEL:
.PHONY: deps build release demo run test bench completions clean

deps:
	bash contrib/install-deps.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build $(SWIFT_FLAGS) -c release

demo: deps build
	bash contrib/demo.sh '$(BIN)'

# Foreground, default paths (/var/lib/berth, /run/berth, /etc/berth/config.toml).
# Stop it with Ctrl-C (SIGINT): berthd shuts down gracefully and removes its socket.
run: build
	'$(BIN)/berthd' --log-level info

# Swift Testing parallelises on its own; do not add --parallel (that is XCTest's
# process-per-test mode). Tests that drive the executables find them through
# BERTH_BIN_DIR.
test: deps build
	BERTH_BIN_DIR='$(BIN)' $(SWIFT) test $(SWIFT_FLAGS)

bench: deps release
	BIN='$(RELEASE_BIN)' bash bench/run.sh

completions: build
	@mkdir -p '$(COMPLETIONS_DIR)'
	@set -e; bin='$(BIN)'; \
	for sh in $(COMPLETION_SHELLS); do \
		out='$(COMPLETIONS_DIR)'/berthctl.$$sh; \
		"$$bin/berthctl" --generate-completion-script $$sh > "$$out.tmp"; \
		test -s "$$out.tmp" || { echo "empty $$sh completion script" >&2; rm -f "$$out.tmp"; exit 1; }; \
		mv -f "$$out.tmp" "$$out"; \
		echo "wrote $$out"; \
	done

clean:
	$(SWIFT) package clean
