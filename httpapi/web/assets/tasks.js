// The task list: add, edit, complete, delete, filter, load more.

import * as api from './api.js';
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

export function renderTasks(view, ctx) {
  view.dataset.title = 'Tasks';
  let filter = 'all';
  let cursor = null;
  let loadSeq = 0;
  const items = new Map(); // task id -> { task, li }

  // Adding.
  const title = field({ label: 'Title', name: 'title', maxlength: MAX_TASK_TITLE_LEN, required: true });
  const description = field({ label: 'Description', name: 'description', multiline: true, rows: 2, maxlength: MAX_TASK_DESC_LEN, hint: 'Optional.' });
  const addLine = formError();
  const addButton = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add task');
  const addFields = { title, description };
  const addForm = h('form', { class: 'form add-form', novalidate: true, 'aria-labelledby': 'add-heading' },
    h('h2', { id: 'add-heading', class: 'card-title' }, 'New task'),
    addLine, title.wrap, description.wrap,
    h('div', { class: 'form-actions' }, addButton));

  // Listing.
  const filterButtons = FILTERS.map(([value, label]) => {
    const b = h('button', { type: 'button', class: 'segment', 'aria-pressed': String(value === filter) }, label);
    b.addEventListener('click', () => {
      if (filter === value) return;
      filter = value;
      for (const other of filterButtons) other.setAttribute('aria-pressed', String(other === b));
      load(false);
    });
    return b;
  });
  const list = h('ul', { class: 'task-list', 'aria-labelledby': 'list-heading' });
  const status = h('div', { class: 'list-status' });
  const moreButton = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, 'Load more');
  const footer = h('div', { class: 'list-footer' }, moreButton);

  view.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Tasks'),
      h('p', { class: 'muted' }, 'Newest first. Tick a task when it’s done.')),
    h('section', { class: 'card' }, addForm),
    h('section', { class: 'card list-card', 'aria-labelledby': 'list-heading' },
      h('div', { class: 'list-toolbar' },
        h('h2', { id: 'list-heading', class: 'card-title' }, 'Your tasks'),
        h('div', { class: 'segmented', role: 'group', 'aria-label': 'Filter tasks' }, filterButtons)),
      status, list, footer));

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(addFields, addLine);
    const t = title.input.value.trim();
    if (!t) {
      title.setError('Give the task a title.');
      title.input.focus();
      return;
    }
    const body = { title: t };
    if (description.input.value.trim()) body.description = description.input.value;
    const done = busy(addButton, 'Adding…');
    try {
      const task = await api.call('POST', api.tasksPath(), body);
      title.input.value = '';
      description.input.value = '';
      if (matches(filter, task)) {
        const li = renderItem(task);
        list.prepend(li);
        showStatus();
      }
      ctx.toast(filter === 'completed' ? 'Task added. It is listed under Pending.' : 'Task added.', 'success');
      title.input.focus();
    } catch (err) {
      showError(err, addFields, addLine);
    } finally {
      done();
    }
  });

  moreButton.addEventListener('click', () => load(true));

  // load fetches the first page for the filter (more=false) or the next one.
  async function load(more) {
    const seq = ++loadSeq;
    if (!more) {
      cursor = null;
      items.clear();
      clear(list);
      list.setAttribute('aria-busy', 'true');
      moreButton.hidden = true;
      showLoading();
    } else {
      moreButton.disabled = true;
      moreButton.textContent = 'Loading…';
    }
    const q = new URLSearchParams({ status: filter, limit: String(PAGE) });
    if (more && cursor) q.set('cursor', cursor);
    let page;
    try {
      page = await api.call('GET', `${api.tasksPath()}?${q}`);
    } catch (err) {
      if (seq !== loadSeq || err instanceof api.SessionEnded) return;
      list.removeAttribute('aria-busy');
      moreButton.disabled = false;
      moreButton.textContent = 'Load more';
      if (more) {
        ctx.toast(describe(err), 'error');
      } else {
        showLoadError(err);
      }
      return;
    }
    if (seq !== loadSeq) return;
    list.removeAttribute('aria-busy');
    let firstNew = null;
    for (const task of page.tasks || []) {
      if (items.has(task.id)) continue; // added here meanwhile, already shown
      const li = renderItem(task);
      list.append(li);
      firstNew = firstNew || li;
    }
    cursor = page.next_cursor || null;
    moreButton.hidden = !cursor;
    moreButton.disabled = false;
    moreButton.textContent = 'Load more';
    showStatus();
    if (more) {
      ctx.toast(`Loaded ${page.tasks.length} more ${page.tasks.length === 1 ? 'task' : 'tasks'}.`);
      // Keep keyboard focus in the list rather than on a vanished button.
      if (firstNew && (moreButton.hidden || document.activeElement === document.body)) firstNew.querySelector('input').focus();
    }
  }

  function showLoading() {
    clear(status).append(h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading tasks…'));
  }

  function showLoadError(err) {
    const retry = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
    retry.addEventListener('click', () => load(false));
    clear(status).append(h('div', { class: 'empty', role: 'alert' },
      h('p', { class: 'empty-title' }, 'Could not load your tasks'),
      h('p', { class: 'muted' }, describe(err)), retry));
  }

  // showStatus shows the empty state when no task is listed.
  function showStatus() {
    clear(status);
    if (list.children.length === 0 && !cursor) {
      const [head, text] = EMPTY[filter];
      status.append(h('div', { class: 'empty' },
        h('p', { class: 'empty-title' }, head),
        h('p', { class: 'muted' }, text)));
    }
  }

  // renderItem builds the row of a task and remembers it.
  function renderItem(task) {
    const li = h('li', { class: 'task' });
    items.set(task.id, { task, li });
    drawView(task.id);
    return li;
  }

  function replaceContent(id, ...nodes) {
    const { li } = items.get(id);
    clear(li).append(...nodes);
    return li;
  }

  function drawView(id, focus) {
    const { task } = items.get(id);
    const checkId = uid('task');
    const titleId = checkId + '-title';
    const check = h('input', { type: 'checkbox', id: checkId, class: 'check', checked: task.completed, 'aria-labelledby': titleId });
    const label = h('label', { htmlFor: checkId, id: titleId, class: 'task-title' }, task.title);
    const edit = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-describedby': titleId }, 'Edit');
    const del = h('button', { type: 'button', class: 'btn btn-ghost btn-small btn-danger-text', 'aria-describedby': titleId }, 'Delete');
    const li = replaceContent(id,
      check,
      h('div', { class: 'task-body' },
        label,
        task.description ? h('p', { class: 'task-desc' }, task.description) : null,
        h('p', { class: 'task-meta' }, 'Added ', timeEl(task.created_at))),
      h('div', { class: 'task-actions' }, edit, del));
    li.classList.toggle('done', task.completed);
    check.addEventListener('change', () => toggle(id, check));
    edit.addEventListener('click', () => drawEdit(id));
    del.addEventListener('click', () => drawConfirm(id));
    if (focus === 'edit') edit.focus();
    else if (focus === 'delete') del.focus();
    else if (focus === 'check') check.focus();
  }

  async function toggle(id, check) {
    const entry = items.get(id);
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
      const task = await api.call('PATCH', `${api.tasksPath()}/${encodeURIComponent(id)}`, { completed: want });
      entry.task = task;
      entry.li.classList.toggle('done', task.completed);
      check.checked = task.completed;
      ctx.toast(task.completed ? `Marked “${task.title}” as completed.` : `Marked “${task.title}” as pending.`, 'success');
      if (!matches(filter, task)) removeItem(id);
    } catch (err) {
      check.checked = !want;
      if (err instanceof api.SessionEnded) return;
      ctx.toast(describe(err), 'error');
      if (err instanceof api.ApiError && err.status === 404) removeItem(id);
    } finally {
      entry.pending = false;
      check.removeAttribute('aria-busy');
    }
  }

  function drawEdit(id) {
    const { task } = items.get(id);
    const t = field({ label: 'Title', name: 'title', maxlength: MAX_TASK_TITLE_LEN, value: task.title, required: true });
    const d = field({ label: 'Description', name: 'description', multiline: true, rows: 3, maxlength: MAX_TASK_DESC_LEN, value: task.description || '' });
    const line = formError();
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Cancel');
    const fields = { title: t, description: d };
    const form = h('form', { class: 'form edit-form', novalidate: true, 'aria-label': 'Edit task' },
      line, t.wrap, d.wrap, h('div', { class: 'form-actions' }, save, cancel));
    replaceContent(id, form);
    cancel.addEventListener('click', () => drawView(id, 'edit'));
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        drawView(id, 'edit');
      }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(fields, line);
      const newTitle = t.input.value.trim();
      if (!newTitle) {
        t.setError('Give the task a title.');
        t.input.focus();
        return;
      }
      const done = busy(save, 'Saving…');
      try {
        const updated = await api.call('PATCH', `${api.tasksPath()}/${encodeURIComponent(id)}`, { title: newTitle, description: d.input.value });
        items.get(id).task = updated;
        drawView(id, 'edit');
        ctx.toast('Task saved.', 'success');
      } catch (err) {
        done();
        showError(err, fields, line);
        if (err instanceof api.ApiError && err.status === 404) removeItem(id);
      }
    });
    t.input.focus();
    t.input.select();
  }

  function drawConfirm(id) {
    const { task } = items.get(id);
    const promptId = uid('confirm');
    const yes = h('button', { type: 'button', class: 'btn btn-danger btn-small', 'aria-describedby': promptId }, 'Delete');
    const no = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Cancel');
    const box = h('div', { class: 'confirm', role: 'group', 'aria-labelledby': promptId },
      h('p', { id: promptId, class: 'confirm-text' }, 'Delete “', h('span', { class: 'confirm-title' }, task.title), '”? This cannot be undone.'),
      h('div', { class: 'confirm-actions' }, yes, no));
    replaceContent(id, box);
    no.addEventListener('click', () => drawView(id, 'delete'));
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        drawView(id, 'delete');
      }
    });
    yes.addEventListener('click', async () => {
      const done = busy(yes, 'Deleting…');
      no.disabled = true;
      try {
        await api.call('DELETE', `${api.tasksPath()}/${encodeURIComponent(id)}`);
      } catch (err) {
        if (err instanceof api.SessionEnded) return;
        if (!(err instanceof api.ApiError && err.status === 404)) {
          done();
          no.disabled = false;
          ctx.toast(describe(err), 'error');
          return;
        }
      }
      removeItem(id, true);
      ctx.toast('Task deleted.', 'success');
    });
    yes.focus();
  }

  // removeItem takes a task off the list; with moveFocus, keyboard focus
  // goes to the next task (or the previous, or the title field).
  function removeItem(id, moveFocus) {
    const entry = items.get(id);
    if (!entry) return;
    const next = entry.li.nextElementSibling || entry.li.previousElementSibling;
    entry.li.remove();
    items.delete(id);
    showStatus();
    if (moveFocus) {
      const target = next && next.querySelector('input[type=checkbox]');
      (target || title.input).focus();
    }
  }

  load(false);
}
