#!/usr/bin/env python3
"""The sandbox tenant (`rules sandbox`) driven by Auth0's own Python SDK, auth0-python.

A real client nobody here wrote: if the sandbox answers a shape Auth0 would not, the SDK fails to read it. Run with
the `rules` binary as the only argument (default .build/debug/rules), in an environment where auth0-python is
installed (scripts/sdk-test makes one). Prints each check; exits 1 when one fails, 2 when the sandbox cannot be
started.

The SDK's ManagementClient always talks https://DOMAIN, so the test uses the two classes it is built from: the
authentication API's GetToken (which takes a protocol, "for testing") for the client-credentials grant, and the
generated Auth0 client with the sandbox's base URL and that token.
"""

import re
import subprocess
import sys
import threading
import time

from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError
from auth0.management.errors import NotFoundError, TooManyRequestsError

DOMAIN = "sandbox.rolecall.test"
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
USER = "auth0|sdk-user"
GHOST = "auth0|ghost"

failures = []


def check(what, condition, detail=""):
    """Records one check and prints it."""
    print(("ok    " if condition else "FAIL  ") + what + ("" if condition or not detail else f": {detail}"))
    if not condition:
        failures.append(what)


def start_sandbox(binary):
    """Starts `rules sandbox --port 0` and returns the process and its base URL, read from the AUTH0_BASE_URL= it
    prints on stdout once it listens."""
    process = subprocess.Popen(
        [binary, "sandbox", "--port", "0", "--rate", "1000", "--burst", "1000", "--fail-429", "2",
         "--missing-user", GHOST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    found = {}

    def read():
        for line in process.stdout:
            match = re.search(r"AUTH0_BASE_URL=(http://\S+)", line)
            if match and "base" not in found:
                found["base"] = match.group(1)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 20
    while "base" not in found and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if "base" not in found:
        process.kill()
        _, err = process.communicate()
        print(f"the sandbox did not print AUTH0_BASE_URL= (exit {process.returncode}): {err.strip()}")
        sys.exit(2)
    return process, found["base"]


def run(base):
    host = base.removeprefix("http://")
    audience = f"https://{DOMAIN}/api/v2/"

    # The client-credentials grant, and its refusal of a wrong secret as Auth0 words it.
    try:
        GetToken(host, CLIENT_ID, client_secret="wrong", protocol="http").client_credentials(audience)
        check("a wrong client secret is refused", False, "a token was issued")
    except Auth0Error as error:
        check("a wrong client secret is refused with 401 access_denied",
              error.status_code == 401 and error.error_code == "access_denied", f"{error!r}")
    token = GetToken(host, CLIENT_ID, client_secret=CLIENT_SECRET, protocol="http").client_credentials(audience)
    check("client_credentials gives a Bearer token for a day",
          token.get("token_type") == "Bearer" and token.get("expires_in") == 86400 and bool(token.get("access_token")),
          f"{token!r}")
    check("the token's scope lists read:roles", "read:roles" in token.get("scope", "").split(), f"{token!r}")

    api = Auth0(base_url=f"{base}/api/v2", token=token["access_token"])

    # The first two API requests get a 429 (--fail-429 2). Without retries the SDK raises its 429 error with Auth0's
    # body; with its default retries it waits for x-ratelimit-reset and gets the answer.
    try:
        api.roles.list(request_options={"max_retries": 0})
        check("a 429 is an error without retries", False, "the list succeeded")
    except TooManyRequestsError as error:
        body = error.body if isinstance(error.body, dict) else {}
        headers = {key.lower(): value for key, value in (error.headers or {}).items()}
        check("a 429 is a TooManyRequestsError carrying errorCode too_many_requests and x-ratelimit-reset",
              body.get("errorCode") == "too_many_requests" and headers.get("x-ratelimit-reset", "").isdigit(),
              f"{error!r}")
    pager = api.roles.list(name_filter="MEM", include_totals=True, per_page=50, page=0)
    check("the SDK retries a 429 on its own", True)
    names = [role.name for role in pager.items]
    check("roles.list(name_filter, include_totals) reads the object shape", names == ["member", "org-member"],
          f"{names}")
    check("its totals are start 0, limit 50, total 2",
          (pager.response.start, pager.response.limit, pager.response.total) == (0, 50, 2), f"{pager.response!r}")
    everything = api.roles.list(include_totals=True, per_page=3, page=0)
    listed = [role.name for role in everything]  # iterating pages on through page=1, 2, ... until an empty one
    check("iterating roles.list pages through all seventeen seeded roles", len(listed) == 17 and len(set(listed)) == 17,
          f"{listed}")
    ids = {role.name: role.id for role in everything}

    api.users.roles.assign(USER, roles=[ids["member"], ids["staff"], ids["eu"]])
    check("users.roles.assign of three roles succeeds", True)
    held = api.users.roles.list(USER, include_totals=True)
    check("users.roles.list(include_totals=True) reads the object shape",
          sorted(role.name for role in held.items) == ["eu", "member", "staff"], f"{held.items!r}")
    check("its totals are start 0, limit 50, total 3",
          (held.response.start, held.response.limit, held.response.total) == (0, 50, 3), f"{held.response!r}")
    second = api.users.roles.list(USER, include_totals=True, per_page=2, page=1)
    check("users.roles.list page 1 of 2 holds the third role, start 2",
          [role.name for role in second.items] == ["eu"] and second.response.start == 2
          and second.response.total == 3, f"{second.response!r}")
    paged = [role.name for role in api.users.roles.list(USER, include_totals=True, per_page=1)]
    check("iterating users.roles.list one role a page finds all three", sorted(paged) == ["eu", "member", "staff"],
          f"{paged}")

    api.users.roles.delete(USER, roles=[ids["staff"]])
    after = sorted(role.name for role in api.users.roles.list(USER, include_totals=True).items)
    check("users.roles.delete removes the role", after == ["eu", "member"], f"{after}")

    try:
        api.users.roles.list(GHOST, include_totals=True)
        check("an unknown user is a NotFoundError", False, "the list succeeded")
    except NotFoundError as error:
        body = error.body if isinstance(error.body, dict) else {}
        check("an unknown user is a NotFoundError carrying errorCode inexistent_user",
              error.status_code == 404 and body.get("errorCode") == "inexistent_user"
              and body.get("statusCode") == 404 and body.get("error") == "Not Found" and bool(body.get("message")),
              f"{error.body!r}")
    try:
        api.users.roles.assign(USER, roles=[])
        check("an empty assignment is refused", False, "it succeeded")
    except ApiError as error:
        body = error.body if isinstance(error.body, dict) else {}
        check("an empty assignment is a 400 carrying errorCode invalid_body",
              error.status_code == 400 and body.get("errorCode") == "invalid_body", f"{error!r}")
    try:
        Auth0(base_url=f"{base}/api/v2", token="not-a-token").roles.list()
        check("a bad token is refused", False, "the list succeeded")
    except ApiError as error:
        body = error.body if isinstance(error.body, dict) else {}
        check("a bad token is a 401 carrying errorCode invalid_token",
              error.status_code == 401 and body.get("errorCode") == "invalid_token", f"{error!r}")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/rules"
    process, base = start_sandbox(binary)
    print(f"sandbox at {base}")
    try:
        run(base)
    except Exception as error:  # an SDK that cannot read an answer raises; that is a failure, not a crash
        check("the SDK read every answer", False, f"{type(error).__name__}: {error}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("auth0-python against the sandbox: every check passed")


if __name__ == "__main__":
    main()
