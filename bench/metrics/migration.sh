# SPDX-License-Identifier: MIT
# bench/metrics/migration.sh - live migration over loopback, kite against QEMU
# (sourced by bench/run.sh).
#
# Issue target: total time and downtime of a 1 GiB guest, idle and dirtying
# its memory at 100 MB/s and 1 GB/s; kite's downtime at most half of QEMU's,
# kite's total time no more than QEMU's.  Both sides: the same guest and
# machine options as the other rows (lib.sh's kite_cmd / qemu_cmd), a
# downtime target of MIG_DOWNTIME_MS ms, no bandwidth limit, auto-converge on.
#
# Tasks (each alternates kite/QEMU; one source and one destination VMM per
# run, on 127.0.0.1; every guest also gets tick_us=MIG_TICK_US):
#   mig-1G-idle     test=snapwork mb=1 period_ms=1 dirty_mb_s=0: no page
#                   writes, a line as fast as the serial port allows
#   mig-1G-100MBs   test=snapwork mb=16 period_ms=10 dirty_mb_s=100
#   mig-1G-1GBs     test=snapwork mb=16 period_ms=10 dirty_mb_s=1000 (not in
#                   quick mode)
# snapwork prints "snapwork iter=I ..." after every iteration (page writes
# paced over the period, then a check of its whole buffer) and, with
# tick_us=N, a '.' whenever N us have passed since the last one (between
# page writes, between pages of the check, in the pacing waits; never inside
# a line): the bytes are the heartbeat, the lines prove continuity.  The
# serial output of the source and of the destination VMM goes to one reader,
# bench/tools/stamp_lines -b (real-time priority when chrt works), that
# timestamps every read() that brought bytes and every line as they arrive
# (CLOCK_MONOTONIC), and also a marker written just before the migrate
# request.  From its log:
#   mig-total-*     migrate request -> the first byte from the destination
#   mig-downtime-*  the gap between the last byte from the source and the
#                   first one from the destination (the heartbeat stops and
#                   resumes: the switch-over)
#   mig-vmm-downtime-*  the downtime the VMM reports (kite: its log line
#                   "completed: T ms, downtime D ms", the same figures as GET
#                   /migrate; QEMU: query-migrate "downtime")
# Every run checks that the guest's output continues across the switch
# (iterations consecutive, every line whole, no FAIL: snapwork also checks
# its whole buffer after every iteration) and that the destination keeps
# running.  The notes give the heartbeat interval (the resolution), the
# largest gaps before and after the switch, the guest's real dirty rate
# before and during the migration, and the VMMs' own total times.

MIG_MEM=1024
MIG_DOWNTIME_MS=50
MIG_PRE_MS=500            # heartbeat on the source before migrating
MIG_POST_LINES=25         # lines from the destination before it is stopped
MIG_TIMEOUT_S=120         # one migration
MIG_TICK_US=200           # snapwork tick_us: a '.' every 0.2 ms between lines
MIG_STAMP_US=100          # stamp_lines -i: reads at most every 0.1 ms
declare -A MIG_ARGS=(
  [idle]="mb=1 period_ms=1 dirty_mb_s=0 tick_us=$MIG_TICK_US"
  [100MBs]="mb=16 period_ms=10 dirty_mb_s=100 tick_us=$MIG_TICK_US"
  [1GBs]="mb=16 period_ms=10 dirty_mb_s=1000 tick_us=$MIG_TICK_US"
)
MIG_SCENARIOS=(idle 100MBs 1GBs)
MIG_RT=()                 # chrt -f 10, when it works
MIG_SRC_PID=
MIG_DST_PID=
MIG_STAMP_PID=
MIG_CTL_FD=
MIG_SLEEP_FD=
MIG_DIR=

migration_register() {
  if [ "$BENCH_QUICK" = 1 ]; then
    MIG_MEM=256; MIG_PRE_MS=200; MIG_POST_LINES=10; MIG_TIMEOUT_S=30
    MIG_SCENARIOS=(idle 100MBs)
  fi
  # The heartbeat reader runs at real-time priority when it can: on 2 CPUs
  # the source's vCPU and both VMMs' migration threads would otherwise delay
  # its reads (and so the timestamps) by several ms.
  if command -v chrt >/dev/null 2>&1 && chrt -f 10 true 2>/dev/null; then MIG_RT=(chrt -f 10); fi
  local sc what size
  size=$([ "$MIG_MEM" = 1024 ] && echo "1 GiB" || echo "$MIG_MEM MiB (quick mode)")
  for sc in "${MIG_SCENARIOS[@]}"; do
    case $sc in
      idle) what="idle (no page writes)" ;;
      100MBs) what="writing 100 MB/s" ;;
      1GBs) what="writing 1 GB/s" ;;
    esac
    bench_metric "mig-total-1G-$sc" ms "<= 1x" \
      "live migration of a $size guest $what over loopback, total: from the migrate request to the first serial byte the guest writes on the destination (test=snapwork ${MIG_ARGS[$sc]})"
    bench_metric "mig-downtime-1G-$sc" ms "<= 0.5x" \
      "the same migration, downtime seen by the guest: the gap in its serial heartbeat (a byte at least every ${MIG_TICK_US} us) across the switch: last byte from the source to the first from the destination, both timestamped as they reach the host on one clock (read every ${MIG_STAMP_US} us at most)"
    bench_metric "mig-vmm-downtime-1G-$sc" ms "" \
      "the same migration, downtime as each VMM reports it (kite: pause to the destination running, GET /migrate downtime_ms; QEMU: query-migrate downtime, measured on the source)"
    bench_task "mig-1G-$sc" "migration_${sc}_run"
  done
  BENCH_CLEANUP+=(migration_cleanup)
}
migration_idle_run() { mig_run "$1" idle; }
migration_100MBs_run() { mig_run "$1" 100MBs; }
migration_1GBs_run() { mig_run "$1" 1GBs; }

migration_cleanup() {
  mig_stop_all
  [ -n "$MIG_SLEEP_FD" ] && eval "exec $MIG_SLEEP_FD>&-" 2>/dev/null
  MIG_SLEEP_FD=
  return 0
}

# ---------------------------------------------------------------- helpers
# A builtin sleep (no fork while a migration runs on 2 CPUs).
mig_sleep() {
  if [ -z "$MIG_SLEEP_FD" ]; then exec {MIG_SLEEP_FD}<> <(:) || MIG_SLEEP_FD=; fi
  if [ -n "$MIG_SLEEP_FD" ]; then read -r -t "$1" -u "$MIG_SLEEP_FD" _ 2>/dev/null; else sleep "$1"; fi
  return 0
}

# Stop PID (TERM, then KILL after 5 s).
mig_kill() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 250; i++)); do kill -0 "$pid" 2>/dev/null || break; mig_sleep 0.02; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

mig_stop_all() {
  mig_qmp_close
  mig_kill "$MIG_SRC_PID"; MIG_SRC_PID=
  mig_kill "$MIG_DST_PID"; MIG_DST_PID=
  [ -n "$MIG_CTL_FD" ] && eval "exec $MIG_CTL_FD>&-" 2>/dev/null
  MIG_CTL_FD=
  mig_kill "$MIG_STAMP_PID"; MIG_STAMP_PID=
  return 0
}

# A TCP port nobody listens on (from /proc/net/tcp).
mig_listening() {         # PORT -> status 0 if something listens on it
  awk -v p="$(printf ':%04X' "$1")" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
mig_free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 40000))
    mig_listening "$p" || { echo "$p"; return 0; }
  done
  echo 47111
}

# kite's API: SOCK METHOD PATH [BODY] -> MIG_CODE, the reply in $MIG_DIR/api.body.
mig_api() {
  local args=(-sS --max-time 10 --unix-socket "$1" -X "$2" -o "$MIG_DIR/api.body" -w '%{http_code}')
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  MIG_CODE=$(curl "${args[@]}" "http://localhost$3" 2>"$MIG_DIR/api.err") || MIG_CODE=000
}

# QMP over socat, as a coprocess (the source QEMU's monitor).  mig_qmp JSON
# sends one command and reads up to its reply (MIG_QMP_LINE); events read on
# the way go to $MIG_DIR/qmp.events.
MIG_QMP_IN=
MIG_QMP_OUT=
MIG_QMP_LINE=
mig_qmp_open() {          # SOCK
  local i
  command -v socat >/dev/null || { bench_fail "socat is needed to talk QMP to QEMU (apt-get install -y socat)"; return 1; }
  for ((i = 0; i < 500; i++)); do [ -S "$1" ] && break; mig_sleep 0.02; done
  : >"$MIG_DIR/qmp.events"
  coproc MIG_QMP { exec socat - "UNIX-CONNECT:$1" 2>"$MIG_DIR/qmp.err"; }
  MIG_QMP_IN=${MIG_QMP[0]}; MIG_QMP_OUT=${MIG_QMP[1]}
  if ! read -r -t 10 -u "$MIG_QMP_IN" MIG_QMP_LINE || [[ $MIG_QMP_LINE != *'"QMP"'* ]]; then
    bench_fail "no QMP greeting on $1: $(head -c 200 "$MIG_DIR/qmp.err")"; return 1
  fi
  mig_qmp '{"execute": "qmp_capabilities"}'
}
mig_qmp() {               # JSON
  printf '%s\n' "$1" 1>&"$MIG_QMP_OUT" 2>/dev/null || { bench_fail "QMP: cannot send $1"; return 1; }
  while read -r -t 30 -u "$MIG_QMP_IN" MIG_QMP_LINE; do
    case $MIG_QMP_LINE in
      '{"return"'*) return 0 ;;
      '{"error"'*) bench_fail "QMP: $1: $MIG_QMP_LINE"; return 1 ;;
      *) printf '%s\n' "$MIG_QMP_LINE" >>"$MIG_DIR/qmp.events" ;;
    esac
  done
  bench_fail "QMP: no reply to $1"
  return 1
}
# Until a MIGRATION event says completed (0) or failed/cancelled (1).
mig_qmp_wait_end() {      # TIMEOUT_S
  local line
  while :; do
    line=$(grep -m1 -E '"event": "MIGRATION".*"status": "(completed|failed|cancelled)"' "$MIG_DIR/qmp.events")
    if [ -n "$line" ]; then
      [[ $line == *completed* ]] && return 0
      bench_fail "QEMU migration: $line"; return 1
    fi
    if ! read -r -t "$1" -u "$MIG_QMP_IN" MIG_QMP_LINE; then
      mig_qmp '{"execute": "query-migrate"}'
      bench_fail "QEMU's migration did not end in $1 s: ${MIG_QMP_LINE:0:300}"; return 1
    fi
    printf '%s\n' "$MIG_QMP_LINE" >>"$MIG_DIR/qmp.events"
  done
}
mig_qmp_close() {
  [ -n "${MIG_QMP_PID:-}" ] || return 0
  local pid=$MIG_QMP_PID
  [ -n "$MIG_QMP_OUT" ] && eval "exec $MIG_QMP_OUT>&-" 2>/dev/null
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  MIG_QMP_IN=; MIG_QMP_OUT=
}
# A number member of a JSON line: KEY LINE ("-" if absent).
mig_json_num() {
  local v
  v=$(printf '%s' "$2" | grep -o "\"$1\": *[0-9.]*" | head -n 1 | grep -o '[0-9.]*$')
  echo "${v:--}"
}

# Lines (newline-terminated) that stream NAME has in the log so far.
mig_count() { grep -c " $2 " "$1" 2>/dev/null || true; }

# Until the source has printed heartbeat lines for MIG_PRE_MS (after its
# first one); no process is started while it prints.
mig_wait_pre() {          # LOG
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$MIG_SRC_PID" 2>/dev/null || { bench_fail "the source VM stopped before migrating: $(tail -c 300 "$MIG_DIR/src.err" | tr -c '[:print:]' ' ')"; return 1; }
    grep -qE ' src \.*snapwork iter=' "$1" && break
    mig_sleep 0.05
  done
  if [ "$i" = 600 ]; then
    bench_fail "no heartbeat from the source VM in 30 s (output: $(grep ' src ' "$1" | tail -n 2 | cut -c1-200 | tr -c '[:print:]' ' '))"
    return 1
  fi
  mig_sleep "$(awk -v m="$MIG_PRE_MS" 'BEGIN { printf "%.3f", m / 1000 }')"
  kill -0 "$MIG_SRC_PID" 2>/dev/null || { bench_fail "the source VM stopped before migrating: $(tail -c 300 "$MIG_DIR/src.err" | tr -c '[:print:]' ' ')"; return 1; }
}

mig_wait_listen() {       # PORT
  local i
  for ((i = 0; i < 1000; i++)); do
    mig_listening "$1" && return 0
    kill -0 "$MIG_DST_PID" 2>/dev/null || { bench_fail "the destination VMM stopped before listening: $(tail -c 300 "$MIG_DIR/dst.err" | tr -c '[:print:]' ' ')"; return 1; }
    mig_sleep 0.01
  done
  bench_fail "the destination VMM does not listen on port $1 after 10 s"
  return 1
}

# The log's figures, as key=value words (or error=...).  Byte arrivals (the
# "NAME+ N" records of stamp_lines -b) give the times, lines (leading tick
# dots stripped) the continuity checks and the dirty rates:
#   total_ms gap_ms     migrate marker -> first byte from the destination;
#                       last byte from the source -> first from the destination
#   hb_ms               median interval between byte arrivals from the source
#                       before migrating (the heartbeat's resolution)
#   line_ms             median interval between lines before migrating
#   pre_mbs mig_mbs     page writes (MB/s) before and during the migration:
#                       lines x page writes per iteration x 4 KiB
#   mig_line_ms         mean line interval on the source during the migration
#   precopy_gap_ms      largest gap between byte arrivals from the source
#                       after the marker (during pre-copy)
#   post_gap_ms         largest gap between byte arrivals from the destination
mig_analyze() {           # LOG
  awk '
    function bad(m) { print "error=" m; err = 1; exit }
    function qsort(a, lo, hi,   i, last, x) {
      if (lo >= hi) return
      x = a[lo]; a[lo] = a[int((lo + hi) / 2)]; a[int((lo + hi) / 2)] = x
      last = lo
      for (i = lo + 1; i <= hi; i++)
        if (a[i] < a[lo]) { last++; x = a[last]; a[last] = a[i]; a[i] = x }
      x = a[lo]; a[lo] = a[last]; a[last] = x
      qsort(a, lo, last - 1); qsort(a, last + 1, hi)
    }
    # Median of the intervals between t[from..to].
    function median_iv(t, from, to,   iv, n, i) {
      n = 0
      for (i = from + 1; i <= to; i++) iv[++n] = t[i] - t[i - 1]
      if (!n) return 0
      qsort(iv, 1, n)
      return (n % 2) ? iv[(n + 1) / 2] : (iv[n / 2] + iv[n / 2 + 1]) / 2
    }
    { t = $1; name = $2; text = substr($0, length($1) + length($2) + 3) }
    name == "ctl" { if (text == "migrate") tm = t; next }
    name == "src+" {
      if (fb) bad("bytes from the source after the first bytes from the destination")
      if (!tm) { if (npre) pb[++npb] = t }       # from the first heartbeat line on
      else if (lb >= tm && t - lb > pgap) pgap = t - lb
      lb = t; next
    }
    name == "dst+" {
      if (!fb) fb = t
      else if (t - ldb > dgap) dgap = t - ldb
      ldb = t; next
    }
    name == "src" {
      if (fd) bad("a source line after the first destination line: " substr(text, 1, 80))
      hl = text; sub(/^\.+/, "", hl)
      if (hl ~ /page writes per iteration/)
        for (i = 3; i < NF; i++) if ($(i + 1) == "page" && $(i + 2) == "writes") k = $i
      if (!tm) { if (hl ~ /^snapwork iter=/) pre[++npre] = t }
      else if (hl ~ /^snapwork iter=/) nmig++
      ls = t; line[++nl] = text; next
    }
    name == "src~" { partial = text; next }     # written last, when the reader stops
    name == "dst" {
      if (!fd) { fd = t; fdi = nl + 1 }
      line[++nl] = text; nd++; next
    }
    END {
      if (err) exit 1
      if (!tm) bad("no migrate marker")
      if (!fd) bad("no line from the destination")
      if (!ls) bad("no line from the source")
      if (!fb || !lb) bad("no byte records (stamp_lines -b) from the " (fb ? "source" : "destination"))
      if (npre < 6) bad("only " npre " heartbeat lines before migrating")
      if (npb < 10) bad("only " npb " byte arrivals before migrating")
      line[fdi] = partial line[fdi]     # the line the source began, ended by the destination
      for (i = 1; i <= nl; i++) {
        l = line[i]; sub(/^\.+/, "", l)         # tick_us dots come only before a line
        if (l ~ /FAIL/) bad("guest: " substr(l, 1, 200))
        if (l !~ /snapwork iter=/) continue
        if (l !~ /^snapwork iter=[0-9]+ sum=0x[0-9a-f]+ tsc=[0-9]+$/) bad("broken line: " substr(line[i], 1, 100))
        split(l, w, /[= ]/)
        if (it && w[3] != it + 1) bad("iteration " w[3] " after " it)
        it = w[3]
      }
      hb = median_iv(pb, 1, npb)
      line_iv = median_iv(pre, 4, npre)         # the first 3 lines left out
      pre_mbs = k * 4096 * (npre - 4) / ((pre[npre] - pre[4]) / 1e9) / 1e6
      # during the migration: only when the source printed a line after the request
      mig_mbs = nmig ? sprintf("%.0f", k * 4096 * nmig / ((ls - tm) / 1e9) / 1e6) : "-"
      mig_line = nmig ? sprintf("%.2f", (ls - tm) / 1e6 / nmig) : "-"
      printf "total_ms=%.3f gap_ms=%.3f hb_ms=%.3f line_ms=%.3f pre_mbs=%.0f mig_mbs=%s mig_line_ms=%s precopy_gap_ms=%.3f post_gap_ms=%.3f dst_lines=%d k=%d\n",
        (fb - tm) / 1e6, (fb - lb) / 1e6, hb / 1e6, line_iv / 1e6, pre_mbs, mig_mbs, mig_line,
        pgap / 1e6, dgap / 1e6, nd, k
    }' "$1"
}
mig_mib() { if [ "$1" = - ]; then echo -; else awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; fi; }
mig_kv() { local w; for w in $2; do [ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return; }; done; echo -; }

# ---------------------------------------------------------------- one run
mig_run() {               # SIDE SCENARIO
  local rc
  mig_once "$@"; rc=$?
  mig_stop_all
  return $rc
}

mig_once() {              # SIDE SCENARIO
  local side=$1 sc=$2 task="mig-1G-$2" d port i res vmm_total=- vmm_down=- bytes=- rounds=- thr=- st
  local cmdline="test=snapwork ${MIG_ARGS[$2]}" src_cmd dst_cmd
  d="$BENCH_WORK/mig-$side"
  MIG_DIR=$d
  rm -rf "$d"; mkdir -p "$d" || { bench_fail "cannot create $d"; return 1; }
  mkfifo "$d/src.fifo" "$d/dst.fifo" "$d/ctl.fifo" || { bench_fail "mkfifo failed"; return 1; }
  command -v curl >/dev/null || { bench_fail "curl is needed for kite's API (apt-get install -y curl)"; return 1; }

  # The one reader of both serial outputs (and of the marker).
  "${MIG_RT[@]}" "$STAMP_LINES" -b -i "$MIG_STAMP_US" "$d/hb.log" src="$d/src.fifo" dst="$d/dst.fifo" ctl="$d/ctl.fifo" \
    </dev/null >/dev/null 2>"$d/stamp.err" &
  MIG_STAMP_PID=$!
  for ((i = 0; i < 250; i++)); do [ -e "$d/hb.log" ] && break; mig_sleep 0.02; done
  [ -e "$d/hb.log" ] || { bench_fail "stamp_lines did not start: $(head -c 200 "$d/stamp.err")"; return 1; }
  exec {MIG_CTL_FD}<>"$d/ctl.fifo"

  port=$(mig_free_port)
  side_cmd "$side" "$MIG_MEM" stdio "$cmdline" || { bench_fail "bad command"; return 1; }
  if [ "$side" = kite ]; then
    CMD+=(--api-sock "$d/api.sock" --log-level info)
    src_cmd=$(bench_quote_cmd "${CMD[@]//"$BENCH_WORK/"/}")
  else
    CMD+=(-qmp "unix:$d/qmp.sock,server=on,wait=off")
    src_cmd=$(bench_quote_cmd "${CMD[@]//"$BENCH_WORK/"/}")
  fi
  "${CMD[@]}" </dev/null 1<>"$d/src.fifo" 2>"$d/src.err" &
  MIG_SRC_PID=$!
  if [ "$side" = kite ]; then
    CMD=("$BENCH_KITE" run --log-level info --incoming "tcp:127.0.0.1:$port" --serial stdio)
  else
    qemu_cmd "$MIG_MEM" stdio "$cmdline"
    CMD+=(-incoming "tcp:127.0.0.1:$port")
  fi
  dst_cmd=$(bench_quote_cmd "${CMD[@]//"$BENCH_WORK/"/}")
  if [ "$side" = kite ]; then
    bench_note_text "$task" kite "source: $src_cmd; destination: $dst_cmd; (after ${MIG_PRE_MS} ms of heartbeat) curl --unix-socket mig-kite/api.sock -X PUT http://localhost/migrate -d '{\"destination\":\"tcp:127.0.0.1:PORT\",\"downtime_ms\":$MIG_DOWNTIME_MS}'; wait for the source to exit (status 0); serial outputs of both: stamp_lines"
  else
    bench_note_text "$task" qemu "source: $src_cmd; destination: $dst_cmd; (after ${MIG_PRE_MS} ms of heartbeat, QMP on the source:) migrate-set-capabilities events=on auto-converge=on; migrate-set-parameters downtime-limit=$MIG_DOWNTIME_MS max-bandwidth=1e15; migrate uri=tcp:127.0.0.1:PORT; wait for the MIGRATION event completed; query-migrate; quit; serial outputs of both: stamp_lines"
  fi

  mig_wait_pre "$d/hb.log" || return 1
  "${CMD[@]}" </dev/null 1<>"$d/dst.fifo" 2>"$d/dst.err" &
  MIG_DST_PID=$!
  mig_wait_listen "$port" || return 1

  if [ "$side" = kite ]; then
    printf 'migrate\n' >&"$MIG_CTL_FD"
    mig_api "$d/api.sock" PUT /migrate "{\"destination\":\"tcp:127.0.0.1:$port\",\"downtime_ms\":$MIG_DOWNTIME_MS}"
    [ "$MIG_CODE" = 204 ] || { bench_fail "PUT /migrate: HTTP $MIG_CODE: $(head -c 300 "$d/api.body") $(head -c 200 "$d/api.err")"; return 1; }
    # The source exits (status 0) once the destination runs the guest.
    local deadline=$((SECONDS + MIG_TIMEOUT_S)) n=0
    while kill -0 "$MIG_SRC_PID" 2>/dev/null; do
      n=$((n + 1))
      if [ $((n % 20)) = 0 ] || [ $SECONDS -ge $deadline ]; then
        mig_api "$d/api.sock" GET /migrate
        case $(cat "$d/api.body" 2>/dev/null) in
          *'"state":"Failed"'*|*'"state":"Cancelled"'*)
            bench_fail "kite's migration failed: $(head -c 400 "$d/api.body")"; return 1 ;;
        esac
        if [ $SECONDS -ge $deadline ]; then
          bench_fail "kite's migration did not end in $MIG_TIMEOUT_S s: $(head -c 400 "$d/api.body")"; return 1
        fi
      fi
      mig_sleep 0.05
    done
    wait "$MIG_SRC_PID"; st=$?; MIG_SRC_PID=
    [ "$st" = 0 ] || { bench_fail "the source kite exited with status $st after migrating, expected 0: $(tail -n 3 "$d/src.err" | tr '\n' ' ')"; return 1; }
    res=$(grep -m1 -oE 'completed: [0-9]+ ms, downtime [0-9]+ ms' "$d/src.err")
    [ -n "$res" ] || { bench_fail "no \"completed\" line in the source's log: $(tail -n 3 "$d/src.err" | tr '\n' ' ')"; return 1; }
    vmm_total=$(echo "$res" | awk '{ print $2 }'); vmm_down=$(echo "$res" | awk '{ print $5 }')
    bytes=$(grep -m1 -oE 'incoming migration: [0-9]+ bytes' "$d/dst.err" | awk '{ print $3 }')
    thr=$(grep -oE 'throttled to [0-9]+%' "$d/src.err" | tail -n 1 | grep -oE '[0-9]+')
    thr=${thr:-0}
  else
    mig_qmp_open "$d/qmp.sock" || return 1
    mig_qmp '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events", "state": true}, {"capability": "auto-converge", "state": true}]}}' || return 1
    mig_qmp "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": $MIG_DOWNTIME_MS, \"max-bandwidth\": 1000000000000000}}" || return 1
    printf 'migrate\n' >&"$MIG_CTL_FD"
    mig_qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:$port\"}}" || return 1
    mig_qmp_wait_end "$MIG_TIMEOUT_S" || return 1
    mig_qmp '{"execute": "query-migrate"}' || return 1
    vmm_total=$(mig_json_num total-time "$MIG_QMP_LINE"); vmm_down=$(mig_json_num downtime "$MIG_QMP_LINE")
    bytes=$(mig_json_num transferred "$MIG_QMP_LINE"); rounds=$(mig_json_num dirty-sync-count "$MIG_QMP_LINE")
    thr=$(mig_json_num cpu-throttle-percentage "$MIG_QMP_LINE")
    [ "$vmm_down" != - ] || { bench_fail "query-migrate without downtime: ${MIG_QMP_LINE:0:300}"; return 1; }
    mig_qmp '{"execute": "quit"}'
    mig_qmp_close
    for ((i = 0; i < 500; i++)); do kill -0 "$MIG_SRC_PID" 2>/dev/null || break; mig_sleep 0.01; done
    mig_kill "$MIG_SRC_PID"; MIG_SRC_PID=
  fi

  # The guest must go on running on the destination.
  for ((i = 0; i < 200; i++)); do
    [ "$(mig_count "$d/hb.log" dst)" -ge "$MIG_POST_LINES" ] && break
    kill -0 "$MIG_DST_PID" 2>/dev/null || break
    mig_sleep 0.05
  done
  if ! kill -0 "$MIG_DST_PID" 2>/dev/null; then
    wait "$MIG_DST_PID"; st=$?; MIG_DST_PID=
    bench_fail "the destination VMM stopped (status $st) after $(mig_count "$d/hb.log" dst) lines: $(tail -n 3 "$d/dst.err" | tr '\n' ' ') guest: $(grep ' dst ' "$d/hb.log" | tail -n 2 | cut -c 1-200 | tr '\n' ' ')"
    return 1
  fi
  if [ "$(mig_count "$d/hb.log" dst)" -lt "$MIG_POST_LINES" ]; then
    bench_fail "only $(mig_count "$d/hb.log" dst) lines from the destination in 10 s"; return 1
  fi
  mig_kill "$MIG_DST_PID"; MIG_DST_PID=
  [ -n "$MIG_CTL_FD" ] && eval "exec $MIG_CTL_FD>&-"
  MIG_CTL_FD=
  mig_kill "$MIG_STAMP_PID"; MIG_STAMP_PID=      # writes the unfinished lines

  res=$(mig_analyze "$d/hb.log")
  case $res in
    error=*|"") bench_fail "heartbeat: ${res#error=}"; return 1 ;;
  esac
  bench_record "mig-total-1G-$sc" "$side" "$(mig_kv total_ms "$res")"
  bench_record "mig-downtime-1G-$sc" "$side" "$(mig_kv gap_ms "$res")"
  bench_record "mig-vmm-downtime-1G-$sc" "$side" "$vmm_down"
  [ "${BENCH_WARMUP:-0}" = 1 ] ||
    echo "$res vmm_total=$vmm_total vmm_down=$vmm_down mib=$(mig_mib "${bytes:--}") rounds=$rounds throttle=$thr" >>"$BENCH_WORK/mig-$sc.$side"
  return 0
}

# ---------------------------------------------------------------- report
migration_notes() {
  cat <<NOTES
Live migration (mig-*): a source and a destination VMM on this machine, over TCP on 127.0.0.1, the same guest and machine options as the other rows (1 vCPU, ${MIG_MEM} MiB, -kernel/--kernel, QEMU microvm). kite: the source runs with --api-sock and --log-level info (for its "completed: T ms, downtime D ms" line: the source exits as soon as the migration completed, often before GET /migrate could be asked), the destination is kite run --incoming tcp:127.0.0.1:PORT --serial stdio (the machine comes from the stream); PUT /migrate {"destination": ..., "downtime_ms": $MIG_DOWNTIME_MS} (auto_converge on by default). QEMU 7.2: the destination is the source's command line plus -incoming tcp:127.0.0.1:PORT; QMP migrate-set-capabilities events + auto-converge (on, as kite's default), migrate-set-parameters downtime-limit $MIG_DOWNTIME_MS and max-bandwidth unlimited (QEMU's default is 128 MiB/s; kite has no limit), then migrate.
mig-*: the guest is test=snapwork (mb= MiB buffer, page writes paced over period_ms, then a check of the whole buffer, then one line "snapwork iter=I sum=... tsc=T" on the serial port; dirty_mb_s=0: no page writes) with tick_us=$MIG_TICK_US: besides its lines it writes one '.' to the serial port whenever $MIG_TICK_US us have passed since the last one, checked between page writes, between pages of the buffer check and in the pacing waits (never inside a line), so while it runs its serial output never stops for much longer than $MIG_TICK_US us. A tick is one port exit (~31-34 us on either VMM here, measured with snapwork's own count: ~13% of the guest's time at this interval); a line is ~55 bytes, one exit each (~2 ms). Both VMMs' stdout (serial) and a marker written just before the migrate request go to one reader, bench/tools/stamp_lines -b$([ ${#MIG_RT[@]} -gt 0 ] && echo " at real-time priority (chrt -f 10)" || echo " (normal priority: chrt did not work)"), that timestamps (CLOCK_MONOTONIC) every read() that brought bytes and every line end; it reads at most every $MIG_STAMP_US us (-i: both VMMs write the serial output one byte at a time, and a wake-up per byte would take CPU from the guest), so a time is late by at most about that much. downtime = the arrival of the last byte from the source -> the arrival of the first byte from the destination; total = marker -> the first byte from the destination. Both are measured the same way for both VMMs, with the same guest and reader, and exceed the guest's real pause by at most about one tick interval plus one read interval ($MIG_TICK_US + $MIG_STAMP_US us; the notes below give the measured interval between byte arrivals before migrating, the heartbeat's resolution). The lines prove continuity: each run checks (leading dots stripped) that the iterations continue across the switch (consecutive, every line whole, no FAIL; snapwork checks its whole buffer every iteration, so a lost page would FAIL) and that the destination runs on for $MIG_POST_LINES lines.
mig-*: the working set is the snapwork buffer (mb=): at 1 GB/s a 16 MiB buffer is rewritten every ~16 ms, so a pre-copy round never finds more than 16 MiB dirty. A larger buffer would make a real 1 GB/s stream of distinct pages but stretch the time between two lines (the guest checks its whole buffer between two lines: ~1.5 ms per 16 MiB) and so the continuity check's grain (the ticks keep the heartbeat at tick_us either way). During the migration both VMMs write-protect the guest's memory (KVM dirty logging): every first write to a page after each sync faults, so the guest dirties less than its target while migrating (the notes give the measured rates).
mig-vmm-downtime-*: what each VMM reports; the definitions differ: kite from pausing the source to the destination's confirmation that the guest runs (source-side); QEMU's query-migrate downtime runs from stopping the source to the end of the stream on the source, without the destination's loading and start. The heartbeat rows measure both the same way.
Asymmetries: kite's destination takes no machine options (they come from the stream), QEMU's needs the same command line; kite skips zero pages (a fresh destination is zero), QEMU sends a marker per zero page; both run pre-copy with auto-converge (kite: 20% + 10% steps when the dirty set shrinks by less than a quarter; QEMU: 20% + 10% steps when the guest dirties more than half of what was sent); this machine has 2 CPUs for the source vCPU, both VMMs' migration threads and the reader.
NOTES
}

migration_results_notes() {
  local sc side f out k
  for sc in "${MIG_SCENARIOS[@]}"; do
    for side in kite qemu; do
      f="$BENCH_WORK/mig-$sc.$side"
      [ -s "$f" ] || continue
      out=
      for k in hb_ms line_ms pre_mbs mig_mbs mig_line_ms precopy_gap_ms post_gap_ms vmm_total vmm_down mib rounds throttle; do
        awk -v k="$k" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { v = substr($i, length(k) + 2); if (v != "-") print v } }' "$f" >"$f.t"
        out+=" $k=$(stats "$f.t" | awk '{ print ($4 == 0) ? "-" : $1 }')"
      done
      awk -v sc="$sc" -v side="$side" -v n="$(wc -l <"$f")" -v a="${MIG_ARGS[$sc]}" -v o="$out" 'BEGIN {
        split(o, w, " "); for (i in w) { split(w[i], p, "="); v[p[1]] = p[2] }
        printf "mig-1G-%s %s (medians of %d runs; %s): heartbeat (serial bytes reaching the reader) every %s ms before migrating, a line every %s ms; guest page writes %s MB/s before, %s MB/s during the migration (a line every %s ms); largest heartbeat gap during pre-copy %s ms, on the destination after the switch %s ms; VMM-reported total %s ms, downtime %s ms; %s MiB sent%s; vCPU throttle at the end %s%%\n",
          sc, side, n, a, v["hb_ms"], v["line_ms"], v["pre_mbs"], v["mig_mbs"], v["mig_line_ms"], v["precopy_gap_ms"], v["post_gap_ms"],
          v["vmm_total"], v["vmm_down"], v["mib"], (v["rounds"] != "-" ? ", " v["rounds"] " dirty syncs" : ""), v["throttle"] }'
    done
  done
  if ls "$BENCH_WORK"/mig-*.kite "$BENCH_WORK"/mig-*.qemu >/dev/null 2>&1; then
    echo "mig-*: host load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (a migration keeps both busy: the source's vCPU spins between its page-write slices, the VMMs' migration threads copy)."
  fi
  return 0
}

migration_charts() {
  local args=() sc
  for sc in "${MIG_SCENARIOS[@]}"; do args+=("mig-downtime-1G-$sc"); done
  if bench_chart "$BENCH_OUT/migration-downtime.png" "Live migration downtime seen by the guest (heartbeat gap), 1 GiB guest (median, min-max bars)" \
      "milliseconds" "${args[@]}"; then
    CHARTS+=(migration-downtime.png)
  else
    bench_chart_skipped migration-downtime.png
  fi
  args=()
  for sc in "${MIG_SCENARIOS[@]}"; do args+=("mig-total-1G-$sc"); done
  if bench_chart "$BENCH_OUT/migration-total.png" "Live migration total time, 1 GiB guest (median, min-max bars)" \
      "milliseconds" "${args[@]}"; then
    CHARTS+=(migration-total.png)
  else
    bench_chart_skipped migration-total.png
  fi
}
