// 审计日志: the audit chain as the auditor reads it (auditLog, newest first, variables already
// masked by the API), filtered by subject and time, and the chain checked on demand.

import { gql } from '../api.js';
import { AUDIT_OUTCOME, ROLE, beijingTime, label } from '../labels.js';
import { h, field, alertBox, loading } from '../dom.js';
import { go } from '../nav.js';

const PAGE_SIZE = 50;
const QUERY_AUDIT = `
query AuditLog($first: Int, $after: String, $principal: String, $from: DateTime, $to: DateTime) {
  auditLog(first: $first, after: $after, principal: $principal, from: $from, to: $to) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { sequence occurredAt principal role org operation outcome purpose durationMs
            recordIds personIds }
  }
}`;
const QUERY_CHAIN = `query AuditChain { auditChainStatus { rowsChecked intact firstProblem { sequence description } } }`;

// A date typed as 2026-03-01 is a Beijing day.
const beijingDay = (text) => (text ? `${text}T00:00:00+08:00` : null);

function routeWith(params, changes) {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(changes)) {
    if (value) next.set(name, value); else next.delete(name);
  }
  const query = next.toString();
  return `audit${query ? `?${query}` : ''}`;
}

export async function page(main, { params }) {
  const principal = h('input', { name: 'principal', value: params.get('principal') ?? '', maxlength: 128 });
  const from = h('input', { name: 'from', type: 'date', value: params.get('from') ?? '' });
  const to = h('input', { name: 'to', type: 'date', value: params.get('to') ?? '' });
  const form = h('form', { class: 'filters', onsubmit: (event) => {
    event.preventDefault();
    go(routeWith(params, { principal: principal.value.trim(), from: from.value, to: to.value, after: '' }));
  } },
  field('访问主体', principal), field('起始日期（含）', from), field('截止日期（不含）', to),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, '查询')));
  const chain = h('div', { 'aria-live': 'polite', 'data-chain': '' });
  const check = h('button', { type: 'button', onclick: async () => {
    chain.replaceChildren(loading('正在校验审计链…'));
    try {
      const { auditChainStatus: s } = await gql(QUERY_CHAIN);
      chain.replaceChildren(h('p', { class: s.intact ? 'ok' : 'alert', role: s.intact ? null : 'alert' },
        s.intact ? `审计链完整，已校验 ${s.rowsChecked} 条。`
          : `审计链在第 ${s.firstProblem.sequence} 条处断开：${s.firstProblem.description}`));
    } catch (error) {
      chain.replaceChildren(alertBox(error));
    }
  } }, '校验审计链');
  const list = h('div', {}, loading());
  main.append(h('h2', {}, '审计日志'),
    h('p', { class: 'muted' }, '每一次查询与操作都记入不可篡改的哈希链；查询变量已脱敏。'),
    form, h('p', {}, check), chain, h('section', {}, h('h3', {}, '审计记录'), list));

  try {
    const { auditLog } = await gql(QUERY_AUDIT, {
      first: PAGE_SIZE, after: params.get('after') || null, principal: params.get('principal') || null,
      from: beijingDay(params.get('from')), to: beijingDay(params.get('to')),
    });
    const pager = h('p', { class: 'pager' },
      params.get('after') ? h('a', { href: `#/${routeWith(params, { after: '' })}` }, '第一页') : null,
      auditLog.pageInfo.hasNextPage
        ? h('a', { href: `#/${routeWith(params, { after: auditLog.pageInfo.endCursor })}` }, '下一页') : null);
    const rows = auditLog.nodes.map((e) => h('tr', { 'data-sequence': e.sequence },
      h('td', { class: 'num' }, e.sequence),
      h('td', {}, beijingTime(e.occurredAt)),
      h('td', {}, e.principal ?? '（未登录）'),
      h('td', {}, label(ROLE, e.role)),
      h('td', {}, e.org || '—'),
      h('td', {}, e.operation || '（匿名操作）'),
      h('td', {}, label(AUDIT_OUTCOME, e.outcome)),
      h('td', {}, e.purpose || '—'),
      h('td', { class: 'num' }, (e.recordIds?.length ?? 0) + (e.personIds?.length ?? 0)),
      h('td', { class: 'num' }, e.durationMs === null ? '—' : e.durationMs.toFixed(1))));
    list.replaceChildren(h('p', { 'data-total': '' }, `共 ${auditLog.totalCount} 条`),
      rows.length ? h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', { class: 'muted' }, '审计记录（新的在前）'),
        h('thead', {}, h('tr', {}, ['序号', '时间', '访问主体', '角色', '单位', '操作', '结果', '查询用途',
          '涉及个人信息条数', '耗时（毫秒）'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))) : h('p', { class: 'muted' }, '没有符合条件的审计记录。'), pager);
  } catch (error) {
    list.replaceChildren(alertBox(error));
  }
}
