# Snapshots: create through the API on a paused VM, restore with
# `kite run --restore` (several copies at once, paused or resumed, from a full
# and from a diff snapshot), and refuse every damaged or mismatched file
# before anything starts.  The guest (test=count) prints a counter: what a
# restored copy prints must continue the source's output exactly.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/api_client.sh"
require_kvm
require_guest
trap 'kite_api_stop; rm -rf "$TMPD"' EXIT

SOCK=$TMPD/api.sock
SNAP=$TMPD/vm.snap
MEM=$TMPD/vm.mem

# consecutive FILE... : the "count N" lines of the files, concatenated, are
# 1, 2, 3, ... without a gap or a repeat (a line may be split across files).
consecutive() {
  cat "$@" | tr -d '\r' | grep -oE 'count [0-9]+' | awk '
    { if ($2 != NR) { print "line " NR ": count " $2; bad = 1; exit } }
    END { if (!bad && NR < 5) { print "only " NR " lines"; bad = 1 } exit bad }'
}

# start_copy OUT ERR SNAPSHOT : restore and resume a copy in the background
# (COPY_PID); stop_copy OUT PID : once it printed 10 new lines (or after 20 s,
# loaded machines and sanitizers being slow), stop it.
start_copy() {
  timeout -k 2 25 "$KITE" run --restore "$3" --resume --serial stdio < /dev/null > "$1" 2> "$2" &
  COPY_PID=$!
}
stop_copy() {
  local i
  for i in $(seq 200); do
    [ "$(grep -c 'count' "$1" 2>/dev/null)" -ge 10 ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$2" 2>/dev/null
  wait "$2" 2>/dev/null
}

wait_count() {   # FILE N: until the file shows count >= N (5 s)
  local i
  for i in $(seq 100); do
    [ "$(grep -oE 'count [0-9]+' "$1" 2>/dev/null | tail -n 1 | cut -d' ' -f2)" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

if ! kite_api_start "$SOCK" "$TMPD/src.txt" --mem 128M --cmdline "test=count interval_ms=10"; then
  t_fail snapshot-source-starts "$(cat "$TMPD/kite.err")"; exit 1
fi
wait_count "$TMPD/src.txt" 20 || t_fail snapshot-source-counts "no counter output"

api PUT /snapshot/create "{\"snapshot_path\":\"$SNAP\",\"mem_file_path\":\"$MEM\"}"
expect_fault snapshot-of-a-running-vm-is-409 409 "must be paused"
api PATCH /vm '{"state":"Paused"}'
expect_api snapshot-pause 204
api PUT /snapshot/create "{\"snapshot_path\":\"$SNAP\"}"
expect_fault snapshot-without-mem-file-is-400 400 "mem_file_path"
api PUT /snapshot/create "{\"snapshot_path\":\"$SNAP\",\"mem_file_path\":\"$MEM\",\"snapshot_type\":\"Half\"}"
expect_fault snapshot-unknown-type-is-400 400 "snapshot_type"
api PUT /snapshot/create "{\"snapshot_path\":\"/nonexistent/dir/x.snap\",\"mem_file_path\":\"/nonexistent/dir/x.mem\"}"
expect_fault snapshot-into-a-missing-folder-is-400 400 "x.mem"
api PUT /snapshot/create "{\"snapshot_path\":\"$SNAP\",\"mem_file_path\":\"$MEM\"}"
expect_api snapshot-create-full 204
cp "$TMPD/src.txt" "$TMPD/src-at-full.txt"
check snapshot-files-exist test -s "$SNAP" -a -s "$MEM"
# 128 MiB of RAM of which the guest touched little: the memory file is sparse.
used_kib=$(du -k "$MEM" | cut -f1)
if [ "$used_kib" -lt 16384 ]; then t_ok snapshot-memory-file-is-sparse
else t_fail snapshot-memory-file-is-sparse "$used_kib KiB allocated for a mostly empty guest"; fi
check snapshot-no-temp-files-left test -z "$(ls "$TMPD" | grep '\.tmp$')"

# Let it run on, then a diff snapshot on top of the full one.
api PATCH /vm '{"state":"Resumed"}'
cur=$(grep -oE 'count [0-9]+' "$TMPD/src.txt" | tail -n 1 | cut -d' ' -f2)
wait_count "$TMPD/src.txt" $((cur + 20))
api PATCH /vm '{"state":"Paused"}'
api PUT /snapshot/create "{\"snapshot_path\":\"$TMPD/diff.snap\",\"mem_file_path\":\"$TMPD/diff.mem\",\"snapshot_type\":\"Diff\"}"
expect_api snapshot-create-diff 204
cp "$TMPD/src.txt" "$TMPD/src-at-diff.txt"
diff_kib=$(du -k "$TMPD/diff.mem" | cut -f1)
if [ "$diff_kib" -le "$used_kib" ]; then t_ok snapshot-diff-is-not-larger-than-full
else t_fail snapshot-diff-is-not-larger-than-full "diff $diff_kib KiB, full $used_kib KiB"; fi
kite_api_stop

# Three copies of the full snapshot at once, resumed at once.
pids=()
for i in 1 2 3; do
  start_copy "$TMPD/copy$i.txt" "$TMPD/copy$i.err" "$SNAP"
  pids+=($COPY_PID)
done
for i in 1 2 3; do stop_copy "$TMPD/copy$i.txt" "${pids[$((i - 1))]}"; done
for i in 1 2 3; do
  if why=$(consecutive "$TMPD/src-at-full.txt" "$TMPD/copy$i.txt"); then
    t_ok "snapshot-restored-copy-$i-continues-the-counter"
  else
    t_fail "snapshot-restored-copy-$i-continues-the-counter" "$why; stderr: $(head -c 300 "$TMPD/copy$i.err")"
  fi
done

# The diff: base memory + the diff's pages.
start_copy "$TMPD/fromdiff.txt" "$TMPD/fromdiff.err" "$TMPD/diff.snap"
stop_copy "$TMPD/fromdiff.txt" $COPY_PID
if why=$(consecutive "$TMPD/src-at-diff.txt" "$TMPD/fromdiff.txt"); then
  t_ok snapshot-restored-from-diff-continues
else
  t_fail snapshot-restored-from-diff-continues "$why; stderr: $(head -c 300 "$TMPD/fromdiff.err")"
fi

# Restored paused: nothing runs until the API resumes it.
SOCK=$TMPD/api2.sock
"$KITE" run --restore "$SNAP" --api-sock "$SOCK" --serial "file:$TMPD/paused.txt" < /dev/null \
  > /dev/null 2> "$TMPD/paused.err" &
KPID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
api GET /vm
expect_api snapshot-restore-starts-paused 200 '"state":"Paused"'
sleep 0.3
check snapshot-paused-restore-prints-nothing test ! -s "$TMPD/paused.txt"
api PATCH /vm '{"state":"Resumed"}'
wait_count "$TMPD/paused.txt" 1
sleep 0.3
kite_api_stop
if why=$(consecutive "$TMPD/src-at-full.txt" "$TMPD/paused.txt"); then t_ok snapshot-resumed-through-the-api-continues
else t_fail snapshot-resumed-through-the-api-continues "$why"; fi

# A kite started with only --api-sock: no VM until PUT /snapshot/load builds
# one.  Bad loads are refused and leave it waiting; `kite ctl snapshot load`
# loads; a second load is refused; the loaded VM snapshots again (kite ctl).
SOCK=$TMPD/api3.sock
"$KITE" run --api-sock "$SOCK" --serial "file:$TMPD/loaded.txt" < /dev/null \
  > /dev/null 2> "$TMPD/loaded.err" &
KPID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
api GET /vm
expect_api snapshot-load-waits-without-a-vm 200 '"state":"NotStarted"'
api PATCH /vm '{"state":"Paused"}'
expect_fault snapshot-load-no-vm-yet-is-409 409 "no VM yet"
api PUT /snapshot/load "{\"snapshot_path\":\"$TMPD/nope.snap\"}"
expect_fault snapshot-load-missing-file-is-400 400 "nope.snap"
head -c 300 "$SNAP" > "$TMPD/damaged.snap"
api PUT /snapshot/load "{\"snapshot_path\":\"$TMPD/damaged.snap\"}"
expect_fault snapshot-load-damaged-file-is-400 400 "snapshot"
api PUT /snapshot/load "{\"snapshot_path\":\"$SNAP\",\"mem_file_path\":\"$TMPD/diff.mem\"}"
expect_fault snapshot-load-wrong-memory-file-is-400 400 "does not belong"
api GET /vm
expect_api snapshot-load-failures-leave-it-waiting 200 '"state":"NotStarted"'
if "$KITE" ctl --api-sock "$SOCK" snapshot load "$SNAP" "$MEM" --resume > "$TMPD/ctl.out" 2>&1
then t_ok snapshot-ctl-load-resumes
else t_fail snapshot-ctl-load-resumes "$(cat "$TMPD/ctl.out")"; fi
api PUT /snapshot/load "{\"snapshot_path\":\"$SNAP\"}"
expect_fault snapshot-second-load-is-409 409 "already runs"
wait_count "$TMPD/loaded.txt" 1
"$KITE" ctl --api-sock "$SOCK" pause > /dev/null
if "$KITE" ctl --api-sock "$SOCK" snapshot create "$TMPD/again.snap" "$TMPD/again.mem" \
  > "$TMPD/ctl.out" 2>&1; then t_ok snapshot-ctl-create-of-a-loaded-vm
else t_fail snapshot-ctl-create-of-a-loaded-vm "$(cat "$TMPD/ctl.out")"; fi
cp "$TMPD/loaded.txt" "$TMPD/loaded-at-again.txt"
kite_api_stop
if why=$(consecutive "$TMPD/src-at-full.txt" "$TMPD/loaded.txt"); then t_ok snapshot-loaded-through-the-api-continues
else t_fail snapshot-loaded-through-the-api-continues "$why; stderr: $(head -c 300 "$TMPD/loaded.err")"; fi
start_copy "$TMPD/again.txt" "$TMPD/again.err" "$TMPD/again.snap"
stop_copy "$TMPD/again.txt" $COPY_PID
if why=$(consecutive "$TMPD/src-at-full.txt" "$TMPD/loaded-at-again.txt" "$TMPD/again.txt"); then
  t_ok snapshot-of-a-loaded-vm-continues
else t_fail snapshot-of-a-loaded-vm-continues "$why; stderr: $(head -c 300 "$TMPD/again.err")"; fi
"$KITE" run --api-sock "$TMPD/api4.sock" < /dev/null > /dev/null 2> "$TMPD/sig.err" &
KPID=$!
for i in $(seq 100); do [ -S "$TMPD/api4.sock" ] && break; sleep 0.05; done
kill -TERM $KPID; wait $KPID; RC=$?; KPID=""
if [ "$RC" = 12 ] && grep -q "before a VM was loaded" "$TMPD/sig.err" && [ ! -e "$TMPD/api4.sock" ]
then t_ok snapshot-waiting-kite-stops-on-sigterm
else t_fail snapshot-waiting-kite-stops-on-sigterm "status $RC: $(cat "$TMPD/sig.err")"; fi
run_kite 10 run --api-sock "$TMPD/api5.sock" --mem 256M
expect snapshot-machine-options-without-kernel-are-a-usage-error 2 "" "needs --kernel"

# --diff-snapshots: the first snapshot of a restored copy may be a Diff on the
# files it was restored from; a copy without it is told to take a Full first.
SOCK=$TMPD/api6.sock
"$KITE" run --restore "$SNAP" --diff-snapshots --resume --api-sock "$SOCK" \
  --serial "file:$TMPD/rdiff.txt" < /dev/null > /dev/null 2> "$TMPD/rdiff.err" &
KPID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
cur=$(grep -oE 'count [0-9]+' "$TMPD/src-at-full.txt" | tail -n 1 | cut -d' ' -f2)
wait_count "$TMPD/rdiff.txt" $((cur + 10))
api PATCH /vm '{"state":"Paused"}'
api PUT /snapshot/create "{\"snapshot_path\":\"$TMPD/rdiff.snap\",\"mem_file_path\":\"$TMPD/rdiff.mem\",\"snapshot_type\":\"Diff\"}"
expect_api snapshot-diff-right-after-a-restore 204
cat "$TMPD/src-at-full.txt" "$TMPD/rdiff.txt" > "$TMPD/rdiff-at.txt"
kite_api_stop
rdiff_kib=$(du -k "$TMPD/rdiff.mem" | cut -f1)
if [ "$rdiff_kib" -le "$used_kib" ]; then t_ok snapshot-diff-after-restore-holds-only-changes
else t_fail snapshot-diff-after-restore-holds-only-changes "diff $rdiff_kib KiB, full $used_kib KiB"; fi
start_copy "$TMPD/fromrdiff.txt" "$TMPD/fromrdiff.err" "$TMPD/rdiff.snap"
stop_copy "$TMPD/fromrdiff.txt" $COPY_PID
if why=$(consecutive "$TMPD/rdiff-at.txt" "$TMPD/fromrdiff.txt"); then
  t_ok snapshot-restored-from-diff-after-restore-continues
else t_fail snapshot-restored-from-diff-after-restore-continues "$why; $(head -c 300 "$TMPD/fromrdiff.err")"; fi
SOCK=$TMPD/api7.sock
"$KITE" run --restore "$SNAP" --api-sock "$SOCK" --serial none < /dev/null > /dev/null 2>&1 &
KPID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
api PUT /snapshot/create "{\"snapshot_path\":\"$TMPD/x.snap\",\"mem_file_path\":\"$TMPD/x.mem\",\"snapshot_type\":\"Diff\"}"
expect_fault snapshot-diff-after-restore-needs-diff-snapshots 400 "Full snapshot"
kite_api_stop

# refuse NAME PATTERN KITE-ARGS... : kite must exit 6 (bad snapshot) at once,
# print PATTERN, and run no guest code.
refuse() {
  local n=$1 pat=$2; shift 2
  run_kite 10 run "$@" --resume --serial stdio
  if [ "$RC" = 6 ] && grep -qiE -- "$pat" <<< "$ERR" && [ -z "$OUT" ]; then t_ok "$n"
  else t_fail "$n" "status $RC, stdout '${OUT:0:60}', stderr: ${ERR:0:300}"; fi
}

size=$(stat -c %s "$SNAP")
bad=0
for cut in 0 1 8 25 40 100 $((size / 3)) $((size / 2)) $((size - 9)) $((size - 1)); do
  head -c "$cut" "$SNAP" > "$TMPD/cut.snap"
  run_kite 10 run --restore "$TMPD/cut.snap" --resume
  if [ "$RC" != 6 ] || [ -n "$OUT" ]; then bad=$((bad + 1)); echo "# cut $cut: status $RC: ${ERR:0:200}"; fi
done
[ $bad = 0 ] && t_ok snapshot-every-truncation-is-refused || t_fail snapshot-every-truncation-is-refused "$bad accepted"
bad=0
for pos in 0 9 30 100 500 $((size / 2)) $((size - 100)) $((size - 3)); do
  cp "$SNAP" "$TMPD/flip.snap"
  printf "$(printf '\\%03o' $(( ($(od -An -tu1 -j "$pos" -N1 "$SNAP") ^ 16) )))" |
    dd of="$TMPD/flip.snap" bs=1 seek="$pos" conv=notrunc status=none
  run_kite 10 run --restore "$TMPD/flip.snap" --resume
  if [ "$RC" != 6 ] || [ -n "$OUT" ]; then bad=$((bad + 1)); echo "# flip at $pos: status $RC: ${ERR:0:200}"; fi
done
[ $bad = 0 ] && t_ok snapshot-bit-flips-are-refused || t_fail snapshot-bit-flips-are-refused "$bad accepted"
cp "$SNAP" "$TMPD/v9.snap"
printf '\011' | dd of="$TMPD/v9.snap" bs=1 seek=8 conv=notrunc status=none
refuse snapshot-unknown-format-version-is-refused "version" --restore "$TMPD/v9.snap"
refuse snapshot-memory-file-of-another-snapshot-is-refused "does not belong" \
  --restore "$SNAP" --mem-file "$TMPD/diff.mem"
head -c 1048576 "$MEM" > "$TMPD/short.mem"
refuse snapshot-truncated-memory-file-is-refused "truncated" --restore "$SNAP" --mem-file "$TMPD/short.mem"
refuse snapshot-missing-memory-file-is-refused "cannot open memory file" \
  --restore "$SNAP" --mem-file "$TMPD/nope.mem"
refuse snapshot-not-a-snapshot-is-refused "not a (kite )?snapshot" --restore "$GUEST"

run_kite 10 run --restore "$SNAP" --mem 256M
expect snapshot-machine-options-with-restore-are-a-usage-error 2 "" "cannot be used with --restore"
run_kite 10 run --kernel "$GUEST" --resume
expect snapshot-resume-without-restore-is-a-usage-error 2 "" "only goes with --restore"
