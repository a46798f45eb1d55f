# Restored copies must not share an identity by accident.  The test guest
# (test=identity) prints its VM generation ID (found through the DSDT),
# each Generic Event Device interrupt with the ID it then reads, and its
# virtio-net MAC whenever the config generation moves.  A running guest is
# snapshotted; copies restored at the same time must each get a new ID and
# the interrupt, different from the source and from each other (a copy
# restored paused finds it pending at resume); --keep-identity keeps the ID;
# --net id=net0,mac=M gives the copy a new MAC that the guest reads after a
# config change (and is asked to announce), on both transports, and
# tap=NAME moves the device to another back end; an id the snapshot does not
# have is refused.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/api_client.sh"
require_kvm
require_guest
NS=""
trap 'kite_api_stop; [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null; rm -rf "$TMPD"' EXIT

NEWMAC=52:54:00:c0:ff:ee

# The guest's lines (CR dropped).
lines() { tr -d '\r' < "$1"; }
ticks() { lines "$1" | grep -oE 'identity tick=[0-9]+' | tail -n 1 | cut -d= -f2; }
wait_ticks() {   # FILE N: until the guest printed tick N (10 s)
  local i
  for i in $(seq 200); do
    [ "$(ticks "$1")" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
wait_line() {    # FILE REGEX: until the guest printed it (10 s)
  local i
  for i in $(seq 200); do
    lines "$1" | grep -qE -- "$2" && return 0
    sleep 0.05
  done
  return 1
}
# The ID a copy read after its GED interrupt (empty: none).
new_id() { lines "$1" | grep -oE 'GED interrupt [0-9]+, generation id [0-9a-f]{32} \(changed\)' |
           head -n 1 | grep -oE '[0-9a-f]{32}'; }

# attr DEV NAME : the attribute's value through the API ($SOCK), or empty.
attr() {
  api GET "/devices/$1/attributes/$2"
  [ "$CODE" = 200 ] && grep -oE '"value":("[^"]*"|[0-9]+)' <<< "$BODY" | cut -d: -f2- | tr -d '"'
}

# restore_api NAME KITE-ARGS... : a copy in the background with --api-sock
# $SOCK, serial into $TMPD/NAME.txt; waits for the socket.
restore_api() {
  local n=$1 i; shift
  SOCK=$TMPD/$n.sock
  "$KITE" run --restore "$SNAP" --api-sock "$SOCK" --serial "file:$TMPD/$n.txt" "$@" \
    < /dev/null > /dev/null 2> "$TMPD/$n.err" &
  KPID=$!
  for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
}

for tr in mmio pci; do
  SNAP=$TMPD/$tr.snap MEM=$TMPD/$tr.mem SOCK=$TMPD/src-$tr.sock
  if ! kite_api_start "$SOCK" "$TMPD/src-$tr.txt" --mem 64M --transport $tr --net user,id=net0 \
      --cmdline "test=identity net=1 irq=1 transport=$tr period_ms=50"; then
    t_fail "identity-$tr-source-starts" "$(cat "$TMPD/kite.err")"; continue
  fi
  wait_ticks "$TMPD/src-$tr.txt" 5 || t_fail "identity-$tr-source-runs" "$(tail -n 5 "$TMPD/src-$tr.txt")"
  src_id=$(lines "$TMPD/src-$tr.txt" | grep -oE 'vmgenid at 0x[0-9a-f]+ id=[0-9a-f]{32}' | grep -oE '[0-9a-f]{32}$')
  src_mac=$(lines "$TMPD/src-$tr.txt" | grep -oE 'mac [0-9a-f:]{17}' | head -n 1 | cut -d' ' -f2)
  check "identity-$tr-guest-finds-the-id-through-the-dsdt" test -n "$src_id"
  check "identity-$tr-api-shows-the-id-the-guest-reads" test "$(attr vmgenid generation_id)" = "$src_id"
  api PATCH /vm '{"state":"Paused"}'
  api PUT /snapshot/create "{\"snapshot_path\":\"$SNAP\",\"mem_file_path\":\"$MEM\"}"
  expect_api "identity-$tr-snapshot" 204
  kite_api_stop
  grep -q 'GED interrupt' "$TMPD/src-$tr.txt" && t_fail "identity-$tr-source-saw-no-ged" "$(grep GED "$TMPD/src-$tr.txt")"

  if [ $tr = mmio ]; then
    # Two copies at once: each its own new ID, announced by the interrupt.
    for i in 1 2; do
      timeout -k 2 3 "$KITE" run --restore "$SNAP" --resume --serial stdio < /dev/null \
        > "$TMPD/copy$i.txt" 2> "$TMPD/copy$i.err" &
    done
    wait
    id1=$(new_id "$TMPD/copy1.txt") id2=$(new_id "$TMPD/copy2.txt")
    for i in 1 2; do
      id=$(new_id "$TMPD/copy$i.txt")
      if [ -n "$id" ] && [ "$id" != "$src_id" ] && [ "$(ticks "$TMPD/copy$i.txt")" -gt 5 ]; then
        t_ok "identity-copy-$i-gets-a-new-generation-id-with-a-ged-interrupt"
      else
        t_fail "identity-copy-$i-gets-a-new-generation-id-with-a-ged-interrupt" \
          "source $src_id, copy '$id': $(grep -E 'GED|generation' "$TMPD/copy$i.txt" | head -n 3) $(head -c 300 "$TMPD/copy$i.err")"
      fi
    done
    check identity-copies-get-different-ids test -n "$id1" -a -n "$id2" -a "$id1" != "$id2"

    # Restored paused: the interrupt waits in the vCPU until the resume, and
    # is the first thing the guest sees.
    restore_api paused
    sleep 0.3
    paused_id=$(attr vmgenid generation_id)
    api PATCH /vm '{"state":"Resumed"}'
    wait_line "$TMPD/paused.txt" 'GED interrupt'
    if [ -n "$paused_id" ] && [ "$paused_id" != "$src_id" ] &&
       [ "$(new_id "$TMPD/paused.txt")" = "$paused_id" ] &&
       lines "$TMPD/paused.txt" | grep -m 1 identity | grep -q 'GED interrupt 1,'; then
      t_ok identity-paused-copy-gets-the-interrupt-at-resume
    else
      t_fail identity-paused-copy-gets-the-interrupt-at-resume \
        "api '$paused_id': $(grep -E 'GED|generation' "$TMPD/paused.txt" | head -n 3)"
    fi
    kite_api_stop

    # --keep-identity: the one copy that runs keeps the ID, no interrupt.
    restore_api keep --keep-identity --resume
    wait_ticks "$TMPD/keep.txt" 10
    if [ "$(attr vmgenid generation_id)" = "$src_id" ] && [ "$(ticks "$TMPD/keep.txt")" -ge 10 ] &&
       ! grep -qE 'GED interrupt|changed without' "$TMPD/keep.txt"; then
      t_ok identity-keep-identity-keeps-the-id
    else
      t_fail identity-keep-identity-keeps-the-id "$(grep -E 'GED|generation' "$TMPD/keep.txt" | head -n 3) $(head -c 300 "$TMPD/keep.err")"
    fi
    kite_api_stop

    run_kite 10 run --restore "$SNAP" --net id=nope,mac=$NEWMAC --resume --serial stdio
    expect identity-unknown-net-id-is-refused 6 "^$" "no network device 'nope' \(it has net0\)"
    run_kite 10 run --restore "$SNAP" --net id=net0 --resume
    expect identity-net-override-without-a-change-is-a-usage-error 2 "" "nothing to change"
    run_kite 10 run --restore "$SNAP" --net id=net0,queues=2 --resume
    expect identity-net-override-of-queues-is-a-usage-error 2 "" "'queues' cannot change"
    run_kite 10 run --kernel "$GUEST" --keep-identity
    expect identity-keep-identity-without-restore-is-a-usage-error 2 "" "only goes with --restore"

    # Another back end: the user network saved becomes a tap (in a network
    # namespace of its own), with a new MAC.
    NS=kite-id-$$
    if ip netns add $NS 2>/dev/null; then
      ip netns exec $NS ip tuntap add dev kidtap0 mode tap
      ip netns exec $NS ip link set kidtap0 up
      SOCK=$TMPD/tap.sock
      ip netns exec $NS "$KITE" run --restore "$SNAP" --api-sock "$SOCK" --resume \
        --net id=net0,mac=$NEWMAC,tap=kidtap0 --serial "file:$TMPD/tap.txt" \
        < /dev/null > /dev/null 2> "$TMPD/tap.err" &
      KPID=$!
      for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
      wait_line "$TMPD/tap.txt" 'net announce acknowledged'
      if [ "$(attr net0 backend)" = tap:kidtap0 ] && [ "$(attr net0 mac)" = $NEWMAC ] &&
         lines "$TMPD/tap.txt" | grep -q "mac $NEWMAC status 0x3"; then
        t_ok identity-restore-moves-the-device-to-another-back-end
      else
        t_fail identity-restore-moves-the-device-to-another-back-end \
          "backend '$(attr net0 backend)': $(grep 'net ' "$TMPD/tap.txt" | head -n 3) $(head -c 300 "$TMPD/tap.err")"
      fi
      kite_api_stop
      ip netns del $NS
    else
      t_skip identity-restore-moves-the-device-to-another-back-end "cannot create a network namespace"
    fi
  fi

  # A new MAC (and the same user back end, named explicitly): the guest
  # reads it after the config change, is asked to announce and acknowledges.
  restore_api mac-$tr --net id=net0,user,mac=$NEWMAC --resume
  wait_line "$TMPD/mac-$tr.txt" 'net announce acknowledged'
  copy_id=$(new_id "$TMPD/mac-$tr.txt")
  if lines "$TMPD/mac-$tr.txt" | grep -qE "net config generation [0-9]+ mac $NEWMAC status 0x3 \([1-9]"; then
    t_ok "identity-$tr-guest-reads-the-new-mac-after-a-config-interrupt"
  else
    t_fail "identity-$tr-guest-reads-the-new-mac-after-a-config-interrupt" \
      "source mac $src_mac: $(grep -E 'net ' "$TMPD/mac-$tr.txt" | head -n 4) $(head -c 300 "$TMPD/mac-$tr.err")"
  fi
  check "identity-$tr-guest-announces-and-acks" \
    grep -qE 'net announce acknowledged, status 0x1$' <(lines "$TMPD/mac-$tr.txt")
  check "identity-$tr-api-shows-the-new-mac" test "$(attr net0 mac)" = "$NEWMAC"
  check "identity-$tr-api-shows-the-copy-id" test -n "$copy_id" -a "$(attr vmgenid generation_id)" = "$copy_id"
  kite_api_stop
done
