#!/usr/bin/env python3
"""`make bench`: generate a workload, run `rules eval --events` on it, check every decision, print speed.

For each workload: the end-to-end command (process start, reading the file, parsing every event, evaluating
the rules, writing every decision line) timed as the best of --runs runs, and the in-process figures from
rolecall-bench (parse + evaluate + write, and evaluate only on fields already read). Every decision must match
the workload's expected.txt, or the benchmark fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(generator, out, n, seed):
    if not (os.path.exists(os.path.join(out, "events.jsonl")) and os.path.exists(os.path.join(out, "expected.txt"))):
        subprocess.run([sys.executable, generator, "--n", str(n), "--seed", str(seed), "--out", out], check=True,
                       stdout=subprocess.DEVNULL)


def check(decisions_path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = f.read().split("\n")[:-1]
    mismatches = 0
    count = 0
    with open(decisions_path, encoding="utf-8") as f:
        for index, line in enumerate(f):
            count += 1
            decision = json.loads(line)
            got = ",".join(sorted(decision.get("assign", [])))
            if "error" in decision or index >= len(expected) or got != expected[index]:
                mismatches += 1
                if mismatches <= 3:
                    print("  mismatch on line %d: got %r, expected %r" % (index + 1, got, expected[index] if index < len(expected) else None))
    return count, mismatches + abs(len(expected) - count)


def quantifier_roles(event):
    """The roles bench/quantifiers.rules gives `event`, computed here independently of the engine."""
    roles = []
    user = event.get("user") or {}
    if any((identity or {}).get("provider") == "google-oauth2" for identity in user.get("identities") or []):
        roles.append("google")
    groups = (user.get("app_metadata") or {}).get("groups") or []
    methods = (event.get("authentication") or {}).get("methods") or []
    if "admin" in groups and any((method or {}).get("name") == "mfa" for method in methods):
        roles.append("mfa_admin")
    return roles


def expected_with_quantifiers(data):
    """expected.txt with the roles of bench/quantifiers.rules added, written once beside it."""
    path = os.path.join(data, "expected-quantifiers.txt")
    if not os.path.exists(path):
        with open(os.path.join(data, "expected.txt"), encoding="utf-8") as f:
            expected = f.read().split("\n")[:-1]
        with open(os.path.join(data, "events.jsonl"), encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
            for line, roles in zip(f, expected):
                merged = sorted(set(filter(None, roles.split(","))) | set(quantifier_roles(json.loads(line))))
                out.write(",".join(merged) + "\n")
    return path


def bench(name, binary, inprocess, rules, data, runs, expected=None):
    events = os.path.join(data, "events.jsonl")
    expected = expected or os.path.join(data, "expected.txt")
    size = os.path.getsize(events)
    best = float("inf")
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "decisions.jsonl")
        for _ in range(runs):
            with open(out, "wb") as sink:
                start = time.perf_counter()
                subprocess.run([binary, "eval", *rules, "--events", events], stdout=sink, check=True)
                best = min(best, time.perf_counter() - start)
        count, mismatches = check(out, expected)
    report = json.loads(subprocess.run([inprocess, *rules, events, expected], capture_output=True, text=True).stdout)
    print("%s: %d events, %.1f MB, %d mismatches" % (name, count, size / 1e6, mismatches + report["mismatches"]))
    print("  rules eval --events (whole process): %9.0f events/s  %6.2f us/event  %6.0f MB/s"
          % (count / best, best / count * 1e6, size / best / 1e6))
    print("  in-process, parse + evaluate + write: %8.0f events/s  %6.2f us/event  %6.0f MB/s"
          % (report["full_events_per_s"], report["full_us_per_event"], report["full_mb_per_s"]))
    print("  in-process, evaluate only (pre-parsed): %26.3f us/event" % report["preparsed_us_per_event"])
    return mismatches + report["mismatches"]


def timed(command, runs):
    """The best wall time of `runs` runs of `command`, its output discarded."""
    best = float("inf")
    for _ in range(runs):
        with open(os.devnull, "wb") as sink:
            start = time.perf_counter()
            subprocess.run(command, stdout=sink, stderr=subprocess.DEVNULL, check=True)
            best = min(best, time.perf_counter() - start)
    return best


def bench_diff(binary, rules, changed, data, runs, copies):
    """`rules diff` of bench/roles.rules against a changed copy, beside one `rules eval --events` pass, on the
    workload repeated `copies` times (a large input: the serial part of --jobs, reading and cutting lines,
    matters less as the input grows)."""
    events = os.path.join(data, "events.jsonl" if copies == 1 else "events-x%d.jsonl" % copies)
    if not os.path.exists(events):
        with open(os.path.join(data, "events.jsonl"), "rb") as f:
            one = f.read()
        with open(events, "wb") as f:
            for _ in range(copies):
                f.write(one)
    with open(events, "rb") as f:
        count = sum(1 for line in f if line.strip())
    evaluate = timed([binary, "eval", rules, "--events", events, "--jobs", "1"], runs)
    print("rules diff (bench/roles-changed.rules against bench/roles.rules, %d events):" % count)
    one = None
    for jobs in (1, 2):
        seconds = timed([binary, "diff", changed, "--base-path", rules, "--events", events, "--jobs", str(jobs)], runs)
        one = one or seconds
        print("  --jobs %d: %9.0f events/s  %6.2f us/event  %.2fx one eval --events pass at --jobs 1%s"
              % (jobs, count / seconds, seconds / count * 1e6, seconds / evaluate,
                 "" if jobs == 1 else ", %.2fx faster than --jobs 1" % (one / seconds)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default=os.path.join(HERE, "roles.rules"))
    parser.add_argument("--bin", required=True, help="the release `rules` binary")
    parser.add_argument("--inprocess", required=True, help="the release `rolecall-bench` binary")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    failures = 0
    own = os.path.join(HERE, "data", "own-%d" % args.n)
    generate(os.path.join(HERE, "generate.py"), own, args.n, 7)
    rules = [args.rules]
    quantified = [args.rules, os.path.join(HERE, "quantifiers.rules")]
    failures += bench("rolecall workload (bench/generate.py)", args.bin, args.inprocess, rules, own, args.runs)
    failures += bench("  + two rules with any (bench/quantifiers.rules)", args.bin, args.inprocess, quantified, own,
                      args.runs, expected_with_quantifiers(own))
    # The peers' workload, when the shared folder is beside the repository.
    shared = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "gen_events.py"))
    if os.path.exists(shared):
        data = os.path.join(HERE, "data", "shared-%d" % args.n)
        generate(shared, data, args.n, 20240601)
        failures += bench("shared workload (../shared/bench/gen_events.py)", args.bin, args.inprocess, rules, data, args.runs)
        failures += bench("  + two rules with any (bench/quantifiers.rules)", args.bin, args.inprocess, quantified, data,
                          args.runs, expected_with_quantifiers(data))
    for copies in (1, 10):
        bench_diff(args.bin, args.rules, os.path.join(HERE, "roles-changed.rules"), own, args.runs, copies)
    if failures:
        print("FAILED: %d decisions did not match expected.txt" % failures)
        sys.exit(1)
    print("every decision matched expected.txt")


if __name__ == "__main__":
    main()
