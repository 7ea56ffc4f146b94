// 风险预警: grades rising to the alert level, live (riskAlerts over graphql-transport-ws), each
// linking to its record or person; and the 风险研判 section of the record and person pages —
// level, rules in Chinese with what they saw, and for staff the override form
// (overrideRiskGrade: level and a required reason).

import { gql } from '../api.js';
import { watchRiskAlerts } from '../live.js';
import { session } from '../session.js';
import {
  KIND, RISK, RISK_EVIDENCE, RISK_OVERRIDE_ERROR, SOURCE, STATUS, beijingTime, label,
} from '../labels.js';
import { h, field, options, alertBox, loading, toast } from '../dom.js';

const QUERY_RECORD_RISK = `
query RecordRisk($id: ID!) {
  node(id: $id) { ... on Record { riskAssessment { level computedLevel assessedAt overriddenBy overriddenAt overrideReason rules { id description level evidence } } } }
}`;
const QUERY_RECORD_RISK_RULES = `
query RecordRiskRules($id: ID!) {
  node(id: $id) { ... on Record { riskAssessment { level computedLevel assessedAt overriddenBy overriddenAt overrideReason rules { id description level } } } }
}`;
const QUERY_PERSON_RISK = `
query PersonRisk($id: ID!) {
  person(id: $id) { riskAssessment { level computedLevel assessedAt overriddenBy overriddenAt overrideReason rules { id description level evidence } } }
}`;
const QUERY_PERSON_RISK_RULES = `
query PersonRiskRules($id: ID!) {
  person(id: $id) { riskAssessment { level computedLevel assessedAt overriddenBy overriddenAt overrideReason rules { id description level } } }
}`;
const MUTATION_OVERRIDE = `
mutation OverrideRiskGrade($id: ID!, $level: RiskLevel!, $reason: String!) {
  overrideRiskGrade(targetId: $id, level: $level, reason: $reason) {
    __typename
    ... on RiskOverridden { targetId assessment { level } }
    ... on RiskOverrideError { code message }
  }
}`;
// Roles that set grades by hand; the API refuses everyone else anyway (FORBIDDEN).
const OVERRIDERS = new Set(['center_staff', 'admin']);

function badge(level) {
  return h('span', { class: `badge risk-${level}` }, label(RISK, level));
}

// A global id names its type: "PoliceAlert:3" → a record, "Person:4" → a person.
export function targetOf(id) {
  let type = '';
  try { type = atob(id).split(':')[0]; } catch { /* not base64: treat as a record */ }
  return type === 'Person' ? { page: 'person', text: '人员' } : { page: 'record', text: '记录' };
}

function evidenceValue(key, value) {
  if (Array.isArray(value)) return value.map((v) => evidenceValue(key, v)).join('、');
  if (value && typeof value === 'object') {
    return Object.entries(value).map(([k, v]) => `${label(RISK_EVIDENCE, k)} ${evidenceValue(k, v)}`).join('；');
  }
  if (key === 'kinds' || key === 'kind' || key === 'to') return label(KIND, String(value));
  if (key === 'level' || key === 'levels' || key === 'previous' || key === 'sourceGrade') return label(RISK, String(value));
  if (key === 'from') {
    const [kind, status] = String(value).split(':');
    return `${label(KIND, kind)}（${label(STATUS, status)}）`;
  }
  if ((key === 'records' || key === 'record') && String(value).includes('/')) {
    const [source, ...rest] = String(value).split('/');
    return `${label(SOURCE, source)} ${rest.join('/')}`;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return beijingTime(value);
  return String(value ?? '—');
}

function evidenceSummary(evidence) {
  if (evidence === undefined) return null;
  const entries = evidence && typeof evidence === 'object' ? Object.entries(evidence) : [];
  if (!entries.length) return h('p', { class: 'muted' }, '证据：无');
  return h('ul', { class: 'evidence' }, entries.map(([key, value]) =>
    h('li', {}, `${label(RISK_EVIDENCE, key)}：${evidenceValue(key, value)}`)));
}

function assessmentView(grade, evidenceRefused) {
  if (!grade) return [h('p', {}, '尚未研判。')];
  const facts = [
    ['当前等级', badge(grade.level)],
    ['规则研判等级', badge(grade.computedLevel)],
    ['研判时间', beijingTime(grade.assessedAt)],
  ];
  if (grade.overriddenBy) {
    facts.push(['人工调整', `${grade.overriddenBy}，${beijingTime(grade.overriddenAt)}`],
      ['调整理由', grade.overrideReason ?? '—']);
  }
  return [
    h('dl', { class: 'facts' }, facts.map(([t, v]) => [h('dt', {}, t), h('dd', {}, v)])),
    h('h4', {}, '命中规则'),
    grade.rules.length ? h('ol', { class: 'rules' }, grade.rules.map((rule) => h('li', {},
      h('div', {}, badge(rule.level), ' ', rule.description, h('span', { class: 'muted' }, `（规则 ${rule.id}）`)),
      evidenceSummary(rule.evidence))))
      : h('p', {}, '没有命中任何规则。'),
    evidenceRefused ? h('p', { class: 'muted' }, '证据摘要含自由文本，您的角色无权查看。') : null,
  ];
}

async function readGrade(kind, id) {
  const [full, rulesOnly] = kind === 'person'
    ? [QUERY_PERSON_RISK, QUERY_PERSON_RISK_RULES] : [QUERY_RECORD_RISK, QUERY_RECORD_RISK_RULES];
  const pick = (data) => (kind === 'person' ? data.person : data.node)?.riskAssessment ?? null;
  try {
    return { grade: pick(await gql(full, { id })), evidenceRefused: false };
  } catch (error) {
    if (error.code !== 'FORBIDDEN') throw error;
    return { grade: pick(await gql(rulesOnly, { id })), evidenceRefused: true };
  }
}

function overrideForm(id, current, done) {
  const level = h('select', { name: 'overrideLevel', required: true }, options(RISK, { selected: current }));
  const reason = h('textarea', { name: 'overrideReason', rows: 2, maxlength: 500 });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { novalidate: true },
    h('fieldset', {}, h('legend', {}, '人工调整风险等级'),
      field('调整后等级', level),
      field('调整理由（必填）', reason, '说明依据，将记入审计日志；事实变化后由规则重新研判'),
      h('p', { class: 'actions' }, h('button', { type: 'submit' }, '调整等级')), status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      status.replaceChildren(alertBox({ message: '请填写调整理由。' }));
      reason.focus();
      return;
    }
    try {
      const { overrideRiskGrade: result } = await gql(MUTATION_OVERRIDE,
        { id, level: level.value, reason: reason.value.trim() });
      if (result.__typename === 'RiskOverrideError') {
        status.replaceChildren(alertBox({ message: RISK_OVERRIDE_ERROR[result.code] ?? '调整未成功，请刷新后重试。' }));
        return;
      }
      toast(`已将风险等级调整为${label(RISK, result.assessment.level)}。`);
      done();
    } catch (error) {
      status.replaceChildren(alertBox(error));
    }
  });
  return form;
}

// The 风险研判 section of a record ('record') or person ('person') page.
export function riskSection(kind, id) {
  const body = h('div', {}, loading());
  const render = async () => {
    try {
      const { grade, evidenceRefused } = await readGrade(kind, id);
      const role = session.claims()?.role;
      body.replaceChildren(...assessmentView(grade, evidenceRefused).filter(Boolean),
        ...(grade && OVERRIDERS.has(role) ? [overrideForm(id, grade.level, render)] : []));
    } catch (error) {
      body.replaceChildren(alertBox(error));
    }
  };
  return {
    node: h('section', { class: 'panel', 'aria-labelledby': `${kind}-risk-title` },
      h('h3', { id: `${kind}-risk-title` }, '风险研判'), body),
    load: render,
  };
}

export async function alerts(main) {
  const state = h('p', { class: 'muted', role: 'status' }, '正在连接预警推送…');
  const list = h('ol', { class: 'alerts' });
  const empty = h('p', {}, '本页打开以来尚未收到预警。新的红色预警会立即出现在这里。');
  const seen = new Set();
  main.append(h('h2', {}, '风险预警'),
    h('p', {}, '记录或人员的风险等级升至预警等级（默认红色）时实时推送，仅含您的角色可见、辖区内的对象。',
      '当前全部红色记录见', h('a', { href: '#/records?riskLevel=RED' }, '记录（风险等级：红色）'), '。'),
    state, h('section', { 'aria-labelledby': 'alerts-title' }, h('h3', { id: 'alerts-title' }, '实时预警'), empty, list));
  watchRiskAlerts((alert) => {
    if (!main.isConnected) return false;
    const key = `${alert.targetId}|${alert.raisedAt}`;
    if (seen.has(key)) return true;
    seen.add(key);
    empty.remove();
    const target = targetOf(alert.targetId);
    list.prepend(h('li', { class: `alert-item risk-edge-${alert.level}` },
      h('div', {}, badge(alert.level), ` 由${label(RISK, alert.previous)}升至${label(RISK, alert.level)}`,
        h('span', { class: 'muted' }, ` · ${beijingTime(alert.raisedAt)}`)),
      h('div', {}, h('a', { href: `#/${target.page}/${encodeURIComponent(alert.targetId)}` },
        `查看${target.text}`),
        h('span', { class: 'muted' }, `（${alert.kinds.map((k) => label(KIND, k)).join('、') || '—'}；区划 ${alert.regionCode ?? '不明'}）`))));
    return true;
  }, (what) => {
    state.textContent = {
      open: '已连接，正在实时接收预警。', closed: '预警推送连接已断开，请刷新页面重新连接。',
      error: '无法接收预警推送，请刷新页面或重新登录后重试。',
    }[what];
  });
}
