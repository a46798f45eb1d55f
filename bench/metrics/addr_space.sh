# SPDX-License-Identifier: MIT
# bench/metrics/addr_space.sh - guest address space micro-benchmark (sourced by bench/run.sh).
#
# Issue targets (kite only; QEMU has no comparable in-process API, so its side
# records nothing): cached translation <= 10 ns and uncached lookup among 64
# regions <= 40 ns (medians); as_copy_to/from throughput within 10% of plain
# memcpy for 4 KiB and larger (>= 90 %); two reader threads >= 1.8x the lookup
# throughput of one.
#
# bench/tools/as_bench.c is compiled against the libkite.a next to the kite
# binary into BUILD/bench/; --quick makes it run ~20x shorter.

AS_BENCH=

addr_space_register() {
  bench_metric as-cached-translation ns "<= 10" \
    "as_cache_translate() hit (a device walking a scatter-gather list in one region), inside one read-side critical section"
  bench_metric as-cached-translation-locked ns "" \
    "the same with as_read_lock()/as_read_unlock() around every call"
  bench_metric as-uncached-lookup-64 ns "<= 40" \
    "as_map_ro() of a random gpa among 64 regions (binary search, no cache)"
  bench_metric as-copy-4k pct-of-memcpy ">= 90" "as_copy_to + as_copy_from of 4 KiB, throughput as % of two memcpy()s"
  bench_metric as-copy-64k pct-of-memcpy ">= 90" "the same, 64 KiB"
  bench_metric as-copy-1m pct-of-memcpy ">= 90" "the same, 1 MiB"
  bench_metric as-lookup-scaling-2t x ">= 1.8" \
    "uncached lookups per second with 2 reader threads / with 1 (needs >= 2 idle CPUs)"
  bench_task addr-space addr_space_run
}

# BUILD/libkite.a next to the kite binary (a sanitizer build needs the same
# -fsanitize flags at link time: tried second).
addr_space_build() {
  AS_BENCH="$TOOLS_DIR/as_bench"
  local lib f
  lib="$(dirname "$BENCH_KITE")/libkite.a"
  [ -f "$lib" ] || lib="$BUILD_DIR/libkite.a"
  [ -f "$lib" ] || { bench_fail "no libkite.a next to $BENCH_KITE or in $BUILD_DIR (run: make kite)"; return 1; }
  [ -x "$AS_BENCH" ] && [ "$AS_BENCH" -nt bench/tools/as_bench.c ] && [ "$AS_BENCH" -nt "$lib" ] && return 0
  mkdir -p "$TOOLS_DIR" || return 1
  for f in "" "-fsanitize=address,undefined" "-fsanitize=thread"; do
    # shellcheck disable=SC2046,SC2086
    cc -O2 -Wall -Wextra $f -Isrc -o "$AS_BENCH.tmp.$$" bench/tools/as_bench.c "$lib" \
      $(pkg-config --cflags --libs liburcu-memb) -lpthread >>"$BENCH_WORK/as_bench.cc.log" 2>&1 \
      && mv -f "$AS_BENCH.tmp.$$" "$AS_BENCH" && return 0
  done
  rm -f "$AS_BENCH.tmp.$$"
  SP_ERR="$BENCH_WORK/as_bench.cc.log"; bench_fail "cannot compile bench/tools/as_bench.c"; return 1
}

addr_space_run() {        # SIDE
  [ "$1" = kite ] || return 0
  addr_space_build || return 1
  local out="$BENCH_WORK/as_bench.out" k v
  AS_BENCH_QUICK=$BENCH_QUICK "$AS_BENCH" >"$out" 2>"$BENCH_WORK/as_bench.err" || {
    SP_ERR="$BENCH_WORK/as_bench.err"; bench_fail "as_bench failed"; return 1; }
  bench_note_cmd addr-space kite "$AS_BENCH"
  while IFS='=' read -r k v; do
    case $k in
      cached_ns) bench_record as-cached-translation kite "$v" ;;
      cached_locked_ns) bench_record as-cached-translation-locked kite "$v" ;;
      uncached64_ns) bench_record as-uncached-lookup-64 kite "$v" ;;
      copy_4k_pct) bench_record as-copy-4k kite "$v" ;;
      copy_64k_pct) bench_record as-copy-64k kite "$v" ;;
      copy_1m_pct) bench_record as-copy-1m kite "$v" ;;
      scale_2t) bench_record as-lookup-scaling-2t kite "$v" ;;
    esac
  done <"$out"
}

addr_space_notes() {
  cat <<'NOTES'
Address space (as-*): kite only, no VM, measured by bench/tools/as_bench.c in-process (64 regions of 64 KiB with holes between them plus one 4 MiB region, one memfd backing). QEMU columns are empty for these rows.
as-lookup-scaling-2t needs two otherwise idle CPUs; on a 2-vCPU machine where anything else runs it understates the scaling.
NOTES
}
