# kite: thin wrapper over meson/ninja.  `make run` and `make test` are the two
# commands a new user needs; both install missing Debian packages first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
GUEST      := $(BUILD)/guest/guest.elf
KITE       := $(BUILD)/kite
QUICK      ?=

.PHONY: all kite guest deps run test test-plain test-asan test-tsan asan-build tsan-build bench clean

all: kite guest

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	@scripts/deps.sh
	@meson setup $(BUILD) --buildtype=debugoptimized >/dev/null

kite: $(BUILD)/build.ninja
	@ninja -C $(BUILD) --quiet

guest:
	@$(MAKE) --no-print-directory -s -C tests/guest O=$(abspath $(BUILD))/guest

run: all
	$(KITE) run --kernel $(GUEST) --cpus 2 --mem 256M --cmdline "test=demo"

$(ASAN_BUILD)/build.ninja:
	@scripts/deps.sh test
	@meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null

# Every test, plain, then the whole suite again under ASan+UBSan.
test: all asan-build tsan-build
	@tests/run.sh --plain $(BUILD) --asan $(ASAN_BUILD) --tsan $(TSAN_BUILD) --guest $(GUEST)

test-plain: all
	@scripts/deps.sh test
	@tests/run.sh --plain $(BUILD)

test-asan: guest asan-build
	@tests/run.sh --asan $(ASAN_BUILD) --guest $(GUEST)

test-tsan: tsan-build
	@tests/run.sh --tsan $(TSAN_BUILD)

$(TSAN_BUILD)/build.ninja:
	@scripts/deps.sh test
	@meson setup $(TSAN_BUILD) --buildtype=debugoptimized -Db_sanitize=thread \
		-Db_lundef=false >/dev/null

tsan-build: $(TSAN_BUILD)/build.ninja
	@ninja -C $(TSAN_BUILD) --quiet

asan-build: $(ASAN_BUILD)/build.ninja
	@scripts/deps.sh test
	@ninja -C $(ASAN_BUILD) --quiet

bench: all
	@scripts/deps.sh bench
	@bench/run.sh $(if $(QUICK),--quick)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
