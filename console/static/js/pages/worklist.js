// 工作台: the caller's matters by step with a count each, filtered by 期限 (due soon,
// overdue), 督办中 (by the API), scope and keyword, refreshed on every matterEvents notice.

import { gql } from '../api.js';
import { RISK, STEP, SUPERVISION_LEVEL, beijingTime, label } from '../labels.js';
import { h, field, options, alertBox, loading } from '../dom.js';
import { go } from '../nav.js';
import { watchMatters } from '../live.js';
import { currentViewer } from '../viewer.js';
import { activeOrder, dueText, openSupervision } from './matter.js';

const PAGE_SIZE = 50;
const DUE_SOON_HOURS = 72;
// mine: matters the caller acted on; myOrg: those led by or dispatched to the caller's org.
const SCOPE = { mine: '本人经办', myOrg: '本单位' };
const QUERY_MATTERS = `
query Worklist($filter: MatterFilter, $first: Int, $after: String) {
  matters(filter: $filter, first: $first, after: $after, orderBy: UPDATED_AT_DESC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id number title origin category risk step suspended regionCode leadOrg assignedOrg
            openedAt updatedAt dueAt overdue supervisions { id level status } }
  }
}`;
// One count per step, under the same conditions as the list (期限, 范围, 督办中, 关键词).
const QUERY_STEP_COUNTS = `
query StepCounts($overdue: Boolean, $dueBefore: DateTime, $mine: Boolean, $myOrg: Boolean, $supervised: Boolean, $text: String) {
  REGISTERED: matters(filter: {step: [REGISTERED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  ACCEPTED: matters(filter: {step: [ACCEPTED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  ASSESSED: matters(filter: {step: [ASSESSED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  DISPATCHED: matters(filter: {step: [DISPATCHED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  RETURNED: matters(filter: {step: [RETURNED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  IN_PROGRESS: matters(filter: {step: [IN_PROGRESS], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  FED_BACK: matters(filter: {step: [FED_BACK], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  VERIFIED: matters(filter: {step: [VERIFIED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  CLOSED: matters(filter: {step: [CLOSED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  REVISITED: matters(filter: {step: [REVISITED], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
  WITHDRAWN: matters(filter: {step: [WITHDRAWN], overdue: $overdue, dueBefore: $dueBefore, mine: $mine, myOrg: $myOrg, supervised: $supervised, text: $text}, first: 1) { totalCount }
}`;
function filterFrom(params) {
  const filter = {};
  if (params.get('step')) filter.step = [params.get('step')];
  if (params.get('due') === 'overdue') filter.overdue = true;
  if (params.get('due') === 'soon') {
    filter.overdue = false;
    filter.dueBefore = new Date(Date.now() + DUE_SOON_HOURS * 3600e3).toISOString();
  }
  if (params.get('text')) filter.text = params.get('text');
  if (params.get('scope') === 'mine') filter.mine = true;
  if (params.get('scope') === 'myOrg') filter.myOrg = true;
  if (params.get('supervised') === '1') filter.supervised = true;
  return filter;
}

function routeWith(params, changes) {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(changes)) {
    if (value) next.set(name, value); else next.delete(name);
  }
  const query = next.toString();
  return `worklist${query ? `?${query}` : ''}`;
}

export async function worklist(main, route) {
  const { params } = route;
  main.append(h('h2', {}, '工作台'));
  const textBox = h('input', { name: 'text', type: 'search', value: params.get('text') ?? '' });
  const dueSelect = h('select', { name: 'due' }, options(
    { soon: `即将到期（${DUE_SOON_HOURS} 小时内）`, overdue: '已超期' },
    { blank: '全部期限', selected: params.get('due') ?? '' },
  ));
  const scope = h('select', { name: 'scope' }, options(SCOPE, { blank: '全部可见事项', selected: params.get('scope') ?? '' }));
  const supervised = h('input', { name: 'supervised', type: 'checkbox', checked: params.get('supervised') === '1' });
  // 登记 is offered where the role's menu has it (centre staff), not to a partner
  const intake = (await currentViewer())?.menu.includes('INTAKE');
  const form = h('form', { class: 'panel filters', role: 'search', 'aria-label': '事项筛选' },
    field('关键词（编号、标题）', textBox), field('范围', scope), field('期限', dueSelect),
    h('div', { class: 'field' }, h('label', {}, supervised, ' 仅看督办中')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '筛选'),
      intake ? h('a', { href: '#/intake' }, '登记新事项') : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(routeWith(params, { text: textBox.value.trim(), scope: scope.value, due: dueSelect.value, supervised: supervised.checked ? '1' : '', after: '' }));
  });
  const live = h('p', { class: 'muted', role: 'status', 'data-live': '' }, '正在连接实时推送…');
  const counts = h('nav', { 'aria-label': '按环节' });
  const list = h('div', { 'aria-live': 'polite' }, loading());
  main.append(form, live, h('section', { 'aria-label': '各环节事项数' }, h('h3', {}, '按环节'), counts),
    h('section', {}, h('h3', {}, '事项'), list));

  const load = async () => {
    const filter = filterFrom(params);
    try {
      const [page, byStep] = await Promise.all([
        gql(QUERY_MATTERS, { filter, first: PAGE_SIZE, after: params.get('after') || null }),
        gql(QUERY_STEP_COUNTS, {
          overdue: filter.overdue ?? null, dueBefore: filter.dueBefore ?? null,
          mine: filter.mine ?? null, myOrg: filter.myOrg ?? null, supervised: filter.supervised ?? null,
          text: filter.text ?? null,
        }),
      ]);
      if (!route.isCurrent()) return;
      renderCounts(counts, params, byStep);
      renderList(list, params, page.matters);
    } catch (error) {
      if (route.isCurrent()) list.replaceChildren(alertBox(error));
    }
  };
  await load();
  let pending = null;
  watchMatters(() => {
    if (!route.isCurrent()) return false;
    clearTimeout(pending);
    pending = setTimeout(load, 300);
    return true;
  }, (state) => {
    if (!route.isCurrent()) return;
    live.textContent = state === 'open' ? '已连接，事项变化时自动刷新。'
      : '实时推送未连接，请手动刷新页面查看最新事项。';
  });
}

function renderCounts(counts, params, byStep) {
  const current = params.get('step');
  const items = [h('li', {}, h('a', { href: `#/${routeWith(params, { step: '', after: '' })}`, 'aria-current': current ? null : 'page' }, '全部'))];
  for (const [step, text] of Object.entries(STEP)) {
    const count = byStep[step]?.totalCount ?? 0;
    items.push(h('li', { 'data-step': step }, h('a', {
      href: `#/${routeWith(params, { step, after: '' })}`, 'aria-current': current === step ? 'page' : null,
    }, `${text} `, h('span', { class: 'badge', 'data-count': '' }, String(count)))));
  }
  counts.replaceChildren(h('ul', { class: 'steps' }, items));
}

function renderList(list, params, connection) {
  const rows = connection.nodes;
  const note = `共 ${connection.totalCount} 件${params.get('supervised') === '1' ? '（督办中）' : ''}`;
  // Pages of PAGE_SIZE, newest change first: 下一页 follows the cursor, 第一页 drops it.
  const pager = h('p', { class: 'pager' },
    params.get('after') ? h('a', { href: `#/${routeWith(params, { after: '' })}` }, '第一页') : null,
    connection.pageInfo.hasNextPage
      ? h('a', { href: `#/${routeWith(params, { after: connection.pageInfo.endCursor })}` }, '下一页') : null);
  if (!rows.length) {
    list.replaceChildren(h('p', { 'data-total': '' }, note), h('p', { class: 'muted' }, '没有符合条件的事项。'), pager);
    return;
  }
  const body = rows.map((m) => h('tr', { 'data-matter': m.number },
    h('td', {}, h('a', { href: `#/matter/${encodeURIComponent(m.id)}` }, m.number)),
    h('td', {}, m.title),
    h('td', {}, label(STEP, m.step), m.suspended ? '（挂起）' : ''),
    h('td', {}, label(RISK, m.risk)),
    h('td', {}, m.assignedOrg || m.leadOrg || '—'),
    h('td', { class: m.overdue ? 'late' : null }, m.overdue ? '已超期' : dueText(m)),
    h('td', {}, openSupervision(m) ? m.supervisions.filter(activeOrder)
      .map((s) => label(SUPERVISION_LEVEL, s.level)).join('、') : '—'),
    h('td', {}, beijingTime(m.updatedAt))));
  list.replaceChildren(h('p', { 'data-total': '' }, note), h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'muted' }, '事项清单'),
    h('thead', {}, h('tr', {}, ['事项编号', '标题', '环节', '风险', '承办单位', '期限', '督办', '更新时间']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, body))), pager);
}
