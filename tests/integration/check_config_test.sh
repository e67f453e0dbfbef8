#!/bin/sh
# `rebound check-config` end to end: exit codes 0 / 1 / 2 and what it prints.
# Usage: check_config_test.sh REBOUND_BINARY FIXTURES_DIR
set -u
rebound="$1"
fixtures="$2"
failures=0

# expect NAME WANT_CODE WANT_OUTPUT -- COMMAND...: runs COMMAND, compares exit code and output.
expect() {
  name="$1"; want_code="$2"; want_output="$3"; shift 4
  output=$("$@" 2>&1)
  code=$?
  if [ "$code" -ne "$want_code" ] || [ "$output" != "$want_output" ]; then
    echo "FAIL $name: exit $code (want $want_code)"
    echo "  got:  $output"
    echo "  want: $want_output"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

expect good 0 "$fixtures/good.toml: ok: 3 services, start order: db, api, worker" -- \
  "$rebound" check-config "$fixtures/good.toml"
expect bad 1 "$fixtures/bad.toml:4: services.api.restart: unknown value \"sometimes\"; expected one of: always, on-failure, never" -- \
  "$rebound" check-config "$fixtures/bad.toml"
expect missing 2 "reading config file: open $fixtures/absent.toml: No such file or directory" -- \
  "$rebound" check-config "$fixtures/absent.toml"
expect env_override 1 "environment variable REBOUND_LISTEN (overrides daemon.listen): invalid address \"7300\"; expected host:port with a port from 1 to 65535, e.g. \"127.0.0.1:7300\" or \"[::1]:7300\"" -- \
  env REBOUND_LISTEN=7300 "$rebound" check-config "$fixtures/good.toml"

[ "$failures" -eq 0 ]
