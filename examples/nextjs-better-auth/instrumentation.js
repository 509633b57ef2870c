// Runs once when the Next.js server starts: loading Better Auth's options
// there makes `next start` without BETTER_AUTH_SECRET fail at once, with
// lib/auth-options.mjs's message, rather than at the first Better Auth
// request.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") await import("./lib/auth-options.mjs");
}
