// The Account screen's "Two-factor sign-in" card: turn it on (current
// password, then scan the QR code or type the key, then confirm with a
// code), see and save the recovery codes, make new ones, turn it off.
//
// Turning it on ends every session, this one included, and the answer
// carries the tokens of a new session for this device: the client takes
// them, and onSessionReplaced lets the screen reload its lists.

import { client, SessionEndedError } from './latchkey.js';
import { busy, clear, field, formatDate, h } from './dom.js';
import { check, clearErrors, describe, formError, showError } from './forms.js';
import { TOTP_DIGITS } from './limits.js';
import { loading, message, show } from './recovery.js';

// codeShape is a code from an authenticator app: digits only, as the server
// compares them.
export const codeShape = new RegExp(`^[0-9]{${TOTP_DIGITS}}$`);

/** twoFactorCard builds the card; onSessionReplaced() runs after turning it on. */
export function twoFactorCard(ctx, onSessionReplaced) {
  const m = {
    ctx, onSessionReplaced,
    box: h('div', { class: 'stack' }),
  };
  const card = h('section', { class: 'card', 'aria-labelledby': 'mfa-heading' },
    h('h2', { id: 'mfa-heading', class: 'card-title' }, 'Two-factor sign-in'),
    m.box);
  m.card = card;
  load(m);
  return card;
}

function focusHeading(m) {
  const heading = m.card.querySelector('h2');
  heading.tabIndex = -1;
  heading.focus();
}

// load asks the server how things stand and shows it.
async function load(m, notice) {
  if (!notice) show(m.box, loading('Loading…'));
  let r;
  try {
    r = await client.mfa.status();
  } catch (err) {
    if (err instanceof SessionEndedError) return;
    const retry = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
    retry.addEventListener('click', () => load(m));
    show(m.box, h('div', { class: 'empty', role: 'alert' },
      h('p', { class: 'empty-title' }, 'Could not load your two-factor settings'), h('p', { class: 'muted' }, describe(err)), retry));
    return;
  }
  const factor = (r.factors || []).find((f) => f.type === 'totp');
  if (factor) statusOn(m, factor, r.recovery_codes_remaining, notice);
  else statusOff(m, notice);
}

function statusOff(m, notice) {
  const on = h('button', { type: 'button', class: 'btn btn-primary' }, 'Turn on two-factor sign-in');
  on.addEventListener('click', () => askPassword(m));
  clear(m.box).append(...[notice,
    h('p', { id: 'mfa-state' }, h('span', { class: 'badge badge-warning' }, 'Off'), ' A stolen password is enough to get into your account.'),
    h('p', { class: 'muted small' }, 'With two-factor sign-in, signing in also asks for a code from an authenticator app on your phone (or a passkey), so a password alone is not enough.'),
    h('div', { class: 'form-actions' }, on)].filter(Boolean));
}

function statusOn(m, factor, remaining, notice) {
  const regen = h('button', { type: 'button', class: 'btn btn-secondary' }, 'New recovery codes');
  const off = h('button', { type: 'button', class: 'btn btn-secondary btn-danger-text' }, 'Turn off');
  regen.addEventListener('click', () => passwordAndCode(m, 'regenerate'));
  off.addEventListener('click', () => passwordAndCode(m, 'disable', factor));
  const low = remaining <= 3;
  clear(m.box).append(...[notice,
    h('p', { id: 'mfa-state' }, h('span', { class: 'badge' }, 'On'), ` Since ${formatDate(factor.created_at)}. Signing in asks for a code from your authenticator app.`),
    h('p', { id: 'mfa-remaining', class: low ? 'notice notice-warning' : 'muted small' },
      `Recovery codes left: ${remaining} of 10.`, low ? ' Make new ones before you run out.' : ''),
    h('div', { class: 'form-actions' }, regen, off)].filter(Boolean));
}

function cancelButton(m) {
  const b = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
  b.addEventListener('click', () => {
    load(m);
    focusHeading(m);
  });
  return b;
}

// askPassword is the first step of turning it on.
function askPassword(m) {
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  current.input.dataset.autofocus = '';
  const line = formError();
  const go = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Continue');
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Turn on two-factor sign-in' },
    h('p', { class: 'muted small' }, 'Enter your password to set up an authenticator app, such as one of the free apps for phones or your password manager.'),
    line, current.wrap, h('div', { class: 'form-actions' }, go, cancelButton(m)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ current_password: current }, line);
    if (!check([[current, current.input.value ? null : 'Enter your current password.']])) return;
    const done = busy(go, 'Checking…');
    let r;
    try {
      r = await client.mfa.startTOTP({ current_password: current.input.value });
    } catch (err) {
      done();
      showError(err, { current_password: current }, line);
      return;
    }
    done();
    setup(m, r);
  });
  show(m.box, form);
}

// groups writes a key in groups of four, easier to type.
function groups(s) {
  return s.replace(/(.{4})(?=.)/g, '$1 ');
}

// setup shows the QR code and the key, and takes the first code.
function setup(m, enrol) {
  const code = field({ label: 'Code from the app', name: 'code', autocomplete: 'one-time-code', required: true, hint: `The ${TOTP_DIGITS}-digit code the app shows once it has the key.` });
  code.input.setAttribute('inputmode', 'numeric');
  code.input.setAttribute('pattern', '[0-9]*');
  code.input.setAttribute('maxlength', String(TOTP_DIGITS));
  code.input.classList.add('input-code');
  const line = formError();
  const go = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Turn on');
  const copy = copyButton(m, 'Copy key', enrol.secret, 'Key copied.');
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Confirm two-factor sign-in' },
    h('ol', { class: 'mfa-steps' },
      h('li', null, 'Open your authenticator app and add an account.'),
      h('li', null, 'Scan this QR code with it:',
        h('img', { class: 'mfa-qr', src: enrol.qr_png, alt: 'QR code for your authenticator app', width: '200', height: '200' })),
      h('li', null, 'Or, if you cannot scan, type this key in the app:',
        h('span', { class: 'mfa-secret-row' }, h('code', { class: 'mfa-secret', id: 'mfa-secret' }, groups(enrol.secret)), copy)),
      h('li', null, 'Enter the code the app shows to finish.')),
    line, code.wrap, h('div', { class: 'form-actions' }, go, cancelButton(m)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ code }, line);
    const v = code.input.value.replace(/\s+/g, '');
    if (!check([[code, !v ? 'Enter the code from the app.' : !codeShape.test(v) ? `The code is ${TOTP_DIGITS} digits.` : null]])) return;
    const done = busy(go, 'Turning on…');
    let r;
    try {
      r = await client.mfa.confirmTOTP(enrol.factor_id, v);
    } catch (err) {
      done();
      showError(err, { code }, line);
      return;
    }
    done();
    // Every session ended with this answer, and this device got a new one.
    m.onSessionReplaced();
    showCodes(m, r.recovery_codes, 'Two-factor sign-in is on. Your other devices were signed out.');
  });
  show(m.box, form);
  code.input.focus();
}

// passwordAndCode is the form of the changes that need both: turning it
// off, and new recovery codes.
function passwordAndCode(m, what, factor) {
  const off = what === 'disable';
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  const code = field({ label: 'Code', name: 'code', autocomplete: 'one-time-code', required: true, hint: `The ${TOTP_DIGITS}-digit code from your authenticator app, or one of your recovery codes.` });
  code.input.setAttribute('autocapitalize', 'off');
  current.input.dataset.autofocus = '';
  const fields = { current_password: current, code };
  const line = formError();
  const go = h('button', { type: 'submit', class: off ? 'btn btn-danger' : 'btn btn-primary' }, off ? 'Turn off two-factor sign-in' : 'Make new codes');
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': off ? 'Turn off two-factor sign-in' : 'New recovery codes' },
    h('p', { class: 'muted small' }, off
      ? 'Signing in will need only your password again, and your recovery codes stop working.'
      : 'Ten new codes replace all your recovery codes; the old ones stop working.'),
    line, current.wrap, code.wrap, h('div', { class: 'form-actions' }, go, cancelButton(m)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(fields, line);
    const v = code.input.value.replace(/\s+/g, '');
    if (!check([
      [current, current.input.value ? null : 'Enter your current password.'],
      [code, v ? null : 'Enter a code from your app or a recovery code.'],
    ])) return;
    const done = busy(go, off ? 'Turning off…' : 'Making codes…');
    const body = { current_password: current.input.value, code: v };
    let codes;
    try {
      if (off) await client.mfa.removeTOTP(factor.id, body);
      else codes = await client.mfa.newRecoveryCodes(body);
    } catch (err) {
      done();
      showError(err, fields, line);
      return;
    }
    done();
    if (off) {
      m.ctx.toast('Two-factor sign-in is off.', 'success');
      await load(m, message('success', 'Two-factor sign-in is off. Signing in needs only your password.'));
      focusHeading(m);
    } else {
      showCodes(m, codes, 'New recovery codes are ready. The old ones no longer work.');
    }
  });
  show(m.box, form);
}

function copyButton(m, label, text, done, size = ' btn-small') {
  const b = h('button', { type: 'button', class: 'btn btn-secondary' + size }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      m.ctx.toast(done, 'success');
    } catch {
      m.ctx.toast('Could not copy. Select the text and copy it yourself.', 'error');
    }
  });
  return b;
}

// showCodes shows the recovery codes once, with ways to keep them.
function showCodes(m, codes, headline) {
  const text = 'Latchkey recovery codes\n' +
    'Each code works once, when you cannot use your authenticator app.\n\n' + codes.join('\n') + '\n';
  const download = h('a', {
    class: 'btn btn-secondary', download: 'latchkey-recovery-codes.txt',
    href: 'data:text/plain;charset=utf-8,' + encodeURIComponent(text),
  }, 'Download codes');
  const saved = h('button', { type: 'button', class: 'btn btn-primary' }, 'I have saved my codes');
  saved.addEventListener('click', async () => {
    await load(m);
    focusHeading(m);
  });
  show(m.box,
    message('success', headline),
    h('p', null, h('strong', null, 'Save these recovery codes now.'),
      ' Each works once, to sign in when you cannot use your app. They will not be shown again.'),
    h('ol', { class: 'recovery-codes', id: 'recovery-codes', 'aria-label': 'Recovery codes' }, ...codes.map((c) => h('li', null, h('code', null, c)))),
    h('div', { class: 'form-actions' }, copyButton(m, 'Copy codes', codes.join('\n'), 'Recovery codes copied.', ''), download, saved));
}
