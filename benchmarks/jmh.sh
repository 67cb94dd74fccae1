#!/usr/bin/env bash
# Runs the JMH stage benchmarks from benchmarks/target/benchmarks.jar (build it with
# `mvn -q -DskipTests package`). TlsBenchmark needs an HTTPS server: this script starts nginx on
# 127.0.0.1 (benchmarks/server.sh) serving a 256 MiB random image and passes BENCH_URL/BENCH_CA.
#
#   benchmarks/jmh.sh                       # every benchmark
#   benchmarks/jmh.sh TlsBenchmark -f 3     # JMH's own arguments
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
jar="$here/target/benchmarks.jar"
[ -f "$jar" ] || { echo "no $jar: run mvn -q -DskipTests package first" >&2; exit 2; }
mkdir -p "$work/images" "$work/scratch"
img="$work/images/image-256M.bin"
[ -f "$img" ] && [ "$(stat -c %s "$img")" -eq $(( 256 << 20 )) ] || head -c 256M /dev/urandom > "$img"
serve_images
echo "nginx on 127.0.0.1:$port; $(uptime)" >&2
BENCH_URL="https://127.0.0.1:$port/image-256M.bin" BENCH_CA="$work/ca.pem" \
  java -Dbench.scratch="$work/scratch" -jar "$jar" -jvmArgsPrepend "-Dbench.scratch=$work/scratch" "$@"
