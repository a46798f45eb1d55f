# The control API over its real Unix socket, with curl and with `kite ctl`:
# pause/resume of a counting guest, attribute round trips, commands, every
# error case, stalled and vanishing clients, a stress run, shutdown.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/api_client.sh"
require_kvm
require_guest
for tool in curl socat; do
  command -v $tool > /dev/null || { t_fail "api-tools" "$tool is not installed (scripts/deps.sh)"; exit 1; }
done

SOCK=$TMPD/api.sock
SERIAL=$TMPD/serial.txt
trap 'kite_api_stop; rm -rf "$TMPD"' EXIT

if ! kite_api_start "$SOCK" "$SERIAL" --cpus 2 --cmdline "test=count interval_ms=2"; then
  t_fail api-server-starts "no socket at $SOCK: $(cat "$TMPD/kite.err")"; exit 1
fi
t_ok api-server-starts
check api-socket-has-mode-0600 [ "$(stat -c %a "$SOCK")" = 600 ]

# ---- the VM: state, pause, resume ----
api GET /vm
expect_api get-vm-says-running 200 '^\{"state":"Running","vcpus":2,"mem_size_mib":[0-9]+\}$'
sleep 0.3
api PATCH /vm '{"state":"Paused"}'
expect_api patch-vm-paused-is-204 204 '^$'
api GET /vm
expect_api get-vm-says-paused 200 '"state":"Paused"'
n1=$(grep -c '^count' "$SERIAL"); sleep 0.5; n2=$(grep -c '^count' "$SERIAL")
check paused-guest-stops-counting [ "$n1" -gt 0 ] && [ "$n1" = "$n2" ]
api PATCH /vm '{"state":"Paused"}'
expect_api pausing-a-paused-vm-is-a-no-op 204
api PATCH /vm '{"state":"Resumed"}'
expect_api patch-vm-resumed-is-204 204
api GET /vm
expect_api get-vm-says-running-again 200 '"state":"Running"'
sleep 0.5
n3=$(grep -c '^count' "$SERIAL")
check resumed-guest-counts-on [ "$n3" -gt "$n2" ]
if last=$(count_gaps "$SERIAL"); then t_ok count-has-no-gap-across-pause
else t_fail count-has-no-gap-across-pause "$last"; fi

# ---- devices and attributes ----
api GET /devices
expect_api devices-lists-serial0-with-resources 200 \
  '\{"id":"serial0","type":"serial-16550a","state_version":[0-9]+,"resources":\[\{"kind":"pio","base":1016,"len":8\}'
api GET /devices/serial0
expect_api device-describes-attributes-and-commands 200 \
  '"attributes":\[.*\{"name":"scr","type":"u64","access":"state","writable":true,"doc":"[^"]+"\}.*"commands":\[.*\{"name":"reset"'
api GET /devices/serial0/attributes/scr
expect_api attribute-get-has-name-type-access-value 200 \
  '^\{"name":"scr","type":"u64","access":"state","value":[0-9]+\}$'
api PUT /devices/serial0/attributes/scr '{"value":90}'
expect_fault writing-state-while-running-is-409 409 'pause'
api PATCH /vm '{"state":"Paused"}'
api PUT /devices/serial0/attributes/scr '{"value":165}'
expect_api writing-state-while-paused-is-204 204
api GET /devices/serial0/attributes/scr
expect_api attribute-reads-back-what-was-written 200 '"value":165\}$'
api PATCH /vm '{"state":"Resumed"}'
api GET /devices/serial0/attributes/scr
expect_api attribute-survives-resume 200 '"value":165\}$'
api PUT /devices/serial0/commands/reset
expect_api reset-command-without-body-is-204 204
api GET /devices/serial0/attributes/scr
expect_api reset-command-cleared-the-scratch-register 200 '"value":0\}$'
api PUT /devices/i8042/commands/reset '{}'
expect_api command-with-empty-object-is-204 204
api GET /devices/serial0/attributes
expect_api attribute-list-has-values 200 '^\[\{"name":"ier".*"value":'

# ---- every error: a 4xx with a fault_message, and the VM unaffected ----
api PATCH /vm '{"state":'
expect_fault malformed-json-is-400 400 'malformed JSON'
api PATCH /vm '{"state":"Paused"} x'
expect_fault trailing-garbage-is-400 400 'malformed JSON'
api PATCH /vm '["Paused"]'
expect_fault non-object-body-is-400 400 'JSON object'
api PATCH /vm '{"state":"Frozen"}'
expect_fault unknown-state-is-400 400 'unknown state'
api PATCH /vm '{"state":"Paused","force":true}'
expect_fault unknown-field-is-400 400 "unknown field 'force'"
api PUT /actions '{"action_type":"Reboot"}'
expect_fault unknown-action-is-400 400 'unknown action_type'
api GET /nowhere
expect_fault unknown-path-is-404 404 'no such path'
api DELETE /vm
expect_fault wrong-method-is-405 405 'not allowed'
if grep -qi '^Allow: GET, PATCH$' <<< "$HDRS"; then t_ok wrong-method-has-allow-header
else t_fail wrong-method-has-allow-header "$HDRS"; fi
api GET /devices/nosuch
expect_fault unknown-device-is-404 404 "no device 'nosuch'"
api GET /devices/serial0/attributes/nosuch
expect_fault unknown-attribute-is-404 404 "no attribute 'nosuch'"
api PUT /devices/serial0/commands/nosuch
expect_fault unknown-command-is-404 404 "no command 'nosuch'"
api PATCH /vm '{"state":"Paused"}'
api PUT /devices/serial0/attributes/scr '{"value":"7"}'
expect_fault string-for-u64-is-400 400 'must be an integer'
api PUT /devices/serial0/attributes/scr '{"value":-1}'
expect_fault negative-u64-is-400 400 'negative'
api PUT /devices/serial0/attributes/scr '{"value":1.5}'
expect_fault fraction-for-u64-is-400 400 'must be an integer'
api PUT /devices/serial0/attributes/scr '{"value":99999999999999999999}'
expect_fault integer-over-64-bits-is-400 400 '64 bits'
api PUT /devices/serial0/attributes/scr '{"value":256}'
expect_fault out-of-range-value-is-400 400 'out of range'
api PUT /devices/serial0/attributes/tx_bytes '{"value":1}'
expect_fault read-only-attribute-is-400 400 'read-only'
api PATCH /vm '{"state":"Resumed"}'
head -c 1048576 /dev/zero | tr '\0' ' ' > "$TMPD/big.json"
api PUT /actions "@$TMPD/big.json"
expect_fault one-mib-body-is-413 413 'too large'
CODE=$(curl -sS --max-time 20 --unix-socket "$SOCK" -X PUT -H 'Transfer-Encoding: chunked' \
  --data-binary "@$TMPD/big.json" -o "$TMPD/api.body" -w '%{http_code}' http://localhost/actions)
BODY=$(cat "$TMPD/api.body")
expect_fault one-mib-chunked-body-is-413 413 'too large'
# Headers over kite's limit (16 KiB, far below libmicrohttpd's own): a 431
# with a fault_message, not libmicrohttpd's HTML; 8 KiB are fine.
head -c 20000 /dev/zero | tr '\0' a | sed 's/^/X-Big: /' > "$TMPD/big.hdr"
CODE=$(curl -sS --max-time 20 --unix-socket "$SOCK" -H "@$TMPD/big.hdr" -o "$TMPD/api.body" \
  -w '%{http_code}' http://localhost/vm)
BODY=$(cat "$TMPD/api.body")
expect_fault twenty-kib-of-headers-is-431 431 'headers are too large'
CODE=$(curl -sS --max-time 20 --unix-socket "$SOCK" -H "X-Big: $(head -c 8000 /dev/zero | tr '\0' a)" \
  -o "$TMPD/api.body" -w '%{http_code}' http://localhost/vm)
BODY=$(cat "$TMPD/api.body")
expect_api eight-kib-of-headers-are-fine 200 '"state":"Running"'

# Clients that stall (in the headers, in the body) get a 408 with a
# fault_message and are closed after ~5 s while others are served at once;
# an idle one is closed without a word; one that vanishes mid-request is dropped.
raw_open head 'GET /vm HTTP/1.1\r\nHost: x\r\nContent-Ty'
raw_open body 'PUT /actions HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n{"action_'
raw_open idle ''
# This one sends half a request and hangs up at once.
printf 'PATCH /vm HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"state":"Pau' |
  timeout 5 socat -t 0.2 STDIO "UNIX-CONNECT:$SOCK" > /dev/null 2>&1
t0=$(date +%s%N)
api GET /vm
t1=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_api stalled-clients-do-not-delay-others 200 '"state":"Running"'
check stalled-clients-do-not-delay-others-under-1s [ "$t1" -lt 1000 ]
raw_is_408() {
  grep -q $'^HTTP/1.1 408 Request Timeout\r$' <<< "$RAW_OUT" &&
    grep -q $'^Connection: close\r$' <<< "$RAW_OUT" &&
    grep -q '^{"fault_message":"the request was not completed within 5 s"}$' <<< "$RAW_OUT"
}
raw_wait head 12
check stalled-in-headers-is-closed-after-timeout [ "$RAW_S" -ge 4 ] && [ "$RAW_S" -le 8 ]
check stalled-in-headers-gets-408-with-fault-message raw_is_408
raw_wait body 12
check stalled-in-body-is-closed-after-timeout [ "$RAW_S" -ge 4 ] && [ "$RAW_S" -le 8 ]
check stalled-in-body-gets-408-with-fault-message raw_is_408
raw_wait idle 12
check idle-connection-is-closed-after-timeout [ "$RAW_S" -le 8 ]
check idle-connection-gets-no-reply [ -z "$RAW_OUT" ]
api GET /vm
expect_api vm-still-answers-after-bad-clients 200 '"state":"Running"'
n4=$(grep -c '^count' "$SERIAL"); sleep 0.3; n5=$(grep -c '^count' "$SERIAL")
check guest-still-counting-after-bad-clients [ "$n5" -gt "$n4" ]

# ---- metrics ----
api GET /metrics
expect_api metrics-have-per-vcpu-exits 200 '^\{"vcpus":\[\{"id":0,"exits":\{.*\}\},\{"id":1,'
expect_api metrics-have-exit-totals 200 '"exits_total":\{"[a-z_]+":[0-9]+'
expect_api metrics-have-device-counters 200 '"devices":\{.*"serial0":\{[^}]*"tx_bytes":[1-9][0-9]*'
expect_api metrics-count-api-requests-errors-timeouts-aborts 200 \
  '"api":\{"requests":[1-9][0-9]*,"errors":[1-9][0-9]*,"timeouts":[1-9][0-9]*,"aborted":[1-9]'

# ---- kite ctl ----
ctl state
expect ctl-state-pretty-prints 0 '^  "state": "Running",$'
ctl --json state
expect ctl-json-state-is-compact 0 '^\{"state":"Running","vcpus":2,'
ctl pause
expect ctl-pause-exits-0 0
ctl set serial0 scr 0x42
expect ctl-set-while-paused-exits-0 0
ctl --json get serial0 scr
expect ctl-get-reads-back 0 '"value":66\}$'
ctl resume
expect ctl-resume-exits-0 0
ctl set serial0 scr 1
expect ctl-set-state-while-running-exits-1-with-fault 1 "" '409: .*pause'
ctl set serial0 scr notanumber
expect ctl-set-bad-u64-is-usage-error 2 "" 'not a u64'
ctl get serial0 nosuch
expect ctl-unknown-attribute-exits-1 1 "" "404: device 'serial0' has no attribute 'nosuch'"
ctl cmd serial0 reset
expect ctl-cmd-reset-exits-0 0
ctl --json device serial0
expect ctl-device-describes 0 '"commands":\['
ctl --json devices
expect ctl-devices-lists 0 '"id":"i8042"'
ctl --json metrics
expect ctl-metrics 0 '"exits_total"'
ctl --json raw GET /vm
expect ctl-raw-get 0 '"state":"Running"'
ctl raw POST /vm '{}'
expect ctl-raw-wrong-method-exits-1 1 "" '405'
ctl raw PUT /actions - < "$TMPD/big.json"
expect ctl-raw-one-mib-body-exits-1-with-413 1 "" '413: .*too large'
ctl frobnicate
expect ctl-unknown-verb-exits-2 2 "" "unknown verb 'frobnicate'"
ctl get serial0
expect ctl-missing-argument-exits-2 2 "" 'usage: kite ctl'
timeout 10 "$KITE" ctl --api-sock "$TMPD/none.sock" state > /dev/null 2> "$TMPD/ctl.err"; RC=$?; ERR=$(cat "$TMPD/ctl.err")
expect ctl-no-socket-exits-2 2 "" 'no API socket'
timeout 10 env -u KITE_API_SOCK "$KITE" ctl state > /dev/null 2> "$TMPD/ctl.err"; RC=$?; ERR=$(cat "$TMPD/ctl.err")
expect ctl-without-api-sock-exits-2 2 "" 'no API socket'
KITE_API_SOCK=$SOCK timeout 10 "$KITE" ctl --json state > "$TMPD/ctl.out" 2>&1; RC=$?; OUT=$(cat "$TMPD/ctl.out")
expect ctl-takes-socket-from-environment 0 '"state":"Running"'

# ---- a second kite on the same socket is refused; the first keeps it ----
run_kite 10 run --kernel "$GUEST" --cmdline "test=hello" --api-sock "$SOCK"
if [ "$RC" != 0 ] && grep -q 'in use' <<< "$ERR"; then t_ok second-kite-on-a-busy-socket-is-refused
else t_fail second-kite-on-a-busy-socket-is-refused "status $RC: $ERR"; fi
api GET /vm
expect_api first-kite-keeps-its-socket 200 '"state":"Running"'
: > "$TMPD/regular"
run_kite 10 run --kernel "$GUEST" --cmdline "test=hello" --api-sock "$TMPD/regular"
if [ "$RC" != 0 ] && grep -q 'not a socket' <<< "$ERR" && [ -f "$TMPD/regular" ]; then
  t_ok socket-path-that-is-a-file-is-refused-and-kept
else t_fail socket-path-that-is-a-file-is-refused-and-kept "status $RC: $ERR"; fi

# ---- stress: 8 clients x 200 requests (GET and PATCH) while the guest counts ----
for i in $(seq 50); do api GET /vm; done			# warm up allocator caches
rss0=$(rss_kb $KPID)
stress_client() {
  local i fails=0 code body
  for i in $(seq 200); do
    case $((i % 4)) in
      0) body='{"state":"Paused"}' ;;
      2) body='{"state":"Resumed"}' ;;
      *) body="" ;;
    esac
    if [ -n "$body" ]; then
      code=$(curl -s --max-time 10 --unix-socket "$SOCK" -X PATCH --data-binary "$body" \
        -o /dev/null -w '%{http_code}' http://localhost/vm)
      [ "$code" = 204 ] || fails=$((fails + 1))
    else
      code=$(curl -s --max-time 10 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' \
        http://localhost/vm)
      [ "$code" = 200 ] || fails=$((fails + 1))
    fi
  done
  echo "$fails" > "$TMPD/stress.$1"
}
t0=$(date +%s)
pids=()
for c in $(seq 8); do stress_client "$c" & pids+=($!); done
# Bounded: every curl has --max-time, and the whole run 180 s.
if timeout 180 bash -c "while [ \$(ls $TMPD/stress.* 2>/dev/null | wc -l) -lt 8 ]; do sleep 0.2; done"; then
  wait_ok=1
else
  wait_ok=0; kill "${pids[@]}" 2>/dev/null
fi
wait "${pids[@]}" 2>/dev/null
fails=$(cat "$TMPD"/stress.* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
echo "# stress: $fails failures in $(( $(date +%s) - t0 )) s"
check stress-1600-requests-from-8-clients-finish-in-time [ "$wait_ok" = 1 ]
check stress-has-no-failed-request [ "$fails" = 0 ]
api PATCH /vm '{"state":"Resumed"}'
for i in $(seq 50); do api GET /vm; done
rss1=$(rss_kb $KPID)
limit=4096; [ "${TEST_LABEL:-plain}" = plain ] || limit=16384
echo "# stress: kite's RSS $rss0 -> $rss1 kB (limit +$limit kB)"
check stress-does-not-grow-kite-rss [ $((rss1 - rss0)) -lt $limit ]
n6=$(grep -c '^count' "$SERIAL"); sleep 0.3; n7=$(grep -c '^count' "$SERIAL")
check guest-counts-after-stress [ "$n7" -gt "$n6" ]
if last=$(count_gaps "$SERIAL"); then t_ok count-has-no-gap-after-stress
else t_fail count-has-no-gap-after-stress "$last"; fi

# ---- shutdown: 204, kite exits 0 and removes its socket ----
ctl ctrl-alt-del
expect ctl-ctrl-alt-del-exits-0 0
api PUT /actions '{"action_type":"Shutdown"}'
expect_api shutdown-action-is-204 204
if timeout 10 tail --pid=$KPID -f /dev/null; then
  wait $KPID; rc=$?; KPID=""
  check kite-exits-0-after-shutdown-action [ "$rc" = 0 ]
else
  t_fail kite-exits-0-after-shutdown-action "kite still running 10 s after Shutdown"
fi
check socket-removed-at-exit [ ! -e "$SOCK" ]

# ---- a stale socket (kite killed) is replaced by the next kite ----
if kite_api_start "$SOCK" "$SERIAL" --cmdline "test=serial expect=never timeout=30"; then
  kill -KILL $KPID; wait $KPID 2>/dev/null; KPID=""
  if [ -S "$SOCK" ] && kite_api_start "$SOCK" "$SERIAL" --cmdline "test=serial expect=never timeout=30"; then
    api GET /vm
    expect_api stale-socket-is-replaced 200 '"state":"Running"'
    ctl pause
    ctl shutdown
    expect ctl-shutdown-of-a-paused-vm-exits-0 0
    timeout 10 tail --pid=$KPID -f /dev/null; wait $KPID; rc=$?; KPID=""
    check kite-exits-0-after-ctl-shutdown-while-paused [ "$rc" = 0 ]
  else
    t_fail stale-socket-is-replaced "$(cat "$TMPD/kite.err")"
  fi
else
  t_fail stale-socket-is-replaced "first kite did not start: $(cat "$TMPD/kite.err")"
fi
