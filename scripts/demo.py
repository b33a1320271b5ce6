#!/usr/bin/env python3
"""`make run`, the main job end to end: logins turn into role assignments on a sandbox tenant.

Starts `rules sandbox` (a local Auth0 Management API) and `rules serve rules/` pointed at it, posts every sample
event under rules/events/ the way the Auth0 Action does (through examples/auth0-action.js in node when node is
installed, else signed here the same way), prints each decision, waits for the outbox to drain, prints the roles
the tenant ended up with, and stops both. Standard library only.
"""
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "demo-secret-" + os.urandom(8).hex()
CLAIM = "https://rolecall.example/roles"


def start(command, env, pattern, what):
    """Starts `command`, returns (process, match of `pattern` in its output) once the pattern appears."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
        found = re.search(pattern, text)
        if found:
            return process, found, log
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    log.seek(0)
    sys.exit("demo: %s did not start:\n%s" % (what, log.read().decode("utf-8", "replace")))


def post_signed(url, event):
    """POSTs the event as the Action does: HMAC-SHA256 over TIMESTAMP.BODY."""
    body = json.dumps(event, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url + "/v1/decide", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Rolecall-Timestamp": timestamp,
        "X-Rolecall-Signature": "v1=" + signature})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def outbox_status(binary, outbox):
    run = subprocess.run([binary, "outbox", "status", "--outbox", outbox, "--format", "json"], cwd=ROOT,
                         capture_output=True, text=True)
    return json.loads(run.stdout) if run.returncode == 0 else {}


def management(base_url, method, path, body=None):
    """One Management API call to the sandbox tenant, with a fresh token."""
    token_request = urllib.request.Request(base_url + "/oauth/token", method="POST", data=json.dumps({
        "grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret",
        "audience": "https://sandbox.rolecall.test/api/v2/"}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(token_request, timeout=10) as response:
        token = json.loads(response.read())["access_token"]
    request = urllib.request.Request(
        base_url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


def user_path(user):
    return "/api/v2/users/" + urllib.parse.quote(user, safe="") + "/roles"


def seed(base_url, events):
    """Gives each user the roles their sample login says they hold, as a real tenant would have them."""
    ids = {role["name"]: role["id"] for role in management(base_url, "GET", "/api/v2/roles?per_page=50")}
    for event in events:
        held = [ids[name] for name in event.get("authorization", {}).get("roles", []) if name in ids]
        if held:
            management(base_url, "POST", user_path(event["user"]["user_id"]), {"roles": held})


def tenant_roles(base_url, user):
    return sorted(role["name"] for role in management(base_url, "GET", user_path(user)))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/rules")
    env = dict(os.environ)
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_BASE_URL"):
        env.pop(name, None)
    scratch = tempfile.mkdtemp(prefix="rolecall-demo-")
    outbox = os.path.join(scratch, "outbox.db")
    sandbox, found, _ = start([binary, "sandbox", "--port", "0"], env, r"AUTH0_BASE_URL=(\S+)", "rules sandbox")
    base_url = found.group(1)
    print("== sandbox tenant at %s (a local Auth0 Management API)" % base_url)
    env.update({"AUTH0_DOMAIN": "sandbox.rolecall.test", "AUTH0_CLIENT_ID": "sandbox-client",
                "AUTH0_CLIENT_SECRET": "sandbox-secret", "AUTH0_BASE_URL": base_url, "ROLECALL_SECRET": SECRET})
    server, found, server_log = start([binary, "serve", "rules/", "--port", "0", "--outbox", outbox], env,
                                      r"rules: listening on (\S+)", "rules serve")
    url = found.group(1)
    print("== rules serve rules/ at %s, outbox %s" % (url, outbox))
    node = shutil.which("node") is not None
    users = []
    logins = []
    for name in sorted(os.listdir(os.path.join(ROOT, "rules/events"))):
        if name.endswith(".json"):
            path = os.path.join(ROOT, "rules/events", name)
            with open(path, encoding="utf-8") as f:
                logins.append((name, path, json.load(f)))
    seed(base_url, [event for _, _, event in logins])
    print("== the tenant starts with the roles each sample login says its user holds:")
    for _, _, event in logins:
        user = event["user"]["user_id"]
        print("   %-28s %s" % (user, ", ".join(tenant_roles(base_url, user)) or "(none)"))
    try:
        for name, path, event in logins:
            user = event["user"]["user_id"]
            users.append(user)
            if node:
                secrets = {"ROLECALL_URL": url, "ROLECALL_SECRET": SECRET, "ROLECALL_CLAIM": CLAIM}
                run = subprocess.run(["node", "examples/run-action.mjs", path], cwd=ROOT, capture_output=True,
                                     text=True, env=dict(env, **secrets))
                result = json.loads(run.stdout)
                roles = result["claims"].get("id_token", {}).get(CLAIM)
                print("== login %s (%s), through examples/auth0-action.js in node" % (user, name))
                print("   token claim %s: %s" % (CLAIM, json.dumps(roles)))
                for line in result["logs"]:
                    print("   action log: " + line)
            else:
                decision = post_signed(url, event)
                print("== login %s (%s), signed as the Action signs (node not installed)" % (user, name))
                print("   decision: " + json.dumps(decision))
        print("== waiting for the outbox to drain")
        deadline = time.time() + 60
        status = {}
        while time.time() < deadline:
            status = outbox_status(binary, outbox)
            if status.get("pending") == 0:
                break
            time.sleep(0.2)
        print("   " + json.dumps(status))
        print("== roles the sandbox tenant holds now")
        for user in users:
            print("   %-28s %s" % (user, ", ".join(tenant_roles(base_url, user)) or "(none)"))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=20)
        server_log.seek(0)
        log = server_log.read().decode("utf-8", "replace")
        print("== server log (last lines)")
        for line in log.splitlines()[-8:]:
            print("   " + line)


if __name__ == "__main__":
    main()
