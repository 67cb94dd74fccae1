#!/usr/bin/env bash
# The fleet campaign benchmark (issue 11): N LwM2M agents in one JVM, each with its own file
# store, registered with one Eclipse Leshan server over DTLS/PSK and updated by one campaign
# (write Package URI, download, verify, Update, boot, mark-good, Result 1). Prints the time to
# register all, the campaign's time, and threads and heap per agent.
#   benchmarks/fleet.sh            # 200 and 1000 agents
#   benchmarks/fleet.sh 500        # any sizes
set -euo pipefail
cd "$(dirname "$0")/.."
for agents in ${@:-200 1000}; do
  mvn -B -pl lwm2m -am verify -Dtest=FleetTest -Dsurefire.failIfNoSpecifiedTests=false \
      -Dfleet.agents="$agents" 2>&1 | grep '^fleet:' || true
done
