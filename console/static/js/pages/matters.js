// 工作台 (matters by step, due soon / overdue / 督办, live) and 事项详情 (timeline, records,
// parties, clocks, supervisions, and the actions its step allows, sent with its version).

import { gql } from '../api.js';
import { session } from '../session.js';
import {
  ACTOR_KIND, CATEGORY, CLOCK_STATE, CLOCK_UNIT, MATTER_ACTION, MATTER_ERROR, ORIGIN, OUTCOME, PARTY_ROLE, RISK,
  SATISFACTION, STATUS, STEP, SUPERVISION_LEVEL, SUPERVISION_STATUS, TIER, TRACK, KIND,
  beijingTime, label,
} from '../labels.js';
import { h, field, options, alertBox, loading, toast } from '../dom.js';
import { go } from '../nav.js';
import { watchMatters } from '../live.js';

const PAGE_SIZE = 50;
const DUE_SOON_HOURS = 72;
const QUERY_MATTERS = `
query Worklist($filter: MatterFilter, $first: Int, $after: String) {
  matters(filter: $filter, first: $first, after: $after, orderBy: UPDATED_AT_DESC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id number title origin category risk step suspended regionCode leadOrg assignedOrg
            openedAt updatedAt dueAt overdue supervisions { id level status } }
  }
}`;
// One count per step, under the same due/overdue condition as the list.
const QUERY_STEP_COUNTS = `
query StepCounts($overdue: Boolean, $dueBefore: DateTime) {
  REGISTERED: matters(filter: {step: [REGISTERED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  ACCEPTED: matters(filter: {step: [ACCEPTED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  ASSESSED: matters(filter: {step: [ASSESSED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  DISPATCHED: matters(filter: {step: [DISPATCHED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  RETURNED: matters(filter: {step: [RETURNED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  IN_PROGRESS: matters(filter: {step: [IN_PROGRESS], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  FED_BACK: matters(filter: {step: [FED_BACK], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  VERIFIED: matters(filter: {step: [VERIFIED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  CLOSED: matters(filter: {step: [CLOSED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  REVISITED: matters(filter: {step: [REVISITED], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
  WITHDRAWN: matters(filter: {step: [WITHDRAWN], overdue: $overdue, dueBefore: $dueBefore}, first: 1) { totalCount }
}`;
const QUERY_MATTER = `
query Matter($id: ID!) {
  matter(id: $id) {
    id number title summary origin category regionCode region { name } risk tier leadOrg
    assignedOrg track step status outcome satisfaction suspended version openedAt updatedAt
    closedAt dueAt overdue
    records { id kind title status occurredAt }
    parties { role name idNumber phone }
    timeline { action at actorKind actor actorOrg fromStep toStep note }
    clocks { ruleId ruleName legalBasis budget unit extended dueAt state remainingSeconds
             provisional met stoppedAt }
    supervisions { id level targetOrg reason issuedAt automatic status reply version }
  }
}`;

// Every step mutation answers the matter (its new version) or a MatterError.
const MUTATION_ADMIT = `
mutation Admit($id: ID!, $note: String!, $v: Int) {
  admitMatter(id: $id, note: $note, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_ASSESS = `
mutation Assess($id: ID!, $input: AssessMatterInput!, $v: Int) {
  assessMatter(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_DISPATCH = `
mutation Dispatch($id: ID!, $input: DispatchMatterInput!, $v: Int) {
  dispatchMatter(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_REDISPATCH = `
mutation Redispatch($id: ID!, $input: RedispatchMatterInput!, $v: Int) {
  redispatchMatter(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_ACCEPT = `
mutation Accept($id: ID!, $note: String!, $v: Int) {
  acceptMatter(id: $id, note: $note, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_OBJECT = `
mutation Object($id: ID!, $reason: String!, $v: Int) {
  objectMatter(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_PROGRESS = `
mutation Progress($id: ID!, $note: String!, $v: Int) {
  reportMatterProgress(id: $id, note: $note, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_RESULT = `
mutation Result($id: ID!, $input: ReportResultInput!, $v: Int) {
  reportMatterResult(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_VERIFY = `
mutation Verify($id: ID!, $note: String!, $v: Int) {
  verifyMatter(id: $id, note: $note, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_SEND_BACK = `
mutation SendBack($id: ID!, $reason: String!, $v: Int) {
  sendBackMatter(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_CLOSE = `
mutation Close($id: ID!, $input: CloseMatterInput!, $v: Int) {
  closeMatter(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_REVISIT = `
mutation Revisit($id: ID!, $input: RevisitMatterInput!, $v: Int) {
  revisitMatter(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_REOPEN = `
mutation Reopen($id: ID!, $reason: String!, $v: Int) {
  reopenMatter(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_SUSPEND = `
mutation Suspend($id: ID!, $reason: String!, $v: Int) {
  suspendMatter(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_RESUME = `
mutation Resume($id: ID!, $note: String!, $v: Int) {
  resumeMatter(id: $id, note: $note, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_WITHDRAW = `
mutation Withdraw($id: ID!, $reason: String!, $v: Int) {
  withdrawMatter(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_SUPERVISE = `
mutation Supervise($id: ID!, $input: SuperviseMatterInput!) {
  superviseMatter(id: $id, input: $input) { __typename ... on SupervisionChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_REPLY = `
mutation Reply($id: ID!, $reply: String!, $v: Int) {
  replySupervision(id: $id, reply: $reply, expectedVersion: $v) { __typename ... on SupervisionChanged { matter { id step version } } ... on MatterError { code message } } }`;

const STAFF_ROLES = new Set(['admin', 'center_staff']);
const isStaff = () => STAFF_ROLES.has(session.claims()?.role);
const HANDLING = new Set(['ACCEPTED', 'ASSESSED', 'RETURNED', 'DISPATCHED', 'IN_PROGRESS']);
const OPEN = new Set(['REGISTERED', ...HANDLING, 'FED_BACK', 'VERIFIED']);
const RESULT = { RESOLVED: STATUS.RESOLVED, FAILED: STATUS.FAILED };
const openSupervision = (m) => m.supervisions.some((s) => s.status === 'OPEN' || s.status === 'ESCALATED');

// ---- 工作台 -------------------------------------------------------------------------------

function filterFrom(params) {
  const filter = {};
  if (params.get('step')) filter.step = [params.get('step')];
  if (params.get('due') === 'overdue') filter.overdue = true;
  if (params.get('due') === 'soon') {
    filter.overdue = false;
    filter.dueBefore = new Date(Date.now() + DUE_SOON_HOURS * 3600e3).toISOString();
  }
  if (params.get('text')) filter.text = params.get('text');
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

export function timeLeft(seconds) {
  const late = seconds < 0;
  let rest = Math.abs(seconds);
  const days = Math.floor(rest / 86400); rest -= days * 86400;
  const hours = Math.floor(rest / 3600); rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const text = days ? `${days} 天 ${hours} 小时` : hours ? `${hours} 小时 ${minutes} 分` : `${minutes} 分`;
  return late ? `已超期 ${text}` : `剩余 ${text}`;
}

function dueText(m) {
  if (!m.dueAt) return '—';
  const seconds = Math.round((new Date(m.dueAt).getTime() - Date.now()) / 1000);
  return `${beijingTime(m.dueAt)}（${timeLeft(seconds)}）`;
}

export async function worklist(main, route) {
  const { params } = route;
  main.append(h('h2', {}, '工作台'));
  const textBox = h('input', { name: 'text', type: 'search', value: params.get('text') ?? '' });
  const dueSelect = h('select', { name: 'due' }, options(
    { soon: `即将到期（${DUE_SOON_HOURS} 小时内）`, overdue: '已超期' },
    { blank: '全部期限', selected: params.get('due') ?? '' },
  ));
  const supervised = h('input', { name: 'supervised', type: 'checkbox', checked: params.get('supervised') === '1' });
  const form = h('form', { class: 'panel filters', role: 'search', 'aria-label': '事项筛选' },
    field('关键词（编号、标题）', textBox), field('期限', dueSelect),
    h('div', { class: 'field' }, h('label', {}, supervised, ' 仅看督办中')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '筛选'),
      h('a', { href: '#/intake' }, '登记新事项')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(routeWith(params, { text: textBox.value.trim(), due: dueSelect.value, supervised: supervised.checked ? '1' : '' }));
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
        gql(QUERY_MATTERS, { filter, first: PAGE_SIZE }),
        gql(QUERY_STEP_COUNTS, { overdue: filter.overdue ?? null, dueBefore: filter.dueBefore ?? null }),
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
  const items = [h('li', {}, h('a', { href: `#/${routeWith(params, { step: '' })}`, 'aria-current': current ? null : 'page' }, '全部'))];
  for (const [step, text] of Object.entries(STEP)) {
    const count = byStep[step]?.totalCount ?? 0;
    items.push(h('li', { 'data-step': step }, h('a', {
      href: `#/${routeWith(params, { step })}`, 'aria-current': current === step ? 'page' : null,
    }, `${text} `, h('span', { class: 'badge', 'data-count': '' }, String(count)))));
  }
  counts.replaceChildren(h('ul', { class: 'steps' }, items));
}

function renderList(list, params, connection) {
  let rows = connection.nodes;
  const onlySupervised = params.get('supervised') === '1';
  if (onlySupervised) rows = rows.filter(openSupervision);
  const note = onlySupervised
    ? `本页 ${connection.nodes.length} 件中督办中 ${rows.length} 件（按更新时间，最多 ${PAGE_SIZE} 件）`
    : `共 ${connection.totalCount} 件${connection.pageInfo.hasNextPage ? `，显示最近更新的 ${PAGE_SIZE} 件` : ''}`;
  if (!rows.length) {
    list.replaceChildren(h('p', { 'data-total': '' }, note), h('p', { class: 'muted' }, '没有符合条件的事项。'));
    return;
  }
  const body = rows.map((m) => h('tr', { 'data-matter': m.number },
    h('td', {}, h('a', { href: `#/matter/${encodeURIComponent(m.id)}` }, m.number)),
    h('td', {}, m.title),
    h('td', {}, label(STEP, m.step), m.suspended ? '（挂起）' : ''),
    h('td', {}, label(RISK, m.risk)),
    h('td', {}, m.assignedOrg || m.leadOrg || '—'),
    h('td', { class: m.overdue ? 'late' : null }, m.overdue ? '已超期' : dueText(m)),
    h('td', {}, openSupervision(m) ? m.supervisions.filter((s) => s.status !== 'CLOSED')
      .map((s) => label(SUPERVISION_LEVEL, s.level)).join('、') : '—'),
    h('td', {}, beijingTime(m.updatedAt))));
  list.replaceChildren(h('p', { 'data-total': '' }, note), h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'muted' }, '事项清单'),
    h('thead', {}, h('tr', {}, ['事项编号', '标题', '环节', '风险', '承办单位', '期限', '督办', '更新时间']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, body))));
}

// ---- 事项详情 -----------------------------------------------------------------------------

export async function detail(main, route) {
  const id = route.arg;
  main.append(h('p', {}, h('a', { href: '#/worklist' }, '← 返回工作台')));
  const body = h('div', {}, loading());
  main.append(body);
  let matter;
  try {
    matter = (await gql(QUERY_MATTER, { id })).matter;
  } catch (error) {
    const known = MATTER_ERROR[error.code] && error.code !== 'BAD_USER_INPUT';
    body.replaceChildren(h('h2', {}, '事项详情'), alertBox(known ? new Error(MATTER_ERROR[error.code]) : error));
    return;
  }
  if (!route.isCurrent()) return;
  if (!matter) {
    body.replaceChildren(h('h2', {}, '事项详情'), alertBox(new Error(MATTER_ERROR.NOT_FOUND)));
    return;
  }
  const refresh = () => { body.replaceChildren(); main.replaceChildren(); detail(main, route); };
  body.replaceChildren(
    h('h2', {}, `事项 ${matter.number}`),
    h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: refresh }, '刷新')),
    facts(matter),
    actions(matter, refresh),
    clocks(matter), supervisions(matter, refresh), parties(matter), records(matter), timeline(matter),
  );
}

function facts(m) {
  const rows = [
    ['标题', m.title], ['简要情况', m.summary || '—'], ['来源', label(ORIGIN, m.origin)],
    ['环节', `${label(STEP, m.step)}${m.suspended ? '（已挂起）' : ''}`], ['状态', label(STATUS, m.status)],
    ['纠纷类别', label(CATEGORY, m.category)], ['风险等级', label(RISK, m.risk)],
    ['复杂程度', label(TIER, m.tier)], ['牵头单位', m.leadOrg || '—'], ['承办单位', m.assignedOrg || '—'],
    ['处置途径', label(TRACK, m.track)], ['区划', m.region?.name ?? m.regionCode ?? '—'],
    ['登记时间', beijingTime(m.openedAt)], ['更新时间', beijingTime(m.updatedAt)],
    ['办理期限', m.overdue ? `已超期（${beijingTime(m.dueAt)}）` : dueText(m)],
    ['结案方式', label(OUTCOME, m.outcome)], ['回访满意度', label(SATISFACTION, m.satisfaction)],
    ['版本', String(m.version)],
  ];
  return h('section', { class: 'panel' }, h('dl', { class: 'facts', 'data-facts': '' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', { 'data-fact': k }, v)])));
}

function clocks(m) {
  const section = h('section', {}, h('h3', {}, '办理时限'));
  if (!m.clocks.length) return section.append(h('p', { class: 'muted' }, '暂无计时。')), section;
  section.append(h('div', { class: 'table-wrap' }, h('table', { 'data-clocks': '' },
    h('thead', {}, h('tr', {}, ['时限', '依据', '期限', '到期时间', '剩余', '状态']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, m.clocks.map((c) => h('tr', {},
      h('td', {}, c.ruleName), h('td', {}, c.legalBasis || '—'),
      h('td', {}, `${c.budget} ${label(CLOCK_UNIT, c.unit)}${c.extended ? `（延期 ${c.extended}）` : ''}${c.provisional ? '（暂定）' : ''}`),
      h('td', {}, beijingTime(c.dueAt)),
      h('td', {}, c.state === 'STOPPED' ? (c.met === false ? '已超期完成' : '已按期完成') : timeLeft(c.remainingSeconds)),
      h('td', {}, label(CLOCK_STATE, c.state))))))));
  return section;
}

function supervisions(m, refresh) {
  const section = h('section', {}, h('h3', {}, '督办'));
  if (!m.supervisions.length) return section.append(h('p', { class: 'muted' }, '无督办。')), section;
  section.append(h('ul', { 'data-supervisions': '' }, m.supervisions.map((s) => h('li', {},
    `${label(SUPERVISION_LEVEL, s.level)} → ${s.targetOrg}（${label(SUPERVISION_STATUS, s.status)}，`,
    `${beijingTime(s.issuedAt)}${s.automatic ? '，系统自动' : ''}）：${s.reason}`,
    s.reply ? `；回复：${s.reply}` : '',
    s.status === 'OPEN' || s.status === 'ESCALATED' ? actionForm({
      key: `reply-${s.id}`, title: '回复督办', doc: MUTATION_REPLY, field: 'replySupervision',
      fields: [{ name: 'reply', label: '回复内容', kind: 'textarea', required: true }],
      vars: (v) => ({ id: s.id, reply: v.reply, v: s.version }),
    }, refresh) : null))));
  return section;
}

function parties(m) {
  const section = h('section', {}, h('h3', {}, '当事人'));
  if (!m.parties.length) return section.append(h('p', { class: 'muted' }, '未登记当事人。')), section;
  section.append(h('table', { 'data-parties': '' },
    h('thead', {}, h('tr', {}, ['身份', '姓名', '身份证号', '电话'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, m.parties.map((p) => h('tr', {}, h('td', {}, label(PARTY_ROLE, p.role)),
      h('td', {}, p.name), h('td', {}, p.idNumber ?? '—'), h('td', {}, p.phone ?? '—'))))),
  h('p', { class: 'muted' }, '证件号码与电话已脱敏显示。'));
  return section;
}

function records(m) {
  const section = h('section', {}, h('h3', {}, '关联记录'));
  if (!m.records.length) return section.append(h('p', { class: 'muted' }, '无关联记录（来访/来电登记的事项在关联来源记录后显示）。')), section;
  section.append(h('ul', { 'data-records': '' }, m.records.map((r) => h('li', {},
    h('a', { href: `#/record/${encodeURIComponent(r.id)}` }, r.title),
    `（${label(KIND, r.kind)}，${label(STATUS, r.status)}，${beijingTime(r.occurredAt)}）`))));
  return section;
}

function timeline(m) {
  return h('section', {}, h('h3', {}, '办理记录'), h('ol', { class: 'timeline', 'data-timeline': '' },
    m.timeline.map((e) => h('li', { 'data-action': e.action },
      h('strong', {}, label(MATTER_ACTION, e.action)),
      e.toStep && e.toStep !== e.fromStep ? ` ${label(STEP, e.fromStep)} → ${label(STEP, e.toStep)}` : '',
      h('div', { class: 'muted' }, `${beijingTime(e.at)} · ${e.actor}（${label(ACTOR_KIND, e.actorKind)}${e.actorOrg ? `，${e.actorOrg}` : ''}）`),
      e.note ? h('div', {}, e.note) : null))));
}

// The actions this step allows to this caller (the server decides; this offers the forms).
function allowed(m) {
  const staff = isStaff();
  const id = m.id;
  const v = m.version;
  const list = [];
  const note = { name: 'note', label: '办理意见', kind: 'textarea' };
  const reason = { name: 'reason', label: '理由', kind: 'textarea', required: true };
  if (staff) {
    if (m.step === 'REGISTERED') {
      list.push({ key: 'admit', title: '受理', doc: MUTATION_ADMIT, field: 'admitMatter', fields: [note],
        vars: (x) => ({ id, note: x.note, v }) });
    }
    if (['ACCEPTED', 'ASSESSED', 'RETURNED'].includes(m.step)) {
      list.push({ key: 'assess', title: '研判', doc: MUTATION_ASSESS, field: 'assessMatter', fields: [
        { name: 'category', label: '纠纷类别', kind: 'select', table: CATEGORY, value: m.category },
        { name: 'risk', label: '风险等级', kind: 'select', table: RISK, value: m.risk },
        { name: 'tier', label: '复杂程度', kind: 'select', table: TIER, value: m.tier ?? 'ORDINARY' },
        { name: 'leadOrg', label: '牵头单位', kind: 'text', required: true, value: m.leadOrg ?? '' }, note],
      vars: (x) => ({ id, v, input: { category: x.category, risk: x.risk, tier: x.tier, leadOrg: x.leadOrg, note: x.note } }) });
    }
    if (['ASSESSED', 'RETURNED'].includes(m.step)) {
      list.push({ key: 'dispatch', title: '分流', doc: MUTATION_DISPATCH, field: 'dispatchMatter', fields: [
        { name: 'org', label: '承办单位', kind: 'text', required: true },
        { name: 'track', label: '处置途径', kind: 'select', table: TRACK }, note],
      vars: (x) => ({ id, v, input: { org: x.org, track: x.track, note: x.note } }) });
    }
    if (['DISPATCHED', 'IN_PROGRESS', 'FED_BACK'].includes(m.step)) {
      list.push({ key: 'redispatch', title: '重新分流', doc: MUTATION_REDISPATCH, field: 'redispatchMatter', fields: [
        { name: 'org', label: '新承办单位', kind: 'text', required: true },
        { name: 'track', label: '处置途径', kind: 'select', table: TRACK }, reason],
      vars: (x) => ({ id, v, input: { org: x.org, track: x.track, reason: x.reason } }) });
    }
    if (m.step === 'FED_BACK') {
      list.push({ key: 'verify', title: '核查通过', doc: MUTATION_VERIFY, field: 'verifyMatter', fields: [note],
        vars: (x) => ({ id, note: x.note, v }) });
      list.push({ key: 'send-back', title: '核查退回重办', doc: MUTATION_SEND_BACK, field: 'sendBackMatter', fields: [reason],
        vars: (x) => ({ id, reason: x.reason, v }) });
    }
    if (m.step === 'VERIFIED') {
      list.push({ key: 'close', title: '结案', doc: MUTATION_CLOSE, field: 'closeMatter', fields: [
        { name: 'outcome', label: '结案方式', kind: 'select', table: OUTCOME }, note],
      vars: (x) => ({ id, v, input: { outcome: x.outcome, note: x.note } }) });
    }
    if (m.step === 'CLOSED') {
      list.push({ key: 'revisit', title: '回访', doc: MUTATION_REVISIT, field: 'revisitMatter', fields: [
        { name: 'satisfaction', label: '满意度', kind: 'select', table: SATISFACTION }, note],
      vars: (x) => ({ id, v, input: { satisfaction: x.satisfaction, note: x.note } }) });
    }
    if (m.step === 'REVISITED') {
      list.push({ key: 'reopen', title: '重新办理', doc: MUTATION_REOPEN, field: 'reopenMatter', fields: [reason],
        vars: (x) => ({ id, reason: x.reason, v }) });
    }
    if (HANDLING.has(m.step) && !m.suspended) {
      list.push({ key: 'suspend', title: '挂起', doc: MUTATION_SUSPEND, field: 'suspendMatter', fields: [reason],
        vars: (x) => ({ id, reason: x.reason, v }) });
    }
    if (HANDLING.has(m.step) && m.suspended) {
      list.push({ key: 'resume', title: '恢复', doc: MUTATION_RESUME, field: 'resumeMatter', fields: [note],
        vars: (x) => ({ id, note: x.note, v }) });
    }
    if (OPEN.has(m.step)) {
      list.push({ key: 'supervise', title: '督办', doc: MUTATION_SUPERVISE, field: 'superviseMatter', fields: [
        { name: 'level', label: '督办级别', kind: 'select', table: SUPERVISION_LEVEL },
        { name: 'targetOrg', label: '被督办单位', kind: 'text', required: true, value: m.assignedOrg || m.leadOrg || '' },
        reason],
      vars: (x) => ({ id, input: { level: x.level, targetOrg: x.targetOrg, reason: x.reason } }) });
      list.push({ key: 'withdraw', title: '撤回（不予受理）', doc: MUTATION_WITHDRAW, field: 'withdrawMatter', fields: [reason],
        vars: (x) => ({ id, reason: x.reason, v }) });
    }
  } else {
    if (m.step === 'DISPATCHED') {
      list.push({ key: 'accept', title: '签收', doc: MUTATION_ACCEPT, field: 'acceptMatter', fields: [note],
        vars: (x) => ({ id, note: x.note, v }) });
      list.push({ key: 'object', title: '退回（提出异议）', doc: MUTATION_OBJECT, field: 'objectMatter', fields: [reason],
        vars: (x) => ({ id, reason: x.reason, v }) });
    }
    if (['DISPATCHED', 'IN_PROGRESS'].includes(m.step)) {
      list.push({ key: 'progress', title: '报告进展', doc: MUTATION_PROGRESS, field: 'reportMatterProgress',
        fields: [{ ...note, required: true }], vars: (x) => ({ id, note: x.note, v }) });
      list.push({ key: 'result', title: '反馈结果', doc: MUTATION_RESULT, field: 'reportMatterResult', fields: [
        { name: 'result', label: '处置结果', kind: 'select', table: RESULT }, note],
      vars: (x) => ({ id, v, input: { result: x.result, note: x.note } }) });
    }
  }
  return list;
}

function actions(m, refresh) {
  const forms = allowed(m);
  const section = h('section', { 'aria-label': '办理操作' }, h('h3', {}, '办理操作'));
  if (!forms.length) {
    section.append(h('p', { class: 'muted' }, '当前环节没有您可执行的操作。'));
    return section;
  }
  section.append(h('div', { class: 'action-forms' }, forms.map((spec) => actionForm(spec, refresh))));
  return section;
}

function control(spec) {
  if (spec.kind === 'select') {
    return h('select', { name: spec.name }, options(spec.table, { selected: spec.value ?? [] }));
  }
  if (spec.kind === 'textarea') {
    const area = h('textarea', { name: spec.name, rows: 2, required: spec.required || null });
    area.value = spec.value ?? '';
    return area;
  }
  return h('input', { name: spec.name, type: 'text', value: spec.value ?? '', required: spec.required || null });
}

// One action as a form: its fields, a button named after it, the answer in Chinese beside it.
function actionForm(spec, refresh) {
  const controls = spec.fields.map((f) => [f, control(f)]);
  const outcome = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, spec.title);
  const form = h('form', { class: 'panel', 'data-action': spec.key, 'aria-label': spec.title },
    h('h4', {}, spec.title), controls.map(([f, c]) => field(f.label + (f.required ? '（必填）' : ''), c)),
    h('div', { class: 'actions' }, button), outcome);
  for (const [, c] of controls) c.name = `${spec.key}.${c.name}`;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(controls.map(([f, c]) => [f.name, c.value.trim()]));
    const missing = controls.filter(([f]) => f.required && !values[f.name]).map(([f]) => f.label);
    if (missing.length) {
      outcome.replaceChildren(h('div', { class: 'alert', role: 'alert' }, `请填写：${missing.join('、')}。`));
      return;
    }
    button.disabled = true;
    try {
      const answer = (await gql(spec.doc, spec.vars(values)))[spec.field];
      if (answer.__typename === 'MatterError') {
        outcome.replaceChildren(h('div', { class: 'alert', role: 'alert', 'data-code': answer.code },
          label(MATTER_ERROR, answer.code)));
        return;
      }
      toast(`${spec.title}成功。`);
      refresh();
    } catch (error) {
      outcome.replaceChildren(alertBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
