// 登记: a walk-in or phone matter (来访/来电登记), its parties' ID numbers (GB 11643) and
// phones checked as they are typed; the server checks them again (`openMatter`).

import { gql } from '../api.js';
import { session } from '../session.js';
import { CATEGORY, MATTER_ERROR, PARTY_ROLE, RISK, label } from '../labels.js';
import { h, field, options, alertBox, toast } from '../dom.js';
import { go } from '../nav.js';

const MUTATION_OPEN = `
mutation OpenMatter($input: OpenMatterInput!) {
  openMatter(input: $input) {
    __typename
    ... on MatterChanged { matter { id number step version } }
    ... on MatterError { code message }
  }
}`;
const INTAKE_ORIGIN = { WALK_IN: '来访登记', PHONE: '来电登记' };
const INTAKE_ROLES = ['APPLICANT', 'RESPONDENT', 'CALLER', 'THIRD_PARTY', 'INVOLVED'];
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
// The first two digits: a GB/T 2260 province (and 83, Taiwan residents' permits).
const PROVINCES = new Set(('11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 '
  + '53 54 61 62 63 64 65 71 81 82 83').split(' '));

// A resident ID number (公民身份号码, GB 11643-1999): '' when valid, else why not, in Chinese.
export function idNumberProblem(raw) {
  const value = raw.trim().toUpperCase();
  if (!value) return '';
  if (!/^\d{17}[\dX]$/.test(value)) {
    if (/[^\dX]/.test(value)) return '身份证号只能包含数字，最后一位可以是 X。';
    return `身份证号应为 18 位，当前 ${value.length} 位。`;
  }
  if (!PROVINCES.has(value.slice(0, 2))) return '身份证号前两位不是有效的省级行政区划代码。';
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || birth.getUTCMonth() !== month - 1 || birth.getUTCDate() !== day || birth > new Date()) {
    return '身份证号中的出生日期无效。';
  }
  const sum = WEIGHTS.reduce((total, weight, i) => total + weight * Number(value[i]), 0);
  if (CHECK[sum % 11] !== value[17]) return '身份证号校验位不正确，请核对。';
  return '';
}

// A mainland mobile (11 digits, 13–19) or a landline with its area code: '' when valid.
export function phoneProblem(raw) {
  let value = raw.replace(/[\s\-()]/g, '');
  if (!value) return '';
  value = value.replace(/^(\+86|0086)/, '');
  if (!/^\d+$/.test(value)) return '电话只能包含数字、空格、短横线和 +86。';
  if (value.startsWith('1')) {
    if (value.length !== 11) return `手机号码应为 11 位，当前 ${value.length} 位。`;
    if (!/^1[3-9]/.test(value)) return '手机号码应以 13–19 开头。';
    return '';
  }
  if (/^(010|02\d)[2-9]\d{7}$/.test(value) || /^0[3-9]\d{2}[2-9]\d{6,7}$/.test(value)) return '';
  return '请输入 11 位手机号码，或带区号的固定电话（如 0398-2812345）。';
}

// The field a BAD_USER_INPUT names ("parties[1].phone: …", "summary: …"), in Chinese.
const FIELD = { name: '姓名', idNumber: '身份证号', phone: '联系电话' };
const TOP_FIELD = { title: '事项标题', regionCode: '区划代码', summary: '简要情况', parties: '当事人人数' };
function whichField(answer) {
  if (answer.code !== 'BAD_USER_INPUT') return '';
  const party = /parties\[(\d+)\]\.(\w+)/.exec(answer.message);
  if (party && FIELD[party[2]]) return `（当事人 ${Number(party[1]) + 1} 的${FIELD[party[2]]}）`;
  const top = /^(\w+):/.exec(answer.message);
  return top && TOP_FIELD[top[1]] ? `（${TOP_FIELD[top[1]]}）` : '';
}

// A field checked on every keystroke: its message below it, aria-invalid while wrong.
function checked(labelText, control, check, hint) {
  const wrapper = field(labelText, control, hint);
  const message = h('span', { class: 'field-error', id: `${control.id}-error`, 'aria-live': 'polite' });
  wrapper.append(message);
  const update = () => {
    const problem = check(control.value);
    message.textContent = problem;
    control.setAttribute('aria-invalid', problem ? 'true' : 'false');
    const described = [hint ? `${control.id}-hint` : null, problem ? message.id : null].filter(Boolean);
    if (described.length) control.setAttribute('aria-describedby', described.join(' '));
    return problem;
  };
  control.addEventListener('input', update);
  control.check = update;
  return wrapper;
}

function partyBlock(index, onRemove) {
  const role = h('select', { name: `party${index}.role` }, INTAKE_ROLES.map((r) =>
    h('option', { value: r, selected: r === (index === 0 ? 'APPLICANT' : 'RESPONDENT') }, label(PARTY_ROLE, r))));
  const name = h('input', { name: `party${index}.name`, type: 'text', autocomplete: 'off' });
  const idNumber = h('input', { name: `party${index}.idNumber`, type: 'text', inputmode: 'text', maxlength: 18, autocomplete: 'off' });
  const phone = h('input', { name: `party${index}.phone`, type: 'tel', autocomplete: 'off' });
  const block = h('fieldset', { class: 'panel party', 'data-party': String(index) },
    h('legend', {}, `当事人 ${index + 1}`),
    h('div', { class: 'filters' },
      field('身份', role), field('姓名（必填）', name),
      checked('身份证号', idNumber, idNumberProblem, '18 位，选填'),
      checked('联系电话', phone, phoneProblem, '手机或固定电话，选填')),
    index > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => onRemove(block) }, `删除当事人 ${index + 1}`) : null);
  block.read = () => ({
    role: role.value, name: name.value.trim(),
    idNumber: idNumber.value.trim().toUpperCase() || null, phone: phone.value.trim() || null,
  });
  block.problems = () => [idNumber.check(), phone.check()].filter(Boolean)
    .concat(name.value.trim() ? [] : [`当事人 ${index + 1} 的姓名必填。`]);
  return block;
}

export async function page(main) {
  main.append(h('h2', {}, '登记'));
  if (!['admin', 'center_staff'].includes(session.claims()?.role)) {
    main.append(h('div', { class: 'notice', role: 'status' }, '来访、来电登记由综治中心工作人员办理，您的角色不能登记事项。'));
    return;
  }
  const origin = h('select', { name: 'origin' }, options(INTAKE_ORIGIN));
  const title = h('input', { name: 'title', type: 'text', maxlength: 200 });
  const regions = session.claims()?.regions ?? [];
  const region = h('input', { name: 'regionCode', type: 'text', inputmode: 'numeric', value: regions[0] ?? '' });
  const category = h('select', { name: 'category' }, options(CATEGORY, { selected: 'OTHER' }));
  const risk = h('select', { name: 'risk' }, options(RISK, { selected: 'NONE' }));
  const summary = h('textarea', { name: 'summary', rows: 4 });
  const partyList = h('div', { class: 'parties' });
  let count = 0;
  const remove = (block) => { block.remove(); };
  const addParty = () => { partyList.append(partyBlock(count, remove)); count += 1; };
  addParty();
  const outcome = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, '提交登记');
  const form = h('form', { 'aria-label': '事项登记', novalidate: true },
    h('div', { class: 'panel filters' },
      field('来源', origin), field('事项标题（必填）', title),
      field('所在区划代码（必填）', region, '县级或以下，如 411202'),
      field('纠纷类别', category), field('风险等级', risk)),
    h('div', { class: 'panel' }, field('简要情况', summary)),
    partyList,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: addParty }, '添加当事人'), submit),
    outcome);
  main.append(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const blocks = [...partyList.querySelectorAll('fieldset.party')];
    const problems = [
      title.value.trim() ? null : '事项标题必填。',
      /^\d{6,12}$/.test(region.value.trim()) ? null : '区划代码应为 6–12 位数字。',
      ...blocks.flatMap((b) => b.problems()),
    ].filter(Boolean);
    if (problems.length) {
      outcome.replaceChildren(h('div', { class: 'alert', role: 'alert' }, h('p', {}, '请先更正：'),
        h('ul', {}, problems.map((p) => h('li', {}, p)))));
      return;
    }
    submit.disabled = true;
    try {
      const input = {
        origin: origin.value, title: title.value.trim(), regionCode: region.value.trim(),
        category: category.value, risk: risk.value, summary: summary.value.trim() || null,
        parties: blocks.map((b) => b.read()),
      };
      const answer = (await gql(MUTATION_OPEN, { input })).openMatter;
      if (answer.__typename === 'MatterError') {
        outcome.replaceChildren(h('div', { class: 'alert', role: 'alert', 'data-code': answer.code },
          label(MATTER_ERROR, answer.code), whichField(answer)));
        return;
      }
      toast(`已登记，事项编号 ${answer.matter.number}。`);
      go(`matter/${encodeURIComponent(answer.matter.id)}`);
    } catch (error) {
      outcome.replaceChildren(alertBox(error));
    } finally {
      submit.disabled = false;
    }
  });
}
