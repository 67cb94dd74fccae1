#!/usr/bin/env bash
# Threads and heap per LwM2M agent (issue 15): N agents in one JVM register over DTLS/PSK with one
# in-process Leshan server; prints threads and heap before, running and after stop, with
# Californium's own threads and with Lwm2mAgent.Builder.coapExecutor (a shared executor of 2).
#   benchmarks/fleet-threads.sh            # 200 and 1000 agents
#   benchmarks/fleet-threads.sh 50         # any sizes
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -o -q -pl benchmarks -am package -DskipTests
for agents in ${@:-200 1000}; do
  for mode in own coap; do
    java -Xmx1g -cp benchmarks/target/benchmarks.jar io.otaflux.benchmarks.FleetThreads "$agents" "$mode" \
      | grep '^fleet-threads:'
  done
done
