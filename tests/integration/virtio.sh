# virtio devices on kite, both transports: the test guest's ring-3 drivers
# (tests/guest/lib/virtio*.c) against virtio-blk, -rng and -console; the
# disk contents checked on the host; every hostile-driver case; the devices
# in the control API.
. "$TOP/tests/integration/lib/common.sh"
require_kvm
require_guest
PATTERN=$(dirname "$KITE")/tests/tools/kite-pattern
[ -x "$PATTERN" ] || { t_fail pattern-tool-built "$PATTERN is missing"; exit 1; }

DISK=$TMPD/disk.img
new_disk() { rm -f "$DISK"; truncate -s "${1:-64M}" "$DISK"; }

# Every "blk wrote OFF LEN SEED" / "blk zeroed OFF LEN" line of $OUT, checked
# against the image file.
check_disk() {
  local n=$1 bad=0 lines=0 what off len seed
  while read -r what off len seed; do
    lines=$((lines + 1))
    case "$what" in
      wrote) "$PATTERN" check "$DISK" "$seed" "$off" "$len" > /dev/null || bad=$((bad + 1)) ;;
      zeroed) "$PATTERN" zero "$DISK" "$off" "$len" > /dev/null || bad=$((bad + 1)) ;;
    esac
  done < <(grep -oE '^blk (wrote|zeroed) [0-9]+ [0-9]+( [0-9]+)?' <<< "$OUT" | cut -d' ' -f2-)
  if [ "$lines" -ge 10 ] && [ "$bad" = 0 ]; then
    t_ok "$n"
  else
    t_fail "$n" "$lines ranges reported, $bad wrong on the host"
  fi
}

for tr in mmio pci; do
  new_disk
  run_kite 60 run --kernel "$GUEST" --mem 128M --transport $tr --disk path="$DISK" \
    --cmdline "test=vblk transport=$tr seed=$RANDOM"
  expect "virtio-$tr-blk-write-read-flush-passes" 1 "^PASS"
  check_disk "virtio-$tr-blk-data-is-on-the-host-file"

  new_disk
  run_kite 60 run --kernel "$GUEST" --mem 128M --transport $tr --disk path="$DISK",queues=4 \
    --cmdline "test=vblk transport=$tr ring=packed queues=4 irq=1 seed=$RANDOM"
  expect "virtio-$tr-blk-packed-multiqueue-interrupts-passes" 1 "^PASS"
  check_disk "virtio-$tr-blk-packed-multiqueue-data-is-on-the-host-file"

  new_disk 1M
  cp "$DISK" "$TMPD/before.img"
  run_kite 60 run --kernel "$GUEST" --mem 64M --transport $tr --disk path="$DISK",ro \
    --cmdline "test=vblk transport=$tr ro=1"
  expect "virtio-$tr-blk-read-only-refuses-writes" 1 "^PASS"
  check "virtio-$tr-blk-read-only-image-unchanged" cmp -s "$DISK" "$TMPD/before.img"

  run_kite 60 run --kernel "$GUEST" --mem 64M --transport $tr --rng \
    --cmdline "test=vrng transport=$tr"
  expect "virtio-$tr-rng-gives-entropy" 1 "^PASS"

  KITE_STDIN=<(sleep 1; printf 'hello-vcons\r\n') run_kite 60 run --kernel "$GUEST" --mem 64M \
    --transport $tr --console stdio --cmdline "test=vcons transport=$tr expect=hello-vcons"
  expect "virtio-$tr-console-round-trip" 1 "kite-vcons: hello from the test guest" 

  # A driver that breaks the rules: NEEDS_RESET on that device only; the
  # other device works; the guest's reset brings the device back.
  new_disk 4M
  for c in loop oob mmio oversize nested qsize early; do
    for target in blk rng; do
      run_kite 60 run --kernel "$GUEST" --mem 64M --transport $tr --disk path="$DISK" --rng \
        --cmdline "test=vhostile transport=$tr case=$c target=$target"
      expect "virtio-$tr-hostile-$c-$target-needs-reset-others-unaffected" 1 \
        "^needs_reset" "needs a reset"
    done
  done
done

# PCI without MSI-X: the level-triggered INTx line (resample irqfd).
new_disk
run_kite 60 run --kernel "$GUEST" --mem 128M --transport pci --disk path="$DISK" \
  --cmdline "test=vblk transport=pci irq=intx seed=$RANDOM"
expect virtio-pci-blk-intx-level-interrupts-pass 1 "^PASS"
check_disk virtio-pci-blk-intx-data-is-on-the-host-file

# O_DIRECT: the same data path without the host page cache.
new_disk
run_kite 60 run --kernel "$GUEST" --mem 128M --disk path="$DISK",direct=on \
  --cmdline "test=vblk seed=$RANDOM"
expect virtio-blk-direct-io-passes 1 "^PASS"
check_disk virtio-blk-direct-io-data-is-on-the-host-file

# A driver without FLUSH gets a write-through device (RWF_DSYNC writes).
new_disk
run_kite 60 run --kernel "$GUEST" --mem 128M --disk path="$DISK" --log-level info \
  --cmdline "test=vblk seed=$RANDOM flush=0"
expect virtio-blk-without-flush-passes 1 "^PASS" "did not negotiate FLUSH: writes are written through"
check_disk virtio-blk-without-flush-data-is-on-the-host-file

# Writes the guest saw completed, then flushed, survive kill -9 of kite.
new_disk
"$KITE" run --kernel "$GUEST" --mem 128M --disk path="$DISK" --serial file:"$TMPD/hold.txt" \
  --cmdline "test=vblk seed=$RANDOM hold=1" < /dev/null > /dev/null 2>&1 &
kpid=$!
for i in $(seq 300); do grep -q "vblk: holding" "$TMPD/hold.txt" 2>/dev/null && break; sleep 0.1; done
kill -KILL $kpid 2>/dev/null; wait $kpid 2>/dev/null
bad=0; n=0
while read -r _ _ off len seed; do
  n=$((n + 1))
  "$PATTERN" check "$DISK" "$seed" "$off" "$len" > /dev/null || bad=$((bad + 1))
done < <(grep -E '^blk flushed [0-9]+ [0-9]+ [0-9]+' "$TMPD/hold.txt")
if [ "$n" -ge 10 ] && [ "$bad" = 0 ]; then
  t_ok virtio-blk-flushed-writes-survive-kill-9
else
  t_fail virtio-blk-flushed-writes-survive-kill-9 "$n ranges, $bad wrong"
fi

# Console on a Unix socket.
SOCK=$TMPD/cons.sock
( sleep 0.2; for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
  (sleep 1; printf 'via-socket\r\n'; sleep 1) | socat - UNIX-CONNECT:"$SOCK" > /dev/null ) &
run_kite 60 run --kernel "$GUEST" --mem 64M --console socket="$SOCK" \
  --cmdline "test=vcons expect=via-socket timeout=10"
wait
expect virtio-console-socket-round-trip 1 "received \"via-socket\""

# Bad device options: a clear message and the usage status.
run_kite 10 run --kernel "$GUEST" --disk ro
expect virtio-disk-without-path-is-a-usage-error 2 "" "needs path=FILE"
run_kite 10 run --kernel "$GUEST" --disk path="$DISK",queues=99
expect virtio-disk-bad-queues-is-a-usage-error 2 "" "queues=99 is out of range"
run_kite 10 run --kernel "$GUEST" --transport isa
expect virtio-bad-transport-is-a-usage-error 2 "" "use pci or mmio"
run_kite 10 run --kernel "$GUEST" --disk path=/nonexistent/disk.img
expect virtio-missing-disk-file-is-reported 10 "" "/nonexistent/disk.img"

# The devices in the control API: attributes, counters, the reset command,
# pause with device threads.
. "$TOP/tests/integration/lib/api_client.sh"
SOCK=$TMPD/api.sock
new_disk 8M
if kite_api_start "$SOCK" "$TMPD/serial.txt" --disk path="$DISK",id=vda --rng \
    --cmdline "test=count interval_ms=5"; then
  api GET /devices/vda
  expect_api virtio-api-disk-is-listed-with-its-class 200 '"type": *"virtio-blk"'
  api GET /devices/vda/attributes/capacity
  expect_api virtio-api-disk-capacity-in-sectors 200 '"value": *16384'
  api GET /devices/rng0/attributes/needs_reset
  expect_api virtio-api-needs-reset-is-false 200 '"value": *false'
  # State is virtio_state (bytes, hex in JSON); status is a read-only view.
  api GET /devices/vda/attributes/virtio_state
  expect_api virtio-api-state-is-bytes 200 '"type": *"bytes".*"value": *"01[0-9a-f]+"'
  vstate=$(grep -oE '"value": *"[0-9a-f]+"' <<< "$BODY" | cut -d'"' -f4)
  api PUT /devices/vda/attributes/virtio_state "{\"value\": \"$vstate\"}"
  expect_fault virtio-api-state-write-while-running-is-refused 409 'pause'
  api PUT /devices/vda/attributes/status '{"value": 0}'
  expect_fault virtio-api-status-is-read-only 400 'read-only'
  api PATCH /vm '{"state":"Paused"}'
  expect_api virtio-api-pause-with-device-threads 204
  api GET /devices/vda/attributes/virtio_state
  vstate=$(grep -oE '"value": *"[0-9a-f]+"' <<< "$BODY" | cut -d'"' -f4)
  api PUT /devices/vda/attributes/virtio_state "{\"value\": \"$vstate\"}"
  expect_api virtio-api-state-write-while-paused 204
  api GET /devices/vda/attributes/virtio_state
  expect_api virtio-api-state-reads-back 200 "\"value\": *\"$vstate\""
  api PUT /devices/vda/attributes/virtio_state '{"value": "01"}'
  expect_fault virtio-api-malformed-state-is-refused 400 'virtio_state: truncated'
  api PATCH /vm '{"state":"Resumed"}'
  expect_api virtio-api-resume-with-device-threads 204
  api PUT /devices/vda/commands/reset
  expect_api virtio-api-reset-command 204
  # The reset runs on the device's I/O thread: poll for it.
  for i in $(seq 20); do
    api GET /devices/vda/attributes/resets
    grep -qE '"value": *[1-9]' <<< "$BODY" && break
    sleep 0.1
  done
  expect_api virtio-api-reset-counted 200 '"value": *[1-9]'
  api GET /metrics
  expect_api virtio-api-metrics-list-device-counters 200 '"vda"'
  kill -0 "$KPID" 2>/dev/null && t_ok virtio-api-vm-still-running || t_fail virtio-api-vm-still-running
  kite_api_stop
else
  t_fail virtio-api-kite-starts "$(cat "$TMPD/kite.err")"
fi

# virtio-net: user-mode networking (libslirp; no root needed) and a tap in a
# network namespace made here, on both transports.
for tr in mmio pci; do
  run_kite 60 run --kernel "$GUEST" --mem 64M --transport $tr --net user \
    --cmdline "test=vnet transport=$tr"
  expect "virtio-$tr-net-user-arp-and-ping-the-gateway" 1 "ICMP echo reply from the gateway"
done
UPORT=$((40000 + RANDOM % 20000))
timeout 30 socat UDP4-RECVFROM:$UPORT,fork,bind=127.0.0.1 EXEC:cat 2>/dev/null &
upid=$!
sleep 0.3
run_kite 60 run --kernel "$GUEST" --mem 64M --net user --cmdline "test=vnet mode=udp port=$UPORT"
expect virtio-net-user-udp-reaches-a-host-service 1 "UDP echo from the gateway port $UPORT"
kill $upid 2>/dev/null; wait $upid 2>/dev/null

NS=kite-it-$$
# run_ns TIMEOUT ARGS... : run_kite inside the namespace.
run_ns() {
  local t=$1; shift
  timeout -k 5 "$t" ip netns exec $NS "$KITE" "$@" < /dev/null > "$TMPD/out" 2> "$TMPD/err"
  RC=$?
  OUT=$(cat "$TMPD/out"); ERR=$(cat "$TMPD/err")
}
if ip netns add $NS 2>/dev/null; then
  ip netns exec $NS ip link set lo up
  ip netns exec $NS ip tuntap add dev ktap0 mode tap
  ip netns exec $NS ip tuntap add dev ktap1 mode tap multi_queue
  for t in ktap0 ktap1; do
    ip netns exec $NS ip link set $t up
  done
  ip netns exec $NS ip addr add 10.0.2.2/24 dev ktap0
  for tr in mmio pci; do
    run_ns 60 run --kernel "$GUEST" --mem 64M --transport $tr \
      --net tap=ktap0 --cmdline "test=vnet transport=$tr"
    expect "virtio-$tr-net-tap-arp-and-ping-the-host" 1 "ICMP echo reply from the gateway"
  done
  ip netns exec $NS ip addr del 10.0.2.2/24 dev ktap0
  ip netns exec $NS ip addr add 10.0.2.2/24 dev ktap1
  run_ns 60 run --kernel "$GUEST" --mem 64M --cpus 2 \
    --net tap=ktap1,queues=2 --cmdline "test=vnet"
  expect virtio-net-multiqueue-tap-ping-the-host 1 "ICMP echo reply from the gateway"
  # A single-queue tap cannot serve two queue pairs: a clear error.
  run_ns 10 run --kernel "$GUEST" --net tap=ktap0,queues=2
  expect virtio-net-tap-errors-are-clear 10 "" "ktap0"
  ip netns del $NS
else
  t_fail virtio-net-netns "cannot create a network namespace (root needed)"
fi
run_kite 10 run --kernel "$GUEST" --net tap
expect virtio-net-bad-option-is-a-usage-error 2 "" "--net"
