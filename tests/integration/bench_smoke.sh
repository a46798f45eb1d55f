# `make bench QUICK=1` in miniature: the benchmark harness runs every metric
# once on kite and QEMU and writes its reports, so it can never silently rot.
# (Timing targets are judged by `make bench`, never here.)  Needs root for
# the tap of the virtio-net rows, like the virtio integration test.
. "$TOP/tests/integration/lib/common.sh"
require_kvm
require_guest

out="$TMPD/bench"
"$TOP/bench/run.sh" --quick --out "$out" --build "$TMPD/bench-build" --kite "$KITE" \
  --guest "$GUEST" > "$TMPD/bench.log" 2>&1
rc=$?
if [ $rc = 0 ]; then t_ok bench-quick-runs-every-metric; else
  t_fail bench-quick-runs-every-metric "status $rc"; tail -n 20 "$TMPD/bench.log" | sed 's/^/# /'
fi

# Every row has a kite value, and a QEMU value except the in-process
# address-space rows (QEMU has no such API).  The snapshot rows (QEMU: QMP over
# socat) and the live migration rows (quick mode: a 256 MiB guest, idle and
# writing 100 MB/s; heartbeat gap and each VMM's own downtime) need both sides too.
for m in startup-exit startup-first-byte vmm-overhead-64M vmm-overhead-256M vmm-overhead-1G \
    vmm-overhead-4G exit-pio exit-mmio exit-ioeventfd blk-randread-4k blk-randread-4k-qd1 \
    blk-randwrite-4k blk-seqread-128k net-tx-64 net-tx-1500 vms-per-s-1 vms-per-s-8 \
    vms-per-s-32 vms-per-s-64 as-cached-translation as-copy-4k snap-create-256M snap-restore-256M \
    snap-restore-4G mig-total-1G-idle mig-downtime-1G-idle mig-vmm-downtime-1G-idle \
    mig-total-1G-100MBs mig-downtime-1G-100MBs mig-vmm-downtime-1G-100MBs; do
  row=$(grep -F "| $m |" "$out/latest.md" 2>/dev/null | head -n 1)
  kite=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
  qemu=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $4); print $4 }')
  if [ -z "$row" ] || ! grep -q "\"name\": \"$m\"" "$out/latest.json" 2>/dev/null; then
    t_fail "bench-reports-$m" "missing from latest.json or latest.md"
  elif [ "$kite" = - ] || { [ "$qemu" = - ] && [ "${m#as-}" = "$m" ]; }; then
    t_fail "bench-reports-$m" "no value: $row"
  else
    t_ok "bench-reports-$m"
  fi
done
for png in startup.png memory.png memory-scaling.png scaling.png exits.png virtio-blk.png \
    virtio-throughput.png virtio-net-pps.png snapshot-restore.png snapshot-create.png \
    migration-downtime.png migration-total.png; do
  if [ -s "$out/$png" ] && [ "$(head -c 4 "$out/$png" | tail -c 3)" = PNG ]; then t_ok "bench-chart-$png"
  else t_fail "bench-chart-$png" "missing or not a PNG (gnuplot-nox installed?)"; fi
done
if grep -q '"ok": true' "$out/latest.json" && grep -q '^## Commands' "$out/latest.md"; then
  t_ok bench-report-complete
else
  t_fail bench-report-complete "latest.json not ok or latest.md without commands"
fi
