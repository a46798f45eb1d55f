# The command line and bad input: one clear message, a distinct status, no crash.
. "$TOP/tests/integration/lib/common.sh"

run_kite 10 --help
expect help-prints-usage-and-exits-0 0 "Usage: kite run --kernel"
run_kite 10 --version
expect version-prints-version 0 "^kite [0-9]+\.[0-9]+"
run_kite 10
expect no-command-is-usage-error 2 "" "no command"
run_kite 10 frobnicate
expect unknown-command-is-usage-error 2 "" "unknown command 'frobnicate'"
run_kite 10 run
expect missing-kernel-option-is-usage-error 2 "" "--kernel is required"
run_kite 10 run --kernel x --bogus
expect unknown-option-is-usage-error 2 "" "unknown option '--bogus'"
run_kite 10 run --kernel x --mem
expect option-without-value-is-usage-error 2 "" "needs a value"
for bad in 12Q abc -5M "" 1.5G; do
  run_kite 10 run --kernel x --mem "$bad"
  expect "mem-malformed-'$bad'-refused" 2 "" "is not a size"
done
run_kite 10 run --kernel x --mem 1M
expect mem-too-small-refused 2 "" "too small"
run_kite 10 run --kernel x --mem 2T
expect mem-too-large-refused 2 "" "too large"
run_kite 10 run --kernel x --mem 99999999999999999999G
expect mem-overflow-refused 2 "" "not a size|too large"
for bad in 0 -1 255 abc 2x; do
  run_kite 10 run --kernel x --cpus "$bad"
  expect "cpus-'$bad'-out-of-range" 2 "" "out of range"
done
run_kite 10 run --kernel x --serial tcp:1
expect serial-mode-unknown-refused 2 "" "use stdio, file:PATH or none"

# KVM missing / not a KVM device / not permitted: status 4, says which.
KITE_KVM_DEVICE=/nonexistent/kvm run_kite 10 run --kernel /dev/null
expect kvm-missing-says-does-not-exist 4 "" "/nonexistent/kvm does not exist"
KITE_KVM_DEVICE=/dev/null run_kite 10 run --kernel /dev/null
expect kvm-wrong-device-says-api-version 4 "" "API version"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$KITE" run \
    --kernel /dev/null > "$TMPD/out" 2> "$TMPD/err" < /dev/null
  RC=$?; OUT=$(cat "$TMPD/out"); ERR=$(cat "$TMPD/err")
  expect kvm-not-permitted-says-permission-denied 4 "" "permission denied opening /dev/kvm"
else
  t_skip kvm-not-permitted-says-permission-denied "needs root and setpriv to drop privileges"
fi
