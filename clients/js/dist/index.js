// @latchkey/client: a typed client for Latchkey's API, for the browser and
// Node. Start with createClient; docs: README.md beside this package.
export { createClient, LatchkeyClient, memoryStore } from "./client.js";
export { LatchkeyError, SessionEndedError } from "./errors.js";
