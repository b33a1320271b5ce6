#!/usr/bin/env python3
"""`make bench-serve`: post generated login events to `rules serve` and to a node baseline with wrk, print speed.

Three servers, all started at once, on the same workload (bench/generate.py) and the same ten rules:

- `rules serve` with the outbox on: every decision's role changes and its decision-log row are committed to a
  SQLite outbox before the answer is sent; `--sandbox` starts a local sandbox tenant in the same process for the
  outbox worker to call (paced to the default 2 requests/s, as a free Auth0 tenant allows, so the worker is a
  trickle beside the requests);
- `rules serve --no-effects`: decisions only;
- bench/node-server.js: node's `http` server with the rules written by hand in JavaScript, as an Auth0 Action
  would compute them.

Each is first sent a sample of events one by one, and every answer's `assign` must match expected.txt (or the
benchmark fails); then a warm-up. Then rounds that take the servers in turn: a closed-loop peak run (every
connection sends its next request as soon as the answer arrives), and later a run paced to half that server's
peak throughput (bench/wrk-post.lua's `delay`), each reporting requests/s and latency p50/p99/p99.9; each figure
is its median over the rounds. The servers are pinned to one core and wrk to the other (--server-cpus,
--client-cpus), so that the load generator never takes CPU time from the server it measures; each server gets one
core, as a node process uses one.
"""
import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(generator, out, n, seed):
    if not (os.path.exists(os.path.join(out, "events.jsonl")) and os.path.exists(os.path.join(out, "expected.txt"))):
        subprocess.run([sys.executable, generator, "--n", str(n), "--seed", str(seed), "--out", out], check=True,
                       stdout=subprocess.DEVNULL)


def require(tool, package):
    """The path of `tool`; installs its Debian package when running as root, else says how and exits."""
    if shutil.which(tool) is None:
        if os.geteuid() == 0:
            print("installing %s" % package)
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL)
        else:
            sys.exit("%s not found; run:  sudo apt-get install -y %s" % (tool, package))
    return shutil.which(tool)


def pinned(cpus, command):
    return (["taskset", "-c", cpus] if cpus else []) + command


class Server:
    """One server process: started on a free port, its standard error in a log file, stopped with SIGTERM."""

    def __init__(self, name, command, secret, scratch, cpus):
        self.name = name
        self.log_path = os.path.join(scratch, re.sub(r"[^a-z0-9]+", "-", name.lower()) + ".log")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, ROLECALL_SECRET=secret)
        self.process = subprocess.Popen(pinned(cpus, command), stdout=self.log, stderr=self.log, env=env)
        self.url = self.wait_listening(timeout=60)

    def wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    marker = line.find("listening on http://")
                    if marker >= 0:
                        return line[marker + len("listening on "):].strip()
            if self.process.poll() is not None:
                self.fail("exited with status %d before listening" % self.process.returncode)
            time.sleep(0.05)
        self.fail("did not print `listening on http://...` within %d s" % timeout)

    def fail(self, message):
        self.stop()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            tail = f.readlines()[-20:]
        sys.exit("FAILED: %s %s\n%s" % (self.name, message, "".join("  | " + line for line in tail)))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def check(server, secret, events_path, expected_path, sample):
    """Posts the first `sample` events one by one; every answer must be 200 with the expected `assign`."""
    host, port = server.url.split("://", 1)[1].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + secret}
    mismatches = []
    with open(events_path, "rb") as events, open(expected_path, encoding="utf-8") as expected:
        for index in range(sample):
            body = events.readline().rstrip(b"\n")
            want = expected.readline().rstrip("\n")
            connection.request("POST", "/v1/decide", body=body, headers=headers)
            response = connection.getresponse()
            text = response.read()
            got = None
            if response.status == 200:
                decision = json.loads(text)
                if "decision_id" in decision and not decision.get("errors"):
                    got = ",".join(sorted(decision.get("assign", [])))
            if got != want:
                mismatches.append("  event %d: HTTP %d %s, expected assign %r"
                                  % (index + 1, response.status, text[:300], want))
    connection.close()
    if mismatches:
        server.fail("answered %d of %d sample events wrongly:\n%s"
                    % (len(mismatches), sample, "\n".join(mismatches[:3])))
    print("  %d sample events: every decision matched expected.txt" % sample)


def wrk(args, url, secret, events_path, seconds, mean_delay_ms=0.0):
    """Runs wrk with bench/wrk-post.lua and returns its `wrk-result` figures; any failed request is fatal."""
    command = pinned(args.client_cpus, [
        "wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % seconds, "--timeout", "5s",
        "-s", os.path.join(HERE, "wrk-post.lua"), url, "--", events_path, str(args.cycle)])
    env = dict(os.environ, ROLECALL_SECRET=secret)
    if mean_delay_ms > 0:
        env["WRK_MEAN_DELAY_MS"] = "%.3f" % mean_delay_ms
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    results = [line for line in output.splitlines() if line.startswith("wrk-result ")]
    if not results:
        sys.exit("FAILED: wrk printed no result line:\n" + output)
    result = json.loads(results[-1][len("wrk-result "):])
    failed = sum(result[key] for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    if failed:
        sys.exit("FAILED: %d of %d requests failed (non-2xx, timeouts or socket errors): %s"
                 % (failed, result["requests"], result))
    return result


def describe(figures):
    return "%.0f req/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms" % (
        figures["rps"], figures["p50_us"] / 1e3, figures["p99_us"] / 1e3, figures["p999_us"] / 1e3)


def median(results):
    """Each figure's median over the rounds, on its own: one stalled round moves none of them far."""
    return {key: sorted(figures[key] for figures in results)[len(results) // 2]
            for key in ("rps", "p50_us", "p99_us", "p999_us")}


def half_peak(args, server, secret, events_path, peak_rps):
    """A run paced to half of `peak_rps`: each connection sends one request every C / (peak / 2) seconds, a wait
    and then the request itself. The request's time and wrk's timer overshoot are measured by a short paced run
    first and taken off the wait, so that the measured run offers about half the peak rate."""
    period_ms = args.connections / (peak_rps / 2) * 1e3
    trial = wrk(args, server.url, secret, events_path, args.warmup, mean_delay_ms=period_ms)
    overhead_ms = max(0.0, args.connections / trial["rps"] * 1e3 - period_ms)
    return wrk(args, server.url, secret, events_path, args.duration, mean_delay_ms=max(0.5, period_ms - overhead_ms))


def measure(args, servers, secret, events_path, expected_path):
    """Every server is checked and warmed up, then measured in rounds that take the servers in turn, so that a
    machine that drifts (another job starting, a CPU clocking down) weighs on all of them alike. Each figure is
    its median over the rounds."""
    for server in servers:
        print("== %s: %s" % (server.name, server.url))
        check(server, secret, events_path, expected_path, args.sample)
        wrk(args, server.url, secret, events_path, args.warmup)
    peaks = {server.name: [] for server in servers}
    for round_number in range(1, args.rounds + 1):
        for server in servers:
            peaks[server.name].append(wrk(args, server.url, secret, events_path, args.duration))
            print("  round %d, %s, peak: %s" % (round_number, server.name, describe(peaks[server.name][-1])))
    halves = {server.name: [] for server in servers}
    for round_number in range(1, args.rounds + 1):
        for server in servers:
            target = median(peaks[server.name])["rps"]
            halves[server.name].append(half_peak(args, server, secret, events_path, target))
            print("  round %d, %s, half peak: %s" % (round_number, server.name, describe(halves[server.name][-1])))
    return [(server.name, median(peaks[server.name]), median(halves[server.name])) for server in servers]


def table(rows):
    def ms(us):
        return "%.2f" % (us / 1e3)
    header = ("server", "peak req/s", "p50 ms", "p99 ms", "p99.9 ms", "half req/s", "p50 ms", "p99 ms", "p99.9 ms")
    lines = [header]
    for name, peak, half in rows:
        lines.append((name, "%.0f" % peak["rps"], ms(peak["p50_us"]), ms(peak["p99_us"]), ms(peak["p999_us"]),
                      "%.0f" % half["rps"], ms(half["p50_us"]), ms(half["p99_us"]), ms(half["p999_us"])))
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for index, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        print("  ".join(cells[:5]) + "  |  " + "  ".join(cells[5:]))
        if index == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 2) + 5))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default=os.path.join(HERE, "roles.rules"))
    parser.add_argument("--bin", help="the release `rules` binary (without it, only node is measured)")
    parser.add_argument("--n", type=int, default=20000, help="events to generate")
    parser.add_argument("--cycle", type=int, default=4000, help="events wrk cycles through")
    parser.add_argument("--sample", type=int, default=500, help="events checked against expected.txt first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each measured run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measured runs of each kind per server (each figure's median counts)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of the unmeasured warm-up and pacing trial runs")
    parser.add_argument("--server-cpus", default="0", help="taskset CPU list for the servers (empty: no pinning)")
    parser.add_argument("--client-cpus", default="1", help="taskset CPU list for wrk (empty: no pinning)")
    args = parser.parse_args()
    require("wrk", "wrk")
    require("node", "nodejs")
    if args.server_cpus or args.client_cpus:
        require("taskset", "util-linux")

    data = os.path.join(HERE, "data", "own-%d" % args.n)
    generate(os.path.join(HERE, "generate.py"), data, args.n, 7)
    events_path = os.path.join(data, "events.jsonl")
    expected_path = os.path.join(data, "expected.txt")
    secret = secrets.token_hex(24)
    print("workload: %d events from bench/generate.py (wrk cycles through the first %d), rules %s"
          % (args.n, args.cycle, os.path.relpath(args.rules)))
    print("wrk: %d thread(s), %d connections, %d s per run; server on CPU %s, wrk on CPU %s"
          % (args.threads, args.connections, args.duration, args.server_cpus or "any", args.client_cpus or "any"))

    servers = []
    if args.bin:
        serve = [args.bin, "serve", args.rules, "--host", "127.0.0.1", "--port", "0"]
        servers.append(("rolecall, outbox",
                        lambda scratch: serve + ["--outbox", os.path.join(scratch, "outbox.sqlite"), "--sandbox"]))
        servers.append(("rolecall, no effects", lambda scratch: serve + ["--no-effects"]))
    servers.append(("node, JSON.parse + JS",
                    lambda scratch: ["node", os.path.join(HERE, "node-server.js"), "--port", "0"]))

    with tempfile.TemporaryDirectory(prefix="rolecall-bench-serve-") as scratch:
        started = []
        try:
            for name, command in servers:
                started.append(Server(name, command(scratch), secret, scratch, args.server_cpus))
            rows = measure(args, started, secret, events_path, expected_path)
        finally:
            for server in started:
                server.stop()
        outbox = os.path.join(scratch, "outbox.sqlite")
        if os.path.exists(outbox):
            # What the runs left behind: every decision logged, and the role changes still queued for a tenant
            # paced to 2 requests/s (each user's pending changes coalesced).
            status = subprocess.run([args.bin, "outbox", "status", "--outbox", outbox], capture_output=True, text=True)
            for line in (status.stdout + status.stderr).splitlines():
                print("  outbox: " + line)

    print()
    table(rows)
    node = rows[-1][1]["rps"]
    for name, peak, half in rows[:-1]:
        verdict = "met" if peak["rps"] >= 2 * node and half["p99_us"] < 2000 else "NOT met"
        print("%s: %.2fx node's peak, p99 %.2f ms at half peak; goal (>= 2x, p99 < 2 ms) %s"
              % (name, peak["rps"] / node, half["p99_us"] / 1e3, verdict))


if __name__ == "__main__":
    main()
