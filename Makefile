# kite: thin wrapper over meson/ninja.  `make run` and `make test` are the two
# commands a new user needs; both install missing Debian packages first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 60
FUZZ_TARGETS := api boot dev-state migration snapshot
GUEST      := $(BUILD)/guest/guest.elf
KITE       := $(BUILD)/kite
QUICK      ?=

.PHONY: all kite guest deps run test test-plain test-asan test-tsan asan-build tsan-build bench \
	fuzz fuzz-build clean

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

# libFuzzer targets (clang, ASan+UBSan, every object coverage-instrumented);
# warnings are not errors there: clang warns about things gcc does not.
$(FUZZ_BUILD)/build.ninja:
	@scripts/deps.sh fuzz
	@CC=clang meson setup $(FUZZ_BUILD) --buildtype=debugoptimized -Dfuzzing=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
		-Dc_args=-fsanitize=fuzzer-no-link >/dev/null

fuzz-build: $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) --quiet $(addprefix fuzz/fuzz-,$(FUZZ_TARGETS))

# Each target for FUZZ_TIME seconds on a scratch corpus ($(FUZZ_BUILD)/corpus/,
# seeded from fuzz/corpus/ and kept between runs); crashes are written to
# $(FUZZ_BUILD)/crash-<target>-*.  See fuzz/README.md.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		cp -n fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null || true; \
		dict=; if [ -f fuzz/$$t.dict ]; then dict=-dict=fuzz/$$t.dict; fi; \
		echo "== fuzz-$$t for $(FUZZ_TIME) s"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FUZZ_BUILD)/fuzz/fuzz-$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus/$$t; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
