#!/usr/bin/env bash
# Run every kite test: unit tests (build/tests/unit/unit-*), fuzz corpus
# replays (build/fuzz/fuzz-replay-*) and integration tests
# (tests/integration/*.sh), once per build given:
#   tests/run.sh [--plain BUILD] [--asan BUILD] [--tsan BUILD] [--guest GUEST_ELF] [--filter REGEX]
# Each test prints "ok NAME", "not ok NAME" or "skip NAME: why"; this script
# counts them, prints failures' output, and ends with one line
#   N passed, N failed, N skipped
# exiting non-zero on any failure.  Under --asan any sanitizer report fails the
# run even if the test itself passed.  The --tsan pass runs the unit tests
# only (the threaded parts of the core: address space, bus, devices).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
passes=()
guest=""
filter=""
while [ $# -gt 0 ]; do
  case "$1" in
    --plain) passes+=("plain:$2"); shift 2 ;;
    --asan) passes+=("asan:$2"); shift 2 ;;
    --tsan) passes+=("tsan:$2"); shift 2 ;;
    --guest) guest="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    *) echo "usage: $0 [--plain BUILD] [--asan BUILD] [--guest ELF] [--filter RE]" >&2; exit 2 ;;
  esac
done
[ ${#passes[@]} -gt 0 ] || passes=("plain:build")

passed=0 failed=0 skipped=0
failures=()
work=$(mktemp -d /tmp/kite-tests.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Count the result lines in $1 (a log); print the non-ok ones.
count_results() {
  local log=$1 label=$2 line
  while IFS= read -r line; do
    case "$line" in
      "ok "*) passed=$((passed + 1)) ;;
      "not ok "*) failed=$((failed + 1)); failures+=("[$label] ${line#not ok }") ;;
      "skip "*) skipped=$((skipped + 1)); echo "  [$label] $line" ;;
    esac
  done < "$log"
}

run_one() { # label kind name command...
  local label=$1 kind=$2 name=$3; shift 3
  local log="$work/$label-$name.log" rc sanlog
  sanlog="$work/san-$label-$name"
  mkdir -p "$sanlog"
  unset ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS
  if [ "$label" = asan ]; then
    export ASAN_OPTIONS="log_path=$sanlog/asan:detect_leaks=1:abort_on_error=0"
    export UBSAN_OPTIONS="log_path=$sanlog/ubsan:print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp"
  elif [ "$label" = tsan ]; then
    export TSAN_OPTIONS="log_path=$sanlog/tsan:halt_on_error=1"
  fi
  "$@" > "$log" 2>&1
  rc=$?
  if ! grep -qE '^(ok|not ok|skip) ' "$log"; then
    echo "not ok $name: produced no result (exit status $rc)" >> "$log"
  elif [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
    echo "not ok $name: exited with status $rc" >> "$log"
  fi
  # A report, not a warning (LSan warns when a tracer holds a thread).
  if [ -n "$(ls -A "$sanlog" 2>/dev/null)" ] &&
     grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|WARNING: ThreadSanitizer|runtime error:|^SUMMARY: ' "$sanlog"/*; then
    echo "not ok $name: sanitizer report" >> "$log"
    cat "$sanlog"/* >> "$log"
  fi
  count_results "$log" "$label"
  if grep -q '^not ok ' "$log"; then
    echo "---- [$label] $kind $name: output ----"
    tail -n 60 "$log"
    echo "----"
  fi
  printf '  [%s] %-28s %s\n' "$label" "$name" \
    "$(grep -c '^ok ' "$log") ok, $(grep -c '^not ok ' "$log") failed, $(grep -c '^skip ' "$log") skipped"
}

for pass in "${passes[@]}"; do
  label=${pass%%:*}
  build=${pass#*:}
  case "$build" in /*) ;; *) build="$top/$build" ;; esac
  g=${guest:-$build/guest/guest.elf}
  case "$g" in /*) ;; *) g="$top/$g" ;; esac
  [ -x "$build/kite" ] || { echo "kite is not built in $build" >&2; exit 2; }
  echo "== $label tests ($build)"
  # Unit tests, then the fuzz targets' corpus replays (fuzz/README.md).
  for t in "$build"/tests/unit/unit-* "$build"/fuzz/fuzz-replay-*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name=$(basename "$t")
    [[ -z "$filter" || "$name" =~ $filter ]] || continue
    run_one "$label" unit "$name" "$t"
  done
  [ "$label" = tsan ] && continue
  for t in "$top"/tests/integration/*.sh; do
    name=$(basename "$t" .sh)
    [[ -z "$filter" || "$name" =~ $filter ]] || continue
    run_one "$label" integration "$name" env KITE="$build/kite" GUEST="$g" \
      TOP="$top" TEST_LABEL="$label" bash "$t"
  done
done

if [ ${#failures[@]} -gt 0 ]; then
  echo "Failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
