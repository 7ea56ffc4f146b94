// Pages whose API does not exist yet (待开放): they say so plainly and show no data.

import { h } from '../dom.js';

function placeholder(title, what, needs) {
  return async (main) => {
    main.append(h('h2', {}, title), h('div', { class: 'notice', role: 'status' },
      h('p', {}, `此功能尚未开放：${what}`),
      h('p', {}, `原因：服务器尚未提供${needs}接口。接口上线后此页面将直接使用，不会显示任何模拟数据。`)),
    h('p', {}, '现在可以使用：', h('a', { href: '#/records' }, '记录'), '、',
      h('a', { href: '#/persons' }, '人员'), '、', h('a', { href: '#/sync' }, '同步与运维'), '。'));
  };
}

export const worklist = placeholder('工作台',
  '按环节查看本人/本单位的事项、即将到期与已超期事项、督办事项，以及事项详情与流转操作。',
  '事项闭环（matters/matter）');
export const intake = placeholder('登记', '来访、来电事项登记（含身份证号、电话即时校验）。',
  '事项登记（事项闭环）');
