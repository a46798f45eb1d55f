# The test guest's scenarios, shared by guest_kite.sh and guest_qemu.sh.
# name | mem | cpus | command line | expected status | stdout pattern | input
SCENARIOS=(
  "hello|64M|1|test=hello|1|^hello from the kite test guest"
  "quit|64M|1|test=quit|1|"
  "debug-exit-code-0|64M|1|test=exit code=0|1|"
  "debug-exit-code-42|64M|1|test=exit code=42|85|"
  "debug-exit-code-127|64M|1|test=exit code=127|255|"
  "smp-1-cpu|64M|1|test=smp cpus=1|1|cpus: 1 online"
  "smp-2-cpus|64M|2|test=smp cpus=2|1|cpus: 2 online"
  "smp-4-cpus|64M|4|test=smp cpus=4|1|cpus: 4 online"
  "smp-8-cpus|128M|8|test=smp cpus=8|1|cpus: 8 online"
  "memmap-64M|64M|1|test=memmap mem=64M|1|^PASS"
  "memmap-3G|3G|1|test=memmap mem=3G|1|^PASS"
  "memmap-5G-across-the-hole|5G|1|test=memmap mem=5G|1|mem: 0x0*100000000"
  "serial-input-by-interrupt|64M|1|test=serial expect=kite-input-42|1|received \"kite-input-42\"|kite-input-42"
  "reset-i8042|64M|1|test=reset|0|resetting"
  "poweroff-acpi|64M|1|test=poweroff|0|powering off"
  "demo|256M|2|test=demo|0|cpu 1 online"
  "count|64M|1|test=count n=5 interval_ms=1|1|^count 5"
)

# scenario_fields LINE : sets S_NAME S_MEM S_CPUS S_CMD S_STATUS S_PAT S_INPUT
scenario_fields() {
  IFS='|' read -r S_NAME S_MEM S_CPUS S_CMD S_STATUS S_PAT S_INPUT <<< "$1"
}

# with_input INPUT CMD... : feed INPUT (after the guest had time to get ready)
# on stdin, or /dev/null when empty.
with_input() {
  local input=$1; shift
  if [ -z "$input" ]; then
    KITE_STDIN=/dev/null "$@"
  else
    mkfifo "$TMPD/in.fifo"
    ( sleep 1; printf '%s\n' "$input"; sleep 20 ) > "$TMPD/in.fifo" &
    local feeder=$!
    KITE_STDIN="$TMPD/in.fifo" "$@"
    kill $feeder 2>/dev/null; wait $feeder 2>/dev/null
    rm -f "$TMPD/in.fifo"
  fi
}
