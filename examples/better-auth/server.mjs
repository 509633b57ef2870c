// A small Better Auth issuer for Latchkey's integration tests.
//
// Email + password sign-up/sign-in, the jwt() plugin (EdDSA / Ed25519 keys by
// default, JWKS at /api/auth/jwks), and Better Auth's in-memory adapter: all
// state is lost when the process exits. It listens on 127.0.0.1 only.
//
// Environment:
//   PORT      port to listen on (default 0: a random free port)
//   ISSUER    the JWT "iss" (default: this server's origin, http://127.0.0.1:PORT)
//   AUDIENCE  the JWT "aud" (default: same as ISSUER)
//   SECRET    Better Auth's secret, which encrypts the private keys at rest
//             (default: a random one per process)
//   ROTATION_INTERVAL  seconds: the jwt() plugin's own key rotation
//             (jwks.rotationInterval). Each key expires that long after it
//             is made; the next token signed after that makes a new key,
//             publishes it and signs with it at once. Unset: no rotation.
//
// When ready it prints exactly one line to stdout:
//   listening http://127.0.0.1:PORT
//
// Test-only endpoints (NOT part of Better Auth; do not copy into an app):
//   POST /test/rotate-key  mint a new signing key; new tokens carry its kid.
//                          Body (optional JSON): {"retire_old": true} also
//                          removes the previous keys from the JWKS.
//                          Answers {"kid": "<new kid>", "kids": [...published kids]}.
//   POST /test/sign        sign an arbitrary payload with the current key,
//                          e.g. {"sub":"u1","exp":1}; iss/aud default to
//                          ISSUER/AUDIENCE unless the payload sets them.
//                          Answers {"token": "<jwt>"}.
import http from "node:http";
import crypto from "node:crypto";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt, createJwk } from "better-auth/plugins/jwt";

const HOST = "127.0.0.1";
const port = Number.parseInt(process.env.PORT ?? "0", 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid PORT: ${process.env.PORT}`);
  process.exit(2);
}
const rotationInterval = process.env.ROTATION_INTERVAL
  ? Number(process.env.ROTATION_INTERVAL)
  : undefined;
if (rotationInterval !== undefined && !(rotationInterval > 0)) {
  console.error(`invalid ROTATION_INTERVAL: ${process.env.ROTATION_INTERVAL}`);
  process.exit(2);
}

let handleAuth = null; // set once the server knows its port
let testRoutes = null;

const server = http.createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (path.startsWith("/test/")) {
    testRoutes(req, res, path).catch((err) => {
      console.error(err);
      sendJSON(res, 500, { error: String(err?.message ?? err) });
    });
    return;
  }
  if (path.startsWith("/api/auth")) {
    handleAuth(req, res);
    return;
  }
  sendJSON(res, 404, { error: "not found" });
});

server.listen(port, HOST, () => {
  const actualPort = server.address().port;
  const origin = `http://${HOST}:${actualPort}`;
  const issuer = process.env.ISSUER || origin;
  const audience = process.env.AUDIENCE || issuer;
  const secret = process.env.SECRET || crypto.randomBytes(32).toString("hex");

  // The memory adapter's store: one array of rows per model. The jwks model
  // holds the jwt() plugin's signing keys.
  const db = { user: [], session: [], account: [], verification: [], jwks: [] };

  const jwtOptions = {
    // jwks.keyPairConfig left unset: the plugin's default, EdDSA with Ed25519.
    jwt: { issuer, audience },
    // The plugin's own rotation: a key expires rotationInterval seconds
    // after it is made, and signing then makes and publishes a new one.
    ...(rotationInterval ? { jwks: { rotationInterval } } : {}),
  };

  const auth = betterAuth({
    baseURL: origin,
    secret,
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true },
    plugins: [jwt(jwtOptions)],
    telemetry: { enabled: false },
    // The Go test signs up several users in quick succession.
    rateLimit: { enabled: false },
  });

  handleAuth = toNodeHandler(auth);

  testRoutes = async (req, res, path) => {
    if (req.method !== "POST") {
      sendJSON(res, 405, { error: "method not allowed" });
      return;
    }
    const body = await readJSON(req);
    if (path === "/test/rotate-key") {
      const ctx = { context: await auth.$context };
      const old = db.jwks.map((k) => k.id);
      // createJwk stores a new key row; the plugin signs with the newest
      // live key, so every token from now on carries the new kid. The old
      // keys stay in the JWKS unless retire_old is set.
      const key = await createJwk(ctx, jwtOptions);
      if (body?.retire_old) {
        for (let i = db.jwks.length - 1; i >= 0; i--) {
          if (old.includes(db.jwks[i].id)) db.jwks.splice(i, 1);
        }
      }
      sendJSON(res, 200, { kid: key.id, kids: db.jwks.map((k) => k.id) });
      return;
    }
    if (path === "/test/sign") {
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        sendJSON(res, 400, { error: "body must be a JSON object (the payload)" });
        return;
      }
      const { token } = await auth.api.signJWT({ body: { payload: body } });
      sendJSON(res, 200, { token });
      return;
    }
    sendJSON(res, 404, { error: "not found" });
  };

  process.stdout.write(`listening ${origin}\n`);
});

server.on("error", (err) => {
  console.error(err);
  process.exit(1);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}

function sendJSON(res, status, value) {
  const data = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(data),
  });
  res.end(data);
}

async function readJSON(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) return null;
  return JSON.parse(text);
}
