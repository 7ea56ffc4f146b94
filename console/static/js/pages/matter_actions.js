// 办理操作: the forms of the actions a matter's step allows the caller (centre staff or a
// partner organisation), each sent with the version the page showed (expectedVersion), so a
// change made meanwhile answers CONFLICT; every MatterError code is shown in Chinese.

import { gql } from '../api.js';
import { session } from '../session.js';
import {
  CATEGORY, CLOCK_UNIT, MATTER_ERROR, OUTCOME, RISK, SATISFACTION, STATUS, SUPERVISION_LEVEL, TIER, TRACK, label,
} from '../labels.js';
import { h, field, options, alertBox, toast } from '../dom.js';

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
const MUTATION_EXTEND = `
mutation Extend($id: ID!, $input: ExtendClockInput!, $v: Int) {
  extendMatterClock(id: $id, input: $input, expectedVersion: $v) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_SUPERVISE = `
mutation Supervise($id: ID!, $input: SuperviseMatterInput!, $v: Int) {
  superviseMatter(id: $id, input: $input, expectedVersion: $v) { __typename ... on SupervisionChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_REPLY = `
mutation Reply($id: ID!, $reply: String!, $v: Int) {
  replySupervision(id: $id, reply: $reply, expectedVersion: $v) { __typename ... on SupervisionChanged { matter { id step version } } ... on MatterError { code message } } }`;

const MUTATION_CLOSE_ORDER = `
mutation CloseOrder($id: ID!, $reason: String!, $v: Int) {
  closeSupervision(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on SupervisionChanged { matter { id step version } } ... on MatterError { code message } } }`;
const MUTATION_ESCALATE_ORDER = `
mutation EscalateOrder($id: ID!, $reason: String!, $v: Int) {
  escalateSupervision(id: $id, reason: $reason, expectedVersion: $v) { __typename ... on SupervisionChanged { matter { id step version } } ... on MatterError { code message } } }`;
// 并案: the matters merged are named by their numbers (编号), as staff read them in 工作台.
const MUTATION_MERGE = `
mutation Merge($keepId: ID!, $mergeIds: [ID!]!, $reason: String!) {
  mergeMatters(keepId: $keepId, mergeIds: $mergeIds, reason: $reason) { __typename ... on MatterChanged { matter { id step version } } ... on MatterError { code message } } }`;
const QUERY_MATTER_NUMBER = `
query MatterByNumber($text: String!) { matters(filter: {text: $text}, first: 5) { nodes { id number } } }`;

// Each number's matter among those the caller may see, or an error naming the first not found.
async function matterIds(numbers) {
  const ids = [];
  for (const number of numbers) {
    const { matters } = await gql(QUERY_MATTER_NUMBER, { text: number });
    const found = matters.nodes.find((m) => m.number === number);
    if (!found) throw new Error(`未找到事项 ${number}（或不在您的辖区内），未并案。`);
    ids.push(found.id);
  }
  return ids;
}

const STAFF_ROLES = new Set(['admin', 'center_staff']);
const isStaff = () => STAFF_ROLES.has(session.claims()?.role);
const HANDLING = new Set(['ACCEPTED', 'ASSESSED', 'RETURNED', 'DISPATCHED', 'IN_PROGRESS']);
const OPEN = new Set(['REGISTERED', ...HANDLING, 'FED_BACK', 'VERIFIED']);
const RESULT = { RESOLVED: STATUS.RESOLVED, FAILED: STATUS.FAILED };
// What a suspended matter still takes: 恢复, 撤回, 延期 (domain/workflow/transitions.py) and 督办.
const WHILE_SUSPENDED = new Set(['resume', 'withdraw', 'extend', 'supervise']);
// 未分流 (已登记/已受理/已研判/已退回): no department reports; the source's own 办结 is verified.
const UNDISPATCHED = new Set(['REGISTERED', 'ACCEPTED', 'ASSESSED', 'RETURNED']);
// 来源系统已办结: the sync recorded the ORIGIN record's conclusion on the timeline.
const sourceConcluded = (m) => (m.timeline ?? []).some((e) => e.action === 'RECORD_FACT'
  && (e.details ?? []).some((d) => d.key === 'fact' && d.value === 'SOURCE_CONCLUDED'));

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
    if (UNDISPATCHED.has(m.step) && !m.suspended && sourceConcluded(m)) {
      // the source's result becomes the matter's (核查), then 结案 as any verified matter
      list.push({ key: 'verify-source', title: '核查来源办结结果', doc: MUTATION_VERIFY, field: 'verifyMatter',
        fields: [note], vars: (x) => ({ id, note: x.note, v }) });
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
    if (m.step === 'REVISITED' && m.satisfaction === 'DISSATISFIED') {  // 回访不满意 only
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
      vars: (x) => ({ id, v, input: { level: x.level, targetOrg: x.targetOrg, reason: x.reason } }) });
      list.push({ key: 'merge', title: '并案', doc: MUTATION_MERGE, field: 'mergeMatters', fields: [
        { name: 'numbers', label: '并入事项编号（多个以逗号或空格分隔）', kind: 'text', required: true }, reason],
      vars: async (x) => ({ keepId: id, reason: x.reason,
        mergeIds: await matterIds([...new Set(x.numbers.split(/[\s,，、;；]+/).filter(Boolean))]) }),
      errors: {
        ILLEGAL_TRANSITION: '被并入的事项已结案、已回访或已撤回，不能并案；请核对事项编号。',
        BAD_USER_INPUT: '请填写本事项以外的事项编号（最多 100 件）和理由。',
      } });
      list.push({ key: 'withdraw', title: '撤回（不予受理）', doc: MUTATION_WITHDRAW, field: 'withdrawMatter', fields: [reason],
        vars: (x) => ({ id, reason: x.reason, v }) });
    }
  }
  // 延期: the clocks the API says this reader may extend now (staff, or the department its own
  // limits; running, not yet due, some extension left under the rule)
  const running = (m.clocks ?? []).filter((c) => c.extendable);
  if ((OPEN.has(m.step) || m.step === 'CLOSED') && running.length) {
    const clocks = Object.fromEntries(running.map((c) => [c.ruleId, `${c.ruleName}（${c.budget} ${label(CLOCK_UNIT, c.unit)}）`]));
    list.push({ key: 'extend', title: '延期', doc: MUTATION_EXTEND, field: 'extendMatterClock', fields: [
      { name: 'ruleId', label: '时限', kind: 'select', table: clocks },
      { name: 'amount', label: '延长量（按该时限的计算单位）', kind: 'text', required: true },
      { name: 'reason', label: '延期理由', kind: 'textarea', required: true },
      { name: 'approval', label: '审批（批准人、文号）', kind: 'text' }],
    vars: (x) => ({ id, v, input: { ruleId: x.ruleId, amount: Number.parseInt(x.amount, 10), reason: x.reason, approval: x.approval } }),
    // what the rule refuses, in its own words rather than the step's
    errors: {
      ILLEGAL_TRANSITION: '该时限依规则不可延期，或已届满（延期须在期限届满前申请），或已停止计时，请刷新后查看。',
      BAD_USER_INPUT: '延期超出该时限规则允许的总量，或缺少审批信息（批准人、文号）。',
      FORBIDDEN: '该时限只能由综治中心延期，或您的单位无权对该事项延期。',
    } });
  }
  if (!staff) {
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
  // 挂起: the steps wait for 恢复 (the API answers them ILLEGAL_TRANSITION meanwhile)
  return m.suspended ? list.filter((spec) => WHILE_SUSPENDED.has(spec.key)) : list;
}

export function actions(m, refresh) {
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
export function actionForm(spec, refresh) {
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
      const answer = (await gql(spec.doc, await spec.vars(values)))[spec.field];
      if (answer.__typename === 'MatterError') {
        outcome.replaceChildren(h('div', { class: 'alert', role: 'alert', 'data-code': answer.code },
          spec.errors?.[answer.code] ?? label(MATTER_ERROR, answer.code)));
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

// Staff close (办结) an order open or replied, or escalate it to the level above (督办升级).
export function orderForms(order, refresh) {
  if (!isStaff()) return null;
  const reason = [{ name: 'reason', label: '理由', kind: 'textarea', required: true }];
  const vars = (v) => ({ id: order.id, reason: v.reason, v: order.version });
  return h('div', { class: 'action-forms' },
    actionForm({ key: `close-order-${order.id}`, title: '办结督办', doc: MUTATION_CLOSE_ORDER,
      field: 'closeSupervision', fields: reason, vars }, refresh),
    // 挂牌督办 from a province has nothing above it: the API refuses 督办升级
    order.escalatable
      ? actionForm({ key: `escalate-order-${order.id}`, title: '督办升级', doc: MUTATION_ESCALATE_ORDER,
        field: 'escalateSupervision', fields: reason, vars }, refresh)
      : h('p', { class: 'muted' }, '已是挂牌督办，且督办主体没有上级区划，不能再升级。'));
}

// The reply to an open 督办 (回复督办), by the organisation it was issued to.
export function replyForm(order, refresh) {
  return actionForm({
    key: `reply-${order.id}`, title: '回复督办', doc: MUTATION_REPLY, field: 'replySupervision',
    fields: [{ name: 'reply', label: '回复内容', kind: 'textarea', required: true }],
    vars: (v) => ({ id: order.id, reply: v.reply, v: order.version }),
  }, refresh);
}
