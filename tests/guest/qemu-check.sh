#!/bin/bash
# SPDX-License-Identifier: MIT
# qemu-check.sh [guest.elf] - run every scenario of the test guest under QEMU
# microvm and compare exit statuses (debug-exit: (V << 1) | 1; reset and
# power-off: 0).  Needs /dev/kvm and qemu-system-x86_64.
set -u
ELF=${1:-$(dirname "$0")/../../build/guest/guest.elf}
fails=0

q() {	# q EXPECTED_STATUS "cmdline" [qemu args...]
	local want=$1 app=$2 got t0 t1
	shift 2
	t0=$(date +%s%N)
	timeout 60 qemu-system-x86_64 -M microvm -enable-kvm -cpu host,-arch-capabilities \
		-m 64 -nodefaults -no-reboot -nographic -serial stdio -kernel "$ELF" \
		-append "$app" -device isa-debug-exit,iobase=0x501,iosize=1 "$@" \
		< "${STDIN:-/dev/null}" > /tmp/qemu-check.$$ 2>&1
	got=$?
	t1=$(date +%s%N)
	if [ "$got" = "$want" ]; then
		printf 'ok    %-40s %-12s status %3s  %5d ms\n' "$app" "$*" "$got" $(((t1 - t0) / 1000000))
	else
		printf 'FAIL  %-40s %-12s status %3s (want %s)\n' "$app" "$*" "$got" "$want"
		sed 's/^/      | /' /tmp/qemu-check.$$ | grep -v warning
		fails=$((fails + 1))
	fi
	rm -f /tmp/qemu-check.$$
}

q 1 "test=quit"
q 1 "test=hello"
q 1 ""
q 15 "test=exit code=7"
q 1 "test=exit code=0"
q 1 "test=ring0"
for n in 1 2 4 8; do q 1 "test=smp cpus=$n" -smp $n; done
q 3 "test=smp cpus=3" -smp 2
q 1 "test=memmap mem=64M"
q 1 "test=memmap mem=3500M" -m 3500
q 1 "test=memmap mem=5G" -m 5G
q 3 "test=memmap mem=128M"
mkfifo /tmp/qemu-check-fifo.$$
(sleep 2; printf 'hello\r\n'; sleep 3) > /tmp/qemu-check-fifo.$$ &
STDIN=/tmp/qemu-check-fifo.$$ q 1 "test=serial expect=hello"
wait
rm -f /tmp/qemu-check-fifo.$$
q 3 "test=serial expect=hello timeout=1"
q 0 "test=poweroff"
q 0 "test=reset method=triple"
q 3 "test=reset"			# microvm has no i8042
q 0 "test=demo" -smp 4
q 3 "test=nonexistent"
echo "$fails failure(s)"
[ "$fails" = 0 ]
