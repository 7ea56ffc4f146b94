// A few DOM helpers: elements built with text nodes only (no HTML strings, so nothing the
// API returns is ever parsed as markup).

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

let ids = 0;
export function uid(prefix) { ids += 1; return `${prefix}-${ids}`; }

// A labelled form control: <label for> ties the Chinese label to its field.
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintNode = hint ? h('span', { class: 'muted', id: `${control.id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute('aria-describedby', hintNode.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control, hintNode);
}

export function options(table, { blank, selected = [] } = {}) {
  const chosen = new Set([].concat(selected));
  return [
    blank !== undefined ? h('option', { value: '' }, blank) : null,
    ...Object.entries(table).map(([value, text]) =>
      h('option', { value, selected: chosen.has(value) }, text)),
  ];
}

export function alertBox(error) {
  return h('div', { class: 'alert', role: 'alert' }, error.message ?? String(error));
}

export function loading(text = '正在加载…') {
  return h('p', { class: 'muted', role: 'status' }, text);
}

// A short note (5 s) at the top right, away from the page's controls. Moving to another page
// clears it, unless the note just announced that very move (合并后刷新, 拆分后跳转).
let shownAt = 0;
window.addEventListener('hashchange', () => {
  const box = document.getElementById('toast');
  if (box && Date.now() - shownAt > 1000) box.textContent = '';
});

export function toast(text) {
  shownAt = Date.now();
  const box = document.getElementById('toast');
  box.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ''; }, 5000);
}
