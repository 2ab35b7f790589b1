// @ts-check
/**
 * A few DOM helpers. Everything the server sends is put on the page as text (never as
 * HTML), so a name or a note cannot inject markup.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Child | Child[]} Children */

/**
 * Creates an element: h('button', { class: 'x', onclick: fn }, 'Text', child, …).
 * Attributes named on… become listeners; true adds a boolean attribute, false/null/undefined omit it.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Children[]} children
 */
export function append(el, children) {
  for (const child of children.flat(2)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's content.
 * @param {Element} el
 * @param {...Children} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * The element with this id, which the page must have.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

let fieldCount = 0;
/** A fresh id for tying a label to its field. */
export function uid(prefix = 'f') {
  fieldCount += 1;
  return `${prefix}-${fieldCount}`;
}

/**
 * A labelled form field: <div class="field"><label for>…</label><input id>…</div>.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  if (!control.id) control.id = uid();
  /** @type {HTMLElement[]} */
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

/**
 * A <select> with options [value, label].
 * @param {Record<string, unknown>} attrs
 * @param {Array<[string, string]>} options
 */
export function select(attrs, options) {
  return h('select', attrs, options.map(([value, label]) => h('option', { value }, label)));
}

/**
 * A badge saying data is hidden, with why.
 * @param {string} what
 * @param {string} [why]
 */
export function hiddenBadge(what, why) {
  return h('span', { class: 'hidden-data', role: 'note' }, `${what} hidden`, why ? h('span', { class: 'why' }, ` — ${why}`) : null);
}

/**
 * A message box: kind error | ok | info.
 * @param {'error' | 'ok' | 'info'} kind
 * @param {...Children} children
 */
export function notice(kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/**
 * Runs `work` while the button shows it is busy; the button is re-enabled afterwards.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * Gives every body cell of `root`'s tables the name of its column (data-label), which
 * app.css shows beside the value when a narrow screen stacks a table's rows. Cells spanning
 * several columns (a message) get none.
 * @param {ParentNode} root
 */
export function labelCells(root) {
  for (const table of root.querySelectorAll('table')) {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent?.trim() ?? '');
    if (!heads.length) continue;
    for (const row of table.querySelectorAll('tbody tr')) {
      let column = 0;
      for (const cell of row.children) {
        const span = Number(cell.getAttribute('colspan') ?? 1);
        if (span === 1 && heads[column] && !cell.hasAttribute('data-label')) cell.setAttribute('data-label', heads[column]);
        column += span;
      }
    }
  }
}

/**
 * Keeps labelCells applied to everything the views put into `root`, now and later (pages
 * of rows appended as they load), so no view has to remember it.
 * @param {HTMLElement} root
 */
export function labelCellsAlways(root) {
  labelCells(root);
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      labelCells(root);
    });
  }).observe(root, { childList: true, subtree: true });
}
