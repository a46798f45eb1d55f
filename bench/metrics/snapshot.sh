# SPDX-License-Identifier: MIT
# bench/metrics/snapshot.sh - snapshot create and restore (sourced by bench/run.sh).
#
# Issue targets: restore to running of a 256 MiB and of a 4 GiB guest <= 10 ms
# median, independent of memory size; create of a 256 MiB guest limited by
# the disk.  QEMU 7.2 side by side: migration to a file ("exec:cat > FILE":
# 7.2 has no file: URI) and -incoming "exec:cat FILE".
#
# Tasks (each alternates kite/QEMU):
#   snap-create-256M   a fresh 256 MiB guest per run that wrote 200 MiB of its
#                      RAM (test=snapwork mb=200; 32 in quick mode), paused after
#                      its first iteration; timed: kite PUT /snapshot/create (curl's
#                      time_total; kite fsyncs both files before it answers);
#                      QEMU, after QMP stop: migrate until the MIGRATION event
#                      "completed", plus an fsync of the file (sync -d)
#   snap-restore-256M  exec -> the first serial byte of the restored guest:
#   snap-restore-4G    kite run --restore SNAP --resume; QEMU -incoming
#                      "exec:cat FILE" (starts running by itself: the state was
#                      migrated from a running guest).  The guest (test=snapwork
#                      mb=1 period_ms=1 dirty_mb_s=4) touches ~1 MiB of RAM
#                      whatever the RAM size and prints a line every ~2.5 ms; its
#                      snapshot is made once per side and size.  The restored
#                      output must continue the source's exactly (iterations
#                      1, 2, ... without a gap or a repeat) and end in PASS.
# All files live in one folder on disk (not tmpfs) and are warm in the page
# cache (just written); the notes give the disk's write speed, the sizes and
# the page-cache state.

SNAP_DIR=                 # snapshot files (on disk)
SNAP_DIR_OWN=0            # 1: SNAP_DIR is ours to remove (outside BENCH_WORK)
SNAP_CREATE_MB=200
SNAP_ITERS=400            # iterations of the restore scenario's guest (~2.5 ms each): a source
                          # must snapshot before half of them, which QEMU's 4 GiB
                          # migration to a file under CI load could miss at 200
SNAP_RESTORE_ARGS="mb=1 period_ms=1 dirty_mb_s=4"
SNAP_PID=                 # the source VM running now
SNAP_DISK_NOTE=

snapshot_register() {
  [ "$BENCH_QUICK" = 1 ] && SNAP_CREATE_MB=32
  bench_metric snap-create-256M ms "" \
    "write a full snapshot of a paused 256 MiB guest that wrote $SNAP_CREATE_MB MiB of its RAM, to files on disk, fsync included (kite: PUT /snapshot/create; QEMU: migrate to exec:cat > FILE, then fsync)"
  bench_metric snap-restore-256M ms "<= 10" \
    "restore to running: exec to the first serial byte the restored 256 MiB guest writes (kite run --restore --resume; QEMU -incoming exec:cat FILE), page cache warm"
  bench_metric snap-restore-4G ms "<= 10" \
    "the same, 4 GiB guest, same touched memory (~1 MiB of data): restore must not grow with RAM size"
  bench_task snap-create-256M snapshot_create_run
  bench_task snap-restore-256M snapshot_restore_256M_run
  bench_task snap-restore-4G snapshot_restore_4G_run
  BENCH_CLEANUP+=(snapshot_cleanup)
}

snapshot_cleanup() {
  snap_src_stop
  [ "$SNAP_DIR_OWN" = 1 ] && [ -n "$SNAP_DIR" ] && rm -rf "$SNAP_DIR"
  return 0
}

# ---------------------------------------------------------------- helpers
# The folder for the files: BENCH_WORK unless that is in memory.
snap_dir() {
  [ -n "$SNAP_DIR" ] && return 0
  local fs
  fs=$(stat -f -c %T "$BENCH_WORK" 2>/dev/null)
  if [ "$fs" = tmpfs ] || [ "$fs" = ramfs ]; then
    mkdir -p "$TOOLS_DIR" && SNAP_DIR=$(mktemp -d "$TOOLS_DIR/snap.XXXXXX") || {
      bench_fail "$BENCH_WORK is on $fs and no folder could be made in $TOOLS_DIR"; return 1; }
    SNAP_DIR_OWN=1
  else
    SNAP_DIR="$BENCH_WORK/snap"
    mkdir -p "$SNAP_DIR" || { bench_fail "cannot create $SNAP_DIR"; return 1; }
  fi
  # The paths go into QEMU's exec: URIs (sh -c) and into JSON unquoted.
  if ! [[ $SNAP_DIR =~ ^[A-Za-z0-9_./-]+$ ]]; then
    bench_fail "snapshot folder $SNAP_DIR: only letters, digits and _ . / - please (set TMPDIR)"
    SNAP_DIR=; return 1
  fi
}

# seconds (EPOCHREALTIME) A B -> (B - A) in ms
snap_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) * 1000 }'; }

# The disk's sequential write speed in SNAP_DIR (dd, buffered + fsync: what
# both VMMs do), 3 times, once per bench run.
snap_disk_speed() {
  [ -n "$SNAP_DISK_NOTE" ] && return 0
  local mib=256 t0 t1 fs i med lo hi
  [ "$BENCH_QUICK" = 1 ] && mib=64
  fs=$(stat -f -c %T "$SNAP_DIR" 2>/dev/null)
  : >"$BENCH_WORK/snap-dd.t"
  for i in 1 2 3; do
    t0=$EPOCHREALTIME
    dd if=/dev/zero of="$SNAP_DIR/dd.tmp" bs=1M count=$mib conv=fsync status=none 2>/dev/null || break
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" -v m=$mib 'BEGIN { printf "%.0f\n", m * 1048576 / 1e6 / (b - a) }' >>"$BENCH_WORK/snap-dd.t"
    rm -f "$SNAP_DIR/dd.tmp"
  done
  rm -f "$SNAP_DIR/dd.tmp"
  if [ "$(wc -l <"$BENCH_WORK/snap-dd.t")" = 3 ]; then
    read -r med lo hi _ < <(stats "$BENCH_WORK/snap-dd.t")
    SNAP_DISK_NOTE="disk sequential write speed in the snapshot folder ($fs): median $med MB/s, $lo-$hi over 3 runs of dd if=/dev/zero bs=1M count=$mib conv=fsync"
  else
    SNAP_DISK_NOTE="disk sequential write speed: dd to $SNAP_DIR failed"
  fi
}

# Start a source VM in the background: SIDE MEM_MIB CMDLINE SOCK OUT.  kite
# gets --api-sock SOCK, QEMU -qmp on SOCK; the serial output goes to OUT.
# Sets SNAP_PID and CMD (the command line).
snap_src_start() {
  local side=$1 mem=$2 cmdline=$3 sock=$4 out=$5
  side_cmd "$side" "$mem" stdio "$cmdline" || return 1
  if [ "$side" = kite ]; then CMD+=(--api-sock "$sock"); else CMD+=(-qmp "unix:$sock,server=on,wait=off"); fi
  rm -f "$sock"
  SP_ERR="$BENCH_WORK/snap-src.err"
  "${CMD[@]}" </dev/null >"$out" 2>"$SP_ERR" &
  SNAP_PID=$!
}

snap_src_stop() {
  [ -n "$SNAP_PID" ] || { snap_qmp_close; return 0; }
  local i
  kill -TERM "$SNAP_PID" 2>/dev/null
  for ((i = 0; i < 250; i++)); do kill -0 "$SNAP_PID" 2>/dev/null || break; sleep 0.02; done
  kill -KILL "$SNAP_PID" 2>/dev/null
  wait "$SNAP_PID" 2>/dev/null
  SNAP_PID=
  snap_qmp_close
}

# Until FILE holds a complete "snapwork iter=" line (SECONDS), while the source runs.
snap_wait_iter() {        # FILE SECONDS
  local i n=$(($2 * 50))
  for ((i = 0; i < n; i++)); do
    grep -aqE 'snapwork iter=[0-9]+ sum=0x[0-9a-f]+ tsc=[0-9]+' "$1" 2>/dev/null && return 0
    kill -0 "$SNAP_PID" 2>/dev/null || { bench_fail "the source VM stopped before its first iteration"; return 1; }
    sleep 0.02
  done
  bench_fail "no snapwork iteration from the source VM in $2 s (output: $(tail -c 120 "$1" | tr -c '[:print:]' ' '))"
  return 1
}

# The last complete iteration number in FILE (0 if none).
snap_last_iter() {
  { grep -aoE 'snapwork iter=[0-9]+ sum=0x[0-9a-f]+ tsc=[0-9]+' "$1" 2>/dev/null || true; } |
    tail -n 1 | sed -E 's/snapwork iter=([0-9]+).*/\1/; s/^$/0/'
}

# kite's API: SOCK METHOD PATH [BODY] -> SNAP_CODE, SNAP_TIME (curl's
# time_total, seconds), the reply in $BENCH_WORK/snap-api.body.
snap_api() {
  command -v curl >/dev/null || { SNAP_CODE=000; echo "curl is needed for kite's API (apt-get install -y curl)" >"$BENCH_WORK/snap-api.err"; : >"$BENCH_WORK/snap-api.body"; return; }
  local args=(-sS --max-time 120 --unix-socket "$1" -X "$2" -o "$BENCH_WORK/snap-api.body"
              -w '%{http_code} %{time_total}')
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  SNAP_CODE=000; SNAP_TIME=
  read -r SNAP_CODE SNAP_TIME < <(curl "${args[@]}" "http://localhost$3" 2>"$BENCH_WORK/snap-api.err")
}
snap_api_expect() {       # CODE WHAT
  [ "$SNAP_CODE" = "$1" ] && return 0
  bench_fail "$2: HTTP $SNAP_CODE, expected $1: $(head -c 200 "$BENCH_WORK/snap-api.body" 2>/dev/null) $(head -c 200 "$BENCH_WORK/snap-api.err")"
  return 1
}

# QMP over socat, as a coprocess.  snap_qmp JSON sends one command and reads up
# to its reply (SNAP_QMP_LINE); events read on the way are appended, with the
# time they were read (EPOCHREALTIME), to $BENCH_WORK/snap-qmp.events.
SNAP_QMP_IN=
SNAP_QMP_OUT=
SNAP_QMP_LINE=
snap_qmp_open() {         # SOCK
  local i
  command -v socat >/dev/null || { bench_fail "socat is needed to talk QMP to QEMU (apt-get install -y socat)"; return 1; }
  for ((i = 0; i < 500; i++)); do [ -S "$1" ] && break; sleep 0.02; done
  : >"$BENCH_WORK/snap-qmp.events"
  coproc SNAP_QMP { exec socat - "UNIX-CONNECT:$1" 2>"$BENCH_WORK/snap-qmp.err"; }
  SNAP_QMP_IN=${SNAP_QMP[0]}; SNAP_QMP_OUT=${SNAP_QMP[1]}
  if ! read -r -t 10 -u "$SNAP_QMP_IN" SNAP_QMP_LINE || [[ $SNAP_QMP_LINE != *'"QMP"'* ]]; then
    bench_fail "no QMP greeting on $1: $(head -c 200 "$BENCH_WORK/snap-qmp.err")"; return 1
  fi
  snap_qmp '{"execute": "qmp_capabilities"}'
}
snap_qmp() {              # JSON
  printf '%s\n' "$1" 1>&"$SNAP_QMP_OUT" 2>/dev/null || { bench_fail "QMP: cannot send $1"; return 1; }
  while read -r -t 60 -u "$SNAP_QMP_IN" SNAP_QMP_LINE; do
    case $SNAP_QMP_LINE in
      '{"return"'*) return 0 ;;
      '{"error"'*) bench_fail "QMP: $1: $SNAP_QMP_LINE"; return 1 ;;
      *) printf '%s %s\n' "$EPOCHREALTIME" "$SNAP_QMP_LINE" >>"$BENCH_WORK/snap-qmp.events" ;;
    esac
  done
  bench_fail "QMP: no reply to $1"
  return 1
}
# Until a MIGRATION event with status completed (or failed) was read; its
# read time in SNAP_QMP_T.
snap_qmp_migration_end() {
  local line
  SNAP_QMP_T=
  while :; do
    line=$(grep -m1 -E '"event": "MIGRATION".*"status": "(completed|failed|cancelled)"' "$BENCH_WORK/snap-qmp.events")
    if [ -n "$line" ]; then
      SNAP_QMP_T=${line%% *}
      [[ $line == *completed* ]] && return 0
      bench_fail "QEMU migration: $line"; return 1
    fi
    read -r -t 120 -u "$SNAP_QMP_IN" SNAP_QMP_LINE || { bench_fail "QMP: no end of migration"; return 1; }
    printf '%s %s\n' "$EPOCHREALTIME" "$SNAP_QMP_LINE" >>"$BENCH_WORK/snap-qmp.events"
  done
}
snap_qmp_close() {
  [ -n "${SNAP_QMP_PID:-}" ] || return 0
  local pid=$SNAP_QMP_PID
  [ -n "$SNAP_QMP_OUT" ] && eval "exec $SNAP_QMP_OUT>&-" 2>/dev/null
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  SNAP_QMP_IN=; SNAP_QMP_OUT=
}

# QEMU: migrate to FILE ("exec:cat > FILE", then a marker FILE.done once cat
# has written everything), no bandwidth limit (QEMU's default is 128 MiB/s;
# savevm has none); waits for the end.  Sets SNAP_T0 (before the command),
# SNAP_QMP_T (completed read).
snap_qemu_migrate() {     # FILE
  snap_qmp '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events", "state": true}]}}' || return 1
  snap_qmp '{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 1000000000000000}}' || return 1
  rm -f "$1" "$1.done"
  SNAP_T0=$EPOCHREALTIME
  snap_qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > $1 && touch $1.done\"}}" || return 1
  snap_qmp_migration_end || return 1
}
snap_wait_file() {        # FILE SECONDS
  local i n=$(($2 * 500))
  for ((i = 0; i < n; i++)); do [ -e "$1" ] && return 0; sleep 0.002; done
  bench_fail "$1 did not appear in $2 s"
  return 1
}

# ---------------------------------------------------------------- create
snapshot_create_run() {   # SIDE
  snap_dir || return 1
  snap_disk_speed
  local rc
  snap_create_once "$1"; rc=$?
  snap_src_stop
  return $rc
}

snap_create_once() {      # SIDE
  local side=$1 d="$SNAP_DIR/create-$1" task=snap-create-256M t1 ms fs_ms bytes
  rm -rf "$d"; mkdir -p "$d" || { bench_fail "cannot create $d"; return 1; }
  snap_src_start "$side" 256 "test=snapwork mb=$SNAP_CREATE_MB period_ms=100" "$d/ctl.sock" "$d/src.out" || {
    bench_fail "bad command"; return 1; }
  snap_wait_iter "$d/src.out" 30 || return 1
  if [ "$side" = kite ]; then
    bench_note_text "$task" kite "$(bench_quote_cmd "${CMD[@]//"$BENCH_WORK/"/}") & (after its first iteration:) curl --unix-socket ${d#"$BENCH_WORK/"}/ctl.sock -X PATCH http://localhost/vm -d '{\"state\":\"Paused\"}'; timed: curl --unix-socket ... -X PUT http://localhost/snapshot/create -d '{\"snapshot_path\":\"vm.snap\",\"mem_file_path\":\"vm.mem\",\"snapshot_type\":\"Full\"}' (time_total)"
    snap_api "$d/ctl.sock" PATCH /vm '{"state":"Paused"}'
    snap_api_expect 204 "pause" || return 1
    snap_api "$d/ctl.sock" PUT /snapshot/create \
      "{\"snapshot_path\":\"$d/vm.snap\",\"mem_file_path\":\"$d/vm.mem\",\"snapshot_type\":\"Full\"}"
    snap_api_expect 204 "snapshot create" || return 1
    [ -s "$d/vm.snap" ] && [ -s "$d/vm.mem" ] || { bench_fail "no vm.snap / vm.mem after a 204"; return 1; }
    ms=$(awk -v s="$SNAP_TIME" 'BEGIN { printf "%.3f", s * 1000 }')
    bytes=$(( $(stat -c '%b * %B' "$d/vm.mem") + $(stat -c %s "$d/vm.snap") ))
    [ "${BENCH_WARMUP:-0}" = 1 ] || echo "$ms $bytes" >>"$BENCH_WORK/snap-create.kite"
  else
    bench_note_text "$task" qemu "$(bench_quote_cmd "${CMD[@]//"$BENCH_WORK/"/}") & (after its first iteration, QMP:) stop; migrate-set-capabilities events=on; migrate-set-parameters max-bandwidth=1e15; timed: migrate uri=\"exec:cat > vm.mig && touch vm.mig.done\" until the MIGRATION event completed, + sync -d vm.mig"
    snap_qmp_open "$d/ctl.sock" || return 1
    snap_qmp '{"execute": "stop"}' || return 1
    snap_qemu_migrate "$d/vm.mig" || return 1
    snap_qmp '{"execute": "query-migrate"}'
    local total=${SNAP_QMP_LINE#*\"total-time\": }
    total=${total%%[,\}]*}
    snap_wait_file "$d/vm.mig.done" 30 || return 1
    local s0=$EPOCHREALTIME
    sync -d "$d/vm.mig" || { bench_fail "sync -d $d/vm.mig failed"; return 1; }
    t1=$EPOCHREALTIME
    fs_ms=$(snap_ms "$s0" "$t1")
    ms=$(awk -v a="$(snap_ms "$SNAP_T0" "$SNAP_QMP_T")" -v b="$fs_ms" 'BEGIN { printf "%.3f", a + b }')
    bytes=$(stat -c %s "$d/vm.mig")
    [ "$bytes" -gt $((SNAP_CREATE_MB << 20)) ] || { bench_fail "vm.mig is only $bytes bytes"; return 1; }
    [ "${BENCH_WARMUP:-0}" = 1 ] || echo "$ms $bytes ${total:--} $fs_ms" >>"$BENCH_WORK/snap-create.qemu"
  fi
  bench_record "$task" "$side" "$ms"
  rm -f "$d/vm.mem" "$d/vm.snap" "$d/vm.mig"
}

# ---------------------------------------------------------------- restore
# The snapshot a restore task starts from, made once per side and size:
# $SNAP_DIR/restore-SIDE-MEM/{vm.snap,vm.mem | vm.mig} and at-snap.out (the
# source's serial output up to the snapshot).  A source that ran too far (the
# restored guest would have little left to do) is tried again.
snap_restore_src() {      # SIDE MEM_MIB SUFFIX
  local side=$1 mem=$2 sfx=$3 d="$SNAP_DIR/restore-$1-$2" rc last

  [ -f "$d/ok" ] && return 0
  rm -rf "$d"; mkdir -p "$d" || { bench_fail "cannot create $d"; return 1; }
  for _ in 1 2 3; do
    snap_restore_src_once "$side" "$mem" "$d"; rc=$?
    snap_src_stop
    [ $rc = 0 ] || return 1
    last=$(snap_last_iter "$d/at-snap.out")
    if [ "$last" -le $((SNAP_ITERS / 2)) ]; then
      {
        printf 'restore-%s %s: snapshot taken at iteration %s of %s; ' "$sfx" "$side" "$last" "$SNAP_ITERS"
        if [ "$side" = kite ]; then
          echo "vm.snap $(stat -c %s "$d/vm.snap") B ($(snap_cached "$d/vm.snap") in the page cache), vm.mem $(( $(stat -c %s "$d/vm.mem") >> 20 )) MiB long, $(( $(stat -c '%b * %B' "$d/vm.mem") >> 10 )) KiB allocated ($(snap_cached "$d/vm.mem") in the page cache)"
        else
          echo "vm.mig $(( $(stat -c %s "$d/vm.mig") >> 10 )) KiB ($(snap_cached "$d/vm.mig") in the page cache)"
        fi
      } >>"$BENCH_WORK/snap-restore.info"
      : >"$d/ok"
      return 0
    fi
  done
  bench_fail "the source VM ran to iteration $last of $SNAP_ITERS before its snapshot, 3 times"
  return 1
}

snap_restore_src_once() { # SIDE MEM_MIB DIR
  local side=$1 mem=$2 d=$3
  rm -f "$d"/vm.* "$d/at-snap.out"
  snap_src_start "$side" "$mem" "test=snapwork $SNAP_RESTORE_ARGS iters=$SNAP_ITERS" "$d/ctl.sock" "$d/src.out" || {
    bench_fail "bad command"; return 1; }
  snap_wait_iter "$d/src.out" 30 || return 1
  if [ "$side" = kite ]; then
    snap_api "$d/ctl.sock" PATCH /vm '{"state":"Paused"}'
    snap_api_expect 204 "pause" || return 1
    snap_api "$d/ctl.sock" PUT /snapshot/create \
      "{\"snapshot_path\":\"$d/vm.snap\",\"mem_file_path\":\"$d/vm.mem\",\"snapshot_type\":\"Full\"}"
    snap_api_expect 204 "snapshot create" || return 1
  else
    # Migrated while running, so that the incoming side starts running by
    # itself when the state is in (QEMU keeps a paused source's run state).
    snap_qmp_open "$d/ctl.sock" || return 1
    snap_qemu_migrate "$d/vm.mig" || return 1
    snap_qmp '{"execute": "query-status"}' || return 1
    [[ $SNAP_QMP_LINE == *postmigrate* ]] || { bench_fail "QEMU source after migration: $SNAP_QMP_LINE"; return 1; }
    snap_wait_file "$d/vm.mig.done" 30 || return 1
  fi
  cp "$d/src.out" "$d/at-snap.out"
}

# How much of FILE is in the page cache (fincore, util-linux).
snap_cached() {
  local b
  b=$(fincore -b -n -o RES "$1" 2>/dev/null) && [ -n "$b" ] || { echo "unknown"; return; }
  echo "$((b >> 10)) KiB"
}

# Are the iterations in FILE... (concatenated) 1, 2, ... SNAP_ITERS, each
# line whole, and is there a PASS at the end?  Prints why not.
snap_continuous() {
  cat "$@" | tr -d '\r' | awk -v want="$SNAP_ITERS" '
    /snapwork iter=/ {
      if ($0 !~ /^snapwork iter=[0-9]+ sum=0x[0-9a-f]+ tsc=[0-9]+$/) { print "broken line: " substr($0, 1, 100); bad = 1; exit }
      split($2, a, "="); n++
      if (a[2] != n) { print "iteration " a[2] " where " n " was due"; bad = 1; exit }
    }
    /PASS/ { pass = 1 }
    /FAIL/ { print "guest: " substr($0, 1, 200); bad = 1; exit }
    END {
      if (bad) exit 1
      if (n != want) { print n " iterations, want " want; exit 1 }
      if (!pass) { print "no PASS"; exit 1 }
    }'
}

snapshot_restore_run() {  # SIDE MEM_MIB SUFFIX
  local side=$1 mem=$2 task="snap-restore-$3" d why
  snap_dir || return 1
  snap_restore_src "$side" "$mem" "$3" || return 1
  d="$SNAP_DIR/restore-$side-$mem"
  if [ "$side" = kite ]; then
    CMD=("$BENCH_KITE" run --restore "$d/vm.snap" --resume --serial stdio)
  else
    qemu_cmd "$mem" stdio "test=snapwork $SNAP_RESTORE_ARGS iters=$SNAP_ITERS"
    CMD+=(-incoming "exec:cat $d/vm.mig")
  fi
  bench_note_cmd "$task" "$side" "${CMD[@]//"$BENCH_WORK/"/}"
  bench_spawn -m first-byte -c "$d/restored.out" -- "${CMD[@]}" || { bench_fail "spawn_time failed"; return 1; }
  bench_expect_status exit:1 || return 1
  [ "$SP_FIRST_NS" -ge 0 ] || { bench_fail "no output on stdout"; return 1; }
  if ! why=$(snap_continuous "$d/at-snap.out" "$d/restored.out"); then
    bench_fail "the restored guest does not continue the source's output: $why"; return 1
  fi
  bench_record "$task" "$side" "$(ns_to_ms "$SP_FIRST_NS")"
}
snapshot_restore_256M_run() { snapshot_restore_run "$1" 256 256M; }
snapshot_restore_4G_run() { snapshot_restore_run "$1" 4096 4G; }

# ---------------------------------------------------------------- report
snapshot_notes() {
  cat <<NOTES
Snapshots (snap-*): the same guest and machine as the other rows (1 vCPU, -kernel/--kernel, QEMU microvm with the options above), files in one folder on the local disk (not tmpfs); every file is read back from the page cache (just written: warm), never from the disk.
snap-create-256M: each run boots a fresh 256 MiB guest (test=snapwork mb=$SNAP_CREATE_MB period_ms=100: it fills $SNAP_CREATE_MB MiB of RAM with pseudo-random data, then works 1 MiB per 100 ms), pauses it after its first iteration (kite: PATCH /vm Paused; QEMU: QMP stop; not timed) and times the snapshot. kite: curl's time_total of PUT /snapshot/create (kite writes vm.mem sparse, vm.snap, fsyncs both and the folder before it answers). QEMU: from sending migrate (uri exec:cat > FILE; QEMU 7.2 has neither a file: URI nor savevm without a qcow2 disk) to reading the MIGRATION completed event, plus the time of sync -d FILE afterwards (QEMU does not fsync; kite does), with max-bandwidth raised from QEMU's default 128 MiB/s to unlimited (savevm is not rate-limited either). QEMU's stream skips zero pages like kite's sparse file does.
snap-restore-*: kite run --restore vm.snap --resume --serial stdio; QEMU: the same command line as the source plus -incoming "exec:cat FILE". Timed by spawn_time from exec to the first byte on stdout; neither VMM replays old serial output, so that byte is written by the guest after it resumed (checked: the source's output up to the snapshot followed by the restored output must be iterations 1..$SNAP_ITERS without a gap, a repeat or a broken line, then PASS, exit status 1). The guest (test=snapwork $SNAP_RESTORE_ARGS iters=$SNAP_ITERS) writes ~1 MiB (about 1.2 MiB of data in the snapshot with the image) whatever the RAM size and prints a line every ~2.5 ms, so the first byte comes at most ~2.5 ms after the guest runs again (usually at once: its deadline passed while it was stopped).
Asymmetries in restore, not removable: kite maps the memory file copy-on-write and loads pages when the guest touches them (the cost of the pages the guest touches after resuming is paid later, by the guest); QEMU reads the whole stream (every page, a marker for zero pages) into fresh anonymous memory before it runs the guest. QEMU's file comes from migrating the running guest (a migration of a stopped guest restores stopped and would need a QMP cont), kite's from a paused VM; the CPU and device state saved is the same in kind.
NOTES
}

snapshot_results_notes() {
  [ -n "$SNAP_DISK_NOTE" ] && echo "snap-create-256M: $SNAP_DISK_NOTE."
  local f=$BENCH_WORK/snap-create m b
  if [ -s "$f.kite" ]; then
    cut -d' ' -f1 "$f.kite" >"$f.t"; m=$(stats "$f.t"); m=${m%% *}; b=$(tail -n 1 "$f.kite" | cut -d' ' -f2)
    awk -v m="$m" -v b="$b" 'BEGIN { printf "snap-create-256M kite: %.1f MiB written per snapshot (vm.mem allocated + vm.snap), %.0f MB/s at the median time\n", b / 1048576, b / 1e6 / (m / 1000) }'
  fi
  if [ -s "$f.qemu" ]; then
    local tt fs
    cut -d' ' -f1 "$f.qemu" >"$f.t"; m=$(stats "$f.t"); m=${m%% *}; b=$(tail -n 1 "$f.qemu" | cut -d' ' -f2)
    cut -d' ' -f3 "$f.qemu" | grep -v -- - >"$f.t"; tt=$(stats "$f.t"); tt=${tt%% *}
    cut -d' ' -f4 "$f.qemu" >"$f.t"; fs=$(stats "$f.t"); fs=${fs%% *}
    awk -v m="$m" -v b="$b" -v tt="$tt" -v fs="$fs" 'BEGIN { printf "snap-create-256M qemu: %.1f MiB stream per snapshot, %.0f MB/s at the median time; medians: QEMU'"'"'s own total-time %s ms, sync -d %s ms\n", b / 1048576, b / 1e6 / (m / 1000), tt, fs }'
  fi
  [ -s "$BENCH_WORK/snap-restore.info" ] && sed 's/^/snap-/' "$BENCH_WORK/snap-restore.info"
  if [ -s "$BENCH_WORK/snap-restore.info" ] || [ -s "$BENCH_WORK/snap-create.kite" ]; then
    echo "snap-*: host load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs. A restore waits several times for kernel helpers (SRCU grace periods when memory slots and interrupt routes are installed, the PIT's kernel thread); on a busy host those waits, not kite's own work, make the spread."
  fi
  return 0
}

snapshot_charts() {
  if bench_chart "$BENCH_OUT/snapshot-restore.png" "Snapshot restore to running (median, min-max bars)" \
      "milliseconds" snap-restore-256M snap-restore-4G; then
    CHARTS+=(snapshot-restore.png)
  else
    bench_chart_skipped snapshot-restore.png
  fi
  if bench_chart "$BENCH_OUT/snapshot-create.png" "Snapshot create, 256 MiB guest (median, min-max bars)" \
      "milliseconds" snap-create-256M; then
    CHARTS+=(snapshot-create.png)
  else
    bench_chart_skipped snapshot-create.png
  fi
}
