#!/usr/bin/env python3
"""`make bench`: Rolecall beside the simdjson floor on the same events, in the same run, on one pinned core.

For each workload (bench/generate.py's, and ../shared/bench's when it is there), and for a small-event variant of
each (only the fields the ten rules read, same expected.txt), one table:

  parse + evaluate          the floor (bench/floor/floor.cpp: simdjson On-Demand, the ten rules by hand) against
                            rolecall-bench's in-process figure (which also writes the decision line), and the ratio
  reading the event         the same without the rules (where most of the gap is)
  ... simdjson DOM          parse + evaluate again, against `floor --dom`: the same rules over simdjson's DOM parser,
                            which validates the whole event as Rolecall's reader does (On-Demand validates only what
                            it visits); context for the ratio above, no goal
  ... On-Demand visiting all  the same against `floor --all`: On-Demand made to visit every value (every string and
                            key unescaped, every number parsed), simdjson's other way to validate a whole event;
                            context, no goal
  rules only (pre-parsed)   both with rolecall-bench's method: read each event once, run the rules 20 times, subtract
  whole process             `rules eval --events --jobs 1` (process start, reading the file, writing every decision
                            line) against the in-process figure; again on a copy of the file written in 1 MB
                            blocks, which the page cache holds in large folios (the generator's line-by-line writes
                            leave 4 KB pages, and the process pays per page); the goal is judged on the first

with the issue's goal beside each ratio and whether it is met: parse + evaluate within 1.2x of the floor, rules
only under 0.1 us, the whole process within 1.3x of in-process. The floor and rolecall-bench run alternately
(--repeat times, best of each), pinned to CPU (this script pins itself, and its runs inherit it); the machine's
speed drifts, so only figures from one run compare. Then: the ten rules plus the two `any` rules of
bench/quantifiers.rules; 50 rules (bench/roles-50.rules, the ten and forty more on the same fields, checked against
extra_roles_50 below) against 10, and the growth per rule; how the cost grows with the event's size; and `rules
diff`. Every decision of every engine must match the workload's expected roles, or the benchmark fails.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GOAL_FULL = 1.2       # Rolecall parse + evaluate / floor parse + evaluate
GOAL_RULES_US = 0.1   # Rolecall rules only, us/event
GOAL_PROCESS = 1.3    # `rules eval --events` whole process / in-process parse + evaluate
PINNED = False        # whether this process (and so every run) is pinned to --cpu, set in main()
EVERY_CPU = None      # the CPUs this process could use before it pinned itself: a run that must not be pinned
                      # (several --jobs) gets them back


def unpinned():
    """For subprocess's preexec_fn: the child may use every CPU this process could before it pinned itself."""
    if EVERY_CPU:
        os.sched_setaffinity(0, EVERY_CPU)


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


EU = {"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "PT", "SE"}


def extra_roles_50(event):
    """The roles the forty rules bench/roles-50.rules adds to bench/roles.rules give `event`, computed here with
    plain Python and `re`, independently of the engine. The workloads always have these eight fields, with their
    types (a string, a boolean, a list of strings, a number)."""
    user, request = event["user"], event["request"]
    email, verified = user["email"], user["email_verified"]
    groups, plan = user["app_metadata"]["groups"], user["app_metadata"]["plan"]
    country, agent = request["geoip"]["countryCode"], request["user_agent"]
    strategy, logins = event["connection"]["strategy"], event["stats"]["logins_count"]
    acme = re.search(r"@acme\.com$", email) is not None
    rules = [
        ("apac", country in ("IN", "JP", "SG", "AU")),
        ("americas", country in ("US", "CA", "BR", "MX")),
        ("dach", country in ("DE", "AT", "CH")),
        ("nordics", country in ("SE", "NO", "DK", "FI")),
        ("uk", country == "GB"),
        ("europe_outside_eu", country in ("GB", "CH", "NO") and logins > 1),
        ("us_staff", country == "US" and acme),
        ("unverified_eu", not verified and country in EU),
        ("engineer", "engineering" in groups),
        ("support", "support" in groups or "ops" in groups),
        ("sales", "sales" in groups and "readonly" not in groups),
        ("readonly", "readonly" in groups and plan != "enterprise"),
        ("hr", "hr" in groups and verified),
        ("ops_desktop", "ops" in groups and re.search(r"(Linux|X11)", agent) is not None),
        ("team_admin", plan == "team" and "admin" in groups),
        ("github_dev", strategy == "github" and "engineering" in groups),
        ("social", strategy in ("google-oauth2", "github", "apple", "facebook")),
        ("passwordless", strategy in ("sms", "email")),
        ("needs_verification", strategy == "auth0" and not verified),
        ("enterprise_sso", strategy in ("samlp", "waad", "adfs", "oidc") and plan in ("enterprise", "team")),
        ("apple_mobile", strategy == "apple" and "iPhone" in agent),
        ("contoso", email.endswith("@contoso.com") and strategy == "waad"),
        ("newcomer", logins < 5),
        ("returning", 1 < logins <= 10),
        ("regular", 10 <= logins < 100),
        ("veteran", logins >= 1000),
        ("free_tier", plan == "free"),
        ("paid", plan in ("pro", "team", "enterprise")),
        ("upsell", plan == "free" and logins > 50),
        ("plan_needs_fix", plan == "Enterprise"),
        ("pro_verified", plan == "pro" and verified),
        ("fabrikam", email.endswith("@fabrikam.io")),
        ("partner", re.search(r"@(contoso|fabrikam|globex|initech)\.", email) is not None),
        ("acme_lookalike", "acme" in email and not acme),
        ("german_domain", email.endswith(".de") and country == "DE"),
        ("consumer_mail", re.search(r"@(gmail|yahoo|hotmail|outlook|icloud|proton)\.", email) is not None),
        ("example_org", email.endswith("@example.org") and not verified),
        ("desktop", re.search(r"(Windows NT|Macintosh|X11)", agent) is not None),
        ("api_client", agent.startswith("curl/") or agent.startswith("okhttp/")),
        ("firefox", re.search(r"Firefox/\d+", agent) is not None),
    ]
    return [role for role, fires in rules if fires]


def expected_with(data, name, extra):
    """expected.txt with the roles `extra(event)` adds, written once beside it as `name`."""
    path = os.path.join(data, name)
    if not os.path.exists(path):
        with open(os.path.join(data, "expected.txt"), encoding="utf-8") as f:
            expected = f.read().split("\n")[:-1]
        with open(os.path.join(data, "events.jsonl"), encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
            for line, roles in zip(f, expected):
                merged = sorted(set(filter(None, roles.split(","))) | set(extra(json.loads(line))))
                out.write(",".join(merged) + "\n")
    return path


def small_events(data):
    """The workload's events cut down to the eight fields the ten rules read (same order, same values), written
    once as events-small.jsonl; expected.txt holds for them unchanged, and every engine is checked against it."""
    path = os.path.join(data, "events-small.jsonl")
    if not os.path.exists(path):
        with open(os.path.join(data, "events.jsonl"), encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
            for line in f:
                e = json.loads(line)
                user, request = e["user"], e["request"]
                small = {"connection": {"strategy": e["connection"]["strategy"]},
                         "request": {"user_agent": request["user_agent"],
                                     "geoip": {"countryCode": request["geoip"]["countryCode"]}},
                         "stats": {"logins_count": e["stats"]["logins_count"]},
                         "user": {"email": user["email"], "email_verified": user["email_verified"],
                                  "app_metadata": {"groups": user["app_metadata"]["groups"],
                                                   "plan": user["app_metadata"]["plan"]}}}
                out.write(json.dumps(small, separators=(",", ":"), ensure_ascii=False) + "\n")
    return path


def measure(command):
    """Runs a benchmark binary that prints one JSON object; its report, or None (and why) when it failed."""
    result = subprocess.run(command, capture_output=True, text=True)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print("  %s failed (%d): %s" % (os.path.basename(command[0]), result.returncode, result.stderr.strip()[:500]))
        return None
    if result.returncode != 0:
        sys.stdout.write("".join("  " + line + "\n" for line in result.stderr.splitlines()[:3]))
    return report


def best_of(reports):
    """The fastest figure of each kind across several reports of one binary (mismatches: the worst)."""
    reports = [r for r in reports if r]
    if not reports:
        return None
    merged = dict(reports[0])
    for key in ("full_us_per_event", "decide_us_per_event", "read_us_per_event", "preparsed_us_per_event"):
        if key in merged:
            merged[key] = min(r[key] for r in reports)
    merged["mismatches"] = max(r["mismatches"] for r in reports)
    return merged


def whole_process(binary, rules, events, expected, runs, jobs=None, pinned=True):
    """`rules eval --events` as a whole process: best wall time of `runs`, and mismatches against `expected`."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "decisions.jsonl")
        command = [binary, "eval", *rules, "--events", events]
        command += ["--jobs", str(jobs)] if jobs else []
        for _ in range(runs):
            with open(out, "wb") as sink:
                start = time.perf_counter()
                result = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE,
                                        preexec_fn=None if pinned else unpinned)
                best = min(best, time.perf_counter() - start)
            if result.returncode != 0:  # the rules' warnings are not shown: they are the same every run
                raise SystemExit("%s failed (%d): %s" % (" ".join(command), result.returncode, result.stderr.decode()[:500]))
        count, mismatches = check(out, expected)
    return best / count * 1e6, count, mismatches


def start_up(binary, rules, events, runs):
    """Seconds `rules eval --events` takes on the first event alone: starting the process, loading the rules."""
    with tempfile.TemporaryDirectory() as scratch:
        one = os.path.join(scratch, "one.jsonl")
        with open(events, "rb") as f, open(one, "wb") as out:
            out.write(f.readline())
        return timed([binary, "eval", *rules, "--events", one, "--jobs", "1"], runs, pinned=True)


def verdict(ratio_or_value, goal):
    return "met" if ratio_or_value <= goal else "NOT MET"


def side_by_side(name, args, rules, events, expected, floor=True):
    """One workload's table: floor and Rolecall, parse + evaluate, reading, rules only; then the whole process."""
    size = os.path.getsize(events)
    reports, floors, doms, walks = [], [], [], []
    for _ in range(args.repeat):
        if floor and args.floor:
            floors.append(measure([args.floor, events, expected]))
            doms.append(measure([args.floor, "--dom", events, expected]))
            walks.append(measure([args.floor, "--all", events, expected]))
        reports.append(measure([args.inprocess, *rules, events, expected]))
    report, floor_report, dom_report = best_of(reports), best_of(floors), best_of(doms)
    walk_report = best_of(walks)
    failures = 0 if report else 1
    failures += (report or {}).get("mismatches", 0) + (0 if not floors else (floor_report or {"mismatches": 1})["mismatches"])
    failures += 0 if not doms else (dom_report or {"mismatches": 1})["mismatches"]
    failures += 0 if not walks else (walk_report or {"mismatches": 1})["mismatches"]
    process, count, process_mismatches = whole_process(args.bin, rules, events, expected, args.runs, jobs=1)
    failures += process_mismatches
    print("%s: %d events, %.1f MB, %.0f B/event; mismatches: %srolecall-bench %s, rules eval %d"
          % (name, count, size / 1e6, size / count,
             ("floor %s, DOM floor %s, visiting floor %s, "
              % tuple(r["mismatches"] if r else "failed" for r in (floor_report, dom_report, walk_report)))
             if floors else "",
             report["mismatches"] if report else "failed", process_mismatches))
    if not report:
        return failures, None, None
    print("  %-38s %10s %10s %8s   %s" % ("us/event, " + ("pinned to CPU %s" % args.cpu if PINNED else "not pinned"),
                                        "floor" if floors else "", "Rolecall", "ratio" if floors else "", "goal"))
    if floor_report:
        # Like for like: the floor builds the list of roles and writes nothing; Rolecall's "decide" figure reads
        # the event and runs the rules into its role table. Writing the decision line is shown on its own.
        ratio = report["decide_us_per_event"] / floor_report["full_us_per_event"]
        print("  %-38s %10.3f %10.3f %7.2fx   <= %.1fx of the floor: %s"
              % ("parse + evaluate", floor_report["full_us_per_event"], report["decide_us_per_event"], ratio,
                 GOAL_FULL, verdict(ratio, GOAL_FULL)))
        print("  %-38s %10s %10.3f"
              % ("  + writing the decision line", "", report["full_us_per_event"]))
        print("  %-38s %10.3f %10.3f %7.2fx"
              % ("  of which reading the event", floor_report["read_us_per_event"], report["read_us_per_event"],
                 report["read_us_per_event"] / floor_report["read_us_per_event"]))
        if dom_report:
            # The same rules over a parser that validates the whole event, as Rolecall's reader does, where the
            # floor above (On-Demand) validates only what it visits: how much of the ratio is full validation.
            print("  %-38s %10.3f %10.3f %7.2fx   context: validates all, like Rolecall"
                  % ("parse + evaluate, simdjson DOM floor", dom_report["full_us_per_event"],
                     report["decide_us_per_event"], report["decide_us_per_event"] / dom_report["full_us_per_event"]))
        if walk_report:
            # On-Demand made to visit (and so check) every value: simdjson's full validation without a tape.
            print("  %-38s %10.3f %10.3f %7.2fx   context: validates all, like Rolecall"
                  % ("parse + evaluate, On-Demand visit all", walk_report["full_us_per_event"],
                     report["decide_us_per_event"], report["decide_us_per_event"] / walk_report["full_us_per_event"]))
        print("  %-38s %10.3f %10.3f %7.2fx   Rolecall < %.1f us: %s"
              % ("rules only (pre-parsed)", floor_report["preparsed_us_per_event"], report["preparsed_us_per_event"],
                 report["preparsed_us_per_event"] / floor_report["preparsed_us_per_event"], GOAL_RULES_US,
                 verdict(report["preparsed_us_per_event"], GOAL_RULES_US)))
    else:
        print("  %-38s %10s %10.3f" % ("parse + evaluate", "", report["decide_us_per_event"]))
        print("  %-38s %10s %10.3f" % ("  + writing the decision line", "", report["full_us_per_event"]))
        print("  %-38s %10s %10.3f" % ("  of which reading the event", "", report["read_us_per_event"]))
        print("  %-38s %10s %10.3f %8s   Rolecall < %.1f us: %s"
              % ("rules only (pre-parsed)", "", report["preparsed_us_per_event"], "", GOAL_RULES_US,
                 verdict(report["preparsed_us_per_event"], GOAL_RULES_US)))
    ratio = process / report["full_us_per_event"]
    print("  %-38s %10s %10.3f %7.2fx   <= %.1fx of in-process: %s"
          % ("rules eval --events --jobs 1", "", process, ratio, GOAL_PROCESS, verdict(ratio, GOAL_PROCESS)))
    # The same bytes again, copied in 1 MB writes: how the kernel holds a file in its page cache depends on how it
    # was written (the generator writes line by line, which leaves 4 KB pages; large writes leave large folios),
    # and the whole process pays per page to map or read it, where the in-process figure reads from memory.
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, "events.jsonl")
        with open(events, "rb") as source, open(copy, "wb") as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
        copied, _, copied_mismatches = whole_process(args.bin, rules, copy, expected, args.runs, jobs=1)
    failures += copied_mismatches
    print("  %-38s %10s %10.3f %7.2fx   the file copied in 1 MB writes (large page-cache folios)"
          % ("  the same, file copied", "", copied, copied / report["full_us_per_event"]))
    started = start_up(args.bin, rules, events, args.runs)
    print("  %-38s %10s %10.3f %8s   (%.1f ms once; the rest is %.2fx in-process)"
          % ("  of which start-up, loading the rules", "", started / count * 1e6, "", started * 1000,
             (process - started / count * 1e6) / report["full_us_per_event"]))
    return failures, report, floor_report


def bench(name, binary, inprocess, rules, data, runs, expected=None):
    """The compact three lines for an extra rule set (whole process at the default --jobs, not pinned; in-process
    figures pinned)."""
    events = os.path.join(data, "events.jsonl")
    expected = expected or os.path.join(data, "expected.txt")
    size = os.path.getsize(events)
    process, count, mismatches = whole_process(binary, rules, events, expected, runs, pinned=False)
    report = measure([inprocess, *rules, events, expected])
    if not report:
        return mismatches + 1
    print("%s: %d events, %.1f MB, %d mismatches" % (name, count, size / 1e6, mismatches + report["mismatches"]))
    print("  rules eval --events (whole process): %9.0f events/s  %6.2f us/event  %6.0f MB/s"
          % (1e6 / process, process, size / count / process))
    print("  in-process, parse + evaluate + write: %8.0f events/s  %6.2f us/event  %6.0f MB/s"
          % (report["full_events_per_s"], report["full_us_per_event"], report["full_mb_per_s"]))
    print("  in-process, evaluate only (pre-parsed): %26.3f us/event" % report["preparsed_us_per_event"])
    return mismatches + report["mismatches"]


def fifty_rules(args, data, ten):
    """Rolecall on bench/roles-50.rules against the ten rules of the same run: cost per added rule."""
    rules = os.path.join(HERE, "roles-50.rules")
    events = os.path.join(data, "events.jsonl")
    expected = expected_with(data, "expected-50.txt", extra_roles_50)
    report = best_of([measure([args.inprocess, rules, events, expected]) for _ in range(args.repeat)])
    if not report:
        return 1
    print("  50 rules (bench/roles-50.rules), %d mismatches:" % report["mismatches"])
    for label, key in (("parse + evaluate", "decide_us_per_event"), ("rules only (pre-parsed)", "preparsed_us_per_event")):
        print("  %-38s %10.3f us with 10 rules, %.3f with 50: %+.4f us per added rule (%.2fx)"
              % (label, ten[key], report[key], (report[key] - ten[key]) / 40, report[key] / ten[key]))
    return report["mismatches"]


def growth(big, small, big_bytes, small_bytes, label):
    """Splits cost into a fixed part per event and a part per byte, from the same engine on the full and the
    small events (the same decisions)."""
    per_kb = (big - small) / (big_bytes - small_bytes) * 1000
    fixed = small - per_kb * small_bytes / 1000
    print("  %-10s %.3f us at %.0f B, %.3f at %.0f B (%.1fx the time for %.1fx the bytes): %.3f us per KB + %.3f us per event"
          % (label, big, big_bytes, small, small_bytes, big / small, big_bytes / small_bytes, per_kb, fixed))


def event_size(name, args, data, report, floor_report, small_report, small_floor):
    events = os.path.join(data, "events.jsonl")
    small = os.path.join(data, "events-small.jsonl")
    with open(events, "rb") as f:
        count = sum(1 for _ in f)
    big_bytes, small_bytes = os.path.getsize(events) / count, os.path.getsize(small) / count
    print("cost and event size (%s, parse + evaluate):" % name)
    if floor_report and small_floor:
        growth(floor_report["full_us_per_event"], small_floor["full_us_per_event"], big_bytes, small_bytes, "floor")
    growth(report["decide_us_per_event"], small_report["decide_us_per_event"], big_bytes, small_bytes, "Rolecall")


def timed(command, runs, pinned=False):
    """The best wall time of `runs` runs of `command`, its output discarded; pinned to --cpu or on every CPU."""
    best = float("inf")
    for _ in range(runs):
        with open(os.devnull, "wb") as sink:
            start = time.perf_counter()
            subprocess.run(command, stdout=sink, stderr=subprocess.DEVNULL, check=True,
                           preexec_fn=None if pinned else unpinned)
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


def pinning(cpu):
    """Pins this process, and so every process it starts, to CPU `cpu`; whether that worked (said when not).

    Inherited affinity rather than a `taskset` prefix: the whole-process timings then time `rules` alone, not
    `taskset` starting it too (about 1 ms a run)."""
    global EVERY_CPU
    try:
        EVERY_CPU = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {int(cpu)})
    except (AttributeError, ValueError, OSError) as error:
        print("(cannot pin to CPU %s: %s; not pinned)" % (cpu, error))
        return False
    return True


def main():
    global PINNED
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default=os.path.join(HERE, "roles.rules"))
    parser.add_argument("--bin", required=True, help="the release `rules` binary")
    parser.add_argument("--inprocess", required=True, help="the release `rolecall-bench` binary")
    parser.add_argument("--floor", help="the floor binary (bench/floor/floor.cpp); without it, Rolecall alone")
    parser.add_argument("--cpu", default="1", help="the CPU to pin every timed run to")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs (best of)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of the floor and rolecall-bench, alternating (best of)")
    parser.add_argument("--no-diff", action="store_true", help="skip the rules diff lines")
    args = parser.parse_args()
    PINNED = pinning(args.cpu)
    failures = 0
    rules = [args.rules]
    quantified = [args.rules, os.path.join(HERE, "quantifiers.rules")]
    workloads = [("rolecall workload (bench/generate.py)", os.path.join(HERE, "generate.py"),
                  os.path.join(HERE, "data", "own-%d" % args.n), 7)]
    # The peers' workload, when the shared folder is beside the repository.
    shared = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "gen_events.py"))
    if os.path.exists(shared):
        workloads.append(("shared workload (../shared/bench/gen_events.py)", shared,
                          os.path.join(HERE, "data", "shared-%d" % args.n), 20240601))
    for name, generator, data, seed in workloads:
        generate(generator, data, args.n, seed)
        expected = os.path.join(data, "expected.txt")
        failed, report, floor_report = side_by_side(name, args, rules, os.path.join(data, "events.jsonl"), expected)
        failures += failed
        if report:
            failures += fifty_rules(args, data, report)
        failures += bench("  + two rules with any (bench/quantifiers.rules)", args.bin, args.inprocess, quantified, data,
                          args.runs, expected_with(data, "expected-quantifiers.txt", quantifier_roles))
        small = small_events(data)
        failed, small_report, small_floor = side_by_side(
            "  small events (only the fields the ten rules read)", args, rules, small, expected)
        failures += failed
        if report and small_report:
            event_size(name.split(" (")[0], args, data, report, floor_report, small_report, small_floor)
        print()
    if not args.no_diff:
        for copies in (1, 10):
            bench_diff(args.bin, args.rules, os.path.join(HERE, "roles-changed.rules"), workloads[0][2], args.runs, copies)
    if failures:
        print("FAILED: %d decisions did not match expected.txt" % failures)
        sys.exit(1)
    print("every decision matched expected.txt")


if __name__ == "__main__":
    main()
