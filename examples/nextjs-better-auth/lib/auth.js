import { betterAuth } from "better-auth";

import { authOptions } from "./auth-options.mjs";

// Better Auth on the server: the route handler and the server components
// (which read the session from the request's cookie) use it.
export const auth = betterAuth(authOptions);
