# Every test-guest scenario on kite: the verdict (exit status) and the output.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/scenarios.sh"
require_kvm
require_guest

for line in "${SCENARIOS[@]}"; do
  scenario_fields "$line"
  with_input "$S_INPUT" run_kite 60 run --kernel "$GUEST" --mem "$S_MEM" --cpus "$S_CPUS" \
    --cmdline "$S_CMD"
  expect "kite-$S_NAME" "$S_STATUS" "$S_PAT"
done

# A triple fault stops kite with status 8 and a register dump, never a hang.
run_kite 30 run --kernel "$GUEST" --cmdline "test=reset method=triple"
expect kite-triple-fault-dumps-registers-and-fails 8 "" "triple fault.*|RIP=[0-9a-f]{16}"
if grep -q '^Code=.*<' <<< "$ERR" && grep -q '^CR0=' <<< "$ERR"; then
  t_ok kite-triple-fault-dump-has-code-bytes-and-control-registers
else
  t_fail kite-triple-fault-dump-has-code-bytes-and-control-registers; sed 's/^/# err: /' <<< "$ERR"
fi

# Serial output to a file, and no output at all.
run_kite 30 run --kernel "$GUEST" --cmdline "test=hello" --serial "file:$TMPD/serial.txt"
if [ "$RC" = 1 ] && grep -q "hello from the kite test guest" "$TMPD/serial.txt" && [ -z "$OUT" ]; then
  t_ok kite-serial-file-receives-guest-output
else
  t_fail kite-serial-file-receives-guest-output "status $RC"
fi
run_kite 30 run --kernel "$GUEST" --cmdline "test=hello" --serial none
expect kite-serial-none-still-runs-the-guest 1
[ -z "$OUT" ] && t_ok kite-serial-none-prints-nothing || t_fail kite-serial-none-prints-nothing

# A signal stops kite cleanly with status 12.
"$KITE" run --kernel "$GUEST" --cmdline "test=serial expect=never timeout=30" \
  < /dev/null > /dev/null 2> "$TMPD/sig.err" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
rc=$?
if [ $rc = 12 ] && grep -q "stopped by signal" "$TMPD/sig.err"; then
  t_ok kite-sigterm-stops-cleanly-with-status-12
else
  t_fail kite-sigterm-stops-cleanly-with-status-12 "status $rc: $(cat "$TMPD/sig.err")"
fi
