// Chinese names of the API's codes (中文标签): enums, roles, error codes. One table each.

export const KIND = {
  DISPUTE: '矛盾纠纷', GRID_EVENT: '网格事件', POLICE_ALERT: '110 警情', PETITION: '信访件',
  COURT_FILING: '诉讼/诉前调解',
};
export const SOURCE = {
  MEDIATION: '人民调解平台', GRID: '网格化服务管理平台', POLICE_110: '110 接处警平台',
  PETITION: '信访信息系统', COURT: '法院案件系统',
};
export const CATEGORY = {
  MARRIAGE_FAMILY: '婚姻家庭', NEIGHBOUR: '邻里', HOUSING_HOMESTEAD: '房屋宅基地', CONTRACT: '合同',
  BUSINESS: '生产经营', DAMAGES: '损害赔偿', LAND_FOREST: '山林土地', LAND_ACQUISITION: '征地拆迁',
  ENVIRONMENT: '环境污染', LABOUR: '劳动争议', CONSUMER: '消费', MEDICAL: '医疗',
  TRAFFIC: '道路交通事故', PROPERTY_MGMT: '物业', OTHER: '其他',
};
export const STATUS = {
  REPORTED: '已上报', ACCEPTED: '已受理', ASSESSED: '已研判', DISPATCHED: '已分流',
  IN_PROGRESS: '处置中', RESOLVED: '已化解', FAILED: '化解不成', CLOSED: '已结案',
  REVISITED: '已回访', WITHDRAWN: '已撤回',
};
export const RISK = { RED: '红色', YELLOW: '黄色', BLUE: '蓝色', NONE: '无' };
export const PARTY_ROLE = {
  APPLICANT: '申请人', RESPONDENT: '被申请人', PLAINTIFF: '原告', DEFENDANT: '被告',
  CALLER: '报警人', PETITIONER: '信访人', REPORTER: '报告人', INVOLVED: '涉事人',
  THIRD_PARTY: '第三人',
};
export const LINK_KIND = {
  SAME_MATTER: '同一事项', ESCALATED_TO: '升级/转入', REFERRED_FROM: '来源于',
  SAME_PARTIES: '同一当事人', SAME_PARTY: '同一当事人', SAME_PLACE: '同一地点',
};
export const DIRECTION = { OUTGOING: '本记录指向对方', INCOMING: '对方指向本记录' };
export const DECISION = { CONFIRMED: '已确认', REJECTED: '已驳回' };
export const EVIDENCE = {
  alert_number: '警情编号', birth_date: '出生日期', category: '纠纷类别',
  cited_case_number: '引用案号', id_number: '身份证号', id_number_match: '身份证号一致',
  judicial_confirmation: '司法确认', mediation_case_number: '调解案号', name: '姓名',
  new_person: '新建人员', phone: '电话', place: '地点', shared_organisations: '共同单位',
  shared_persons: '共同当事人', staff_decision: '人工研判', time: '时间',
  rule: '规则', field: '字段', agreement: '一致程度', weight: '权重', EXACT: '完全一致', MATCH: '一致', PARTIAL: '部分一致',
  CONFIRMED: '已确认',
};
export const ROLE = {
  admin: '系统管理员', center_staff: '综治中心工作人员', mediator: '人民调解员',
  partner_police: '公安', partner_court: '法院', partner_petition: '信访局',
  partner_judicial: '司法局', dashboard_viewer: '大屏/看板', auditor: '审计员',
};
export const BREAKER = { CLOSED: '正常', OPEN: '已熔断', HALF_OPEN: '试探恢复中' };
export const AUDIT_OUTCOME = { OK: '成功', ERROR: '出错', DENIED: '被拒绝', UNAUTHENTICATED: '未登录' };
export const RUN_STATUS = {
  RUNNING: '运行中', SUCCEEDED: '成功', FAILED: '失败', ABANDONED: '已中断', INCOMPLETE: '事项登记未完成',
};
// Why a sync run did not succeed (同步失败原因), by the code its error begins with
// (connectors.errors.error_code, or the sync's own), and what staff can do about it. INCOMPLETE
// is the run's status, not a code: its error may name no code at all.
export const SYNC_ERROR = {
  TIMEOUT: '来源系统未在时限内应答。系统会自动重试；持续出现请联系来源系统运维。',
  CONNECTION: '连不上来源系统（连接被拒绝、中断或域名无法解析）。请检查网络和来源系统是否在线。',
  RATE_LIMITED: '来源系统限流（请求过于频繁）。系统会按对方要求的间隔自动重试，无需处理。',
  SERVER_ERROR: '来源系统自身出错（服务端错误）。系统会自动重试；持续出现请联系来源系统运维。',
  AUTH: '来源系统拒绝了本平台的账号或密钥。请核对该来源的接入凭据是否过期或被更换。',
  REJECTED: '来源系统拒绝了请求，重试也不会成功。请核对该来源的接入配置或接口版本。',
  BAD_RESPONSE: '来源系统的应答无法读取（格式或编码不符）。请联系来源系统核对接口。',
  BREAKER_OPEN: '连续失败后已熔断，暂停调用该来源，冷却结束后自动试探恢复；长时间不恢复请联系来源系统运维。',
  INVALID_SOURCES_FILE: '数据源配置文件有误。请系统管理员按原文所指的配置项修正。',
  ERROR: '调用来源系统失败。请把原文告知系统管理员。',
  INTERNAL: '本平台内部出错。请把发生时间告知系统管理员查看日志。',
  ABANDONED: '同步进程未完成本批次就退出了（如重启）。下次同步会接着做完，无需处理。',
  WORKER_DIED: '同步工作进程意外退出。下次同步会接着做完；反复出现请通知系统管理员。',
  SOURCE_BUSY: '另一进程正在同步该来源，本次跳过，无需处理。',
  INCOMPLETE: '部分记录未能登记为事项，下次同步会再次登记，无需处理；反复出现请通知系统管理员。',
};
export const CHANGE = { CREATED: '新增', UPDATED: '更新', WITHDRAWN: '撤回' };
export const KPI = {
  MEDIATION_SUCCESS_RATE: '调解成功率', PRE_SUIT_MEDIATION_SUCCESS_RATE: '诉前调解成功率',
  LITIGATION_PER_10K: '万人起诉率', REPEAT_PETITION_RATE: '重复信访率',
  POLICE_DIVERSION_RATE: '非警务警情分流率',
  ON_TIME_CLOSURE_RATE: '按期办结率', TIMELY_ACCEPTANCE_RATE: '及时受理率',
  REVISIT_RATE: '回访率', REVISIT_SATISFACTION_RATE: '回访满意率',
  RESOLVED_IN_VILLAGE_SHARE: '化解在村占比', RESOLVED_IN_TOWNSHIP_SHARE: '化解在镇占比',
  RESOLVED_IN_COUNTY_SHARE: '化解在县占比',
};
export const RISK_OVERRIDE_ERROR = {
  NOT_FOUND: '未找到该记录或人员，它可能不在您的辖区内，或尚未研判。',
  BAD_USER_INPUT: '输入有误：调整理由必填，且只能调整记录或人员的等级。',
};
// What a risk rule saw (研判依据), by the keys of its evidence.
export const RISK_EVIDENCE = {
  records: '涉及记录', dates: '日期', count: '次数', words: '命中词语', word: '命中词语',
  place: '地点', people: '人数', parties: '当事人数', amount: '金额', threshold: '阈值',
  kinds: '记录类型', levels: '等级', history: '既往记录', classes: '类别', class: '类别',
  from: '起', to: '止', at: '时间', negations: '否定表述', missing: '缺少', subject: '对象',
  record: '记录', previous: '原等级', withinDays: '时限（日）',
  repeatCountBySource: '来源系统记载的重复次数', sourceGrade: '来源系统等级',
};

// The closed loop (事项闭环): steps, origins, tracks, clocks, supervision, errors.
export const STEP = {
  REGISTERED: '已登记', ACCEPTED: '已受理', ASSESSED: '已研判', DISPATCHED: '已分流',
  RETURNED: '已退回', IN_PROGRESS: '处置中', FED_BACK: '已反馈', VERIFIED: '已核查',
  CLOSED: '已结案', REVISITED: '已回访', WITHDRAWN: '已撤回',
};
export const ORIGIN = {
  DISPUTE: '人民调解案件', GRID_EVENT: '网格事件', POLICE_ALERT: '110 警情', PETITION: '信访件',
  COURT_FILING: '诉讼/诉前调解案件', WALK_IN: '来访登记', PHONE: '来电登记',
};
export const TRACK = {
  PEOPLES_MEDIATION: '人民调解', PRE_FILING_MEDIATION: '诉前调解', COURT_FILING: '诉讼立案',
  PETITION: '信访事项办理', POLICE: '公安处置', JUDICIAL_OFFICE: '司法所处置', GRID: '属地网格处置',
  DEPARTMENT: '职能部门处理',
};
export const TIER = { SIMPLE: '简单', ORDINARY: '一般', COMPLEX: '复杂' };
export const OUTCOME = {
  RESOLVED: '化解成功', UNRESOLVED: '未化解', TO_LITIGATION: '转诉讼', TO_ARBITRATION: '转仲裁',
  TO_ADMINISTRATIVE: '转行政处理', TO_PETITION: '转信访程序',
};
export const SATISFACTION = { SATISFIED: '满意', BASICALLY_SATISFIED: '基本满意', DISSATISFIED: '不满意' };
export const CLOCK_STATE = {
  RUNNING: '计时中', WARNED: '即将到期', OVERDUE: '已超期', SUSPENDED: '已暂停', STOPPED: '已停止',
};
export const CLOCK_UNIT = { calendar_day: '日', working_day: '个工作日', working_hour: '个工作时', hour: '小时' };
export const SUPERVISION_LEVEL = { REMINDER: '提醒', SUPERVISE: '督办', LISTED: '挂牌督办' };
export const SUPERVISION_STATUS = { OPEN: '办理中', REPLIED: '已回复', CLOSED: '已办结', ESCALATED: '已升级' };
export const ACTOR_KIND = { CENTRE_STAFF: '综治中心', PARTNER: '协同单位', SYSTEM: '系统' };
export const MATTER_EVENT = {
  OPENED: '登记', STEP_CHANGED: '环节变化', RECORD_JOINED: '关联记录并入', WARNING: '预警',
  OVERDUE: '逾期', SUPERVISED: '督办',
};
// What a timeline entry did (操作), by its action code.
export const MATTER_ACTION = {
  OPEN: '登记', ADMIT: '受理', ASSESS: '研判', DISPATCH: '分流', REDISPATCH: '重新分流',
  ACCEPT: '签收', OBJECT: '退回（异议）', REPORT_PROGRESS: '报告进展', REPORT_RESULT: '反馈结果',
  VERIFY: '核查', SEND_BACK: '退回重办', CLOSE: '结案', REVISIT: '回访', REOPEN: '重新办理',
  SUSPEND: '挂起', RESUME: '恢复', WITHDRAW: '撤回', EXTEND: '延期', RECORD_FACT: '记录事实',
  ISSUE_SUPERVISION: '发起督办', REPLY_SUPERVISION: '回复督办', CLOSE_SUPERVISION: '办结督办',
  ESCALATE_SUPERVISION: '督办升级', RECORD_JOINED: '关联记录并入', WARNING: '预警', OVERDUE: '逾期',
  RECORD_ATTACHED: '并入记录', RECORD_DETACHED: '移出记录', MERGED_FROM: '并入其他事项',
  SPLIT_TO: '拆分出新事项',
};
// FAILED is a refusal by the target (4xx, SOAP Client fault): the relay never sends it again;
// DEAD has used up its attempts. Both wait for a person (重试 in 同步与运维, or govhub outbox).
export const WRITEBACK_STATE = {
  PENDING: '待发送', SENDING: '发送中', UNKNOWN: '结果待核实', SENT: '已发送', CONFIRMED: '对方已确认',
  FAILED: '对方拒收（不再自动重试）', DEAD: '重试用尽（待人工处理）', CANCELLED: '已取消',
};
// Why a write to a department's system failed (a write-back's lastErrorCode), in a few words.
export const WRITE_ERROR = {
  TIMEOUT: '对方系统超时', CONNECTION: '连不上对方系统', RATE_LIMITED: '对方系统限流',
  SERVER_ERROR: '对方系统出错', AUTH: '对方拒绝本平台的账号或密钥', REJECTED: '对方拒收',
  BAD_RESPONSE: '对方应答无法识别', BREAKER_OPEN: '对方系统连续出错，暂停发送',
  INVALID_SOURCES_FILE: '本平台数据源配置有误', ERROR: '发送出错',
};
export const WRITE_OPERATION = {
  'court.filing': '网上立案/诉前调解', 'mediation.referral': '委派调解', 'grid.assign': '网格交办',
  'grid.feedback': '网格事件处置反馈', 'police.feedback': '警情处理结果反馈', 'petition.result': '信访件办理结果',
};
export const MATTER_ERROR = {
  ILLEGAL_TRANSITION: '事项当前环节不允许此操作，请刷新后查看最新环节。',
  FORBIDDEN: '您的角色或单位无权对该事项执行此操作。',
  BAD_USER_INPUT: '输入有误，请检查必填项后重试。',
  CONFLICT: '事项已被他人更新，请刷新后重试。',
  NOT_FOUND: '未找到该事项，它可能不在您的辖区内或未分流到本单位。',
};

// What the 月研判报表 download says when the API refuses it (monthlyReport).
export const REPORT_ERROR = {
  BAD_USER_INPUT: '报告月份或区划代码有误：请选择月份；辖区含多个区划时，请先在上方填写要统计的区划代码（如 411202）。',
  FORBIDDEN: '该区划不在您的辖区内，或您的角色无权下载报表。',
};

export const ERROR = {
  UNAUTHENTICATED: '登录已失效或令牌无效，请重新登录。',
  FORBIDDEN: '您的角色无权执行此操作或查看此内容。',
  PURPOSE_REQUIRED: '查看完整证件号码和电话需要先说明查询用途（4–200 个字）。',
  BAD_USER_INPUT: '输入有误，请检查后重试。',
  NOT_FOUND: '未找到该对象，或它不在您的辖区内。',
  CONFLICT: '该数据已被他人处理或发生冲突，请刷新后重试。',
  QUERY_TOO_COMPLEX: '查询范围过大，请缩小筛选条件后重试。',
  PERSISTED_DOCUMENT_REQUIRED: '您的角色只能使用预先登记的查询，控制台暂不支持。',
  PERSISTED_DOCUMENT_NOT_FOUND: '服务器未登记该查询。',
  GRAPHQL_VALIDATION_FAILED: '请求与服务器接口不一致，请刷新页面后重试。',
  GRAPHQL_PARSE_FAILED: '请求格式有误，请刷新页面后重试。',
  INTERNAL_SERVER_ERROR: '服务器内部错误，请稍后重试。',
  SERVICE_UNAVAILABLE: '该服务暂不可用，请稍后重试。',
  NETWORK: '无法连接服务器，请检查网络后重试。',
  BAD_RESPONSE: '服务器返回了无法识别的应答，请稍后重试。',
};

export function label(table, code) {
  if (code === null || code === undefined || code === '') return '—';
  return table[code] ?? code;
}

// The hub's own actors on 办理记录: a sync (system:sync:<SOURCE>), the deadline scanner (its
// replica after a colon), the closing of a finished matter's 督办 and of a breach a source's
// date voided. A person's id is shown as it is; another system actor as 系统.
const SYSTEM_ACTOR = {
  'deadline-scanner': '时限扫描', 'matter-ended': '事项办结', 'breach-voided': '逾期核销',
};
export function actorName(actor) {
  const sync = /^system:sync:([A-Z0-9_]+)$/.exec(actor ?? '');
  if (sync) return `${label(SOURCE, sync[1])}同步`;
  const own = /^(?:system:)?(deadline-scanner|matter-ended|breach-voided)(?::.*)?$/.exec(actor ?? '');
  if (own) return SYSTEM_ACTOR[own[1]];
  return actor?.startsWith('system:') ? '系统' : actor;
}

// A sync's note cites the record as '<SOURCE> <key>', with ': <STATUS>' (its feedback) or
// '（<status>）' (a source's 办结): the source and a status code in Chinese, the key as it is.
export function timelineNote(note) {
  const cited = /^([A-Z0-9_]+) (\S+?)(?:: ([A-Z_]+)|（([^）]*)）)?$/.exec(note ?? '');
  if (!cited || !(cited[1] in SOURCE)) return note;
  const [, source, key, fed, concluded] = cited;
  if (fed) return `${SOURCE[source]} ${key}：${label(STATUS, fed)}`;
  return `${SOURCE[source]} ${key}${concluded === undefined ? '' : `（${label(STATUS, concluded)}）`}`;
}

export function errorMessage(code) {
  return ERROR[code] ?? `操作失败（错误代码 ${code}），请稍后重试。`;
}

// What staff read for a sync run that did not succeed: the explanation of its error's code
// (SERVER_ERROR: COURT: server error 503 → SYNC_ERROR.SERVER_ERROR) and, for an INCOMPLETE
// run, of what its matter intake left; null for a run that succeeded or is still running.
export function syncRunProblem(run) {
  if (!run || run.status === 'SUCCEEDED' || run.status === 'RUNNING') return null;
  const code = /^([A-Z][A-Z0-9_]*): /.exec(run.error ?? '')?.[1];
  const reasons = [];
  if (code) reasons.push(SYNC_ERROR[code] ?? `同步出错（错误代码 ${code}）。请把原文告知系统管理员。`);
  if (run.status === 'INCOMPLETE') reasons.push(SYNC_ERROR.INCOMPLETE);
  if (reasons.length) return reasons.join('');
  return run.error ? '同步未成功。请把原文告知系统管理员。' : '同步未成功，未记录原因。';
}

const BEIJING = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hour12: false,
});

export function beijingTime(value) {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : BEIJING.format(date);
}

const BEIJING_DAY = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
});

// A due instant (到期时间, 逾期起算) is the instant a limit ends: a limit counted in days ends
// at 24:00 of its last day (民法典 §203), stored as 00:00 of the next day. Shown as 00:00 of
// the 11th, staff read the 11th as still allowed, so midnight is shown as the last allowed
// day at 24:00 ("2026/12/10 24:00"); any other instant (working-hour clocks) as it is.
export function dueTime(value) {
  const shown = beijingTime(value);
  if (!value || !shown.endsWith(' 00:00')) return shown;
  return `${BEIJING_DAY.format(new Date(new Date(value).getTime() - 1))} 24:00`;
}
