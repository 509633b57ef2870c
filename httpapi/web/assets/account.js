// The account screen: profile, sessions, two-factor sign-in, passkeys,
// email address, password.

import { client, SessionEndedError } from './latchkey.js';
import { busy, clear, field, formatDate, h, timeEl } from './dom.js';
import { chars, check, clearErrors, describe, formError, showError } from './forms.js';
import { MAX_PAGE_SIZE, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN } from './limits.js';
import { emailChangeCard } from './recovery.js';
import { twoFactorCard } from './mfa.js';
import { passkeysCard } from './passkeys.js';

// The sessions asked for at a time.
const PAGE = 50;

// device names a user agent the way a person would ("Chrome on Linux").
export function device(ua) {
  if (!ua) return 'Unknown device';
  const browser =
    /Edg(e|A|iOS)?\//.test(ua) ? 'Edge'
      : /OPR\//.test(ua) ? 'Opera'
        : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
          : /HeadlessChrome\//.test(ua) ? 'Headless Chrome'
            : /Chrome\/|CriOS\//.test(ua) ? 'Chrome'
              : /Safari\//.test(ua) ? 'Safari'
                : /^curl\//.test(ua) ? 'curl'
                  : null;
  const os =
    /iPhone|iPad|iPod/.test(ua) ? 'iOS'
      : /Android/.test(ua) ? 'Android'
        : /Windows/.test(ua) ? 'Windows'
          : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
            : /CrOS/.test(ua) ? 'ChromeOS'
              : /Linux/.test(ua) ? 'Linux'
                : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || 'Other client';
}

// renderAccount builds the screen; each card's functions below take the
// elements they work on, so each can be read on its own.
export function renderAccount(view, ctx) {
  view.dataset.title = 'Account';
  const profile = h('dl', { class: 'profile' });
  const sessions = {
    ctx,
    list: h('ul', { class: 'session-list', 'aria-labelledby': 'sessions-heading' }),
    status: h('div', { class: 'list-status' }),
    shown: [], // the sessions loaded so far, in the server's order
    cursor: null, // next_cursor of the last page; null when it was the last
    loadSeq: 0, // the latest load; an answer to an older one is dropped
    moreButton: h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, 'Load more'),
  };
  const othersButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Sign out everywhere else');
  const pw = passwordForm();
  // A confirmed change signs the other devices out: the list follows.
  const emailCard = emailChangeCard(ctx, (user) => {
    drawProfile(profile, user);
    loadSessions(sessions, true);
  });

  view.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Account'),
      h('p', { class: 'muted' }, 'Your profile, the devices you are signed in on, how you sign in, your email address and your password.')),
    h('section', { class: 'card', 'aria-labelledby': 'profile-heading' },
      h('h2', { id: 'profile-heading', class: 'card-title' }, 'Profile'),
      profile),
    h('section', { class: 'card', 'aria-labelledby': 'sessions-heading' },
      h('div', { class: 'card-head' },
        h('div', null,
          h('h2', { id: 'sessions-heading', class: 'card-title' }, 'Sessions'),
          h('p', { class: 'muted small' }, 'Where your account is signed in. Revoke any you don’t recognise.'))),
      sessions.status, sessions.list,
      h('div', { class: 'sessions-more' }, sessions.moreButton),
      h('div', { class: 'card-foot' }, othersButton)),
    // Turning two-factor sign-in on ends the other sessions: the list follows.
    twoFactorCard(ctx, () => loadSessions(sessions, true)),
    passkeysCard(ctx),
    emailCard,
    h('section', { class: 'card', 'aria-labelledby': 'password-heading' },
      h('h2', { id: 'password-heading', class: 'card-title' }, 'Change password'),
      pw.form));

  drawProfile(profile, ctx.user);
  // The profile follows changes made elsewhere (the verify banner, another
  // tab's answer) while this view is up.
  const off = client.onAuthChange(({ type, user }) => {
    if (!profile.isConnected) off();
    else if (type === 'user-updated') drawProfile(profile, user);
  });
  othersButton.addEventListener('click', () => signOutOthers(sessions, othersButton));
  sessions.moreButton.addEventListener('click', () => loadMoreSessions(sessions));
  pw.form.addEventListener('submit', (e) => submitPassword(sessions, pw, e));
  loadProfile(profile);
  loadSessions(sessions, false);
}

function drawProfile(profile, user) {
  clear(profile).append(
    h('div', { class: 'profile-row' }, h('dt', null, 'Name'), h('dd', null, user.name || '—')),
    h('div', { class: 'profile-row' }, h('dt', null, 'Email'), h('dd', { id: 'profile-email' },
      h('span', null, user.email), ' ',
      user.email_verified === true ? h('span', { class: 'badge' }, 'Verified')
        : user.email_verified === false ? h('span', { class: 'badge badge-warning' }, 'Not verified') : null)),
    h('div', { class: 'profile-row' }, h('dt', null, 'Member since'), h('dd', null, formatDate(user.created_at))));
}

async function loadProfile(profile) {
  try {
    drawProfile(profile, await client.me());
  } catch {
    // The cached profile stays; the sessions card reports failures.
  }
}

// loadSessions lists the sessions from the first page; quiet skips the
// loading message, for a reload after a change made here, where the list
// stays up meanwhile. A reload asks for as many as were shown, so that a
// list grown with Load more stays as long.
async function loadSessions(s, quiet) {
  const seq = ++s.loadSeq;
  if (!quiet) {
    clear(s.status).append(h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading sessions…'));
  }
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(PAGE, s.shown.length));
  let r;
  try {
    r = await client.sessions({ limit });
  } catch (err) {
    if (seq !== s.loadSeq || err instanceof SessionEndedError) return;
    const retry = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
    retry.addEventListener('click', () => loadSessions(s, false));
    clear(s.status).append(h('div', { class: 'empty', role: 'alert' },
      h('p', { class: 'empty-title' }, 'Could not load your sessions'),
      h('p', { class: 'muted' }, describe(err)), retry));
    return;
  }
  if (seq !== s.loadSeq) return;
  clear(s.status);
  s.shown = r.sessions || [];
  showSessions(s, r.next_cursor);
}

// loadMoreSessions appends the next page.
async function loadMoreSessions(s) {
  const seq = ++s.loadSeq;
  const done = busy(s.moreButton, 'Loading…');
  let r;
  try {
    r = await client.sessions({ limit: PAGE, cursor: s.cursor });
  } catch (err) {
    done();
    if (seq !== s.loadSeq || err instanceof SessionEndedError) return;
    s.ctx.toast(describe(err), 'error');
    return;
  }
  done();
  if (seq !== s.loadSeq) return;
  const known = new Set(s.shown.map((x) => x.id));
  const added = (r.sessions || []).filter((x) => !known.has(x.id));
  s.shown = s.shown.concat(added);
  showSessions(s, r.next_cursor);
  s.ctx.toast(`Loaded ${added.length} more ${added.length === 1 ? 'session' : 'sessions'}.`);
  // Keep keyboard focus in the list rather than on a vanished button.
  const first = added.length && document.getElementById(`session-${added[0].id}`);
  if (first && s.moreButton.hidden) first.closest('.session').querySelector('button').focus();
}

// showSessions draws the sessions loaded, this device first, then the most
// recently used, and offers Load more while the server has more.
function showSessions(s, nextCursor) {
  s.cursor = nextCursor || null;
  s.moreButton.hidden = !s.cursor;
  const sessions = s.shown.slice().sort((a, b) => (b.current - a.current) || (b.last_used_at > a.last_used_at ? 1 : -1));
  clear(s.list).append(...sessions.map((session) => drawSession(s, session)));
}

function drawSession(s, session) {
  const nameId = `session-${session.id}`;
  const revoke = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-describedby': nameId }, 'Revoke');
  revoke.addEventListener('click', () => revokeSession(s, session, revoke));
  return h('li', { class: 'session' + (session.current ? ' current' : '') },
    h('div', { class: 'session-icon', 'aria-hidden': 'true' }),
    h('div', { class: 'session-body' },
      h('p', { class: 'session-name', id: nameId },
        device(session.user_agent),
        session.current ? h('span', { class: 'badge' }, 'This device') : null),
      h('p', { class: 'session-meta' },
        h('span', null, 'IP ', session.ip || 'unknown'),
        h('span', null, 'Signed in ', timeEl(session.created_at)),
        h('span', null, 'Last used ', timeEl(session.last_used_at))),
      session.user_agent ? h('p', { class: 'session-ua' }, session.user_agent) : null),
    h('div', { class: 'session-actions' }, revoke));
}

async function revokeSession(s, session, button) {
  const done = busy(button, 'Revoking…');
  try {
    await client.revokeSession(session.id);
  } catch (err) {
    done();
    if (err instanceof SessionEndedError) return;
    s.ctx.toast(describe(err), 'error');
    return;
  }
  // Revoking this device's session is signing out here (the client forgets it).
  if (session.current) return;
  s.ctx.toast(`Revoked ${device(session.user_agent)}.`, 'success');
  loadSessions(s, true);
}

async function signOutOthers(s, button) {
  const done = busy(button, 'Signing out others…');
  try {
    await client.signOut({ scope: 'others' });
    s.ctx.toast('Signed out everywhere else. Only this device is signed in now.', 'success');
  } catch (err) {
    if (err instanceof SessionEndedError) return;
    s.ctx.toast(describe(err), 'error');
  } finally {
    done();
  }
  await loadSessions(s, true);
  button.focus();
}

function passwordForm() {
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  const next = field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, hint: `Use ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters, not one of the most common passwords. Your other devices will be signed out.` });
  const line = formError();
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'password-heading' },
    line, current.wrap, next.wrap, h('div', { class: 'form-actions' }, button));
  return { form, line, button, current, next, fields: { current_password: current, new_password: next } };
}

// submitPassword changes the password; the sessions list is reloaded after,
// as the server has signed the other devices out.
async function submitPassword(s, pw, e) {
  e.preventDefault();
  const { current, next } = pw;
  clearErrors(pw.fields, pw.line);
  const n = chars(next.input.value);
  const ok = check([
    [current, current.input.value ? null : 'Enter your current password.'],
    [next, !next.input.value ? 'Choose a new password.' : n < MIN_PASSWORD_LEN || n > MAX_PASSWORD_LEN ? `New password must be ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters.` : null],
  ]);
  if (!ok) return;
  const done = busy(pw.button, 'Changing…');
  try {
    await client.changePassword({ current_password: current.input.value, new_password: next.input.value });
  } catch (err) {
    done();
    showError(err, pw.fields, pw.line);
    return;
  }
  done();
  current.input.value = '';
  next.input.value = '';
  s.ctx.toast('Password changed. Your other devices were signed out.', 'success');
  loadSessions(s, true);
}
