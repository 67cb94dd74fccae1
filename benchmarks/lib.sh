# Sourced by the benchmark scripts after they set $here (their own directory): the repository
# root, the work directory ($BENCH_WORK, default /var/tmp/otaflux-bench), and nginx serving it.
root=$(cd "$here/.." && pwd)
work=${BENCH_WORK:-/var/tmp/otaflux-bench}

# Starts nginx (server.sh) over $work/images on a free port, stopped when the script exits; sets $port.
serve_images() {
  port=$("$here/server.sh" start "$work" "$work/images")
  trap '"$here/server.sh" stop "$work"' EXIT
}
