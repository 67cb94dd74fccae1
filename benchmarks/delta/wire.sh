#!/bin/bash
# Bytes on the wire, wall time, CPU and peak RSS of `ota update --manifest` for a delta, on loopback
# and through a proxy throttled to 10 Mbit/s. Needs the image pair and published files in $W
# (benchmarks/delta/build-images.sh, then DeltaSizes.java or `ota manifest create --delta`).
# usage: wire.sh WORKDIR OTA_JAR CORE_CP SERVER_CP
set -euo pipefail
W=$1; JAR=$2; CORE_CP=$3; SERVER_CP=$4
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$W"
[ -f keys/ota-signing-key.pem ] || java -jar "$JAR" keygen --out keys >/dev/null
java -cp "$CORE_CP" "$HERE/SignManifest.java" keys/ota-signing-key.pem 2.0.0 new.img pub/new.img.zst pub/new.img.idx \
  pub/new.img.chunks.zst > pub/m-new.json
run() { # rate label
  local rate=$1 label=$2
  java -Xmx1g -cp "$SERVER_CP" "$HERE/DeltaServer.java" root.pem "$rate" old.img=old.img new.img.zst=pub/new.img.zst \
    new.img.chunks.zst=pub/new.img.chunks.zst new.img.idx=pub/new.img.idx m-new.json=pub/m-new.json > server.log 2>&1 &
  local server=$!
  while ! grep -q '^proxy' server.log; do sleep 0.2; done
  local port; port=$(awk '/^proxy/ {print $2}' server.log)
  rm -rf slots && java -jar "$JAR" init --slots slots --slot-size 256M >/dev/null
  if [ ! -f slots-old.tar ]; then
    java -jar "$JAR" update "https://localhost:$port/old.img" --slots slots --root-cert root.pem --no-progress >/dev/null 2>&1
    java -jar "$JAR" boot --slots slots >/dev/null && java -jar "$JAR" mark-good --slots slots >/dev/null
    tar -S -cf slots-old.tar slots
  else
    rm -rf slots && tar -xf slots-old.tar
  fi
  sleep 0.5
  local before; before=$(tail -1 server.log | awk '/^bytes/ {print $2+$3}'); before=${before:-0}
  /usr/bin/time -f "%e %U %S %M" -o time.txt java -jar "$JAR" update --manifest "https://localhost:$port/m-new.json" \
    --slots slots --root-cert root.pem --trusted-key keys/ota-signing-key.pub.pem --json > update.json 2> update.err
  sleep 0.5
  local after; after=$(tail -1 server.log | awk '/^bytes/ {print $2+$3}')
  read -r wall user sys rss < time.txt
  echo "$label wire=$((after - before)) wall=${wall}s cpu=$(echo "$user + $sys" | bc)s rssKiB=$rss $(tail -1 update.json | grep -o '"downloaded": *[0-9]*') $(tail -1 update.json | grep -o '"reused": *[0-9]*')"
  kill $server
  wait $server 2>/dev/null || true
}
for r in ${RUNS:-loopback 10Mbit}; do
  case $r in
    loopback) run 0 loopback ;;
    10Mbit) run 1250000 10Mbit ;;
  esac
done
