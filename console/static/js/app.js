// The console's shell (工作台外壳): navigation, routing on the URL's #fragment, sign-in state.

import { session, drafts } from './session.js';
import { ROLE, label } from './labels.js';
import { h, toast } from './dom.js';
import { go } from './nav.js';
import * as login from './pages/login.js';
import * as records from './pages/records.js';
import * as people from './pages/people.js';
import * as ops from './pages/ops.js';
import * as worklist from './pages/worklist.js';
import * as matter from './pages/matter.js';
import * as intake from './pages/intake.js';
import * as dashboard from './pages/dashboard.js';
import * as risk from './pages/risk.js';

// One entry per page: path, menu text, module, and whether the API serves it yet.
const PAGES = [
  { path: 'worklist', text: '工作台', page: worklist.worklist },
  { path: 'matter', page: matter.detail, parent: 'worklist' },
  { path: 'records', text: '记录', page: records.list },
  { path: 'record', page: records.detail },
  { path: 'persons', text: '人员', page: people.search },
  { path: 'person', page: people.timeline },
  { path: 'intake', text: '登记', page: intake.page },
  { path: 'dashboard', text: '综合态势', page: dashboard.page, figures: true },
  { path: 'risk', text: '风险预警', page: risk.alerts },
  { path: 'sync', text: '同步与运维', page: ops.sync },
  { path: 'login', page: login.page },
];
const DEFAULT = 'records';
// A dashboard viewer reads figures only (no record, person or alert): its menu and first
// page are the figures'.
const FIGURES_ONLY = new Set(['dashboard_viewer']);
const figuresOnly = () => FIGURES_ONLY.has(session.claims()?.role);


function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, '') || DEFAULT;
  const [pathPart, query = ''] = raw.split('?');
  const [path, ...rest] = pathPart.split('/');
  return { raw, path, arg: rest.map(decodeURIComponent).join('/'), params: new URLSearchParams(query) };
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (!session.token()) return;
  const items = PAGES.filter((p) => p.text && (p.figures || !figuresOnly())).map((p) => h('li', {},
    h('a', {
      href: `#/${p.path}`,
      'aria-current': current === p.path || (current === p.path.replace(/s$/, '')) ? 'page' : null,
    }, p.text)));
  nav.append(h('ul', {}, items));
}

function renderWho() {
  const who = document.getElementById('who');
  who.replaceChildren();
  const claims = session.claims();
  if (!claims) return;
  const regions = (claims.regions ?? []).join('、') || '无';
  who.append(
    h('span', {}, `${claims.name || claims.sub}（${label(ROLE, claims.role)}，辖区 ${regions}）`),
    h('button', { type: 'button', onclick: () => { session.signOut(); go('login'); } }, '退出'),
  );
}

let generation = 0;

async function route() {
  const current = parseRoute();
  if (!session.token() && current.path !== 'login') {
    go(`login?next=${encodeURIComponent(current.raw)}`);
    return;
  }
  const fallback = figuresOnly() ? 'dashboard' : DEFAULT;
  if (current.path === DEFAULT && fallback !== DEFAULT) { go(fallback); return; }
  const entry = PAGES.find((p) => p.path === current.path) ?? PAGES.find((p) => p.path === fallback);
  renderNav(entry.parent ?? entry.path);
  renderWho();
  generation += 1;
  const mine = generation;
  const main = document.getElementById('main');
  main.replaceChildren();
  if (current.path !== 'login') main.focus({ preventScroll: true });
  main.dataset.route = current.raw;
  await entry.page(main, { ...current, isCurrent: () => mine === generation });
  const saved = drafts.take(current.raw);
  if (saved) restoreDrafts(main, saved);
  document.title = `${main.querySelector('h2')?.textContent ?? ''} · 综治中心工作台`;
}

// What the user typed: every named field of the page, kept across a forced sign-in.
function collectDrafts(main) {
  const values = {};
  for (const control of main.querySelectorAll('input[name], textarea[name], select[name]')) {
    if (control.type === 'checkbox') values[control.name] = control.checked;
    else if (control.multiple) values[control.name] = [...control.selectedOptions].map((o) => o.value);
    else values[control.name] = control.value;
  }
  return values;
}

function restoreDrafts(main, values) {
  for (const [name, value] of Object.entries(values)) {
    const control = main.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!control) continue;
    if (control.type === 'checkbox') control.checked = Boolean(value);
    else if (control.multiple) [...control.options].forEach((o) => { o.selected = value.includes(o.value); });
    else control.value = value;
  }
  toast('已恢复您先前填写的内容。');
}

window.addEventListener('govhub:signed-out', () => {
  const main = document.getElementById('main');
  const where = main.dataset.route || DEFAULT;
  if (where.startsWith('login')) return;
  drafts.save(where, collectDrafts(main));
  session.signOut();
  go(`login?next=${encodeURIComponent(where)}&expired=1`);
});

window.addEventListener('hashchange', route);
route();
