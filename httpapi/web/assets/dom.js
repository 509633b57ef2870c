// Small DOM helpers. Every piece of text reaches the page through
// textContent or a text node, never through HTML parsing, so whatever a user
// typed is shown as typed and can never run.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'type', 'id', 'htmlFor', 'tabIndex']);

// h builds an element. props: class, text, on<event> listeners, a few DOM
// properties (value, checked, disabled, ...) and plain attributes (strings
// only; style and on* attributes are never set, the CSP forbids them).
// Children are nodes or strings (strings become text nodes); null, false and
// undefined are skipped, arrays are flattened.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPS.has(key)) el[key] = value;
    else if (key === 'style' || key.startsWith('on')) throw new Error('h: refusing attribute ' + key);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

// clear removes every child of el.
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let nextId = 0;
// uid returns a fresh id for label/aria wiring.
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// field builds a labelled input with a hint and an error line:
// { wrap, input, error, setError(text), label }. The error line is a live
// region, so a message put there is announced.
export function field({ label, name, type = 'text', hint, autocomplete, multiline = false, required = false, maxlength, value = '', rows }) {
  const id = uid('f-' + name);
  const hintId = hint ? id + '-hint' : null;
  const errorId = id + '-error';
  const input = multiline
    ? h('textarea', { id, name, rows: rows || 3, maxlength, class: 'input' })
    : h('input', { id, name, type, autocomplete, maxlength, class: 'input', spellcheck: type === 'text' ? null : 'false' });
  input.value = value;
  if (required) input.setAttribute('aria-required', 'true');
  input.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const error = h('p', { class: 'field-error', id: errorId, 'aria-live': 'polite' });
  const labelEl = h('label', { htmlFor: id, class: 'label' }, label);
  let control = input;
  if (type === 'password') control = passwordToggle(input);
  const wrap = h('div', { class: 'field' },
    labelEl,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    error);
  const setError = (text) => {
    error.textContent = text || '';
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  input.addEventListener('input', () => { if (error.textContent) setError(''); });
  return { wrap, input, error, setError, label: labelEl };
}

// passwordToggle wraps a password input with a Show/Hide button.
function passwordToggle(input) {
  const btn = h('button', { type: 'button', class: 'reveal', 'aria-controls': input.id, 'aria-pressed': 'false' }, 'Show');
  btn.addEventListener('click', () => {
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    btn.textContent = show ? 'Hide' : 'Show';
    btn.setAttribute('aria-pressed', String(show));
    input.focus();
  });
  return h('div', { class: 'password-wrap' }, input, btn);
}

// busy marks a submit button as working (disabled, with a spinner) and
// returns a function that undoes it.
export function busy(button, text) {
  const old = button.textContent;
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (text) button.textContent = text;
  return () => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = old;
    // A disabled button drops keyboard focus; give it back.
    if (hadFocus && button.isConnected && (document.activeElement === document.body || !document.activeElement)) button.focus();
  };
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// formatDate is a date and time in the reader's locale.
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
}

// formatTime is a time of day in the reader's locale.
export function formatTime(d) {
  return timeOnly.format(d);
}

// ago says how long ago iso was ("just now", "5 minutes ago", "yesterday").
export function ago(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(s / 3600), 'hour');
  if (abs < 86400 * 30) return relative.format(Math.round(s / 86400), 'day');
  return formatDate(iso);
}

// timeEl is a <time> showing a relative time, with the exact one as a tooltip.
export function timeEl(iso) {
  return h('time', { datetime: iso, title: formatDate(iso) }, ago(iso));
}

// duration says how long seconds is, roughly ("30 seconds", "4 minutes").
export function duration(seconds) {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const m = Math.ceil(seconds / 60);
  if (m < 60) return m === 1 ? '1 minute' : `${m} minutes`;
  const hr = Math.ceil(m / 60);
  return hr === 1 ? '1 hour' : `${hr} hours`;
}
