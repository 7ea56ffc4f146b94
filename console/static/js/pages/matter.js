// 事项详情: a matter's facts, its actions (matter_actions.js), clocks with time left, 督办,
// parties (masked; in full with pii:read and a stated purpose), records and timeline.

import { gql } from '../api.js';
import { session } from '../session.js';
import {
  ACTOR_KIND, CATEGORY, CLOCK_STATE, CLOCK_UNIT, KIND, MATTER_ACTION, MATTER_ERROR, MATTER_EVENT, ORIGIN, OUTCOME,
  PARTY_ROLE, RISK, SATISFACTION, SOURCE, STATUS, STEP, SUPERVISION_LEVEL, SUPERVISION_STATUS, TIER,
  TRACK, WRITEBACK_STATE, WRITE_ERROR, WRITE_OPERATION, actorName, beijingTime, dueTime, label, timelineNote,
} from '../labels.js';
import { h, alertBox, loading } from '../dom.js';
import { actions, orderForms, replyForm } from './matter_actions.js';
import { revealForm } from './reveal.js';
import { watchMatters } from '../live.js';
import { currentViewer, hasRight } from '../viewer.js';

const QUERY_PARTIES_IDENTIFIERS = `
query MatterPartiesIdentifiers($id: ID!) { matter(id: $id) { parties { role name idNumber phone } } }`;
const QUERY_MATTER = `
query Matter($id: ID!) {
  matter(id: $id) {
    id number title summary origin category regionCode region { name } risk tier leadOrg
    assignedOrg track step status result outcome satisfaction suspended version openedAt updatedAt
    closedAt dueAt overdue
    records { id kind source title status occurredAt }
    parties { role name idNumber phone }
    timeline { action at actorKind actor actorOrg fromStep toStep note details { key value } }
    clocks { ruleId ruleName legalBasis budget unit extended dueAt state remainingSeconds
             provisional met stoppedAt supervisionOrderId extendable }
    supervisions { id level targetOrg reason issuedAt automatic status reply version escalatable }
    writebacks { system operation state attempts targetRef lastErrorCode createdAt updatedAt }
  }
}`;
// The same without free text (summary, notes, 督办 reason and reply): a role without that
// right (司法所, partner_judicial) would have the whole page refused for asking it.
const QUERY_MATTER_WITHOUT_TEXT = `
query MatterWithoutText($id: ID!) {
  matter(id: $id) {
    id number title origin category regionCode region { name } risk tier leadOrg
    assignedOrg track step status result outcome satisfaction suspended version openedAt updatedAt
    closedAt dueAt overdue
    records { id kind source title status occurredAt }
    parties { role name idNumber phone }
    timeline { action at actorKind actor actorOrg fromStep toStep details { key value } }
    clocks { ruleId ruleName legalBasis budget unit extended dueAt state remainingSeconds
             provisional met stoppedAt supervisionOrderId extendable }
    supervisions { id level targetOrg issuedAt automatic status version escalatable }
    writebacks { system operation state attempts targetRef lastErrorCode createdAt updatedAt }
  }
}`;

// 督办中: an order open or replied and not yet closed (an escalated one lives on in its successor).
export const activeOrder = (s) => s.status === 'OPEN' || s.status === 'REPLIED';
export const openSupervision = (m) => m.supervisions.some(activeOrder);

export function timeLeft(seconds) {
  const late = seconds < 0;
  let rest = Math.abs(seconds);
  const days = Math.floor(rest / 86400); rest -= days * 86400;
  const hours = Math.floor(rest / 3600); rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const text = days ? `${days} 天 ${hours} 小时` : hours ? `${hours} 小时 ${minutes} 分` : `${minutes} 分`;
  return late ? `已超期 ${text}` : `剩余 ${text}`;
}

export function dueText(m) {
  if (!m.dueAt) return '—';
  const seconds = Math.round((new Date(m.dueAt).getTime() - Date.now()) / 1000);
  return `${dueTime(m.dueAt)}（${timeLeft(seconds)}）`;
}

export async function detail(main, route) {
  const id = route.arg;
  main.append(h('p', {}, h('a', { href: '#/worklist' }, '← 返回工作台')));
  const body = h('div', {}, loading());
  main.append(body);
  let matter;
  try {
    const query = hasRight(await currentViewer(), 'free_text') ? QUERY_MATTER : QUERY_MATTER_WITHOUT_TEXT;
    matter = (await gql(query, { id })).matter;
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
  // Someone else changed it meanwhile: said at once, before a form comes back CONFLICT.
  const changed = h('div', { 'aria-live': 'polite', 'data-changed': '' });
  const since = new Date(matter.updatedAt).getTime();
  watchMatters((notice) => {
    if (!route.isCurrent() || !body.isConnected) return false;
    if (notice.matterId === matter.id && new Date(notice.at).getTime() > since) {
      changed.replaceChildren(h('div', { class: 'notice', role: 'status' },
        `该事项已于 ${beijingTime(notice.at)} 被更新（${label(MATTER_EVENT, notice.kind)}），请刷新后再办理。`));
    }
    return true;
  });
  body.replaceChildren(
    h('h2', {}, `事项 ${matter.number}`),
    h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: refresh }, '刷新')),
    changed,
    facts(matter),
    actions(matter, refresh),
    clocks(matter), supervisions(matter, refresh), parties(matter), records(matter),
    writebacks(matter), timeline(matter),
  );
}

function facts(m) {
  const rows = [
    ['标题', m.title], ['简要情况', m.summary || '—'], ['来源', label(ORIGIN, m.origin)],
    ['环节', `${label(STEP, m.step)}${m.suspended ? '（已挂起）' : ''}`], ['状态', label(STATUS, m.status)],
    ['纠纷类别', label(CATEGORY, m.category)], ['风险等级', label(RISK, m.risk)],
    ['复杂程度', label(TIER, m.tier)], ['牵头单位', m.leadOrg || '—'], ['承办单位', m.assignedOrg || '—'],
    ['处置途径', label(TRACK, m.track)], ['处置结果', label(STATUS, m.result)], ['区划', m.region?.name ?? m.regionCode ?? '—'],
    ['登记时间', beijingTime(m.openedAt)], ['更新时间', beijingTime(m.updatedAt)],
    ['办理期限', m.overdue ? `已超期（${dueTime(m.dueAt)}）` : dueText(m)],
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
      h('td', {}, dueTime(c.dueAt)),
      h('td', {}, c.state === 'STOPPED' ? (c.met === false ? '已超期完成' : '已按期完成') : timeLeft(c.remainingSeconds)),
      h('td', {}, label(CLOCK_STATE, c.state))))))));
  return section;
}

function supervisions(m, refresh) {
  const section = h('section', {}, h('h3', {}, '督办'));
  if (!m.supervisions.length) return section.append(h('p', { class: 'muted' }, '无督办。')), section;
  section.append(h('ul', { 'data-supervisions': '' }, m.supervisions.map((s) => h('li', {},
    `${label(SUPERVISION_LEVEL, s.level)} → ${s.targetOrg}（${label(SUPERVISION_STATUS, s.status)}，`,
    `${beijingTime(s.issuedAt)}${s.automatic ? '，系统自动' : ''}）${s.reason ? `：${s.reason}` : ''}`,
    replyDue(m, s),
    s.reply ? `；回复：${s.reply}` : '',
    // only the organisation pressed replies (the API refuses anyone else)
    s.status === 'OPEN' && session.claims()?.org === s.targetOrg ? replyForm(s, refresh) : null,
    activeOrder(s) ? orderForms(s, refresh) : null))));
  return section;
}

// The reply deadline of an order still awaiting its reply (its running 督办回复 clock).
function replyDue(m, s) {
  const clock = m.clocks.find((c) => c.supervisionOrderId === s.id && c.state !== 'STOPPED' && c.dueAt);
  return s.status === 'OPEN' && clock ? `；回复期限 ${dueTime(clock.dueAt)}` : '';
}

function partiesTable(list) {
  return h('table', { 'data-parties': '' },
    h('thead', {}, h('tr', {}, ['身份', '姓名', '身份证号', '电话'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((p) => h('tr', {}, h('td', {}, label(PARTY_ROLE, p.role)),
      h('td', {}, p.name), h('td', {}, p.idNumber ?? '—'), h('td', {}, p.phone ?? '—')))));
}

// Masked as the API gives them; in full with pii:read after stating a purpose (X-Purpose).
function parties(m) {
  const section = h('section', {}, h('h3', {}, '当事人'));
  if (!m.parties.length) return section.append(h('p', { class: 'muted' }, '未登记当事人。')), section;
  const container = h('div', {}, partiesTable(m.parties));
  section.append(container);
  if (!session.hasScope('pii:read')) {
    container.append(h('p', { class: 'muted' }, '证件号和电话已脱敏；查看完整信息需要 pii:read 权限。'));
    return section;
  }
  container.append(revealForm(async (purpose) => {
    const revealed = await gql(QUERY_PARTIES_IDENTIFIERS, { id: m.id }, { purpose });
    container.replaceChildren(partiesTable(revealed.matter.parties),
      h('p', { class: 'success', role: 'status' }, `已按用途“${purpose}”显示完整信息，本次查询已记入审计日志。`));
  }));
  return section;
}

function records(m) {
  const section = h('section', {}, h('h3', {}, '关联记录'));
  if (!m.records.length) return section.append(h('p', { class: 'muted' }, '无关联记录（来访/来电登记的事项在关联来源记录后显示）。')), section;
  section.append(h('ul', { 'data-records': '' }, m.records.map((r) => h('li', {},
    h('a', { href: `#/record/${encodeURIComponent(r.id)}` }, r.title),
    `（${label(KIND, r.kind)}，${label(SOURCE, r.source)}，${label(STATUS, r.status)}，${beijingTime(r.occurredAt)}）`))));
  return section;
}

// 回写状态: what govhub sent to the departments' own systems for this matter, and how it went.
function writebacks(m) {
  const section = h('section', {}, h('h3', {}, '回写状态'));
  if (!m.writebacks.length) return section.append(h('p', { class: 'muted' }, '无回写。')), section;
  section.append(h('table', { 'data-writebacks': '' },
    h('thead', {}, h('tr', {}, ['目标系统', '内容', '状态', '尝试次数', '对方编号', '时间']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, m.writebacks.map((w) => h('tr', {},
      h('td', {}, label(SOURCE, w.system)), h('td', {}, label(WRITE_OPERATION, w.operation)),
      h('td', {}, label(WRITEBACK_STATE, w.state),
        w.lastErrorCode ? `（${WRITE_ERROR[w.lastErrorCode] ?? `错误代码 ${w.lastErrorCode}`}）` : ''),
      h('td', { class: 'num' }, String(w.attempts)), h('td', {}, w.targetRef || '—'),
      h('td', {}, beijingTime(w.updatedAt ?? w.createdAt)))))));
  return section;
}

function timeline(m) {
  return h('section', {}, h('h3', {}, '办理记录'), h('ol', { class: 'timeline', 'data-timeline': '' },
    m.timeline.map((e) => h('li', { 'data-action': e.action },
      h('strong', {}, label(MATTER_ACTION, e.action)),
      e.toStep && e.toStep !== e.fromStep ? ` ${label(STEP, e.fromStep)} → ${label(STEP, e.toStep)}` : '',
      h('div', { class: 'muted' }, `${beijingTime(e.at)} · ${actorName(e.actor)}（${label(ACTOR_KIND, e.actorKind)}${e.actorOrg ? `，${e.actorOrg}` : ''}）`),
      e.note ? h('div', {}, timelineNote(e.note)) : null))));
}

// The actions this step allows to this caller (the server decides; this offers the forms).