// 登录: paste a bearer token, or (dev only) have the server mint one for a demo role.

import { gql, ApiError } from '../api.js';
import { session } from '../session.js';
import { ROLE } from '../labels.js';
import { h, field, options, alertBox } from '../dom.js';
import { go } from '../nav.js';

const MUTATION_DEV_TOKEN = `
mutation DevToken($role: String!, $regions: [String!]!, $scopes: [String!]) {
  devToken(role: $role, regions: $regions, scopes: $scopes) { token role regions expiresAt }
}`;
const QUERY_CHECK = 'query SignInCheck { version }';
const DEMO_REGIONS = [
  ['411200', '三门峡市'], ['411202', '湖滨区'], ['510100', '成都市'], ['410100', '郑州市'],
];
const REGION_CODE = /^\d{6}(\d{3})?(\d{3})?$/;

export async function page(main, { params }) {
  const next = params.get('next') || 'records';
  const message = h('div', { 'aria-live': 'assertive' });
  const done = () => go(next.startsWith('login') ? 'records' : next);

  const tokenBox = h('textarea', { name: 'token', rows: 4, cols: 60, required: true,
    autocomplete: 'off', spellcheck: 'false' });
  const pasteForm = h('form', { class: 'panel', 'aria-labelledby': 'paste-title' },
    h('h3', { id: 'paste-title' }, '使用访问令牌登录'),
    field('访问令牌（Bearer JWT）', tokenBox, '由单位统一身份认证系统签发，粘贴在此处。'),
    h('p', { class: 'actions' }, h('button', { type: 'submit' }, '登录')));
  pasteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = tokenBox.value.trim().replace(/^Bearer\s+/i, '');
    if (!session.looksValid(token)) {
      message.replaceChildren(alertBox({ message: '这不是有效的访问令牌，请检查是否完整粘贴。' }));
      return;
    }
    session.signIn(token);
    try {
      await gql(QUERY_CHECK, {}, { quiet: true });
      done();
    } catch (error) {
      session.signOut();
      message.replaceChildren(alertBox(error));
    }
  });

  const role = h('select', { name: 'role' }, options(ROLE, { selected: 'center_staff' }));
  const regions = h('input', { name: 'regions', value: '411200', list: 'demo-regions',
    autocomplete: 'off', inputmode: 'numeric' });
  const pii = h('input', { type: 'checkbox', name: 'pii', id: 'dev-pii' });
  const devForm = h('form', { class: 'panel', 'aria-labelledby': 'dev-title' },
    h('h3', { id: 'dev-title' }, '开发环境：选择演示角色'),
    h('p', { class: 'muted' }, '仅在开发环境（GOVHUB_ENV=dev）由服务器签发演示令牌，生产环境不提供。'),
    h('div', { class: 'filters' },
      field('角色', role),
      field('辖区区划代码', regions, '多个代码用逗号分隔，如 411200（三门峡市）'),
      h('datalist', { id: 'demo-regions' },
        DEMO_REGIONS.map(([code, name]) => h('option', { value: code }, name))),
      h('div', { class: 'field' }, h('span', { class: 'label', id: 'pii-label' }, '个人信息权限'),
        h('label', { for: 'dev-pii' }, pii, ' 包含 pii:read（说明用途后可查看完整证件号和电话）'))),
    h('p', { class: 'actions' }, h('button', { type: 'submit' }, '获取演示令牌并登录')));
  devForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const codes = regions.value.split(/[,，\s]+/).filter(Boolean);
    if (!codes.length || !codes.every((c) => REGION_CODE.test(c))) {
      message.replaceChildren(alertBox({ message: '请填写 6、9 或 12 位的区划代码，如 411200。' }));
      regions.focus();
      return;
    }
    try {
      const data = await gql(MUTATION_DEV_TOKEN,
        { role: role.value, regions: codes, scopes: pii.checked ? ['pii:read'] : [] },
        { anonymous: true });
      session.signIn(data.devToken.token);
      done();
    } catch (error) {
      const refused = error instanceof ApiError
        && ['FORBIDDEN', 'UNAUTHENTICATED', 'GRAPHQL_VALIDATION_FAILED'].includes(error.code);
      message.replaceChildren(alertBox(refused
        ? { message: '此环境不提供演示令牌（仅开发环境提供），请使用访问令牌登录。' } : error));
    }
  });

  main.append(...[
    h('h2', {}, '登录'),
    params.get('expired')
      ? h('div', { class: 'notice', role: 'status' }, '登录已失效，请重新登录；您先前填写的内容已保留，登录后自动恢复。')
      : null,
    message, devForm, pasteForm,
  ].filter(Boolean));
  (params.get('expired') ? tokenBox : role).focus();
}
