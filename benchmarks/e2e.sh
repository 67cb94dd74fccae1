#!/usr/bin/env bash
# End-to-end benchmark: OtaFlux's `ota update` against the shell pipeline a user would write,
# and against the floor, from nginx on 127.0.0.1 over HTTPS into a synced file. Interleaved runs,
# medians of wall, user+sys CPU and peak RSS (GNU time), ratios pair by pair.
#
#   benchmarks/e2e.sh [--sizes "256 1024"] [--reps 5] [--jar samples/ota-cli/target/ota.jar]
#                     [--work /var/tmp/otaflux-bench] [--out FILE] [--no-heap] [--report-only]
#
# --report-only prints the tables again from WORK/runs/results.tsv without running anything.
# Environment: OURS_B="label|command prefix" adds a second variant of ours to the interleave
# (an A/B run), e.g. OURS_B="jdk-tls|java -Xmx48m -Dio.netty.handler.ssl.noOpenSsl=true -jar ota.jar";
# OURS_C the same, a third variant (e.g. the launcher of an earlier commit, for a before/after).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

sizes="256 1024"; reps=5; jar="$root/samples/ota-cli/target/ota.jar"; work=/var/tmp/otaflux-bench
out=""; heap=1; report_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --jar) jar=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-heap) heap=0; shift ;;
    --report-only) report_only=1; heap=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
results="$work/runs/results.tsv"
# awk: the median of a[0] .. a[n-1] (sorts them in place), for both tables below
MEDIAN='function med(a, n,   i, j, x) { for (i = 1; i < n; i++) { x = a[i]; for (j = i - 1; j >= 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2 }'
if [ "$report_only" = 0 ]; then
[ -f "$jar" ] || { echo "no $jar: run mvn -q -DskipTests package first" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
fi
command -v curl >/dev/null && command -v openssl >/dev/null || { echo "needs curl and openssl" >&2; exit 2; }

mkdir -p "$work/images" "$work/runs"
: > "$results"

for s in $sizes; do
  img="$work/images/image-${s}M.bin"
  if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" -ne $(( s * 1024 * 1024 )) ]; then
    echo "generating $img" >&2
    head -c "${s}M" /dev/urandom > "$img"
  fi
  [ -f "$img.sha256" ] && [ "$img.sha256" -nt "$img" ] || sha256sum "$img" | cut -d' ' -f1 > "$img.sha256"
done

port=$("$here/server.sh" start "$work" "$work/images")
trap '"$here/server.sh" stop "$work"' EXIT
ca="$work/ca.pem"
url() { echo "https://127.0.0.1:$port/image-$1M.bin"; }
echo "nginx on 127.0.0.1:$port; load before: $(uptime)" >&2
for s in $sizes; do curl -s --cacert "$ca" -o /dev/null "$(url "$s")"; done # page cache warm for nginx

# one measured run: label size command...; appends "rep size label wall user sys rss_kb" to results
measure() {
  local rep=$1 size=$2 label=$3; shift 3
  sync
  if ! /usr/bin/time -o "$work/runs/t" -f "%e %U %S %M" "$@" > "$work/runs/out" 2> "$work/runs/err"; then
    echo "FAILED: $label $size (rep $rep):" >&2; tail -5 "$work/runs/err" >&2; exit 1
  fi
  echo "$rep $size $label $(cat "$work/runs/t")" >> "$results"
}

check_ours() { # slots-dir size
  local want; want=$(cat "$work/images/image-$2M.bin.sha256")
  grep -q "$want" "$work/runs/out" || { echo "ours: wrong or missing digest" >&2; cat "$work/runs/out" >&2; exit 1; }
}

run_one() { # rep size tool
  local rep=$1 s=$2 tool=$3 u; u=$(url "$s")
  case "$tool" in
    ours)
      rm -rf "$work/slots"
      measure "$rep" "$s" ours java -Xmx48m -jar "$jar" update "$u" --slots "$work/slots" --root-cert "$ca" --no-progress
      check_ours "$work/slots" "$s" ;;
    ours_b)
      rm -rf "$work/slots"
      # shellcheck disable=SC2086
      measure "$rep" "$s" "$(echo "${OURS_B%%|*}" | tr -c 'A-Za-z0-9._\n-' '_')" ${OURS_B#*|} update "$u" --slots "$work/slots" --root-cert "$ca" --no-progress
      check_ours "$work/slots" "$s" ;;
    ours_c)
      rm -rf "$work/slots"
      # shellcheck disable=SC2086
      measure "$rep" "$s" "$(echo "${OURS_C%%|*}" | tr -c 'A-Za-z0-9._\n-' '_')" ${OURS_C#*|} update "$u" --slots "$work/slots" --root-cert "$ca" --no-progress
      check_ours "$work/slots" "$s" ;;
    peer)
      rm -f "$work/slot.img"
      measure "$rep" "$s" peer bash -c "set -o pipefail; curl -sS --cacert '$ca' '$u' | tee '$work/slot.img' | openssl dgst -sha256 && sync '$work/slot.img'"
      grep -q "$(cat "$work/images/image-${s}M.bin.sha256")" "$work/runs/out" || { echo "peer: wrong digest" >&2; exit 1; } ;;
    curl)
      measure "$rep" "$s" curl curl -sS --cacert "$ca" -o /dev/null "$u" ;;
    dd)
      rm -f "$work/dd.img"
      measure "$rep" "$s" dd dd if="$work/images/image-${s}M.bin" of="$work/dd.img" bs=1M conv=fsync status=none ;;
  esac
}

tools="ours peer curl dd"
[ -n "${OURS_B:-}" ] && tools="ours ours_b peer curl dd"
[ -n "${OURS_C:-}" ] && tools="${tools/ours /ours ours_c }"
for rep in $(seq 1 "$reps"); do
  # alternate the order so drift (page cache, other load) does not favour one side
  order=$tools
  [ $(( rep % 2 )) -eq 0 ] && order=$(echo "$tools" | tr ' ' '\n' | tac | tr '\n' ' ')
  for s in $sizes; do
    for t in $order; do run_one "$rep" "$s" "$t"; done
  done
  echo "rep $rep done; $(uptime)" >&2
done
rm -rf "$work/slots" "$work/slot.img" "$work/dd.img"
fi

heap_line() { # size -> "max heap before GC / max after GC (MiB), GC count"
  local s=$1
  rm -rf "$work/slots"
  java -Xmx48m -Xlog:gc:file="$work/runs/gc-$s.log" -jar "$jar" update "$(url "$s")" --slots "$work/slots" \
    --root-cert "$ca" --no-progress > /dev/null 2>&1
  rm -rf "$work/slots"
  grep -o '[0-9]*M->[0-9]*M([0-9]*M)' "$work/runs/gc-$s.log" | sed -E 's/([0-9]+)M->([0-9]+)M\(([0-9]+)M\)/\1 \2 \3/' \
    | awk -v s="$s" 'BEGIN { b = 0; a = 0; n = 0 } { n++; if ($1 > b) b = $1; if ($2 > a) a = $2; c = $3 }
      END { printf "| %s MiB | %d | %d MiB | %d MiB | %d MiB |\n", s, n, b, a, c }'
}

{
  echo "Load at the end: $(uptime)"
  echo
  echo "| image | tool | runs | wall s (median) | user+sys s (median) | peak RSS MiB (median) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for s in $sizes; do
    for t in $(awk -v s="$s" '$2 == s { print $3 }' "$results" | awk '!seen[$0]++'); do
      awk -v s="$s" -v t="$t" 'BEGIN { n = 0 } $2 == s && $3 == t { w[n] = $4; c[n] = $5 + $6; r[n] = $7 / 1024; n++ }
'"$MEDIAN"'
        END { printf "| %s MiB | %s | %d | %.2f | %.2f | %.0f |\n", s, t, n, med(w, n), med(c, n), med(r, n) }' "$results"
    done
  done
  echo
  echo "Ratios pair by pair (per repetition, then the median; floor = slower of curl and dd in that repetition):"
  echo
  echo "| image | variant | ours/peer wall | ours/floor wall | ours/peer CPU | runs |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for s in $sizes; do
    for v in $(awk -v s="$s" '$2 == s && $3 != "peer" && $3 != "curl" && $3 != "dd" { print $3 }' "$results" | awk '!seen[$0]++'); do
      awk -v s="$s" -v v="$v" 'BEGIN { n = 0; reps = 0 } $2 == s { w[$1, $3] = $4; c[$1, $3] = $5 + $6; if ($1 > reps) reps = $1 }
'"$MEDIAN"'
        END { for (r = 1; r <= reps; r++) { f = w[r, "curl"] > w[r, "dd"] ? w[r, "curl"] : w[r, "dd"]
                if (f < 0.01) f = 0.01
                p[n] = w[r, v] / (w[r, "peer"] > 0 ? w[r, "peer"] : 0.01); q[n] = w[r, v] / f
                k[n] = c[r, v] / (c[r, "peer"] > 0 ? c[r, "peer"] : 0.01); n++ }
              printf "| %s MiB | %s | %.2f | %.2f | %.2f | %d |\n", s, v, med(p, n), med(q, n), med(k, n), n }' "$results"
    done
  done
  if [ "$heap" = 1 ]; then
    echo
    echo "Heap with -Xmx48m (-Xlog:gc, one extra run per size, not timed):"
    echo
    echo "| image | GCs | max heap before a GC | max heap after a GC | heap committed at the last GC |"
    echo "| --- | --- | --- | --- | --- |"
    for s in $sizes; do heap_line "$s"; done
  fi
  echo
  echo "Raw runs (rep, MiB, tool, wall s, user s, sys s, max RSS KiB): $results"
} | tee ${out:+"$out"}
