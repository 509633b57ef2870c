// The shapes of Latchkey's answers, as docs/api.md gives them.
export {};
