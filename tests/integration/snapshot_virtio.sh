# Device state across a snapshot: the test guest (test=snapwork) drives a
# virtio-blk disk and a virtio-net user-mode network on each transport
# (virtio-pci with packed rings, MSI-X), the VM is paused and saved, and a
# copy restored from the snapshot must read the same device state through the
# API as the source did, and then go on where the source stopped: the next
# iteration's disk write and read-back (including the block the source wrote
# last) and its UDP echo.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/api_client.sh"
require_kvm
require_guest
UPORT=$((40000 + RANDOM % 20000))
timeout 120 socat UDP4-RECVFROM:$UPORT,fork,bind=127.0.0.1 EXEC:cat 2>/dev/null &
UPID=$!
trap 'kite_api_stop; kill $UPID 2>/dev/null; rm -rf "$TMPD"' EXIT
sleep 0.3

last_iter() { grep -oE "snapwork $1iter=[0-9]+ ok" "$2" | tail -n 1 | grep -oE '[0-9]+'; }

# consecutive WHAT FILE... : the "snapwork WHATiter=K ok" lines of the files,
# concatenated (a line may be split between them), are K = 1, 2, 3, ...
consecutive() {
  local what=$1; shift
  cat "$@" | tr -d '\r' | grep -oE "snapwork ${what}iter=[0-9]+ ok" | grep -oE '[0-9]+' | awk '
    { if ($1 != NR) { print "line " NR ": iteration " $1; bad = 1; exit } }
    END { if (!bad && NR < 10) { print "only " NR " iterations"; bad = 1 } exit bad }'
}

# state_of DEV ATTR : the attribute's hex value through the API (empty on error).
state_of() {
  api GET "/devices/$1/attributes/$2"
  [ "$CODE" = 200 ] && grep -oE '"value":"[0-9a-f]+"' <<< "$BODY" | cut -d'"' -f4
}

for tr in mmio pci; do
  ring=""; [ $tr = pci ] && ring="ring=packed"
  DISK=$TMPD/disk-$tr.img SNAP=$TMPD/$tr.snap MEM=$TMPD/$tr.mem SOCK=$TMPD/api-$tr.sock
  truncate -s 8M "$DISK"
  if ! kite_api_start "$SOCK" "$TMPD/src-$tr.txt" --mem 128M --transport $tr \
      --disk path="$DISK",id=vda --net user,id=net0 \
      --cmdline "test=snapwork mb=4 blk=1 net=1 port=$UPORT transport=$tr $ring period_ms=20"; then
    t_fail "snapshot-virtio-$tr-source-starts" "$(cat "$TMPD/kite.err")"; continue
  fi
  for i in $(seq 200); do
    [ "$(last_iter 'net ' "$TMPD/src-$tr.txt")" -ge 5 ] 2>/dev/null && break
    sleep 0.05
  done
  api PATCH /vm '{"state":"Paused"}'
  declare -A saved=()
  for a in vda/virtio_state vda/transport_state net0/virtio_state net0/net_state; do
    saved[$a]=$(state_of "${a%/*}" "${a#*/}")
  done
  api PUT /snapshot/create "{\"snapshot_path\":\"$SNAP\",\"mem_file_path\":\"$MEM\"}"
  expect_api "snapshot-virtio-$tr-create" 204
  n=$(last_iter 'blk ' "$TMPD/src-$tr.txt")
  check "snapshot-virtio-$tr-source-did-io" test "${n:-0}" -ge 5
  kite_api_stop

  # Restored paused: the device state reads back as saved.
  SOCK=$TMPD/api-$tr-copy.sock
  "$KITE" run --restore "$SNAP" --api-sock "$SOCK" --serial "file:$TMPD/copy-$tr.txt" \
    < /dev/null > /dev/null 2> "$TMPD/copy-$tr.err" &
  KPID=$!
  for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
  same=1
  for a in "${!saved[@]}"; do
    got=$(state_of "${a%/*}" "${a#*/}")
    [ -n "$got" ] && [ "$got" = "${saved[$a]}" ] || { same=0; echo "# $a differs"; }
  done
  check "snapshot-virtio-$tr-device-state-restored-exactly" test $same = 1
  api PATCH /vm '{"state":"Resumed"}'
  for i in $(seq 100); do
    [ "$(last_iter 'net ' "$TMPD/copy-$tr.txt")" -ge $((n + 5)) ] 2>/dev/null && break
    sleep 0.05
  done
  kite_api_stop
  for what in blk net; do
    if why=$(consecutive "$what " "$TMPD/src-$tr.txt" "$TMPD/copy-$tr.txt"); then
      t_ok "snapshot-virtio-$tr-copy-continues-$what-iterations"
    else
      t_fail "snapshot-virtio-$tr-copy-continues-$what-iterations" "$why; $(grep FAIL \
        "$TMPD/copy-$tr.txt") $(head -c 300 "$TMPD/copy-$tr.err")"
    fi
  done
  check "snapshot-virtio-$tr-copy-keeps-working" \
    test "$(last_iter 'net ' "$TMPD/copy-$tr.txt")" -ge $((n + 5))
done
