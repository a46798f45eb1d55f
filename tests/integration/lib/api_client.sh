# Helpers for the control API tests (sourced after common.sh).
# Needs curl; the stalled-client checks need socat.

# kite_api_start SOCK SERIAL-FILE KITE-ARGS... : start kite in the background
# running the test guest with --api-sock SOCK; sets KPID; waits for the socket.
KPID=""
kite_api_start() {
  local sock=$1 serial=$2 i; shift 2
  # Under ASan, a small quarantine keeps RSS meaningful for the leak check.
  ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=1" "$KITE" run --kernel "$GUEST" --api-sock "$sock" --serial "file:$serial" "$@" \
    < /dev/null > "$TMPD/kite.out" 2> "$TMPD/kite.err" &
  KPID=$!
  # Until it answers (a stale socket file may exist before kite binds its own).
  for i in $(seq 100); do
    [ -S "$sock" ] && curl -s --max-time 2 --unix-socket "$sock" -o /dev/null \
      http://localhost/vm && return 0
    kill -0 $KPID 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# kite_api_stop : make sure the background kite is gone (SIGKILL after 5 s).
kite_api_stop() {
  [ -n "$KPID" ] || return 0
  if kill -0 $KPID 2>/dev/null; then
    kill -TERM $KPID 2>/dev/null
    timeout 5 tail --pid=$KPID -f /dev/null 2>/dev/null || kill -KILL $KPID 2>/dev/null
  fi
  wait $KPID 2>/dev/null
  KPID=""
}

# api METHOD PATH [BODY] : one request with curl.  Sets CODE (HTTP status,
# 000 when no reply), BODY (the reply) and HDRS (the reply's headers).
CODE="" BODY="" HDRS=""
api() {
  local m=$1 p=$2
  local args=(-sS --max-time 20 --unix-socket "$SOCK" -X "$m" -o "$TMPD/api.body"
              -D "$TMPD/api.hdrs" -w '%{http_code}')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  CODE=$(curl "${args[@]}" "http://localhost$p" 2> "$TMPD/api.curlerr")
  BODY=$(cat "$TMPD/api.body" 2>/dev/null)
  HDRS=$(tr -d '\r' < "$TMPD/api.hdrs" 2>/dev/null)
}

# expect_api NAME STATUS [BODY-REGEX] : the last api call's status and body.
expect_api() {
  local n=$1 st=$2 pat=${3:-}
  if [ "$CODE" != "$st" ]; then
    t_fail "$n" "HTTP $CODE, expected $st: $BODY $(cat "$TMPD/api.curlerr" 2>/dev/null)"
  elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<< "$BODY"; then
    t_fail "$n" "body lacks /$pat/: $BODY"
  else
    t_ok "$n"
  fi
}

# expect_fault NAME STATUS [MESSAGE-REGEX] : an error with a fault_message.
expect_fault() {
  expect_api "$1" "$2" "^\{\"fault_message\":\"[^\"]*${3:-}"
}

# json_u64 KEY : the first "KEY":N in BODY (compact JSON), or empty.
json_u64() { grep -oE "\"$1\":[0-9]+" <<< "$BODY" | head -n 1 | cut -d: -f2; }

# ctl ARGS... : kite ctl against $SOCK; sets RC, OUT, ERR.
ctl() {
  timeout -k 5 30 "$KITE" ctl --api-sock "$SOCK" "$@" > "$TMPD/ctl.out" 2> "$TMPD/ctl.err"
  RC=$?
  OUT=$(cat "$TMPD/ctl.out"); ERR=$(cat "$TMPD/ctl.err")
}

# raw_open NAME DATA : connect with socat, send DATA (printf format), keep
# the connection open.  raw_wait NAME MAX-S : seconds until the server closed
# it (RAW_S; MAX-S+1 if it did not), RAW_OUT what the server sent.
declare -A RAW_PID RAW_FD RAW_T0
raw_open() {
  local n=$1 fd
  mkfifo "$TMPD/raw-$n.fifo"
  socat -t 0 STDIO "UNIX-CONNECT:$SOCK" < "$TMPD/raw-$n.fifo" > "$TMPD/raw-$n.out" 2>&1 &
  RAW_PID[$n]=$!
  exec {fd}> "$TMPD/raw-$n.fifo"
  RAW_FD[$n]=$fd
  # shellcheck disable=SC2059
  printf "$2" >&"$fd"
  RAW_T0[$n]=$(date +%s%N)
}
raw_wait() {
  local n=$1 max=$2 pid=${RAW_PID[$1]} fd=${RAW_FD[$1]}
  if timeout "$max" tail --pid="$pid" -f /dev/null 2>/dev/null; then
    RAW_S=$(( ($(date +%s%N) - RAW_T0[$n]) / 1000000000 ))
  else
    RAW_S=$((max + 1)); kill "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  exec {fd}>&-
  RAW_OUT=$(cat "$TMPD/raw-$n.out")
}

# count_gaps FILE : checks the guest's "count N" lines run 1, 2, 3... without
# a gap or a repeat; prints the last N, returns 1 on a gap.
count_gaps() {
  # The last line may still be being written: leave it out.
  tr -d '\r' < "$1" | sed '$d' | awk '/^count [0-9]+$/ { n++; if ($2 != n) { print "gap at " n ": " $2; bad = 1; exit } }
                          END { if (!bad) print n; exit bad }'
}

# rss_kb PID : the process's resident set in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
