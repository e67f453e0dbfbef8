#!/usr/bin/env python3
"""Side-by-side: rebound vs supervisord, as issue 4 asks.

  make bench   (or: python3 bench/supervise_bench.py --rebound build-bench/src/rebound)

1. Crash-to-respawn latency: SIGKILL a supervised `sleep`, then poll /proc every 1 ms
   (from this separate probe) until the new process exists. Median and p99 over N trials.
   supervisord's XML-RPC is never polled while measuring (it wakes its loop, see BASELINES.md).
2. Time to start 100 services until all 100 processes exist.
3. Memory with 100 services: proportional set size (PSS, /proc/PID/smaps_rollup) of the
   supervisor (rebound: the daemon plus its 100 shims; supervisord: its one process).
Everything listens on 127.0.0.1 only.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_pids(marker):
    """pids whose command line is exactly `sleep <marker>`."""
    wanted = b"sleep\0" + marker.encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if f.read() == wanted:
                    found.append(int(entry))
        except OSError:
            pass
    return found


def last_pid():
    with open("/proc/loadavg") as f:
        return int(f.read().split()[4])


def cmdline_is(pid, wanted):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read() == wanted
    except OSError:
        return False


def wait_for_new(marker, since_pid, timeout=10.0):
    """Polls every 1 ms for a process created after since_pid that runs `sleep <marker>`.
    Reads only the pids created since (from /proc/loadavg), so a poll costs microseconds."""
    wanted = b"sleep\0" + marker.encode() + b"\0"
    candidates = []
    seen = since_pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        newest = last_pid()
        candidates.extend(range(seen + 1, newest + 1))
        seen = newest
        for pid in candidates:  # re-checked: a new pid may not have exec'ed yet
            if cmdline_is(pid, wanted):
                return pid
        time.sleep(0.001)
    raise TimeoutError("no new process for " + marker)


def running_markers():
    """The markers of every `sleep <marker>` process, in one pass over /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    parts = f.read().split(b"\0")
                if len(parts) >= 2 and parts[0] == b"sleep":
                    found.add(parts[1].decode())
            except OSError:
                pass
    return found


def wait_for(predicate, timeout=30.0, period=0.001):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(period)
    raise TimeoutError("condition not met in time")


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def markers(count, base):
    return [str(base + i) for i in range(count)]


class Rebound:
    name = "rebound"

    def __init__(self, binary, workdir, names):
        self.binary, self.workdir, self.names = binary, workdir, names
        self.data = os.path.join(workdir, "data")
        services = "".join(
            f'[services.s{m}]\ncommand = ["sleep", "{m}"]\n'
            'backoff = { strategy = "fixed", initial = "0s", max = "0s", jitter = "none" }\n'
            'intensity = { max_restarts = 10000, within = "1s" }\n\n' for m in names)
        self.config = os.path.join(workdir, "rebound.toml")
        with open(self.config, "w") as f:
            f.write(f'[daemon]\ndata_dir = "{self.data}"\nlisten = "127.0.0.1:{free_port()}"\n\n')
            f.write(services)

    def start(self):
        self.log = open(os.path.join(self.workdir, "daemon.log"), "w")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def supervisor_pids(self):
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        if b"\0shim\0--name\0" in f.read():
                            pids.append(int(entry))
                except OSError:
                    pass
        return pids

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


class Supervisord:
    name = "supervisord"

    def __init__(self, workdir, names):
        self.workdir, self.names = workdir, names
        self.config = os.path.join(workdir, "supervisord.conf")
        with open(self.config, "w") as f:
            f.write(f"[supervisord]\nnodaemon=true\nlogfile={workdir}/supervisord.log\n"
                    f"pidfile={workdir}/supervisord.pid\nchildlogdir={workdir}\n"
                    f"[unix_http_server]\nfile={workdir}/supervisor.sock\n"
                    "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                    "supervisor.rpcinterface:make_main_rpcinterface\n")
            for m in names:
                f.write(f"[program:s{m}]\ncommand=sleep {m}\nautorestart=true\nstartsecs=0\n"
                        "startretries=100000\nstdout_logfile=NONE\nstderr_logfile=NONE\n")

    def start(self):
        self.proc = subprocess.Popen(["supervisord", "-c", self.config],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def supervisor_pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def measure(system, trials):
    names = system.names
    started = time.monotonic()
    system.start()
    try:
        wanted = set(names)
        wait_for(lambda: wanted <= running_markers(), timeout=120, period=0.001)
    except TimeoutError:
        log = os.path.join(system.workdir, "daemon.log")
        if os.path.exists(log):
            sys.stderr.write(open(log).read()[-2000:])
        raise
    start_seconds = time.monotonic() - started
    time.sleep(1.0)  # settle before measuring memory
    pss = sum(pss_kib(pid) for pid in system.supervisor_pids())
    latencies = []
    marker = names[0]
    for _ in range(trials):
        old = wait_for(lambda: find_pids(marker))[0]
        since = last_pid()
        t0 = time.monotonic()
        os.kill(old, signal.SIGKILL)
        wait_for_new(marker, since)
        latencies.append((time.monotonic() - t0) * 1000.0)
        time.sleep(0.02)
    system.stop()
    latencies.sort()
    return {
        "median_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
        "start_100_s": start_seconds,
        "pss_mib": pss / 1024.0,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebound", default="build-bench/src/rebound")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--services", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("supervisord") is None:
        sys.exit("supervisord not found: install the Debian package 'supervisor' (make bench does)")
    results = {}
    # supervisord's respawn is ~1 s, so fewer trials keep the run short; the median is stable.
    for system_name, trials in (("rebound", args.trials), ("supervisord", min(args.trials, 30))):
        with tempfile.TemporaryDirectory(prefix="rebound-bench-") as workdir:
            names = markers(args.services, 700000 if system_name == "rebound" else 800000)
            system = (Rebound(os.path.abspath(args.rebound), workdir, names)
                      if system_name == "rebound" else Supervisord(workdir, names))
            results[system_name] = measure(system, trials)
            results[system_name]["trials"] = trials
    r, s = results["rebound"], results["supervisord"]
    print(f"supervise_bench: {args.services} services (`sleep`), crash = SIGKILL of one service")
    print(f"{'':34}{'rebound':>12}{'supervisord':>14}{'ratio':>10}")
    print(f"{'respawn median (ms)':34}{r['median_ms']:12.2f}{s['median_ms']:14.2f}"
          f"{s['median_ms'] / r['median_ms']:9.0f}x")
    print(f"{'respawn p99 (ms)':34}{r['p99_ms']:12.2f}{s['p99_ms']:14.2f}")
    print(f"{'trials':34}{r['trials']:12d}{s['trials']:14d}")
    print(f"{'start 100 services (s)':34}{r['start_100_s']:12.3f}{s['start_100_s']:14.3f}"
          f"{s['start_100_s'] / r['start_100_s']:9.1f}x")
    print(f"{'PSS of the supervisor (MiB)':34}{r['pss_mib']:12.1f}{s['pss_mib']:14.1f}")


if __name__ == "__main__":
    main()
