#!/bin/bash
# SPDX-License-Identifier: MIT
# qemu-virtio-check.sh [guest.elf] - run the virtio scenarios of the test guest
# under QEMU 7.2 microvm (virtio-mmio: -M microvm,acpi=off with
# virtio-mmio.force-legacy=false; virtio-pci: -M microvm,pcie=on) and check
# the disk afterwards with the pattern tool.  Needs /dev/kvm, qemu, socat,
# python3 (UDP echo), gcc (builds tests/tools/pattern.c into a temp dir).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ELF=${1:-$HERE/../../build/guest/guest.elf}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
gcc -O2 -o "$TMP/kite-pattern" "$HERE/../tools/pattern.c" || exit 1
fails=0

# q EXPECTED_STATUS TRANSPORT "cmdline" [qemu args...]
q() {
	local want=$1 tr=$2 app=$3 got m
	shift 3
	if [ "$tr" = mmio ]; then m=microvm,acpi=off; else m=microvm,pcie=on; fi
	timeout 60 qemu-system-x86_64 -M $m -enable-kvm -cpu host,-arch-capabilities -m 256 \
		-nodefaults -no-reboot -nographic -serial stdio -kernel "$ELF" -append "$app" \
		-device isa-debug-exit,iobase=0x501,iosize=1 \
		-global virtio-mmio.force-legacy=false "$@" < /dev/null > "$TMP/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		printf 'ok    %-64s status %s\n' "$app" "$got"
	else
		printf 'FAIL  %-64s status %s (want %s)\n' "$app" "$got" "$want"
		sed 's/^/      | /' "$TMP/out"
		fails=$((fails + 1))
	fi
	grep -E '^(needs_reset|vhostile: case .* outcome|qemu-system)' "$TMP/out" | sed 's/^/      > /'
}

dev() {	# dev TRANSPORT KIND [props]: the -device name
	case $1-$2 in
	mmio-blk) echo virtio-blk-device ;; pci-blk) echo virtio-blk-pci,disable-legacy=on ;;
	mmio-rng) echo virtio-rng-device ;; pci-rng) echo virtio-rng-pci,disable-legacy=on ;;
	mmio-net) echo virtio-net-device ;; pci-net) echo virtio-net-pci,disable-legacy=on ;;
	mmio-serial) echo virtio-serial-device ;; pci-serial) echo virtio-serial-pci,disable-legacy=on ;;
	esac
}

blkcheck() {	# verify every "blk wrote/zeroed" line of the last run in the image
	local img=$1 bad=0 n=0
	while read -r _ kind off len seed; do
		n=$((n + 1))
		case $kind in
		wrote) "$TMP/kite-pattern" check "$img" "$seed" "$off" "$len" > /dev/null || bad=1 ;;
		zeroed) "$TMP/kite-pattern" zero "$img" "$off" "$len" > /dev/null || bad=1 ;;
		esac
	done < <(grep -E '^blk (wrote|zeroed) ' "$TMP/out")
	if [ $bad = 0 ] && [ $n -gt 0 ]; then
		echo "ok    host check of $n ranges"
	else
		echo "FAIL  host check ($n ranges)"
		fails=$((fails + 1))
	fi
}

for t in mmio pci; do
	B=$(dev $t blk) R=$(dev $t rng) N=$(dev $t net) S=$(dev $t serial)
	q 1 $t "test=vlist" -device $R
	for a in "" "irq=1" "ring=packed" "ring=packed irq=1"; do
		q 1 $t "test=vrng transport=$t $a" -device $R,packed=on
	done
	[ $t = pci ] && q 1 $t "test=vrng transport=pci irq=intx" -device $R
	for a in "" "irq=1" "ring=packed irq=1" "indirect=0 event_idx=0"; do
		truncate -s 0 "$TMP/disk.img"; truncate -s 64M "$TMP/disk.img"
		q 1 $t "test=vblk transport=$t seed=42 discard_zeroes=1 $a" \
			-drive if=none,id=d0,file="$TMP/disk.img",format=raw,discard=unmap \
			-device $B,drive=d0,serial=kite-disk,packed=on
		blkcheck "$TMP/disk.img"
	done
	[ $t = pci ] && q 1 $t "test=vblk transport=pci queues=4 irq=intx seed=5" \
		-drive if=none,id=d0,file="$TMP/disk.img",format=raw \
		-device $B,drive=d0,num-queues=4
	q 1 $t "test=vblk transport=$t ro=1" \
		-drive if=none,id=d0,file="$TMP/disk.img",format=raw,readonly=on -device $B,drive=d0
	q 3 $t "test=vblk transport=$t ro=1" \
		-drive if=none,id=d0,file="$TMP/disk.img",format=raw -device $B,drive=d0
	for c in loop oob mmio oversize nested qsize early; do
		q 1 $t "test=vhostile transport=$t case=$c expect=any" \
			-drive if=none,id=d0,file="$TMP/disk.img",format=raw -device $B,drive=d0 -device $R
	done
	for c in loop oversize; do
		q 1 $t "test=vhostile transport=$t case=$c" \
			-drive if=none,id=d0,file="$TMP/disk.img",format=raw -device $B,drive=d0 -device $R
	done
	q 1 $t "test=vhostile transport=$t case=loop target=rng" -device $R
	q 1 $t "test=vnet transport=$t" -netdev user,id=n0 -device $N,netdev=n0
	q 1 $t "test=vnet transport=$t irq=1 ring=packed" -netdev user,id=n0 -device $N,netdev=n0,packed=on
	python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5555)); s.settimeout(20)
d, a = s.recvfrom(2000); s.sendto(d, a)' &
	sleep 0.3
	q 1 $t "test=vnet transport=$t mode=udp port=5555" -netdev user,id=n0 -device $N,netdev=n0
	wait
	# console: the host connects to the socket (QEMU waits for it), reads the
	# guest's line and sends "ping-kite"
	for a in "" "irq=1"; do
		rm -f "$TMP/c.sock"
		( for i in $(seq 50); do [ -S "$TMP/c.sock" ] && break; sleep 0.1; done
		  (sleep 1; printf 'ping-kite\r\n'; sleep 1) | timeout 5 socat - UNIX-CONNECT:"$TMP/c.sock" > "$TMP/host" ) &
		q 1 $t "test=vcons transport=$t expect=ping-kite $a" -device $S \
			-device virtconsole,chardev=c0 -chardev socket,id=c0,path="$TMP/c.sock",server=on,wait=on
		wait
		if grep -q 'kite-vcons: hello from the test guest' "$TMP/host"; then
			echo "ok    host received the guest's console line"
		else
			echo "FAIL  host did not receive the console line"; fails=$((fails + 1))
		fi
	done
done
echo "$fails failure(s)"
[ "$fails" = 0 ]
