// npm run dev:all: Better Auth's tables, Latchkey (built from this
// repository) and `next dev`, wired to each other, for trying the example
// on one machine. Ctrl-C stops both. No dependency beyond Node and Go.
//
//   APP_PORT (3000), LATCHKEY_PORT (8080), JWT_EXPIRATION (5m) may be set.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);
const data = path.join(root, "data");
fs.mkdirSync(data, { recursive: true });

const appPort = process.env.APP_PORT || "3000";
const latchkeyPort = process.env.LATCHKEY_PORT || "8080";
const appURL = `http://127.0.0.1:${appPort}`;
const latchkeyURL = `http://127.0.0.1:${latchkeyPort}`;
const audience = process.env.JWT_AUDIENCE || "latchkey-api";

// A development secret, made once and kept in data/ (which git ignores):
// Better Auth encrypts its JWT signing key with it, so it must not change
// between runs.
const secretFile = path.join(data, "dev-secret");
if (!fs.existsSync(secretFile)) {
  fs.writeFileSync(secretFile, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600 });
}
const secret = process.env.BETTER_AUTH_SECRET || fs.readFileSync(secretFile, "utf8").trim();

const appEnv = {
  ...process.env,
  BETTER_AUTH_URL: appURL,
  BETTER_AUTH_SECRET: secret,
  JWT_AUDIENCE: audience,
  LATCHKEY_URL: latchkeyURL,
  NEXT_TELEMETRY_DISABLED: "1",
};

function runOrExit(what, cmd, args, env) {
  console.log(`dev:all: ${what}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env });
  if (r.status !== 0) {
    console.error(`dev:all: ${what} failed`);
    process.exit(1);
  }
}

runOrExit("Better Auth's tables", process.execPath, ["scripts/migrate.mjs"], appEnv);
// A binary rather than `go run`, so that stopping it stops Latchkey itself.
const bin = path.join(data, "latchkey");
runOrExit("build Latchkey", "go", ["build", "-o", bin, "../../cmd/latchkey"], process.env);

const children = [];
let stopping = false;
function start(name, cmd, args, env) {
  const child = spawn(cmd, args, { stdio: "inherit", env });
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`dev:all: ${name} exited (${signal || code}); stopping the other`);
      stop(code || 1);
    }
  });
  return child;
}
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on("exit", r))))).then(() =>
    process.exit(code),
  );
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

// The app first: Latchkey fetches its JWKS at start, and would warn that
// it cannot while the app is not there yet (it would retry, so this is
// only tidier).
start("next dev", path.join(root, "node_modules", ".bin", "next"), ["dev", "--hostname", "127.0.0.1", "--port", appPort], appEnv);
for (let i = 0; i < 600 && !stopping; i++) {
  try {
    if ((await fetch(`${appURL}/api/auth/jwks`)).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 100));
}
if (!stopping) {
  start("latchkey", bin, ["serve"], {
    ...process.env,
    LATCHKEY_ADDR: `127.0.0.1:${latchkeyPort}`,
    LATCHKEY_ISSUER: latchkeyURL,
    LATCHKEY_DATABASE_URL: "sqlite:" + path.join(data, "latchkey.db"),
    LATCHKEY_TRUSTED_JWKS_URL: `${appURL}/api/auth/jwks`,
    LATCHKEY_TRUSTED_ISSUER: appURL,
    LATCHKEY_TRUSTED_AUDIENCE: audience,
    LATCHKEY_CORS_ORIGINS: appURL,
    // Both servers read this machine's clock: no skew to forgive.
    LATCHKEY_TRUSTED_LEEWAY: "2s",
  });
  console.log(`dev:all: open ${appURL} (Latchkey at ${latchkeyURL}); Ctrl-C stops both`);
}
