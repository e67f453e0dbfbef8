#!/bin/bash
# HTTP API throughput on loopback: a real `rebound serve` supervising 100 services, then wrk
# against GET /health and GET /v1/services. Prints req/s and latency percentiles per route.
# Usage: bench/api_bench.sh REBOUND_BINARY [SECONDS] [CONNECTIONS]
# (make bench runs it on the Release build; figures go to docs/benchmarks.md.)
set -eu
rebound="$1"
seconds="${2:-10}"
connections="${3:-64}"
services=${SERVICES:-100}
work=$(mktemp -d)
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  printf '[daemon]\ndata_dir = "%s/data"\nlisten = "127.0.0.1:%s"\n\n' "$work" "$port"
  for i in $(seq -w 1 $services); do
    printf '[services.svc%s]\ncommand = ["sleep", "100000"]\nstop_timeout = "2s"\n\n' "$i"
  done
} > "$work/rebound.toml"
"$rebound" serve --config "$work/rebound.toml" > "$work/daemon.log" 2>&1 &
daemon_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 200); do
  running=$(curl -s "$url/v1/services" | grep -o '"state":"running"' | wc -l || true)
  [ "$running" = "$services" ] && break
  sleep 0.1
done
echo "daemon pid $daemon_pid: $running/$services services running; wrk -t2 -c$connections -d${seconds}s"
for path in /health /v1/services; do
  echo "== GET $path"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url$path" |
    grep -E 'Requests/sec|Transfer/sec|^ +(50|90|99)%|Non-2xx|Socket errors'
done
