#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh - kite benchmark harness: kite against QEMU microvm, same guest.
#
#   bench/run.sh [--quick] [--out DIR] [--runs N] [--mem-runs N] [--timeout S]
#                [--build DIR] [--kite PATH] [--guest PATH] [--qemu PATH|none]
#                [--only REGEX]
#
# Called by `make bench` (full) and `make bench QUICK=1` (smoke test).
#   full:    one warm-up run per side, then kite/QEMU alternately, N runs each
#            (default 10; memory tasks 5)
#   --quick: one run per side, no warm-up (a few seconds; 3 s timeout per run)
# Writes DIR/latest.md, DIR/latest.json, DIR/*.png (gnuplot; skipped with a
# note when gnuplot is absent) and, in full mode, DIR/history/DATE-COMMIT.json; DIR defaults
# to bench/results.  Prints a progress line, then the table.
# --only REGEX runs only the tasks whose name matches (bash regex, e.g.
# 'startup|scale'); rows without data are then left out of the report.
# Exit status: 0 all runs passed their checks; 1 some run failed (wrong exit
# status, timeout, missing output: listed under Errors); 2 usage or setup error.
#
# Layout: bench/lib.sh (timing, alternation, statistics, JSON/markdown/charts),
# bench/metrics/*.sh (one file per metric group: NAME_register, optional
# NAME_notes, NAME_results_notes (notes written after the runs) and
# NAME_charts), bench/tools/spawn_time.c (C timing helper) and
# bench/tools/stamp_lines.c (timestamps the lines of several serial outputs on
# one clock), compiled into BUILD/bench/.
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD:-build}
BENCH_OUT=
BENCH_QUICK=0
BENCH_RUNS=10
BENCH_MEM_RUNS=5
BENCH_TIMEOUT=
BENCH_KITE=
BENCH_GUEST=
QEMU_ARG=
BENCH_ONLY=

usage() {
  awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "${BASH_SOURCE[0]}"
  exit "${1:-2}"
}
die() { echo "bench: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case $1 in
    --quick) BENCH_QUICK=1 ;;
    --out) BENCH_OUT=${2:?--out needs a directory}; shift ;;
    --runs) BENCH_RUNS=${2:?}; shift ;;
    --mem-runs) BENCH_MEM_RUNS=${2:?}; shift ;;
    --timeout) BENCH_TIMEOUT=${2:?}; shift ;;
    --build) BUILD_DIR=${2:?}; shift ;;
    --kite) BENCH_KITE=${2:?}; shift ;;
    --guest) BENCH_GUEST=${2:?}; shift ;;
    --qemu) QEMU_ARG=${2:?}; shift ;;
    --only) BENCH_ONLY=${2:?--only needs a regular expression}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "bench: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $BENCH_RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"
[[ $BENCH_MEM_RUNS =~ ^[1-9][0-9]*$ ]] || die "--mem-runs needs a positive number"
[ -n "$BENCH_TIMEOUT" ] || BENCH_TIMEOUT=$([ $BENCH_QUICK = 1 ] && echo 3 || echo 10)

abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
cd "$BENCH_ROOT" || exit 2
BUILD_DIR=$(abspath "$BUILD_DIR")
BENCH_OUT=$(abspath "${BENCH_OUT:-bench/results}")
BENCH_KITE=$(abspath "${BENCH_KITE:-$BUILD_DIR/kite}")
BENCH_GUEST=$(abspath "${BENCH_GUEST:-$BUILD_DIR/guest/guest.elf}")

# ------------------------------------------------------------------ checks
[ -x "$BENCH_KITE" ] || die "no kite binary at $BENCH_KITE (run: make kite)"
[ -f "$BENCH_GUEST" ] || die "no test guest at $BENCH_GUEST (run: make guest)"
{ [ -r /dev/kvm ] && [ -w /dev/kvm ]; } || die "/dev/kvm is missing or not accessible (KVM is needed)"
command -v cc >/dev/null || die "no C compiler (cc)"
BENCH_QEMU=
case $QEMU_ARG in
  none) ;;
  "") BENCH_QEMU=$(command -v qemu-system-x86_64 || true)
      [ -n "$BENCH_QEMU" ] || echo "bench: qemu-system-x86_64 not found: QEMU side skipped (install qemu-system-x86)" >&2 ;;
  *) [ -x "$QEMU_ARG" ] || die "no QEMU at $QEMU_ARG"; BENCH_QEMU=$(abspath "$QEMU_ARG") ;;
esac

# ------------------------------------------------------------------ helper
TOOLS_DIR="$BUILD_DIR/bench"
SPAWN_TIME="$TOOLS_DIR/spawn_time"
STAMP_LINES="$TOOLS_DIR/stamp_lines"    # timestamps serial lines (migration heartbeat)
for tool in "$SPAWN_TIME" "$STAMP_LINES"; do
  tool_src="bench/tools/$(basename "$tool").c"
  if [ ! -x "$tool" ] || [ "$tool_src" -nt "$tool" ]; then
    mkdir -p "$TOOLS_DIR" || die "cannot create $TOOLS_DIR"
    if ! cc -O2 -Wall -Wextra -o "$tool.tmp.$$" "$tool_src" || ! mv -f "$tool.tmp.$$" "$tool"; then
      rm -f "$tool.tmp.$$"; die "cannot compile $tool_src"
    fi
  fi
done

mkdir -p "$BENCH_OUT/history" || die "cannot create $BENCH_OUT"
BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kite-bench.XXXXXX") || die "mktemp failed"
BENCH_CLEANUP=()         # functions the metric groups register (taps, ...)
bench_cleanup() { local f; for f in "${BENCH_CLEANUP[@]}"; do "$f"; done; rm -rf "$BENCH_WORK"; }
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
: >"$BENCH_WORK/errors.txt"; : >"$BENCH_WORK/notes.txt"; : >"$BENCH_WORK/commands.tsv"
: >"$BENCH_WORK/metrics.tsv"

BENCH_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
BENCH_COMMIT=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$BENCH_COMMIT" != unknown ] && [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$BENCH_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  BENCH_COMMIT="$BENCH_COMMIT-dirty"
fi
BENCH_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
BENCH_QEMU_VERSION=
[ -n "$BENCH_QEMU" ] && BENCH_QEMU_VERSION=$("$BENCH_QEMU" --version 2>/dev/null | head -n 1)
BENCH_GUEST_SUM=$(sha256sum "$BENCH_GUEST" | cut -d' ' -f1)
export LC_ALL=C

# shellcheck source=bench/lib.sh
. bench/lib.sh

# ------------------------------------------------------------------ metric groups
BENCH_GROUPS=()
for f in bench/metrics/*.sh; do
  # shellcheck disable=SC1090
  . "$f"
  BENCH_GROUPS+=("$(basename "$f" .sh)")
done
for g in "${BENCH_GROUPS[@]}"; do "${g}_register"; done
for g in "${BENCH_GROUPS[@]}"; do
  declare -F "${g}_notes" >/dev/null && "${g}_notes" >>"$BENCH_WORK/notes.txt"
done
[ -n "$BENCH_QEMU" ] || echo "QEMU side skipped: qemu-system-x86_64 not available." >>"$BENCH_WORK/notes.txt"

echo "bench: kite ${BENCH_KITE#"$BENCH_ROOT/"} (commit $BENCH_COMMIT) vs ${BENCH_QEMU_VERSION:-no QEMU}," \
  "$([ $BENCH_QUICK = 1 ] && echo "quick mode" || echo "$BENCH_RUNS runs per side + warm-up")" >&2
bench_run_all
# Notes that need the runs' results (sizes, rates, page-cache state): NAME_results_notes.
for g in "${BENCH_GROUPS[@]}"; do
  declare -F "${g}_results_notes" >/dev/null && "${g}_results_notes" >>"$BENCH_WORK/notes.txt"
done

# ------------------------------------------------------------------ results
bench_summarize
CHARTS=()
if command -v gnuplot >/dev/null 2>&1; then
  for g in "${BENCH_GROUPS[@]}"; do
    declare -F "${g}_charts" >/dev/null && "${g}_charts"
  done
else
  echo "gnuplot not found (apt-get install -y gnuplot-nox): charts skipped." >>"$BENCH_WORK/notes.txt"
  echo "bench: gnuplot not found: charts skipped" >&2
fi
bench_emit_json "$BENCH_OUT/latest.json"
bench_emit_md "$BENCH_OUT/latest.md"
[ "$BENCH_QUICK" = 1 ] || cp "$BENCH_OUT/latest.json" "$BENCH_OUT/history/${BENCH_DATE//:/}-$BENCH_COMMIT.json"

bench_table_md
echo
CHART_LIST=$(printf ', %s' "${CHARTS[@]}")
echo "results: ${BENCH_OUT#"$BENCH_ROOT/"}/latest.md, latest.json${CHARTS[*]:+$CHART_LIST}"
if [ "$BENCH_NERR" -gt 0 ]; then
  echo "bench: $BENCH_NERR failed run(s):" >&2
  sed 's/^/  /' "$BENCH_WORK/errors.txt" >&2
  exit 1
fi
exit 0
