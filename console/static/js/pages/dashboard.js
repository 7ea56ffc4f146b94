// 综合态势: KPI tiles, the 12-month trend, records by county, by category and by risk level,
// the open RED list, the closed loop's KPI tiles with the handling duration and the overdue
// list — figures only (recordKpis, recordStats, openRisks, matterKpis, overdueMatters), so a
// dashboard_viewer sees the same page as centre staff. A small cell the API hides
// (suppressed: true) is shown as "<5", never as zero. 月研判报表 downloads a month's workbook
// (monthlyReport: XLSX in base64, counted as the page counts) for the page's region.

import { ApiError, gql } from '../api.js';
import { draw } from '../charts.js';
import { CATEGORY, KIND, KPI, REPORT_ERROR, RISK, STATUS, STEP, TRACK, beijingTime, dueTime, label } from '../labels.js';
import { h, field, alertBox, loading } from '../dom.js';
import { go } from '../nav.js';

const QUERY_KPIS = `
query DashboardKpis($filter: RecordFilter) {
  recordKpis(filter: $filter) {
    figures { kpi numerator denominator value suppressed
              definition { id name version numerator denominator scale text } }
  }
}`;
const QUERY_TOTAL = `
query DashboardTotal($filter: RecordFilter) { recordStats(filter: $filter) { count suppressed } }`;
const QUERY_TREND = `
query DashboardTrend($filter: RecordFilter) {
  recordStats(filter: $filter, bucket: MONTH) { key { period { label start } } count suppressed }
}`;
const QUERY_BY_COUNTY = `
query DashboardByCounty($filter: RecordFilter) {
  recordStats(filter: $filter, groupBy: [REGION], regionLevel: COUNTY) {
    key { regionCode region { name } } count suppressed
  }
}`;
const QUERY_BY_CATEGORY = `
query DashboardByCategory($filter: RecordFilter) {
  recordStats(filter: $filter, groupBy: [CATEGORY]) { key { category } count suppressed }
}`;
const QUERY_BY_RISK = `
query DashboardByRisk($filter: RecordFilter) {
  recordStats(filter: $filter, groupBy: [RISK_LEVEL]) { key { riskLevel } count suppressed }
}`;
const QUERY_OPEN_RISKS = `
query DashboardOpenRisks($filter: RecordFilter) {
  openRisks(level: RED, filter: $filter, first: 20) {
    kind category status riskLevel regionCode region { name } title occurredAt
  }
}`;
const QUERY_MATTER_KPIS = `
query DashboardMatterKpis($filter: MatterFilter, $since: DateTime, $until: DateTime) {
  matterKpis(filter: $filter, since: $since, until: $until) {
    figures { kpi numerator denominator value suppressed
              definition { id name version numerator denominator scale text } }
    duration { count p50Hours p90Hours suppressed definition version }
  }
}`;
const QUERY_OVERDUE = `
query DashboardOverdue($filter: MatterFilter) {
  overdueMatters(filter: $filter, first: 20) {
    number category step riskLevel track assignedOrg regionCode region { name } overdueSince
  }
}`;
const QUERY_REPORT = `
query DashboardReport($period: String!, $region: String) {
  monthlyReport(period: $period, region: $region) { filename contentType contentBase64 }
}`;

const SMALL = '<5'; // GOVHUB_STATS_MIN_CELL's default: counts 1–4 are hidden from this role
const RISK_COLOUR = { RED: '#c81e1e', YELLOW: '#c27803', BLUE: '#1c64f2', NONE: '#6b7280' };
const BRAND = '#1d4f91';

// This Beijing calendar month as [year, month], and a month counted from it as 2026-03.
function beijingMonth(now) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .format(now).split('-').map(Number);
}

function monthText(y, m) {
  const d = new Date(Date.UTC(y, m - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

// The last twelve Beijing calendar months, this one included: [from, to) as plain dates.
export function lastTwelveMonths(now = new Date()) {
  const [year, month] = beijingMonth(now);
  return { occurredFrom: `${monthText(year, month - 11)}-01`, occurredTo: `${monthText(year, month + 1)}-01` };
}

// The month before this one in Beijing time, as <input type="month"> holds it: 2026-11.
export function previousMonth(now = new Date()) {
  const [year, month] = beijingMonth(now);
  return monthText(year, month - 1);
}

export function countText(row) {
  if (row.suppressed) return SMALL;
  return row.count === null || row.count === undefined ? '—' : String(row.count);
}

function kpiValue(figure) {
  if (figure.suppressed) return SMALL;
  if (figure.value === null || figure.value === undefined) return '无法计算';
  const { scale } = figure.definition;
  return scale === 1 ? `${(figure.value * 100).toFixed(1)}%` : `${figure.value.toFixed(2)}（每${scale === 10000 ? '万' : scale}人）`;
}

function side(n, suppressed) {
  if (suppressed && (n === null || n === undefined)) return SMALL;
  return n === null || n === undefined ? '未知' : String(n);
}

function kpiTile(figure) {
  const d = figure.definition;
  const descId = `kpi-${figure.kpi}-def`;
  return h('article', { class: 'tile', dataset: { kpi: figure.kpi }, title: d.text, 'aria-describedby': descId },
    h('h3', {}, d.name || label(KPI, figure.kpi)),
    h('p', { class: 'tile-value' }, kpiValue(figure)),
    h('p', { class: 'tile-sides' },
      h('span', { dataset: { side: 'numerator' } }, `分子 ${side(figure.numerator, figure.suppressed)}`), ' / ',
      h('span', { dataset: { side: 'denominator' } }, `分母 ${side(figure.denominator, figure.suppressed)}`)),
    h('details', {}, h('summary', {}, '指标口径'),
      h('p', { id: descId, class: 'muted' }, `${d.text}（口径版本 ${d.version}）`)));
}

function hoursText(hours) {
  if (hours === null || hours === undefined) return '—';
  return hours >= 48 ? `${(hours / 24).toFixed(1)} 天` : `${hours.toFixed(1)} 小时`;
}

// The handling duration (办理时长): P50 and P90 of the period's closed matters.
function durationTile(duration) {
  const count = duration.suppressed ? SMALL : String(duration.count ?? 0);
  return h('article', { class: 'tile', dataset: { kpi: 'HANDLING_DURATION' }, title: duration.definition, 'aria-describedby': 'kpi-HANDLING_DURATION-def' },
    h('h3', {}, '办理时长'),
    h('p', { class: 'tile-value' }, duration.suppressed ? SMALL : `P50 ${hoursText(duration.p50Hours)}`),
    h('p', { class: 'tile-sides' },
      h('span', { dataset: { side: 'p90' } }, `P90 ${duration.suppressed ? SMALL : hoursText(duration.p90Hours)}`), ' / ',
      h('span', { dataset: { side: 'count' } }, `结案 ${count} 件`)),
    h('details', {}, h('summary', {}, '指标口径'),
      h('p', { id: 'kpi-HANDLING_DURATION-def', class: 'muted' }, `${duration.definition}（口径版本 ${duration.version}）`)));
}

function overdueTable(items) {
  if (!items.length) return h('p', {}, '当前没有逾期未结的事项。');
  return h('div', { class: 'table-wrap' }, h('table', { dataset: { figures: '逾期事项清单' } },
    h('thead', {}, h('tr', {}, ['逾期起算', '事项编号', '纠纷类别', '环节', '风险等级', '处置途径', '承办单位', '区划']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, items.map((item) => h('tr', {},
      h('td', {}, dueTime(item.overdueSince)), h('td', {}, item.number),
      h('td', {}, label(CATEGORY, item.category)), h('td', {}, label(STEP, item.step)),
      h('td', {}, label(RISK, item.riskLevel)), h('td', {}, item.track ? label(TRACK, item.track) : '未分流'),
      h('td', {}, item.assignedOrg ?? '—'),
      h('td', {}, item.region?.name ?? item.regionCode ?? '区划不明'))))));
}

function countTable(caption, heading, rows, name) {
  return h('details', { class: 'chart-data' }, h('summary', {}, `${caption}：数据表`),
    h('div', { class: 'table-wrap' }, h('table', { dataset: { figures: caption } },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, heading), h('th', { scope: 'col' }, '记录数'))),
      h('tbody', {}, rows.length ? rows.map((row) => h('tr', {},
        h('th', { scope: 'row' }, name(row)), h('td', { class: 'num' }, countText(row))))
        : h('tr', {}, h('td', { colspan: 2 }, '无数据。'))))));
}

// One chart panel: a titled section, the canvas (role img, its summary as label) and its table.
function panel(title, id) {
  const body = h('div', {}, loading());
  return { body, node: h('section', { class: 'panel chart-panel', 'aria-labelledby': id }, h('h3', { id }, title), body) };
}

async function chartPanel(target, { caption, heading, rows, name, chartOption, horizontal = false }) {
  const names = rows.map(name);
  const summary = `${caption}：${rows.map((row) => `${name(row)} ${countText(row)}`).join('，') || '无数据'}`;
  const canvas = h('div', { class: `chart${horizontal ? ' chart-tall' : ''}`, role: 'img', 'aria-label': summary });
  target.replaceChildren(canvas, countTable(caption, heading, rows, name));
  const values = rows.map((row) => (row.suppressed ? '-' : row.count));
  const axisNames = names.map((n, i) => (rows[i].suppressed ? `${n}（${SMALL}）` : n));
  try {
    await draw(canvas, chartOption(axisNames, values));
  } catch (error) {
    canvas.replaceWith(alertBox(error)); // the numbers stay, in the table
  }
}

const bars = (horizontal, colour = BRAND) => (names, values) => {
  const categoryAxis = { type: 'category', data: names, axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 } };
  const valueAxis = { type: 'value', minInterval: 1 };
  return {
    grid: { left: horizontal ? 110 : 40, right: 24, top: 16, bottom: horizontal ? 24 : 70 },
    tooltip: { trigger: 'axis' },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
    series: [{ type: 'bar', name: '记录数', data: values, itemStyle: { color: colour }, label: { show: true, position: horizontal ? 'right' : 'top' } }],
  };
};

// A file the API sent as base64, saved under its name (the browser's download).
function saveFile({ filename, contentType, contentBase64 }) {
  const bytes = Uint8Array.from(atob(contentBase64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: contentType }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // long after the download has started
}

// 月研判报表: a month (the previous one by default) of the page's region, else the
// jurisdiction's, as an XLSX workbook the API builds (monthlyReport).
function reportPanel(region) {
  const month = h('input', { type: 'month', name: 'period', value: previousMonth(), required: true,
    pattern: '[0-9]{4}-[0-9]{2}', placeholder: '2026-11' });
  const button = h('button', { type: 'submit' }, '下载');
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'filters' },
    field('报告月份', month, region ? `区划 ${region}；北京时间自然月` : '区划：本人辖区；北京时间自然月'),
    h('p', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!/^\d{4}-\d{2}$/.test(month.value)) {
      status.replaceChildren(alertBox(new Error('请选择报告月份，如 2026-11。')));
      return;
    }
    button.disabled = true;
    status.replaceChildren(loading('正在生成报表…'));
    try {
      const { monthlyReport } = await gql(QUERY_REPORT, { period: month.value, region });
      saveFile(monthlyReport);
      status.replaceChildren(h('p', { class: 'muted', role: 'status' }, `已下载 ${monthlyReport.filename}`));
    } catch (error) {
      const known = REPORT_ERROR[error.code] ?? (error instanceof ApiError ? error.message : null);
      status.replaceChildren(alertBox(new Error(known ?? '报表文件未能保存，请稍后重试。')));
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'report-title' },
    h('h3', { id: 'report-title' }, '月研判报表'),
    h('p', { class: 'muted' }, '下载一个月的研判报表（XLSX）：指标、按区划、按类别、按类型、风险等级、趋势和指标口径，',
      '只统计您的角色可见、辖区内的记录和事项；被小数抑制的单元格留空，并在备注栏注明“小数抑制”。'),
    form, status);
}

async function loadWith(target, query, variables, render) {
  try {
    const data = await gql(query, variables);
    await render(data);
  } catch (error) {
    target.replaceChildren(alertBox(error));
  }
}

const load = (target, query, filter, render) => loadWith(target, query, { filter }, render);

export async function page(main, { params }) {
  const window12 = lastTwelveMonths();
  const region = params.get('region') || null;
  const filter = { ...window12, region };
  const openFilter = { region };
  const regionInput = h('input', { name: 'region', value: region ?? '', inputmode: 'numeric', autocomplete: 'off', size: 12 });
  const form = h('form', { class: 'filters' },
    field('区划代码', regionInput, '留空为本人全部辖区；如 411202'),
    h('p', { class: 'actions' }, h('button', { type: 'submit' }, '查询')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = regionInput.value.trim();
    go(code ? `dashboard?region=${encodeURIComponent(code)}` : 'dashboard');
  });
  const period = `${filter.occurredFrom} 至 ${filter.occurredTo}（不含）`;
  const total = h('p', { class: 'muted', dataset: { total: '' } }, loading());
  const tiles = h('div', { class: 'tiles' }, loading());
  const trend = panel('12 个月趋势（按发生月份）', 'trend-title');
  const county = panel('按县区', 'county-title');
  const category = panel('按纠纷类别', 'category-title');
  const risk = panel('风险等级分布', 'risk-title');
  const red = h('div', {}, loading());
  const matterTiles = h('div', { class: 'tiles' }, loading());
  const overdue = h('div', {}, loading());
  const matterFilter = { region };
  const matterWindow = { since: filter.occurredFrom, until: filter.occurredTo };
  main.append(h('h2', {}, '综合态势'), form,
    h('p', { class: 'muted' }, `统计区间：近 12 个月，${period}，北京时间；只统计您的角色可见、辖区内的记录。`,
      `单元格不足 5 条时显示为“${SMALL}”（小数抑制）。`), reportPanel(region), total,
    h('section', { 'aria-labelledby': 'kpi-title' }, h('h3', { id: 'kpi-title' }, '关键指标'), tiles),
    trend.node, h('div', { class: 'grid2' }, county.node, category.node), risk.node,
    h('section', { class: 'panel', 'aria-labelledby': 'red-title' },
      h('h3', { id: 'red-title' }, '红色风险清单（未化解，最新 20 条）'), red),
    h('section', { 'aria-labelledby': 'matter-kpi-title' }, h('h3', { id: 'matter-kpi-title' }, '事项闭环指标'),
      h('p', { class: 'muted' }, '同一统计区间；按期办结率按结案日期计入，逾期未结的事项按到期日期计入并计为未按期；及时受理率按登记日期计入；回访与化解层级按结案日期计入。'),
      matterTiles),
    h('section', { class: 'panel', 'aria-labelledby': 'overdue-title' },
      h('h3', { id: 'overdue-title' }, '逾期事项清单（未结，最久逾期在前 20 条）'), overdue));

  await Promise.all([
    load(total, QUERY_TOTAL, filter, ({ recordStats }) => {
      total.replaceChildren(`记录总数：${recordStats.length ? countText(recordStats[0]) : '0'} 条`);
    }),
    load(tiles, QUERY_KPIS, filter, ({ recordKpis }) => {
      const figures = recordKpis[0]?.figures ?? [];
      tiles.replaceChildren(...(figures.length ? figures.map(kpiTile) : [h('p', {}, '无指标数据。')]));
    }),
    load(trend.body, QUERY_TREND, filter, ({ recordStats }) => chartPanel(trend.body, {
      caption: '12 个月趋势', heading: '月份', rows: recordStats,
      name: (row) => row.key.period?.label ?? '—',
      chartOption: (names, values) => ({
        grid: { left: 40, right: 24, top: 16, bottom: 40 }, tooltip: { trigger: 'axis' },
        xAxis: { type: 'category', data: names }, yAxis: { type: 'value', minInterval: 1 },
        series: [{ type: 'line', name: '记录数', data: values, connectNulls: false, itemStyle: { color: BRAND }, label: { show: true } }],
      }),
    })),
    load(county.body, QUERY_BY_COUNTY, filter, ({ recordStats }) => chartPanel(county.body, {
      caption: '按县区', heading: '县区', rows: recordStats,
      name: (row) => row.key.region?.name ?? row.key.regionCode ?? '区划不明', chartOption: bars(false),
    })),
    load(category.body, QUERY_BY_CATEGORY, filter, ({ recordStats }) => chartPanel(category.body, {
      caption: '按纠纷类别', heading: '纠纷类别', rows: recordStats, horizontal: true,
      name: (row) => label(CATEGORY, row.key.category), chartOption: bars(true),
    })),
    load(risk.body, QUERY_BY_RISK, filter, ({ recordStats }) => {
      const order = Object.keys(RISK);
      const rows = [...recordStats].sort((a, b) => order.indexOf(a.key.riskLevel) - order.indexOf(b.key.riskLevel));
      return chartPanel(risk.body, {
        caption: '风险等级分布', heading: '风险等级', rows,
        name: (row) => label(RISK, row.key.riskLevel),
        chartOption: (names, values) => ({
          ...bars(false)(names, values),
          series: [{ type: 'bar', name: '记录数', label: { show: true, position: 'top' },
            data: values.map((value, i) => ({ value, itemStyle: { color: RISK_COLOUR[rows[i].key.riskLevel] } })) }],
        }),
      });
    }),
    loadWith(matterTiles, QUERY_MATTER_KPIS, { filter: matterFilter, ...matterWindow }, ({ matterKpis }) => {
      const row = matterKpis[0];
      matterTiles.replaceChildren(...(row ? [...row.figures.map(kpiTile), durationTile(row.duration)] : [h('p', {}, '无指标数据。')]));
    }),
    load(overdue, QUERY_OVERDUE, matterFilter, ({ overdueMatters }) => {
      overdue.replaceChildren(overdueTable(overdueMatters));
    }),
    load(red, QUERY_OPEN_RISKS, openFilter, ({ openRisks }) => {
      red.replaceChildren(openRisks.length ? h('div', { class: 'table-wrap' }, h('table', { dataset: { figures: '红色风险清单' } },
        h('thead', {}, h('tr', {}, ['发生时间', '标题', '记录类型', '纠纷类别', '状态', '区划']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, openRisks.map((item) => h('tr', {},
          h('td', {}, beijingTime(item.occurredAt)), h('td', {}, item.title),
          h('td', {}, label(KIND, item.kind)), h('td', {}, label(CATEGORY, item.category)),
          h('td', {}, label(STATUS, item.status)),
          h('td', {}, item.region?.name ?? item.regionCode ?? '区划不明'))))))
        : h('p', {}, '当前没有未化解的红色风险记录。'));
    }),
  ]);
}
