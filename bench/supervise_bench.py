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
import itertools
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


def pid_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


PID_MAX = pid_max()


def pids_between(seen, newest):
    """The pids handed out after `seen`, up to `newest`: pids wrap at pid_max (32768 here,
    passed every few minutes while others build), so `newest` may be below `seen`."""
    if newest >= seen:
        return range(seen + 1, newest + 1)
    return itertools.chain(range(seen + 1, PID_MAX), range(1, newest + 1))


def wait_for_new(marker, since_pid, timeout=10.0):
    """Polls every 1 ms for a process created after since_pid that runs `sleep <marker>`.
    Reads only the pids created since (from /proc/loadavg), so a poll costs microseconds."""
    wanted = b"sleep\0" + marker.encode() + b"\0"
    candidates = []
    seen = since_pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        newest = last_pid()
        candidates.extend(pids_between(seen, newest))
        seen = newest
        for pid in candidates:  # re-checked: a new pid may not have exec'ed yet
            if cmdline_is(pid, wanted):
                return pid
        time.sleep(0.001)
    raise TimeoutError("no new process for " + marker)


def proc_pids():
    return {entry for entry in os.listdir("/proc") if entry.isdigit()}


def parent_pid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[1]


class StartProbe:
    """Sees the `sleep <marker>` processes started after it was created. Each 1 ms poll lists
    /proc but reads the command line only of new processes it has not settled yet: one that
    runs `sleep <marker>`, and its parent (a shim), are settled once seen. Reading every
    command line at each poll (~1.5 ms of CPU with 100 processes) took most of a core of the
    2-core machine while the supervisor under test was starting its services."""

    def __init__(self):
        self.existing = proc_pids()
        self.settled = set()
        self.seen = set()

    def poll(self):
        listing = proc_pids()
        self.existing &= listing  # a pid freed since then is new when it shows up again
        self.settled &= listing
        for entry in listing - self.existing - self.settled:
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    parts = f.read().split(b"\0")
                if len(parts) >= 2 and parts[0] == b"sleep":
                    self.seen.add(parts[1].decode())
                    self.settled.update((entry, parent_pid(entry)))
            except OSError:
                continue
        return self.seen


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


_runs_started = 0


def markers(count):
    """`sleep` arguments unique to this run of this script: another bench running on the
    machine at the same time (another engineer's, say) must neither satisfy our waits nor have
    its services killed by our trials."""
    global _runs_started
    base = 100_000_000 + (os.getpid() % 20_000) * 100_000 + _runs_started * 1_000
    _runs_started += 1
    return [str(base + i) for i in range(count)]


class Rebound:
    name = "rebound"

    def __init__(self, binary, workdir, names, run_dir=None):
        self.binary, self.workdir, self.names = binary, workdir, names
        self.data = os.path.join(workdir, "data")
        self.run_dir = run_dir or os.path.join(self.data, "run")
        services = "".join(
            f'[services.s{m}]\ncommand = ["sleep", "{m}"]\n'
            'backoff = { strategy = "fixed", initial = "0s", max = "0s", jitter = "none" }\n'
            'intensity = { max_restarts = 10000, within = "1s" }\n\n' for m in names)
        self.config = os.path.join(workdir, "rebound.toml")
        with open(self.config, "w") as f:
            f.write(f'[daemon]\ndata_dir = "{self.data}"\nlisten = "127.0.0.1:{free_port()}"\n')
            if run_dir:
                f.write(f'run_dir = "{run_dir}"\n')
            f.write("\n" + services)

    def start(self):
        self.log = open(os.path.join(self.workdir, "daemon.log"), "w")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def supervisor_pids(self):
        """The daemon and its own shims: `rebound shim --name NAME --run-dir DATA/run`. Shims
        of other daemons on the machine (a test run, say) have another run dir."""
        own_run_dir = b"\0--run-dir\0" + self.run_dir.encode() + b"\0"
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        cmdline = f.read()
                except OSError:
                    continue
                if b"\0shim\0--name\0" in cmdline and own_run_dir in cmdline:
                    pids.append(int(entry))
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


# The floor: a supervisor that does nothing but respawn (pidfd wake, posix_spawnp of the
# command, no records, no logs, no journal). It is measured the same way, so its figures are
# what the probe and the machine's load of the moment allow any supervisor.
MINIMAL_SUPERVISOR = r"""
import os, select, sys
children = {}
poller = select.epoll()
def start(marker):
    pid = os.posix_spawnp("sleep", ["sleep", marker], os.environ)
    fd = os.pidfd_open(pid)
    children[fd] = (pid, marker)
    poller.register(fd, select.EPOLLIN)
for marker in sys.argv[1:]:
    start(marker)
while True:
    for fd, _ in poller.poll():
        poller.unregister(fd)
        pid, marker = children.pop(fd)
        os.close(fd)
        os.waitpid(pid, 0)
        start(marker)
"""


class Floor:
    name = "floor"

    def __init__(self, workdir, names):
        self.workdir, self.names = workdir, names

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-c", MINIMAL_SUPERVISOR, *self.names])

    def supervisor_pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=60)
        ours = {b"sleep\0" + marker.encode() + b"\0" for marker in self.names}
        for pid in proc_pids():  # its services, orphaned: one pass over /proc
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read() in ours:
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def measure(system, trials):
    probe = StartProbe()
    started = time.monotonic()
    system.start()
    try:
        return measure_started(system, trials, probe, started)
    except BaseException:
        log = os.path.join(system.workdir, "daemon.log")
        if os.path.exists(log):
            sys.stderr.write(open(log).read()[-2000:])
        raise
    finally:
        try:
            system.stop()  # also after a failure: a supervisor left running skews later runs
        except (OSError, subprocess.TimeoutExpired):
            system.proc.kill()


def measure_started(system, trials, probe, started):
    wanted = set(system.names)
    wait_for(lambda: wanted <= probe.poll(), timeout=120, period=0.001)
    start_seconds = time.monotonic() - started
    time.sleep(1.0)  # settle before measuring memory
    pss = sum(pss_kib(pid) for pid in system.supervisor_pids())
    latencies = []
    marker = system.names[0]
    for _ in range(trials):
        old = wait_for(lambda: find_pids(marker))[0]
        since = last_pid()
        t0 = time.monotonic()
        os.kill(old, signal.SIGKILL)
        wait_for_new(marker, since)
        latencies.append((time.monotonic() - t0) * 1000.0)
        time.sleep(0.02)
    latencies.sort()
    return {
        "median_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
        "start_100_s": start_seconds,
        "pss_mib": pss / 1024.0,
    }


def run_once(system_name, binary, args):
    """One measurement of one system, in a fresh temp dir."""
    trials = args.trials if system_name != "supervisord" else min(args.trials, 30)
    with tempfile.TemporaryDirectory(prefix="rebound-bench-") as workdir:
        names = markers(args.services)
        if system_name == "supervisord":
            system = Supervisord(workdir, names)
        elif system_name == "floor":
            system = Floor(workdir, names)
        elif system_name == "rebound-tmpfs":
            # [daemon] run_dir on a tmpfs: the shims' records off the disk (docs/shim.md).
            run_dir = tempfile.mkdtemp(prefix="rebound-bench-run-", dir=args.tmpfs)
            system = Rebound(os.path.abspath(binary), workdir, names, run_dir)
        else:
            system = Rebound(os.path.abspath(binary), workdir, names)
        try:
            result = measure(system, trials)
        finally:
            if system_name == "rebound-tmpfs":
                shutil.rmtree(run_dir, ignore_errors=True)
    result["trials"] = trials
    return result


def combined(runs):
    """The median of each figure over the rounds; trials add up."""
    figures = {key: statistics.median(run[key] for run in runs)
               for key in ("median_ms", "p99_ms", "start_100_s", "pss_mib")}
    figures["trials"] = sum(run["trials"] for run in runs)
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebound", default="build-bench/src/rebound")
    parser.add_argument("--before", default=None,
                        help="another rebound binary (say main's) measured in the same run, "
                             "interleaved round by round with --rebound")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--services", type=int, default=100, choices=range(1, 1001),
                        metavar="1..1000")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each system this many times, interleaved; the table "
                             "shows the median of each figure over the rounds")
    parser.add_argument("--no-supervisord", action="store_true",
                        help="rebound only (quick comparisons of two builds)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure a minimal respawn loop (no records, logs or journal): "
                             "what the probe and the machine's load allow any supervisor")
    parser.add_argument("--tmpfs", default=None, metavar="DIR",
                        help="also measure --rebound with [daemon] run_dir in a fresh directory "
                             "under DIR, a tmpfs such as /dev/shm (column rebound-tmpfs)")
    args = parser.parse_args()
    columns = ([("before", args.before)] if args.before else []) + [("rebound", args.rebound)]
    if args.tmpfs:
        columns.append(("rebound-tmpfs", args.rebound))
    if args.floor:
        columns.append(("floor", None))
    if not args.no_supervisord:
        if shutil.which("supervisord") is None:
            sys.exit("supervisord not found: install the Debian package 'supervisor' "
                     "(make bench does), or pass --no-supervisord")
        columns.append(("supervisord", None))
    load_before = os.getloadavg()
    runs = {label: [] for label, _ in columns}
    for _ in range(args.rounds):
        for label, binary in columns:
            kind = label if label in ("supervisord", "floor", "rebound-tmpfs") else "rebound"
            runs[label].append(run_once(kind, binary, args))
    results = {label: combined(label_runs) for label, label_runs in runs.items()}
    report(args, columns, results, load_before, os.getloadavg())


def report(args, columns, results, load_before, load_after):
    labels = [label for label, _ in columns]
    reference = results.get("supervisord")
    print(f"supervise_bench: {args.services} services (`sleep`), crash = SIGKILL of one service, "
          f"{args.rounds} round(s); load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after")
    print(f"{'':30}" + "".join(f"{label:>14}" for label in labels)
          + (f"{'vs supervisord':>16}" if reference else ""))

    def row(title, key, fmt, ratio=None):
        line = f"{title:30}" + "".join(f"{results[label][key]:14{fmt}}" for label in labels)
        if reference and ratio:
            line += f"{ratio(reference[key], results['rebound'][key]):15.1f}x"
        print(line)

    row("respawn median (ms)", "median_ms", ".2f", lambda s, r: s / r)
    row("respawn p99 (ms)", "p99_ms", ".2f")
    row("trials", "trials", "d")
    row("start 100 services (s)", "start_100_s", ".3f", lambda s, r: s / r)
    row("PSS of the supervisor (MiB)", "pss_mib", ".1f")


if __name__ == "__main__":
    main()
