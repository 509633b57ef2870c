// Better Auth's options, shared by the app (lib/auth.js) and the migration
// script (scripts/migrate.mjs), which creates the tables these options need.
// Every setting comes from the environment; README.md lists them.
import fs from "node:fs";
import path from "node:path";

import { LibsqlDialect } from "@libsql/kysely-libsql";
import { jwt } from "better-auth/plugins/jwt";

// The app's own URL: Better Auth's baseURL, and the iss of its JWTs, which
// Latchkey checks (LATCHKEY_TRUSTED_ISSUER).
export const baseURL = process.env.BETTER_AUTH_URL || "http://127.0.0.1:3000";

// A real SQLite file, through Better Auth's own Kysely adapter and libSQL.
// (The comment keeps Next's file tracing from taking in the whole project.)
const dbFile = path.resolve(/*turbopackIgnore: true*/ process.env.AUTH_DATABASE || "data/auth.db");
fs.mkdirSync(path.dirname(dbFile), { recursive: true });

// Encrypts the JWT signing key at rest and signs session cookies. npm run
// dev:all makes one and keeps it in data/dev-secret; in production set your
// own (openssl rand -base64 32). The fallback, a public value, is for
// `next dev` (and the migration script) only: the production server
// (`next start`, NODE_ENV=production) fails at start without a secret
// (instrumentation.js loads this module then): it logs this error and
// answers 500 to every request.
// `next build` (also NODE_ENV=production) loads this module without
// serving anything, so it may run without one.
const building = process.env.NEXT_PHASE === "phase-production-build";
if (!process.env.BETTER_AUTH_SECRET && process.env.NODE_ENV === "production" && !building) {
  throw new Error(
    "BETTER_AUTH_SECRET is not set. The production server needs a secret of its own " +
      "(openssl rand -base64 32), the same at every start: it signs Better Auth's cookies and " +
      "encrypts its JWT signing key. Only `next dev` falls back to a development value.",
  );
}
const secret = process.env.BETTER_AUTH_SECRET || "dev-only-insecure-secret-do-not-deploy-0000";

export const authOptions = {
  baseURL,
  secret,
  database: { dialect: new LibsqlDialect({ url: "file:" + dbFile }), type: "sqlite" },
  emailAndPassword: { enabled: true },
  plugins: [
    jwt({
      jwks: { keyPairConfig: { alg: "EdDSA", crv: "Ed25519" } },
      jwt: {
        issuer: baseURL,
        // Latchkey's LATCHKEY_TRUSTED_AUDIENCE.
        audience: process.env.JWT_AUDIENCE || "latchkey-api",
        // Short: a JWT stays valid at Latchkey until it expires (plus
        // Latchkey's 30 s clock leeway), sign-out or not. The browser
        // fetches a new one when Latchkey answers 401 token_expired.
        expirationTime: process.env.JWT_EXPIRATION || "5m",
      },
    }),
  ],
  telemetry: { enabled: false },
};
