# SPDX-License-Identifier: MIT
# bench/lib.sh - shared code of the kite benchmark harness (sourced by bench/run.sh).
#
# Model
#   A *task* is a series of runs of the same scenario on both sides (kite and
#   QEMU): one warm-up run of each (full mode), then kite, QEMU, kite, QEMU...
#   A task's run function is called as `FN SIDE` and records one value per
#   *metric* it measures with bench_record; one task may feed several metrics.
#   A metric is one row of the results (median/min/max per side, ratio).
#
# A metric group (bench/metrics/NAME.sh) defines NAME_register, which calls
#   bench_metric NAME UNIT TARGET DESCRIPTION   (TARGET: e.g. "<= 5", "<= 0.5x"
#                                                (the ratio kite/QEMU), or "")
#   bench_task   NAME RUN_FN [RUNS]             (RUNS default: $BENCH_RUNS)
# and the run functions, which use bench_spawn, bench_fail and bench_record.
#
# Globals set by run.sh: BENCH_ROOT (repository), BENCH_OUT (results dir),
# BENCH_WORK (scratch dir), BENCH_QUICK (0/1), BENCH_RUNS, BENCH_TIMEOUT,
# BENCH_KITE, BENCH_QEMU (empty: QEMU side skipped), BENCH_GUEST, SPAWN_TIME.

# shellcheck disable=SC2034  # SP_* and CMD are read by the metric groups
# shellcheck disable=SC2153  # BENCH_* globals come from run.sh
true
BENCH_METRICS=()          # metric names, in order
BENCH_TASKS=()            # "name fn runs"
BENCH_STEP=0
BENCH_STEPS=0
BENCH_NERR=0

# ---------------------------------------------------------------- registry
bench_metric() {          # NAME UNIT TARGET DESCRIPTION
  BENCH_METRICS+=("$1")
  printf '%s\037%s\037%s\037%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_WORK/metrics.tsv"
  : >"$BENCH_WORK/v.$1.kite"; : >"$BENCH_WORK/v.$1.qemu"
}

bench_task() {            # NAME RUN_FN [RUNS]
  local runs=${3:-$BENCH_RUNS}
  [ -n "${BENCH_ONLY:-}" ] && ! [[ $1 =~ $BENCH_ONLY ]] && return 0
  [ "$BENCH_QUICK" = 1 ] && runs=1
  BENCH_TASKS+=("$1 $2 $runs")
}

# Field I of metric NAME's registry line (1 name, 2 unit, 3 target, 4 description).
bench_metric_field() { awk -F'\037' -v n="$1" -v i="$2" '$1 == n { print $i; exit }' "$BENCH_WORK/metrics.tsv"; }

# ---------------------------------------------------------------- commands
# The exact command lines both sides run; set the array CMD.
#   side_cmd SIDE MEM_MIB SERIAL(none|stdio) CMDLINE [DEVICE...]
# DEVICE words, the same virtio device on both sides (over virtio-mmio: QEMU's
# microvm has no PCI host bridge the test guest can use without ACPI):
#   rng         virtio-rng
#   blk:FILE    virtio-blk on a raw image (page cache on both sides; QEMU with
#               aio=io_uring, the back end kite uses)
#   net:TAP     virtio-net on an existing tap device (no vhost on either side)
# With devices, QEMU runs microvm with acpi=off so that it announces them on
# the kernel command line (virtio_mmio.device=) as kite does, and with
# virtio-mmio.force-legacy=false (virtio 1.x, as kite).
kite_cmd() {
  local mem=$1 serial=$2 cmdline=$3 d; shift 3
  CMD=("$BENCH_KITE" run --kernel "$BENCH_GUEST" --mem "${mem}M" --cpus 1 --serial "$serial" --cmdline "$cmdline")
  [ $# -gt 0 ] && CMD+=(--transport mmio)
  for d in "$@"; do
    case $d in
      rng) CMD+=(--rng) ;;
      blk:*) CMD+=(--disk "path=${d#blk:}") ;;
      net:*) CMD+=(--net "tap=${d#net:}") ;;
      *) echo "bench: kite_cmd: unknown device $d" >&2; return 1 ;;
    esac
  done
}
qemu_cmd() {
  local mem=$1 serial=$2 cmdline=$3 d m=microvm n=0; shift 3
  [ $# -gt 0 ] && m=microvm,acpi=off
  # shellcheck disable=SC2054  # the commas belong to QEMU's option syntax
  CMD=("$BENCH_QEMU" -M "$m" -enable-kvm -cpu host,-arch-capabilities -m "$mem" -smp 1
       -nodefaults -no-reboot -nographic -serial "$serial" -kernel "$BENCH_GUEST" -append "$cmdline"
       -device isa-debug-exit,iobase=0x501,iosize=1)
  [ $# -gt 0 ] && CMD+=(-global virtio-mmio.force-legacy=false)
  for d in "$@"; do
    case $d in
      rng) CMD+=(-device virtio-rng-device) ;;
      blk:*) CMD+=(-drive "file=${d#blk:},format=raw,if=none,id=d$n,cache=writeback,aio=io_uring"
                   -device "virtio-blk-device,drive=d$n") ;;
      net:*) CMD+=(-netdev "tap,id=n$n,ifname=${d#net:},script=no,downscript=no"
                   -device "virtio-net-device,netdev=n$n") ;;
      *) echo "bench: qemu_cmd: unknown device $d" >&2; return 1 ;;
    esac
    n=$((n + 1))
  done
}
side_cmd() {              # SIDE MEM_MIB SERIAL CMDLINE [DEVICE...]
  local side=$1; shift
  "${side}_cmd" "$@"
}

# Run the guest once with serial on stdout captured; the "bench KIND ..."
# line it prints is left in BENCH_LINE (key=value words).  Checks exit status
# 1 (the guest's PASS) and that the line is there.
#   bench_guest_line TASK SIDE KIND MEM_MIB CMDLINE [DEVICE...]
BENCH_LINE=
bench_guest_line() {
  local task=$1 side=$2 kind=$3 mem=$4 cmdline=$5 out="$BENCH_WORK/guest.out"; shift 5
  BENCH_LINE=
  side_cmd "$side" "$mem" stdio "$cmdline" "$@" || { bench_fail "bad device list"; return 1; }
  bench_note_cmd "$task" "$side" "${CMD[@]}"
  bench_spawn -c "$out" -- "${CMD[@]}" || { bench_fail "spawn_time failed"; return 1; }
  if [ "$SP_STATUS" != exit:1 ]; then
    bench_fail "status $SP_STATUS, expected exit:1; guest said: $(grep -a -E 'FAIL|error' "$out" | head -n 2 | tr -c '[:print:]' ' ')"
    return 1
  fi
  BENCH_LINE=$(grep -a -m1 "^bench $kind " "$out" | tr -d '\r')
  [ -n "$BENCH_LINE" ] || { bench_fail "no \"bench $kind\" line in the guest's output"; return 1; }
}
# Value of KEY in BENCH_LINE ("" if absent).
bench_line_get() { local w; for w in $BENCH_LINE; do [ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return; }; done; }

# Remember the command a task ran on a side (first time only), for the report.
bench_note_cmd() {        # TASK SIDE CMD...
  local task=$1 side=$2; shift 2
  bench_note_text "$task" "$side" "$(bench_quote_cmd "$@")"
}
# The same for a free-form line (several commands, a request), e.g.
# "$(bench_quote_cmd "${CMD[@]}") & ... ; curl ...".
bench_note_text() {       # TASK SIDE TEXT
  grep -q "^$1	$2	" "$BENCH_WORK/commands.tsv" 2>/dev/null && return 0
  printf '%s\t%s\t%s\n' "$1" "$2" "${3//"$BENCH_ROOT/"/}" >>"$BENCH_WORK/commands.tsv"  # repository-relative paths read better
}
# CMD... as one shell-quoted line (quoting only what needs it).
bench_quote_cmd() {
  local q="" a
  for a in "$@"; do
    if [[ $a =~ ^[][A-Za-z0-9_./=,:@%+^-]+$ ]]; then q+="$a "; else q+="'${a//\'/\'\\\'\'}' "; fi
  done
  printf '%s' "${q% }"
}

# ---------------------------------------------------------------- running
# bench_spawn [spawn_time options] -- CMD...
# Runs CMD once through the C helper; sets SP_STATUS (exit:N, signal:N,
# timeout), SP_WALL_NS, SP_FIRST_NS, SP_MAXRSS_KB, SP_HWM_KB, SP_GUEST_RSS_KB,
# SP_GUEST_VMAS; the child's stderr goes to $SP_ERR.  Returns 1 if the helper
# itself failed.
SP_ERR=
bench_spawn() {
  local line
  SP_ERR="$BENCH_WORK/last.stderr"
  SP_STATUS=; SP_WALL_NS=-1; SP_FIRST_NS=-1; SP_MAXRSS_KB=-1
  SP_HWM_KB=-1; SP_GUEST_RSS_KB=-1; SP_GUEST_VMAS=-1
  line=$("$SPAWN_TIME" -t "$BENCH_TIMEOUT" "$@" 2>"$SP_ERR") || return 1
  local kv
  for kv in $line; do
    case $kv in
      status=*) SP_STATUS=${kv#*=} ;;
      wall_ns=*) SP_WALL_NS=${kv#*=} ;;
      first_ns=*) SP_FIRST_NS=${kv#*=} ;;
      maxrss_kb=*) SP_MAXRSS_KB=${kv#*=} ;;
      hwm_kb=*) SP_HWM_KB=${kv#*=} ;;
      guest_rss_kb=*) SP_GUEST_RSS_KB=${kv#*=} ;;
      guest_vmas=*) SP_GUEST_VMAS=${kv#*=} ;;
    esac
  done
  [ -n "$SP_STATUS" ]
}

# Check the status of the last bench_spawn; on a mismatch record an error.
bench_expect_status() {   # EXPECTED(e.g. exit:1)
  [ "$SP_STATUS" = "$1" ] && return 0
  bench_fail "status $SP_STATUS, expected $1"
  return 1
}

# Record an error for the current run (BENCH_CUR = "task side run-label").
bench_fail() {
  local msg="$BENCH_CUR: $*" tail=
  if [ -n "$SP_ERR" ] && [ -s "$SP_ERR" ]; then
    tail=$(grep -v '^[[:space:]]*$' "$SP_ERR" | tail -n 3 | tr '\n' '|' | sed 's/|$//; s/|/ | /g')
    [ -n "$tail" ] && msg="$msg (stderr: $tail)"
  fi
  printf '%s\n' "$msg" >>"$BENCH_WORK/errors.txt"
  BENCH_NERR=$((BENCH_NERR + 1))
  BENCH_RUN_FAILED=1
}

# Record a value of METRIC for SIDE (skipped during warm-up runs).
bench_record() {          # METRIC SIDE VALUE
  [ "${BENCH_WARMUP:-0}" = 1 ] && return 0
  printf '%s\n' "$3" >>"$BENCH_WORK/v.$1.$2"
}

ns_to_ms() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e6 }'; }
kb_to_mib() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1024 }'; }

bench_progress() {        # TEXT
  if [ -t 2 ]; then
    printf '\r\033[K[%d/%d] %s ...' "$BENCH_STEP" "$BENCH_STEPS" "$1" >&2
  fi
}
bench_progress_done() { [ -t 2 ] && printf '\r\033[K' >&2; return 0; }

bench_sides() {           # the sides that run
  if [ -n "$BENCH_QEMU" ]; then echo kite qemu; else echo kite; fi
}

bench_count_steps() {
  local t name fn runs nsides warm=1
  [ "$BENCH_QUICK" = 1 ] && warm=0
  nsides=$(bench_sides | wc -w)
  BENCH_STEPS=0
  for t in "${BENCH_TASKS[@]}"; do
    read -r name fn runs <<<"$t"
    BENCH_STEPS=$((BENCH_STEPS + (runs + warm) * nsides))
  done
}

# One run of a task on a side; a side that failed twice in a row in a task is
# not run again in that task (its remaining runs are reported as skipped).
bench_one() {             # TASK FN SIDE LABEL
  local task=$1 fn=$2 side=$3 label=$4 key
  key="fails_${task//[^a-zA-Z0-9]/_}_$side"
  BENCH_STEP=$((BENCH_STEP + 1))
  if [ "${!key:-0}" -ge 2 ]; then
    return 0
  fi
  bench_progress "$task $side $label"
  BENCH_CUR="$task $side $label"
  BENCH_RUN_FAILED=0
  SP_ERR=
  "$fn" "$side" || [ "$BENCH_RUN_FAILED" = 1 ] || bench_fail "run function failed"
  if [ "$BENCH_RUN_FAILED" = 1 ]; then
    printf -v "$key" '%d' $(( ${!key:-0} + 1 ))
    if [ "${!key}" -ge 2 ]; then
      printf '%s\n' "$task $side: two failures in a row, remaining runs of this side skipped" \
        >>"$BENCH_WORK/errors.txt"
    fi
  else
    printf -v "$key" '%d' 0
  fi
}

bench_run_all() {
  local t name fn runs i side
  bench_count_steps
  for t in "${BENCH_TASKS[@]}"; do
    read -r name fn runs <<<"$t"
    [ -t 2 ] || printf '[%d/%d] %s (%s runs per side)\n' "$((BENCH_STEP + 1))" "$BENCH_STEPS" \
      "$name" "$runs" >&2
    if [ "$BENCH_QUICK" != 1 ]; then
      BENCH_WARMUP=1
      for side in $(bench_sides); do bench_one "$name" "$fn" "$side" "warm-up"; done
      BENCH_WARMUP=0
    fi
    for ((i = 1; i <= runs; i++)); do
      for side in $(bench_sides); do bench_one "$name" "$fn" "$side" "run $i/$runs"; done
    done
  done
  bench_progress_done
}

# ---------------------------------------------------------------- statistics
# stats FILE -> "median min max n" (median of an even count: mean of the two
# middle values); "- - - 0" when FILE is empty.
stats() {
  sort -g "$1" | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "- - - 0"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s %s %s %d\n", fmt(m), fmt(v[1]), fmt(v[NR]), NR
    }
    function fmt(x) { return sprintf("%.3f", x) + 0 }'
}

# ratio A B -> A/B with 2 decimals, "-" when either is missing or B is 0
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'; }

# Does the median meet the target ("<= X" or ">= X"; "<= Xx": the ratio
# kite/QEMU, e.g. "<= 0.5x" for at most half of QEMU's)?  "yes", "no" or "".
meets() {                 # MEDIAN TARGET [RATIO]
  awk -v m="$1" -v t="$2" -v r="${3:--}" 'BEGIN {
    if (t ~ /x$/) { m = r; sub(/x$/, "", t) }
    if (t == "" || m == "-") { print ""; exit }
    split(t, p, " ")
    if (p[1] == "<=") print (m + 0 <= p[2] + 0) ? "yes" : "no"
    else if (p[1] == ">=") print (m + 0 >= p[2] + 0) ? "yes" : "no"
    else print ""
  }'
}

# ---------------------------------------------------------------- emitting
json_str() {              # STRING -> JSON string literal
  printf '%s' "$1" | awk 'BEGIN { RS = "\0"; ORS = "" }
    { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r")
      gsub(/\n/, "\\n"); gsub(/[\001-\037]/, " "); print "\"" $0 "\"" }'
}
json_num() { if [ "$1" = "-" ] || [ -z "$1" ]; then printf null; else printf '%s' "$1"; fi; }
json_values() {           # FILE -> [v, v, ...]
  awk 'BEGIN { printf "[" } { printf "%s%s", (NR > 1 ? ", " : ""), $1 + 0 } END { printf "]" }' "$1"
}

# Fills $BENCH_WORK/summary.tsv (fields separated by \037: tab is IFS
# whitespace and would merge empty fields):
# name unit target kmed kmin kmax kn qmed qmin qmax qn ratio meets description
bench_summarize() {
  local m unit target desc k q r
  : >"$BENCH_WORK/summary.tsv"
  for m in "${BENCH_METRICS[@]}"; do
    unit=$(bench_metric_field "$m" 2); target=$(bench_metric_field "$m" 3)
    desc=$(bench_metric_field "$m" 4)
    k=$(stats "$BENCH_WORK/v.$m.kite"); q=$(stats "$BENCH_WORK/v.$m.qemu")
    [ -n "${BENCH_ONLY:-}" ] && [ "${k##* }" = 0 ] && [ "${q##* }" = 0 ] && continue
    r=$(ratio "${k%% *}" "${q%% *}")
    printf '%s\037%s\037%s\037%s\037%s\037%s\037%s\037%s\n' "$m" "$unit" "$target" "${k// /$'\037'}" "${q// /$'\037'}" \
      "$r" "$(meets "${k%% *}" "$target" "$r")" "$desc" >>"$BENCH_WORK/summary.tsv"
  done
}

bench_emit_json() {       # FILE
  local f=$1 first=1 m unit target kmed kmin kmax kn qmed qmin qmax qn r ok desc side
  {
    printf '{\n  "schema": 1,\n'
    printf '  "date": %s,\n' "$(json_str "$BENCH_DATE")"
    printf '  "kite_commit": %s,\n' "$(json_str "$BENCH_COMMIT")"
    printf '  "mode": %s,\n' "$(json_str "$([ "$BENCH_QUICK" = 1 ] && echo quick || echo full)")"
    printf '  "warmup_runs": %d,\n' "$([ "$BENCH_QUICK" = 1 ] && echo 0 || echo 1)"
    printf '  "machine": {"nproc": %s, "kernel": %s, "cpu": %s},\n' "$(nproc)" \
      "$(json_str "$(uname -r)")" "$(json_str "$BENCH_CPU")"
    printf '  "guest": {"path": %s, "sha256": %s},\n' "$(json_str "${BENCH_GUEST#"$BENCH_ROOT/"}")" \
      "$(json_str "$BENCH_GUEST_SUM")"
    printf '  "qemu_version": %s,\n' "$(json_str "$BENCH_QEMU_VERSION")"
    printf '  "metrics": ['
    while IFS=$'\037' read -r m unit target kmed kmin kmax kn qmed qmin qmax qn r ok desc; do
      [ $first = 1 ] || printf ','
      first=0
      printf '\n    {"name": %s, "unit": %s, "description": %s, "target": %s, "meets_target": %s,\n' \
        "$(json_str "$m")" "$(json_str "$unit")" "$(json_str "$desc")" \
        "$( [ -n "$target" ] && json_str "$target" || printf null)" \
        "$(case $ok in yes) echo true ;; no) echo false ;; *) echo null ;; esac)"
      for side in kite qemu; do
        if [ $side = kite ]; then set -- "$kmed" "$kmin" "$kmax" "$kn"; else set -- "$qmed" "$qmin" "$qmax" "$qn"; fi
        printf '     "%s": {"median": %s, "min": %s, "max": %s, "runs": %s, "values": %s},\n' "$side" \
          "$(json_num "$1")" "$(json_num "$2")" "$(json_num "$3")" "$4" \
          "$(json_values "$BENCH_WORK/v.$m.$side")"
      done
      printf '     "ratio": %s, "better": %s, "verdict": %s}' "$(json_num "$r")" \
        "$(bench_higher_better "$unit" && json_str higher || json_str lower)" "$(json_str "$(verdict "$r" "$unit")")"
    done <"$BENCH_WORK/summary.tsv"
    printf '\n  ],\n  "commands": ['
    first=1
    while IFS=$'\t' read -r m side desc; do
      [ $first = 1 ] || printf ','
      first=0
      printf '\n    {"task": %s, "side": %s, "command": %s}' "$(json_str "$m")" "$(json_str "$side")" \
        "$(json_str "$desc")"
    done <"$BENCH_WORK/commands.tsv"
    printf '\n  ],\n  "notes": ['
    json_str_lines "$BENCH_WORK/notes.txt"
    printf '\n  ],\n  "errors": ['
    json_str_lines "$BENCH_WORK/errors.txt"
    printf '\n  ],\n  "ok": %s\n}\n' "$([ "$BENCH_NERR" = 0 ] && echo true || echo false)"
  } >"$f"
}

# The non-empty lines of FILE as the elements of a JSON array of strings.
json_str_lines() {
  local first=1 line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    [ $first = 1 ] || printf ','
    first=0
    printf '\n    %s' "$(json_str "$line")"
  done <"$1"
}

# Rates are better higher (IOPS, packets/s, MB/s, VMs/s, speed-ups), everything
# else (times, memory) lower.
bench_higher_better() {
  case $1 in IOPS|pps|MB/s|VMs/s|x|pct-of-memcpy) return 0 ;; *) return 1 ;; esac
}
# verdict RATIO UNIT -> "kite 2.31x better", "QEMU 1.10x better", "even" or "-"
verdict() {
  local hb=0
  bench_higher_better "$2" && hb=1
  awk -v r="$1" -v hb=$hb 'BEGIN {
    if (r == "-" || r + 0 <= 0) { print "-"; exit }
    f = hb ? r + 0 : 1 / r
    if (f >= 0.995 && f <= 1.005) print "even"
    else if (f > 1) printf "kite %.2fx better\n", f
    else printf "QEMU %.2fx better\n", 1 / f
  }'
}

with_unit() { if [ "$1" = - ]; then echo -; else echo "$1 $2"; fi; }
span() { if [ "$1" = - ]; then echo -; else echo "$1-$2"; fi; }

# The results table (markdown), also what the terminal shows.
bench_table_md() {
  local m unit target kmed kmin kmax kn qmed qmin qmax qn r ok desc tgt
  printf '| metric | kite median | QEMU median | ratio (kite/QEMU) | verdict | runs (kite/QEMU) | spread kite (min-max) | spread QEMU (min-max) | target |\n'
  printf '|---|---:|---:|---:|---|---:|---:|---:|---|\n'
  while IFS=$'\037' read -r m unit target kmed kmin kmax kn qmed qmin qmax qn r ok desc; do
    tgt=-
    if [ -n "$target" ]; then
      case $ok in yes) tgt=met ;; no) tgt=MISSED ;; *) tgt=n/a ;; esac
      if [[ $target == *x ]]; then tgt="kite $target QEMU: $tgt"; else tgt="kite $target $unit: $tgt"; fi
    fi
    printf '| %s | %s | %s | %s | %s | %s/%s | %s | %s | %s |\n' "$m" "$(with_unit "$kmed" "$unit")" \
      "$(with_unit "$qmed" "$unit")" "$r" "$(verdict "$r" "$unit")" "$kn" "$qn" "$(span "$kmin" "$kmax")" "$(span "$qmin" "$qmax")" "$tgt"
  done <"$BENCH_WORK/summary.tsv"
}

bench_emit_md() {         # FILE
  local f=$1 m unit target kmed kmin kmax kn qmed qmin qmax qn r ok desc side cmd
  {
    printf '# kite benchmarks (%s)\n\n' "$([ "$BENCH_QUICK" = 1 ] && echo "quick mode: 1 run per side, no warm-up" \
      || echo "full mode: 1 warm-up run per side, then alternating runs")"
    bench_table_md
    printf '\nMedians; spread is min-max over the runs; the verdict reads the ratio in the direction of the metric (times and memory: lower is better; IOPS, packets/s, MB/s, VMs/s: higher is better).\n\n'
    printf '## Metrics\n\n'
    while IFS=$'\037' read -r m unit target kmed kmin kmax kn qmed qmin qmax qn r ok desc; do
      printf -- '- **%s** (%s): %s\n' "$m" "$unit" "$desc"
    done <"$BENCH_WORK/summary.tsv"
    if [ -s "$BENCH_WORK/notes.txt" ]; then
      printf '\n## Notes\n\n'
      sed 's/^/- /' "$BENCH_WORK/notes.txt"
    fi
    printf '\n## Commands\n\nEach run is started by `spawn_time` (bench/tools/spawn_time.c): CLOCK_MONOTONIC from just\n'
    printf 'before fork() to wait4() (or to the first byte read from the child'"'"'s stdout pipe), peak RSS\n'
    printf 'from wait4() ru_maxrss; stdin is /dev/null.\n\n'
    while IFS=$'\t' read -r m side cmd; do
      printf -- '- %s, %s:\n\n  ```\n  %s\n  ```\n' "$m" "$side" "$cmd"
    done <"$BENCH_WORK/commands.tsv"
    printf '\n## Machine\n\n'
    printf -- '- date: %s\n- kite commit: %s\n- nproc: %s\n- kernel: %s\n- CPU: %s\n- QEMU: %s\n- guest: %s (sha256 %s)\n' \
      "$BENCH_DATE" "$BENCH_COMMIT" "$(nproc)" "$(uname -srm)" "$BENCH_CPU" "${BENCH_QEMU_VERSION:-absent}" \
      "${BENCH_GUEST#"$BENCH_ROOT/"}" "${BENCH_GUEST_SUM:0:16}"
    printf '\n## Errors\n\n'
    if [ -s "$BENCH_WORK/errors.txt" ]; then sed 's/^/- /' "$BENCH_WORK/errors.txt"; else echo "none"; fi
  } >"$f"
}

# Bar chart of the medians (min-max as error bars) of some metrics.
bench_chart() {           # PNG TITLE YLABEL METRIC...
  local png=$1 title=$2 ylabel=$3 dat; shift 3
  command -v gnuplot >/dev/null 2>&1 || return 1
  dat="$BENCH_WORK/$(basename "$png" .png).dat"
  : >"$dat"
  local m kmed kmin kmax qmed qmin qmax kn qn any=0
  for m in "$@"; do
    read -r kmed kmin kmax kn < <(stats "$BENCH_WORK/v.$m.kite")
    read -r qmed qmin qmax qn < <(stats "$BENCH_WORK/v.$m.qemu")
    [ "$kn" = 0 ] && [ "$qn" = 0 ] || any=1
    printf '"%s" %s %s %s %s %s %s\n' "$m" "${kmed/-/NaN}" "${kmin/-/NaN}" "${kmax/-/NaN}" \
      "${qmed/-/NaN}" "${qmin/-/NaN}" "${qmax/-/NaN}" >>"$dat"
  done
  if [ $any = 0 ]; then
    echo "no data" >"$BENCH_WORK/gnuplot.log"; rm -f "$png"; return 1
  fi
  local term="pngcairo size 900,520 font 'sans,10'"
  gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 || term="png size 900,520"
  gnuplot >"$BENCH_WORK/gnuplot.log" 2>&1 <<EOF
set terminal $term
set output '$png'
set title "$title"
set ylabel "$ylabel"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set key top left
set datafile missing "NaN"
plot '$dat' using 2:3:4:xtic(1) title 'kite' lc rgb '#2a7fd4', \
     '' using 5:6:7 title 'QEMU microvm' lc rgb '#d4702a', \
     '' using 0:(\$2):(sprintf("%.3g", \$2)) with labels offset -2.5,0.7 notitle, \
     '' using 0:(\$5):(sprintf("%.3g", \$5)) with labels offset 2.5,0.7 notitle
EOF
}

# Note in the report why a chart is missing (gnuplot's first lines).
bench_chart_skipped() {   # PNG-NAME
  echo "$1: skipped: $(grep -v '^[[:space:]]*$' "$BENCH_WORK/gnuplot.log" 2>/dev/null | head -n 2 | tr -s ' \n' ' ' | head -c 200)" \
    >>"$BENCH_WORK/notes.txt"
}

# Line chart of medians (min-max error bars) over an x axis, kite and QEMU:
# one point per X:METRIC argument; a log2 x axis when X spans >= 16x.
bench_curve() {           # PNG TITLE XLABEL YLABEL X:METRIC...
  local png=$1 title=$2 xlabel=$3 ylabel=$4 dat p x m any=0 logx=""; shift 4
  command -v gnuplot >/dev/null 2>&1 || return 1
  dat="$BENCH_WORK/$(basename "$png" .png).dat"
  : >"$dat"
  local kmed kmin kmax kn qmed qmin qmax qn xmin=0 xmax=0 xtics=""
  for p in "$@"; do
    x=${p%%:*}; m=${p#*:}
    read -r kmed kmin kmax kn < <(stats "$BENCH_WORK/v.$m.kite")
    read -r qmed qmin qmax qn < <(stats "$BENCH_WORK/v.$m.qemu")
    [ "$kn" = 0 ] && [ "$qn" = 0 ] || any=1
    [ "$xmin" = 0 ] && xmin=$x
    xmax=$x
    xtics+="${xtics:+, }$x"
    printf '%s %s %s %s %s %s %s\n' "$x" "${kmed/-/NaN}" "${kmin/-/NaN}" "${kmax/-/NaN}" \
      "${qmed/-/NaN}" "${qmin/-/NaN}" "${qmax/-/NaN}" >>"$dat"
  done
  if [ $any = 0 ]; then
    echo "no data" >"$BENCH_WORK/gnuplot.log"; rm -f "$png"; return 1
  fi
  [ $((xmax)) -ge $((xmin * 16)) ] && logx="set logscale x 2"
  local term="pngcairo size 900,520 font 'sans,10'"
  gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 || term="png size 900,520"
  gnuplot >"$BENCH_WORK/gnuplot.log" 2>&1 <<EOG
set terminal $term
set output '$png'
set title "$title"
set xlabel "$xlabel"
set ylabel "$ylabel"
$logx
set xtics ($xtics)
set xrange [$xmin * 0.8:$xmax * 1.25]
set offsets 0, 0, graph 0.1, 0
set grid
set yrange [0:*]
set key below
set datafile missing "NaN"
plot '$dat' using 1:2:3:4 with yerrorlines title 'kite' lc rgb '#2a7fd4' lw 2 pt 7, \
     '' using 1:5:6:7 with yerrorlines title 'QEMU microvm' lc rgb '#d4702a' lw 2 pt 5
EOG
}
