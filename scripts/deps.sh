#!/usr/bin/env bash
# Install the Debian packages kite needs to build, test and benchmark.
# Idempotent and quiet when nothing is missing.
#   scripts/deps.sh          build + run
#   scripts/deps.sh test     also what the test suite needs (QEMU, a Linux kernel, gnuplot
#                            for the benchmark smoke test)
#   scripts/deps.sh bench    also what the benchmarks need
#   scripts/deps.sh fuzz     also what `make fuzz` needs (clang, libFuzzer)
set -euo pipefail

build_pkgs=(gcc make meson ninja-build pkg-config binutils liburcu-dev libmicrohttpd-dev libjson-c-dev liburing-dev libslirp-dev libglib2.0-dev libzstd-dev)
test_pkgs=(qemu-system-x86 linux-image-amd64 xz-utils zstd cpio bsdutils procps curl socat iproute2 gnuplot-nox)
bench_pkgs=(qemu-system-x86 gnuplot-nox)
fuzz_pkgs=(clang libclang-rt-14-dev)

pkgs=("${build_pkgs[@]}")
case "${1:-}" in
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) pkgs+=("${fuzz_pkgs[@]}") ;;
  "") ;;
  *) echo "usage: $0 [test|bench|fuzz]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
