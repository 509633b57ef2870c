// The task list: add, edit, complete, delete, filter, load more.
//
// renderTasks builds the screen; its state lives in one object, s, handed to
// the functions below, so each can be read on its own. A task's row is
// redrawn in place as it moves between viewing, editing and confirming a
// delete.

import { client, LatchkeyError, SessionEndedError } from './latchkey.js';
import { busy, clear, field, h, timeEl, uid } from './dom.js';
import { clearErrors, describe, formError, showError } from './forms.js';
import { MAX_TASK_DESC_LEN, MAX_TASK_TITLE_LEN } from './limits.js';

const PAGE = 20;
const FILTERS = [
  ['all', 'All'],
  ['pending', 'Pending'],
  ['completed', 'Completed'],
];
const EMPTY = {
  all: ['No tasks yet', 'Add your first task above and it will show up here.'],
  pending: ['Nothing pending', 'Every task is done. Nice work.'],
  completed: ['No completed tasks yet', 'Tick a task’s checkbox when it’s done and it will show up here.'],
};

function matches(filter, task) {
  return filter === 'all' || (filter === 'completed') === task.completed;
}

// onEscape lets Escape back out of an edit or a delete confirmation.
function onEscape(el, fn) {
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      fn();
    }
  });
}

export function renderTasks(view, ctx) {
  view.dataset.title = 'Tasks';
  const add = addForm();
  const s = {
    ctx,
    filter: 'all',
    cursor: null,
    loadSeq: 0, // the latest load; an answer to an older one is dropped
    items: new Map(), // task id -> { task, li, pending }
    list: h('ul', { class: 'task-list', 'aria-labelledby': 'list-heading' }),
    status: h('div', { class: 'list-status' }),
    moreButton: h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, 'Load more'),
    titleInput: add.title.input, // focus lands here when the last task goes
  };
  view.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Tasks'),
      h('p', { class: 'muted' }, 'Newest first. Tick a task when it’s done.')),
    h('section', { class: 'card' }, add.form),
    h('section', { class: 'card list-card', 'aria-labelledby': 'list-heading' },
      h('div', { class: 'list-toolbar' },
        h('h2', { id: 'list-heading', class: 'card-title' }, 'Your tasks'),
        h('div', { class: 'segmented', role: 'group', 'aria-label': 'Filter tasks' }, filterButtons(s))),
      s.status, s.list, h('div', { class: 'list-footer' }, s.moreButton)));
  add.form.addEventListener('submit', (e) => submitAdd(s, add, e));
  s.moreButton.addEventListener('click', () => load(s, true));
  load(s, false);
}

function addForm() {
  const title = field({ label: 'Title', name: 'title', maxlength: MAX_TASK_TITLE_LEN, required: true });
  const description = field({ label: 'Description', name: 'description', multiline: true, rows: 2, maxlength: MAX_TASK_DESC_LEN, hint: 'Optional.' });
  const line = formError();
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add task');
  const form = h('form', { class: 'form add-form', novalidate: true, 'aria-labelledby': 'add-heading' },
    h('h2', { id: 'add-heading', class: 'card-title' }, 'New task'),
    line, title.wrap, description.wrap,
    h('div', { class: 'form-actions' }, button));
  return { form, line, button, title, description, fields: { title, description } };
}

async function submitAdd(s, add, e) {
  e.preventDefault();
  const { title, description } = add;
  clearErrors(add.fields, add.line);
  const t = title.input.value.trim();
  if (!t) {
    title.setError('Give the task a title.');
    title.input.focus();
    return;
  }
  const body = { title: t };
  if (description.input.value.trim()) body.description = description.input.value;
  const done = busy(add.button, 'Adding…');
  try {
    const task = await client.tasks.create(body);
    title.input.value = '';
    description.input.value = '';
    if (matches(s.filter, task)) {
      s.list.prepend(renderItem(s, task));
      showStatus(s);
    }
    s.ctx.toast(s.filter === 'completed' ? 'Task added. It is listed under Pending.' : 'Task added.', 'success');
    title.input.focus();
  } catch (err) {
    showError(err, add.fields, add.line);
  } finally {
    done();
  }
}

function filterButtons(s) {
  const buttons = FILTERS.map(([value, label]) => {
    const b = h('button', { type: 'button', class: 'segment', 'aria-pressed': String(value === s.filter) }, label);
    b.addEventListener('click', () => {
      if (s.filter === value) return;
      s.filter = value;
      for (const other of buttons) other.setAttribute('aria-pressed', String(other === b));
      load(s, false);
    });
    return b;
  });
  return buttons;
}

// load fetches the first page for the filter (more=false) or the next one.
async function load(s, more) {
  const seq = ++s.loadSeq;
  if (!more) {
    s.cursor = null;
    s.items.clear();
    clear(s.list);
    s.list.setAttribute('aria-busy', 'true');
    s.moreButton.hidden = true;
    showLoading(s);
  } else {
    s.moreButton.disabled = true;
    s.moreButton.textContent = 'Loading…';
  }
  let page;
  try {
    page = await client.tasks.list({ status: s.filter, limit: PAGE, cursor: more ? s.cursor : null });
  } catch (err) {
    if (seq !== s.loadSeq || err instanceof SessionEndedError) return;
    loadFailed(s, more, err);
    return;
  }
  if (seq !== s.loadSeq) return;
  showPage(s, page, more);
}

function loadFailed(s, more, err) {
  s.list.removeAttribute('aria-busy');
  s.moreButton.disabled = false;
  s.moreButton.textContent = 'Load more';
  if (more) {
    s.ctx.toast(describe(err), 'error');
  } else {
    showLoadError(s, err);
  }
}

function showPage(s, page, more) {
  s.list.removeAttribute('aria-busy');
  let firstNew = null;
  for (const task of page.tasks || []) {
    if (s.items.has(task.id)) continue; // added here meanwhile, already shown
    const li = renderItem(s, task);
    s.list.append(li);
    firstNew = firstNew || li;
  }
  s.cursor = page.next_cursor || null;
  s.moreButton.hidden = !s.cursor;
  s.moreButton.disabled = false;
  s.moreButton.textContent = 'Load more';
  showStatus(s);
  if (more) {
    s.ctx.toast(`Loaded ${page.tasks.length} more ${page.tasks.length === 1 ? 'task' : 'tasks'}.`);
    // Keep keyboard focus in the list rather than on a vanished button.
    if (firstNew && (s.moreButton.hidden || document.activeElement === document.body)) firstNew.querySelector('input').focus();
  }
}

function showLoading(s) {
  clear(s.status).append(h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading tasks…'));
}

function showLoadError(s, err) {
  const retry = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
  retry.addEventListener('click', () => load(s, false));
  clear(s.status).append(h('div', { class: 'empty', role: 'alert' },
    h('p', { class: 'empty-title' }, 'Could not load your tasks'),
    h('p', { class: 'muted' }, describe(err)), retry));
}

// showStatus shows the empty state when no task is listed.
function showStatus(s) {
  clear(s.status);
  if (s.list.children.length === 0 && !s.cursor) {
    const [head, text] = EMPTY[s.filter];
    s.status.append(h('div', { class: 'empty' },
      h('p', { class: 'empty-title' }, head),
      h('p', { class: 'muted' }, text)));
  }
}

// renderItem builds the row of a task and remembers it.
function renderItem(s, task) {
  const li = h('li', { class: 'task' });
  s.items.set(task.id, { task, li });
  drawView(s, task.id);
  return li;
}

function replaceContent(s, id, ...nodes) {
  const { li } = s.items.get(id);
  clear(li).append(...nodes);
  return li;
}

// drawView shows a task as a row; focus names the control to focus, so that
// keyboard users come back where they left from an edit or a confirmation.
function drawView(s, id, focus) {
  const { task } = s.items.get(id);
  const checkId = uid('task');
  const titleId = checkId + '-title';
  const check = h('input', { type: 'checkbox', id: checkId, class: 'check', checked: task.completed, 'aria-labelledby': titleId });
  const label = h('label', { htmlFor: checkId, id: titleId, class: 'task-title' }, task.title);
  const edit = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-describedby': titleId }, 'Edit');
  const del = h('button', { type: 'button', class: 'btn btn-ghost btn-small btn-danger-text', 'aria-describedby': titleId }, 'Delete');
  const li = replaceContent(s, id,
    check,
    h('div', { class: 'task-body' },
      label,
      task.description ? h('p', { class: 'task-desc' }, task.description) : null,
      h('p', { class: 'task-meta' }, 'Added ', timeEl(task.created_at))),
    h('div', { class: 'task-actions' }, edit, del));
  li.classList.toggle('done', task.completed);
  check.addEventListener('change', () => toggle(s, id, check));
  edit.addEventListener('click', () => drawEdit(s, id));
  del.addEventListener('click', () => drawConfirm(s, id));
  if (focus === 'edit') edit.focus();
  else if (focus === 'delete') del.focus();
  else if (focus === 'check') check.focus();
}

async function toggle(s, id, check) {
  const entry = s.items.get(id);
  const want = check.checked;
  if (entry.pending) {
    // One change at a time; the box shows the state being saved.
    check.checked = !want;
    return;
  }
  // Not disabled while saving: that would drop keyboard focus.
  entry.pending = true;
  check.setAttribute('aria-busy', 'true');
  try {
    const task = await client.tasks.complete(id, want);
    entry.task = task;
    entry.li.classList.toggle('done', task.completed);
    check.checked = task.completed;
    s.ctx.toast(task.completed ? `Marked “${task.title}” as completed.` : `Marked “${task.title}” as pending.`, 'success');
    if (!matches(s.filter, task)) removeItem(s, id);
  } catch (err) {
    check.checked = !want;
    if (err instanceof SessionEndedError) return;
    s.ctx.toast(describe(err), 'error');
    if (err instanceof LatchkeyError && err.status === 404) removeItem(s, id);
  } finally {
    entry.pending = false;
    check.removeAttribute('aria-busy');
  }
}

function drawEdit(s, id) {
  const { task } = s.items.get(id);
  const title = field({ label: 'Title', name: 'title', maxlength: MAX_TASK_TITLE_LEN, value: task.title, required: true });
  const description = field({ label: 'Description', name: 'description', multiline: true, rows: 3, maxlength: MAX_TASK_DESC_LEN, value: task.description || '' });
  const line = formError();
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Cancel');
  const form = h('form', { class: 'form edit-form', novalidate: true, 'aria-label': 'Edit task' },
    line, title.wrap, description.wrap, h('div', { class: 'form-actions' }, save, cancel));
  replaceContent(s, id, form);
  cancel.addEventListener('click', () => drawView(s, id, 'edit'));
  onEscape(form, () => drawView(s, id, 'edit'));
  const edit = { line, save, title, description, fields: { title, description } };
  form.addEventListener('submit', (e) => submitEdit(s, id, edit, e));
  title.input.focus();
  title.input.select();
}

async function submitEdit(s, id, edit, e) {
  e.preventDefault();
  const { title, description } = edit;
  clearErrors(edit.fields, edit.line);
  const newTitle = title.input.value.trim();
  if (!newTitle) {
    title.setError('Give the task a title.');
    title.input.focus();
    return;
  }
  const done = busy(edit.save, 'Saving…');
  try {
    const updated = await client.tasks.update(id, { title: newTitle, description: description.input.value });
    s.items.get(id).task = updated;
    drawView(s, id, 'edit');
    s.ctx.toast('Task saved.', 'success');
  } catch (err) {
    done();
    showError(err, edit.fields, edit.line);
    if (err instanceof LatchkeyError && err.status === 404) removeItem(s, id);
  }
}

function drawConfirm(s, id) {
  const { task } = s.items.get(id);
  const promptId = uid('confirm');
  const yes = h('button', { type: 'button', class: 'btn btn-danger btn-small', 'aria-describedby': promptId }, 'Delete');
  const no = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Cancel');
  const box = h('div', { class: 'confirm', role: 'group', 'aria-labelledby': promptId },
    h('p', { id: promptId, class: 'confirm-text' }, 'Delete “', h('span', { class: 'confirm-title' }, task.title), '”? This cannot be undone.'),
    h('div', { class: 'confirm-actions' }, yes, no));
  replaceContent(s, id, box);
  no.addEventListener('click', () => drawView(s, id, 'delete'));
  onEscape(box, () => drawView(s, id, 'delete'));
  yes.addEventListener('click', () => deleteTask(s, id, yes, no));
  yes.focus();
}

async function deleteTask(s, id, yes, no) {
  const done = busy(yes, 'Deleting…');
  no.disabled = true;
  try {
    await client.tasks.remove(id);
  } catch (err) {
    if (err instanceof SessionEndedError) return;
    // A task already gone elsewhere is as good as deleted here.
    if (!(err instanceof LatchkeyError && err.status === 404)) {
      done();
      no.disabled = false;
      s.ctx.toast(describe(err), 'error');
      return;
    }
  }
  removeItem(s, id, true);
  s.ctx.toast('Task deleted.', 'success');
}

// removeItem takes a task off the list; with moveFocus, keyboard focus
// goes to the next task (or the previous, or the title field).
function removeItem(s, id, moveFocus) {
  const entry = s.items.get(id);
  if (!entry) return;
  const next = entry.li.nextElementSibling || entry.li.previousElementSibling;
  entry.li.remove();
  s.items.delete(id);
  showStatus(s);
  if (moveFocus) {
    const target = next && next.querySelector('input[type=checkbox]');
    (target || s.titleInput).focus();
  }
}
