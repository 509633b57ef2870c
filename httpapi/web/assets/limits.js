// The contract's input limits, in characters (code points, as the server
// counts them). The forms stop at the same place the server does, so a
// person hears about a limit before sending rather than after; the server
// stays the judge. httpapi/weblimits_test.go holds these to the Go
// constants, so neither side can change alone.

export const MAX_TASK_TITLE_LEN = 200;
export const MAX_TASK_DESC_LEN = 2000;
export const MIN_PASSWORD_LEN = 8;
export const MAX_PASSWORD_LEN = 128;
export const MAX_NAME_LEN = 100;
export const MAX_PAGE_SIZE = 200; // the most items a list answers at once
export const MAX_PASSKEY_NAME_LEN = 64;
export const TOTP_DIGITS = 6; // the digits of a code from an authenticator app
