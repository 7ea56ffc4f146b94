// 同步与运维: where syncing each source system stands (syncStatus); for administrators also
// the dead letters (deadLetters, 重放) and the write-back outbox per target (writebackBacklog,
// 重试/撤销). What is shown follows the API's `viewer.rights`, not the role's name.

import { gql } from '../api.js';
import {
  BREAKER, RUN_STATUS, SOURCE, WRITEBACK_STATE, WRITE_OPERATION, beijingTime, errorMessage, label,
  syncRunProblem,
} from '../labels.js';
import { h, alertBox, loading } from '../dom.js';
import { currentViewer, hasRight } from '../viewer.js';

const DEAD_LETTER_PAGE = 20;
const SYNC_COLUMNS = ['来源系统', '熔断器', '连续失败', '最近同步', '最近成功', '最近批次',
  '拉取', '新增', '更新', '死信（未处理）', '同步水位'];
const QUERY_SYNC = `
query SyncStatus {
  syncStatus {
    source watermark breakerState consecutiveFailures breakerOpenedAt lastRunAt lastSuccessAt
    openDeadLetters
    lastRun { status full startedAt finishedAt fetched inserted updated unchanged deleted
              deadLettered retries error }
  }
}`;
const QUERY_DEAD_LETTERS = `
query DeadLetters($first: Int, $after: String) {
  deadLetters(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id source sourceKey errorCode reason attempts receivedAt lastSeenAt }
  }
}`;
const QUERY_BACKLOG = `
query WritebackBacklog {
  writebackBacklog {
    target oldestOpenSeconds states { state count }
    open { id operation reference matter state attempts lastErrorCode lastError nextAttemptAt }
  }
}`;
const MUTATION_REPLAY = `
mutation ReplayDeadLetter($id: Int!) { replayDeadLetter(id: $id) { ingested letter { id errorCode } } }`;
const MUTATION_RETRY = `
mutation RetryWriteBack($id: Int!) { retryWriteBack(id: $id) { changed writeBack { id state } } }`;
const MUTATION_CANCEL = `
mutation CancelWriteBack($id: Int!) { cancelWriteBack(id: $id) { changed writeBack { id state } } }`;
// What the API answers when the hub has no sources file to parse a dead letter with.
const OPS_ERROR = { SERVICE_UNAVAILABLE: '服务器未配置数据源，暂不能重放死信。' };
const RETRYABLE = new Set(['DEAD', 'FAILED', 'CANCELLED']);
const CANCELLABLE = new Set(['PENDING', 'UNKNOWN', 'DEAD', 'FAILED']);

const num = (value) => h('td', { class: 'num' }, value ?? '—');
const headings = (titles) => h('thead', {}, h('tr', {}, titles.map((t) => h('th', { scope: 'col' }, t))));
const failure = (error) => OPS_ERROR[error.code] ?? errorMessage(error.code ?? 'INTERNAL_SERVER_ERROR');

function age(seconds) {
  if (!seconds) return '无';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} 分钟`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} 小时`;
  return `${(seconds / 86400).toFixed(1)} 天`;
}

async function syncSection(box) {
  const { syncStatus } = await gql(QUERY_SYNC);
  box.replaceChildren(h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'muted' }, '各来源系统的同步状态'),
    headings(SYNC_COLUMNS),
    h('tbody', {}, syncStatus.map((s) => [h('tr', { 'data-source': s.source },
      h('th', { scope: 'row' }, label(SOURCE, s.source)),
      h('td', {}, h('span', { class: `badge${s.breakerState === 'CLOSED' ? '' : ' risk-RED'}` },
        label(BREAKER, s.breakerState)), s.breakerOpenedAt ? ` ${beijingTime(s.breakerOpenedAt)}` : ''),
      num(s.consecutiveFailures),
      h('td', {}, beijingTime(s.lastRunAt)),
      h('td', {}, beijingTime(s.lastSuccessAt)),
      h('td', {}, s.lastRun ? `${label(RUN_STATUS, s.lastRun.status)}${s.lastRun.full ? '（全量）' : '（增量）'}` : '—'),
      num(s.lastRun?.fetched), num(s.lastRun?.inserted), num(s.lastRun?.updated),
      num(s.openDeadLetters),
      h('td', { 'data-watermark': '' }, watermarkText(s.watermark))), runProblem(s)])))));
}

// 同步水位: where the next incremental sync resumes, as the connector wrote it. An instant
// (UTC or with its offset) in Beijing time like every other time here; a file name as it is.
function watermarkText(watermark) {
  if (!watermark) return '—';
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(watermark) ? beijingTime(watermark) : watermark;
}

// Under a source whose last run did not succeed, a row across the table: why, in Chinese, and
// the error as the hub recorded it (it names the source and, for HTTP, the status).
function runProblem(s) {
  const problem = syncRunProblem(s.lastRun);
  if (!problem) return null;
  return h('tr', { class: 'run-problem', 'data-run-problem': s.source },
    h('td', { colspan: SYNC_COLUMNS.length },
      h('strong', {}, `${label(SOURCE, s.source)}最近批次未成功：`), problem,
      s.lastRun.error ? h('div', { class: 'muted' }, `原文：${s.lastRun.error}`) : null));
}

async function deadLetterSection(box, status, params) {
  const after = params.get('after') || null;
  const { deadLetters } = await gql(QUERY_DEAD_LETTERS, { first: DEAD_LETTER_PAGE, after });
  const replay = (letter) => async (event) => {
    event.target.disabled = true;
    try {
      const { replayDeadLetter: r } = await gql(MUTATION_REPLAY, { id: letter.id });
      status.textContent = r.ingested ? `死信 ${letter.id} 已重放并入库。`
        : `死信 ${letter.id} 重放后仍无法解析（${r.letter.errorCode}），请修正映射后再试。`;
      await deadLetterSection(box, status, params);
    } catch (error) {
      status.textContent = failure(error);
      event.target.disabled = false;
    }
  };
  const pager = h('p', { class: 'pager' },
    after ? h('a', { href: '#/sync' }, '第一页') : null,
    deadLetters.pageInfo.hasNextPage
      ? h('a', { href: `#/sync?after=${encodeURIComponent(deadLetters.pageInfo.endCursor)}` }, '下一页') : null);
  box.replaceChildren(h('p', { 'data-dead-total': '' }, `未处理死信共 ${deadLetters.totalCount} 条`),
    deadLetters.nodes.length ? h('div', { class: 'table-wrap' }, h('table', { 'data-dead-letters': '' },
      h('caption', { class: 'muted' }, '无法入库的来源记录（新的在前；原始报文加密保存，不在此显示）'),
      headings(['编号', '来源系统', '来源编号', '错误码', '原因', '处理次数', '接收时间', '最近处理', '操作']),
      h('tbody', {}, deadLetters.nodes.map((d) => h('tr', { 'data-letter': d.id },
        h('th', { scope: 'row' }, String(d.id)), h('td', {}, label(SOURCE, d.source)),
        h('td', {}, d.sourceKey ?? '—'), h('td', {}, d.errorCode), h('td', {}, d.reason),
        num(d.attempts), h('td', {}, beijingTime(d.receivedAt)), h('td', {}, beijingTime(d.lastSeenAt)),
        h('td', {}, h('button', { type: 'button', onclick: replay(d) }, '重放'))))))) : h('p', { class: 'muted' }, '没有未处理的死信。'),
    pager);
}

async function outboxSection(box, status) {
  const { writebackBacklog } = await gql(QUERY_BACKLOG);
  const act = (mutation, done) => (write) => async (event) => {
    event.target.disabled = true;
    try {
      const data = await gql(mutation, { id: write.id });
      const change = Object.values(data)[0];
      status.textContent = change.changed
        ? `回写 ${write.id} ${done}，当前状态：${label(WRITEBACK_STATE, change.writeBack.state)}。`
        : `回写 ${write.id} 当前状态（${label(WRITEBACK_STATE, change.writeBack.state)}）不允许此操作。`;
      await outboxSection(box, status);
    } catch (error) {
      status.textContent = failure(error);
      event.target.disabled = false;
    }
  };
  const retry = act(MUTATION_RETRY, '已重新排队（先向对方核对再发送）');
  const cancel = act(MUTATION_CANCEL, '已撤销');
  if (!writebackBacklog.length) {
    box.replaceChildren(h('p', { class: 'muted' }, '发件箱为空：没有待回写的记录。'));
    return;
  }
  box.replaceChildren(...writebackBacklog.map((t) => h('section', { 'data-target': t.target },
    h('h4', {}, `目标系统：${label(SOURCE, t.target)}`),
    h('p', {}, t.states.map((s) => `${label(WRITEBACK_STATE, s.state)} ${s.count}`).join('；'),
      `。最久未完成：${age(t.oldestOpenSeconds)}`),
    t.open.length ? h('div', { class: 'table-wrap' }, h('table', { 'data-outbox': t.target },
      h('caption', { class: 'muted' }, `发往${label(SOURCE, t.target)}尚未完成或已撤销的回写（早的在前）`),
      headings(['编号', '回写内容', '外部编号', '所属事项', '状态', '尝试次数', '最近错误', '下次尝试', '操作']),
      h('tbody', {}, t.open.map((w) => h('tr', { 'data-write': w.id },
        h('th', { scope: 'row' }, String(w.id)), h('td', {}, label(WRITE_OPERATION, w.operation)),
        h('td', {}, w.reference), h('td', {}, w.matter ?? '—'),
        h('td', {}, label(WRITEBACK_STATE, w.state)), num(w.attempts),
        h('td', {}, w.lastErrorCode ? `${w.lastErrorCode}${w.lastError ? `：${w.lastError}` : ''}` : '—'),
        h('td', {}, beijingTime(w.nextAttemptAt)),
        h('td', {}, RETRYABLE.has(w.state) ? h('button', { type: 'button', onclick: retry(w) }, '重试') : null,
          CANCELLABLE.has(w.state) ? h('button', { type: 'button', onclick: cancel(w) }, '撤销') : null)))))) : null)));
}

export async function sync(main, { params }) {
  const syncBox = h('div', {}, loading());
  main.append(h('h2', {}, '同步与运维'), h('section', {}, h('h3', {}, '同步状态'), syncBox));
  const viewer = await currentViewer();
  const admin = hasRight(viewer, 'administration');
  const status = h('p', { role: 'status', 'data-ops-status': '' });
  const deadBox = h('div', {}, loading());
  const outboxBox = h('div', {}, loading());
  if (admin) {
    main.append(status, h('section', {}, h('h3', {}, '死信'), deadBox),
      h('section', {}, h('h3', {}, '回写发件箱'), outboxBox));
  } else {
    main.append(h('p', { class: 'muted' }, '死信与回写发件箱仅系统管理员可见。'));
  }
  const guarded = (work, box) => work.catch((error) => box.replaceChildren(alertBox(error)));
  await Promise.all([
    guarded(syncSection(syncBox), syncBox),
    admin ? guarded(deadLetterSection(deadBox, status, params), deadBox) : null,
    admin ? guarded(outboxSection(outboxBox, status), outboxBox) : null,
  ]);
}
