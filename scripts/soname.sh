#!/bin/sh
# soname.sh NAME LIBDIR CC [CC-ARGS...]
# Print the SONAME of libNAME.so (the library a build would link) and, on a
# second line, the Debian package that installs it (empty when dpkg does not
# know).  meson.build passes both to the code that dlopen()s the library
# (src/core/dynlib.h), so kite asks at run time for exactly the library
# that the headers it was built against belong to.
# LIBDIR: pkg-config's libdir for the library (may be empty); else the
# compiler's search path (CC -print-file-name=libNAME.so).
# Exit status 1, with a message on stderr, when no SONAME can be read.
set -u
name=$1 libdir=$2
shift 2
lib=""
if [ -n "$libdir" ] && [ -e "$libdir/lib$name.so" ]; then
	lib="$libdir/lib$name.so"
else
	f=$("$@" -print-file-name="lib$name.so" 2>/dev/null)
	case "$f" in /*) [ -e "$f" ] && lib=$f ;; esac
fi
if [ -z "$lib" ]; then
	echo "soname.sh: lib$name.so not found (libdir '$libdir', nor by $1)" >&2
	exit 1
fi
soname=""
if command -v readelf >/dev/null 2>&1; then
	soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
fi
if [ -z "$soname" ] && command -v objdump >/dev/null 2>&1; then
	soname=$(objdump -p "$lib" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
fi
if [ -z "$soname" ]; then
	echo "soname.sh: cannot read the SONAME of $lib (is binutils' readelf or objdump installed?)" >&2
	exit 1
fi
echo "$soname"
pkg=""
if command -v dpkg >/dev/null 2>&1; then
	dir=$(dirname "$(readlink -f "$lib")")
	for f in "$dir/$soname" "$(readlink -f "$dir/$soname")"; do
		pkg=$(dpkg -S "$f" 2>/dev/null | sed -n '1s/^\([^:,]*\).*/\1/p')
		[ -n "$pkg" ] && break
	done
fi
echo "$pkg"
