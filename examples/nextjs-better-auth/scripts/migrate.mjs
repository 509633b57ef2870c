// Creates or updates Better Auth's tables (user, session, account,
// verification, jwks) in the SQLite file. Idempotent; npm runs it before
// `next dev` and `next start` (predev, prestart).
import { getMigrations } from "better-auth/db/migration";

import { authOptions } from "../lib/auth-options.mjs";

const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(authOptions);
if (toBeCreated.length || toBeAdded.length) {
  await runMigrations();
  console.log("better-auth tables ready:", [...toBeCreated, ...toBeAdded].map((t) => t.table).join(", "));
}
