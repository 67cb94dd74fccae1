#!/usr/bin/env bash
# The data path as a gateway embeds it (issue 18): one JVM, several updates in a row from nginx on
# 127.0.0.1 over TLS into one file store, interleaved with the floor (curl -o /dev/null and
# dd conv=fsync of the same bytes, started from the same JVM). Prints one line per repetition
# and the medians; ours/floor is taken per repetition, then the median.
#
#   benchmarks/inproc.sh [SIZE_MIB] [REPS] [WARMUP]     # defaults: 1024 7 2
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size=${1:-1024}; reps=${2:-7}; warmup=${3:-2}
work=${BENCH_WORK:-/var/tmp/otaflux-bench}
bench=${BENCH_JAR:-"$here/target/benchmarks.jar"}
[ -f "$bench" ] || { echo "run mvn -q -DskipTests package first" >&2; exit 2; }
mkdir -p "$work/images" "$work/scratch"
img="$work/images/image-${size}M.bin"
[ -f "$img" ] && [ "$(stat -c %s "$img")" -eq $(( size << 20 )) ] || head -c "${size}M" /dev/urandom > "$img"
port=$("$here/server.sh" start "$work" "$work/images")
trap '"$here/server.sh" stop "$work"' EXIT
url="https://127.0.0.1:$port/image-${size}M.bin"
curl -s --cacert "$work/ca.pem" -o /dev/null "$url" # page cache warm for nginx
echo "nginx on 127.0.0.1:$port; $(uptime)" >&2
java -Xmx48m ${INPROC_JAVA_OPTS:-} -cp "$bench" io.otaflux.benchmarks.InProcessUpdates "$url" "$work/ca.pem" "$img" \
  "$work/scratch" "$warmup" "$reps"
echo "$(uptime)" >&2
