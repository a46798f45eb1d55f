# Libraries loaded on first use (core/dynlib.h): kite links neither
# libmicrohttpd nor libslirp (nor libzstd, which only a compressed migration
# loads); a VM maps each only with the option that needs it (--api-sock,
# --net user); a missing one stops kite with a message naming the option and
# the package to install.
. "$TOP/tests/integration/lib/common.sh"
. "$TOP/tests/integration/lib/api_client.sh"
require_kvm
require_guest

LAZY='libmicrohttpd|libgnutls|libslirp|libglib|libzstd'
BGPID=""
trap 'kite_api_stop; [ -n "$BGPID" ] && kill -KILL $BGPID 2>/dev/null; rm -rf "$TMPD"' EXIT

needed=$(readelf -d "$KITE" 2>&1 | grep NEEDED)
if [ -z "$needed" ]; then
  t_fail kite-links-neither-libmicrohttpd-nor-libslirp "readelf -d $KITE: no NEEDED entries"
elif grep -qE "$LAZY" <<< "$needed"; then
  t_fail kite-links-neither-libmicrohttpd-nor-libslirp "$(grep -E "$LAZY" <<< "$needed")"
else
  t_ok kite-links-neither-libmicrohttpd-nor-libslirp
fi

# maps_wait PID PATTERN : until /proc/PID/maps matches (5 s at most).
maps_wait() {
  local i
  for i in $(seq 50); do
    grep -qE "$2" /proc/$1/maps 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# bg_start ARGS... : kite running the counting guest in the background (BGPID),
# once its vCPU thread exists.
bg_start() {
  local i
  "$KITE" run --kernel "$GUEST" --mem 64M --serial none --cmdline test=count "$@" \
    < /dev/null > "$TMPD/bg.out" 2> "$TMPD/bg.err" &
  BGPID=$!
  for i in $(seq 50); do
    grep -qs '^kite-vcpu' /proc/$BGPID/task/*/comm && return 0
    sleep 0.1
  done
  return 1
}

bg_stop() {
  kill -TERM $BGPID 2>/dev/null
  timeout 5 tail --pid=$BGPID -f /dev/null 2>/dev/null || kill -KILL $BGPID 2>/dev/null
  wait $BGPID 2>/dev/null
  BGPID=""
}

if bg_start; then
  if grep -qE "$LAZY" /proc/$BGPID/maps; then
    t_fail plain-vm-maps-neither-libmicrohttpd-nor-libslirp \
      "$(grep -oE "/[^ ]*($LAZY)[^ ]*" /proc/$BGPID/maps | sort -u)"
  else
    t_ok plain-vm-maps-neither-libmicrohttpd-nor-libslirp
  fi
else
  t_fail plain-vm-maps-neither-libmicrohttpd-nor-libslirp "kite did not start: $(cat "$TMPD/bg.err")"
fi
bg_stop

# The library files, as the dynamic loader found them (for the missing-library checks).
mhd_file="" slirp_file=""
SOCK=$TMPD/api.sock
if kite_api_start "$SOCK" "$TMPD/serial.txt" --cmdline test=count; then
  mhd_file=$(grep -oE '/[^ ]*libmicrohttpd[^ ]*' /proc/$KPID/maps | head -n 1)
  check api-sock-maps-libmicrohttpd [ -n "$mhd_file" ]
  check api-sock-maps-no-libslirp eval "! grep -q libslirp /proc/$KPID/maps"
  api GET /vm
  expect_api api-served-by-the-loaded-libmicrohttpd 200 '"state":"Running"'
else
  t_fail api-sock-maps-libmicrohttpd "no socket at $SOCK: $(cat "$TMPD/kite.err")"
fi
kite_api_stop

if bg_start --net user && maps_wait $BGPID libslirp; then
  slirp_file=$(grep -oE '/[^ ]*libslirp[^ ]*' /proc/$BGPID/maps | head -n 1)
  t_ok net-user-maps-libslirp
  check net-user-maps-no-libmicrohttpd eval "! grep -q libmicrohttpd /proc/$BGPID/maps"
else
  t_fail net-user-maps-libslirp "$(cat "$TMPD/bg.err")"
fi
bg_stop

# run_hidden FILE ARGS... : kite with FILE replaced by an empty file (a private
# mount namespace: nothing outside this run sees it).
run_hidden() {
  local file=$1; shift
  : > "$TMPD/empty.so"
  timeout -k 5 20 unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
    "$TMPD/empty.so" "$file" "$KITE" "$@" < /dev/null > "$TMPD/out" 2> "$TMPD/err"
  RC=$?
  OUT=$(cat "$TMPD/out"); ERR=$(cat "$TMPD/err")
}

if [ "$(id -u)" -ne 0 ] || ! command -v unshare > /dev/null ||
   ! unshare -m true 2> /dev/null; then
  for n in missing-libmicrohttpd-names-api-sock-and-package missing-libslirp-names-net-user-and-package; do
    t_skip $n "needs root and unshare -m to hide the library"
  done
else
  if [ -n "$mhd_file" ]; then
    run_hidden "$mhd_file" run --kernel "$GUEST" --mem 64M --serial none --cmdline test=quit \
      --api-sock "$TMPD/hidden.sock"
    expect missing-libmicrohttpd-names-api-sock-and-package 10 "" \
      "cannot load libmicrohttpd\.so\.[0-9]+ \(needed for --api-sock\): .*; install "
  else
    t_fail missing-libmicrohttpd-names-api-sock-and-package "libmicrohttpd's file is unknown"
  fi
  if [ -n "$slirp_file" ]; then
    run_hidden "$slirp_file" run --kernel "$GUEST" --mem 64M --serial none --cmdline test=quit \
      --net user
    expect missing-libslirp-names-net-user-and-package 10 "" \
      "cannot load libslirp\.so\.[0-9]+ \(needed for --net user\): .*; install "
  else
    t_fail missing-libslirp-names-net-user-and-package "libslirp's file is unknown"
  fi
  # A VM that needs neither runs without them.
  if [ -n "$mhd_file" ] && [ -n "$slirp_file" ]; then
    timeout -k 5 20 unshare -m sh -c 'mount --bind "$1" "$2" && mount --bind "$1" "$3" &&
      shift 3 && exec "$@"' sh "$TMPD/empty.so" "$mhd_file" "$slirp_file" \
      "$KITE" run --kernel "$GUEST" --mem 64M --serial stdio --cmdline test=hello \
      < /dev/null > "$TMPD/out" 2> "$TMPD/err"
    RC=$?; OUT=$(cat "$TMPD/out"); ERR=$(cat "$TMPD/err")
    expect vm-without-them-runs-when-both-are-missing 1 "^PASS"
  fi
fi
