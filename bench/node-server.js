#!/usr/bin/env node
// `make bench-serve`'s baseline: the ten rules of bench/roles.rules written by hand in plain JavaScript, the way an
// Auth0 post-login Action would compute them, behind node's own `http` server (node 20, no packages).
//
//     ROLECALL_SECRET=... node bench/node-server.js [--port N] [--host 127.0.0.1]
//
// It does what `rules serve` does for `POST /v1/decide` with effects disabled: checks the bearer secret in
// constant time, refuses a body that is not JSON or is over 1 MiB, parses the event with JSON.parse, and answers
// the decision JSON (`assign`, `revoke`, `roles`, `matched`, `errors`) plus a `decision_id`. Prints
// `node: listening on http://HOST:PORT` on standard error once it accepts connections, as `rules serve` does.
"use strict";

const crypto = require("node:crypto");
const http = require("node:http");

const MAX_EVENT_BYTES = 1 << 20;

// The rule set, in the order of bench/roles.rules. Each rule is a name, a condition on the event and the roles it
// assigns; none revokes. A missing field reads as undefined, so the conditions fail as Rolecall's do on null.
const STAFF = /@acme\.com$/;
const CONSUMER = /@(gmail|yahoo|hotmail|outlook)\.com$/;
const MOBILE = /(iPhone|Android)/;
const EU = new Set(["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "PT", "SE"]);
const SSO = new Set(["samlp", "waad", "adfs", "oidc"]);

const has = (list, item) => Array.isArray(list) && list.includes(item);
const matches = (text, pattern) => typeof text === "string" && pattern.test(text);

const RULES = [
  { name: "member", assign: ["member"], when: (e) => e.stats?.logins_count === 1 },
  {
    name: "staff",
    assign: ["staff"],
    when: (e) => matches(e.user?.email, STAFF) && e.user?.email_verified === true,
  },
  { name: "admin", assign: ["admin"], when: (e) => has(e.user?.app_metadata?.groups, "admin") },
  { name: "eu", assign: ["eu"], when: (e) => EU.has(e.request?.geoip?.countryCode) },
  {
    name: "google_regular",
    assign: ["google_regular"],
    when: (e) => e.connection?.strategy === "google-oauth2" && e.stats?.logins_count > 10,
  },
  {
    name: "unverified_consumer",
    assign: ["unverified_consumer"],
    when: (e) => matches(e.user?.email, CONSUMER) && !e.user?.email_verified,
  },
  {
    name: "finance",
    assign: ["finance"],
    when: (e) => has(e.user?.app_metadata?.groups, "billing") || has(e.user?.app_metadata?.groups, "finance"),
  },
  { name: "mobile", assign: ["mobile"], when: (e) => matches(e.request?.user_agent, MOBILE) },
  {
    name: "power_user",
    assign: ["power_user"],
    when: (e) => e.stats?.logins_count >= 100 && e.user?.app_metadata?.plan === "enterprise",
  },
  {
    name: "sso",
    assign: ["sso"],
    when: (e) => SSO.has(e.connection?.strategy) && e.user?.email_verified === true,
  },
];

// The decision for one event: the roles the fired rules assign, and the roles the token should carry now (the
// user's current roles, then the new ones).
function decide(event) {
  const assign = [];
  const matched = [];
  for (const rule of RULES) {
    if (!rule.when(event)) continue;
    matched.push(rule.name);
    for (const role of rule.assign) if (!assign.includes(role)) assign.push(role);
  }
  const current = (event.authorization?.roles ?? []).filter((role) => typeof role === "string");
  const roles = current.concat(assign.filter((role) => !current.includes(role)));
  return { assign, revoke: [], roles, matched, errors: [] };
}

function answer(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function authorized(header, secret) {
  const expected = Buffer.from("Bearer " + secret);
  const given = Buffer.from(header ?? "");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function handle(request, response, secret) {
  if (request.url !== "/v1/decide") return answer(response, 404, { error: "not found" });
  if (request.method !== "POST") return answer(response, 405, { error: "method not allowed" });
  if (!authorized(request.headers.authorization, secret)) return answer(response, 401, { error: "unauthorized" });
  if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
    return answer(response, 415, { error: "the event must be JSON (content-type application/json)" });
  }
  if (Number(request.headers["content-length"] ?? 0) > MAX_EVENT_BYTES) {
    return answer(response, 413, { error: "the event is over " + MAX_EVENT_BYTES + " bytes" });
  }
  const chunks = [];
  let size = 0;
  request.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_EVENT_BYTES) {
      answer(response, 413, { error: "the event is over " + MAX_EVENT_BYTES + " bytes" });
      request.destroy();
    } else {
      chunks.push(chunk);
    }
  });
  request.on("end", () => {
    if (size > MAX_EVENT_BYTES) return;
    let event;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      return answer(response, 400, { error: "malformed JSON: " + error.message });
    }
    if (typeof event?.user?.user_id !== "string") {
      return answer(response, 400, { error: "the event has no `user.user_id`" });
    }
    answer(response, 200, { ...decide(event), decision_id: crypto.randomUUID() });
  });
}

function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const index = args.indexOf(name);
    return index >= 0 && index + 1 < args.length ? args[index + 1] : fallback;
  };
  const host = option("--host", "127.0.0.1");
  const port = Number(option("--port", "8080"));
  const secret = process.env.ROLECALL_SECRET;
  if (!secret) {
    process.stderr.write("node: error: ROLECALL_SECRET is not set\n");
    process.exit(2);
  }
  const server = http.createServer((request, response) => handle(request, response, secret));
  server.keepAliveTimeout = 60_000;
  server.listen(port, host, () => {
    process.stderr.write("node: listening on http://" + host + ":" + server.address().port + "\n");
  });
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
}

main();
