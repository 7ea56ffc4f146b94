// 同步与运维: where syncing each source system stands (syncStatus).

import { gql } from '../api.js';
import { BREAKER, RUN_STATUS, SOURCE, beijingTime, label } from '../labels.js';
import { h, alertBox, loading } from '../dom.js';

const QUERY_SYNC = `
query SyncStatus {
  syncStatus {
    source watermark breakerState consecutiveFailures breakerOpenedAt lastRunAt lastSuccessAt
    openDeadLetters
    lastRun { status full startedAt finishedAt fetched inserted updated unchanged deleted
              deadLettered retries }
  }
}`;

export async function sync(main) {
  const results = h('div', {}, loading());
  main.append(h('h2', {}, '同步与运维'), results,
    h('div', { class: 'notice' }, '死信明细与回写发件箱的查询接口尚未提供，暂不能在此查看或重放；',
      '可在服务器上使用 govhub deadletter list|replay。'));
  try {
    const { syncStatus } = await gql(QUERY_SYNC);
    const num = (value) => h('td', { class: 'num' }, value ?? '—');
    results.replaceChildren(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'muted' }, '各来源系统的同步状态'),
      h('thead', {}, h('tr', {}, ['来源系统', '熔断器', '连续失败', '最近同步', '最近成功', '最近批次',
        '拉取', '新增', '更新', '死信（未处理）', '同步水位'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, syncStatus.length ? syncStatus.map((s) => h('tr', {},
        h('th', { scope: 'row' }, label(SOURCE, s.source)),
        h('td', {}, h('span', { class: `badge${s.breakerState === 'CLOSED' ? '' : ' risk-RED'}` },
          label(BREAKER, s.breakerState)), s.breakerOpenedAt ? ` ${beijingTime(s.breakerOpenedAt)}` : ''),
        num(s.consecutiveFailures),
        h('td', {}, beijingTime(s.lastRunAt)),
        h('td', {}, beijingTime(s.lastSuccessAt)),
        h('td', {}, s.lastRun ? `${label(RUN_STATUS, s.lastRun.status)}${s.lastRun.full ? '（全量）' : '（增量）'}` : '—'),
        num(s.lastRun?.fetched), num(s.lastRun?.inserted), num(s.lastRun?.updated),
        num(s.openDeadLetters),
        h('td', {}, s.watermark ?? '—')))
        : h('tr', {}, h('td', { colspan: 11 }, '尚无同步记录。'))))));
  } catch (error) {
    results.replaceChildren(alertBox(error));
  }
}
