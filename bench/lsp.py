#!/usr/bin/env python3
"""How fast `rules lsp` answers an edit: the time from a `textDocument/didChange` to the
`textDocument/publishDiagnostics` it causes, on a 1,000-rule file, over the server's real standard input
and output.

    python3 bench/lsp.py --bin .build/release/rules [--rules 1000] [--edits 200]

Each edit is what an editor sends for one keystroke (a one-character range change, incremental sync),
alternately breaking a field name (`user.emial`, a warning with a quick fix) and mending it; the whole
rule set is checked again each time. Prints the median, 90th percentile and worst time, and the goal
(20 ms). Pinned to one core with taskset when it is there, like the other benchmarks.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

GOAL_MS = 20.0


def rule_text(i):
    """A rule like a real rule set's: names, regexes, lists, quantifiers and functions, each its own role."""
    shapes = [
        f'rule "staff {i}"\nwhen user.email_verified and user.email matches /@acme{i}\\.(com|de)$/i\nassign "staff-{i}"\n',
        f'rule "eu {i}"\nwhen request.geoip.countryCode in ["DE", "FR", "IT", "C{i % 10}"] and logins_count > {i}\n'
        f'assign "eu-{i}"\n',
        f'rule "mfa {i}"\nwhen any(authentication.methods, m, m.name == "mfa") and "g{i}" in user.app_metadata.groups\n'
        f'assign "admin-{i}"\n',
        f'rule "plan {i}"\nwhen lower(user.app_metadata.plan) == "p{i}" and days_since(user.created_at) >= {i % 90}\n'
        f'revoke "trial-{i}"\n',
    ]
    return shapes[i % len(shapes)]


class Server:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def receive(self):
        header = b""
        while not header.endswith(b"\r\n\r\n"):
            byte = self.process.stdout.read(1)
            if not byte:
                raise SystemExit("the server closed its output")
            header += byte
        length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length"))
        return json.loads(self.process.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                return message

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri):
        while True:
            message = self.receive()
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=".build/release/rules")
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=200)
    options = parser.parse_args()

    text = "\n".join(rule_text(i) for i in range(options.rules))
    workspace = tempfile.mkdtemp(prefix="rolecall-lsp-bench-")
    path = os.path.join(workspace, "bench.rules")
    with open(path, "w") as out:
        out.write(text)
    uri = "file://" + path
    command = [options.bin, "lsp"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1"] + command
    server = Server(command)
    try:
        server.request("initialize", {"processId": None, "rootUri": "file://" + workspace, "capabilities": {}})
        server.notify("initialized", {})
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "rolecall", "version": 1, "text": text}})
        first = server.diagnostics(uri)
        if first:
            raise SystemExit(f"the generated rules should be clean, found: {first[:3]}")

        # The `email` of the first rule's `user.email matches`: insert `i` after `em` (user.emial), then delete it.
        line = 2 - 1
        column = text.split("\n")[line].index("user.email matches") + len("user.em")
        times = []
        for edit in range(options.edits):
            breaking = edit % 2 == 0
            change = {
                "range": {
                    "start": {"line": line, "character": column},
                    "end": {"line": line, "character": column + (0 if breaking else 1)},
                },
                "text": "i" if breaking else "",
            }
            start = time.perf_counter()
            server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": edit + 2}, "contentChanges": [change]})
            found = server.diagnostics(uri)
            times.append((time.perf_counter() - start) * 1000)
            codes = [d["code"] for d in found]
            expected = ["unknown-field"] if breaking else []
            if codes != expected:
                raise SystemExit(f"edit {edit}: expected {expected}, found {codes}")
        server.request("shutdown", None)
        server.notify("exit", None)
        server.process.wait(timeout=10)
    finally:
        if server.process.poll() is None:
            server.process.kill()
        shutil.rmtree(workspace, ignore_errors=True)

    times.sort()
    median = statistics.median(times)
    p90 = times[int(len(times) * 0.9) - 1]
    verdict = "met" if median <= GOAL_MS else "missed"
    print(f"rules lsp, {options.rules} rules ({len(text) / 1024:.0f} KB), {options.edits} edits, didChange to publishDiagnostics:")
    print(f"  median {median:.2f} ms, p90 {p90:.2f} ms, worst {times[-1]:.2f} ms, best {times[0]:.2f} ms")
    print(f"  goal: within {GOAL_MS:.0f} ms (median): {verdict}")


if __name__ == "__main__":
    main()
