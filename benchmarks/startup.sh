#!/usr/bin/env bash
# JVM start and class loading of the fat jar: `ota status` (no network) and an 8 MiB update,
# plain and with an AppCDS archive of the jar's classes (which needs -XX:SharedArchiveFile on
# the command line: measured to say what it would buy, not used by the command).
#
#   benchmarks/startup.sh [REPS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
reps=${1:-5}
jar="$root/samples/ota-cli/target/ota.jar"
mkdir -p "$work/images" "$work/startup"
img="$work/images/image-8M.bin"
[ -f "$img" ] || head -c 8M /dev/urandom > "$img"
serve_images
url="https://127.0.0.1:$port/image-8M.bin"
jsa="$work/startup/ota.jsa"
rm -rf "$work/startup/slots"
java -Xmx48m -XX:ArchiveClassesAtExit="$jsa" -jar "$jar" update "$url" --slots "$work/startup/slots" \
  --root-cert "$work/ca.pem" --no-progress > /dev/null 2>&1
echo "load: $(uptime)"
t() { /usr/bin/time -o "$work/startup/t" -f "%e %U %S %M" "$@" > /dev/null 2>&1 || true; cat "$work/startup/t"; }
for r in $(seq 1 "$reps"); do
  echo "status plain $(t java -Xmx48m -jar "$jar" status --slots "$work/startup/slots")"
  echo "status appcds $(t java -Xmx48m -XX:SharedArchiveFile="$jsa" -jar "$jar" status --slots "$work/startup/slots")"
  rm -rf "$work/startup/slots"
  echo "update8M plain $(t java -Xmx48m -jar "$jar" update "$url" --slots "$work/startup/slots" --root-cert "$work/ca.pem" --no-progress)"
  rm -rf "$work/startup/slots"
  echo "update8M appcds $(t java -Xmx48m -XX:SharedArchiveFile="$jsa" -jar "$jar" update "$url" --slots "$work/startup/slots" --root-cert "$work/ca.pem" --no-progress)"
done | awk '{ k = $1 " " $2; w[k] = w[k] " " $3; c[k] = c[k] " " ($4 + $5); print }
  END { print ""; print "| run | variant | wall s (each) | user+sys s (each) |"; print "| --- | --- | --- | --- |"
        for (k in w) { split(k, p, " "); printf "| %s | %s |%s |%s |\n", p[1], p[2], w[k], c[k] } }'
echo "load: $(uptime)"
