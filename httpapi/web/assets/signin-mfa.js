// The second step of a sign-in: after the right password of an account
// with two-factor sign-in, the server answers 401 mfa_required with a
// one-time mfa_token (in this module's memory only) and the methods the
// account can use: a code from the authenticator app, a recovery code, or
// a passkey.

import { client, LatchkeyError } from './latchkey.js';
import { busy, clear, field, h } from './dom.js';
import { authFrame } from './auth.js';
import { check, clearErrors, describe, formError } from './forms.js';
import { TOTP_DIGITS } from './limits.js';
import { codeShape } from './mfa.js';
import { message, show } from './recovery.js';
import * as webauthn from './webauthn.js';

// codeInput is the field for the app's code or a recovery code: the
// numeric keypad and the system's one-time-code offer for the first.
function codeInput(recovery) {
  const f = recovery
    ? field({ label: 'Recovery code', name: 'recovery_code', autocomplete: 'off', required: true, hint: 'One of the codes you saved when you turned on two-factor sign-in, like abcd-efgh-jkmn-pqrs. Each works once.' })
    : field({ label: 'Authentication code', name: 'code', autocomplete: 'one-time-code', required: true, hint: `The ${TOTP_DIGITS}-digit code your authenticator app shows now.` });
  if (!recovery) {
    f.input.setAttribute('inputmode', 'numeric');
    f.input.setAttribute('pattern', '[0-9]*');
    f.input.setAttribute('maxlength', String(TOTP_DIGITS));
    f.input.classList.add('input-code');
  } else {
    f.input.setAttribute('autocapitalize', 'off');
  }
  f.input.dataset.autofocus = '';
  return f;
}

/**
 * renderMFAStep replaces the sign-in screen in view by the second step for
 * challenge (the mfa_required problem: mfa_token, methods). ctx is the
 * sign-in view's.
 */
export function renderMFAStep(view, ctx, challenge) {
  const methods = Array.isArray(challenge.methods) ? challenge.methods : ['totp'];
  const st = {
    ctx, view,
    token: challenge.mfa_token,
    recovery: !methods.includes('totp'),
    canSwitch: methods.includes('totp') && methods.includes('recovery_code'),
    passkey: methods.includes('passkey') && webauthn.passkeysSupported(),
    box: h('div', { class: 'form' }),
  };
  clear(view);
  delete view.dataset.title;
  authFrame(view, {
    title: 'Two-factor sign-in',
    lead: 'Your password was right. Now prove it is you with your second factor.',
    flash: null,
    form: st.box,
    footer: ['Not you, or stuck? ', startAgainLink(ctx)],
  });
  document.title = 'Two-factor sign-in · Latchkey';
  drawForm(st);
}

function startAgainLink(ctx) {
  const a = h('a', { href: '#/signin' }, 'Start again');
  // Already at #/signin: no hashchange, so draw the sign-in screen anew.
  a.addEventListener('click', (e) => {
    e.preventDefault();
    ctx.navigate('/signin');
  });
  return a;
}

// drawForm shows the code form (the app's code or a recovery code) and the
// other ways in.
function drawForm(st) {
  const code = codeInput(st.recovery);
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Verify');
  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'auth-title' }, line, code.wrap, submit);
  const others = [];
  if (st.canSwitch) {
    const sw = h('button', { type: 'button', class: 'btn btn-ghost btn-block' },
      st.recovery ? 'Use a code from your app' : 'Use a recovery code');
    sw.addEventListener('click', () => {
      st.recovery = !st.recovery;
      drawForm(st);
    });
    others.push(sw);
  }
  if (st.passkey) {
    const pk = h('button', { type: 'button', class: 'btn btn-secondary btn-block' }, 'Use a passkey');
    pk.addEventListener('click', () => usePasskey(st, pk, line));
    others.push(pk);
  }
  form.addEventListener('submit', (e) => submitCode(st, e, { code, line, submit }));
  show(st.box, form, ...others);
}

async function submitCode(st, e, { code, line, submit }) {
  e.preventDefault();
  clearErrors({ code }, line);
  const value = code.input.value.replace(/\s+/g, '');
  const ok = check([[code, !value
    ? (st.recovery ? 'Enter a recovery code.' : 'Enter the code from your app.')
    : !st.recovery && !codeShape.test(value) ? `The code is ${TOTP_DIGITS} digits.` : null]]);
  if (!ok) return;
  const body = st.recovery ? { mfa_token: st.token, recovery_code: value } : { mfa_token: st.token, code: value };
  const done = busy(submit, 'Verifying…');
  try {
    await client.signInMFA(body);
  } catch (err) {
    done();
    failed(st, err, code, line);
    return;
  }
  done();
}

// failed says why the step was refused: a wrong code (try again), a dead
// mfa_token (start again), or too many codes (wait, or use another way).
function failed(st, err, code, line) {
  const is = (c) => err instanceof LatchkeyError && err.code === c;
  if (is('invalid_token')) {
    dead(st);
    return;
  }
  if (is('invalid_credentials')) {
    code.setError(st.recovery
      ? 'That recovery code is not right, or it was used already.'
      : 'That code is not right. Check the time on your device and try the code your app shows now.');
    code.input.value = '';
    code.input.focus();
    return;
  }
  let text = describe(err);
  if (is('rate_limited') && !st.recovery && st.canSwitch) text += ' You can use a recovery code meanwhile.';
  line.show(text);
}

// dead replaces the form: this sign-in can go no further.
function dead(st) {
  const again = h('button', { type: 'button', class: 'btn btn-primary btn-block', 'data-autofocus': '' }, 'Start again');
  again.addEventListener('click', () => st.ctx.navigate('/signin'));
  show(st.box,
    message('error', 'This sign-in has expired or had too many attempts. Start again with your password.'),
    again);
}

// usePasskey completes the step with a passkey of this account.
async function usePasskey(st, button, line) {
  line.show('');
  const done = busy(button, 'Waiting for your passkey…');
  try {
    const o = await client.passkeys.signInOptions();
    const credential = await webauthn.get(o.options);
    await client.signInMFA({ mfa_token: st.token, challenge_id: o.challenge_id, credential });
  } catch (err) {
    done();
    if (err instanceof LatchkeyError && err.status === 401 && err.code === 'invalid_token') {
      dead(st);
      return;
    }
    line.show(webauthn.passkeyMessage(err, describe));
    return;
  }
  done();
}
