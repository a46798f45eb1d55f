# `make bench QUICK=1` in miniature: the benchmark harness runs every metric
# once on kite and QEMU and writes its reports, so it can never silently rot.
# (Timing targets are judged by `make bench`, never here.)
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
for m in startup-exit startup-first-byte vmm-overhead-64M; do
  if grep -q "\"$m\"" "$out/latest.json" 2>/dev/null && grep -q "| $m |" "$out/latest.md" 2>/dev/null; then
    t_ok "bench-reports-$m"
  else
    t_fail "bench-reports-$m" "missing from latest.json or latest.md"
  fi
done
