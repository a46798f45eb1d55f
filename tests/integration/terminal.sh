# --serial stdio on a real terminal (a pty made by script(1)): raw mode, the
# Ctrl-A x escape, and the terminal restored on every exit path.
. "$TOP/tests/integration/lib/common.sh"
require_kvm
require_guest
if ! command -v script > /dev/null; then
  t_fail script-installed "script(1) (bsdutils) is needed for pty tests"; exit 1
fi

# in_pty CMD : run CMD in a fresh pty, recording stty before and after it.
in_pty() {
  local cmd=$1
  : > "$TMPD/before"; : > "$TMPD/after"
  script -qec "stty -g > $TMPD/before; $cmd; echo \$? > $TMPD/status; stty -g > $TMPD/after" \
    /dev/null < "${PTY_INPUT:-/dev/null}" > "$TMPD/pty.out" 2>&1
}

restored() { [ -s "$TMPD/before" ] && cmp -s "$TMPD/before" "$TMPD/after"; }
guest="$KITE run --kernel $GUEST --cmdline 'test=serial expect=never timeout=20'"

# Ctrl-A x typed on the terminal quits kite (status 12) and restores the tty.
mkfifo "$TMPD/keys"
( sleep 1.5; printf '\001x'; sleep 5 ) > "$TMPD/keys" &
PTY_INPUT="$TMPD/keys" in_pty "$guest"
wait
st=$(cat "$TMPD/status" 2>/dev/null)
if [ "$st" = 12 ] && grep -q "Ctrl-A x" "$TMPD/pty.out"; then
  t_ok ctrl-a-x-quits-with-status-12
else
  t_fail ctrl-a-x-quits-with-status-12 "status '$st'"; sed 's/^/# pty: /' "$TMPD/pty.out" | tail -5
fi
check terminal-restored-after-ctrl-a-x restored

# Keys typed on the terminal reach the guest byte by byte (raw mode).
rm -f "$TMPD/keys"; mkfifo "$TMPD/keys"
( sleep 1.5; printf 'tty-in'; sleep 5 ) > "$TMPD/keys" &
PTY_INPUT="$TMPD/keys" in_pty "$KITE run --kernel $GUEST --cmdline 'test=serial expect=tty-in timeout=10'"
wait
st=$(cat "$TMPD/status" 2>/dev/null)
if [ "$st" = 1 ] && grep -q 'received "tty-in"' "$TMPD/pty.out"; then
  t_ok terminal-keys-reach-the-guest-without-newline
else
  t_fail terminal-keys-reach-the-guest-without-newline "status '$st'"
  sed 's/^/# pty: /' "$TMPD/pty.out" | tail -5
fi
check terminal-restored-after-guest-exit restored

# SIGTERM and SIGHUP from outside: status 12, terminal restored.
for sig in TERM HUP; do
  in_pty "$guest" &
  sp=$!
  sleep 1.5
  pkill -"$sig" -f "^$KITE run --kernel .*expect=never"
  wait $sp
  st=$(cat "$TMPD/status" 2>/dev/null)
  check "sig$sig-stops-with-status-12" [ "$st" = 12 ]
  check "terminal-restored-after-sig$sig" restored
done
