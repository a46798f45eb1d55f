# A real Linux kernel (Debian's linux-image-amd64) on kite.
#  - as vmlinux, through its PVH note and through the Linux 64-bit entry: the
#    first serial lines must show kite's e820 map and the exact command line;
#  - as a bzImage: here its xz decompressor runs in KVM's instruction emulator
#    (ring 0 is emulated on these nested machines: ~1 us per instruction, hours
#    for the decompression), so we check that kite entered it in 64-bit mode;
#    on a machine with hardware virtualization the banner test and a full boot
#    to user space (an initramfs whose /init powers off) run as well.
. "$TOP/tests/integration/lib/common.sh"
require_kvm

vmlinuz=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
if [ -z "$vmlinuz" ]; then
  t_fail linux-kernel-installed "no /boot/vmlinuz-*: make test installs linux-image-amd64"
  exit 1
fi
hwvirt=0
grep -qwE 'vmx|svm' /proc/cpuinfo && hwvirt=1

# Extract the uncompressed vmlinux from the bzImage once per kernel version.
cache=/tmp/kite-linux-cache
mkdir -p "$cache"
vmlinux="$cache/vmlinux-$(basename "$vmlinuz" | sed 's/^vmlinuz-//')"
if [ ! -s "$vmlinux" ]; then
  for fmt in 'xz:\xfd7zXZ' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    tool=${fmt%%:*}; magic=${fmt#*:}
    for off in $(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1 | head -n 3); do
      tail -c +$((off + 1)) "$vmlinuz" | $tool -dc > "$vmlinux.tmp" 2>/dev/null
      if [ "$(head -c 4 "$vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        mv "$vmlinux.tmp" "$vmlinux"; break 2
      fi
    done
  done
  rm -f "$vmlinux.tmp"
fi
if [ ! -s "$vmlinux" ]; then
  t_fail vmlinux-extracted "could not extract vmlinux from $vmlinuz"
  exit 1
fi

# boot_until NAME LOG PATTERN TIMEOUT ARGS... : run kite in the background until
# PATTERN shows in the serial log or TIMEOUT seconds pass; then stop it.
boot_until() {
  local log=$2 pat=$3 t=$4; shift 4
  : > "$log"
  "$KITE" run --serial "file:$log" "$@" < /dev/null > "$TMPD/boot.out" 2> "$TMPD/boot.err" &
  local pid=$! i=0
  while [ $i -lt $((t * 10)) ]; do
    grep -qE -- "$pat" "$log" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1; i=$((i + 1))
  done
  kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null
  RC=$?
}

marker="kite-test-$$-$RANDOM"
cmdline="console=ttyS0 earlyprintk=serial,ttyS0,115200 $marker quiet=0"
# kite's map for 512 MiB, as Linux prints it.
e820_expect=(
  'BIOS-e820: \[mem 0x0000000000000000-0x000000000009efff\] usable'
  'BIOS-e820: \[mem 0x000000000009f000-0x00000000000fffff\] reserved'
  'BIOS-e820: \[mem 0x0000000000100000-0x000000001fffffff\] usable'
)

check_early_boot() { # NAME LOG
  local n=$1 p log="$2.txt"
  tr -d '\r' < "$2" > "$log"
  for p in "Linux version" "Command line: $cmdline\$" "${e820_expect[@]}"; do
    if ! grep -qE -- "$p" "$log"; then
      t_fail "$n" "serial log lacks /$p/"; head -n 20 "$log" | sed 's/^/# log: /'
      return
    fi
  done
  t_ok "$n"
}

for proto in pvh linux; do
  log="$TMPD/vmlinux-$proto.log"
  boot_until x "$log" 'BIOS-e820: .*0x0000000000100000-' 120 --kernel "$vmlinux" \
    --boot-protocol "$proto" --mem 512M --cmdline "$cmdline"
  sleep 0.2
  check_early_boot "vmlinux-$proto-entry-prints-banner-e820-and-exact-cmdline" "$log"
done

# bzImage: entered in 64-bit mode inside the kernel image.
log="$TMPD/bzimage.log"
"$KITE" run --log-level debug --serial "file:$log" --kernel "$vmlinuz" --mem 512M \
  --cmdline "$cmdline" < /dev/null > /dev/null 2> "$TMPD/bz.err" &
pid=$!
sleep 3
kill -TERM $pid 2>/dev/null; wait $pid
rc=$?
rip=$(grep -oE '^RIP=[0-9a-f]+' "$TMPD/bz.err" | head -n 1 | cut -d= -f2)
if [ "$rc" = 12 ] && grep -qE '^CS =0010 .* l=1' "$TMPD/bz.err" && [ -n "$rip" ] &&
   [ $((16#$rip)) -ge $((0x100000)) ] && [ $((16#$rip)) -lt $((512 << 20)) ]; then
  t_ok bzimage-runs-in-64-bit-mode-inside-the-kernel
else
  t_fail bzimage-runs-in-64-bit-mode-inside-the-kernel "status $rc, RIP=$rip"
  sed 's/^/# err: /' "$TMPD/bz.err" | head -n 25
fi

if [ $hwvirt = 0 ]; then
  why="this machine's KVM is nested without VMX/SVM: guest ring 0 runs in KVM's emulator (~1 us/instruction), so the bzImage's decompressor and a full boot take hours; runs where /proc/cpuinfo has vmx or svm"
  t_skip bzimage-prints-banner-e820-and-exact-cmdline "$why"
  t_skip linux-full-boot-to-userspace-and-poweroff "$why"
  exit 0
fi

boot_until x "$log" 'BIOS-e820: .*0x0000000000100000-' 120 --kernel "$vmlinuz" \
  --mem 512M --cmdline "$cmdline"
check_early_boot bzimage-prints-banner-e820-and-exact-cmdline "$log"

# Full boot: an initramfs whose /init says hello and powers off through ACPI.
cat > "$TMPD/init.c" <<'CEOF'
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>
int main(void)
{
	printf("KITE-LINUX-USERSPACE-OK\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}
CEOF
mkdir -p "$TMPD/rootfs/dev"
if cc -static -O2 -o "$TMPD/rootfs/init" "$TMPD/init.c" &&
   (cd "$TMPD/rootfs" && echo init | cpio -o -H newc --quiet > "$TMPD/initrd.cpio"); then
  log="$TMPD/full.log"
  timeout -k 5 180 "$KITE" run --kernel "$vmlinuz" --initrd "$TMPD/initrd.cpio" --mem 512M \
    --cpus 2 --cmdline "console=ttyS0 rdinit=/init" --serial "file:$log" < /dev/null
  RC=$?
  if [ $RC = 0 ] && grep -q KITE-LINUX-USERSPACE-OK "$log"; then
    t_ok linux-full-boot-to-userspace-and-poweroff
  else
    t_fail linux-full-boot-to-userspace-and-poweroff "status $RC"; tail -n 20 "$log" | sed 's/^/# log: /'
  fi
else
  t_fail linux-full-boot-to-userspace-and-poweroff "cannot build the initramfs (cc -static, cpio)"
fi
