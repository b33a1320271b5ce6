#!/usr/bin/env node
// Runs the Rolecall post-login Action (examples/auth0-action.js) outside Auth0, the way Auth0 would, against a real
// `rules serve`:
//
//   node examples/run-action.mjs EVENT.json [SECRETS.json] [--action FILE]
//
// EVENT.json is a post-login event (rules/events/*.json). The Action's secrets come from SECRETS.json (an object such
// as {"ROLECALL_URL": "http://127.0.0.1:8080", "ROLECALL_SECRET": "...", "ROLECALL_CLAIM": "https://example.com/roles"})
// or, without one, from the environment variables whose names start with ROLECALL_. The `api` object records what the
// Action does with it; the driver prints one JSON line:
//
//   {"claims":{"id_token":{CLAIM:VALUE},"access_token":{CLAIM:VALUE}},"denied":null|"reason","logs":["...",...]}
//
// It exits 0 when the Action ran to its end (whether it set claims, denied or did nothing), 1 when the Action threw
// (Auth0 would fail the login), 2 for a bad invocation.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";

function usage(message) {
  process.stderr.write(`run-action: ${message}\nusage: node run-action.mjs EVENT.json [SECRETS.json] [--action FILE]\n`);
  process.exit(2);
}

function readJSON(path, what) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    usage(`cannot read the ${what} \`${path}\`: ${error.code || error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    usage(`the ${what} \`${path}\` is not JSON: ${error.message}`);
  }
}

const positional = [];
let actionPath = resolve(dirname(fileURLToPath(import.meta.url)), "auth0-action.js");
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index += 1) {
  if (args[index] === "--action") {
    if (index + 1 >= args.length) usage("--action needs a file");
    actionPath = resolve(args[index + 1]);
    index += 1;
  } else if (args[index].startsWith("--")) {
    usage(`unknown option \`${args[index]}\``);
  } else {
    positional.push(args[index]);
  }
}
if (positional.length < 1 || positional.length > 2) usage("expected an event file and at most one secrets file");

const event = readJSON(positional[0], "event");
if (event === null || typeof event !== "object" || Array.isArray(event)) usage("the event must be a JSON object");
let secrets;
if (positional.length === 2) {
  secrets = readJSON(positional[1], "secrets file");
} else {
  secrets = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("ROLECALL_")) secrets[name] = value;
  }
}
event.secrets = secrets;

// The recording `api`: the parts of Auth0's post-login API the Action uses, and the rest of the usual ones as
// recorders too, so an Action that calls them does not crash here when it would not in Auth0.
const claims = { id_token: {}, access_token: {} };
let denied = null;
const other = [];
const record = (name) => (...values) => {
  other.push({ call: name, values });
};
const api = {
  idToken: { setCustomClaim: (name, value) => void (claims.id_token[name] = value) },
  accessToken: {
    setCustomClaim: (name, value) => void (claims.access_token[name] = value),
    addScope: record("accessToken.addScope"),
    removeScope: record("accessToken.removeScope"),
  },
  access: {
    deny: (reason) => {
      if (denied === null) denied = String(reason);
    },
  },
  user: { setAppMetadata: record("user.setAppMetadata"), setUserMetadata: record("user.setUserMetadata") },
  multifactor: { enable: record("multifactor.enable") },
  redirect: { sendUserTo: record("redirect.sendUserTo") },
};

// console.* during the run goes to `logs` (Auth0 shows it in the Action's logs), not to this process's output.
const logs = [];
const saved = {};
for (const method of ["log", "info", "warn", "error", "debug"]) {
  saved[method] = console[method];
  console[method] = (...values) => logs.push(format(...values));
}
let failure;
try {
  const action = createRequire(import.meta.url)(actionPath);
  if (typeof action.onExecutePostLogin !== "function") throw new Error(`${actionPath} exports no onExecutePostLogin`);
  await action.onExecutePostLogin(event, api);
} catch (error) {
  failure = error;
} finally {
  Object.assign(console, saved);
}
const result = { claims, denied, logs };
if (other.length > 0) result.calls = other;
process.stdout.write(JSON.stringify(result) + "\n");
if (failure !== undefined) {
  process.stderr.write(`run-action: the Action threw: ${failure && failure.stack ? failure.stack : failure}\n`);
  process.exitCode = 1;
}
