#!/usr/bin/env python3
"""The floor's hand-coded rules against the engine on hostile variants of the benchmark events.

    python3 bench/floor/crosscheck.py --bin .build/release/rules --floor .build/floor/floor \
        --events bench/data/own-20000/events.jsonl [--seeds 5]

Takes the first --n events, changes up to four of the fields bench/roles.rules reads in each (missing, null, a
number where a string is expected, 1.0 for 1, a trailing "\\n" before the regexes' `$`, escaped letters, a list
that is not one, ...), asks `rules eval --events` for the decisions, and runs the floor on them with those
decisions as its EXPECTED.txt: the floor fails on any difference. The workloads only exercise the happy path;
this is what says the floor's `in`, `matches`, `not` and comparisons keep the engine's semantics.
"""
import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PATHS = [("connection", "strategy"), ("request", "user_agent"), ("request", "geoip", "countryCode"),
         ("stats", "logins_count"), ("user", "email"), ("user", "email_verified"), ("user", "app_metadata", "groups"),
         ("user", "app_metadata", "plan"), ("user", "app_metadata"), ("request", "geoip"), ("user",), ("stats",),
         ("connection",), ("request",)]
VALUES = [None, True, False, 0, 1, 1.0, 10, 10.5, 11, 99, 100, 100.0, 1e3, -1, "1", "100", "", [], {}, ["admin"],
          ["billing", 3], ["finance"], "admin", "x@acme.com", "x@acme.com\n", "x@acme.com\n\n", "x@gmail.com\n",
          "x@outlook.com", "@yahoo.com", "iPhone", "xAndroidy", "android", "DE", "de", "PT", "oidc", "samlp ",
          "google-oauth2", "enterprise", "Enterprise", [None, "admin"], [["admin"]], {"a": 1}]
MISSING = object()


def put(event, path, value):
    node = event
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(value)


def variants(lines, rng):
    for line in lines:
        event = json.loads(line)
        for _ in range(rng.randint(0, 4)):
            put(event, rng.choice(PATHS), MISSING if rng.random() < 0.2 else rng.choice(VALUES))
        text = json.dumps(event, separators=(",", ":"), ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.1:
            text = text.replace("admin", "adm\\u0069n").replace("iPhone", "iPh\\u006fne")
        yield text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the release `rules` binary")
    parser.add_argument("--floor", required=True, help="the floor binary")
    parser.add_argument("--events", required=True)
    parser.add_argument("--rules", default=os.path.join(HERE, "..", "roles.rules"))
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    with open(args.events, encoding="utf-8") as f:
        lines = [line for line, _ in zip(f, range(args.n))]
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        events, expected = os.path.join(scratch, "events.jsonl"), os.path.join(scratch, "expected.txt")
        for seed in range(1, args.seeds + 1):
            with open(events, "w", encoding="utf-8") as f:
                f.writelines(text + "\n" for text in variants(lines, random.Random(seed)))
            decisions = subprocess.run([args.bin, "eval", args.rules, "--events", events], capture_output=True,
                                       text=True, check=True).stdout.splitlines()
            with open(expected, "w", encoding="utf-8") as f:
                f.writelines(",".join(sorted(json.loads(d).get("assign", ["<refused>"]))) + "\n" for d in decisions)
            result = subprocess.run([args.floor, events, expected], capture_output=True, text=True)
            errors = sum(1 for d in decisions if '"errors":[{' in d)
            print("seed %d: %d events, %d with evaluation errors, floor %s" % (
                seed, len(decisions), errors, "agrees" if result.returncode == 0 else "DISAGREES"))
            if result.returncode != 0:
                failed += 1
                sys.stdout.write(result.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
