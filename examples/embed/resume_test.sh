#!/usr/bin/env bash
# Integration test of examples/embed: kill -9 the demo mid-download, run it again, and check
# that it resumes the interrupted download and never fetches a finished one twice.
set -euo pipefail
demo=$1
dir=$(mktemp -d /tmp/rebound-embed-XXXXXX)
trap 'rm -rf "$dir"' EXIT

"$demo" "$dir" > "$dir/run1.log" 2>&1 &
pid=$!
# Wait until model-1.bin is recorded done and model-2.bin has started, then kill.
for _ in $(seq 1 200); do
  grep -q "downloading model-2.bin" "$dir/run1.log" && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
grep -q "^model-1.bin  success" "$dir/run1.log" || { echo "model-1 did not finish"; cat "$dir/run1.log"; exit 1; }
test ! -e "$dir/downloads/model-2.bin" || { echo "model-2 finished before the kill"; exit 1; }

"$demo" "$dir" > "$dir/run2.log" 2>&1
cat "$dir/run2.log"
# model-2 was resumed (not started afresh by Run), model-1 was not downloaded again.
grep -q "^model-2.bin  success" "$dir/run2.log"
sed -n '/resuming/,/downloading\.\.\./p' "$dir/run2.log" | grep -q "^model-2.bin  success"
! grep -q "downloading model-1.bin" "$dir/run2.log"
for f in model-1.bin model-2.bin model-3.bin; do
  test -s "$dir/downloads/$f" || { echo "missing $f"; exit 1; }
done
echo "embed resume test passed"
