// Sign-in and sign-up screens.

import { client, LatchkeyError } from './latchkey.js';
import { busy, field, h } from './dom.js';
import { chars, check, clearErrors, formError, showError } from './forms.js';
import { MAX_NAME_LEN, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN } from './limits.js';
import { renderMFAStep } from './signin-mfa.js';
import { passkeySignIn } from './passkeys.js';

export const PASSWORD_RULE = `Use ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters. The most common passwords are refused; a few unrelated words make a strong one that is easy to remember.`;

// authFrame lays out a signed-out screen: brand, a card with the title, a
// lead, the message that brought the person here, the form, and a footer.
export function authFrame(view, { title, lead, flash, form, footer }) {
  view.dataset.title = title;
  // The message that brought the person here ("You have signed out") goes
  // once they act, so it never sits beside a fresh error.
  form.addEventListener('submit', () => view.querySelector('.notice')?.remove());
  view.append(
    h('div', { class: 'auth' },
      h('div', { class: 'auth-brand' },
        h('img', { src: '/assets/icon.svg', alt: '', width: '40', height: '40' }),
        h('span', { class: 'auth-brand-name' }, 'Latchkey')),
      h('section', { class: 'card auth-card', 'aria-labelledby': 'auth-title' },
        h('h1', { id: 'auth-title' }, title),
        h('p', { class: 'lead' }, lead),
        flash ? h('div', { class: `notice notice-${flash.kind}`, role: flash.kind === 'info' || flash.kind === 'success' ? 'status' : 'alert' }, flash.text) : null,
        form),
      h('p', { class: 'auth-switch' }, ...footer)));
}

export function renderSignIn(view, ctx) {
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username' });
  const password = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password' });
  email.input.dataset.autofocus = '';
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const fields = { email, password };
  // Shown when the address needs verifying first: the code from the mail
  // works as well as its link.
  const haveCode = h('p', { class: 'form-aside', hidden: true }, h('a', { href: '#/verify' }, 'I have a verification code'));
  const form = h('form', { class: 'form', novalidate: true }, line, haveCode, email.wrap, password.wrap,
    h('p', { class: 'form-aside' }, h('a', { href: '#/forgot' }, 'Forgot your password?')),
    submit, passkeySignIn(line));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(fields, line);
    haveCode.hidden = true;
    const ok = check([
      [email, email.input.value.trim() ? null : 'Enter your email address.'],
      [password, password.input.value ? null : 'Enter your password.'],
    ]);
    if (!ok) return;
    const done = busy(submit, 'Signing in…');
    try {
      await client.signIn({ email: email.input.value.trim(), password: password.input.value });
    } catch (err) {
      done();
      if (err instanceof LatchkeyError && err.code === 'mfa_required' && err.problem.mfa_token) {
        renderMFAStep(view, ctx, err.problem);
        return;
      }
      showError(err, fields, line);
      if (err instanceof LatchkeyError && err.code === 'invalid_credentials') {
        password.input.value = '';
        password.input.focus();
      }
      if (err instanceof LatchkeyError && err.code === 'email_not_verified') haveCode.hidden = false;
      return;
    }
    done();
  });
  authFrame(view, {
    title: 'Sign in',
    lead: 'Welcome back. Sign in to see your tasks.',
    flash: ctx.flash,
    form,
    footer: ['New to Latchkey? ', h('a', { href: '#/signup' }, 'Create an account')],
  });
}

export function renderSignUp(view, ctx) {
  const name = field({ label: 'Name', name: 'name', autocomplete: 'name', maxlength: MAX_NAME_LEN, hint: 'Optional. Shown only to you.' });
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password', hint: PASSWORD_RULE, required: true });
  name.input.dataset.autofocus = '';
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign up');
  const fields = { name, email, password };
  const form = h('form', { class: 'form', novalidate: true }, line, name.wrap, email.wrap, password.wrap, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(fields, line);
    const pw = password.input.value;
    const n = chars(pw);
    const addr = email.input.value.trim();
    const ok = check([
      [name, chars(name.input.value.trim()) > MAX_NAME_LEN ? `Name must be at most ${MAX_NAME_LEN} characters.` : null],
      [email, !addr ? 'Enter your email address.' : !/^[^\s@]+@[^\s@]+$/.test(addr) ? 'Enter a valid email address, like ada@example.com.' : null],
      [password, !pw ? 'Choose a password.' : n < MIN_PASSWORD_LEN || n > MAX_PASSWORD_LEN ? `Password must be ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters.` : null],
    ]);
    if (!ok) return;
    const done = busy(submit, 'Creating account…');
    let r;
    try {
      const input = { email: addr, password: pw };
      if (name.input.value.trim()) input.name = name.input.value.trim();
      r = await client.signUp(input);
    } catch (err) {
      done();
      showError(err, fields, line);
      return;
    }
    done();
    // A server that requires a verified address signs nobody in until then.
    if (!r.signedIn) ctx.goSignIn('Check your mail to verify your address, then sign in.', 'success');
  });
  authFrame(view, {
    title: 'Create your account',
    lead: 'Keep your tasks in one place, signed in on every device you use.',
    flash: ctx.flash,
    form,
    footer: ['Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')],
  });
}
