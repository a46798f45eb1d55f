# Kernel and initrd files that are missing, unreadable or malformed: status 6.
. "$TOP/tests/integration/lib/common.sh"
require_kvm

run_kite 10 run --kernel /nonexistent/vmlinuz
expect kernel-missing-clear-message 6 "" "cannot open kernel '/nonexistent/vmlinuz'"
run_kite 10 run --kernel /tmp
expect kernel-directory-refused 6 "" "not a regular file"
: > "$TMPD/empty"
run_kite 10 run --kernel "$TMPD/empty"
expect kernel-empty-refused 6 "" "empty"
head -c 4096 /dev/urandom > "$TMPD/garbage"
run_kite 10 run --kernel "$TMPD/garbage"
expect kernel-garbage-refused 6 "" "not a kernel image"
printf '\177ELF\002\001\001' > "$TMPD/trunc.elf"
run_kite 10 run --kernel "$TMPD/trunc.elf"
expect kernel-truncated-elf-refused 6 "" "ELF"
if [ -f "$GUEST" ]; then
  head -c 200 "$GUEST" > "$TMPD/guest-trunc.elf"
  run_kite 10 run --kernel "$TMPD/guest-trunc.elf"
  expect kernel-truncated-guest-refused 6 "" "ELF|truncated|program header"
  run_kite 10 run --kernel "$GUEST" --initrd /nonexistent/initrd
  expect initrd-missing-clear-message 6 "" "cannot open initrd '/nonexistent/initrd'"
  truncate -s 80M "$TMPD/big-initrd"	# larger than the guest's RAM
  run_kite 10 run --kernel "$GUEST" --mem 64M --initrd "$TMPD/big-initrd"
  expect initrd-too-large-refused 6 "" "initrd"
  long=$(head -c 70000 /dev/zero | tr '\0' 'a')
  run_kite 10 run --kernel "$GUEST" --cmdline "$long"
  expect cmdline-too-long-refused 6 "" "command line"
else
  t_fail guest-built "test guest $GUEST is missing"
fi
