// Latchkey's web app: boot, routing and the frame around the views.
//
// Routes live in the URL fragment (#/signin, #/signup, #/tasks, #/account),
// so the server has a single page to serve and a reload keeps the view.
// Mailed links open #/reset, #/verify and #/email-change with ?token=…;
// the token is taken out of the URL before anything else happens.

import { client } from './latchkey.js';
import { clear, h } from './dom.js';
import { renderSignIn, renderSignUp } from './auth.js';
import { renderEmailChange, renderForgot, renderReset, renderVerify, verifyBanner } from './recovery.js';
import { renderTasks } from './tasks.js';
import { renderAccount } from './account.js';
import { describe } from './forms.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const userName = document.getElementById('user-name');
const signOutButton = document.getElementById('sign-out');
const toastRegion = document.getElementById('toast');

// PUBLIC routes are for visitors (signed in, one goes to the tasks);
// PRIVATE ones need a session (signed out, one signs in first and comes
// back); ANY serve both: a mailed link works whoever opens it.
// (Forgot is for both: a signed-in person who forgot the password cannot
// change it on Account, which asks for the current one.)
const PUBLIC = { '/signin': renderSignIn, '/signup': renderSignUp };
const PRIVATE = { '/tasks': renderTasks, '/account': renderAccount, '/email-change': renderEmailChange };
const ANY = { '/forgot': renderForgot, '/reset': renderReset, '/verify': renderVerify };

// The one-time tokens of mailed links, by route, in memory only: never in
// web storage, never in a URL the server sees, and gone with the tab. A
// view sends its token only in the body of its POST.
const LINKS = new Set(['/reset', '/verify', '/email-change']);
const linkTokens = new Map();

// takeLinkToken moves a link's token from the URL into linkTokens and
// drops the query from the URL (history.replaceState, so no history entry
// keeps it).
function takeLinkToken() {
  const m = /^#(\/[^?]*)\?(.*)$/.exec(location.hash);
  if (!m) return;
  const token = new URLSearchParams(m[2]).get('token');
  if (token && LINKS.has(m[1])) linkTokens.set(m[1], token);
  history.replaceState(null, '', '#' + m[1]);
}
takeLinkToken();

let flash = null; // a message for the next sign-in screen: { text, kind }
let returnTo = null; // the private route to go back to after signing in
let booted = false;
let rendered = false;

// toast announces text (aria-live) and shows it briefly.
let toastTimer = 0;
export function toast(text, kind = 'info') {
  clearTimeout(toastTimer);
  clear(toastRegion);
  toastRegion.append(h('div', { class: `toast toast-${kind}` }, text));
  toastTimer = setTimeout(() => clear(toastRegion), 5000);
}

function currentRoute() {
  const r = location.hash.replace(/^#/, '').replace(/\?.*$/, '');
  return PUBLIC[r] || PRIVATE[r] || ANY[r] ? r : '';
}

// The banner asking to verify the address, above every signed-in view.
const banner = verifyBanner({ toast });

export function navigate(route) {
  if (location.hash === '#' + route) render();
  else location.hash = route;
}

// render draws the view for the current route, sending a signed-out visitor
// to sign-in and a signed-in one away from it.
function render() {
  if (!booted) return;
  takeLinkToken();
  let route = currentRoute();
  const user = client.user;
  if (user) {
    if (!PRIVATE[route] && !ANY[route]) {
      route = returnTo || '/tasks';
      returnTo = null;
      history.replaceState(null, '', '#' + route);
    }
  } else if (!PUBLIC[route] && !ANY[route]) {
    if (PRIVATE[route]) returnTo = route;
    if (route === '/email-change' && linkTokens.has(route)) {
      flash = { text: 'Sign in to confirm your new email address.', kind: 'info' };
    }
    route = '/signin';
    history.replaceState(null, '', '#' + route);
  }
  document.body.classList.toggle('signed-in', Boolean(user));
  topbar.hidden = !user;
  shownRoute = route;
  frame(user);
  if (user) {
    for (const [id, r] of [['nav-tasks', '/tasks'], ['nav-account', '/account']]) {
      const link = document.getElementById(id);
      if (r === route) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }
  const view = h('div', { class: 'view' });
  clear(main).append(view);
  const ctx = {
    toast, navigate, user, flash: null, goSignIn,
    token: linkTokens.get(route) || null, // a mailed link's token, for this view only
    forgetToken: () => linkTokens.delete(route),
  };
  if (!user) {
    ctx.flash = flash;
    flash = null;
  }
  (PUBLIC[route] || PRIVATE[route] || ANY[route])(view, ctx);
  document.title = (view.dataset.title ? view.dataset.title + ' · ' : '') + 'Latchkey';
  // Keyboard and screen-reader users land on the new view: its first field
  // when it asks for one, else its heading (not on the very first render).
  const auto = view.querySelector('[data-autofocus]');
  const heading = view.querySelector('h1');
  if (auto) auto.focus();
  else if (rendered && heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
  rendered = true;
}

// frame shows what the top of every view says about the user: the name,
// and the banner while the address is not verified.
let shownRoute = '';
function frame(user) {
  if (user) userName.textContent = user.name || user.email;
  banner.update(user, shownRoute);
}

// goSignIn shows the sign-in screen with a message.
function goSignIn(text, kind = 'info') {
  flash = text ? { text, kind } : null;
  clearTimeout(toastTimer);
  clear(toastRegion);
  navigate('/signin');
}

client.onAuthChange(({ type }) => {
  switch (type) {
    case 'signedin':
      navigate(returnTo || '/tasks');
      returnTo = null;
      break;
    case 'ended':
      if (PRIVATE[currentRoute()]) returnTo = currentRoute();
      goSignIn('Your session has ended. Please sign in again.', 'warning');
      break;
    case 'signedout':
      returnTo = null;
      goSignIn('You have signed out.');
      break;
    case 'remote-signout':
      returnTo = null;
      goSignIn('You signed out in another tab.');
      break;
    case 'remote-signin':
      // Another tab signed in: pick the session up from the cookie.
      client.restore().then((r) => { if (r.user) navigate('/tasks'); }, () => {});
      break;
    case 'user-changed':
      render();
      break;
    case 'user-updated':
      frame(client.user);
      break;
  }
});

signOutButton.addEventListener('click', async () => {
  signOutButton.disabled = true;
  try {
    await client.signOut();
  } finally {
    signOutButton.disabled = false;
  }
});

document.getElementById('skip-link').addEventListener('click', () => {
  const target = main.querySelector('h1') || main;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
});

window.addEventListener('hashchange', render);

// Coming back to the tab: find out at once whether the session still holds
// (a revocation from another device shows now, not at the next click).
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && client.user) {
    client.me().catch(() => {});
  }
});

async function boot() {
  try {
    const r = await client.restore();
    if (!r.user && r.ended) flash = { text: 'Your session has ended. Please sign in again.', kind: 'warning' };
  } catch (err) {
    flash = { text: `Could not restore your session. ${describe(err)}`, kind: 'error' };
  }
  booted = true;
  render();
}

boot();
