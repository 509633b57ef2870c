// The example's one module: @latchkey/client against Latchkey alone, on
// Latchkey's origin. The client keeps the access token in memory and the
// refresh token in the HttpOnly cookie; this page stores nothing itself.

import { createClient, SessionEndedError } from "./client/index.js";

const client = createClient(); // baseUrl "": this page's origin
const $ = (id) => document.getElementById(id);

function showError(e) {
  $("error").textContent = e ? e.message + (e.code ? ` (${e.code})` : "") : "";
}

async function render() {
  const user = client.user;
  $("who").textContent = user ? `Signed in as ${user.email}` : "Not signed in";
  $("signed-out").hidden = !!user;
  $("signed-in").hidden = !user;
  if (user) await loadTasks();
  else $("tasks").replaceChildren();
}

async function loadTasks() {
  const { tasks } = await client.tasks.list();
  $("tasks").replaceChildren(
    ...tasks.map((t) => {
      const li = document.createElement("li");
      li.className = "task";
      const title = document.createElement("span");
      title.className = "task-title";
      title.textContent = t.title;
      li.append(title);
      return li;
    }),
  );
}

// run does what a button asks, showing a refusal instead of throwing.
async function run(fn) {
  showError(null);
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof SessionEndedError) || !$("error").textContent) showError(e);
  }
}

// Each change of who is signed in redraws the page (after the first draw).
let booted = false;
client.onAuthChange((change) => {
  if (change.type === "ended") showError({ message: "Your session has ended. Please sign in again.", code: change.code });
  if (booted) render().catch(showError);
});

$("auth").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = { email: $("email").value, password: $("password").value };
  run(async () => {
    if (ev.submitter?.value === "signin") await client.signIn(input);
    else await client.signUp(input);
    $("password").value = "";
  });
});

$("new-task").addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(async () => {
    await client.tasks.create({ title: $("title").value });
    $("title").value = "";
    await loadTasks();
  });
});

$("signout").addEventListener("click", () => run(() => client.signOut()));

// At load: resume the session from the cookie, if there is one.
try {
  const { ended } = await client.restore();
  if (ended) showError({ message: "Your session has ended. Please sign in again." });
} catch (e) {
  showError(e); // Latchkey could not be reached: signed out for now
}
await render().catch(showError);
booted = true;
$("boot").remove();
