#!/usr/bin/env python3
"""Detection latency and probing cost of rebound's health checks, as issue 5 asks.

  make bench   (or: python3 bench/health_bench.py --rebound build-bench/src/rebound)

1. Detection latency: a service that is fine until it gets SIGUSR1, then fails its probe at
   once (tcp: closes its listener; http: answers 500; heartbeat: stops POSTing; notify: stops
   sending WATCHDOG=1). Latency = from the signal to the daemon's "Triggering recovery for"
   log line (both wall clock, this host). Printed beside the theoretical bound
   interval x failure_threshold, which a probe that fails at once cannot beat by much.
2. Daemon CPU with 100 services probed every second (tcp, then http): utime + stime of the
   daemon over a measured window, as a share of one core.
Everything listens on 127.0.0.1 only.
"""
import argparse
import datetime
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# The service under test: healthy until SIGUSR1, then failing the way its probe notices.
TARGET = r'''
import http.server, os, signal, socket, sys, threading, time, urllib.request
mode, port = sys.argv[1], int(sys.argv[2])
broken = threading.Event()
signal.signal(signal.SIGUSR1, lambda *_: broken.set())
if mode == "tcp":
    listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port)); listener.listen(128)
    def serve():
        while True:
            try:
                conn, _ = listener.accept(); conn.close()
            except OSError:
                return
    threading.Thread(target=serve, daemon=True).start()
    broken.wait(); listener.shutdown(socket.SHUT_RDWR); listener.close()
elif mode == "http":
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500 if broken.is_set() else 200); self.end_headers()
        def log_message(self, *args): pass
    # One thread: no thread started per request, so an answer takes microseconds, not the
    # milliseconds a new thread can take on a loaded machine (it is inside the measurement).
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
elif mode == "heartbeat":
    token = open(os.environ["REBOUND_TOKEN_FILE"]).read().strip()
    request = urllib.request.Request(os.environ["REBOUND_HEARTBEAT_URL"], data=b"",
                                     headers={"Authorization": "Bearer " + token}, method="POST")
    while not broken.is_set():
        try: urllib.request.urlopen(request, timeout=1).read()
        except OSError: pass
        broken.wait(0.02)
elif mode == "notify":
    address = os.environ["NOTIFY_SOCKET"]
    address = "\0" + address[1:] if address.startswith("@") else address
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"READY=1", address)
    while not broken.is_set():
        s.sendto(b"WATCHDOG=1", address); broken.wait(0.02)
while True:
    time.sleep(3600)
'''

LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] \[\w+\] (\S+): "
                      r"recovery_attempt: Triggering recovery")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, period=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(period)
    raise TimeoutError("condition not met within %.0fs" % timeout)


def get_json(port, path):
    import json
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


class Daemon:
    def __init__(self, binary, workdir, services_toml):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.config = os.path.join(workdir, "rebound.toml")
        self.log = os.path.join(workdir, "daemon.log")
        with open(self.config, "w") as f:
            f.write(f'[daemon]\ndata_dir = "{workdir}/data"\nlisten = "127.0.0.1:{self.port}"\n'
                    f'log_level = "info"\n\n{services_toml}')

    def __enter__(self):
        with open(self.log, "w") as log:  # the daemon logs to stdout
            self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: get_json(self.port, "/v1/services"))
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)

    def services(self):
        return {s["name"]: s for s in (get_json(self.port, "/v1/services") or {})
                .get("services", [])}

    def cpu_seconds(self):
        """CPU time of every thread of the daemon, from schedstat (nanoseconds, unlike the
        10 ms ticks of /proc/PID/stat)."""
        total = 0
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass  # a thread that ended meanwhile
        return total / 1e9

    def recovery_lines(self):
        """(service, wall time) of every "Triggering recovery" line so far."""
        found = []
        with open(self.log) as f:
            for line in f:
                match = LOG_LINE.match(line)
                if match:
                    when = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f")
                    found.append((match.group(2), when.timestamp()))
        return found


def probe_toml(mode, port, interval_ms, threshold):
    common = f'interval = "{interval_ms}ms", failure_threshold = {threshold}'
    if mode == "tcp":
        return f'{{ type = "tcp", address = "127.0.0.1:{port}", timeout = "500ms", {common} }}'
    if mode == "http":
        return (f'{{ type = "http", url = "http://127.0.0.1:{port}/health", timeout = "500ms", '
                f'{common} }}')
    if mode == "heartbeat":
        return f'{{ type = "heartbeat", {common} }}'
    return f'{{ type = "notify", watchdog = "{interval_ms}ms", failure_threshold = {threshold} }}'


def detection(binary, target, mode, trials, interval_ms, threshold, services=8):
    workdir = tempfile.mkdtemp(prefix=f"rebound-health-{mode}-")
    toml = ""
    for i in range(services):
        port = free_port()
        toml += (f'[services.s{i}]\ncommand = ["python3", "{target}", "{mode}", "{port}"]\n'
                 f'stop_timeout = "1s"\nhealth = {probe_toml(mode, port, interval_ms, threshold)}\n'
                 f'recovery = {{ cooldown = "0s" }}\n\n')
    latencies = []
    try:
        with Daemon(binary, workdir, toml) as daemon:
            for trial in range(trials):
                name = f"s{trial % services}"
                service = wait_for(lambda: (lambda s: s if s and s["health"] == "healthy"
                                            else None)(daemon.services().get(name)))
                seen = len(daemon.recovery_lines())
                time.sleep(interval_ms / 1000 * 0.37 * (trial % 3))  # vary the phase
                injected = time.time()
                os.kill(service["pid"], signal.SIGUSR1)
                try:
                    line = wait_for(lambda: next((l for l in daemon.recovery_lines()[seen:]
                                                  if l[0] == name), None))
                except TimeoutError:
                    with open(daemon.log) as log:
                        sys.stderr.write(f"{mode} trial {trial}: no recovery of {name}; log tail:\n"
                                         + "".join(log.readlines()[-20:]))
                    raise
                latencies.append((line[1] - injected) * 1000)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return latencies


def cpu_use(binary, mode, services, seconds):
    workdir = tempfile.mkdtemp(prefix=f"rebound-health-cpu-{mode}-")
    port = free_port()
    # One shared target answers every probe; only the daemon's CPU is measured.
    target = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", workdir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    toml = ""
    for i in range(services):
        health = (f'{{ type = "tcp", address = "127.0.0.1:{port}", interval = "1s" }}'
                  if mode == "tcp" else
                  f'{{ type = "http", url = "http://127.0.0.1:{port}/", interval = "1s" }}')
        toml += f'[services.s{i}]\ncommand = ["sleep", "100000"]\nhealth = {health}\n\n'
    try:
        with Daemon(binary, workdir, toml) as daemon:
            wait_for(lambda: all(s["health"] == "healthy" for s in daemon.services().values())
                     and len(daemon.services()) == services, timeout=30)
            time.sleep(2)
            start_cpu, start = daemon.cpu_seconds(), time.monotonic()
            time.sleep(seconds)
            used = daemon.cpu_seconds() - start_cpu
            return 100.0 * used / (time.monotonic() - start)
    finally:
        target.terminate()
        target.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebound", default="build-bench/src/rebound")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--interval-ms", type=int, default=100)
    parser.add_argument("--threshold", type=int, default=3)
    parser.add_argument("--cpu-seconds", type=int, default=20)
    args = parser.parse_args()
    binary = os.path.abspath(args.rebound)
    target = os.path.join(tempfile.mkdtemp(prefix="rebound-health-target-"), "target.py")
    with open(target, "w") as f:
        f.write(TARGET)

    bound = args.interval_ms * args.threshold
    print(f"detection latency: failure injected -> recovery started "
          f"({args.trials} trials; interval {args.interval_ms} ms x threshold {args.threshold} "
          f"= bound {bound} ms; goal: p99 within bound + 5 ms)")
    print(f"  {'probe':<10} {'median ms':>10} {'p99 ms':>10} {'max ms':>10} {'bound ms':>10}")
    for mode in ("tcp", "http", "heartbeat", "notify"):
        values = detection(binary, target, mode, args.trials, args.interval_ms, args.threshold)
        print(f"  {mode:<10} {statistics.median(values):>10.1f} {percentile(values, 0.99):>10.1f} "
              f"{max(values):>10.1f} {bound:>10}")
    print("daemon CPU with 100 services probed every 1 s (goal: < 2% of one core)")
    for mode in ("tcp", "http"):
        print(f"  {mode:<10} {cpu_use(binary, mode, 100, args.cpu_seconds):>6.2f} % of one core")


if __name__ == "__main__":
    main()
