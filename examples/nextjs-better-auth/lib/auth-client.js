"use client";

import { createAuthClient } from "better-auth/react";

// Better Auth in the browser, on the app's own origin (/api/auth/*).
export const authClient = createAuthClient();
