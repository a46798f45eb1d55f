# SPDX-License-Identifier: MIT
# bench/metrics/exits.sh - exit round trips (sourced by bench/run.sh).
#
# The guest (test=bench kind=pio|mmio|ioeventfd, tests/guest/tests/bench.c)
# times N operations in ring 3 with the TSC and prints ns_per_op:
#   pio        inb from the UART's line status register (0x3fd): KVM exits to
#              the VMM, which emulates the register and re-enters
#   mmio       32-bit read of a virtio-mmio register: the same through an
#              MMIO exit (the VMM decodes the address and finds the device)
#   ioeventfd  write to the virtio-mmio QueueNotify register of a running
#              virtio-rng: KVM signals an eventfd and re-enters the guest at
#              once; the VMM's device thread wakes on another CPU
# Boot and set-up time are not part of the figure (the guest times the loop).

EXITS_N_PIO=20000
EXITS_N_MMIO=20000
EXITS_N_IOEVENTFD=100000

exits_register() {
  bench_metric exit-pio us "" \
    "guest inb from the UART (port 0x3fd) and back: one exit to the VMM, per operation (guest TSC)"
  bench_metric exit-mmio us "" \
    "guest 32-bit read of a virtio-mmio register and back: one MMIO exit to the VMM, per operation"
  bench_metric exit-ioeventfd us "" \
    "guest write to a virtio-mmio QueueNotify register caught by an ioeventfd (no user-space exit), per operation"
  if [ "$BENCH_QUICK" = 1 ]; then
    EXITS_N_PIO=2000; EXITS_N_MMIO=2000; EXITS_N_IOEVENTFD=5000
  fi
  bench_task exit-pio exits_pio_run
  bench_task exit-mmio exits_mmio_run
  bench_task exit-ioeventfd exits_ioeventfd_run
}

exits_run() {             # SIDE KIND N
  local side=$1 kind=$2 n=$3 ns
  bench_guest_line "exit-$kind" "$side" "$kind" 64 "test=bench kind=$kind n=$n" rng || return 1
  ns=$(bench_line_get ns_per_op)
  [ -n "$ns" ] || { bench_fail "no ns_per_op in: $BENCH_LINE"; return 1; }
  bench_record "exit-$kind" "$side" "$(awk -v n="$ns" 'BEGIN { printf "%.3f", n / 1000 }')"
}
exits_pio_run() { exits_run "$1" pio "$EXITS_N_PIO"; }
exits_mmio_run() { exits_run "$1" mmio "$EXITS_N_MMIO"; }
exits_ioeventfd_run() { exits_run "$1" ioeventfd "$EXITS_N_IOEVENTFD"; }

exits_notes() {
  cat <<NOTES
Exit round trips (exit-*): the guest times $EXITS_N_PIO PIO reads, $EXITS_N_MMIO MMIO reads and $EXITS_N_IOEVENTFD notifications in ring 3 with rdtsc (after a warm-up of a tenth as many) and converts with the TSC frequency it reads from kvmclock; the same conversion on both sides, so the ratio does not depend on it. Both VMMs run one virtio-rng over virtio-mmio for the MMIO and ioeventfd rows (QEMU: microvm,acpi=off).
On this nested host every exit goes through the outer hypervisor as well; the absolute figures are larger than on bare metal, the comparison is what counts.
NOTES
}

exits_charts() {
  if bench_chart "$BENCH_OUT/exits.png" "Exit round trip per operation (median, min-max bars)" \
      "microseconds" exit-pio exit-mmio exit-ioeventfd; then
    CHARTS+=(exits.png)
  else
    bench_chart_skipped exits.png
  fi
}
