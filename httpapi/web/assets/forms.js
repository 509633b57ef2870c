// Turning API errors into words next to the right field.

import { LatchkeyError, SessionEndedError } from './latchkey.js';
import { duration, formatTime, h } from './dom.js';

// formError is the form-level message line: announced at once (role=alert),
// invisible while empty.
export function formError() {
  const el = h('div', { class: 'form-error', role: 'alert' });
  el.show = (text) => { el.textContent = text || ''; };
  return el;
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function sentence(s) {
  s = capitalize(String(s || '').trim());
  return s && !/[.!?]$/.test(s) ? s + '.' : s;
}

// describe says what went wrong, in a sentence for a person.
export function describe(err) {
  if (!(err instanceof LatchkeyError)) return 'Something went wrong. Please try again.';
  if (err instanceof SessionEndedError) return 'Your session has ended. Please sign in again.';
  if (err.status === 0) return err.problem.detail;
  switch (err.code) {
    case 'rate_limited': {
      if (err.retryAfter == null) return 'Too many attempts. Please wait a while before trying again.';
      const at = new Date(Date.now() + err.retryAfter * 1000);
      return `Too many attempts. Try again in ${duration(err.retryAfter)} (at ${formatTime(at)}).`;
    }
    case 'account_disabled':
      return 'This account has been disabled. Contact your administrator.';
    case 'unavailable':
      return 'Latchkey is busy right now. Please try again in a moment.';
    case 'internal':
      return 'Something went wrong on our side. Please try again.';
    case 'email_not_verified':
      return 'Verify your email address first: we sent you a new link.';
    case 'mfa_required':
      // Sign-in shows the second step itself (signin-mfa.js); elsewhere
      // the session lacks a second factor.
      return 'This needs two-factor sign-in. Sign out, then sign in again with your second factor.';
    case 'invalid_token':
      return 'This link or code is invalid, already used or expired.';
    case 'email_taken':
      return 'An account with this email already exists. Sign in instead.';
    case 'not_found':
      return 'That item no longer exists. It may have been deleted elsewhere.';
    default:
      return sentence(err.problem.detail || err.problem.title || `Request failed (HTTP ${err.status})`);
  }
}

/**
 * showError puts err where it belongs: a validation error's field messages
 * next to their fields (fields maps the API's field names to field()
 * objects), anything else in the form-level line. Focuses the first field
 * in error. Returns false for SessionEndedError (the app is leaving the view).
 */
export function showError(err, fields, formLine) {
  if (err instanceof SessionEndedError) return false;
  let first = null;
  const unplaced = [];
  if (err instanceof LatchkeyError && err.fieldErrors.length) {
    for (const fe of err.fieldErrors) {
      const f = fields[fe.field];
      if (!f) {
        unplaced.push(sentence(`${fe.field} ${fe.message}`));
        continue;
      }
      f.setError(sentence(`${f.label.textContent} ${fe.message}`));
      first = first || f.input;
    }
    formLine.show(unplaced.join(' '));
  } else if (err instanceof LatchkeyError && err.code === 'email_taken' && fields.email) {
    fields.email.setError(describe(err));
    first = fields.email.input;
    formLine.show('');
  } else {
    formLine.show(describe(err));
  }
  if (first) first.focus();
  return true;
}

// clearErrors empties the form line and every field's message.
export function clearErrors(fields, formLine) {
  for (const f of Object.values(fields)) f.setError('');
  formLine.show('');
}

// check runs client-side rules before a request: rules is a list of
// [field, message-or-null]. Shows the messages and focuses the first
// failing field; returns true when all pass.
export function check(rules) {
  let first = null;
  for (const [f, msg] of rules) {
    if (!msg) continue;
    f.setError(msg);
    first = first || f.input;
  }
  if (first) first.focus();
  return !first;
}

// chars counts characters the way the server does (code points).
export function chars(s) {
  return [...s].length;
}
