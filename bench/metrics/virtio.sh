# SPDX-License-Identifier: MIT
# bench/metrics/virtio.sh - virtio-blk and virtio-net throughput (sourced by bench/run.sh).
#
# The guest (test=bench kind=blk|net, tests/guest/tests/bench.c) drives the
# device from ring 3 by polling (no interrupts), keeps the queue full, and
# counts completions in a timed window after a warm-up; the harness only
# reads its "bench blk ..." / "bench net ..." line.  Same device on both
# sides over virtio-mmio, one queue (pair), 1 vCPU, 64 MiB.
#   blk: a raw image of random data (256 MiB; 16 MiB in quick mode) in the
#        page cache, read back into the cache before every run on both sides
#   net: a tap device made for the run (root), up, no address; the guest
#        sends frames to a MAC that is not the host's, ethertype 0x88b5, which
#        the host stack drops right after the tap: what is measured is the
#        VMM's transmit path (ring -> tap write)

VIRTIO_MS=2000
VIRTIO_WARM_MS=300
VIRTIO_IMG=
VIRTIO_TAP=
VIRTIO_TAP_ERR=

virtio_register() {
  bench_metric blk-randread-4k IOPS "" "virtio-blk 4 KiB random reads, 32 in flight, page-cache-resident image"
  bench_metric blk-randread-4k-qd1 IOPS "" "virtio-blk 4 KiB random reads, 1 in flight (per-request latency = 1/IOPS)"
  bench_metric blk-randwrite-4k IOPS "" "virtio-blk 4 KiB random writes, 32 in flight (into the host page cache)"
  bench_metric blk-seqread-128k MB/s "" "virtio-blk 128 KiB sequential reads, 8 in flight"
  bench_metric net-tx-64 pps "" "virtio-net transmit, 64-byte frames, full ring, to a tap"
  bench_metric net-tx-1500 MB/s "" "virtio-net transmit, 1500-byte frames (frame bytes, without the virtio header), to a tap"
  if [ "$BENCH_QUICK" = 1 ]; then VIRTIO_MS=300; VIRTIO_WARM_MS=100; fi
  bench_task blk-randread-4k virtio_blk_randread_run
  bench_task blk-randread-4k-qd1 virtio_blk_randread_qd1_run
  bench_task blk-randwrite-4k virtio_blk_randwrite_run
  bench_task blk-seqread-128k virtio_blk_seqread_run
  bench_task net-tx-64 virtio_net_64_run
  bench_task net-tx-1500 virtio_net_1500_run
  BENCH_CLEANUP+=(virtio_cleanup)
}

virtio_cleanup() {
  [ -n "$VIRTIO_TAP" ] && ip link del "$VIRTIO_TAP" 2>/dev/null
  return 0
}

# The disk image, made once per bench run.
virtio_image() {
  [ -n "$VIRTIO_IMG" ] && return 0
  local mib=256
  [ "$BENCH_QUICK" = 1 ] && mib=16
  VIRTIO_IMG="$BENCH_WORK/disk.img"
  if ! head -c $((mib << 20)) /dev/urandom >"$VIRTIO_IMG" 2>"$BENCH_WORK/img.err"; then
    SP_ERR="$BENCH_WORK/img.err"; VIRTIO_IMG=; bench_fail "cannot create the $mib MiB disk image"; return 1
  fi
}

# The tap, made once per bench run (needs root and /dev/net/tun).
virtio_tap() {
  [ -n "$VIRTIO_TAP" ] && return 0
  if [ -n "$VIRTIO_TAP_ERR" ]; then bench_fail "$VIRTIO_TAP_ERR"; return 1; fi
  local name="kbench$(( $$ % 100000 ))"
  if ! ip tuntap add dev "$name" mode tap 2>"$BENCH_WORK/tap.err" || ! ip link set "$name" up 2>>"$BENCH_WORK/tap.err"; then
    ip link del "$name" 2>/dev/null
    VIRTIO_TAP_ERR="cannot create tap $name (root and /dev/net/tun needed): $(head -n 1 "$BENCH_WORK/tap.err")"
    bench_fail "$VIRTIO_TAP_ERR"; return 1
  fi
  VIRTIO_TAP=$name
}

virtio_blk_run() {        # SIDE TASK RW BS QD KEY
  local side=$1 task=$2 rw=$3 bs=$4 qd=$5 key=$6 v
  virtio_image || return 1
  cat "$VIRTIO_IMG" >/dev/null      # the same page-cache state for both sides
  bench_guest_line "$task" "$side" blk 64 \
    "test=bench kind=blk rw=$rw bs=$bs qd=$qd ms=$VIRTIO_MS warm_ms=$VIRTIO_WARM_MS" "blk:$VIRTIO_IMG" || return 1
  v=$(bench_line_get "$key")
  [ -n "$v" ] || { bench_fail "no $key in: $BENCH_LINE"; return 1; }
  bench_record "$task" "$side" "$v"
}
virtio_blk_randread_run() { virtio_blk_run "$1" blk-randread-4k randread 4096 32 iops; }
virtio_blk_randread_qd1_run() { virtio_blk_run "$1" blk-randread-4k-qd1 randread 4096 1 iops; }
virtio_blk_randwrite_run() { virtio_blk_run "$1" blk-randwrite-4k randwrite 4096 32 iops; }
virtio_blk_seqread_run() { virtio_blk_run "$1" blk-seqread-128k read 131072 8 mbps; }

virtio_net_run() {        # SIDE TASK SIZE KEY
  local side=$1 task=$2 size=$3 key=$4 v
  virtio_tap || return 1
  bench_guest_line "$task" "$side" net 64 \
    "test=bench kind=net size=$size ms=$VIRTIO_MS warm_ms=$VIRTIO_WARM_MS" "net:$VIRTIO_TAP" || return 1
  v=$(bench_line_get "$key")
  [ -n "$v" ] || { bench_fail "no $key in: $BENCH_LINE"; return 1; }
  bench_record "$task" "$side" "$v"
}
virtio_net_64_run() { virtio_net_run "$1" net-tx-64 64 pps; }
virtio_net_1500_run() { virtio_net_run "$1" net-tx-1500 1500 mbps; }

virtio_notes() {
  cat <<NOTES
virtio (blk-*, net-*): the guest polls its rings from ring 3 (no interrupts on either side), keeps them full and counts what completes in a ${VIRTIO_MS} ms window after ${VIRTIO_WARM_MS} ms of warm-up; one queue, ring size min(device maximum, 256). kite uses io_uring for the disk; QEMU is given aio=io_uring and cache=writeback (its defaults otherwise), so both read through the host page cache with the same kernel interface. The image is read into the page cache before every run of either side.
net: both sides write to the same kind of tap with a virtio-net header (vnet_hdr), no vhost-net (the host has none). Only transmit is measured: receive needs a traffic source on the host that would compete for the same 2 CPUs.
Asymmetry not removed: kite's device back ends run on one thread per device; QEMU runs virtio-mmio device work in its main loop thread. Both are their defaults.
NOTES
}

virtio_charts() {
  if bench_chart "$BENCH_OUT/virtio-blk.png" "virtio-blk (median, min-max bars; higher is better)" \
      "IOPS" blk-randread-4k blk-randread-4k-qd1 blk-randwrite-4k; then
    CHARTS+=(virtio-blk.png)
  else
    bench_chart_skipped virtio-blk.png
  fi
  if bench_chart "$BENCH_OUT/virtio-throughput.png" "virtio throughput (median, min-max bars; higher is better)" \
      "MB/s" blk-seqread-128k net-tx-1500; then
    CHARTS+=(virtio-throughput.png)
  else
    bench_chart_skipped virtio-throughput.png
  fi
  if bench_chart "$BENCH_OUT/virtio-net-pps.png" "virtio-net 64-byte frames (median, min-max bars; higher is better)" \
      "packets/s" net-tx-64; then
    CHARTS+=(virtio-net-pps.png)
  else
    bench_chart_skipped virtio-net-pps.png
  fi
}
