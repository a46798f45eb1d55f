# Sourced by every integration test (tests/integration/*.sh).  Environment from tests/run.sh:
#   KITE (the binary under test), GUEST (test guest ELF), TOP (repo root),
#   TEST_LABEL (plain or asan).
# A test prints "ok NAME", "not ok NAME" (+ "# why" lines) or "skip NAME: why".
set -u

t_ok() { echo "ok $1"; }
t_fail() { local n=$1; shift; echo "not ok $n"; [ $# -gt 0 ] && echo "# $*"; return 0; }
t_skip() { echo "skip $1: $2"; }

# check NAME CONDITION-COMMAND... : ok if the command succeeds.
check() { local n=$1; shift; if "$@"; then t_ok "$n"; else t_fail "$n" "failed: $*"; fi; }

# KVM is required: say so loudly (a failure, not a skip) when it is missing.
require_kvm() {
  if [ ! -e /dev/kvm ]; then
    t_fail "kvm-available" "/dev/kvm does not exist: these tests need KVM"; exit 1
  fi
  if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    t_fail "kvm-available" "/dev/kvm is not accessible to $(id -un): these tests need KVM"; exit 1
  fi
}

require_guest() {
  if [ ! -f "$GUEST" ]; then
    t_fail "guest-built" "test guest $GUEST is missing (make guest)"; exit 1
  fi
}

# run_kite TIMEOUT ARGS... : runs kite, output in $OUT (stdout) and $ERR
# (stderr), status in $RC.  Standard input is /dev/null unless KITE_STDIN set.
OUT="" ERR="" RC=0
TMPD=$(mktemp -d /tmp/kite-it.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
run_kite() {
  local t=$1; shift
  timeout -k 5 "$t" "$KITE" "$@" < "${KITE_STDIN:-/dev/null}" > "$TMPD/out" 2> "$TMPD/err"
  RC=$?
  OUT=$(cat "$TMPD/out"); ERR=$(cat "$TMPD/err")
}

# expect NAME STATUS [GREP-PATTERN-IN-STDOUT] [GREP-PATTERN-IN-STDERR]
expect() {
  local n=$1 st=$2 po=${3:-} pe=${4:-}
  if [ "$RC" != "$st" ]; then
    t_fail "$n" "exit status $RC, expected $st"; echo "$OUT" | tail -n 15 | sed 's/^/# out: /'
    echo "$ERR" | tail -n 15 | sed 's/^/# err: /'; return
  fi
  if [ -n "$po" ] && ! grep -qE -- "$po" <<< "$OUT"; then
    t_fail "$n" "stdout lacks /$po/"; echo "$OUT" | tail -n 15 | sed 's/^/# out: /'; return
  fi
  if [ -n "$pe" ] && ! grep -qE -- "$pe" <<< "$ERR"; then
    t_fail "$n" "stderr lacks /$pe/"; echo "$ERR" | tail -n 15 | sed 's/^/# err: /'; return
  fi
  t_ok "$n"
}

QEMU=${QEMU:-qemu-system-x86_64}
# run_qemu TIMEOUT MEM CPUS CMDLINE : the test guest on QEMU microvm, same
# conventions as run_kite.
run_qemu() {
  local t=$1 mem=$2 cpus=$3 cmdline=$4
  timeout -k 5 "$t" "$QEMU" -M microvm -enable-kvm -cpu host,-arch-capabilities \
    -m "$mem" -smp "$cpus" -nodefaults -no-reboot -nographic -serial stdio \
    -kernel "$GUEST" -append "$cmdline" -device isa-debug-exit,iobase=0x501,iosize=1 \
    ${QEMU_EXTRA:-} \
    < "${KITE_STDIN:-/dev/null}" > "$TMPD/out" 2> "$TMPD/err"
  RC=$?
  OUT=$(tr -d '\r' < "$TMPD/out"); ERR=$(cat "$TMPD/err")
}
