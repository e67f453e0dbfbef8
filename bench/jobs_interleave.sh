#!/bin/sh
# One interleaved round of bench/jobs_bench (docs/benchmarks.md, "Durable jobs"): BEFORE's and
# AFTER's Release builds alternated, a shim per attempt and the shared runner, the disk's flush
# latency and the load average printed first. Run it under the build lock:
#
#   flock /tmp/rebound-build.lock bench/jobs_interleave.sh /work/main/build-bench build-bench
before=${1:?usage: jobs_interleave.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR}
after=${2:?usage: jobs_interleave.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR}
python3 -c '
import os, tempfile, time
fd, path = tempfile.mkstemp(dir=".")
samples = []
for _ in range(300):
    os.write(fd, b"x" * 100); start = time.perf_counter(); os.fdatasync(fd)
    samples.append(time.perf_counter() - start)
os.close(fd); os.unlink(path); samples.sort()
print("fdatasync median %.3f ms p99 %.3f ms" % (samples[150] * 1e3, samples[297] * 1e3))'
for runner in per-job shared; do
  for build in "$before" "$after"; do
    printf '%s %s, load %s: ' "$build" "$runner" "$(cut -d' ' -f1 /proc/loadavg)"
    "$build/bench/jobs_bench" "$build/src/rebound" --clients 64 --seconds 3 --jobs 2000 \
      --concurrency 8 --runner "$runner" | tr '\n' '|'
    echo
  done
done
