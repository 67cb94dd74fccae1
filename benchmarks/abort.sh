#!/usr/bin/env bash
# Abort latency at random points of real 1 GiB downloads from nginx on 127.0.0.1:
# API abort (UpdateSession.abort -> socket closed, writer stopped) in one JVM, and SIGINT to
# `java -Xmx48m -jar ota.jar update ...` -> process exited.
#
#   benchmarks/abort.sh [N]      # N aborts of each kind (default 50)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
n=${1:-50}
bench="$here/target/benchmarks.jar"
ota="$root/samples/ota-cli/target/ota.jar"
[ -f "$bench" ] && [ -f "$ota" ] || { echo "run mvn -q -DskipTests package first" >&2; exit 2; }
mkdir -p "$work/images" "$work/scratch"
img="$work/images/image-1024M.bin"
[ -f "$img" ] && [ "$(stat -c %s "$img")" -eq $(( 1024 << 20 )) ] || head -c 1024M /dev/urandom > "$img"
serve_images
url="https://127.0.0.1:$port/image-1024M.bin"
echo "nginx on 127.0.0.1:$port; $(uptime)" >&2
java -Xmx48m -cp "$bench" io.otaflux.benchmarks.AbortLatency api "$url" "$work/ca.pem" "$work/scratch" "$n"
java -cp "$bench" io.otaflux.benchmarks.AbortLatency cli "$ota" "$url" "$work/ca.pem" "$work/scratch" "$n"
echo "$(uptime)" >&2
