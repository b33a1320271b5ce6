#!/usr/bin/env python3
"""Load-time scaling: how long `rules check` and `rules eval` (one event) take on generated rule sets.

    python3 bench/load.py --bin .build/release/rules [--sizes 1000,2000,4000,8000,10000,16000,64000] [--runs 5]
                          [--clock wall|cpu]

For each size and shape it writes one rule file of that many one-line rules under bench/data/load/ and prints
the wall time (best of --runs rounds over the sizes) of `rules check` and of `rules eval --event` on one small event (which parses,
checks, lints, compiles to a Program and evaluates), the milliseconds per 1,000 rules, and the growth factor per
doubling of the rule set from the size before (t2/t1 for twice the rules; between sizes that are not twice apart,
scaled to a doubling). Both figures are whole processes: they include starting `rules` (about 10 ms).
`--clock cpu` times the processor time of each run (user and system) instead of the time that passed: on a
machine shared with other work on the same core, the time that passed also counts the other work's turns.

The issue's goals, printed per shape: 10,000 rules loaded, checked and compiled (`rules eval`) in under 100 ms,
and doubling the rules at most doubling the time (every growth factor per doubling, `eval`, at most 2.0x); the
first is judged on the whole process and without the start-up. The shapes:

  distinct      every rule reads its own field and assigns its own role
  same-field    every rule reads `user.app_metadata.plan` and assigns its own role
  same-role     every rule reads its own field and assigns (or revokes) the one role `member`
  anonymous     like distinct, without names (the names come from the file and the rule's position)
"""
import argparse
import math
import os
import resource
import subprocess
import time

GOAL_SIZE = 10000
GOAL_SECONDS = 0.1
GOAL_DOUBLING = 2.0


def rule_text(shape, i):
    field = "plan" if shape == "same-field" else f"f{i}"
    action = (("assign" if i % 2 else "revoke") + ' "member"') if shape == "same-role" else f'assign "role{i}"'
    name = "" if shape == "anonymous" else f'rule "r{i}" '
    return f'{name}when user.app_metadata.{field} == "x{i}" {action}\n'


CLOCK = "wall"


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command, runs):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter() if CLOCK == "wall" else cpu_seconds()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        best = min(best, (time.perf_counter() if CLOCK == "wall" else cpu_seconds()) - start)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode()[:500]}")
    return best


def per_doubling(measured, size):
    """The growth factor from half as many rules (or a quarter, as a factor per doubling), when measured."""
    for steps in (1, 2):
        before = measured.get(size >> steps)
        if before and (size >> steps) << steps == size:
            return f"{(measured[size] / before) ** (1 / steps):.2f}x"
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=".build/release/rules")
    parser.add_argument("--sizes", default="1000,2000,4000,8000,10000,16000,64000")
    parser.add_argument("--shapes", default="distinct,same-field,same-role,anonymous")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (best of)")
    parser.add_argument("--out", default="bench/data/load")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="time that passed (wall) or processor time of the process (cpu)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    os.makedirs(args.out, exist_ok=True)
    event = os.path.join(args.out, "event.json")
    with open(event, "w") as f:
        f.write('{"user":{"user_id":"auth0|a","app_metadata":{"plan":"x7","f7":"x7"}},'
                '"authorization":{"roles":[]}}\n')
    sizes = sorted(int(s) for s in args.sizes.split(","))
    one = os.path.join(args.out, "one.rules")
    with open(one, "w") as f:
        f.write(rule_text("distinct", 1))
    start_up = timed([args.bin, "eval", one, "--event", event], args.runs)
    print(f"starting `rules eval` on one rule: {1000 * start_up:.1f} ms (in every figure below; {CLOCK} time)")
    print(f"{'shape':<12}{'rules':>8}{'bytes':>10}{'check ms':>10}{'ms/1k':>7}{'x/doubling':>11}"
          f"{'eval ms':>10}{'ms/1k':>7}{'x/doubling':>11}")
    verdicts = []
    for shape in args.shapes.split(","):
        paths = {size: os.path.join(args.out, f"{shape}-{size}.rules") for size in sizes}
        for size, path in paths.items():
            with open(path, "w") as f:
                f.writelines(rule_text(shape, i) for i in range(1, size + 1))
        # Round-robin over the sizes, best of --runs rounds: a slow spell of the machine then falls on every size
        # of a round, not on one size's every run (which would show as a jump in the growth factor).
        checks, evals = {}, {}
        for _ in range(args.runs):
            for size, path in paths.items():
                checks[size] = min(checks.get(size, float("inf")), timed([args.bin, "check", path], 1))
                evals[size] = min(evals.get(size, float("inf")), timed([args.bin, "eval", path, "--event", event], 1))
        for size, path in paths.items():
            print(f"{shape:<12}{size:>8}{os.path.getsize(path):>10}"
                  f"{1000 * checks[size]:>10.1f}{1000 * checks[size] / size * 1000:>7.1f}{per_doubling(checks, size):>11}"
                  f"{1000 * evals[size]:>10.1f}{1000 * evals[size] / size * 1000:>7.1f}{per_doubling(evals, size):>11}")
        growths = [(float(per_doubling(evals, size)[:-1]), size) for size in sizes if per_doubling(evals, size)]
        verdicts.append((shape, evals.get(GOAL_SIZE), max(growths) if growths else None))
    print(f"goals: {GOAL_SIZE:,} rules loaded, checked and compiled in under {GOAL_SECONDS * 1000:.0f} ms (`rules eval`); "
          f"doubling the rules at most {GOAL_DOUBLING:.1f}x the time (eval)")
    for shape, at_goal, worst in verdicts:
        if at_goal is None:
            size_verdict = f"{GOAL_SIZE:,} rules not measured (add {GOAL_SIZE} to --sizes)"
        else:
            size_verdict = (f"{GOAL_SIZE:,} rules {1000 * at_goal:.1f} ms whole process: "
                            f"{'met' if at_goal < GOAL_SECONDS else 'NOT MET'}, "
                            f"{1000 * (at_goal - start_up):.1f} ms without the start-up: "
                            f"{'met' if at_goal - start_up < GOAL_SECONDS else 'NOT MET'}")
        growth_verdict = ("no doubling measured" if worst is None else
                          f"worst growth per doubling {worst[0]:.2f}x (to {worst[1]:,}): "
                          f"{'met' if worst[0] <= GOAL_DOUBLING else 'NOT MET'}")
        print(f"  {shape:<12} {size_verdict}; {growth_verdict}")


if __name__ == "__main__":
    main()
