# Live migration (src/migration/migrate.h): a source kite running the test
# guest (test=snapwork: every word of an mb MiB buffer checked every
# iteration, memory dirtied at dirty_mb_s, optional virtio-blk I/O) is moved
# with PUT /migrate to a `kite run --incoming URI` destination.  The guest's
# "snapwork iter=I" lines, source then destination concatenated, must run
# 1, 2, 3, ... without a gap or a repeat, and the guest itself fails at once
# on a single lost or stale page, so a destination that goes on printing
# proves that every page arrived.
#
# Covered: unix and tcp; memory dirtied during the migration with and without
# zstd; block I/O in flight; a guest dirtying faster than the link (throttled
# until it converges, or failing with auto_converge off while the source runs
# on); every failure leaves the source running and able to migrate again (a
# destination killed in round 1 or later, one that does not exist, a cancel,
# a stream corrupted or cut by a proxy); ten migrations back and forth; the
# destination's command line; 409 for a second PUT while one is active.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/api_client.sh"
require_kvm
require_guest

# Every background process is a job of this shell: kill what is left.
cleanup() {
  local p
  for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

for tool in curl python3; do
  command -v $tool > /dev/null || { t_fail "migration-needs-$tool" "$tool is not installed"; exit 1; }
done

MEM=128M
WL="test=snapwork mb=32 period_ms=20"

# ---- helpers ----

# A free TCP port on 127.0.0.1 (the kernel's choice; nothing holds it after).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# uri KIND NAME : a fresh destination address (unix socket or tcp port).
uri() {
  if [ "$1" = tcp ]; then echo "tcp:127.0.0.1:$(free_port)"; else echo "unix:$TMPD/$2.mig"; fi
}

# start_src NAME ARGS... : a source kite running the test guest with
# --api-sock $TMPD/NAME.sock, serial $TMPD/NAME.txt, stderr $TMPD/NAME.err;
# sets SPID; waits until its API answers.
SPID=""
start_src() {
  local n=$1 i; shift
  "$KITE" run --kernel "$GUEST" --api-sock "$TMPD/$n.sock" --serial "file:$TMPD/$n.txt" \
    --log-level info "$@" < /dev/null > "$TMPD/$n.out" 2> "$TMPD/$n.err" &
  SPID=$!
  for i in $(seq 100); do
    [ -S "$TMPD/$n.sock" ] && curl -s --max-time 2 --unix-socket "$TMPD/$n.sock" -o /dev/null \
      http://localhost/vm && return 0
    kill -0 $SPID 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_dst NAME URI : a destination `kite run --incoming URI` with
# --api-sock $TMPD/NAME.sock, serial $TMPD/NAME.txt; sets DPID; waits until
# it listens.
DPID=""
start_dst() {
  local n=$1 u=$2 i
  "$KITE" run --incoming "$u" --api-sock "$TMPD/$n.sock" --serial "file:$TMPD/$n.txt" \
    --log-level info "${@:3}" < /dev/null > "$TMPD/$n.out" 2> "$TMPD/$n.err" &
  DPID=$!
  for i in $(seq 200); do
    # Logged once the socket listens (--log-level info).
    grep -q 'waiting for an incoming migration' "$TMPD/$n.err" 2> /dev/null && return 0
    kill -0 $DPID 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# wait_exit PID SECS : until PID ends (XRC: its exit status) or SECS pass
# (XRC=timeout, return 1; the process is left alone).
XRC=""
wait_exit() {
  local pid=$1 i
  for i in $(seq $(($2 * 20))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      XRC=$?
      return 0
    fi
    sleep 0.05
  done
  XRC=timeout
  return 1
}

# stop PID : SIGTERM, SIGKILL after 5 s; XRC its exit status.
stop() {
  kill -TERM "$1" 2>/dev/null
  wait_exit "$1" 5 || { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; XRC=killed; }
}

# The last "snapwork iter=I" of a serial file (0 if none).
last_iter() {
  local n
  n=$(tr -d '\r' 2> /dev/null < "$1" | grep -oE 'snapwork iter=[0-9]+ ' | tail -n 1 | grep -oE '[0-9]+')
  echo "${n:-0}"
}

# wait_iter FILE N SECS : until the file shows iteration N.
wait_iter() {
  local i
  for i in $(seq $(($3 * 20))); do
    [ "$(last_iter "$1")" -ge "$2" ] && return 0
    grep -q 'FAIL' "$1" 2>/dev/null && return 1
    sleep 0.05
  done
  return 1
}

# consecutive WHAT MIN FILE... : the "snapwork WHATiter=K" lines of the
# files, concatenated (a line may be split between two of them), are
# K = 1, 2, 3, ... and there are at least MIN of them.
consecutive() {
  local what=$1 min=$2; shift 2
  cat "$@" | tr -d '\r' | grep -oE "snapwork ${what}iter=[0-9]+ " | grep -oE '[0-9]+' | awk -v min="$min" '
    { if ($1 != NR) { print "line " NR ": iteration " $1 " (expected " NR ")"; bad = 1; exit } }
    END { if (!bad && NR < min) { print "only " NR " iterations"; bad = 1 } exit bad }'
}

# check_continues NAME WHAT MIN FILE... : consecutive as a named check.
check_continues() {
  local n=$1 what=$2 min=$3 why; shift 3
  if why=$(consecutive "$what" "$min" "$@"); then
    t_ok "$n"
  else
    t_fail "$n" "$why; $(cat "$@" | tr -d '\r' | grep -E 'FAIL|snapwork: (memory|blk|iter)' | head -n 3)"
  fi
}

# migrate SOCK URI [JSON-MEMBERS] : PUT /migrate on the source's SOCK (CODE,
# BODY); retried while the destination's listener is not up yet.
migrate() {
  local i
  SOCK=$1
  for i in 1 2 3 4 5 6 7 8 9 10; do
    api PUT /migrate "{\"destination\":\"$2\"${3:+,$3}}"
    [ "$CODE" = 400 ] && grep -qE 'refused|No such file' <<< "$BODY" || return 0
    sleep 0.1
  done
}

# mig_get SOCK : GET /migrate; MIG is the reply (empty if none).
MIG=""
mig_get() {
  MIG=$(curl -s --max-time 5 --unix-socket "$1" http://localhost/migrate 2>/dev/null)
}
mig_field() { grep -oE "\"$1\":(\"[^\"]*\"|[0-9a-z]+)" <<< "$MIG" | head -n 1 | cut -d: -f2- | tr -d '"'; }

# mig_poll SOCK PID SECS LOG : GET /migrate every 20 ms until the state is
# final, PID is gone or SECS passed; every reply goes to LOG; MIG_LAST is the
# last reply the source gave.
MIG_LAST=""
mig_poll() {
  local sock=$1 pid=$2 log=$4 end=$((SECONDS + $3))
  MIG_LAST=""
  while [ $SECONDS -lt $end ]; do
    mig_get "$sock"
    if [ -n "$MIG" ]; then
      MIG_LAST=$MIG
      echo "$MIG" >> "$log"
    fi
    case $MIG_LAST in *'"state":"Completed"'*|*'"state":"Failed"'*|*'"state":"Cancelled"'*) return 0 ;; esac
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.02
  done
  return 1
}

# wait_round SOCK N SECS : until GET /migrate shows round >= N while active.
wait_round() {
  local i r
  for i in $(seq $(($3 * 20))); do
    mig_get "$1"
    r=$(mig_field round)
    case $(mig_field state) in Active) [ "${r:-0}" -ge "$2" ] && return 0 ;; Stopping|'') ;;
      *) return 1 ;; esac
    sleep 0.05
  done
  return 1
}

# failed_src_runs_on NAME SOCK FILE PID : after a failed or cancelled
# migration the source's guest keeps running (10 more iterations) and the
# VM is not left paused.
failed_src_runs_on() {
  local n=$1 sock=$2 file=$3 pid=$4 at
  at=$(last_iter "$file")
  if wait_iter "$file" $((at + 10)) 10; then
    t_ok "$n-source-keeps-running"
  else
    t_fail "$n-source-keeps-running" "stuck at iteration $(last_iter "$file") (was $at); alive: \
$(kill -0 "$pid" 2>/dev/null && echo yes || echo no); $(tail -n 3 "${file%.txt}.err")"
  fi
  SOCK=$sock
  api GET /vm
  expect_api "$n-source-vm-is-running" 200 '"state":"Running"'
}

# expect_final NAME STATE [ERROR-REGEX] : MIG_LAST shows STATE (and error).
expect_final() {
  local n=$1 st=$2 pat=${3:-}
  if [ "$(MIG=$MIG_LAST mig_field state)" != "$st" ]; then
    t_fail "$n" "GET /migrate: ${MIG_LAST:-no reply}, expected state $st"
  elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<< "$MIG_LAST"; then
    t_fail "$n" "GET /migrate lacks /$pat/: $MIG_LAST"
  else
    t_ok "$n"
  fi
}

# proxy MODE NAME TARGET ARG : a python proxy between a source and the
# destination listening on unix:TARGET; the source connects to
# unix:$TMPD/NAME.mig.  MODE flip: one bit of the source's byte ARG flipped;
# cut: both connections closed at the source's byte ARG; slow: the source's
# bytes forwarded at ARG bytes per second; stall: the source accepted and
# never read.  Sets PROXY (its pid); waits until it listens.
PROXY=""
proxy() {
  local i
  python3 - "$@" "$TMPD/$2.mig" > "$TMPD/$2-proxy.log" 2>&1 << 'EOF' &
import select, socket, sys, time
mode, target, arg, listen_path = sys.argv[1], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ls = socket.socket(socket.AF_UNIX)
ls.bind(listen_path)
ls.listen(1)
src, _ = ls.accept()
ls.close()
if mode == "stall":
    select.select([], [], [], 120)
    sys.exit(0)
dst = socket.socket(socket.AF_UNIX)
dst.connect(target)
n, t0 = 0, time.monotonic()
try:
    while True:
        r, _, _ = select.select([src, dst], [], [], 60)
        if not r:
            break
        if dst in r:
            data = dst.recv(65536)
            if not data:
                break
            src.sendall(data)
        if src in r:
            data = src.recv(65536)
            if not data:
                break
            if mode in ("flip", "cut") and n <= arg < n + len(data):
                if mode == "cut":
                    dst.sendall(data[:arg - n])
                    print("cut at byte", arg, flush=True)
                    break
                b = bytearray(data)
                b[arg - n] ^= 0x10
                data = bytes(b)
                print("flipped byte", arg, flush=True)
            n += len(data)
            dst.sendall(data)
            if mode == "slow" and n / arg > time.monotonic() - t0:
                time.sleep(n / arg - (time.monotonic() - t0))
except OSError as e:
    print("proxy:", e, flush=True)
print("forwarded", n, "bytes", flush=True)
for s in (src, dst):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
EOF
  PROXY=$!
  for i in $(seq 100); do
    [ -S "$TMPD/$2.mig" ] && return 0
    sleep 0.05
  done
  return 1
}

# ---- the destination's command line ----

run_kite 10 run --incoming "unix:$TMPD/x.mig" --mem 256M
expect migration-incoming-refuses-mem 2 "" "--mem cannot be used with --incoming"
run_kite 10 run --incoming "unix:$TMPD/x.mig" --kernel "$GUEST"
expect migration-incoming-refuses-kernel 2 "" "--kernel cannot be used with --incoming"
run_kite 10 run --incoming "unix:$TMPD/x.mig" --disk "path=$TMPD/x.img"
expect migration-incoming-refuses-disk 2 "" "--disk cannot be used with --incoming"
run_kite 10 run --incoming "ftp:somewhere"
expect migration-incoming-refuses-a-bad-uri 2 "" "unknown transport"
# Stopped while it waits: no VM, exit status 12 (stopped by a signal).
if start_dst idle "unix:$TMPD/idle.mig"; then
  stop $DPID
  if [ "$XRC" = 12 ] && grep -q "before a migration arrived" "$TMPD/idle.err"; then
    t_ok migration-incoming-stopped-while-waiting
  else
    t_fail migration-incoming-stopped-while-waiting "exit $XRC: $(cat "$TMPD/idle.err")"
  fi
else
  t_fail migration-incoming-stopped-while-waiting "no listener: $(cat "$TMPD/idle.err")"
fi

# ---- one migration from a fresh source to a fresh destination ----

# one NAME KIND WORKLOAD PUT-MEMBERS [SOURCE-ARGS...] : a source running
# WORKLOAD migrates to a destination on a KIND (unix or tcp) address: the
# source completes and exits 0, the destination runs the guest on, and the
# guest's iterations continue across the two.  The source's GET /migrate
# replies are in $TMPD/NAME-poll.log, the serial output in NAME-src.txt and
# NAME-dst.txt.  With ONE_SLOW=BYTES_PER_S (KIND unix), the source reaches
# the destination through a proxy that forwards at that rate.
one() {
  local b=$1 n=migration-$1 kind=$2 wl=$3 put=$4 u mu at; shift 4
  if ! start_src "$b-src" --mem $MEM --cmdline "$wl" "$@"; then
    t_fail "$n-source-starts" "$(cat "$TMPD/$b-src.err")"; return
  fi
  u=$(uri "$kind" "$b")
  mu=$u
  if ! start_dst "$b-dst" "$u"; then
    t_fail "$n-destination-listens" "$(cat "$TMPD/$b-dst.err")"; stop $SPID; return
  fi
  if [ -n "${ONE_SLOW:-}" ]; then
    if ! proxy slow "$b-link" "${u#unix:}" "$ONE_SLOW"; then
      t_fail "$n-link-starts" "$(cat "$TMPD/$b-link-proxy.log")"; stop $SPID; stop $DPID; return
    fi
    mu=unix:$TMPD/$b-link.mig
  fi
  wait_iter "$TMPD/$b-src.txt" 10 10
  migrate "$TMPD/$b-src.sock" "$mu" "$put"
  expect_api "$n-put-204" 204
  mig_poll "$TMPD/$b-src.sock" $SPID 60 "$TMPD/$b-poll.log"
  wait_exit $SPID 30 || stop $SPID
  check "$n-source-exits-0" test "$XRC" = 0
  if grep -qE "completed: [0-9]+ ms, downtime [0-9]+ ms" "$TMPD/$b-src.err"; then
    t_ok "$n-source-logs-completed-with-downtime"
  else
    t_fail "$n-source-logs-completed-with-downtime" "$(tail -n 5 "$TMPD/$b-src.err")"
  fi
  at=$(last_iter "$TMPD/$b-src.txt")
  if wait_iter "$TMPD/$b-dst.txt" $((at + 10)) 10; then
    t_ok "$n-destination-runs-the-guest"
  else
    t_fail "$n-destination-runs-the-guest" "source at $at, destination at \
$(last_iter "$TMPD/$b-dst.txt"); $(grep FAIL "$TMPD/$b-dst.txt") $(tail -n 3 "$TMPD/$b-dst.err")"
  fi
  SOCK=$TMPD/$b-dst.sock
  api GET /vm
  expect_api "$n-destination-api-says-running" 200 '"state":"Running"'
  stop $DPID
  [ -n "${ONE_SLOW:-}" ] && stop $PROXY
  check_continues "$n-guest-continues" "" 20 "$TMPD/$b-src.txt" "$TMPD/$b-dst.txt"
}

# Basic, over unix and over tcp (zstd), memory dirtied at 50 MB/s.
one basic-unix unix "$WL dirty_mb_s=50" '"downtime_ms":50,"timeout_s":30,"compress":"none"'
one basic-tcp tcp "$WL dirty_mb_s=50" '"downtime_ms":50,"timeout_s":30,"compress":"zstd"'
# The source answers GET /migrate with Completed and the downtime before it
# exits: a client polling it learns the outcome.
seen=$(cat "$TMPD/basic-unix-poll.log" "$TMPD/basic-tcp-poll.log" 2> /dev/null |
       grep -c '"state":"Completed".*"downtime_ms":[0-9]')
if [ "$seen" -ge 2 ]; then
  t_ok migration-source-get-reports-completed-with-downtime
else
  t_fail migration-source-get-reports-completed-with-downtime "of 2 migrations polled every \
20 ms, $seen showed Completed before the source exited; last replies: \
$(tail -n 1 "$TMPD/basic-unix-poll.log" | grep -oE '"state":"[A-Za-z]+"'), \
$(tail -n 1 "$TMPD/basic-tcp-poll.log" | grep -oE '"state":"[A-Za-z]+"')"
fi
# compress took effect: zstd frames arrived with "zstd", none without.
if grep -qE '[1-9][0-9]* compressed' "$TMPD/basic-tcp-dst.err"; then
  t_ok migration-zstd-pages-arrive-compressed
else
  t_fail migration-zstd-pages-arrive-compressed "$(grep 'bytes received' "$TMPD/basic-tcp-dst.err")"
fi
if grep -qE ' 0 compressed' "$TMPD/basic-unix-dst.err"; then
  t_ok migration-no-compression-sends-none
else
  t_fail migration-no-compression-sends-none "$(grep 'bytes received' "$TMPD/basic-unix-dst.err")"
fi

# Memory dirtied fast (200 MB/s) during the migration, with and without zstd.
one dirty200-none unix "$WL dirty_mb_s=200" '"downtime_ms":50,"timeout_s":30,"compress":"none"'
one dirty200-zstd tcp "$WL dirty_mb_s=200" '"downtime_ms":50,"timeout_s":30,"compress":"zstd"'

# Block I/O during the migration: each iteration writes a block, reads it
# back and reads the previous one's; both sides open the same disk file.
truncate -s 8M "$TMPD/disk.img"
one blk tcp "$WL dirty_mb_s=50 blk=1" '"downtime_ms":50,"timeout_s":30' \
  --disk "path=$TMPD/disk.img,id=vda"
check_continues migration-blk-io-completes-exactly-once "blk " 20 "$TMPD/blk-src.txt" \
  "$TMPD/blk-dst.txt"

# ---- dirtying faster than the link ----

# Auto-converge: the vCPUs are throttled until the remainder fits.  The
# guest rewrites its 4 MiB at 60 MB/s, three times what the 20 MB/s link
# drains: unthrottled, every round finds the whole buffer dirty again.
ONE_SLOW=20000000 one converge unix "test=snapwork mb=4 period_ms=20 dirty_mb_s=60" \
  '"downtime_ms":50,"timeout_s":30,"auto_converge":true'
if grep -q '"throttle_pct":[1-9]' "$TMPD/converge-poll.log"; then
  t_ok migration-converge-fast-dirtier-is-throttled
else
  t_fail migration-converge-fast-dirtier-is-throttled "throttle_pct never above 0: \
$(tail -n 1 "$TMPD/converge-poll.log")"
fi

# A 1 ms downtime target with auto-converge: throttled up to the maximum,
# the remainder must fit at last (or the target be refused at once).
u=$(uri unix tight)
if start_src tight-src --mem $MEM --cmdline "$WL dirty_mb_s=400" && start_dst tight-dst "$u"; then
  wait_iter "$TMPD/tight-src.txt" 10 10
  migrate "$TMPD/tight-src.sock" "$u" '"downtime_ms":1,"timeout_s":4,"auto_converge":true'
  if [ "$CODE" = 400 ]; then
    t_ok migration-1ms-downtime-converges-or-is-refused
  else
    mig_poll "$TMPD/tight-src.sock" $SPID 20 "$TMPD/tight-poll.log"
    expect_final migration-1ms-downtime-converges-or-is-refused Completed
    wait_exit $SPID 10
  fi
  stop $SPID
  stop $DPID
else
  t_fail migration-1ms-downtime-converges-or-is-refused "$(tail -n 3 "$TMPD/tight-src.err" \
"$TMPD/tight-dst.err")"
fi

# A link of 20 MB/s, a guest dirtying 400 MB/s, no auto-converge: "did not
# converge" after timeout_s; the source runs on and takes PATCH /vm again.
N=migration-no-converge
if start_src noconv-src --mem $MEM --cmdline "$WL dirty_mb_s=400" &&
   start_dst noconv-dst "unix:$TMPD/noconv-dst.mig" &&
   proxy slow noconv-link "$TMPD/noconv-dst.mig" 20000000; then
  wait_iter "$TMPD/noconv-src.txt" 10 10
  migrate "$TMPD/noconv-src.sock" "unix:$TMPD/noconv-link.mig" \
    '"downtime_ms":50,"timeout_s":2,"auto_converge":false'
  expect_api "$N-put-204" 204
  mig_poll "$TMPD/noconv-src.sock" $SPID 30 "$TMPD/noconv-poll.log"
  expect_final "$N-fails" Failed '"error":"did not converge in 2 s'
  expect_final "$N-never-throttles" Failed '"throttle_pct":0,'
  failed_src_runs_on "$N" "$TMPD/noconv-src.sock" "$TMPD/noconv-src.txt" $SPID
  SOCK=$TMPD/noconv-src.sock
  api PATCH /vm '{"state":"Paused"}'
  expect_api "$N-source-pauses-again" 204
  api PATCH /vm '{"state":"Resumed"}'
  expect_api "$N-source-resumes-again" 204
  if wait_exit $DPID 10 && [ "$XRC" != 0 ] && grep -q 'did not converge' "$TMPD/noconv-dst.err"; then
    t_ok "$N-destination-exits-with-the-reason"
  else
    t_fail "$N-destination-exits-with-the-reason" "exit $XRC: $(tail -n 2 "$TMPD/noconv-dst.err")"
  fi
  stop $PROXY
  stop $DPID
  stop $SPID
else
  t_fail "$N-starts" "$(tail -n 3 "$TMPD/noconv-src.err" "$TMPD/noconv-dst.err")"
fi

# ---- failures leave the source running; then it migrates after all ----

# One source through every failure; what it runs is checked each time and,
# at the end, on the destination of a migration that succeeds.
F=migration-failures
if ! start_src fail-src --mem $MEM --cmdline "$WL dirty_mb_s=50"; then
  t_fail "$F-source-starts" "$(cat "$TMPD/fail-src.err")"
else
  FPID=$SPID FSOCK=$TMPD/fail-src.sock FTXT=$TMPD/fail-src.txt
  wait_iter "$FTXT" 10 10

  # A destination that does not exist: 400 at once, nothing started.
  SOCK=$FSOCK
  api PUT /migrate "{\"destination\":\"unix:$TMPD/nobody.mig\",\"timeout_s\":5}"
  expect_fault "$F-missing-unix-destination-is-400" 400 "nobody.mig"
  api PUT /migrate "{\"destination\":\"tcp:127.0.0.1:$(free_port)\",\"timeout_s\":5}"
  expect_fault "$F-closed-tcp-port-is-400" 400 "tcp:127.0.0.1"
  api PUT /migrate '{"destination":"carrier-pigeon:coop"}'
  expect_fault "$F-bad-destination-uri-is-400" 400
  api GET /migrate
  expect_api "$F-refused-put-starts-nothing" 200 '"state":"None"'

  # The destination killed right after the PUT, in round 1.
  u=$(uri unix k1)
  if start_dst k1 "$u"; then
    migrate "$FSOCK" "$u" '"downtime_ms":50,"timeout_s":30'
    expect_api "$F-kill-round1-put-204" 204
    mig_get "$FSOCK"
    { kill -KILL $DPID; wait $DPID; } 2> /dev/null
    check "$F-kill-round1-was-in-round-1" test "$(mig_field state):$(mig_field round)" = Active:1
    mig_poll "$FSOCK" $FPID 40 "$TMPD/k1-poll.log"
    expect_final "$F-kill-round1-source-fails" Failed '"source_paused":false'
    failed_src_runs_on "$F-kill-round1" "$FSOCK" "$FTXT" $FPID
  else
    t_fail "$F-kill-round1-destination-listens" "$(cat "$TMPD/k1.err")"
  fi

  # The destination killed in round 2 or later: a 20 MB/s link keeps the
  # rounds going (the 32 MiB the guest rewrites never fit 50 ms).
  if start_dst k2 "unix:$TMPD/k2.mig" && proxy slow k2-link "$TMPD/k2.mig" 20000000; then
    migrate "$FSOCK" "unix:$TMPD/k2-link.mig" '"downtime_ms":50,"timeout_s":60,"auto_converge":false'
    expect_api "$F-kill-later-round-put-204" 204
    if wait_round "$FSOCK" 2 20; then
      t_ok "$F-kill-later-round-reaches-round-2"
    else
      t_fail "$F-kill-later-round-reaches-round-2" "GET /migrate: $MIG"
    fi
    { kill -KILL $DPID; wait $DPID; } 2> /dev/null
    mig_poll "$FSOCK" $FPID 40 "$TMPD/k2-poll.log"
    expect_final "$F-kill-later-round-source-fails" Failed '"source_paused":false'
    failed_src_runs_on "$F-kill-later-round" "$FSOCK" "$FTXT" $FPID
    stop $PROXY
  else
    t_fail "$F-kill-later-round-destination-listens" "$(cat "$TMPD/k2.err" "$TMPD/k2-link-proxy.log")"
  fi

  # Cancel in round 2: 409 for a second PUT and for PATCH /vm meanwhile,
  # DELETE cancels, the destination gives up with a message.
  if start_dst cancel "unix:$TMPD/cancel.mig" && proxy slow cancel-link "$TMPD/cancel.mig" 20000000; then
    u=unix:$TMPD/cancel-link.mig
    migrate "$FSOCK" "$u" '"downtime_ms":50,"timeout_s":60,"auto_converge":false'
    expect_api "$F-cancel-put-204" 204
    wait_round "$FSOCK" 2 20
    SOCK=$FSOCK
    api PUT /migrate "{\"destination\":\"$u\"}"
    expect_fault "$F-second-put-while-active-is-409" 409 "in progress"
    api PATCH /vm '{"state":"Paused"}'
    expect_fault "$F-pause-while-active-is-409" 409 "migration"
    api DELETE /migrate
    expect_api "$F-cancel-delete-204" 204
    mig_poll "$FSOCK" $FPID 20 "$TMPD/cancel-poll.log"
    expect_final "$F-cancel-state-cancelled" Cancelled '"source_paused":false'
    SOCK=$FSOCK
    api DELETE /migrate
    expect_fault "$F-cancel-with-none-active-is-409" 409 "no migration"
    failed_src_runs_on "$F-cancel" "$FSOCK" "$FTXT" $FPID
    if wait_exit $DPID 40 && [ "$XRC" != 0 ] && grep -qE '^kite: .*migration' "$TMPD/cancel.err"; then
      t_ok "$F-cancel-destination-exits-with-a-message"
    else
      t_fail "$F-cancel-destination-exits-with-a-message" "exit $XRC: $(tail -n 2 "$TMPD/cancel.err")"
    fi
    stop $PROXY
    stop $DPID
  else
    t_fail "$F-cancel-destination-listens" "$(cat "$TMPD/cancel.err" "$TMPD/cancel-link-proxy.log")"
  fi

  # Cancel while the destination has stopped reading (the source is blocked
  # in a send): still Cancelled, at once.
  if proxy stall stall none 0; then
    migrate "$FSOCK" "unix:$TMPD/stall.mig" '"downtime_ms":50,"timeout_s":60'
    expect_api "$F-cancel-stalled-put-204" 204
    sleep 1   # the socket's buffers fill at once: the send blocks
    SOCK=$FSOCK
    api DELETE /migrate
    expect_api "$F-cancel-stalled-delete-204" 204
    mig_poll "$FSOCK" $FPID 5 "$TMPD/stall-poll.log"
    expect_final "$F-cancel-stalled-state-cancelled" Cancelled '"source_paused":false'
    failed_src_runs_on "$F-cancel-stalled" "$FSOCK" "$FTXT" $FPID
    stop $PROXY
  else
    t_fail "$F-cancel-stalled-proxy-listens" "$(cat "$TMPD/stall-proxy.log")"
  fi

  # A stream corrupted on the way (one bit flipped after 8 MiB), then one
  # cut after 8 MiB: the destination refuses it with a clear message and
  # builds nothing; the source fails and runs on.
  for mode in flip cut; do
    if start_dst "$mode" "unix:$TMPD/$mode.mig" &&
       proxy $mode "$mode-link" "$TMPD/$mode.mig" $((8 * 1048576 + 12345)); then
      migrate "$FSOCK" "unix:$TMPD/$mode-link.mig" '"downtime_ms":50,"timeout_s":30'
      expect_api "$F-$mode-put-204" 204
      if wait_exit $DPID 40 && [ "$XRC" != 0 ] && [ "$XRC" != 12 ]; then
        t_ok "$F-$mode-destination-exits-non-zero"
      else
        t_fail "$F-$mode-destination-exits-non-zero" "exit $XRC; $(tail -n 2 "$TMPD/$mode.err")"
      fi
      if [ $mode = flip ]; then pat='^kite: migration stream: .*(CRC mismatch|malformed|longer)'
      else pat='^kite: migration stream: .*(closed|connection)'; fi
      if grep -qE "$pat" "$TMPD/$mode.err"; then
        t_ok "$F-$mode-destination-says-why"
      else
        t_fail "$F-$mode-destination-says-why" "stderr lacks /$pat/: $(tail -n 2 "$TMPD/$mode.err")"
      fi
      check "$F-$mode-destination-never-ran-the-guest" test "$(last_iter "$TMPD/$mode.txt")" = 0
      mig_poll "$FSOCK" $FPID 40 "$TMPD/$mode-poll.log"
      expect_final "$F-$mode-source-fails" Failed '"source_paused":false'
      failed_src_runs_on "$F-$mode" "$FSOCK" "$FTXT" $FPID
      stop $PROXY
      stop $DPID
    else
      t_fail "$F-$mode-destination-listens" "$(cat "$TMPD/$mode.err" "$TMPD/$mode-link-proxy.log")"
    fi
  done

  # A destination that cannot build the machine (here: --net names a
  # device the VM lacks) refuses as soon as the description arrives, before
  # the pages (a 20 MB/s link would need seconds for them): the source
  # fails at once with the destination's reason and runs on.
  if start_dst refuse "unix:$TMPD/refuse.mig" --net id=nope,mac=02:00:00:00:00:09 &&
     proxy slow refuse-link "$TMPD/refuse.mig" 20000000; then
    migrate "$FSOCK" "unix:$TMPD/refuse-link.mig" '"downtime_ms":50,"timeout_s":60'
    expect_api "$F-refused-put-204" 204
    t0=$SECONDS
    mig_poll "$FSOCK" $FPID 20 "$TMPD/refuse-poll.log"
    expect_final "$F-refused-source-fails-with-the-reason" Failed \
      '"error":"the destination refused the VM: .*nope'
    check "$F-refused-within-3-s" test $((SECONDS - t0)) -le 3
    if wait_exit $DPID 20 && [ "$XRC" != 0 ] && grep -q 'nope' "$TMPD/refuse.err"; then
      t_ok "$F-refused-destination-exits-with-the-reason"
    else
      t_fail "$F-refused-destination-exits-with-the-reason" "exit $XRC: $(tail -n 2 "$TMPD/refuse.err")"
    fi
    check "$F-refused-destination-never-ran-the-guest" test "$(last_iter "$TMPD/refuse.txt")" = 0
    failed_src_runs_on "$F-refused" "$FSOCK" "$FTXT" $FPID
    stop $PROXY
    stop $DPID
  else
    t_fail "$F-refused-destination-listens" "$(cat "$TMPD/refuse.err" "$TMPD/refuse-link-proxy.log")"
  fi

  # After all that, a migration to a fresh destination succeeds.
  u=$(uri tcp final)
  if start_dst final "$u"; then
    migrate "$FSOCK" "$u" '"downtime_ms":50,"timeout_s":30,"compress":"zstd"'
    expect_api "$F-then-succeeds-put-204" 204
    mig_poll "$FSOCK" $FPID 60 "$TMPD/final-poll.log"
    wait_exit $FPID 30 || stop $FPID
    check "$F-then-succeeds-source-exits-0" test "$XRC" = 0
    at=$(last_iter "$FTXT")
    wait_iter "$TMPD/final.txt" $((at + 10)) 10
    stop $DPID
    check_continues "$F-then-succeeds-guest-continues" "" 20 "$FTXT" "$TMPD/final.txt"
  else
    t_fail "$F-then-succeeds-destination-listens" "$(cat "$TMPD/final.err")"
  fi
  stop $FPID
fi

# ---- back and forth: ten migrations in a row, unix and tcp in turn ----

B=migration-back-and-forth
if start_src hop0 --mem $MEM --cmdline "test=snapwork mb=16 period_ms=20 dirty_mb_s=50"; then
  cur=hop0 cpid=$SPID files=("$TMPD/hop0.txt") ok=1
  for h in $(seq 10); do
    kind=unix; [ $((h % 2)) = 0 ] && kind=tcp
    u=$(uri $kind "hop$h")
    wait_iter "$TMPD/$cur.txt" $(($(last_iter "$TMPD/$cur.txt") + 3)) 10
    if ! start_dst "hop$h" "$u"; then
      t_fail "$B-hop-$h-destination-listens" "$(cat "$TMPD/hop$h.err")"; ok=0; break
    fi
    migrate "$TMPD/$cur.sock" "$u" '"downtime_ms":50,"timeout_s":30'
    [ "$CODE" = 204 ] || { t_fail "$B-hop-$h-put-204" "HTTP $CODE: $BODY"; ok=0; break; }
    if ! wait_exit $cpid 60 || [ "$XRC" != 0 ]; then
      t_fail "$B-hop-$h-source-exits-0" "exit $XRC: $(tail -n 3 "$TMPD/$cur.err")"; ok=0; break
    fi
    files+=("$TMPD/hop$h.txt")
    cur=hop$h cpid=$DPID
  done
  check "$B-ten-hops-complete" test $ok = 1
  wait_iter "$TMPD/$cur.txt" $(($(last_iter "$TMPD/$cur.txt") + 10)) 10
  stop $cpid
  check_continues "$B-guest-continues-across-11-kites" "" 50 "${files[@]}"
else
  t_fail "$B-source-starts" "$(cat "$TMPD/hop0.err")"
fi

# ---- no sanitizer report from any kite (when run outside tests/run.sh) ----
if grep -lE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$TMPD"/*.err > /dev/null 2>&1; then
  t_fail migration-no-sanitizer-reports "$(grep -hE -A5 'ERROR: |runtime error:' "$TMPD"/*.err | head -n 30)"
else
  t_ok migration-no-sanitizer-reports
fi
