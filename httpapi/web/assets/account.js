// The account screen: profile, sessions, password.

import * as api from './api.js';
import { busy, clear, field, formatDate, h, timeEl } from './dom.js';
import { chars, check, clearErrors, describe, formError, showError } from './forms.js';
import { MAX_PASSWORD_LEN, MIN_PASSWORD_LEN } from './limits.js';

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

export function renderAccount(view, ctx) {
  view.dataset.title = 'Account';
  const profile = h('dl', { class: 'profile' });
  const sessionList = h('ul', { class: 'session-list', 'aria-labelledby': 'sessions-heading' });
  const sessionStatus = h('div', { class: 'list-status' });
  const othersButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Sign out everywhere else');

  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  const next = field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, hint: `Use ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters, not one of the most common passwords. Your other devices will be signed out.` });
  const pwLine = formError();
  const pwButton = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
  const pwFields = { current_password: current, new_password: next };
  const pwForm = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'password-heading' },
    pwLine, current.wrap, next.wrap, h('div', { class: 'form-actions' }, pwButton));

  view.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Account'),
      h('p', { class: 'muted' }, 'Your profile, the devices you are signed in on, and your password.')),
    h('section', { class: 'card', 'aria-labelledby': 'profile-heading' },
      h('h2', { id: 'profile-heading', class: 'card-title' }, 'Profile'),
      profile),
    h('section', { class: 'card', 'aria-labelledby': 'sessions-heading' },
      h('div', { class: 'card-head' },
        h('div', null,
          h('h2', { id: 'sessions-heading', class: 'card-title' }, 'Sessions'),
          h('p', { class: 'muted small' }, 'Where your account is signed in. Revoke any you don’t recognise.'))),
      sessionStatus, sessionList,
      h('div', { class: 'card-foot' }, othersButton)),
    h('section', { class: 'card', 'aria-labelledby': 'password-heading' },
      h('h2', { id: 'password-heading', class: 'card-title' }, 'Change password'),
      pwForm));

  function drawProfile(user) {
    clear(profile).append(
      h('div', { class: 'profile-row' }, h('dt', null, 'Name'), h('dd', null, user.name || '—')),
      h('div', { class: 'profile-row' }, h('dt', null, 'Email'), h('dd', null, user.email)),
      h('div', { class: 'profile-row' }, h('dt', null, 'Member since'), h('dd', null, formatDate(user.created_at))));
  }
  drawProfile(ctx.user);

  async function loadProfile() {
    try {
      const r = await api.call('GET', '/api/auth/me');
      api.setUser(r.user);
      drawProfile(r.user);
    } catch {
      // The cached profile stays; the sessions card reports failures.
    }
  }

  async function loadSessions(quiet) {
    if (!quiet) {
      clear(sessionStatus).append(h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading sessions…'));
    }
    let r;
    try {
      r = await api.call('GET', '/api/auth/sessions');
    } catch (err) {
      if (err instanceof api.SessionEnded) return;
      const retry = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
      retry.addEventListener('click', () => loadSessions(false));
      clear(sessionStatus).append(h('div', { class: 'empty', role: 'alert' },
        h('p', { class: 'empty-title' }, 'Could not load your sessions'),
        h('p', { class: 'muted' }, describe(err)), retry));
      return;
    }
    clear(sessionStatus);
    const sessions = (r.sessions || []).slice().sort((a, b) => (b.current - a.current) || (b.last_used_at > a.last_used_at ? 1 : -1));
    clear(sessionList).append(...sessions.map(drawSession));
  }

  function drawSession(s) {
    const nameId = `session-${s.id}`;
    const revoke = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-describedby': nameId }, 'Revoke');
    revoke.addEventListener('click', () => revokeSession(s, revoke));
    return h('li', { class: 'session' + (s.current ? ' current' : '') },
      h('div', { class: 'session-icon', 'aria-hidden': 'true' }),
      h('div', { class: 'session-body' },
        h('p', { class: 'session-name', id: nameId },
          device(s.user_agent),
          s.current ? h('span', { class: 'badge' }, 'This device') : null),
        h('p', { class: 'session-meta' },
          h('span', null, 'IP ', s.ip || 'unknown'),
          h('span', null, 'Signed in ', timeEl(s.created_at)),
          h('span', null, 'Last used ', timeEl(s.last_used_at))),
        s.user_agent ? h('p', { class: 'session-ua' }, s.user_agent) : null),
      h('div', { class: 'session-actions' }, revoke));
  }

  async function revokeSession(s, button) {
    const done = busy(button, 'Revoking…');
    try {
      await api.call('DELETE', `/api/auth/sessions/${encodeURIComponent(s.id)}`);
    } catch (err) {
      done();
      if (err instanceof api.SessionEnded) return;
      ctx.toast(describe(err), 'error');
      return;
    }
    if (s.current) {
      // Revoking this device's session is signing out here.
      api.forget();
      return;
    }
    ctx.toast(`Revoked ${device(s.user_agent)}.`, 'success');
    loadSessions(true);
  }

  othersButton.addEventListener('click', async () => {
    const done = busy(othersButton, 'Signing out others…');
    try {
      await api.call('POST', '/api/auth/signout', { scope: 'others' });
      ctx.toast('Signed out everywhere else. Only this device is signed in now.', 'success');
    } catch (err) {
      if (err instanceof api.SessionEnded) return;
      ctx.toast(describe(err), 'error');
    } finally {
      done();
    }
    await loadSessions(true);
    othersButton.focus();
  });

  pwForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(pwFields, pwLine);
    const n = chars(next.input.value);
    const ok = check([
      [current, current.input.value ? null : 'Enter your current password.'],
      [next, !next.input.value ? 'Choose a new password.' : n < MIN_PASSWORD_LEN || n > MAX_PASSWORD_LEN ? `New password must be ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters.` : null],
    ]);
    if (!ok) return;
    const done = busy(pwButton, 'Changing…');
    try {
      await api.call('POST', '/api/auth/password', { current_password: current.input.value, new_password: next.input.value });
    } catch (err) {
      done();
      showError(err, pwFields, pwLine);
      return;
    }
    done();
    current.input.value = '';
    next.input.value = '';
    ctx.toast('Password changed. Your other devices were signed out.', 'success');
    loadSessions(true);
  });

  loadProfile();
  loadSessions(false);
}
