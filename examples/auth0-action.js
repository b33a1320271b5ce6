/**
 * Rolecall for Auth0: a post-login Action that asks `rules serve` which roles this login should carry.
 *
 * It posts the login's `event` (without `event.secrets`: the Action's secrets never leave it) to
 * ROLECALL_URL + "/v1/decide", signed with HMAC-SHA256 so the server knows it came from here and cannot be replayed
 * later, and puts the decision's `roles` on the ID token and the access token under the claim ROLECALL_CLAIM. Those
 * are the roles the token issued *now* should carry: Auth0 leaves roles assigned during a login out of that login's
 * token. The Management API calls that make the assignments stick happen on the server, behind its outbox.
 *
 * When the server cannot answer (a timeout, a network error, an answer other than 200, an answer that is not a
 * decision, a missing setting) the login continues without the claim, or is denied when ROLECALL_FAIL_CLOSED is
 * "true". Either way the reason is logged (Monitoring > Logs, or the Action's real-time logs). Two answers count as
 * failures too: a redirect, which is never followed (the signed login goes to ROLECALL_URL and nowhere else, and the
 * roles come from there alone), and an answer larger than 64 KiB, which is left unread past that point (a decision is
 * a few hundred bytes; a server answering without end must not fill the Action's memory, whose limit would fail the
 * login even when it should continue).
 *
 * Installing it in Auth0:
 *   1. Actions > Library > Create Action > Build from scratch; trigger "Login / Post Login", runtime Node 22.
 *   2. Paste this file. It needs no npm dependency (node's `crypto` and global `fetch`).
 *   3. Add these secrets (the key icon):
 *        ROLECALL_URL          the base URL of `rules serve`, e.g. https://rolecall.example.com (https in production)
 *        ROLECALL_SECRET       the same value as the server's ROLECALL_SECRET (or its --secret-file)
 *        ROLECALL_CLAIM        a namespaced claim URL for the roles, e.g. https://example.com/roles (a bare `roles`
 *                              claim is restricted and silently dropped by Auth0)
 *        ROLECALL_FAIL_CLOSED  optional: "true" denies logins Rolecall cannot decide; anything else lets them in
 *        ROLECALL_TIMEOUT_MS   optional: how long to wait for the answer, default 5000, at most 10000 (an Action has
 *                              20 s in all)
 *   4. Deploy, then drag it into Actions > Flows > Login.
 *
 * Try it locally against a running server with examples/run-action.mjs.
 */
"use strict";

const crypto = require("crypto");

/** How long to wait for the decision unless ROLECALL_TIMEOUT_MS says otherwise. */
const DEFAULT_TIMEOUT_MS = 5000;
/** The longest wait taken: half of the 20 s an Action has in all. */
const MAX_TIMEOUT_MS = 10000;
/** The most of a refused answer's body quoted in the log. */
const QUOTED_BODY = 200;
/** The largest answer read: a decision is a few hundred bytes, and the whole answer is held in memory. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The wait in milliseconds: ROLECALL_TIMEOUT_MS when it is a positive whole number (capped at MAX_TIMEOUT_MS), the
 * default otherwise.
 */
function timeoutFrom(setting) {
  if (setting === undefined || setting === "") return DEFAULT_TIMEOUT_MS;
  const value = Number(setting);
  if (!Number.isInteger(value) || value <= 0) {
    console.log(`rolecall: ROLECALL_TIMEOUT_MS \`${setting}\` is not a positive whole number; using ${DEFAULT_TIMEOUT_MS}`);
    return DEFAULT_TIMEOUT_MS;
  }
  return Math.min(value, MAX_TIMEOUT_MS);
}

/** `v1=HEX`: the lowercase hex HMAC-SHA256, keyed with `secret`, of `timestamp + "." + body`. */
function signature(secret, timestamp, body) {
  return "v1=" + crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/**
 * The body of `response` as text, read as a stream (under the caller's timer); undefined, with the rest left unread,
 * when the answer declares or runs past MAX_ANSWER_BYTES. The caller aborts the request to drop the connection.
 */
async function boundedText(response) {
  const declared = Number(response.headers.get("content-length"));
  if (declared > MAX_ANSWER_BYTES) return undefined;
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) return undefined;
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

/**
 * Asks the server at `url` for the decision on `body`. Resolves to `{ decision }`, or to `{ problem }` saying why
 * there is none; never rejects.
 */
async function decide(url, secret, body, timeoutMs) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let status;
  let text;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Rolecall-Timestamp": timestamp,
        "X-Rolecall-Signature": signature(secret, timestamp, body),
      },
      body,
      // Never followed: it would send the signed login, and take the roles, from wherever the server points.
      redirect: "manual",
      signal: controller.signal,
    });
    status = response.status;
    if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
      controller.abort();
      const location = String(response.headers.get("location") || "nowhere").slice(0, QUOTED_BODY);
      return { problem: `${url} answered ${status}, a redirect to ${location}; the Action follows no redirect` };
    }
    // Still under the timer: a server that sends its headers and then stalls times out too.
    text = await boundedText(response);
    if (text === undefined) {
      controller.abort();
      return { problem: `${url} answered ${status} with an answer larger than ${MAX_ANSWER_BYTES} bytes` };
    }
  } catch (error) {
    if (controller.signal.aborted) return { problem: `no answer from ${url} within ${timeoutMs} ms` };
    const cause = error && error.cause ? error.cause.code || error.cause.message : undefined;
    return { problem: `cannot reach ${url}: ${cause || (error && error.message) || error}` };
  } finally {
    clearTimeout(timer);
  }
  if (status !== 200) {
    const quoted = text.length > QUOTED_BODY ? text.slice(0, QUOTED_BODY) + "..." : text;
    return { problem: `${url} answered ${status}: ${quoted}` };
  }
  let decision;
  try {
    decision = JSON.parse(text);
  } catch (error) {
    return { problem: `${url} answered 200 with a body that is not JSON: ${error.message}` };
  }
  if (
    decision === null ||
    typeof decision !== "object" ||
    !Array.isArray(decision.roles) ||
    !decision.roles.every((role) => typeof role === "string")
  ) {
    return { problem: `${url} answered 200 without a \`roles\` list of strings` };
  }
  return { decision };
}

/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const secrets = event.secrets || {};
  const failClosed = secrets.ROLECALL_FAIL_CLOSED === "true";
  const fail = (reason) => {
    if (failClosed) {
      console.log(`rolecall: ${reason}; denying the login (ROLECALL_FAIL_CLOSED is "true")`);
      api.access.deny("Your roles could not be checked. Please try again later.");
    } else {
      console.log(`rolecall: ${reason}; the login continues without the roles claim`);
    }
  };

  const missing = ["ROLECALL_URL", "ROLECALL_SECRET", "ROLECALL_CLAIM"].filter(
    (name) => typeof secrets[name] !== "string" || secrets[name] === "",
  );
  if (missing.length > 0) {
    fail(`the Action's secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} must be set (Actions > this Action > Secrets)`);
    return;
  }
  const claim = secrets.ROLECALL_CLAIM;
  if (!/^https?:\/\//.test(claim)) {
    console.log(`rolecall: ROLECALL_CLAIM \`${claim}\` is not a URL; Auth0 drops restricted claim names such as \`roles\``);
  }

  // The event as JSON, without the Action's secrets.
  const { secrets: _secrets, ...login } = event;
  const body = JSON.stringify(login);
  const url = secrets.ROLECALL_URL.replace(/\/+$/, "") + "/v1/decide";
  const { decision, problem } = await decide(url, secrets.ROLECALL_SECRET, body, timeoutFrom(secrets.ROLECALL_TIMEOUT_MS));
  if (problem !== undefined) {
    fail(problem);
    return;
  }
  api.idToken.setCustomClaim(claim, decision.roles);
  api.accessToken.setCustomClaim(claim, decision.roles);
  const id = typeof decision.decision_id === "string" ? ` (decision ${decision.decision_id})` : "";
  console.log(`rolecall: roles ${JSON.stringify(decision.roles)}${id}`);
};
