// 人员: find a person, their timeline across the five systems, and staff decisions on who is
// who (合并人员 / 拆分人员).

import { gql } from '../api.js';
import { session } from '../session.js';
import { KIND, PARTY_ROLE, SOURCE, STATUS, beijingTime, label } from '../labels.js';
import { h, field, alertBox, loading, toast } from '../dom.js';
import { go } from '../nav.js';
import { revealForm } from './reveal.js';
import { riskSection } from './risk.js';

const QUERY_PERSONS = `
query Persons($search: String, $first: Int) {
  persons(search: $search, first: $first) {
    totalCount
    nodes { id name regionCode region { name } }
  }
}`;
const QUERY_PERSON = `
query PersonTimeline($id: ID!) {
  person(id: $id) { id name regionCode region { name } }
  personTimeline(id: $id) {
    occurredAt kind roles mentionIds
    record { id title source sourceKey status }
  }
}`;
const QUERY_PERSON_IDENTIFIERS = `
query PersonIdentifiers($id: ID!) { person(id: $id) { id idNumber phone } }`;
const MUTATION_MERGE = `
mutation MergePersons($keepId: ID!, $mergeIds: [ID!]!) {
  mergePersons(keepId: $keepId, mergeIds: $mergeIds) {
    __typename
    ... on PersonsMerged { person { id name } }
    ... on LinkDecisionError { code message }
  }
}`;
const MUTATION_SPLIT = `
mutation SplitPerson($personId: ID!, $mentionIds: [ID!]!) {
  splitPerson(personId: $personId, mentionIds: $mentionIds) {
    __typename
    ... on PersonSplit { person { id name } splitOff { id name } }
    ... on LinkDecisionError { code message }
  }
}`;
const DECISION_ERROR = {
  NOT_FOUND: '人员或当事人记录不存在，或不在您的辖区内。',
  BAD_USER_INPUT: '输入有误：请检查人员编号，且不能选择全部记录拆分。',
  CONFLICT: '与已有的人工研判结果冲突，请刷新后重试。',
};

export async function search(main, { params }) {
  const name = h('input', { name: 'name', type: 'search', value: params.get('name') ?? '',
    autocomplete: 'off' });
  const form = h('form', { class: 'panel filters', role: 'search', 'aria-label': '查找人员' },
    field('姓名（前缀）', name), h('div', { class: 'actions' }, h('button', { type: 'submit' }, '查找')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(`persons?${new URLSearchParams({ name: name.value.trim() })}`);
  });
  const results = h('div', {}, loading());
  main.append(h('h2', {}, '人员'), form, results);
  try {
    const { persons } = await gql(QUERY_PERSONS, { search: params.get('name') || null, first: 50 });
    results.replaceChildren(h('p', {}, `共 ${persons.totalCount} 人${persons.totalCount > 50 ? '（显示前 50 人）' : ''}`),
      h('ul', {}, persons.nodes.map((p) => h('li', {},
        h('a', { href: `#/person/${encodeURIComponent(p.id)}` }, p.name),
        h('span', { class: 'muted' }, ` · ${p.region?.name ?? p.regionCode ?? '区划不明'}`)))));
  } catch (error) {
    results.replaceChildren(alertBox(error));
  }
}

export async function timeline(main, { arg: id }) {
  const root = h('div', {}, loading());
  main.append(h('p', {}, h('a', { href: '#/persons' }, '← 返回人员查找')), root);
  let data;
  try {
    data = await gql(QUERY_PERSON, { id });
  } catch (error) {
    root.replaceChildren(h('h2', {}, '人员时间线'), alertBox(error));
    return;
  }
  const { person, personTimeline } = data;
  const identifiers = h('div', {});
  const status = h('div', { 'aria-live': 'polite' });
  const decisionFailed = (result) => {
    status.replaceChildren(alertBox({ message: DECISION_ERROR[result.code] ?? '操作未成功，请刷新后重试。' }));
  };

  const boxes = [];
  const entries = personTimeline.map((entry, index) => {
    const box = h('input', { type: 'checkbox', name: `split-${index}`, id: `split-${index}`,
      value: entry.mentionIds.join(',') });
    boxes.push(box);
    return h('li', {},
      h('div', {}, h('strong', {}, beijingTime(entry.occurredAt)), ' · ', label(KIND, entry.kind),
        ' · ', label(SOURCE, entry.record.source), ' · ', label(STATUS, entry.record.status)),
      h('div', {}, h('a', { href: `#/record/${encodeURIComponent(entry.record.id)}` }, entry.record.title),
        h('span', { class: 'muted' }, `（${entry.roles.map((r) => label(PARTY_ROLE, r)).join('、')}；源编号 ${entry.record.sourceKey}）`)),
      h('label', { for: box.id }, box, ' 选中，拆分为另一人'));
  });

  const mergeId = h('input', { name: 'mergeId', autocomplete: 'off', required: true });
  const mergeForm = h('form', {},
    h('fieldset', {}, h('legend', {}, '合并人员：另一人员实为同一人时，并入本人员'),
      field('并入人员编号', mergeId, '在“人员”中查到对方后复制其编号（地址栏 #/person/ 之后的部分）'),
      h('p', { class: 'actions' }, h('button', { type: 'submit' }, '合并到本人员'))));
  const merge = async (other) => {
    try {
      const { mergePersons } = await gql(MUTATION_MERGE, { keepId: person.id, mergeIds: [other] });
      if (mergePersons.__typename === 'LinkDecisionError') return decisionFailed(mergePersons);
      toast('已合并人员。');
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (error) {
      status.replaceChildren(alertBox(error));
    }
  };
  mergeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const other = mergeId.value.trim();
    if (!other || other === person.id) {
      status.replaceChildren(alertBox({ message: '请填写另一人员的编号。' }));
      return;
    }
    merge(other);
  });
  const namesakes = h('div', {});
  const splitButton = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    const mentionIds = boxes.filter((b) => b.checked).flatMap((b) => b.value.split(',').filter(Boolean));
    if (!mentionIds.length) {
      status.replaceChildren(alertBox({ message: '请先在时间线中勾选要拆分出去的记录。' }));
      return;
    }
    try {
      const { splitPerson } = await gql(MUTATION_SPLIT, { personId: person.id, mentionIds });
      if (splitPerson.__typename === 'LinkDecisionError') return decisionFailed(splitPerson);
      toast('已拆分为新人员。');
      go(`person/${encodeURIComponent(splitPerson.splitOff.id)}`);
    } catch (error) {
      status.replaceChildren(alertBox(error));
    }
  } }, '将勾选的记录拆分为新人员');

  const risk = riskSection('person', person.id);
  root.replaceChildren(
    h('h2', {}, `人员时间线：${person?.name ?? ''}`),
    h('p', { class: 'muted' }, `人员编号 ${person?.id ?? id} · ${person?.region?.name ?? person?.regionCode ?? '区划不明'} · 共 ${personTimeline.length} 条记录，跨 ${new Set(personTimeline.map((e) => e.record.source)).size} 个系统`),
    status,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-labelledby': 'tl-title' },
        h('h3', { id: 'tl-title' }, '跨系统时间线'),
        entries.length ? h('ol', { class: 'timeline' }, entries) : h('p', {}, '暂无记录。'),
        entries.length > 1 ? h('p', { class: 'actions' }, splitButton) : null),
      h('section', { class: 'panel', 'aria-labelledby': 'id-title' },
        h('h3', { id: 'id-title' }, '身份信息'), identifiers,
        h('h3', {}, '人工研判'), namesakes, mergeForm)),
    risk.node);
  const riskLoaded = risk.load();

  // Persons of the same name (同名人员): the likeliest to merge, each a button away.
  try {
    const { persons } = await gql(QUERY_PERSONS, { search: person.name, first: 20 });
    const others = persons.nodes.filter((p) => p.id !== person.id && p.name === person.name);
    if (others.length) {
      namesakes.replaceChildren(h('p', { class: 'label' }, '同名人员（核实为同一人后可并入本人员）：'),
        h('ul', {}, others.map((p) => h('li', { class: 'actions' },
          h('a', { href: `#/person/${encodeURIComponent(p.id)}` },
            `${p.name}（${p.region?.name ?? p.regionCode ?? '区划不明'}，编号 ${p.id}）`),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `将编号 ${p.id} 的${p.name}并入本人员`,
            onclick: () => merge(p.id) }, '并入本人员')))));
    }
  } catch {
    // the list is a convenience; the form below still merges by number
  }

  if (session.hasScope('pii:read')) {
    identifiers.replaceChildren(revealForm(async (purpose) => {
      const revealed = await gql(QUERY_PERSON_IDENTIFIERS, { id: person.id }, { purpose });
      identifiers.replaceChildren(identityFacts(revealed.person),
        h('p', { class: 'success', role: 'status' }, `已按用途“${purpose}”显示完整信息，本次查询已记入审计日志。`));
    }));
  } else {
    try {
      const masked = await gql(QUERY_PERSON_IDENTIFIERS, { id: person.id });
      identifiers.replaceChildren(identityFacts(masked.person),
        h('p', { class: 'muted' }, '证件号和电话已脱敏；查看完整信息需要 pii:read 权限。'));
    } catch (error) {
      identifiers.replaceChildren(alertBox(error));
    }
  }
  await riskLoaded;
}

function identityFacts(person) {
  return h('dl', { class: 'facts' }, h('dt', {}, '身份证号'), h('dd', {}, person?.idNumber ?? '—'),
    h('dt', {}, '联系电话'), h('dd', {}, person?.phone ?? '—'));
}
