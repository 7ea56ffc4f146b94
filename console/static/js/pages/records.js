// 记录: every record kind with filters, and one record with its parties and linked records.

import { gql } from '../api.js';
import { session } from '../session.js';
import {
  CATEGORY, CHANGE, DECISION, DIRECTION, EVIDENCE, KIND, LINK_KIND, PARTY_ROLE, RISK, SOURCE, STATUS,
  beijingTime, label,
} from '../labels.js';
import { h, field, options, alertBox, loading, toast } from '../dom.js';
import { go } from '../nav.js';
import { watchRecords } from '../live.js';
import { revealForm } from './reveal.js';
import { riskSection } from './risk.js';

const PAGE_SIZE = 20;
const QUERY_RECORDS = `
query Records($filter: RecordFilter, $first: Int, $after: String) {
  records(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind source title category status riskLevel occurredAt regionCode
                   region { name } } }
  }
}`;
const QUERY_REGION = `
query RegionChoices($code: String!) {
  region(code: $code) { code name children { code name children { code name } } }
}`;
const QUERY_RECORD = `
query Record($id: ID!) {
  node(id: $id) {
    id
    ... on Record { kind source sourceKey title category sourceCategory status sourceStatus
                    riskLevel occurredAt reportedAt regionCode region { name } }
  }
}`;
const QUERY_RECORD_TEXT = `
query RecordText($id: ID!) { node(id: $id) { ... on Record { summary address } } }`;
const QUERY_PARTIES = `
query RecordParties($id: ID!) {
  node(id: $id) { ... on Record { parties { role sourceRole name isOrganisation person { id name } } } }
}`;
const QUERY_PARTIES_IDENTIFIERS = `
query RecordPartiesIdentifiers($id: ID!) {
  node(id: $id) { ... on Record { parties { role sourceRole name isOrganisation idNumber phone
                                            person { id name } } } }
}`;
const QUERY_LINKS = `
query RecordLinks($id: ID!) {
  linkedRecords(id: $id) {
    id direction linkKind confidence evidence decision
    record { id kind source title occurredAt status }
  }
}`;
const MUTATION_CONFIRM = `
mutation ConfirmLink($id: ID!) {
  confirmLink(id: $id) {
    __typename
    ... on LinkDecided { id decision decidedBy decidedAt }
    ... on LinkDecisionError { code message }
  }
}`;
const MUTATION_REJECT = MUTATION_CONFIRM.replace(/ConfirmLink/g, 'RejectLink')
  .replace('confirmLink', 'rejectLink');
const DECISION_ERROR = {
  NOT_FOUND: '该关联已不存在或不在您的辖区内。', BAD_USER_INPUT: '关联编号无效。',
  CONFLICT: '该关联已被他人处理，请刷新后重试。',
};

function filterFrom(params) {
  const filter = {};
  for (const name of ['kind', 'category', 'status', 'riskLevel']) {
    const value = params.get(name);
    if (value) filter[name] = [value];
  }
  if (params.get('region')) filter.region = params.get('region');
  if (params.get('search')) filter.search = params.get('search');
  return filter;
}

export async function list(main, { params, isCurrent }) {
  const select = (name, table) => h('select', { name }, options(table, {
    blank: '全部', selected: params.get(name) ?? '' }));
  const form = h('form', { class: 'panel filters', role: 'search', 'aria-label': '筛选记录' },
    field('记录类型', select('kind', KIND)),
    field('纠纷类别', select('category', CATEGORY)),
    field('状态', select('status', STATUS)),
    field('风险等级', select('riskLevel', RISK)),
    field('区划代码', h('input', { name: 'region', value: params.get('region') ?? '',
      inputmode: 'numeric', autocomplete: 'off', list: 'region-choices' }), '含下级区划'),
    regionChoices(),
    field('关键词', h('input', { name: 'search', type: 'search', value: params.get('search') ?? '' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '查询'),
      h('button', { type: 'button', class: 'secondary', onclick: () => go('records') }, '重置')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) query.set(name, value);
    go(`records?${query}`);
  });
  const live = h('div', { 'aria-live': 'polite' });
  const results = h('div', {}, loading());
  main.append(h('h2', {}, '记录'), form, live, results);

  const filter = filterFrom(params);
  const after = params.get('after');
  let data;
  try {
    data = await gql(QUERY_RECORDS, { filter, first: PAGE_SIZE, after });
  } catch (error) {
    results.replaceChildren(alertBox(error));
    return;
  }
  const { totalCount, pageInfo, edges } = data.records;
  const rows = edges.map(({ node }) => h('tr', {},
    h('td', {}, beijingTime(node.occurredAt)),
    h('td', {}, label(KIND, node.kind)),
    h('td', {}, h('a', { href: `#/record/${encodeURIComponent(node.id)}` }, node.title)),
    h('td', {}, label(CATEGORY, node.category)),
    h('td', {}, label(STATUS, node.status)),
    h('td', {}, riskBadge(node.riskLevel)),
    h('td', {}, node.region?.name ?? node.regionCode ?? '区划不明'),
    h('td', {}, label(SOURCE, node.source))));
  const nextQuery = new URLSearchParams(params);
  nextQuery.set('after', pageInfo.endCursor ?? '');
  results.replaceChildren(
    h('p', {}, `共 ${totalCount} 条`),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'muted' }, '按发生时间由近及远'),
      h('thead', {}, h('tr', {}, ['发生时间', '类型', '标题', '类别', '状态', '风险', '区划', '来源']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 8 }, '没有符合条件的记录。'))))),
    h('div', { class: 'pager' },
      after ? h('button', { type: 'button', class: 'secondary', onclick: () => {
        const first = new URLSearchParams(params); first.delete('after'); go(`records?${first}`);
      } }, '回到第一页') : null,
      pageInfo.hasNextPage ? h('button', { type: 'button', onclick: () => go(`records?${nextQuery}`) },
        '下一页') : null));

  // Live: records a sync changes within this role's reach (recordChanges subscription).
  let changed = 0;
  watchRecords((change) => {
    if (!isCurrent()) return false;
    changed += 1;
    live.replaceChildren(h('div', { class: 'notice' }, `有 ${changed} 条记录刚刚同步变更（最近：`,
      label(CHANGE, change.change), ' ', label(KIND, change.kind), '）。 ',
      h('button', { type: 'button', class: 'secondary', onclick: reload }, '刷新列表')));
    return true;
  });
}

function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

// The regions of the signed-in jurisdiction, two levels down, as suggestions for the filter.
function regionChoices() {
  const list = h('datalist', { id: 'region-choices' });
  const codes = (session.claims()?.regions ?? []).slice(0, 5);
  Promise.all(codes.map((code) => gql(QUERY_REGION, { code }).catch(() => null))).then((answers) => {
    const seen = new Set();
    const add = (region, depth) => {
      if (!region || seen.has(region.code)) return;
      seen.add(region.code);
      list.append(h('option', { value: region.code }, `${'　'.repeat(depth)}${region.name}`));
      (region.children ?? []).forEach((child) => add(child, depth + 1));
    };
    answers.forEach((answer) => add(answer?.region, 0));
  });
  return list;
}

export function riskBadge(level) {
  return h('span', { class: `badge risk-${level}` }, label(RISK, level));
}

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

async function section(container, load) {
  container.replaceChildren(loading());
  try {
    container.replaceChildren(...[].concat(await load()));
  } catch (error) {
    container.replaceChildren(alertBox(error));
  }
}

export async function detail(main, { arg: id }) {
  const head = h('div', {}, loading());
  const text = h('div', {});
  const parties = h('div', {});
  const links = h('div', {});
  const risk = riskSection('record', id);
  main.append(h('p', {}, h('a', { href: '#/records' }, '← 返回记录列表')), head,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-labelledby': 'parties-title' },
        h('h3', { id: 'parties-title' }, '当事人'), parties),
      h('section', { class: 'panel', 'aria-labelledby': 'text-title' },
        h('h3', { id: 'text-title' }, '事由与地址'), text)),
    risk.node,
    h('section', { class: 'panel', 'aria-labelledby': 'links-title' },
      h('h3', { id: 'links-title' }, '关联记录（跨系统）'), links));
  await Promise.all([
    section(head, async () => {
      const { node } = await gql(QUERY_RECORD, { id });
      return [h('h2', {}, node.title), facts([
        ['记录类型', label(KIND, node.kind)],
        ['来源系统', `${label(SOURCE, node.source)}（编号 ${node.sourceKey}）`],
        ['纠纷类别', `${label(CATEGORY, node.category)}${node.sourceCategory ? `（源系统：${node.sourceCategory}）` : ''}`],
        ['状态', `${label(STATUS, node.status)}${node.sourceStatus ? `（源系统：${node.sourceStatus}）` : ''}`],
        ['风险等级', riskBadge(node.riskLevel)],
        ['发生时间', beijingTime(node.occurredAt)],
        ['上报时间', beijingTime(node.reportedAt)],
        ['区划', node.region?.name ?? node.regionCode ?? '区划不明'],
      ])];
    }),
    section(text, async () => {
      const { node } = await gql(QUERY_RECORD_TEXT, { id });
      return facts([['事由摘要', node.summary ?? '—'], ['地址', node.address ?? '—']]);
    }),
    section(parties, () => partiesSection(id, parties)),
    section(links, () => linksSection(id, links)),
    risk.load(),
  ]);
}

function partiesTable(list, withIdentifiers) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['角色', '姓名/名称', ...(withIdentifiers ? ['证件号', '电话'] : []), '人员档案']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((party) => h('tr', {},
      h('td', {}, label(PARTY_ROLE, party.role)),
      h('td', {}, party.name, party.isOrganisation ? '（单位）' : ''),
      withIdentifiers ? [h('td', {}, party.idNumber ?? '—'), h('td', {}, party.phone ?? '—')] : null,
      h('td', {}, party.person
        ? h('a', { href: `#/person/${encodeURIComponent(party.person.id)}` }, `查看 ${party.person.name} 的时间线`)
        : '未归并'))))));
}

async function partiesSection(id, container) {
  if (!session.hasScope('pii:read')) {
    // Without pii:read the API masks ID numbers and phones; show them so.
    const { node } = await gql(QUERY_PARTIES_IDENTIFIERS, { id });
    return [partiesTable(node.parties, true),
      h('p', { class: 'muted' }, '证件号和电话已脱敏；查看完整信息需要 pii:read 权限。')];
  }
  const { node } = await gql(QUERY_PARTIES, { id });
  return [partiesTable(node.parties, false), revealForm(async (purpose) => {
    const revealed = await gql(QUERY_PARTIES_IDENTIFIERS, { id }, { purpose });
    container.replaceChildren(partiesTable(revealed.node.parties, true),
      h('p', { class: 'success', role: 'status' }, `已按用途“${purpose}”显示完整信息，本次查询已记入审计日志。`));
  })];
}

function evidenceList(evidence) {
  const items = Array.isArray(evidence) ? evidence : [evidence];
  return h('ul', { class: 'evidence' }, items.map((item) => h('li', {},
    typeof item === 'object' && item !== null
      ? Object.entries(item).map(([key, value]) => `${label(EVIDENCE, key)}：${
        typeof value === 'object' ? JSON.stringify(value) : label(EVIDENCE, String(value))}`).join('；')
      : String(item))));
}

async function linksSection(id, container) {
  const { linkedRecords } = await gql(QUERY_LINKS, { id });
  if (!linkedRecords.length) return h('p', {}, '暂无关联记录。');
  const status = h('div', { 'aria-live': 'polite' });
  const decide = async (link, mutation, name, done) => {
    status.replaceChildren(loading('正在提交…'));
    try {
      const data = await gql(mutation, { id: link.id });
      const result = data[name];
      if (result.__typename === 'LinkDecisionError') {
        status.replaceChildren(alertBox({ message: DECISION_ERROR[result.code] ?? '操作未成功，请刷新后重试。' }));
        return;
      }
      toast(done);
      await section(container, () => linksSection(id, container));
      container.prepend(h('p', { class: 'success', role: 'status' }, done));
    } catch (error) {
      status.replaceChildren(alertBox(error));
    }
  };
  return [status, h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['关联记录', '关联类型', '方向', '置信度', '依据', '研判结果', '操作']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, linkedRecords.map((link) => h('tr', {},
      h('td', {}, link.record
        ? [h('a', { href: `#/record/${encodeURIComponent(link.record.id)}` }, link.record.title),
          h('div', { class: 'muted' }, `${label(SOURCE, link.record.source)} · ${beijingTime(link.record.occurredAt)}`)]
        : '（不在您的权限范围内）'),
      h('td', {}, label(LINK_KIND, link.linkKind)),
      h('td', {}, label(DIRECTION, link.direction)),
      h('td', { class: 'num' }, `${Math.round(link.confidence * 100)}%`),
      h('td', {}, evidenceList(link.evidence)),
      h('td', {}, link.decision ? label(DECISION, link.decision) : '待研判'),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `确认关联：${link.record?.title ?? ''}`,
          disabled: link.decision === 'CONFIRMED',
          onclick: () => decide(link, MUTATION_CONFIRM, 'confirmLink', '已确认关联。') }, '确认'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `驳回关联：${link.record?.title ?? ''}`,
          disabled: link.decision === 'REJECTED',
          onclick: () => decide(link, MUTATION_REJECT, 'rejectLink', '已驳回关联。') }, '驳回'))))))))];
}
