// 查看完整信息: ID numbers and phones in full need the pii:read scope and a stated purpose
// (X-Purpose, 4–200 characters); the API audits the purpose with the read.

import { h, field, alertBox } from '../dom.js';

export function revealForm(reveal) {
  const purpose = h('input', { name: 'purpose', minlength: 4, maxlength: 200, required: true,
    autocomplete: 'off', placeholder: '如：案号 (2026)豫1202民调123号 核实当事人身份' });
  const message = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { class: 'reveal' },
    h('fieldset', {}, h('legend', {}, '证件号和电话已隐藏：说明用途后可查看完整信息'),
      field('查询用途', purpose, '4–200 个字，将记入审计日志'),
      h('p', { class: 'actions' }, h('button', { type: 'submit' }, '查看完整信息'))),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const stated = purpose.value.trim();
    if (stated.length < 4 || stated.length > 200) {
      message.replaceChildren(alertBox({ message: '请说明查询用途（4–200 个字）。' }));
      purpose.focus();
      return;
    }
    try {
      await reveal(stated);
    } catch (error) {
      message.replaceChildren(alertBox(error));
    }
  });
  return form;
}
