# SPDX-License-Identifier: MIT
# bench/metrics/scaling.sh - many VMs started at once (sourced by bench/run.sh).
#
# spawn_time -n N starts N copies of the start-up scenario (test=quit, 64 MiB,
# serial none) one fork after the other without waiting, and times until the
# last has exited; VMs per second = N / that time.  On a 2-CPU machine this is
# dominated by how much CPU each VMM burns to start and stop a VM.

SCALING_NS="1 8 32 64"

scaling_register() {
  local n
  for n in $SCALING_NS; do
    bench_metric "vms-per-s-$n" VMs/s "" \
      "$n VMs (test=quit, 64 MiB) started at once: N / time until the last one exited"
    bench_task "scale-$n" "scaling_${n}_run" "$BENCH_MEM_RUNS"
    eval "scaling_${n}_run() { scaling_run \"\$1\" $n; }"
  done
}

scaling_run() {           # SIDE N
  local side=$1 n=$2
  side_cmd "$side" 64 none "test=quit"
  bench_note_cmd "scale-$n" "$side" spawn_time -n "$n" -- "${CMD[@]}"
  bench_spawn -t 60 -n "$n" -- "${CMD[@]}" || { bench_fail "spawn_time failed"; return 1; }
  bench_expect_status exit:1 || return 1
  bench_record "vms-per-s-$n" "$side" "$(awk -v n="$n" -v w="$SP_WALL_NS" 'BEGIN { printf "%.1f", n / (w / 1e9) }')"
}

scaling_notes() {
  echo "Scaling (vms-per-s-N): N VMs forked back to back by spawn_time -n N; a run counts only if every one of the N exited with status 1 (the guest's own exit). Memory as guest RAM grows: the memory-* tasks (vmm-overhead-64M .. -4G, memory-scaling.png)."
}

scaling_charts() {
  local pts=() n
  for n in $SCALING_NS; do pts+=("$n:vms-per-s-$n"); done
  if bench_curve "$BENCH_OUT/scaling.png" "VMs started at once: throughput (median, min-max bars; higher is better)" \
      "VMs started at once" "VMs per second" "${pts[@]}"; then
    CHARTS+=(scaling.png)
  else
    bench_chart_skipped scaling.png
  fi
}
