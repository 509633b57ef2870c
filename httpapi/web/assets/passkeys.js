// Passkeys: the Account screen's card (list, add, rename, remove) and the
// sign-in screen's "Sign in with a passkey" button. The ceremonies and
// their JSON are in webauthn.js.

import { client, LatchkeyError, SessionEndedError } from './latchkey.js';
import { busy, clear, field, formatDate, h, timeEl } from './dom.js';
import { check, clearErrors, describe, formError, showError } from './forms.js';
import { loading, message, show } from './recovery.js';
import { MAX_PASSKEY_NAME_LEN } from './limits.js';
import * as webauthn from './webauthn.js';

const NAME_HINT = 'Optional. A name to tell your passkeys apart, like “Work laptop”.';
// The server's limit of a passkey's name, in characters.

/**
 * passkeySignIn is the sign-in screen's passkey button, with what goes
 * wrong shown in line; null where the browser has no passkeys.
 */
export function passkeySignIn(line) {
  if (!webauthn.passkeysSupported()) return null;
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-block' }, 'Sign in with a passkey');
  button.addEventListener('click', async () => {
    line.show('');
    const done = busy(button, 'Waiting for your passkey…');
    try {
      const o = await client.passkeys.signInOptions();
      const credential = await webauthn.get(o.options);
      await client.passkeys.signIn({ challenge_id: o.challenge_id, credential });
    } catch (err) {
      done();
      line.show(webauthn.passkeyMessage(err, describe));
      return;
    }
    done();
  });
  return h('div', { class: 'auth-alt' }, h('p', { class: 'auth-or', 'aria-hidden': 'true' }, 'or'), button);
}

/** passkeysCard is the Account screen's "Passkeys" card. */
export function passkeysCard(ctx) {
  const pc = {
    ctx,
    list: h('ul', { class: 'passkey-list', 'aria-labelledby': 'passkeys-heading' }),
    status: h('div', { class: 'stack' }),
    box: h('div', { class: 'stack' }),
    count: 0,
  };
  const card = h('section', { class: 'card', 'aria-labelledby': 'passkeys-heading' },
    h('h2', { id: 'passkeys-heading', class: 'card-title' }, 'Passkeys'),
    h('p', { class: 'muted small passkeys-intro' }, 'Sign in with your fingerprint, face or device PIN instead of a password. A passkey also counts as your second factor.'),
    pc.status, pc.list, pc.box);
  if (!webauthn.passkeysSupported()) {
    pc.box.append(h('p', { class: 'muted small' }, 'This browser cannot make passkeys. You can still see and remove the ones you have.'));
  } else {
    addButton(pc);
  }
  loadPasskeys(pc);
  return card;
}

async function loadPasskeys(pc, quiet) {
  if (!quiet) show(pc.status, loading('Loading passkeys…'));
  let keys;
  try {
    keys = await client.passkeys.list();
  } catch (err) {
    if (err instanceof SessionEndedError) return;
    const retry = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
    retry.addEventListener('click', () => loadPasskeys(pc, false));
    clear(pc.status).append(h('div', { class: 'empty', role: 'alert' },
      h('p', { class: 'empty-title' }, 'Could not load your passkeys'), h('p', { class: 'muted' }, describe(err)), retry));
    return;
  }
  clear(pc.status);
  pc.count = keys.length;
  if (!keys.length) pc.status.append(h('p', { class: 'muted small', id: 'passkeys-none' }, 'You have no passkeys yet.'));
  clear(pc.list).append(...keys.map((k) => drawPasskey(pc, k)));
}

function drawPasskey(pc, k) {
  const nameId = `passkey-${k.id}`;
  const rename = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-describedby': nameId }, 'Rename');
  const remove = h('button', { type: 'button', class: 'btn btn-secondary btn-small btn-danger-text', 'aria-describedby': nameId }, 'Remove');
  const li = h('li', { class: 'passkey' },
    h('div', { class: 'passkey-body' },
      h('p', { class: 'passkey-name', id: nameId }, k.name || 'Passkey',
        k.backed_up ? h('span', { class: 'badge' }, 'Synced') : null),
      h('p', { class: 'session-meta' },
        h('span', null, 'Added ', h('time', { datetime: k.created_at }, formatDate(k.created_at))),
        h('span', null, 'Last used ', k.last_used_at ? timeEl(k.last_used_at) : 'never'))),
    h('div', { class: 'session-actions' }, rename, remove));
  rename.addEventListener('click', () => renameForm(pc, k, li));
  remove.addEventListener('click', () => removeForm(pc, k, li));
  return li;
}

// rowForm puts a form in a passkey's row in place of its buttons; Cancel
// (or Escape) puts them back.
function rowForm(li, form, back) {
  const actions = li.querySelector('.session-actions');
  actions.hidden = true;
  li.append(form);
  const cancel = () => {
    form.remove();
    actions.hidden = false;
    back.focus();
  };
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') cancel(); });
  form.querySelector('.btn-cancel').addEventListener('click', cancel);
  form.querySelector('input').focus();
}

// quiet takes away the message of an earlier addition.
function quiet(pc) {
  pc.box.querySelector('.notice')?.remove();
}

function renameForm(pc, k, li) {
  quiet(pc);
  const name = field({ label: 'New name', name: 'name', autocomplete: 'off', value: k.name || '', required: true, maxlength: MAX_PASSKEY_NAME_LEN });
  const line = formError();
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save name');
  const form = h('form', { class: 'form passkey-form', novalidate: true, 'aria-label': `Rename ${k.name || 'passkey'}` },
    line, name.wrap, h('div', { class: 'form-actions' }, save, h('button', { type: 'button', class: 'btn btn-secondary btn-small btn-cancel' }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ name }, line);
    const v = name.input.value.trim();
    if (!check([[name, v ? null : 'Enter a name.']])) return;
    const done = busy(save, 'Saving…');
    try {
      await client.passkeys.rename(k.id, v);
    } catch (err) {
      done();
      showError(err, { name }, line);
      return;
    }
    done();
    pc.ctx.toast(`Renamed the passkey to ${v}.`, 'success');
    await loadPasskeys(pc, true);
    focusRow(pc, k.id, 'Rename');
  });
  rowForm(li, form, li.querySelector('.session-actions button'));
}

function removeForm(pc, k, li) {
  quiet(pc);
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  const line = formError();
  const go = h('button', { type: 'submit', class: 'btn btn-danger btn-small' }, 'Remove passkey');
  const form = h('form', { class: 'form passkey-form', novalidate: true, 'aria-label': `Remove ${k.name || 'passkey'}` },
    h('p', { class: 'muted small' }, 'You will no longer be able to sign in with this passkey. Remove it from your device too.'),
    line, current.wrap, h('div', { class: 'form-actions' }, go, h('button', { type: 'button', class: 'btn btn-secondary btn-small btn-cancel' }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors({ current_password: current }, line);
    if (!check([[current, current.input.value ? null : 'Enter your current password.']])) return;
    const done = busy(go, 'Removing…');
    try {
      await client.passkeys.remove(k.id, { current_password: current.input.value });
    } catch (err) {
      done();
      showError(err, { current_password: current }, line);
      return;
    }
    done();
    pc.ctx.toast(`Removed the passkey ${k.name || ''}.`.replace(' .', '.'), 'success');
    await loadPasskeys(pc, true);
    const heading = document.getElementById('passkeys-heading');
    heading.tabIndex = -1;
    heading.focus();
  });
  rowForm(li, form, li.querySelectorAll('.session-actions button')[1]);
}

function focusRow(pc, id, label) {
  const row = document.getElementById(`passkey-${id}`)?.closest('.passkey');
  const b = row && [...row.querySelectorAll('button')].find((x) => x.textContent === label);
  if (b) b.focus();
}

function addButton(pc) {
  const add = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Add a passkey');
  add.addEventListener('click', () => addForm(pc));
  clear(pc.box).append(h('div', { class: 'form-actions' }, add));
  return add;
}

// addForm asks for a name and the current password, then runs the
// registration ceremony on this device.
function addForm(pc) {
  const name = field({ label: 'Passkey name', name: 'name', autocomplete: 'off', hint: NAME_HINT, maxlength: MAX_PASSKEY_NAME_LEN });
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  name.input.dataset.autofocus = '';
  const line = formError();
  const go = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create passkey');
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
  const fields = { name, current_password: current };
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Add a passkey' },
    line, name.wrap, current.wrap, h('div', { class: 'form-actions' }, go, cancel));
  cancel.addEventListener('click', () => addButton(pc).focus());
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') addButton(pc).focus(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(fields, line);
    if (!check([[current, current.input.value ? null : 'Enter your current password.']])) return;
    const done = busy(go, 'Waiting for your device…');
    let added;
    try {
      const o = await client.passkeys.registerOptions({ current_password: current.input.value });
      const credential = await webauthn.create(o.options);
      const body = { challenge_id: o.challenge_id, credential };
      if (name.input.value.trim()) body.name = name.input.value.trim();
      added = await client.passkeys.register(body);
    } catch (err) {
      done();
      if (err instanceof LatchkeyError && err.fieldErrors.some((f) => f.field === 'credential')) {
        line.show('Latchkey did not accept this passkey: your device must verify you, with a fingerprint, your face or a PIN.');
      } else if (err instanceof webauthn.PasskeyError || (err instanceof LatchkeyError && !err.fieldErrors.length)) {
        line.show(webauthn.passkeyMessage(err, describe));
      } else {
        showError(err, fields, line);
      }
      return;
    }
    done();
    await loadPasskeys(pc, true);
    addButton(pc);
    show(pc.box, message('success', 'Passkey added: ', h('strong', null, added.name || 'Passkey'), '. You can sign in with it now.'), ...pc.box.childNodes);
  });
  show(pc.box, form);
}
