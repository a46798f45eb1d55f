# SPDX-License-Identifier: MIT
# bench/metrics/startup.sh - start-up time and memory (sourced by bench/run.sh).
#
# Issue targets: exec to exit of a guest that stops at once <= 5 ms median
# (QEMU microvm: 41 ms); kite's own resident memory, not counting guest pages
# the guest touched, <= 4 MiB.
#
# Tasks (each alternates kite/QEMU):
#   startup-exit        test=quit, 64 MiB, serial none: exec -> exit
#   startup-first-byte  test=hello, 64 MiB, serial stdio: exec -> first byte on stdout
#   memory-SIZE         test=quit, serial none, 64 MiB, 256 MiB, 1 GiB and 4 GiB
#                       (the scaling curve), main thread traced (spawn_time -g):
#                       peak RSS, guest RAM resident, the difference

STARTUP_HELLO="hello from the kite test guest"

startup_register() {
  bench_metric startup-exit ms "<= 5" \
    "exec to exit of a guest that stops at once (test=quit: its first instructions write 0 to port 0x501), 64 MiB, 1 vCPU, serial none"
  bench_metric startup-first-byte ms "" \
    "exec to the first byte of the guest's serial output on the VMM's stdout (test=hello, serial stdio)"
  bench_metric peak-rss-64M MiB "" \
    "peak RSS of the whole VMM process (wait4 ru_maxrss), test=quit, 64 MiB guest"
  bench_metric guest-touched-64M MiB "" \
    "resident size of the guest RAM mapping just before the VMM unmaps it or exits (guest pages the VMM or the guest touched, incl. the loaded image and firmware; QEMU backs RAM with 2 MiB THP pages)"
  bench_metric vmm-overhead-64M MiB "<= 4" \
    "peak RSS minus guest-touched, 64 MiB guest: the VMM's own memory"
  local sz
  for sz in 256M 1G 4G; do
    bench_metric "peak-rss-$sz" MiB "" \
      "peak RSS, test=quit, $sz guest (the VMM's part should not grow with guest size)"
    bench_metric "vmm-overhead-$sz" MiB "" "peak RSS minus guest-touched, $sz guest"
  done

  bench_task startup-exit startup_exit_run
  bench_task startup-first-byte startup_first_byte_run
  bench_task memory-64M startup_memory_64M_run "$BENCH_MEM_RUNS"
  bench_task memory-256M startup_memory_256M_run "$BENCH_MEM_RUNS"
  bench_task memory-1G startup_memory_1G_run "$BENCH_MEM_RUNS"
  bench_task memory-4G startup_memory_4G_run "$BENCH_MEM_RUNS"
}

startup_exit_run() {      # SIDE
  local side=$1
  side_cmd "$side" 64 none "test=quit"
  bench_note_cmd startup-exit "$side" "${CMD[@]}"
  bench_spawn -m exit -- "${CMD[@]}" || { bench_fail "spawn_time failed"; return 1; }
  bench_expect_status exit:1 || return 1
  bench_record startup-exit "$side" "$(ns_to_ms "$SP_WALL_NS")"
}

startup_first_byte_run() {  # SIDE
  local side=$1 cap="$BENCH_WORK/first-byte.out"
  side_cmd "$side" 64 stdio "test=hello"
  bench_note_cmd startup-first-byte "$side" "${CMD[@]}"
  bench_spawn -m first-byte -c "$cap" -- "${CMD[@]}" || { bench_fail "spawn_time failed"; return 1; }
  bench_expect_status exit:1 || return 1
  if [ "$SP_FIRST_NS" -lt 0 ]; then
    bench_fail "no output on stdout"; return 1
  fi
  if ! grep -q "$STARTUP_HELLO" "$cap"; then
    bench_fail "stdout lacks \"$STARTUP_HELLO\" (got: $(head -c 80 "$cap" | tr -c '[:print:]' '.'))"
    return 1
  fi
  bench_record startup-first-byte "$side" "$(ns_to_ms "$SP_FIRST_NS")"
}

startup_memory_run() {    # SIDE MEM_MIB SUFFIX
  local side=$1 mib=$2 sfx=$3
  side_cmd "$side" "$mib" none "test=quit"
  bench_note_cmd "memory-$sfx" "$side" "${CMD[@]}"
  bench_spawn -g $((mib * 1024 * 1024)) -- "${CMD[@]}" || { bench_fail "spawn_time failed"; return 1; }
  bench_expect_status exit:1 || return 1
  if [ "$SP_GUEST_VMAS" -lt 1 ] || [ "$SP_GUEST_RSS_KB" -lt 0 ]; then
    bench_fail "no mapping of >= $mib MiB (the guest RAM) found in /proc/PID/smaps"; return 1
  fi
  bench_record "peak-rss-$sfx" "$side" "$(kb_to_mib "$SP_MAXRSS_KB")"
  [ "$sfx" = 64M ] && bench_record "guest-touched-$sfx" "$side" "$(kb_to_mib "$SP_GUEST_RSS_KB")"
  bench_record "vmm-overhead-$sfx" "$side" "$(kb_to_mib $((SP_MAXRSS_KB - SP_GUEST_RSS_KB)))"
}
startup_memory_64M_run() { startup_memory_run "$1" 64 64M; }
startup_memory_256M_run() { startup_memory_run "$1" 256 256M; }
startup_memory_1G_run() { startup_memory_run "$1" 1024 1G; }
startup_memory_4G_run() { startup_memory_run "$1" 4096 4G; }

startup_notes() {
  cat <<'NOTES'
Both sides boot the same PVH ELF with `-kernel`/`--kernel`, 1 vCPU, same guest RAM size, same command line, same exit path (a write to port 0x501: kite's built-in debug-exit, QEMU's isa-debug-exit); exit status 1 is required on both.
Asymmetric and not removable here: QEMU microvm runs its firmware (qboot, bios-microvm.bin) in the guest before jumping to the PVH entry point, and with `-kernel` it loads the kernel through fw_cfg; kite jumps straight to the PVH entry. Both are part of what each VMM needs to start a PVH guest, so they are measured, not subtracted.
QEMU is started with `-nographic -nodefaults`; with `-serial stdio` it also sets up its character-device layer (and would put a terminal into raw mode, but stdin is /dev/null here, for both sides).
startup-first-byte includes the guest's own work up to its first printf (long mode, GDT/IDT, serial init: the guest's ring 0 is emulated on nested KVM, ~1 us per instruction), identical on both sides.
Memory: the memory-* tasks trace the VMM's main thread with ptrace (syscall stops) to read /proc/PID/smaps before guest RAM is unmapped; their times are not used. Peak RSS is wait4()'s ru_maxrss of that same run. vmm-overhead = peak RSS - resident guest RAM; guest pages touched are counted at the end, which can only overstate them by what the guest touched after the peak (nothing for test=quit).
QEMU backs guest RAM with transparent huge pages, so touching a few KiB of guest memory makes 2 MiB resident (guest-touched 4 MiB for firmware + image); kite's memfd is mapped MAP_SHARED with 4 KiB pages.
NOTES
}

startup_charts() {
  if bench_chart "$BENCH_OUT/startup.png" "Start-up: kite vs QEMU microvm (median, min-max bars)" \
      "milliseconds" startup-exit startup-first-byte; then
    CHARTS+=(startup.png)
  else
    bench_chart_skipped startup.png
  fi
  if bench_chart "$BENCH_OUT/memory.png" "Memory: kite vs QEMU microvm (median, min-max bars)" \
      "MiB" peak-rss-64M vmm-overhead-64M peak-rss-1G vmm-overhead-1G; then
    CHARTS+=(memory.png)
  else
    bench_chart_skipped memory.png
  fi
  if bench_curve "$BENCH_OUT/memory-scaling.png" "VMM memory overhead vs guest memory (median, min-max bars)" \
      "guest memory (MiB)" "VMM overhead: peak RSS - guest pages (MiB)" \
      64:vmm-overhead-64M 256:vmm-overhead-256M 1024:vmm-overhead-1G 4096:vmm-overhead-4G; then
    CHARTS+=(memory-scaling.png)
  else
    bench_chart_skipped memory-scaling.png
  fi
}
