#!/usr/bin/env python3
"""Load-time scaling: how long `rules check` and `rules eval` (one event) take on generated rule sets.

    python3 bench/load.py --bin .build/release/rules [--sizes 1000,8000,16000,64000]

For each size and shape it writes one rule file of that many one-line rules under bench/data/load/ and prints
the wall time of `rules check` and of `rules eval --event` on one small event (which parses, checks, lints,
compiles to a Program and evaluates). Loading is meant to be linear: the time per 1,000 rules should stay flat
as the rule set grows. The shapes:

  distinct      every rule reads its own field and assigns its own role
  same-field    every rule reads `user.app_metadata.plan` and assigns its own role
  same-role     every rule reads its own field and assigns (or revokes) the one role `member`
  anonymous     like distinct, without names (the names come from the file and the rule's position)

These are numbers to read, not a timed test.
"""
import argparse
import os
import subprocess
import time


def rule_text(shape, i):
    field = "plan" if shape == "same-field" else f"f{i}"
    action = (("assign" if i % 2 else "revoke") + ' "member"') if shape == "same-role" else f'assign "role{i}"'
    name = "" if shape == "anonymous" else f'rule "r{i}" '
    return f'{name}when user.app_metadata.{field} == "x{i}" {action}\n'


def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode()[:500]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release/rules")
    parser.add_argument("--sizes", default="1000,8000,16000,64000")
    parser.add_argument("--shapes", default="distinct,same-field,same-role,anonymous")
    parser.add_argument("--out", default="bench/data/load")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    event = os.path.join(args.out, "event.json")
    with open(event, "w") as f:
        f.write('{"user":{"user_id":"auth0|a","app_metadata":{"plan":"x7","f7":"x7"}},'
                '"authorization":{"roles":[]}}\n')
    print(f"{'shape':<12}{'rules':>8}{'bytes':>12}{'check s':>10}{'eval s':>10}{'eval ms/1k rules':>18}")
    for shape in args.shapes.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            path = os.path.join(args.out, f"{shape}-{size}.rules")
            with open(path, "w") as f:
                f.writelines(rule_text(shape, i) for i in range(1, size + 1))
            check = timed([args.bin, "check", path])
            evaluate = timed([args.bin, "eval", path, "--event", event])
            print(f"{shape:<12}{size:>8}{os.path.getsize(path):>12}{check:>10.2f}{evaluate:>10.2f}"
                  f"{1000 * evaluate / size * 1000:>18.1f}")


if __name__ == "__main__":
    main()
