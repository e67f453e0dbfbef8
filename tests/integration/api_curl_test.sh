#!/bin/bash
# The HTTP API and the CLI end to end with curl against a real `rebound serve` on an ephemeral
# 127.0.0.1 port: the examples in docs/api.md, errors, auth, SSE resume, promtool on /metrics,
# reload, and the CLI's commands, help and exit codes.
# Usage: api_curl_test.sh REBOUND_BINARY PROMTOOL
set -u
rebound="$1"
promtool="$2"
work=$(mktemp -d)
failures=0
daemon_pid=""

cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

check() {  # check NAME CONDITION_RESULT DETAIL
  if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1: $3"; failures=$((failures + 1)); fi
}
contains() {  # contains NAME HAYSTACK NEEDLE
  case "$2" in *"$3"*) check "$1" 0 "";; *) check "$1" 1 "'$3' not in: $2";; esac
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
write_config() {
  cat > "$work/rebound.toml" <<TOML
[daemon]
data_dir = "$work/data"
listen = "127.0.0.1:$port"

[services.talker]
command = ["sh", "-c", "echo hello; echo world; exec sleep 1000"]
stop_timeout = "2s"
$1
TOML
}
write_config ""
"$rebound" serve --config "$work/rebound.toml" > "$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 200); do  # up to 10 s on a loaded machine
  curl -sf "$url/health" > /dev/null && break
  sleep 0.05
done
token=$(cat "$work/data/token")
auth="Authorization: Bearer $token"

# --- reads ---
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/health")
check health_200 "$([ "$status" = 200 ]; echo $?)" "status $status"
contains daemon_info "$(curl -s "$url/v1/daemon")" "\"config_path\":\"$work/rebound.toml\""
for _ in $(seq 200); do
  logs=$(curl -s "$url/v1/services/talker/logs?lines=1")
  case "$logs" in *world*) break;; esac
  sleep 0.05
done
check logs_tail "$([ "$logs" = '{"lines":["world"],"service":"talker"}' ]; echo $?)" "$logs"
contains logs_stream "$(curl -s -N --max-time 1 "$url/v1/services/talker/logs/stream?lines=1")" $'event: line\ndata: world'
contains logs_unknown "$(curl -s "$url/v1/services/nope/logs")" '"code":"not_found"'
contains events_query "$(curl -s "$url/v1/events?subject=talker&kind=started")" '"kind":"started"'
contains events_bad_limit "$(curl -s "$url/v1/events?limit=0")" '"code":"validation"'

# --- SSE: a client that saw event 1 resumes with Last-Event-ID and gets event 2 on ---
sse=$(curl -s -N --max-time 2 -H 'Last-Event-ID: 1' "$url/v1/events/stream")
contains sse_resume "$sse" "id: 2"
case "$sse" in *'"seq":1,'*) check sse_no_replay 1 "event 1 replayed";; *) check sse_no_replay 0 "";; esac

# --- module state: auth, ETag, If-Match, errors ---
status=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  -d '{"model":"a"}' "$url/v1/state/demo")
check state_put_needs_token "$([ "$status" = 401 ]; echo $?)" "status $status"
headers=$(curl -s -D - -o "$work/put.json" -X PUT -H "$auth" -H 'Content-Type: application/json' \
  -d '{"model":"a"}' "$url/v1/state/demo")
contains state_put_etag "$headers" 'ETag: "1"'
contains state_get "$(curl -s "$url/v1/state/demo")" '"document":{"model":"a"}'
conflict=$(curl -s -w ' %{http_code}' -X PUT -H "$auth" -H 'If-Match: "7"' \
  -H 'Content-Type: application/json' -d '{}' "$url/v1/state/demo")
contains state_conflict "$conflict" '"code":"conflict"'
contains state_conflict_409 "$conflict" ' 409'
contains state_415 "$(curl -s -w ' %{http_code}' -X PUT -H "$auth" -H 'Content-Type: text/plain' \
  -d 'x' "$url/v1/state/demo")" ' 415'
contains state_422 "$(curl -s -X PUT -H "$auth" -H 'Content-Type: application/json' -d '"x"' \
  "$url/v1/state/demo")" "body: expected the module's document as a JSON object"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$work/big.json"
contains body_413 "$(curl -s -w ' %{http_code}' -X PUT -H "$auth" \
  -H 'Content-Type: application/json' --data-binary @"$work/big.json" "$url/v1/state/demo")" ' 413'
contains method_405 "$(curl -s -w ' %{http_code}' -X DELETE -H "$auth" "$url/v1/state/demo")" ' 405'

# --- metrics ---
curl -s "$url/metrics" > "$work/metrics.txt"
contains metrics_requests "$(cat "$work/metrics.txt")" 'rebound_http_requests_total{method="PUT",route="/v1/state/:module",code="409"} 1'
promtool_output=$("$promtool" check metrics < "$work/metrics.txt" 2>&1)
check promtool "$?" "$promtool_output"
check promtool_lint_clean "$([ -z "$promtool_output" ]; echo $?)" "$promtool_output"

# --- reload: a service added to the file starts ---
write_config '[services.second]
command = ["sleep", "1000"]'
reload=$(curl -s -X POST -H "$auth" "$url/v1/daemon/reload")
check reload "$([ "$reload" = "$(printf '{"added":["second"],"changed":[],"config_digest":%s,"removed":[],"unchanged":["talker"]}' \
  "$(echo "$reload" | sed 's/.*"config_digest":\("[0-9a-f]*"\).*/\1/')")" ]; echo $?)" "$reload"

# --- the CLI ---
cli() { "$rebound" --url "$url" --token "$token" "$@"; }
contains cli_daemon "$(cli daemon)" "config         $work/rebound.toml"
contains cli_events_json "$(cli --json events --kind reloaded)" '"kind":"reloaded"'
contains cli_state_get "$(cli state get demo)" '"model": "a"'
contains cli_state_put "$(echo '{"model":"b"}' | cli state put demo --if-match 1)" 'demo: stored version 2'
cli state put demo --if-match 1 < /dev/null > /dev/null 2>&1
check cli_state_put_bad_doc_exit2 "$([ $? = 2 ]; echo $?)" "exit code"
contains cli_logs "$(cli logs talker -n 2)" $'hello\nworld'
contains cli_reload_unchanged "$(cli reload)" 'unchanged  second, talker'
help=$("$rebound" --help)
for command in status start stop restart events logs state daemon reload; do
  contains "help_lists_$command" "$help" "  $command"
  "$rebound" $command --help > /dev/null
  check "help_$command" "$?" "exit code"
done
contains help_exit_codes "$help" "Exit codes: 0 done"
down=$("$rebound" --url http://127.0.0.1:1 daemon 2>&1)
code=$?
check cli_down_exit2 "$([ $code = 2 ]; echo $?)" "exit $code"
check cli_down_one_line "$([ "$(echo "$down" | wc -l)" = 1 ]; echo $?)" "$down"
contains cli_down_message "$down" "rebound: cannot reach the daemon at http://127.0.0.1:1"

if [ "$failures" -ne 0 ]; then
  echo "--- daemon log ---"; cat "$work/daemon.log"
  exit 1
fi
