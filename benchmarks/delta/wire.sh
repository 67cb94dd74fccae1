#!/bin/bash
# Bytes on the wire, wall time, CPU and peak RSS of `ota update --manifest` for a delta, on loopback
# and through a link throttled to 10 Mbit/s (ThrottleProxy.java: one shared rate for all
# connections, no added latency), from nginx (benchmarks/server.sh: keep-alive, multi-range answers
# as multipart/byteranges). Needs the image pair and published files in $W
# (benchmarks/delta/build-images.sh, then DeltaSizes.java or `ota manifest create --delta`).
# The old image is installed the way a fleet that publishes deltas installed it: a full download of
# its own manifest (published with Publish.java when pub/old.img.idx is missing), so the device keeps
# its chunk index with the slot. The `ota` JVM runs with the launcher's heap cap (-Xmx64m) unless
# OTA_JAVA_OPTS says otherwise (OTA_JAVA_OPTS=" " for the JVM's default heap).
# usage: wire.sh WORKDIR OTA_JAR CORE_CP
set -euo pipefail
W=$1; JAR=$2; CORE_CP=$3
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$W"
[ -f keys/ota-signing-key.pem ] || java -jar "$JAR" keygen --out keys >/dev/null
java -cp "$CORE_CP" "$HERE/SignManifest.java" keys/ota-signing-key.pem 2.0.0 new.img pub/new.img.zst pub/new.img.idx \
  pub/new.img.chunks.zst > pub/m-new.json
[ -f pub/old.img.idx ] || java -cp "$CORE_CP" "$HERE/Publish.java" old.img 3 pub
java -cp "$CORE_CP" "$HERE/SignManifest.java" keys/ota-signing-key.pem 1.0.0 old.img pub/old.img.zst pub/old.img.idx \
  pub/old.img.chunks.zst > pub/m-old.json
JVM="java ${OTA_JAVA_OPTS:--Xmx64m}"
# LAUNCHER=samples/ota-cli/target/ota: the measured update runs through the installed command's
# launcher (its -Xmx64m and AppCDS archive, kept in $W/cds; the first run per jar records it)
OTA="$JVM -jar $JAR"
[ -n "${LAUNCHER:-}" ] && OTA="env OTA_JAR=$JAR OTA_CACHE_DIR=$W/cds bash $LAUNCHER"
# on a machine shared with other work, NICE=-10 gives the proxy and the update a larger share of the CPU
NICE=${NICE:+nice -n $NICE}
# the store running old, per jar (a newer jar keeps more with the slot)
OLD_TAR=slots-old-$(md5sum < "$JAR" | cut -c1-12).tar
mkdir -p www
for f in old.img pub/old.img.zst pub/old.img.chunks.zst pub/old.img.idx pub/m-old.json \
  pub/new.img.zst pub/new.img.chunks.zst pub/new.img.idx pub/m-new.json; do
  ln -sf "$W/$f" "www/$(basename "$f")"
done
origin=$(bash "$HERE/../server.sh" start "$W/nginx-work" "$W/www")
trap 'bash "$HERE/../server.sh" stop "$W/nginx-work"' EXIT
ROOT="$W/nginx-work/ca.pem"
run() { # rate label
  local rate=$1 label=$2
  $NICE java -cp "$HERE" "$HERE/ThrottleProxy.java" "$origin" "$rate" > proxy.log 2>&1 &
  local proxy=$!
  while ! grep -q '^proxy' proxy.log; do sleep 0.2; done
  local port; port=$(awk '/^proxy/ {print $2}' proxy.log)
  rm -rf slots && java -jar "$JAR" init --slots slots --slot-size 256M >/dev/null
  if [ ! -f "$OLD_TAR" ]; then
    $JVM -jar "$JAR" update --manifest "https://localhost:$origin/m-old.json" --no-delta --slots slots --root-cert "$ROOT" \
      --trusted-key keys/ota-signing-key.pub.pem --no-progress >/dev/null 2>&1
    java -jar "$JAR" boot --slots slots >/dev/null && java -jar "$JAR" mark-good --slots slots >/dev/null
    tar -S -cf "$OLD_TAR" slots
  else
    rm -rf slots && tar -xf "$OLD_TAR"
  fi
  ls slots >&2
  sleep 0.5
  local before; before=$(tail -1 proxy.log | awk '/^bytes/ {print $2+$3}'); before=${before:-0}
  local t0; t0=$(date +%s.%N)
  $NICE /usr/bin/time -f "%e %U %S %M" -o time.txt $OTA update --manifest "https://localhost:$port/m-new.json" \
    --slots slots --root-cert "$ROOT" --trusted-key keys/ota-signing-key.pub.pem --json 2> update.err \
    | while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done > update.timed
  cut -d' ' -f2- update.timed > update.json
  sleep 1
  local after; after=$(tail -1 proxy.log | awk '/^bytes/ {print $2+$3}')
  local conns; conns=$(tail -1 proxy.log | awk '/^bytes/ {print $5}')
  read -r wall user sys rss < time.txt
  # phases: start to the first image byte (JVM, manifest, index, scan of the running slot), the bytes, the end
  # (start to the resolved event: JVM, manifest, index, the plan; resolved to the first byte: the first chunks)
  local phases; phases=$(awk -v t0="$t0" '/"event":"resolved"/ {r=$1} /"event":"progress"/ && !p {p=$1} /"event":"progress"/ {q=$1} /"event":"done"/ {d=$1}
    END {printf "start-to-first-byte=%.1fs (start-to-resolved=%.1fs) bytes=%.1fs last-byte-to-done=%.1fs", p-t0, r-t0, q-p, d-q}' update.timed)
  echo "$label wire=$((after - before)) connections=$conns wall=${wall}s cpu=$(echo "$user + $sys" | bc)s rssKiB=$rss $(tail -1 update.json | grep -o '"downloaded": *[0-9]*') $(tail -1 update.json | grep -o '"reused": *[0-9]*') $phases"
  kill $proxy
  wait $proxy 2>/dev/null || true
}
for r in ${RUNS:-loopback 10Mbit}; do
  case $r in
    loopback) run 0 loopback ;;
    10Mbit) run 1250000 10Mbit ;;
  esac
done
