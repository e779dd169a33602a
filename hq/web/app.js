/*
 * Beatbook review UI — one page, hash routes, data from HQ's JSON API.
 *
 * Every piece of data reaches the page through textContent or a DOM
 * attribute set with setAttribute; nothing is ever parsed as HTML (no
 * innerHTML), so record text such as "<script>" shows as text.  The server
 * sends a Content-Security-Policy that allows only this file and Chart.js.
 * Changes send the session's CSRF token (X-CSRF-Token); the session itself
 * is an HttpOnly cookie this script never sees.
 *
 * Codes never reach the reader: the API sends, beside each code, a "display"
 * pair {"zh-TW": ..., "en": ...} (labels, 是/否, "name (code)", Taipei
 * times; hq/hq_display.h) and the page shows the one of its language (tx).
 */
'use strict';
(function () {
  const T = {
    'zh-TW': {
      title: 'Beatbook 總部審查', scorecard: '績效總表', records: '紀錄', devices: '裝置',
      quarantine: '隔離區', signin: '登入', signout: '登出', name: '帳號', password: '密碼',
      lang: 'English', calendar: '曆法', roc: '民國', greg: '西元', year: '年度',
      granularity: '期間', g_year: '全年', g_half: '半年', g_quarter: '季', g_month: '月',
      part: '區間', org: '單位', show: '查詢', all_units: '全部單位', number: '編號',
      goal: '策略績效目標', pt_note: 'pt：百分點（與基準比例之差）',
      kpi: '衡量指標', value: '實際值', baseline: '基準值', target: '原訂目標值',
      achieved: '達成情形', weight: '權重', weighted: '加權分數', yes: '達成', no: '未達成',
      missing: '無法計算', score: '加權總分', figures: '計算依據', records_link: '查看紀錄',
      export_csv: '匯出 CSV', export_json: '匯出 JSON', chart_title: '各月趨勢',
      target_line: '目標', occurred: '發生時間', kind: '類別', unit: '單位', officer: '員警',
      summary: '內容', id: '編號', status: '狀態', next: '下一頁', first: '第一頁',
      none: '沒有資料', period: '期間', device: '裝置', any: '全部', filter: '篩選',
      record: '紀錄', revisions: '修訂紀錄', rev: '版次',
      batch: '批次', seq: '序號', sha256: 'SHA-256', received: '收到時間', source: '來源',
      signature: '簽章', verified: '簽章驗證通過', receipt: '簽收回條', data: '資料欄位',
      label: '名稱', last_contact: '最後聯繫', today: '今日已同步', late: '逾時未聯繫',
      batches: '已收批次', last_seq: '最後序號', missing_seqs: '缺漏序號',
      rejected: '退回紀錄', open: '未處理', qbatches: '隔離批次', pending: '待送（筆電回報）',
      not_reported: '未回報', reason: '原因', action: '處理', release: '修正後釋出',
      review: '標示已審查', note: '備註', state_open: '未處理', state_all: '全部',
      qrecords: '被退回的紀錄', qbatch_title: '已撤銷裝置的批次', done: '完成',
      limited: '只顯示您轄區內的紀錄',
      measure: '計量', group: '代碼', now: '本期', before: '比較期', improved: '已改善',
      input: '計入條件', counts: '計入', partial: '已掃描上限筆數，可能還有更多', device_key: '裝置金鑰',
      enrolled: '註冊時間', bad_sig: '簽章未通過', checked_now: '（現在重新驗證）',
      signed_in_as: '登入：', role_hq: '總部審查', role_precinct: '分局管理',
      quarantined_revs: '被退回的修訂', from: '自', records_sent: '已送紀錄',
      back: '返回', loading: '載入中…', plan: '計畫', recorded: '登錄時間',
      void_reason: '作廢原因', raw: '原始資料（JSON）',
      origin_records: '紀錄', origin_history: '計畫歷史件數', origin_reference: '計畫參考數據',
      origin_plan: '計畫', origin_computed: '計算',
      changes: '變更內容', first_rev: '首次登錄', no_change: '欄位未變更', empty: '（未填）',
      attachments: '照片與附件', on_way: '傳送中', exif_time: '拍攝時間', exif_place: '拍攝位置',
      record_time: '紀錄的時間', record_place: '紀錄的位置', no_exif: '檔案中沒有拍攝時間與位置',
      open_original: '開啟原始檔', download: '下載', export_zip: '匯出 ZIP（含附件）',
      att_missing: '未到總部的附件', att_missing_short: '未到附件', att_name: '檔名',
      att_type: '類型', att_size: '大小', att_truncated: '只列出前 200 個',
      device_page: '裝置', no_such_device: '找不到此裝置（或不在您的轄區內）',
    },
    en: {
      title: 'Beatbook HQ review', scorecard: 'Scorecard', records: 'Records', devices: 'Devices',
      quarantine: 'Quarantine', signin: 'Sign in', signout: 'Sign out', name: 'User name',
      password: 'Password', lang: '中文', calendar: 'Calendar', roc: 'ROC', greg: 'Gregorian',
      year: 'Year', granularity: 'Period', g_year: 'Year', g_half: 'Half', g_quarter: 'Quarter',
      g_month: 'Month', part: 'Part', org: 'Org unit', show: 'Show', all_units: 'All units',
      goal: 'Strategic goal', pt_note: 'pt: percentage points (difference from the baseline share)',
      number: 'No.', kpi: 'KPI', value: 'Value', baseline: 'Baseline', target: 'Target',
      achieved: 'Achieved', weight: 'Weight', weighted: 'Weighted score', yes: 'achieved',
      no: 'not achieved', missing: 'cannot be computed', score: 'Weighted score',
      figures: 'Figures', records_link: 'records', export_csv: 'Export CSV',
      export_json: 'Export JSON', chart_title: 'By month', target_line: 'target',
      occurred: 'Occurred', kind: 'Kind', unit: 'Unit', officer: 'Officer', summary: 'Content',
      id: 'Id', status: 'Status', next: 'Next page', first: 'First page', none: 'Nothing here',
      period: 'Period', device: 'Device', any: 'any', filter: 'Filter', record: 'Record',
      revisions: 'Revisions', rev: 'Rev', batch: 'Batch',
      seq: 'Seq', sha256: 'SHA-256', received: 'Received', source: 'Source',
      signature: 'Signature', verified: 'signature verified', receipt: 'Signed receipt',
      data: 'Fields', label: 'Label', last_contact: 'Last contact', today: 'synced today',
      late: 'late', batches: 'Batches', last_seq: 'Last seq', missing_seqs: 'Missing seqs',
      rejected: 'Rejected', open: 'open', qbatches: 'Quarantined batches',
      pending: 'Pending (laptop report)', not_reported: 'not reported', reason: 'Reason',
      action: 'Action', release: 'Release (fixed)', review: 'Mark reviewed', note: 'Note',
      state_open: 'open', state_all: 'all', qrecords: 'Rejected records',
      qbatch_title: 'Batches of revoked devices', done: 'Done',
      limited: 'only the records of your own units are shown', measure: 'Measure',
      group: 'Code', now: 'now', before: 'before', improved: 'improved', input: 'Counts',
      counts: 'counts', partial: 'scan limit reached; more may follow', device_key: 'Device key',
      enrolled: 'Enrolled', bad_sig: 'signature NOT verified',
      checked_now: '(checked again now)', signed_in_as: 'Signed in: ', role_hq: 'HQ reviewer',
      role_precinct: 'precinct admin', quarantined_revs: 'Rejected revisions', from: 'from',
      records_sent: 'Records sent', back: 'Back', loading: 'Loading…', plan: 'Plan',
      recorded: 'Recorded', void_reason: 'Reason for voiding', raw: 'Raw data (JSON)',
      origin_records: 'records', origin_history: "plan's history", origin_reference: "plan's reference",
      origin_plan: 'plan', origin_computed: 'computed',
      changes: 'What changed', first_rev: 'first entry', no_change: 'no field changed',
      empty: '(empty)',
      attachments: 'Photos and files', on_way: 'on its way', exif_time: 'Taken',
      exif_place: 'Taken at', record_time: "Record's time", record_place: "Record's place",
      no_exif: 'the file holds no time or place', open_original: 'Open the original',
      download: 'Download', export_zip: 'Export ZIP (with files)',
      att_missing: 'Files not yet at HQ', att_missing_short: 'Files missing', att_name: 'Name',
      att_type: 'Type', att_size: 'Size', att_truncated: 'only the first 200 are listed',
      device_page: 'Device', no_such_device: 'no such device (or not within your units)',
    },
  };

  let LANG = localStorage.getItem('bb_lang') === 'en' ? 'en' : 'zh-TW';
  let SESSION = null;       /* {user, csrf} */
  let CATALOG = null;       /* {units, kinds, plans, scope} */
  const charts = [];

  const t = (k) => (T[LANG] && T[LANG][k]) || T.en[k] || k;
  /* The text of a display pair in the page's language; fallback when there is none. */
  const tx = (pair, fallback) =>
    (pair && (pair[LANG] || pair['zh-TW'] || pair.en)) || (fallback === undefined ? '' : fallback);
  const $ = (id) => document.getElementById(id);
  const main = () => $('main');

  /* An element: attributes by setAttribute, children as nodes or text. */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  /* A list table that a phone shows as one card per row (app.css, table.list):
   * each cell carries its column's heading in data-label. */
  function cardify(table) {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
    /* A row under a rowspan cell (the scorecard's goal) lacks its leading cells. */
    for (const tr of table.querySelectorAll('tbody tr')) {
      const skip = Math.max(0, heads.length - tr.children.length);
      [...tr.children].forEach((td, i) => td.setAttribute('data-label', heads[i + skip] || ''));
    }
    table.classList.add('list');
    return table;
  }

  /* DOM append without the nulls of conditional parts (append would print "null"). */
  function put(parent, ...kids) {
    parent.append(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  }

  function qs(p) {
    return Object.entries(p || {})
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&');
  }
  const hashTo = (path, params) => '#' + path + (qs(params) ? '?' + qs(params) : '');
  function go(path, params) { location.hash = hashTo(path, params); }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ('HTTP ' + status));
      this.status = status;
      this.code = body && body.error;
    }
  }

  async function api(method, path, params, body) {
    const p = Object.assign({}, params || {}, { lang: LANG });
    const headers = {};
    if (method !== 'GET') headers['X-CSRF-Token'] = SESSION ? SESSION.csrf : '';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path + '?' + qs(p), {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401 && !(path === '/v1/session' && method === 'POST')) {
      SESSION = null;
      showSignin(data && data.message);
      throw new ApiError(401, data);
    }
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
  }

  function exportLinks(path, params, withZip) {
    const p = Object.assign({}, params, { lang: LANG });
    delete p.after;
    return el('span', { class: 'exports' },
      el('a', { href: path + '?' + qs(Object.assign({}, p, { format: 'csv' })), download: '',
                id: 'export-csv' }, t('export_csv')), ' · ',
      el('a', { href: path + '?' + qs(Object.assign({}, p, { format: 'json' })), download: '',
                id: 'export-json' }, t('export_json')),
      /* The CSV's records with the files they name (hq/hq_export_zip.h). */
      withZip ? [' · ', el('a', { href: path + '?' + qs(Object.assign({}, p, { format: 'zip' })),
                                  download: '', id: 'export-zip' }, t('export_zip'))] : null);
  }

  function showError(where, e) {
    if (e && e.status === 401) return;
    where.append(el('p', { class: 'error', id: 'error' }, e && e.message ? e.message : String(e)));
  }

  /* ---- frame --------------------------------------------------------------------- */

  const NAV = [['scorecard', '/scorecard'], ['records', '/records'], ['devices', '/devices'],
               ['quarantine', '/quarantine']];

  function frame(active) {
    document.documentElement.lang = LANG === 'en' ? 'en' : 'zh-TW';
    document.title = t('title');
    $('brand').textContent = t('title');
    $('lang').textContent = t('lang');
    const nav = $('nav');
    nav.replaceChildren(...(SESSION ? NAV.map(([k, p]) =>
      el('a', { href: '#' + p, class: active === k ? 'active' : null, id: 'nav-' + k }, t(k))) : []));
    $('who').textContent = SESSION ? t('signed_in_as') + SESSION.user.name + ' (' +
      (SESSION.user.role === 'hq' ? t('role_hq') : t('role_precinct') + ' ' +
       (SESSION.user.org_name || SESSION.user.org)) + ')' : '';
    $('signout').textContent = t('signout');
    $('signout').hidden = !SESSION;
    for (const c of charts.splice(0)) c.destroy();
  }

  function showSignin(message) {
    frame(null);
    const err = el('p', { class: 'error', id: 'signin-error' }, message || '');
    const name = el('input', { id: 'signin-name', autocomplete: 'username', required: true,
                               maxlength: 40 });
    const pw = el('input', { id: 'signin-password', type: 'password', required: true,
                             autocomplete: 'current-password', maxlength: 256 });
    const form = el('form', { class: 'signin', id: 'signin' },
      el('h1', { text: t('title') }),
      el('label', {}, t('name'), name), el('label', {}, t('password'), pw), err,
      el('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, t('signin')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      try {
        SESSION = await api('POST', '/v1/session', {}, { name: name.value, password: pw.value });
        pw.value = '';
        CATALOG = null;
        await route();
      } catch (e) {
        pw.value = '';
        err.textContent = e.message;
      }
    });
    main().replaceChildren(form);
    name.focus();
    document.body.setAttribute('data-ready', 'signin');
  }

  async function catalog() {
    if (!CATALOG || CATALOG.lang !== LANG) {
      CATALOG = await api('GET', '/v1/catalog');
      CATALOG.lang = LANG;
    }
    return CATALOG;
  }

  function unitSelect(id, value, withAll) {
    const s = el('select', { id });
    if (withAll) s.append(el('option', { value: '' }, t('all_units')));
    for (const u of CATALOG.units) {
      const pad = u.level === 'station' ? '\u3000\u3000' : u.level === 'precinct' ? '\u3000' : '';
      s.append(el('option', { value: u.code, selected: u.code === value }, pad + u.name + ' (' + u.code + ')'));
    }
    return s;
  }
  const unitName = (code) => {
    const u = CATALOG && CATALOG.units.find((x) => x.code === code);
    return u ? u.name : code;
  };

  /* ---- periods ------------------------------------------------------------------- */

  /* "107H1" / "2018-03" → {cal, year (Gregorian), g, part} */
  function parsePeriod(s) {
    const m = /^(\d{2,4})(?:([HQhq])(\d)|-(\d{2}))?$/.exec(s || '');
    if (!m) return null;
    let y = parseInt(m[1], 10);
    const cal = m[1].length === 4 ? 'greg' : 'roc';
    if (cal === 'roc') y += 1911;
    if (m[2]) return { cal, year: y, g: m[2].toUpperCase() === 'H' ? 'half' : 'quarter', part: m[3] };
    if (m[4]) return { cal, year: y, g: 'month', part: m[4] };
    return { cal, year: y, g: 'year', part: '' };
  }
  function periodString(p) {
    const y = p.cal === 'roc' ? String(p.year - 1911) : String(p.year);
    if (p.g === 'half') return y + 'H' + p.part;
    if (p.g === 'quarter') return y + 'Q' + p.part;
    if (p.g === 'month') return y + '-' + p.part;
    return y;
  }
  function monthLabel(ym, cal) {
    const [y, m] = ym.split('-');
    return cal === 'roc' ? (parseInt(y, 10) - 1911) + '/' + m : ym;
  }
  function defaultPeriod() {
    const plans = (CATALOG && CATALOG.plans) || [];
    const y = plans.length ? plans[plans.length - 1].year : new Date().getFullYear();
    return String(y - 1911);
  }

  function periodPicker(p, onChange) {
    const cal = el('select', { id: 'pick-cal' },
      el('option', { value: 'roc', selected: p.cal === 'roc' }, t('roc')),
      el('option', { value: 'greg', selected: p.cal === 'greg' }, t('greg')));
    const year = el('select', { id: 'pick-year' });
    const thisYear = new Date().getFullYear();
    const planYears = ((CATALOG && CATALOG.plans) || []).map((x) => x.year);
    const hi = Math.max(thisYear, ...planYears, p.year), lo = Math.min(2014, p.year);
    for (let y = hi; y >= lo; y--)
      year.append(el('option', { value: y, selected: y === p.year },
        p.cal === 'roc' ? String(y - 1911) : String(y)));
    const g = el('select', { id: 'pick-g' },
      ...['year', 'half', 'quarter', 'month'].map((k) =>
        el('option', { value: k, selected: p.g === k }, t('g_' + k))));
    const part = el('select', { id: 'pick-part' });
    const parts = { year: [], half: ['1', '2'], quarter: ['1', '2', '3', '4'],
                    month: ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'] };
    for (const v of parts[p.g]) part.append(el('option', { value: v, selected: v === p.part },
      p.g === 'half' ? 'H' + v : p.g === 'quarter' ? 'Q' + v : v));
    part.hidden = p.g === 'year';
    const changed = () => {
      const np = { cal: cal.value, year: parseInt(year.value, 10), g: g.value, part: part.value };
      if (np.g !== p.g) np.part = parts[np.g][0] || '';
      onChange(np);
    };
    for (const s of [cal, year, g, part]) s.addEventListener('change', changed);
    return [el('label', {}, t('calendar'), cal), el('label', {}, t('year'), year),
            el('label', {}, t('granularity'), g), el('label', { hidden: p.g === 'year' }, t('part'), part)];
  }

  /* ---- scorecard ----------------------------------------------------------------- */

  const COMPARE = ['baseline', 'value_1y', 'average', 'count_1y'];

  function fmtNumber(v, integral) {
    if (v === null || v === undefined) return '';
    return integral || Number.isInteger(v) ? Math.round(v).toLocaleString('en-US')
      : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }

  async function viewScorecard(params) {
    frame('scorecard');
    await catalog();
    const period = params.period || defaultPeriod();
    const p = parsePeriod(period) || parsePeriod(defaultPeriod());
    const org = params.org || CATALOG.scope || '';
    const box = el('div');
    const orgSel = unitSelect('pick-org', org, !CATALOG.scope);
    const nav = (np, o) => go('/scorecard', { period: periodString(np), org: o });
    orgSel.addEventListener('change', () => nav(p, orgSel.value));
    main().replaceChildren(el('h1', { text: t('scorecard') }),
      el('div', { class: 'bar' }, periodPicker(p, (np) => nav(np, orgSel.value)),
         el('label', {}, t('org'), orgSel)), box);
    put(box, el('p', { class: 'muted', text: t('loading') }));
    let card, months;
    const q = { period, org: org || null };
    try {
      [card, months] = await Promise.all([
        api('GET', '/v1/kpi', q),
        api('GET', '/v1/kpi/months', { year: String(p.year), org: org || null }),
      ]);
    } catch (e) {
      box.replaceChildren();
      showError(box, e);
      return;
    }
    const periodText = p.cal === 'roc' ? (card.period.roc || card.period.label) : card.period.label;
    const title = (o) => tx(o);
    box.replaceChildren(
      el('p', {}, el('strong', { id: 'card-title' }, title(card.plan.title)), ' · ',
         el('span', { id: 'card-period' }, t('period') + ' ' + periodText + ' (' +
            card.period.first_day + ' – ' + card.period.last_day + ')'), ' · ',
         el('span', { id: 'card-org' }, title(card.org.name) + ' (' + card.org.code + ')')),
      el('p', {}, t('score') + ' ', el('span', { class: 'score', id: 'score' },
         card.score.text ? title(card.score.text) : card.score.achieved + ' / ' + card.score.total),
         '  ', exportLinks('/v1/kpi', q)));
    /* The plan's Part 2/4 layout: the goal (一、二、三) on its first KPI, spanning its
     * KPIs; the KPIs numbered 1、2、3 within each goal — the labels come from the
     * server, so the page, the CLI and the CSV read the same. */
    const table = el('table', { id: 'kpi-table' },
      el('thead', {}, el('tr', {}, ...['goal', 'kpi', 'value', 'baseline', 'target', 'achieved',
                                        'weight', 'weighted'].map((k) => el('th', {}, t(k))))));
    const tbody = el('tbody');
    const goals = new Map((card.goals || []).map((g) => [g.id, g]));
    card.kpis.forEach((k, i) => {
      const found = COMPARE.map((n) => k.figures.find((f) => f.name === n)).find((f) => f);
      const cmp = found && (k.ok || found.origin === 'plan') ? found : null;
      const first = i === 0 || card.kpis[i - 1].goal !== k.goal;
      const g = goals.get(k.goal);
      const span = card.kpis.filter((o) => o.goal === k.goal).length;
      /* Cannot be computed: neither achieved nor missed, and the reason beside it. */
      const status = !k.ok
        ? el('td', { class: 'kpi-achieved missing' }, t('missing'),
             el('div', { class: 'note kpi-reason' }, k.missing || ''))
        : el('td', { class: 'kpi-achieved ' + (k.achieved ? 'yes' : 'no') },
             k.achieved ? t('yes') : t('no'));
      tbody.append(el('tr', { 'data-kpi': k.id, class: k.ok ? null : 'missing' },
        first ? el('td', { class: 'kpi-goal', rowspan: String(span) },
                   g && g.label ? title(g.label) : k.goal) : null,
        el('td', { class: 'kpi-label' }, k.label ? title(k.label) : k.number + ' ' + title(k.title),
           ' ', el('span', { class: 'muted' }, k.id)),
        el('td', { class: 'num kpi-value' }, k.ok ? k.display : '—'),
        el('td', { class: 'num kpi-baseline' }, cmp ? fmtNumber(cmp.value, false) : ''),
        el('td', { class: 'kpi-target' }, title(k.target.text)),
        status,
        el('td', { class: 'num kpi-weight' }, k.weight),
        el('td', { class: 'num kpi-weighted' }, k.ok ? (k.achieved ? k.weight : 0) : '—')));
    });
    table.append(tbody);
    put(box, cardify(table));   /* cards on a phone, a table on a laptop */
    if (card.kpis.some((k) => k.unit === 'pt'))
      put(box, el('p', { class: 'note', id: 'pt-note' }, t('pt_note')));

    const cards = el('div', { class: 'cards' });
    put(box, el('h2', { text: t('chart_title') + ' · ' + (p.cal === 'roc' ? p.year - 1911 : p.year) }), cards);
    months.kpis.forEach((mk, i) => {
      const k = card.kpis[i];
      const canvas = el('canvas', { id: 'chart-' + mk.id, 'aria-label': mk.title });
      const figs = el('ul', { class: 'figs' });
      for (const f of k.figures) {
        const li = el('li', { class: 'fig', 'data-figure': f.name },
          f.label + ': ' + fmtNumber(f.value, Number.isInteger(f.value)) + ' ',
          el('span', { class: 'origin', title: f.origin }, '(' + t('origin_' + f.origin) + ')'));
        if (f.origin === 'records' && f.period)
          li.append(' ', el('a', { class: 'drill', href: hashTo('/drill', {
            kpi: k.id, figure: f.name, period: f.period, org: f.org }) }, t('records_link')));
        figs.append(li);
      }
      for (const g of k.groups || []) {
        const prev = card.period.label.replace(/^(\d{4})/, (y) => String(parseInt(y, 10) - 1));
        figs.append(el('li', { class: 'group' }, g.code + ' ' + title(g.name) + ': ' + t('now') + ' ',
          el('a', { href: hashTo('/drill', { kpi: k.id, figure: 'count', group: g.code,
                                             period: card.period.label }) }, String(g.now)),
          ' / ' + t('before') + ' ',
          el('a', { href: hashTo('/drill', { kpi: k.id, figure: 'count', group: g.code,
                                             period: prev }) }, String(g.before)),
          g.improved ? ' ✓' : ''));
      }
      cards.append(el('div', { class: 'card', 'data-kpi': mk.id },
        el('h3', {}, k.label ? title(k.label) : mk.number + ' ' + mk.title),
        el('div', { class: 'chart' }, canvas),
        k.ok ? el('p', { class: 'note' }, k.formula || '') : el('p', { class: 'note' }, k.missing),
        el('details', {}, el('summary', {}, t('figures')), figs)));
      if (window.Chart) {
        charts.push(new window.Chart(canvas, {
          type: 'line',
          data: {
            labels: months.months.map((m) => monthLabel(m, p.cal)),
            datasets: [
              { label: mk.title + ' (' + mk.unit + ')', data: mk.values, borderColor: '#1f5fa8',
                backgroundColor: '#1f5fa8', spanGaps: false, tension: 0.2 },
              { label: t('target_line') + ' ' + (mk.target_text || mk.op + ' ' + mk.target + ' ' + mk.unit),
                data: mk.values.map(() => mk.target), borderColor: '#b3261e', borderDash: [6, 4],
                pointRadius: 0, fill: false },
            ],
          },
          options: { responsive: true, maintainAspectRatio: false, animation: false,
                     plugins: { legend: { labels: { boxWidth: 12 } } } },
        }));
      }
    });
  }

  /* ---- record lists -------------------------------------------------------------- */

  /* The first fields of a record, in its kind's order, as "label：text". */
  function summary(r) {
    const sep = LANG === 'en' ? ': ' : '：';
    return ((r.display && r.display.fields) || []).slice(0, 5)
      .map((f) => tx(f.label, f.name) + sep + tx(f.text)).join(' · ');
  }
  const disp = (o) => (o && o.display) || {};
  /* The same fields' codes, for the summary's title (hover). */
  const summaryCodes = (r) => ((r.display && r.display.fields) || []).slice(0, 5)
    .map((f) => { const c = codeOf(f, r.data); return c === null ? null : f.name + '=' + c; })
    .filter((x) => x).join(' · ') || null;

  function recordsTable(items, withMeasure) {
    if (!items.length) return el('p', { class: 'muted', id: 'empty' }, t('none'));
    const head = ['occurred', 'kind', 'unit', 'officer', 'status', 'summary', 'id'];
    if (withMeasure) head.splice(6, 0, 'measure');
    return cardify(el('table', { id: 'records-table' },
      el('thead', {}, el('tr', {}, ...head.map((k) => el('th', {}, t(k))))),
      el('tbody', {}, ...items.map((r) => el('tr', { 'data-id': r.id },
        el('td', { class: 'num' }, tx(disp(r).occurred_at, r.occurred_at)),
        el('td', { title: r.kind }, tx(disp(r).kind, r.kind_label)),
        el('td', { title: r.org_unit }, tx(disp(r).org_unit, r.org_unit_name + ' (' + r.org_unit + ')')),
        el('td', {}, r.officer),
        el('td', { title: r.status }, tx(disp(r).status, r.status), r.rev > 1 ? ' ' + t('rev') + ' ' + r.rev : ''),
        el('td', { class: 'summary', title: summaryCodes(r) }, summary(r)),
        withMeasure ? el('td', { class: 'num' }, r.measure) : null,
        el('td', {}, el('a', { class: 'record-link', href: '#/record/' + encodeURIComponent(r.id) },
                        r.id.slice(-8))))))));
  }

  function pager(ans, path, params) {
    const bar = el('div', { class: 'pager' });
    if (params.after) bar.append(el('a', { href: hashTo(path, Object.assign({}, params, { after: null })),
                                           id: 'page-first' }, t('first')));
    if (ans.next) bar.append(el('a', { href: hashTo(path, Object.assign({}, params, { after: ans.next })),
                                       id: 'page-next' }, t('next')));
    if (ans.partial) bar.append(el('span', { class: 'note' }, t('partial')));
    return bar;
  }

  async function viewDrill(params) {
    frame('scorecard');
    await catalog();
    const box = el('div');
    main().replaceChildren(el('h1', { text: t('records') }), box);
    let ans;
    try {
      ans = await api('GET', '/v1/kpi/records', Object.assign({}, params, { limit: 50 }));
    } catch (e) { showError(box, e); return; }
    const orgSel = unitSelect('drill-org', params.org || ans.org || '', !CATALOG.scope);
    orgSel.addEventListener('change', () => go('/drill', Object.assign({}, params,
      { org: orgSel.value, after: null })));
    put(box, 
      el('p', { id: 'drill-title' }, el('strong', {}, ans.kpi + ' ' + ans.kpi_title), ' · ',
         ans.input.title + ' · ' + t('period') + ' ' + (LANG === 'en' ? ans.period :
         (ans.period_roc || ans.period)) + (ans.group ? ' · ' + tx(disp(ans).group, ans.group) : '')),
      el('p', { class: 'note', id: 'drill-counts' },
         t('input') + (LANG === 'en' ? ': ' : '：') + tx(disp(ans).counts, ans.input.counts)),
      ans.limited ? el('p', { class: 'note' }, t('limited')) : null,
      el('div', { class: 'bar' }, el('label', {}, t('org'), orgSel),
         exportLinks('/v1/kpi/records', params)),
      recordsTable(ans.items, true), pager(ans, '/drill', params));
  }

  async function viewRecords(params) {
    frame('records');
    await catalog();
    const box = el('div');
    const f = {
      period: el('input', { id: 'f-period', value: params.period || '', placeholder: '107-03',
                            size: 10, maxlength: 40 }),
      org: unitSelect('f-org', params.org || '', !CATALOG.scope),
      kind: el('select', { id: 'f-kind' }, el('option', { value: '' }, t('any')),
        ...CATALOG.kinds.map((k) => el('option', { value: k.name, selected: k.name === params.kind },
                                        k.label))),
      status: el('select', { id: 'f-status' }, el('option', { value: '' }, t('any')),
        ...(CATALOG.statuses || []).map((st) => el('option', { value: st.code,
          selected: st.code === params.status }, tx(st.label, st.code)))),
      officer: el('input', { id: 'f-officer', value: params.officer || '', size: 10, maxlength: 20 }),
      device: el('input', { id: 'f-device', value: params.device || '', size: 20, maxlength: 40 }),
    };
    const form = el('form', { class: 'bar', id: 'records-filter' },
      ...Object.entries(f).map(([k, input]) => el('label', {}, t(k === 'period' ? 'period' : k), input)),
      el('button', { type: 'submit', class: 'primary', id: 'f-submit' }, t('filter')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const np = {};
      for (const [k, input] of Object.entries(f)) np[k] = input.value.trim();
      go('/records', np);
    });
    main().replaceChildren(el('h1', { text: t('records') }), form, box);
    let ans;
    const q = Object.assign({}, params);
    try {
      ans = await api('GET', '/v1/records', Object.assign({}, q, { limit: 50 }));
    } catch (e) { showError(box, e); return; }
    put(box, ans.limited ? el('p', { class: 'note' }, t('limited')) : null,
      el('p', {}, exportLinks('/v1/records', q, true)), recordsTable(ans.items, false),
      pager(ans, '/records', params));
  }

  /* ---- one record ------------------------------------------------------------------ */

  function kv(pairs) {
    return el('dl', { class: 'kv' }, ...pairs.filter((p) => p).map(([k, v]) =>
      [el('dt', {}, k), el('dd', {}, v === null || v === undefined ? '' : v)]));
  }

  /* A coded value's code, for a title (hover): enums, listed codes, booleans. */
  const CODED = ['enum', 'ref', 'boolean'];
  const codeOf = (f, data) => (data && CODED.includes(f.type) && data[f.name] !== undefined &&
    data[f.name] !== null ? String(data[f.name]) : null);

  /* A record's fields as the officer entered them: label and text; the codes on hover. */
  function fieldsTable(id, display, data) {
    return el('table', { id, class: 'fields' }, el('tbody', {},
      ...((display && display.fields) || []).map((f) =>
        el('tr', { 'data-field': f.name },
           el('th', { title: f.name }, tx(f.label, f.name)),
           el('td', { class: 'value', title: codeOf(f, data) }, tx(f.text))))));
  }

  /* What a revision changed, field by field ("label: old → new"), from the API's
   * display.changes; the first revision is the record as first entered. */
  function changesList(v, i) {
    const ch = disp(v).changes || [];
    if (i === 0) return el('span', { class: 'muted' }, t('first_rev'));
    if (!ch.length) return el('span', { class: 'muted' }, t('no_change'));
    const sep = LANG === 'en' ? ': ' : '：';
    return el('ul', { class: 'changes' }, ...ch.map((c) =>
      el('li', { 'data-field': c.name },
         el('span', { class: 'ch-label', title: c.name }, tx(c.label, c.name)), sep,
         el('span', { class: 'ch-old' }, c.old ? tx(c.old) : t('empty')), ' → ',
         el('span', { class: 'ch-new' }, c.new ? tx(c.new) : t('empty')))));
  }

  function sigBadge(sig) {
    if (!sig) return '';
    return el('span', { class: 'badge ' + (sig.verified ? 'ok' : 'bad'), 'data-sig': sig.result,
                        title: sig.result },
      sig.verified ? t('verified') + ' ' + t('checked_now') : t('bad_sig') + ' ' + t('checked_now'));
  }

  /* The files of the current revision: a thumbnail (click: the original) or a
   * link, name, type and size; the photo's own time and place beside the
   * record's, with the server's notice when they are far apart; files named
   * but not at HQ yet as one line ("2 張照片傳送中"). */
  /* A stored type as people name it (the media type on hover). */
  const TYPE_NAMES = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/heic': 'HEIC',
                       'image/heif': 'HEIF', 'application/pdf': 'PDF' };
  const typeName = (type) => TYPE_NAMES[type] || type;

  function attachmentsSection(att) {
    if (!att || !att.items || !att.items.length) return null;
    const ad = att.display || {};
    return el('section', { id: 'rec-attachments' },
      el('h2', { text: t('attachments') }),
      ad.pending ? el('p', { id: 'att-pending', class: 'att-pending' }, tx(ad.pending)) : null,
      el('ul', { class: 'att-list' }, ...att.items.map((it) => {
        const d = disp(it);
        const label = it.name || it.sha256.slice(0, 12);
        let preview;
        if (it.thumb) {
          preview = el('a', { href: it.url, target: '_blank', rel: 'noopener', class: 'att-open',
                              title: t('open_original') },
                       el('img', { class: 'att-thumb', src: it.thumb, alt: label }));
        } else if (it.url) {
          preview = el('a', { href: it.url, class: 'att-open att-file', download: '' },
                       it.type === 'application/pdf' ? 'PDF' : t('download'));
        } else {
          preview = el('span', { class: 'att-open att-waiting' }, t('on_way'));
        }
        const rows = [];
        if (it.exif) {
          rows.push([t('exif_time'), d.exif_time ? tx(d.exif_time) : '—'],
                    [t('record_time'), ad.record_time ? tx(ad.record_time) : '—'],
                    [t('exif_place'), d.exif_place ? tx(d.exif_place) : '—'],
                    [t('record_place'), ad.record_place ? tx(ad.record_place) : '—']);
        }
        return el('li', { class: 'att-item' + (it.stored ? '' : ' pending'), 'data-sha': it.sha256 },
          preview,
          el('div', { class: 'att-meta' },
            el('div', { class: 'att-name' }, label),
            el('div', { class: 'muted att-facts', title: it.type }, tx(d.field, it.field) + ' · ' +
               typeName(it.type) + ' · ' + tx(d.size, String(it.size)),
               it.stored ? null : [' · ', el('span', { class: 'badge' }, t('on_way'))]),
            it.exif ? kv(rows) : (it.stored && it.type.startsWith('image/')
              ? el('div', { class: 'muted att-noexif' }, t('no_exif')) : null),
            ...(d.notes || []).map((n) => el('p', { class: 'att-note' }, tx(n))),
            el('div', { class: 'sha muted' }, it.sha256)));
      })));
  }

  async function viewRecord(id) {
    frame('records');
    await catalog();
    const box = el('div');
    main().replaceChildren(el('h1', { text: t('record') }), box);
    let a;
    try {
      a = await api('GET', '/v1/records/' + encodeURIComponent(id));
    } catch (e) { showError(box, e); return; }
    const r = a.record, d = a.device || {}, rd = disp(r), dd = disp(d);
    const cur = (a.revisions || []).find((v) => v.batch.current) || {};
    put(box, 
      kv([[t('id'), el('span', { class: 'sha', id: 'rec-id' }, r.id)],
          [t('kind'), el('span', { id: 'rec-kind', title: r.kind }, tx(rd.kind, r.kind_label))],
          [t('status'), el('span', { id: 'rec-status', title: r.status }, tx(rd.status, r.status) + ' · ' + t('rev') + ' ' + r.rev)],
          [t('unit'), el('span', { id: 'rec-unit', title: r.org_unit }, tx(rd.org_unit, r.org_unit))], [t('officer'), r.officer],
          [t('occurred'), el('span', { id: 'rec-occurred' }, tx(rd.occurred_at, r.occurred_at))],
          [t('recorded'), tx(rd.recorded_at, r.recorded_at)],
          rd.void_reason ? [t('void_reason'), rd.void_reason] : null,
          [t('device'), d.id + (d.label ? ' · ' + d.label : '') + (d.org_unit ? ' · ' + tx(dd.org_unit, d.org_unit) : '') +
            (d.device_key ? ' · ' + t('device_key') + ' ' + d.device_key : '') +
            (d.status && d.status !== 'active' ? ' · ' + tx(dd.status, d.status) : '')],
          [t('batch'), cur.batch ? el('span', {}, '#' + cur.batch.seq + ' · ',
            el('span', { class: 'sha', id: 'rec-sha' }, cur.batch.sha256), ' ', sigBadge(cur.batch.signature)) : '']]),
      el('h2', { text: t('data') }),
      fieldsTable('rec-data', rd, r.data || (a.body && a.body.data)),
      attachmentsSection(a.attachments),
      el('h2', { text: t('revisions') }),
      cardify(el('table', { id: 'rec-revisions' },
        el('thead', {}, el('tr', {}, ...['rev', 'batch', 'received', 'source', 'sha256', 'signature', 'changes', 'data']
          .map((k) => el('th', {}, t(k))))),
        el('tbody', {}, ...a.revisions.map((v, i) => el('tr', { 'data-rev': v.rev },
          el('td', { class: 'num' }, v.rev),
          el('td', { class: 'num' }, '#' + v.batch.seq),
          el('td', {}, tx(disp(v.batch).received_at, v.batch.received_at)),
          el('td', {}, tx(disp(v.batch).source, v.batch.source)),
          el('td', { class: 'sha' }, v.batch.sha256),
          el('td', {}, sigBadge(v.batch.signature)),
          el('td', { class: 'rev-changes' }, changesList(v, i)),
          el('td', {}, el('details', {}, el('summary', {}, tx(disp(v).status, (v.body && v.body.status) || '')),
                          kv(((disp(v).fields) || []).map((f) => [tx(f.label, f.name), tx(f.text)])),
                          el('details', { class: 'raw' }, el('summary', {}, t('raw')),
                             el('pre', {}, JSON.stringify(v.body, null, 2)))))))))),
      cur.batch ? el('details', { id: 'rec-receipt' }, el('summary', {}, t('receipt') + ' #' + cur.batch.seq),
                     el('pre', {}, JSON.stringify(cur.batch.receipt, null, 2))) : null,
      a.quarantined.length ? el('div', {}, el('h2', { text: t('quarantined_revs') }),
        el('ul', {}, ...a.quarantined.map((q) => el('li', {}, t('rev') + ' ' + q.rev + ' · ' + t('batch') +
          ' #' + q.batch_seq + ' · ' + q.reason)))) : null,
      el('p', {}, el('a', { href: '#/records', id: 'back' }, t('back'))));
  }

  /* ---- devices ---------------------------------------------------------------------- */

  function ranges(list) {
    return (list || []).map(([a, b]) => (a === b ? String(a) : a + '–' + b)).join(', ');
  }

  async function viewDevices(params) {
    frame('devices');
    await catalog();
    const box = el('div');
    const orgSel = unitSelect('dev-org', params.org || '', !CATALOG.scope);
    orgSel.addEventListener('change', () => go('/devices', { org: orgSel.value }));
    main().replaceChildren(el('h1', { text: t('devices') }),
      el('div', { class: 'bar' }, el('label', {}, t('org'), orgSel)), box);
    let a;
    const q = { org: params.org || null };
    try { a = await api('GET', '/v1/devices', q); } catch (e) { showError(box, e); return; }
    put(box, el('p', {}, exportLinks('/v1/devices', q)));
    if (!a.items.length) { put(box, el('p', { class: 'muted', id: 'empty' }, t('none'))); return; }
    put(box, cardify(el('table', { id: 'devices-table' },
      el('thead', {}, el('tr', {}, ...['device', 'unit', 'label', 'status', 'last_contact', 'batches',
        'last_seq', 'missing_seqs', 'rejected', 'qbatches', 'records_sent', 'pending', 'att_missing_short']
        .map((k) => el('th', {}, t(k))))),
      el('tbody', {}, ...a.items.map((d) => el('tr', { 'data-device': d.id },
        el('td', { class: 'sha' }, el('a', { class: 'device-link', href: '#/device/' + encodeURIComponent(d.id) }, d.id)),
        el('td', {}, tx(disp(d).org_unit, d.org_unit_name + ' (' + d.org_unit + ')')),
        el('td', {}, d.label),
        el('td', { class: 'dev-status', title: d.status }, tx(disp(d).status, d.status)),
        el('td', { class: d.late ? 'late' : null }, tx(disp(d).last_contact, d.last_contact || '—'), ' ',
           d.contact_today ? el('span', { class: 'badge ok' }, t('today')) :
           d.late ? el('span', { class: 'badge bad' }, t('late')) : null),
        el('td', { class: 'num' }, d.batches),
        el('td', { class: 'num dev-last-seq' }, d.last_seq === null ? '—' : d.last_seq),
        el('td', { class: 'dev-missing' + (d.missing_count ? ' no' : '') }, d.missing_count ? ranges(d.missing) : '—'),
        el('td', { class: 'num' }, d.rejected_records + (d.rejected_open ? ' (' + t('open') + ' ' + d.rejected_open + ')' : '')),
        el('td', { class: 'num' }, d.quarantined_batches),
        el('td', { class: 'num' }, d.records_sent),
        el('td', { class: 'dev-summary' + (d.all_in ? ' ok' : '') },
           tx(disp(d).summary, d.summary || (d.pending === null ? t('not_reported') : d.pending))),
        el('td', { class: 'dev-att-missing' + (d.attachments_missing ? ' no' : '') },
           d.attachments_missing ? el('a', { href: '#/device/' + encodeURIComponent(d.id) },
             tx(disp(d).attachments_missing, String(d.attachments_missing))) : '—')))))),
      el('ul', { id: 'dev-precincts' }, ...(a.precincts || []).map((p) =>
        el('li', { 'data-precinct': p.precinct }, tx(p.display, p.summary)))),
      el('p', { class: 'note', id: 'pending-note' }, a.pending_note));
  }

  /* One device: its day-end facts and the files its records name that HQ lacks
   * (hq_attview_device_missing), each with a link to its record. */
  async function viewDevice(id) {
    frame('devices');
    await catalog();
    const box = el('div');
    main().replaceChildren(el('h1', { text: t('device_page') + ' ' + id }), box);
    let a;
    try { a = await api('GET', '/v1/devices'); } catch (e) { showError(box, e); return; }
    const d = (a.items || []).find((x) => x.id === id);
    if (!d) { put(box, el('p', { class: 'error', id: 'error' }, t('no_such_device'))); return; }
    const dd = disp(d);
    const list = d.attachments_missing_list || [];
    put(box,
      kv([[t('device'), el('span', { class: 'sha', id: 'dev-id' }, d.id)],
          [t('label'), d.label], [t('unit'), tx(dd.org_unit, d.org_unit)],
          [t('status'), tx(dd.status, d.status)],
          [t('last_contact'), tx(dd.last_contact, d.last_contact || '—')],
          [t('batches'), d.batches], [t('records_sent'), d.records_sent],
          [t('pending'), tx(dd.summary, d.summary || (d.pending === null ? t('not_reported') : d.pending))],
          [t('att_missing_short'), el('span', { id: 'dev-att-summary' },
            dd.attachments_missing ? tx(dd.attachments_missing) : '—')]]),
      el('h2', { text: t('att_missing') }),
      list.length ? cardify(el('table', { id: 'dev-att-missing' },
        el('thead', {}, el('tr', {}, ...['att_name', 'att_type', 'att_size', 'record', 'sha256']
          .map((k) => el('th', {}, t(k))))),
        el('tbody', {}, ...list.map((m) => el('tr', { 'data-sha': m.sha256 },
          el('td', {}, m.name || '—'), el('td', { title: m.type }, typeName(m.type)),
          el('td', { class: 'num' }, tx(disp(m).size, String(m.size))),
          el('td', {}, el('a', { class: 'record-link', href: '#/record/' + encodeURIComponent(m.record_id) },
                          m.record_id.slice(-8))),
          el('td', { class: 'sha' }, m.sha256)))))) : el('p', { class: 'muted', id: 'empty' }, t('none')),
      d.attachments_missing_truncated ? el('p', { class: 'note' }, t('att_truncated')) : null,
      el('p', {}, el('a', { href: '#/devices', id: 'back' }, t('back'))));
  }

  /* ---- quarantine ------------------------------------------------------------------- */

  function actionCell(item, kind, reload) {
    if (item.action) return el('span', { class: 'badge' }, tx(disp(item.action).action, item.action.action) +
      ' · ' + item.action.user + ' · ' + tx(disp(item.action).at, item.action.at) +
      (item.action.note ? ' · ' + item.action.note : ''));
    if (!SESSION || SESSION.user.role !== 'hq') return el('span', { class: 'muted' }, t('open'));
    const note = el('input', { class: 'q-note', placeholder: t('note'), maxlength: 500, size: 14 });
    const msg = el('span', { class: 'q-msg' });
    const act = async (action) => {
      msg.textContent = '';
      try {
        await api('POST', '/v1/quarantine/' + kind + '/' + item.id + '/' + action, {},
                  note.value ? { note: note.value } : {});
        reload();
      } catch (e) {
        msg.className = 'q-msg error';
        msg.textContent = e.message;
      }
    };
    return el('span', {}, note,
      kind === 'records' ? el('button', { type: 'button', class: 'q-release', onclick: () => act('release') },
                              t('release')) : null,
      el('button', { type: 'button', class: 'q-review', onclick: () => act('review') }, t('review')), msg);
  }

  async function viewQuarantine(params) {
    frame('quarantine');
    await catalog();
    const box = el('div');
    const state = params.state === 'all' ? 'all' : 'open';
    const st = el('select', { id: 'q-state' },
      el('option', { value: 'open', selected: state === 'open' }, t('state_open')),
      el('option', { value: 'all', selected: state === 'all' }, t('state_all')));
    const orgSel = unitSelect('q-org', params.org || '', !CATALOG.scope);
    const nav = () => go('/quarantine', { state: st.value, org: orgSel.value });
    st.addEventListener('change', nav);
    orgSel.addEventListener('change', nav);
    main().replaceChildren(el('h1', { text: t('quarantine') }),
      el('div', { class: 'bar' }, el('label', {}, t('status'), st), el('label', {}, t('org'), orgSel)), box);
    const q = { state, org: params.org || null, after: params.after || null };
    let a;
    try { a = await api('GET', '/v1/quarantine', q); } catch (e) { showError(box, e); return; }
    const reload = () => viewQuarantine(params);
    put(box, el('h2', { text: t('qrecords') }), el('p', {}, exportLinks('/v1/quarantine', q)));
    put(box, a.items.length ? cardify(el('table', { id: 'quarantine-table' },
      el('thead', {}, el('tr', {}, ...['id', 'kind', 'unit', 'occurred', 'reason', 'device', 'batch', 'action']
        .map((k) => el('th', {}, t(k))))),
      el('tbody', {}, ...a.items.map((it) => el('tr', { 'data-qid': it.id },
        el('td', { class: 'sha' }, it.record_id ? it.record_id.slice(-8) : '—', ' r', it.rev),
        el('td', { class: 'q-kind', title: it.kind || null }, tx(disp(it).kind, it.kind || '')),
        el('td', { class: 'q-unit', title: it.org_unit || null }, tx(disp(it).org_unit, it.org_unit || '')),
        el('td', {}, tx(disp(it).occurred_at, it.occurred_at || '')),
        el('td', { class: 'q-reason' }, it.reason),
        el('td', {}, el('span', { class: 'sha' }, it.device), ' · ', tx(disp(it).device_unit, it.device_unit)),
        el('td', { class: 'num' }, '#' + it.batch_seq),
        el('td', {}, actionCell(it, 'records', reload))))))) : el('p', { class: 'muted', id: 'empty' }, t('none')));
    if (a.next) put(box, el('div', { class: 'pager' }, el('a', { href: hashTo('/quarantine',
      Object.assign({}, params, { after: a.next })) }, t('next'))));
    put(box, el('h2', { text: t('qbatch_title') }));
    put(box, a.batches.length ? cardify(el('table', { id: 'qbatches-table' },
      el('thead', {}, el('tr', {}, ...['device', 'seq', 'received', 'reason', 'sha256', 'action']
        .map((k) => el('th', {}, t(k))))),
      el('tbody', {}, ...a.batches.map((b) => el('tr', { 'data-qbid': b.id },
        el('td', {}, el('span', { class: 'sha' }, b.device), ' · ', tx(disp(b).device_unit, b.device_unit)),
        el('td', { class: 'num' }, b.seq),
        el('td', {}, tx(disp(b).received_at, b.received_at)), el('td', {}, b.reason),
        el('td', { class: 'sha' }, b.sha256),
        el('td', {}, actionCell(b, 'batches', reload))))))) : el('p', { class: 'muted' }, t('none')));
  }

  /* ---- routing ----------------------------------------------------------------------- */

  async function route() {
    if (!SESSION) {
      try { SESSION = await api('GET', '/v1/session'); } catch (e) { return; }
    }
    const h = location.hash.replace(/^#/, '') || '/scorecard';
    const [path, query] = h.split('?');
    const params = {};
    for (const [k, v] of new URLSearchParams(query || '')) params[k] = v;
    const parts = path.split('/').filter(Boolean);
    try {
      if (parts[0] === 'record' && parts[1]) await viewRecord(decodeURIComponent(parts[1]));
      else if (parts[0] === 'drill') await viewDrill(params);
      else if (parts[0] === 'records') await viewRecords(params);
      else if (parts[0] === 'devices') await viewDevices(params);
      else if (parts[0] === 'device' && parts[1]) await viewDevice(decodeURIComponent(parts[1]));
      else if (parts[0] === 'quarantine') await viewQuarantine(params);
      else await viewScorecard(params);
    } catch (e) {
      if (e.status !== 401) showError(main(), e);
    }
    document.body.setAttribute('data-ready', location.hash || '#');
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('lang').addEventListener('click', () => {
      LANG = LANG === 'en' ? 'zh-TW' : 'en';
      localStorage.setItem('bb_lang', LANG);
      if (SESSION) route(); else showSignin('');
    });
    $('signout').addEventListener('click', async () => {
      try { await api('DELETE', '/v1/session'); } catch (e) { /* signed out anyway */ }
      SESSION = null;
      CATALOG = null;
      showSignin('');
    });
    window.addEventListener('hashchange', () => {
      document.body.removeAttribute('data-ready');
      route();
    });
    route();
  });
})();
