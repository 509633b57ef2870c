export { createClient, LatchkeyClient, memoryStore } from "./client.js";
export type { AuthChange, ClientOptions, RefreshTokenStore } from "./client.js";
export { LatchkeyError, SessionEndedError } from "./errors.js";
export type { FieldError, Problem } from "./errors.js";
export type * from "./types.js";
