// AsyncQueue dashboard script: the action buttons (retry, cancel, delete with a confirmation,
// pause/resume, limits, schedules), filters that apply on change, and live updates: on each
// Server-Sent Event the page's [data-region]s are re-read from the server and swapped in.
// Plain ES module, no dependencies; the pages' CSP allows no inline code.

const $ = (sel, root = document) => root.querySelector(sel);
let toastTimer;

/** Shows a short message in the page's live status region. */
function toast(message, kind = 'info') {
  const el = $('#toast');
  if (!el) return;
  el.textContent = message;
  el.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = 'toast'), kind === 'error' ? 8000 : 3000);
}

function toLogin() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** Calls the API with the session cookie; resolves with the JSON body, throws with the API's error message. */
async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    toLogin();
    throw new Error('signed out');
  }
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      message = (await res.json()).error.message;
    } catch {}
    throw new Error(message);
  }
  return res.status === 204 ? null : res.json().catch(() => null);
}

/** A modal confirmation (native <dialog>: focus trapped, Esc cancels); resolves true on confirm. */
function confirmDialog(message, action) {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'confirm';
    dialog.setAttribute('aria-labelledby', 'confirm-text');
    const text = document.createElement('p');
    text.id = 'confirm-text';
    text.textContent = message;
    const form = document.createElement('form');
    form.method = 'dialog';
    const cancel = Object.assign(document.createElement('button'), { value: 'cancel', textContent: 'Keep it' });
    const ok = Object.assign(document.createElement('button'), { value: 'ok', textContent: action, className: 'danger' });
    form.append(cancel, ok);
    dialog.append(text, form);
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    dialog.showModal();
    cancel.focus();
  });
}

// ---- live regions -------------------------------------------------------------------------

const focusKey = (el) =>
  el && el !== document.body
    ? el.id ? `#${el.id}` : el.dataset?.apiPath ? `api:${el.dataset.apiMethod} ${el.dataset.apiPath}` : el.getAttribute('href') ? `href:${el.getAttribute('href')}` : null
    : null;

function findByKey(root, key) {
  if (!key) return null;
  for (const el of root.querySelectorAll('[id], [data-api-path], [href]')) if (focusKey(el) === key) return el;
  return null;
}

/** A region the user is editing is left alone (a focused field, or a changed value). */
function busy(region) {
  const a = document.activeElement;
  if (a && region.contains(a) && a.matches('input, select, textarea')) return true;
  return [...region.querySelectorAll('input')].some((i) => i.type !== 'hidden' && i.value !== i.defaultValue);
}

function swap(old, fresh) {
  const had = old.contains(document.activeElement) ? document.activeElement : null;
  const key = focusKey(had);
  const seen = new Set([...old.querySelectorAll('tr[data-id]')].map((r) => r.dataset.id));
  const open = [...old.querySelectorAll('details')].map((d) => d.open);
  fresh.querySelectorAll('details').forEach((d, i) => (d.open = open[i] ?? d.open));
  if (seen.size > 0) for (const r of fresh.querySelectorAll('tr[data-id]')) if (!seen.has(r.dataset.id)) r.classList.add('new');
  old.replaceWith(fresh);
  if (had) (findByKey(fresh, key) ?? fresh.querySelector('[data-api-path]') ?? $('#main'))?.focus();
}

let refreshing = false;
let again = false;
/** Set while an action that leaves the page (delete) runs: no refresh may read the page it removes. */
let leaving = false;
/** The refresh in flight, if any. */
let current = null;
let lastRun = 0;
let timer = null;

/** Re-reads this page and swaps in its regions. */
function refresh() {
  if (leaving) return Promise.resolve();
  if (refreshing) return void (again = true);
  current = reread().finally(() => (current = null));
  return current;
}

async function reread() {
  refreshing = true;
  lastRun = Date.now();
  try {
    const res = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
    if (res.redirected && new URL(res.url).pathname === '/login') return toLogin();
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    for (const old of document.querySelectorAll('[data-region][id]')) {
      const fresh = doc.getElementById(old.id);
      if (fresh && !busy(old)) swap(old, document.adoptNode(fresh));
    }
  } catch {
    // offline or stopping: the next event or tick tries again
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      schedule();
    }
    pollIfAsked();
  }
}

/** A region marked data-poll="ms" (work no event announces, e.g. a webhook delivery) is re-read after that long. */
function pollIfAsked() {
  const ms = Number($('[data-poll]')?.dataset.poll);
  if (ms > 0) schedule(ms);
}

/** Refreshes soon, at most once per `gapMs` however many events arrive. */
function schedule(gapMs = 500) {
  if (timer || leaving) return;
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, Math.max(0, lastRun + gapMs - Date.now()));
}

function live(url) {
  const badge = $('#live');
  const show = (text, on) => {
    if (!badge) return;
    badge.textContent = text;
    badge.classList.toggle('on', on);
  };
  const events = new EventSource(url);
  events.addEventListener('ready', () => show('live', true));
  events.addEventListener('task', () => schedule());
  events.addEventListener('sink', () => schedule());
  events.addEventListener('error', () => show(events.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting…', false));
  addEventListener('pagehide', () => events.close());
  // The chart's minutes move on even when no task does.
  setInterval(() => document.visibilityState === 'visible' && schedule(), 30_000);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && schedule());
}

// ---- actions ------------------------------------------------------------------------------

document.addEventListener('click', async (e) => {
  const btn = e.target.closest?.('button[data-api-path]');
  if (!btn || btn.disabled) return;
  const label = btn.textContent.replace('…', '').trim();
  if (btn.dataset.confirm && !(await confirmDialog(btn.dataset.confirm, label))) return;
  btn.disabled = true;
  if (btn.dataset.done) {
    // Leaving afterwards: stop live updates first, so none reads the page the action removes.
    leaving = true;
    clearTimeout(timer);
    timer = null;
    await current;
  }
  try {
    await call(btn.dataset.apiMethod, btn.dataset.apiPath, btn.dataset.apiBody);
    toast(`${label}: done`);
    if (btn.dataset.done) return location.assign(btn.dataset.done);
    await refresh();
  } catch (err) {
    leaving = false;
    toast(`${label} failed: ${err.message}`, 'error');
  } finally {
    btn.disabled = false;
  }
});

document.addEventListener('submit', async (e) => {
  if (e.target.matches('form.filters')) {
    // Same as the native GET, without the empty fields: /tasks?status=failed, not ?status=failed&queue=
    e.preventDefault();
    const params = new URLSearchParams([...new FormData(e.target)].filter(([, v]) => v !== ''));
    return location.assign(e.target.action + (params.size > 0 ? `?${params}` : ''));
  }
  const jsonForm = e.target.closest('form[data-json-form]');
  if (jsonForm) {
    // A schedule's fields as its JSON body: empty ones left out, [data-json] ones parsed.
    e.preventDefault();
    const body = {};
    for (const el of jsonForm.elements) {
      if (!el.name || el.value.trim() === '') continue;
      if (el.dataset.json === undefined) body[el.name] = el.value.trim();
      else {
        try {
          body[el.name] = JSON.parse(el.value);
        } catch (err) {
          return toast(`${el.name} is not valid JSON: ${err.message}`, 'error');
        }
      }
    }
    try {
      await call(jsonForm.dataset.apiMethod, jsonForm.dataset.apiPath, body);
      toast('Saved');
      for (const el of jsonForm.elements) if ('defaultValue' in el) el.defaultValue = el.value;
      jsonForm.closest('details')?.removeAttribute('open');
      await refresh();
    } catch (err) {
      toast(`Save failed: ${err.message}`, 'error');
    }
    return;
  }
  const form = e.target.closest('form[data-queue-form]');
  if (!form) return;
  e.preventDefault();
  const field = (name) => [...form.elements].find((el) => el.name === name);
  const value = (name) => (field(name).value.trim() === '' ? null : Number(field(name).value));
  try {
    await call('PUT', form.dataset.queueForm, { concurrency: value('concurrency'), ratePerSecond: value('ratePerSecond'), keyConcurrency: value('keyConcurrency') });
    for (const name of ['concurrency', 'ratePerSecond', 'keyConcurrency']) field(name).defaultValue = field(name).value;
    toast('Limits saved');
    await refresh();
  } catch (err) {
    toast(`Save failed: ${err.message}`, 'error');
  }
});

document.addEventListener('change', (e) => {
  if (e.target.matches('select[data-autosubmit]')) e.target.form.requestSubmit();
});

const eventsUrl = document.body.dataset.events;
if (eventsUrl && 'EventSource' in window) live(eventsUrl);
pollIfAsked();
