// Account recovery and email: forgot password, reset (by link or code),
// verify the address (by link or code, and the banner that asks for it),
// and confirming a new address.
//
// A mailed link carries its one-time token in the URL fragment
// (#/reset?token=…), which never reaches a server. app.js takes it out of
// the URL at once and hands it to the view as ctx.token, in memory only; it
// leaves the browser only in the body of the view's POST. Opening a link
// sends nothing by itself: a mail scanner that fetches it uses nothing up.

import { client, LatchkeyError, SessionEndedError } from './latchkey.js';
import { busy, clear, field, h } from './dom.js';
import { authFrame, PASSWORD_RULE } from './auth.js';
import { chars, check, clearErrors, describe, formError, showError } from './forms.js';
import { MAX_PASSWORD_LEN, MIN_PASSWORD_LEN } from './limits.js';

// The address typed on the forgot screen, offered again by the reset
// screen's code form (memory only, like everything here).
let lastEmail = '';

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

function emailRule(f, what = 'your email address') {
  const v = f.input.value.trim();
  return [f, !v ? `Enter ${what}.` : !EMAIL_SHAPE.test(v) ? 'Enter a valid email address, like ada@example.com.' : null];
}

// codeField is a field for a mailed six-digit code: the numeric keypad on
// phones, and the code offered from the mail where the system can.
export function codeField(label = 'Code', hint = 'The 6-digit code from the mail.') {
  const f = field({ label, name: 'code', autocomplete: 'one-time-code', required: true, hint });
  f.input.setAttribute('inputmode', 'numeric');
  f.input.setAttribute('pattern', '[0-9]*');
  f.input.classList.add('input-code');
  return f;
}

// codeValue is what the person typed, without the spaces a copy may bring.
function codeValue(f) {
  return f.input.value.replace(/\s+/g, '');
}

function codeRule(f) {
  const v = codeValue(f);
  return [f, !v ? 'Enter the code from the mail.' : !/^[0-9]{6}$/.test(v) ? 'The code is 6 digits.' : null];
}

function passwordRule(f) {
  const n = chars(f.input.value);
  return [f, !f.input.value ? 'Choose a new password.' : n < MIN_PASSWORD_LEN || n > MAX_PASSWORD_LEN ? `New password must be ${MIN_PASSWORD_LEN} to ${MAX_PASSWORD_LEN} characters.` : null];
}

// isCode tells a refusal of this request by its code. A SessionEndedError
// is a LatchkeyError too, whose code (invalid_token, say) is the ended
// session's, not the request's.
function isCode(err, code) {
  return err instanceof LatchkeyError && !(err instanceof SessionEndedError) && err.code === code;
}

// message is a notice that is announced and can take focus, so that a
// screen whose form gave way to it tells keyboard and screen-reader users.
export function message(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', tabindex: '-1' }, ...children);
}

export function loading(text) {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

// show replaces what a box holds and moves focus to the first focusable
// thing in it (or the box's message).
export function show(box, ...nodes) {
  clear(box).append(...nodes.filter(Boolean));
  const target = box.querySelector('[data-autofocus]') || box.querySelector('.notice');
  if (target) target.focus();
}

// ---- Forgot password --------------------------------------------------

export function renderForgot(view, ctx) {
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email', required: true, value: lastEmail });
  email.input.dataset.autofocus = '';
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Send reset link');
  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'auth-title' }, line, email.wrap, submit);
  const box = h('div', { class: 'form' }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ email }, line);
    if (!check([emailRule(email)])) return;
    const addr = email.input.value.trim();
    const done = busy(submit, 'Sending…');
    try {
      await client.password.forgot(addr);
    } catch (err) {
      done();
      showError(err, { email }, line);
      return;
    }
    done();
    lastEmail = addr;
    const again = h('button', { type: 'button', class: 'btn btn-secondary btn-block' }, 'Use another address');
    again.addEventListener('click', () => {
      show(box, form);
      email.input.focus();
    });
    const enter = h('a', { href: '#/reset', class: 'btn btn-primary btn-block' }, 'Enter the code');
    show(box,
      message('success',
        'If an account exists for ', h('strong', null, addr),
        ', we sent a link and a code to it. Open the link, or enter the code here. It can take a minute; check your spam folder too.'),
      enter, again);
  });
  authFrame(view, {
    title: 'Forgot your password?',
    lead: 'Enter the email address of your account. We will mail you a link and a code to choose a new password.',
    flash: ctx.flash,
    form: box,
    footer: ['Remembered it? ', h('a', { href: '#/signin' }, 'Sign in')],
  });
}

// ---- Reset password ----------------------------------------------------

export function renderReset(view, ctx) {
  let token = ctx.token || null;
  const box = h('div', { class: 'form' });
  const byLink = () => {
    const { form, fields, line, submit, password } = resetForm(false);
    const other = h('button', { type: 'button', class: 'btn btn-ghost btn-block' }, 'I have a code instead');
    other.addEventListener('click', () => byCode());
    form.addEventListener('submit', (e) => submitReset(e, { fields, line, submit, body: () => ({ token, new_password: password.input.value }) }));
    show(box, form, other);
  };
  const byCode = (notice) => {
    token = null;
    ctx.forgetToken();
    const { form, fields, line, submit, password, email, code } = resetForm(true);
    form.addEventListener('submit', (e) => submitReset(e, {
      fields, line, submit,
      rules: [emailRule(email), codeRule(code)],
      body: () => ({ email: email.input.value.trim(), code: codeValue(code), new_password: password.input.value }),
    }));
    show(box, notice || null, form);
  };
  const dead = () => {
    // The link is no use any more: say so, and offer a new one or the code.
    token = null;
    ctx.forgetToken();
    const code = h('button', { type: 'button', class: 'btn btn-secondary btn-block' }, 'I have a code');
    code.addEventListener('click', () => byCode());
    show(box,
      message('error', 'This reset link is invalid, already used or expired. Ask for a new one below; it works once, for a short time.'),
      h('a', { href: '#/forgot', class: 'btn btn-primary btn-block', 'data-autofocus': '' }, 'Send me a new link'),
      code);
  };

  async function submitReset(e, { fields, line, submit, rules = [], body }) {
    e.preventDefault();
    clearErrors(fields, line);
    if (!check([...rules, passwordRule(fields.new_password)])) return;
    const done = busy(submit, 'Saving…');
    try {
      await client.password.reset(body());
    } catch (err) {
      done();
      if (isCode(err, 'invalid_token')) {
        if (token) {
          dead();
          return;
        }
        fields.code.setError('This code is wrong, already used or expired. Check it, or ask for a new one.');
        fields.code.input.focus();
        return;
      }
      // A weak password leaves the token as it was: the form stays.
      showError(err, fields, line);
      return;
    }
    token = null;
    ctx.forgetToken();
    // The reset ended every session, this one too if there was one: the
    // client has dropped it.
    ctx.goSignIn('Password changed. Sign in with your new password.', 'success');
  }

  if (token) byLink();
  else byCode();
  authFrame(view, {
    title: 'Choose a new password',
    lead: token
      ? 'Choose the password you will sign in with from now on. Your devices will be signed out.'
      : 'Enter the code we mailed you and the password you will sign in with from now on. Your devices will be signed out.',
    flash: ctx.flash,
    form: box,
    footer: ['No mail? ', h('a', { href: '#/forgot' }, 'Send a new link'), ' · ', h('a', { href: '#/signin' }, 'Sign in')],
  });
}

function resetForm(withCode) {
  const email = withCode ? field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email', required: true, value: lastEmail }) : null;
  const code = withCode ? codeField() : null;
  const password = field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, hint: PASSWORD_RULE });
  const first = email && email.input.value ? code : email || password;
  first.input.dataset.autofocus = '';
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set new password');
  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'auth-title' },
    line, email && email.wrap, code && code.wrap, password.wrap, submit);
  const fields = { new_password: password };
  if (withCode) Object.assign(fields, { email, code });
  return { form, fields, line, submit, password, email, code };
}

// ---- Verify the address --------------------------------------------------

// resend asks for a new verification mail and says so.
async function resend(ctx, button) {
  const done = busy(button, 'Sending…');
  try {
    await client.email.resendVerification();
  } catch (err) {
    done();
    if (!(err instanceof SessionEndedError)) ctx.toast(describe(err), 'error');
    return false;
  }
  done();
  const user = client.user;
  ctx.toast(`We sent a new link and code to ${user ? user.email : 'your address'}. At most one mail a minute goes out.`, 'success');
  return true;
}

export function renderVerify(view, ctx) {
  const user = ctx.user;
  const status = h('div', { class: 'stack' });
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email', required: true, value: user ? user.email : '' });
  const code = codeField();
  (user ? code : email).input.dataset.autofocus = '';
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Verify');
  const fields = { email, code };
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Verify with a code' }, line, email.wrap, code.wrap, submit);
  if (user) email.wrap.hidden = true; // a signed-in person verifies their own address

  const verified = (u) => {
    form.hidden = true;
    show(status,
      message('success', 'Your email address is verified. ', h('span', { class: 'muted' }, u.email)),
      user
        ? h('a', { href: '#/tasks', class: 'btn btn-primary btn-block' }, 'Go to your tasks')
        : h('a', { href: '#/signin', class: 'btn btn-primary btn-block' }, 'Continue to sign in'));
  };
  const failed = (err, retry) => {
    form.hidden = false;
    if (isCode(err, 'invalid_token')) {
      const parts = [message('error', 'This verification link is invalid, already used or expired. ',
        user ? 'Send yourself a new one, or enter the code from the latest mail.' : 'Sign in to get a new one, or enter the code from the latest mail.')];
      if (user && !user.email_verified) {
        const again = h('button', { type: 'button', class: 'btn btn-secondary btn-block' }, 'Send a new link');
        again.addEventListener('click', () => resend(ctx, again));
        parts.push(again);
      }
      show(status, ...parts);
      return;
    }
    const again = h('button', { type: 'button', class: 'btn btn-secondary btn-block' }, 'Try again');
    again.addEventListener('click', retry);
    show(status, message('error', describe(err)), again);
  };

  const byToken = async (token) => {
    form.hidden = true;
    show(status, loading('Verifying your email address…'));
    let u;
    try {
      // Signed in, the session's Bearer goes along: that session is kept.
      u = await client.email.verify({ token });
    } catch (err) {
      if (err instanceof SessionEndedError) return;
      failed(err, () => byToken(token));
      return;
    }
    verified(u);
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(fields, line);
    if (!check([emailRule(email), codeRule(code)])) return;
    const done = busy(submit, 'Verifying…');
    let u;
    try {
      u = await client.email.verify({ email: email.input.value.trim(), code: codeValue(code) });
    } catch (err) {
      done();
      if (isCode(err, 'invalid_token')) {
        code.setError('This code is wrong, already used or expired. Check it, or ask for a new one.');
        code.input.focus();
        return;
      }
      showError(err, fields, line);
      return;
    }
    done();
    verified(u);
  });

  authFrame(view, {
    title: 'Verify your email address',
    lead: 'Open the link from the mail we sent you, or enter its code here.',
    flash: ctx.flash,
    form: h('div', { class: 'form' }, status, form),
    footer: user ? [h('a', { href: '#/tasks' }, 'Back to your tasks')] : ['Already verified? ', h('a', { href: '#/signin' }, 'Sign in')],
  });

  // Only the POST uses the token, and only on the person's click: a mail
  // scanner that opens the link and runs the page verifies nothing.
  if (ctx.token) {
    const token = ctx.token;
    ctx.forgetToken();
    form.hidden = true;
    const go = h('button', { type: 'button', class: 'btn btn-primary btn-block' }, 'Verify my email address');
    go.addEventListener('click', () => byToken(token));
    show(status, h('p', null, 'Confirm that this address is yours. If you did not sign up, do not verify it.'), go);
    go.focus();
  }
}

// verifyBanner builds the banner shown while the signed-in person's address
// is not verified: resend, or enter the code. update(user, route) puts it
// before main, or takes it out of the page.
export function verifyBanner(ctx) {
  const addr = h('strong', null);
  const resendButton = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Resend');
  const codeButton = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-expanded': 'false' }, 'Enter code');
  const code = codeField('Verification code', null); // the banner's text says where it comes from
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Verify');
  const form = h('form', { class: 'banner-form', novalidate: true, 'aria-label': 'Verify your email with a code', hidden: true },
    line, code.wrap, h('div', { class: 'form-actions' }, submit));
  form.id = 'verify-banner-form';
  codeButton.setAttribute('aria-controls', form.id);
  const el = h('section', { class: 'banner', 'aria-labelledby': 'verify-banner-title' },
    h('div', { class: 'banner-inner' },
      h('div', { class: 'banner-text' },
        h('h2', { id: 'verify-banner-title', class: 'banner-title' }, 'Verify your email'),
        h('p', null, 'We sent a link and a code to ', addr, '. Open the link, or enter the code.')),
      h('div', { class: 'banner-actions' }, resendButton, codeButton),
      form));

  resendButton.addEventListener('click', () => resend(ctx, resendButton));
  codeButton.addEventListener('click', () => {
    const open = form.hidden;
    form.hidden = !open;
    codeButton.setAttribute('aria-expanded', String(open));
    if (open) code.input.focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ code }, line);
    if (!check([codeRule(code)])) return;
    const user = client.user;
    if (!user) return;
    const done = busy(submit, 'Verifying…');
    try {
      await client.email.verify({ email: user.email, code: codeValue(code) });
    } catch (err) {
      done();
      if (isCode(err, 'invalid_token')) {
        code.setError('This code is wrong, already used or expired. Check it, or resend for a new one.');
        code.input.focus();
      } else {
        showError(err, { code }, line);
      }
      return;
    }
    done();
    code.input.value = '';
    ctx.toast('Your email address is verified.', 'success');
  });

  const update = (user, route) => {
    const main = document.getElementById('main');
    const shown = Boolean(user) && user.email_verified === false && Boolean(user.email) && route !== '/verify';
    if (shown) {
      addr.textContent = user.email;
      if (!el.isConnected) main.before(el);
      return;
    }
    if (!el.isConnected) return;
    // Focus in a banner going away would be lost: take it to the page.
    const hadFocus = el.contains(document.activeElement);
    el.remove();
    form.hidden = true;
    codeButton.setAttribute('aria-expanded', 'false');
    clearErrors({ code }, line);
    if (hadFocus) main.focus();
  };
  return { el, update };
}

// ---- Change the address --------------------------------------------------

// changeCodeForm confirms an email change with the mailed code; onDone(user)
// runs after the change.
export function changeCodeForm(ctx, onDone) {
  const code = codeField();
  const line = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Confirm new address');
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Confirm your new email address' },
    line, code.wrap, h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ code }, line);
    if (!check([codeRule(code)])) return;
    const done = busy(submit, 'Confirming…');
    let u;
    try {
      u = await client.email.confirmChange({ code: codeValue(code) });
    } catch (err) {
      done();
      if (isCode(err, 'invalid_token')) {
        code.setError('This code is wrong, already used or expired. Check it, or ask for the change again.');
        code.input.focus();
      } else if (isCode(err, 'email_taken')) {
        line.show(EMAIL_TAKEN);
      } else {
        showError(err, { code }, line);
      }
      return;
    }
    done();
    onDone(u);
  });
  return { form, code, line, submit };
}

const EMAIL_TAKEN = 'That address now belongs to another account, so it cannot be yours. Ask for the change again with another address.';

// emailChangeCard is the Account screen's "Change email" card: the new
// address and the current password, then the mailed code. onChanged(user)
// runs after the change (which signed the other devices out).
export function emailChangeCard(ctx, onChanged) {
  const box = h('div', { class: 'stack' });
  const card = h('section', { class: 'card', 'aria-labelledby': 'email-heading' },
    h('h2', { id: 'email-heading', class: 'card-title' }, 'Change email'),
    box);

  const ask = () => {
    const next = field({ label: 'New email', name: 'new_email', type: 'email', autocomplete: 'email', required: true });
    const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
    const line = formError();
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send confirmation code');
    const fields = { new_email: next, current_password: current };
    const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'email-heading' },
      h('p', { class: 'muted small' }, 'We mail a code and a link to the new address; your address changes once you confirm. Your other devices will be signed out.'),
      line, next.wrap, current.wrap, h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(fields, line);
      if (!check([emailRule(next, 'the new address'), [current, current.input.value ? null : 'Enter your current password.']])) return;
      const addr = next.input.value.trim();
      const done = busy(submit, 'Sending…');
      try {
        await client.email.change({ new_email: addr, current_password: current.input.value });
      } catch (err) {
        done();
        showError(err, fields, line);
        return;
      }
      done();
      confirm(addr);
    });
    clear(box).append(form);
    return next;
  };

  const confirm = (addr) => {
    const c = changeCodeForm(ctx, (user) => {
      ctx.toast(`Your email address is now ${user.email}.`, 'success');
      onChanged(user);
      ask();
      // The form that had focus is gone: the card's heading takes it.
      const heading = card.querySelector('h2');
      heading.tabIndex = -1;
      heading.focus();
    });
    c.code.input.dataset.autofocus = '';
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
    cancel.addEventListener('click', () => ask().input.focus());
    c.form.querySelector('.form-actions').append(cancel);
    show(box,
      message('info', 'We sent a code and a link to ', h('strong', null, addr),
        '. Enter the code here, or open the link. If that address belongs to another account, nothing arrives.'),
      c.form);
    c.code.input.focus();
  };

  ask();
  return card;
}

// renderEmailChange is the screen of the mailed link (#/email-change),
// for the signed-in person who asked (app.js has them sign in first).
export function renderEmailChange(view, ctx) {
  view.dataset.title = 'Confirm your new email address';
  const status = h('div', { class: 'stack' });
  const done = (user) => {
    code.form.hidden = true;
    show(status,
      message('success', 'Your email address is now ', h('strong', null, user.email), '.'),
      h('div', { class: 'form-actions' }, h('a', { href: '#/account', class: 'btn btn-primary' }, 'Go to your account')));
  };
  const code = changeCodeForm(ctx, done);
  view.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Confirm your new email address'),
      h('p', { class: 'muted' }, 'Open the link from the mail sent to your new address, or enter its code.')),
    h('section', { class: 'card stack', 'aria-label': 'Email change' }, status, code.form));

  const byToken = async (token) => {
    code.form.hidden = true;
    show(status, loading('Confirming your new email address…'));
    let u;
    try {
      u = await client.email.confirmChange({ token });
    } catch (err) {
      if (err instanceof SessionEndedError) return;
      code.form.hidden = false;
      if (isCode(err, 'invalid_token')) {
        show(status,
          message('error', 'This link is invalid, already used or expired, or it was sent to another account. Ask for the change again from your account, or enter the code from the latest mail.'),
          h('div', { class: 'form-actions' }, h('a', { href: '#/account', class: 'btn btn-secondary' }, 'Go to your account')));
      } else if (isCode(err, 'email_taken')) {
        show(status, message('error', EMAIL_TAKEN));
      } else {
        const again = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
        again.addEventListener('click', () => byToken(token));
        show(status, message('error', describe(err)), again);
      }
      return;
    }
    done(u);
  };
  if (ctx.token) {
    const token = ctx.token;
    ctx.forgetToken();
    byToken(token);
  } else {
    code.code.input.dataset.autofocus = '';
  }
}
