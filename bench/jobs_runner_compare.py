#!/usr/bin/env python3
"""End-to-end durable jobs without the submit phase of jobs_bench: a daemon in a temp dir with
one queue of concurrency 8 (or CONCURRENCY), N `/bin/true` jobs submitted by 8 keep-alive clients, timed from
the first submit until /health counts N succeeded; then the median and p90 of each job's
`running` -> `succeeded` time from the journal. MODE selects `[jobs] runner`: "shared",
"per-job", or "none" (no [jobs] table: for a build that has no such key, e.g. before the
runner existed).

    bench/jobs_runner_compare.py build-bench/src/rebound shared 1000 [CONCURRENCY]
"""
import http.client
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def main():
    binary, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    work = tempfile.mkdtemp(prefix="rebound-jobs-compare-")
    with socket_port() as port:
        pass
    jobs = "" if mode == "none" else '[jobs]\nrunner = "%s"\n' % mode
    with open(f"{work}/rebound.toml", "w") as config:
        config.write(f'[daemon]\ndata_dir = "{work}/data"\nlisten = "127.0.0.1:{port}"\n\n{jobs}\n'
                     f'[queues.run]\nconcurrency = {concurrency}\n\n'
                     '[services.idle]\ncommand = ["sleep", "1000"]\n')
    daemon = subprocess.Popen([binary, "serve", "--config", f"{work}/rebound.toml"],
                              stdout=open(f"{work}/daemon.log", "w"), stderr=subprocess.STDOUT)
    try:
        wait_for_api(port)
        token = open(f"{work}/data/token").read().strip()
        start = time.time()
        submit_all(port, token, count)
        while succeeded(port) < count:
            time.sleep(0.05)
        elapsed = time.time() - start
    finally:
        daemon.terminate()  # a graceful stop also stops the idle service and its shim
        daemon.wait()
    latencies = attempt_times(f"{work}/data/rebound.db")
    print(f"{mode}, concurrency {concurrency}: {count} jobs in {elapsed:.2f} s = {count / elapsed:.0f} /s; running->succeeded "
          f"median {statistics.median(latencies):.0f} ms, p90 "
          f"{sorted(latencies)[int(len(latencies) * 0.9)]:.0f} ms")
    shutil.rmtree(work, ignore_errors=True)


class socket_port:
    def __enter__(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *args):
        self.sock.close()


def wait_for_api(port):
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.request("GET", "/v1/services")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the daemon did not answer")


def submit_all(port, token, count):
    body = json.dumps({"command": ["/bin/true"], "queue": "run"})
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def client(share):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(share):
            connection.request("POST", "/v1/jobs", body, headers)
            connection.getresponse().read()

    threads = [threading.Thread(target=client, args=(count // 8,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def succeeded(port):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/health")
    health = json.loads(connection.getresponse().read())
    return health["components"]["jobs"]["by_state"].get("succeeded", 0)


def attempt_times(db_path):
    rows = sqlite3.connect(db_path).execute(
        "SELECT subject, kind, time_ms FROM events WHERE category = 'job' "
        "AND kind IN ('running', 'succeeded')").fetchall()
    running = {subject: t for subject, kind, t in rows if kind == "running"}
    return [t - running[subject] for subject, kind, t in rows
            if kind == "succeeded" and subject in running]


if __name__ == "__main__":
    main()
