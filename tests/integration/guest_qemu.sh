# The same scenarios on QEMU, our reference peer: the verdict must match what
# guest_kite.sh expects of kite.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/scenarios.sh"
require_kvm
require_guest
if ! command -v "$QEMU" > /dev/null; then
  t_fail qemu-installed "$QEMU not found: make test installs qemu-system-x86"; exit 1
fi

for line in "${SCENARIOS[@]}"; do
  scenario_fields "$line"
  extra=()
  # microvm has no i8042 unless asked for one.
  [[ "$S_CMD" == test=reset* ]] && extra=(-device i8042)
  QEMU_EXTRA="${extra[*]}" with_input "$S_INPUT" run_qemu 60 "$S_MEM" "$S_CPUS" "$S_CMD"
  expect "qemu-$S_NAME" "$S_STATUS" "$S_PAT"
done
