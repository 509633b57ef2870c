// The app's one client of Latchkey's API: @latchkey/client (clients/js),
// compiled by tsc and served from /assets/client/, so the token handling
// exists once. It holds the session: the access token in its memory, the
// refresh token in the HttpOnly cookie.

import { createClient } from './client/index.js';

export { LatchkeyError, SessionEndedError } from './client/index.js';

export const client = createClient();
