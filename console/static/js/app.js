// The console's shell (工作台外壳): navigation, routing on the URL's #fragment, sign-in state.

import { session, drafts } from './session.js';
import { ROLE, label } from './labels.js';
import { h, alertBox, toast } from './dom.js';
import { currentViewer } from './viewer.js';
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
import * as audit from './pages/audit.js';

// One entry per page: path, menu text, module, and the console page (`ConsolePage`) of the
// API's `viewer.menu` that shows it; detail pages follow their list's entry.
const PAGES = [
  { path: 'worklist', text: '工作台', page: worklist.worklist, menu: 'WORKLIST' },
  { path: 'matter', page: matter.detail, parent: 'worklist', menu: 'WORKLIST' },
  { path: 'records', text: '记录', page: records.list, menu: 'RECORDS' },
  { path: 'record', page: records.detail, parent: 'records', menu: 'RECORDS' },
  { path: 'persons', text: '人员', page: people.search, menu: 'PERSONS' },
  { path: 'person', page: people.timeline, parent: 'persons', menu: 'PERSONS' },
  { path: 'intake', text: '登记', page: intake.page, menu: 'INTAKE' },
  { path: 'dashboard', text: '综合态势', page: dashboard.page, menu: 'DASHBOARD' },
  { path: 'risk', text: '风险预警', page: risk.alerts, menu: 'RISK' },
  { path: 'sync', text: '同步与运维', page: ops.sync, menu: 'SYNC' },
  { path: 'audit', text: '审计日志', page: audit.page, menu: 'AUDIT' },
  { path: 'login', page: login.page },
];
// Where a role lands when it asks for no page, or for one its menu lacks: records first
// (the console's oldest page), else the first page of its menu.
const PREFERRED = 'records';

function allowed(viewer) {
  const menu = new Set(viewer?.menu ?? []);
  return PAGES.filter((p) => p.menu && menu.has(p.menu));
}

function landing(viewer) {
  const pages = allowed(viewer).filter((p) => p.text);
  return (pages.find((p) => p.path === PREFERRED) ?? pages[0])?.path ?? 'login';
}

function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, '') || PREFERRED;
  const [pathPart, query = ''] = raw.split('?');
  const [path, ...rest] = pathPart.split('/');
  return { raw, path, arg: rest.map(decodeURIComponent).join('/'), params: new URLSearchParams(query) };
}

function renderNav(current, viewer) {
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (!viewer) return;
  const items = allowed(viewer).filter((p) => p.text).map((p) => h('li', {},
    h('a', { href: `#/${p.path}`, 'aria-current': current === p.path ? 'page' : null }, p.text)));
  nav.append(h('ul', {}, items));
}

function renderWho(viewer) {
  const who = document.getElementById('who');
  who.replaceChildren();
  if (!viewer) return;
  const regions = viewer.jurisdiction.map((r) => r.name).join('、') || viewer.regions.join('、') || '无';
  const org = viewer.org ? `，${viewer.org}` : '';
  who.append(
    h('span', {}, `${viewer.name || viewer.principal}（${label(ROLE, viewer.role)}${org}，辖区 ${regions}）`),
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
  generation += 1;
  const mine = generation;
  let viewer = null;
  if (current.path !== 'login') {
    try {
      viewer = await currentViewer();
    } catch (error) {
      if (mine !== generation) return;
      const main = document.getElementById('main');
      main.replaceChildren(h('h2', {}, '综治中心工作台'), alertBox(error));
      return;
    }
    if (mine !== generation) return;
    if (!allowed(viewer).some((p) => p.path === current.path)) { go(landing(viewer)); return; }
  }
  const entry = PAGES.find((p) => p.path === current.path);
  renderNav(entry.parent ?? entry.path, viewer);
  renderWho(viewer);
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
  const where = main.dataset.route || PREFERRED;
  if (where.startsWith('login')) return;
  drafts.save(where, collectDrafts(main));
  session.signOut();
  go(`login?next=${encodeURIComponent(where)}&expired=1`);
});

window.addEventListener('hashchange', route);
route();
