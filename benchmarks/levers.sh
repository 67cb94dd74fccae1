#!/usr/bin/env bash
# Start-up levers, A/B: runs each variant's command REPS times, interleaved (the order rotates
# every repetition, so a noisy neighbour hits every variant), and prints the median wall and
# user+sys CPU (GNU time) of each, and its ratios to the first variant, computed pair by pair
# within each repetition, then the median.
#
#   benchmarks/levers.sh REPS 'label|command' 'label|command' ...
#
# e.g. benchmarks/levers.sh 15 'plain|java -jar ota.jar status --slots s' \
#                              'cds|java -XX:SharedArchiveFile=ota.jsa -jar ota.jar status --slots s'
# Every command must exit 0; its output goes to /dev/null.
set -euo pipefail
reps=$1; shift
labels=(); cmds=()
for v in "$@"; do l=${v%%|*}; labels+=("${l// /_}"); cmds+=("${v#*|}"); done
n=${#labels[@]}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "load before: $(uptime)" >&2
for c in "${cmds[@]}"; do bash -c "$c" > /dev/null 2>&1 || { echo "fails: $c" >&2; exit 1; }; done # warm the page cache
for r in $(seq 1 "$reps"); do
  for k in $(seq 0 $((n - 1))); do
    i=$(( (k + r) % n ))
    /usr/bin/time -o "$tmp/t" -f "%e %U %S %M" bash -c "exec ${cmds[$i]}" > /dev/null 2> "$tmp/err" \
      || { echo "fails: ${cmds[$i]}" >&2; cat "$tmp/err" >&2; exit 1; }
    echo "$r ${labels[$i]} $(tail -1 "$tmp/t")" >> "$tmp/runs"
  done
done
echo "load after: $(uptime)" >&2
awk -v n="$n" -v first="${labels[0]}" '
  function median(s,   a, m, i, j, t) { m = split(s, a, " ");
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
  { w[$2] = w[$2] " " $3; c[$2] = c[$2] " " ($4 + $5); rss[$2] = rss[$2] " " $6; W[$1, $2] = $3; C[$1, $2] = $4 + $5
    if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } reps[$1] = 1 }
  END {
    print "| variant | runs | wall s (median) | user+sys s (median) | RSS MiB (median) | wall / " first " | CPU / " first " |"
    print "| --- | --- | --- | --- | --- | --- | --- |"
    for (i = 1; i <= k; i++) { l = order[i]; rw = ""; rc = ""
      for (r in reps) { rw = rw " " W[r, l] / W[r, first]; rc = rc " " (C[r, first] > 0 ? C[r, l] / C[r, first] : 1) }
      printf "| %s | %d | %.3f | %.3f | %.0f | %.2f | %.2f |\n", l, split(w[l], x, " "), median(w[l]), median(c[l]),
        median(rss[l]) / 1024, median(rw), median(rc) } }' "$tmp/runs"
