import { toNextJsHandler } from "better-auth/next-js";

import { auth } from "@/lib/auth";

// Better Auth's routes: sign-up, sign-in, sign-out, session, and the jwt()
// plugin's /api/auth/token and /api/auth/jwks.
export const { GET, POST } = toNextJsHandler(auth);
