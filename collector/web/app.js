/*
 * Beatbook forms page — one page, hash routes, data from `beatbook ui`'s
 * JSON API on 127.0.0.1 (collector/col_ui.h).
 *
 * Every piece of data reaches the page through textContent or setAttribute;
 * nothing is parsed as HTML (no innerHTML), so a "<script>" typed into a
 * record shows as text.  The server's Content-Security-Policy allows only
 * this file.  Changes carry the session's CSRF token (X-CSRF-Token); the
 * session itself is an HttpOnly cookie this script never sees.
 *
 * Forms come from the form model (bb_form_json): questions in order, pages,
 * relevant_if / required_if, reference lists with aliases, KPI notes, in
 * both languages.  Whether an answer is valid is always the server's call
 * (POST /api/check runs the very validation a save runs), so the page
 * never accepts what `beatbook add` would refuse.
 */
'use strict';
(function () {
  const T = {
    'zh-TW': {
      title: 'Beatbook 勤務紀錄', home: '首頁', list: '紀錄查詢', sync: '同步', lang: 'English',
      today: '今日紀錄', drafts: '進行中的巡邏', none_today: '今天還沒有紀錄',
      none_drafts: '沒有進行中的巡邏', new_entry: '新增紀錄', start_patrol: '開始巡邏',
      add_patrol: '補登完整巡邏', end_patrol: '結束巡邏', view: '查看',
      pending: '{n} 筆待同步', last_sync: '上次同步 {t}', never_synced: '尚未同步',
      last_error: '上次同步失敗：{e}', not_enrolled: '此資料庫未向總局註冊，可以記錄但不能同步',
      rejected: '總局拒收：{b} 批、{r} 筆紀錄（請更正後再同步）', sync_now: '同步',
      syncing: '同步中…', sync_title: '同步到總局', sync_start: '開始同步',
      sync_again: '再同步一次', sync_output: '同步程式的訊息', sync_counts:
        '已確認 {a} 批，待傳送 {w} 批，待封裝 {u} 筆', sync_none: '尚未執行同步',
      back: '上一步', next: '下一步', review: '檢查並預覽', save: '儲存',
      save_draft: '開始巡邏（存為草稿）', save_edit: '儲存修改', save_end: '結束巡邏並儲存',
      review_title: '確認內容', fix: '修改', choose: '— 請選擇 —', yes: '是', no: '否',
      now: '現在', here: '目前位置', add_files: '加入照片或檔案', remove_file: '移除',
      uploading: '上傳中…', calendar: '日期格式', roc: '民國', greg: '西元',
      search: '輸入名稱、代碼或別名搜尋', more: '還有 {n} 項，請輸入文字縮小範圍',
      nomatch: '沒有符合的項目', required: '必填', problems: '請先更正以下問題：',
      general: '整筆紀錄', loading: '載入中…', kind: '類別', status: '狀態', any: '全部',
      from: '自（日期）', to: '至（日期）', filter: '查詢', draft: '草稿', final: '已完成',
      void: '已作廢', id: '編號', rev: '版次', occurred: '發生時間', recorded: '登錄時間',
      unit: '單位', officer: '員警', fields: '內容', revisions: '修改紀錄',
      draft_no_revs: '草稿：結束前不會同步，也沒有修訂紀錄', created: '建立',
      edit: '修改', void_it: '作廢', void_reason: '作廢原因', void_confirm: '確認作廢',
      void_why: '請說明為何作廢（必填）', not_mine: '此紀錄由其他裝置建立，只能檢視',
      is_void: '此紀錄已作廢', more_rows: '只顯示最新 {n} 筆，共 {t} 筆；請縮小條件',
      none: '沒有符合的紀錄', rev_n: '第 {n} 版', empty: '（空白）', new_title: '新增：{k}',
      start_title: '開始巡邏', edit_title: '修改：{k}', end_title: '結束巡邏',
      not_found: '找不到這個頁面', open_patrols_note: '進行中的巡邏結束後才會同步',
      who: '{o}・{u}', error: '錯誤', retry: '重新載入',
    },
    en: {
      title: 'Beatbook field records', home: 'Home', list: 'Records', sync: 'Sync', lang: '中文',
      today: "Today's entries", drafts: 'Open patrols', none_today: 'Nothing recorded today yet',
      none_drafts: 'No open patrol', new_entry: 'New entry', start_patrol: 'Start a patrol',
      add_patrol: 'Record a whole patrol', end_patrol: 'End patrol', view: 'View',
      pending: '{n} to sync', last_sync: 'last sync {t}', never_synced: 'never synced',
      last_error: 'last sync failed: {e}',
      not_enrolled: 'This store is not enrolled with HQ: it can record, but not sync',
      rejected: 'HQ refused {b} batch(es) and {r} record(s): correct them and sync again',
      sync_now: 'Sync', syncing: 'Syncing…', sync_title: 'Sync with HQ', sync_start: 'Start sync',
      sync_again: 'Sync again', sync_output: "The sync program's messages",
      sync_counts: '{a} batch(es) acknowledged, {w} waiting, {u} record(s) to seal',
      sync_none: 'No sync run yet', back: 'Back', next: 'Next', review: 'Check and review',
      save: 'Save', save_draft: 'Start patrol (saved as a draft)', save_edit: 'Save changes',
      save_end: 'End patrol and save', review_title: 'Check what will be saved', fix: 'Change',
      choose: '— choose —', yes: 'yes', no: 'no', now: 'Now', here: 'Here',
      add_files: 'Add photos or files', remove_file: 'Remove', uploading: 'Uploading…', calendar: 'Dates',
      roc: 'ROC', greg: 'Gregorian', search: 'Type a name, code or other name',
      more: '{n} more: type to narrow', nomatch: 'Nothing matches', required: 'required',
      problems: 'Please correct these first:', general: 'The record', loading: 'Loading…',
      kind: 'Kind', status: 'Status', any: 'any', from: 'From (date)', to: 'To (date)',
      filter: 'Show', draft: 'draft', final: 'final', void: 'void', id: 'Id', rev: 'Revision',
      occurred: 'Occurred', recorded: 'Recorded', unit: 'Unit', officer: 'Officer',
      fields: 'Fields', revisions: 'Revisions',
      draft_no_revs: 'A draft: not synced and without revisions until it ends',
      created: 'created', edit: 'Edit', void_it: 'Void', void_reason: 'Reason for voiding',
      void_confirm: 'Void this record', void_why: 'Say why the record is void (required)',
      not_mine: 'Made on another device: view only', is_void: 'This record is void',
      more_rows: 'Only the newest {n} of {t} are shown; narrow the filter', none: 'No records',
      rev_n: 'Revision {n}', empty: '(empty)', new_title: 'New: {k}', start_title: 'Start a patrol',
      edit_title: 'Edit: {k}', end_title: 'End patrol', not_found: 'No such page',
      open_patrols_note: 'Open patrols are synced once they end', who: '{o} · {u}',
      error: 'Error', retry: 'Reload',
    },
  };

  let LANG = localStorage.getItem('bb_ui_lang') === 'en' ? 'en' : 'zh-TW';
  let CAL = localStorage.getItem('bb_ui_cal') || (LANG === 'en' ? 'greg' : 'roc');
  let SESSION = null;
  let FLASH = null;
  let rerender = null;       /* re-draws the current page in the new language, keeping input */
  let timer = null;          /* the sync page's poll */
  let SYNC_ERROR = null;     /* why the 同步 button could not start a run */

  const t = (k, vars) => {
    let s = (T[LANG] && T[LANG][k]) || T.en[k] || k;
    for (const [n, v] of Object.entries(vars || {})) s = s.split('{' + n + '}').join(String(v));
    return s;
  };
  const tx = (pair, fallback) =>
    (pair && (pair[LANG] || pair['zh-TW'] || pair.en)) || (fallback === undefined ? '' : fallback);
  const $ = (id) => document.getElementById(id);

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
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  let SEQ = 0;
  /* For people nothing; for the tests: what is drawn, and a count of draws. */
  function ready(name) {
    document.body.setAttribute('data-seq', String(++SEQ));
    document.body.setAttribute('data-ready', name);
  }
  function busy() { document.body.removeAttribute('data-ready'); }

  /* ---- the API ---- */

  async function api(method, path, body) {
    const h = { 'X-BB-Lang': LANG };
    const opts = { method, headers: h, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') {
      h['Content-Type'] = 'application/json';
      if (SESSION) h['X-CSRF-Token'] = SESSION.csrf;
      opts.body = JSON.stringify(body || {});
    }
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      return { status: 0, data: { message: String(e) } };
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = { message: r.statusText }; }
    return { status: r.status, data };
  }

  /* ---- times: Taipei (UTC+8), shown ROC or Gregorian ---- */

  const pad = (n) => String(n).padStart(2, '0');

  /* {y, m, d, H, M} of an ISO time with offset, in Taipei. */
  function taipeiParts(iso) {
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return null;
    const d = new Date(ms + 8 * 3600 * 1000);
    return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(),
             H: d.getUTCHours(), M: d.getUTCMinutes() };
  }
  /* What a person types: "107/03/15 14:20" or "2018-03-15 14:20". */
  function partsText(p) {
    if (!p) return '';
    const date = CAL === 'roc' && p.y > 1911 ? `${p.y - 1911}/${pad(p.m)}/${pad(p.d)}`
                                             : `${p.y}-${pad(p.m)}-${pad(p.d)}`;
    return `${date} ${pad(p.H)}:${pad(p.M)}`;
  }
  /* Typed text back to parts (both calendars), or null. */
  function textParts(s) {
    const m = /^\s*(\d{1,4})[/-](\d{1,2})[/-](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2}))?/.exec(s || '');
    if (!m) return null;
    let y = +m[1];
    if (m[1].length <= 3) y += 1911;
    return { y, m: +m[2], d: +m[3], H: m[4] ? +m[4] : 0, M: m[5] ? +m[5] : 0 };
  }
  function nowParts() {
    return taipeiParts(new Date().toISOString());
  }
  const pickerValue = (p) => p ? `${String(p.y).padStart(4, '0')}-${pad(p.m)}-${pad(p.d)}T${pad(p.H)}:${pad(p.M)}` : '';
  function hhmm(iso) {
    const p = iso && taipeiParts(iso);
    return p ? `${pad(p.H)}:${pad(p.M)}` : '';
  }
  function shortWhen(iso) {
    const p = iso && taipeiParts(iso);
    if (!p) return '';
    const n = nowParts();
    if (n && p.y === n.y && p.m === n.m && p.d === n.d) return hhmm(iso);
    return partsText(p);
  }

  /* ---- chrome ---- */

  function header() {
    document.title = t('title');
    $('lang').textContent = t('lang');
    const nav = $('nav');
    const route = (location.hash || '#/').split('?')[0];
    nav.replaceChildren(
      el('a', { href: '#/', class: route === '#/' ? 'active' : null, text: t('home') }),
      el('a', { href: '#/records', class: route === '#/records' ? 'active' : null,
                text: t('list') }),
      el('a', { href: '#/sync', class: route === '#/sync' ? 'active' : null, text: t('sync') }));
    if (SESSION) {
      $('who').textContent = t('who', { o: SESSION.officer,
                                        u: tx(SESSION.org_unit_label, SESSION.org_unit) });
    }
    document.documentElement.lang = LANG;
  }

  function page(...kids) {
    const m = $('main');
    const flash = FLASH ? el('p', { class: 'flash', id: 'flash', role: 'status', text: FLASH }) : null;
    FLASH = null;
    m.replaceChildren(...[flash, ...kids].filter(Boolean));
    header();
  }

  function failPage(r, name) {
    page(el('h1', { text: t('error') }),
         el('p', { class: 'banner', id: 'page-error', text: (r.data && r.data.message) || String(r.status) }),
         el('p', {}, el('button', { type: 'button', onclick: () => route(), text: t('retry') })));
    ready(name);
  }

  function kindLabel(name) {
    const k = SESSION && SESSION.kinds.find((x) => x.name === name);
    return k ? tx(k.label, name) : name;
  }

  function badge(status) {
    return el('span', { class: 'badge ' + status, text: t(status) });
  }

  function rowList(rows, emptyText, id) {
    if (!rows || rows.length === 0) return el('p', { class: 'muted', id, text: emptyText });
    return el('ul', { class: 'rows', id },
      rows.map((r) => el('li', {},
        el('a', { class: 'row', href: '#/record/' + r.id, 'data-id': r.id },
          el('span', { class: 'kind', text: tx(r.kind_label, r.kind) }),
          el('span', { class: 'when', text: r.occurred }),
          badge(r.status),
          r.summary ? el('span', { class: 'sum', text: r.summary }) : null))));
  }

  /* ---- home ---- */

  function syncLine(ob) {
    if (!ob) return '';
    const parts = [t('pending', { n: ob.pending })];
    parts.push(ob.last_sync_ok_at ? t('last_sync', { t: shortWhen(ob.last_sync_ok_at) })
                                  : t('never_synced'));
    return parts.join(LANG === 'en' ? ', ' : '，');
  }

  async function home() {
    const r = await api('GET', '/api/home');
    if (r.status !== 200) return failPage(r, '#/');
    const d = r.data, ob = d.outbox || {};
    const syncCard = el('section', { class: 'card', id: 'sync-card' },
      el('h2', { text: t('sync') }),
      el('p', { class: 'syncline', id: 'sync-line', text: syncLine(ob) }),
      ob.enrolled === false ? el('p', { class: 'note', text: t('not_enrolled') }) : null,
      ob.last_sync_error ? el('p', { class: 'error', text: t('last_error', { e: ob.last_sync_error }) }) : null,
      (ob.rejected_batches || ob.rejected_records)
        ? el('p', { class: 'error', text: t('rejected', { b: ob.rejected_batches, r: ob.rejected_records }) }) : null,
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'primary', id: 'sync-button', onclick: startSync,
                       disabled: d.sync && d.sync.running,
                       text: d.sync && d.sync.running ? t('syncing') : t('sync_now') })));
    const kinds = SESSION.kinds.flatMap((k) => k.drafts
      ? [el('a', { class: 'button primary', href: '#/start/' + k.name, id: 'start-' + k.name,
                   text: t('start_patrol') }),
         el('a', { class: 'button', href: '#/new/' + k.name, id: 'kind-' + k.name,
                   text: t('add_patrol') })]
      : [el('a', { class: 'button', href: '#/new/' + k.name, id: 'kind-' + k.name,
                   text: tx(k.label, k.name) })]);
    const drafts = (d.drafts || []).map((r) => el('li', {},
      el('a', { class: 'row', href: '#/record/' + r.id, 'data-id': r.id },
        el('span', { class: 'kind', text: tx(r.kind_label, r.kind) }),
        el('span', { class: 'when', text: r.occurred }),
        r.summary ? el('span', { class: 'sum', text: r.summary }) : null),
      el('div', { class: 'actions' },
        el('a', { class: 'button primary', href: '#/end/' + r.id, 'data-end': r.id,
                  text: t('end_patrol') }))));
    page(
      el('h1', { text: t('today') }),
      syncCard,
      el('section', { class: 'card' }, el('h2', { text: t('new_entry') }),
         el('div', { class: 'kinds', id: 'kinds' }, kinds)),
      el('section', { class: 'card', id: 'drafts' }, el('h2', { text: t('drafts') }),
         drafts.length ? el('ul', { class: 'rows' }, drafts)
                       : el('p', { class: 'muted', text: t('none_drafts') }),
         drafts.length ? el('p', { class: 'note', text: t('open_patrols_note') }) : null),
      el('section', { class: 'card' }, el('h2', { text: t('today') }),
         rowList(d.today, t('none_today'), 'today')));
    ready('#/');
  }

  async function startSync() {
    const b = $('sync-button') || $('sync-start');
    if (b) b.disabled = true;
    const r = await api('POST', '/api/sync', {});
    if (r.status !== 202 && r.status !== 409)    /* 409: one is running already: watch it */
      SYNC_ERROR = (r.data && r.data.message) || String(r.status);
    if (location.hash !== '#/sync') location.hash = '#/sync';
    else route();
  }

  /* ---- sync ---- */

  async function syncPage() {
    const r = await api('GET', '/api/sync');
    if (r.status !== 200) return failPage(r, '#/sync');
    const s = r.data, ob = s.outbox || {};
    const failed = SYNC_ERROR;
    SYNC_ERROR = null;
    const out = el('pre', { class: 'output', id: 'sync-output', 'aria-live': 'polite',
                            text: (s.lines || []).join('\n') });
    const parts = [
      el('h1', { text: t('sync_title') }),
      el('p', { class: 'syncline', id: 'sync-line', text: syncLine(ob) }),
      el('p', { class: 'error', id: 'sync-error', role: 'alert', text: failed || '' }),
    ];
    if (s.running) {
      parts.push(el('progress', { id: 'sync-progress' }),
                 el('p', { class: 'note', text: t('sync_counts', {
                   a: ob.acknowledged_batches || 0, w: ob.waiting_batches || 0, u: ob.unsealed || 0 }) }));
    }
    if (s.day_end) {
      parts.push(el('div', { class: 'dayend ' + s.day_end.state, id: 'day-end',
                             'data-state': s.day_end.state, role: 'status' },
                    el('p', { text: s.day_end.message }),
                    s.day_end.drafts_note ? el('p', { text: s.day_end.drafts_note }) : null));
    }
    parts.push(el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'primary', id: 'sync-start', disabled: s.running,
                     onclick: startSync,
                     text: s.running ? t('syncing') : (s.ran ? t('sync_again') : t('sync_start')) })));
    parts.push(el('h2', { text: t('sync_output') }),
               s.ran ? out : el('p', { class: 'muted', text: t('sync_none') }));
    page(...parts);
    out.scrollTop = out.scrollHeight;
    if (s.running) {
      document.body.setAttribute('data-sync', 'running');
      timer = setTimeout(() => { if ((location.hash || '') === '#/sync') syncPage(); }, 400);
    } else {
      document.body.setAttribute('data-sync', s.ran ? 'done' : 'idle');
    }
    ready('#/sync');
  }

  /* ---- list ---- */

  function hashParams() {
    const q = (location.hash.split('?')[1]) || '';
    return Object.fromEntries(new URLSearchParams(q));
  }

  async function listPage() {
    const p = hashParams();
    const q = new URLSearchParams();
    for (const k of ['kind', 'status', 'from', 'to']) if (p[k]) q.set(k, p[k]);
    const r = await api('GET', '/api/records' + (q.toString() ? '?' + q : ''));
    const kindSel = el('select', { id: 'f-kind' }, el('option', { value: '', text: t('any') }),
      SESSION.kinds.map((k) => el('option', { value: k.name, selected: p.kind === k.name,
                                              text: tx(k.label, k.name) })));
    const statusSel = el('select', { id: 'f-status' }, el('option', { value: '', text: t('any') }),
      ['draft', 'final', 'void'].map((s) => el('option', { value: s, selected: p.status === s,
                                                           text: t(s) })));
    const from = el('input', { type: 'text', id: 'f-from', value: p.from || '',
                               placeholder: CAL === 'roc' ? '107/03/01' : '2018-03-01' });
    const to = el('input', { type: 'text', id: 'f-to', value: p.to || '',
                             placeholder: CAL === 'roc' ? '107/03/31' : '2018-03-31' });
    const go = (e) => {
      e.preventDefault();
      const n = new URLSearchParams();
      if (kindSel.value) n.set('kind', kindSel.value);
      if (statusSel.value) n.set('status', statusSel.value);
      if (from.value.trim()) n.set('from', from.value.trim());
      if (to.value.trim()) n.set('to', to.value.trim());
      location.hash = '#/records' + (n.toString() ? '?' + n : '');
    };
    const form = el('form', { class: 'filters card', id: 'filters', onsubmit: go },
      el('label', {}, t('kind'), kindSel), el('label', {}, t('status'), statusSel),
      el('label', {}, t('from'), from), el('label', {}, t('to'), to),
      el('button', { type: 'submit', class: 'primary', id: 'f-go', text: t('filter') }));
    if (r.status !== 200) {
      page(el('h1', { text: t('list') }), form,
           el('p', { class: 'banner', id: 'page-error', text: (r.data && r.data.message) || '' }));
      return ready(location.hash);
    }
    page(el('h1', { text: t('list') }), form,
         r.data.more ? el('p', { class: 'note', text: t('more_rows', { n: r.data.records.length, t: r.data.count }) }) : null,
         el('section', { class: 'card' }, rowList(r.data.records, t('none'), 'records')));
    ready(location.hash || '#/records');
  }

  /* ---- record page ---- */

  async function recordPage(id) {
    const r = await api('GET', '/api/records/' + encodeURIComponent(id));
    if (r.status !== 200) return failPage(r, location.hash);
    const d = r.data, rec = d.record;
    const kv = (label, value, cls) => [el('dt', { text: label }), el('dd', { class: cls, text: value })];
    const env = el('dl', { class: 'kv', id: 'envelope' },
      kv(t('id'), rec.id, 'mono'), kv(t('status'), d.status_text), kv(t('rev'), String(rec.rev)),
      kv(t('occurred'), d.occurred), kv(t('recorded'), d.recorded), kv(t('unit'), d.org_unit),
      kv(t('officer'), rec.officer),
      rec.void_reason ? kv(t('void_reason'), rec.void_reason) : null);
    const fields = el('dl', { class: 'kv', id: 'fields' },
      (d.fields || []).map((f) => [el('dt', { text: tx(f.label, f.name) }),
                                   el('dd', { 'data-field': f.name, text: f.display })]));
    const actions = el('div', { class: 'actions', id: 'actions' });
    const voidBox = el('div', { id: 'void-box', hidden: true });
    if (d.can_end) {
      actions.append(el('a', { class: 'button primary', href: '#/end/' + rec.id, id: 'end-link',
                               text: t('end_patrol') }));
    }
    if (d.editable) {
      actions.append(el('a', { class: 'button', href: '#/edit/' + rec.id, id: 'edit-link',
                               text: t('edit') }),
                     el('button', { type: 'button', class: 'danger', id: 'void-open',
                                    onclick: () => { voidBox.hidden = false; $('void-reason').focus(); },
                                    text: t('void_it') }));
      const reason = el('textarea', { id: 'void-reason', rows: 2, 'aria-describedby': 'void-error' });
      const err = el('p', { class: 'error', id: 'void-error', 'aria-live': 'polite' });
      voidBox.append(el('div', { class: 'q' }, el('label', { for: 'void-reason', text: t('void_why') }),
                        reason, err),
                     el('div', { class: 'actions' },
                        el('button', { type: 'button', class: 'danger', id: 'void-submit',
                                       onclick: async (e) => {
                                         e.target.disabled = true;
                                         const v = await api('POST', '/api/records/' + rec.id + '/void',
                                                             { rev: rec.rev, reason: reason.value });
                                         e.target.disabled = false;
                                         if (v.status === 200) {
                                           FLASH = v.data.message;
                                           return recordPage(rec.id);
                                         }
                                         err.textContent = (v.data && v.data.message) || String(v.status);
                                         reason.setAttribute('aria-invalid', 'true');
                                       },
                                       text: t('void_confirm') })));
    } else {
      actions.append(el('p', { class: 'note', text: rec.status === 'void' ? t('is_void') : t('not_mine') }));
    }
    const revs = d.revisions || [];
    const revList = revs.length === 0 ? el('p', { class: 'muted', id: 'revisions', text: t('draft_no_revs') })
      : el('ol', { class: 'revs', id: 'revisions' }, revs.map((v, i) => el('li', { 'data-rev': v.rev },
          el('div', {}, el('strong', { text: t('rev_n', { n: v.rev }) }), ' · ', v.status_text, ' · ', v.recorded,
             v.void_reason ? ` · ${t('void_reason')}：${v.void_reason}` : null),
          i === 0 ? el('p', { class: 'note', text: t('created') })
            : el('ul', { class: 'changes' }, v.changes.map((c) => el('li', { 'data-field': c.name },
                `${tx(c.label, c.name)}：`,
                el('span', { class: 'before', text: c.before || t('empty') }), ' → ',
                el('span', { class: 'after', text: c.after || t('empty') })))))));
    page(el('h1', {}, tx(d.kind_label, rec.kind), ' ', badge(rec.status)),
         el('section', { class: 'card' }, env),
         el('section', { class: 'card' }, el('h2', { text: t('fields') }), fields),
         actions, voidBox,
         el('section', { class: 'card' }, el('h2', { text: t('revisions') }), revList));
    rerender = () => recordPage(id);
    ready('#/record/' + id);
  }

  /* ---- forms ---- */

  const norm = (s) => String(s || '').toLowerCase().replace(/臺/g, '台').replace(/[\s　]+/g, '');

  /* A stored value as the text a person would type (the edit form's start). */
  function valueText(q, v) {
    if (v === null || v === undefined) return '';
    if (q.type === 'datetime') return partsText(taipeiParts(v)) || String(v);
    if (q.type === 'boolean') return v ? 'true' : 'false';
    if (q.type === 'geo') return v && typeof v === 'object' ? `${v.lat},${v.lon}` : String(v);
    if (q.type === 'attachment') return Array.isArray(v) ? v : [];
    return String(v);
  }

  function relevant(q, values) {
    if (q.ask === 'never') return false;
    if (!q.relevant_if) return true;
    return q.relevant_if.in.includes(values[q.relevant_if.field] || '');
  }
  function required(q, values) {
    return q.required || (q.required_if && q.required_if.in.includes(values[q.required_if.field] || ''));
  }

  function optionText(o) {
    const l = tx(o.label, o.code);
    return l === o.code ? o.code : (LANG === 'en' ? `${l} (${o.code})` : `${l}（${o.code}）`);
  }

  /* A list picker with search: code, name in both languages, other names (aliases). */
  function refInput(q, st, onchange) {
    const opts = q.options || [];
    const input = el('input', { type: 'text', id: 'q-' + q.name, role: 'combobox', autocomplete: 'off',
                                'aria-autocomplete': 'list', 'aria-expanded': 'false',
                                'aria-controls': 'list-' + q.name, placeholder: t('search') });
    const list = el('ul', { id: 'list-' + q.name, role: 'listbox', hidden: true });
    const cur = opts.find((o) => o.code === st.values[q.name]);
    input.value = cur ? optionText(cur) : (st.values[q.name] || '');
    let shown = [];
    let active = -1;
    const pick = (o) => {
      st.values[q.name] = o.code;
      input.value = optionText(o);
      close();
      onchange();
    };
    function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; }
    function open(all) {
      const n = norm(input.value);
      const match = (o) => all || !n || [o.code, o.label && o.label['zh-TW'], o.label && o.label.en,
                                         ...(o.aliases || [])].some((s) => norm(s).includes(n));
      const found = opts.filter(match);
      shown = found.slice(0, 40);
      list.replaceChildren(...shown.map((o, i) => el('li', {
        role: 'option', id: `opt-${q.name}-${i}`, 'data-code': o.code,
        onmousedown: (e) => { e.preventDefault(); pick(o); } },
        tx(o.label, o.code), el('span', { class: 'code', text: o.code }),
        o.aliases && o.aliases.length ? el('span', { class: 'code', text: o.aliases.join('、') }) : null)));
      if (found.length > shown.length) list.append(el('li', { class: 'more', text: t('more', { n: found.length - shown.length }) }));
      if (found.length === 0) list.append(el('li', { class: 'more', text: t('nomatch') }));
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      active = -1;
    }
    input.addEventListener('input', () => { st.values[q.name] = input.value.trim(); open(false); onchange(); });
    input.addEventListener('focus', () => {
      const c = opts.find((o) => o.code === st.values[q.name]);
      open(Boolean(c && input.value === optionText(c)));
    });
    input.addEventListener('blur', () => setTimeout(close, 150));
    input.addEventListener('keydown', (e) => {
      const items = [...list.querySelectorAll('li[role=option]')];
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (list.hidden) open(false);
        active = Math.max(0, Math.min(items.length - 1, active + (e.key === 'ArrowDown' ? 1 : -1)));
        items.forEach((li, i) => li.classList.toggle('active', i === active));
        if (items[active]) input.setAttribute('aria-activedescendant', items[active].id);
      } else if (e.key === 'Enter') {
        if (!list.hidden && shown.length && (active >= 0 || shown.length === 1)) {
          e.preventDefault();
          pick(shown[Math.max(active, 0)]);
        }
      } else if (e.key === 'Escape') {
        close();
      }
    });
    return el('div', { class: 'combo' }, input, list);
  }

  function dateInput(q, st, onchange) {
    const text = el('input', { type: 'text', id: 'q-' + q.name, autocomplete: 'off',
                               placeholder: CAL === 'roc' ? '107/03/15 14:20' : '2018-03-15 14:20' });
    const picker = el('input', { type: 'datetime-local', class: 'picker', 'aria-label': tx(q.label, q.name),
                                 id: 'pick-' + q.name });
    text.value = st.values[q.name] || '';
    picker.value = pickerValue(textParts(text.value));
    text.addEventListener('input', () => {
      st.values[q.name] = text.value.trim();
      const p = textParts(text.value);
      picker.value = p ? pickerValue(p) : '';
      onchange();
    });
    picker.addEventListener('change', () => {
      const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(picker.value);
      if (!m) return;
      text.value = partsText({ y: +m[1], m: +m[2], d: +m[3], H: +m[4], M: +m[5] });
      st.values[q.name] = text.value;
      onchange();
    });
    const now = el('button', { type: 'button', 'data-now': q.name, text: t('now'), onclick: () => {
      text.value = partsText(nowParts());
      picker.value = pickerValue(nowParts());
      st.values[q.name] = text.value;
      onchange();
    } });
    return el('div', { class: 'dt' }, text, picker, now);
  }

  function geoInput(q, st, onchange) {
    const input = el('input', { type: 'text', id: 'q-' + q.name, inputmode: 'decimal',
                                placeholder: '24.1477,120.6736', value: st.values[q.name] || '' });
    input.addEventListener('input', () => { st.values[q.name] = input.value.trim(); onchange(); });
    const here = navigator.geolocation ? el('button', { type: 'button', text: t('here'), onclick: () => {
      navigator.geolocation.getCurrentPosition((p) => {
        input.value = `${p.coords.latitude.toFixed(6)},${p.coords.longitude.toFixed(6)}`;
        st.values[q.name] = input.value;
        onchange();
      }, () => {}, { timeout: 10000 });
    } }) : null;
    return el('div', { class: 'geo' }, input, here);
  }

  /* Photos and files: each chosen file is uploaded at once (POST /api/attachments, checked
   * by its bytes as `beatbook add` checks it); the answer names them by hash. */
  function filesInput(q, st, onchange) {
    if (!Array.isArray(st.values[q.name])) st.values[q.name] = [];
    const list = el('ul', { class: 'files', id: 'files-' + q.name });
    const msg = el('p', { class: 'hint', id: 'files-msg-' + q.name, role: 'status' });
    const draw = () => {
      list.replaceChildren(...st.values[q.name].map((f, i) => el('li', { 'data-sha': f.sha256 },
        f.type && f.type.startsWith('image/') && f.type !== 'image/heic' && f.type !== 'image/heif'
          ? el('img', { src: '/api/attachments/' + f.sha256, alt: f.name || '', width: 96 }) : null,
        el('span', { text: `${f.name || f.sha256.slice(0, 12)} (${Math.ceil(f.size / 1024)} KB)` }),
        el('button', { type: 'button', text: t('remove_file'), onclick: () => {
          st.values[q.name].splice(i, 1); draw(); onchange();
        } }))));
    };
    const pick = el('input', { type: 'file', id: 'q-' + q.name, multiple: true,
                               accept: (q.media || []).join(',') });
    pick.addEventListener('change', async () => {
      for (const file of Array.from(pick.files)) {
        msg.textContent = t('uploading');
        let r, data = null;
        try {
          r = await fetch('/api/attachments', { method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/octet-stream', 'X-BB-Lang': LANG,
                       'X-CSRF-Token': SESSION ? SESSION.csrf : '', 'X-Kind': st.kind,
                       'X-Field': q.name, 'X-File-Name': encodeURIComponent(file.name) },
            body: file });
          data = await r.json();
        } catch (e) {
          data = { message: String(e) };
        }
        if (r && r.status === 201) {
          if (!st.values[q.name].some((f) => f.sha256 === data.sha256))
            st.values[q.name].push({ sha256: data.sha256, size: data.size, type: data.type,
                                     name: data.name });
          msg.textContent = '';
        } else {
          msg.textContent = (data && data.message) || String(r && r.status);
        }
      }
      pick.value = '';
      draw();
      onchange();
    });
    draw();
    return el('div', { class: 'attach' }, pick, list, msg);
  }

  function inputFor(q, st, onchange) {
    const id = 'q-' + q.name;
    const v = st.values[q.name] || '';
    const onInput = (e) => { st.values[q.name] = e.target.value.trim(); onchange(); };
    switch (q.type) {
      case 'enum':
        return el('select', { id, onchange: onInput },
          el('option', { value: '', text: t('choose') }),
          (q.values || []).map((o) => el('option', { value: o.code, selected: o.code === v,
                                                     text: tx(o.label, o.code) })));
      case 'boolean':
        return el('select', { id, onchange: onInput },
          el('option', { value: '', text: t('choose') }),
          el('option', { value: 'true', selected: v === 'true', text: t('yes') }),
          el('option', { value: 'false', selected: v === 'false', text: t('no') }));
      case 'ref':
        return refInput(q, st, onchange);
      case 'datetime':
        return dateInput(q, st, onchange);
      case 'geo':
        return geoInput(q, st, onchange);
      case 'attachment':
        return filesInput(q, st, onchange);
      case 'integer':
        return el('input', { type: 'text', id, inputmode: 'numeric', pattern: '-?[0-9]*',
                             autocomplete: 'off', value: v, oninput: onInput });
      case 'number':
        return el('input', { type: 'text', id, inputmode: 'decimal', autocomplete: 'off',
                             value: v, oninput: onInput });
      default:
        if ((q.max_length || 0) > 200)
          return el('textarea', { id, rows: 3, oninput: onInput, text: v });
        return el('input', { type: 'text', id, value: v, autocomplete: 'off', oninput: onInput });
    }
  }

  /* What a save or check sends: new entries every relevant answer, changes only what changed. */
  function answersOf(st) {
    const out = {};
    for (const q of st.questions) {
      if (q.type === 'attachment') {
        const files = st.values[q.name] || [];
        const before = JSON.stringify(st.initial[q.name] || []);
        if (st.mode === 'new' || st.mode === 'draft') {
          if (files.length && relevant(q, st.values)) out[q.name] = files;
        } else if (JSON.stringify(files) !== before) {
          out[q.name] = files.length ? files : null;
        }
        continue;
      }
      const v = (st.values[q.name] || '').trim();
      if (st.mode === 'new' || st.mode === 'draft') {
        if (v !== '' && relevant(q, st.values)) out[q.name] = v;
      } else if (v !== (st.initial[q.name] || '')) {
        out[q.name] = v;
      }
    }
    return out;
  }

  function requestOf(st) {
    const b = { mode: st.mode, answers: answersOf(st) };
    if (st.kind && (st.mode === 'new' || st.mode === 'draft')) b.kind = st.kind;
    if (st.id) { b.id = st.id; b.rev = st.rev; }
    return b;
  }

  async function formPage(mode, arg) {
    let form, defaults = {}, rec = null;
    if (mode === 'new' || mode === 'draft') {
      const r = await api('GET', '/api/forms/' + encodeURIComponent(arg));
      if (r.status !== 200) return failPage(r, location.hash);
      form = r.data.form;
      defaults = r.data.defaults || {};
    } else {
      const r = await api('GET', '/api/records/' + encodeURIComponent(arg));
      if (r.status !== 200) return failPage(r, location.hash);
      rec = r.data.record;
      const f = await api('GET', '/api/forms/' + encodeURIComponent(rec.kind));
      if (f.status !== 200) return failPage(f, location.hash);
      form = f.data.form;
      defaults = f.data.defaults || {};
    }
    const questions = form.questions.filter((q) => q.ask !== 'never');
    const st = { mode, kind: form.kind, form, questions, values: {}, initial: {}, step: 0,
                 problems: [], review: null, id: rec ? rec.id : null, rev: rec ? rec.rev : null };
    for (const q of questions) {
      let v = '';
      if (rec) v = valueText(q, q.envelope ? rec[q.name] : (rec.data || {})[q.name]);
      st.initial[q.name] = v;
      if (Array.isArray(v)) {            /* files: edited as a copy of the stored list */
        st.values[q.name] = v.slice();
        continue;
      }
      if (v === '' && mode !== 'edit' && defaults[q.name] !== undefined) {
        v = q.type === 'datetime' ? partsText(textParts(defaults[q.name])) || defaults[q.name] : defaults[q.name];
      }
      st.values[q.name] = v;
    }
    /* Steps: the kind's pages (a patrol starts with its first only), then the review. */
    let pages = form.pages && form.pages.length ? form.pages : [{ id: null, title: form.label }];
    if (mode === 'draft') pages = pages.slice(0, 1);
    st.pages = pages.filter((p) => questions.some((q) => (q.page || null) === p.id));
    if (mode === 'end') st.step = Math.max(0, st.pages.length - 1);
    drawForm(st);
  }

  function pageOf(st, name) {
    const q = st.questions.find((x) => x.name === name);
    if (!q) return -1;
    const i = st.pages.findIndex((p) => p.id === (q.page || null));
    return i < 0 ? 0 : i;
  }

  function titleOf(st) {
    const k = tx(st.form.label, st.kind);
    if (st.mode === 'draft') return t('start_title');
    if (st.mode === 'end') return t('end_title');
    if (st.mode === 'edit') return t('edit_title', { k });
    return t('new_title', { k });
  }

  function saveLabel(st) {
    return { new: t('save'), draft: t('save_draft'), edit: t('save_edit'), end: t('save_end') }[st.mode];
  }

  function drawForm(st) {
    const reviewing = st.step >= st.pages.length;
    const steps = el('ol', { class: 'steps', id: 'steps' },
      st.pages.map((p, i) => el('li', { class: i === st.step ? 'current' : null,
                                        text: `${i + 1}. ${tx(p.title, '')}` })),
      el('li', { class: reviewing ? 'current' : null,
                 text: `${st.pages.length + 1}. ${t('review_title')}` }));
    const cal = el('label', { class: 'calendar' }, t('calendar'),
      el('select', { id: 'cal', onchange: (e) => {
        const before = CAL;
        CAL = e.target.value;
        localStorage.setItem('bb_ui_cal', CAL);
        for (const q of st.questions) {
          if (q.type !== 'datetime') continue;
          const p = textParts(st.values[q.name]);
          if (p && before !== CAL) st.values[q.name] = partsText(p);
        }
        drawForm(st);
      } },
        el('option', { value: 'roc', selected: CAL === 'roc', text: t('roc') }),
        el('option', { value: 'greg', selected: CAL === 'greg', text: t('greg') })));
    const general = st.problems.filter((p) => !p.field || pageOf(st, p.field) < 0);
    const banner = st.problems.length && (reviewing || general.length)
      ? el('div', { class: 'banner', id: 'problems', role: 'alert' },
          el('p', { text: t('problems') }),
          el('ul', {}, st.problems.map((p) => el('li', { 'data-field': p.field || '' },
            p.message, ' ',
            pageOf(st, p.field) >= 0 ? el('button', { type: 'button', class: 'link', text: t('fix'),
              onclick: () => { st.step = pageOf(st, p.field); drawForm(st); focusField(p.field); } }) : null))))
      : null;
    let body;
    if (!reviewing) {
      const p = st.pages[st.step];
      const qs = st.questions.filter((q) => (q.page || null) === p.id);
      const refresh = () => {
        for (const q of qs) {
          const box = $('box-' + q.name);
          if (box) box.hidden = !relevant(q, st.values);
          const mark = $('req-' + q.name);
          if (mark) mark.hidden = !required(q, st.values);
        }
      };
      body = el('fieldset', { id: 'page-' + (p.id || 'main') },
        el('legend', { text: tx(p.title, tx(st.form.label, st.kind)) }),
        qs.map((q) => {
          const prob = st.problems.find((x) => x.field === q.name);
          const input = inputFor(q, st, refresh);
          const target = input.id ? input : input.querySelector('#q-' + q.name);
          if (prob && target) target.setAttribute('aria-invalid', 'true');
          if (target) target.setAttribute('aria-describedby', 'err-' + q.name);
          return el('div', { class: 'q', id: 'box-' + q.name, 'data-q': q.name,
                             hidden: !relevant(q, st.values) },
            el('label', { for: 'q-' + q.name }, tx(q.label, q.name),
               el('span', { class: 'req', id: 'req-' + q.name, title: t('required'),
                            hidden: !required(q, st.values), text: '＊' })),
            input,
            q.help ? el('p', { class: 'note', text: tx(q.help) }) : null,
            q.kpi_note ? el('p', { class: 'kpi', text: tx(q.kpi_note) }) : null,
            el('p', { class: 'error', id: 'err-' + q.name, 'aria-live': 'polite',
                      text: prob ? (prob.hint || prob.message) : '' }));
        }));
    } else {
      body = el('section', { class: 'card', id: 'review' },
        el('h2', { text: t('review_title') }),
        el('dl', { class: 'kv' }, (st.review || []).map((r) => [
          el('dt', { text: tx(r.label, r.name) }),
          el('dd', { 'data-field': r.name, text: r.display })])));
    }
    const nav = el('div', { class: 'actions' },
      st.step > 0 ? el('button', { type: 'button', id: 'back', text: t('back'),
                                   onclick: () => { st.step--; st.problems = []; drawForm(st); } }) : null,
      !reviewing ? el('button', { type: 'button', class: 'primary', id: 'next',
                                  text: st.step === st.pages.length - 1 ? t('review') : t('next'),
                                  onclick: (e) => nextStep(st, e.target) })
                 : el('button', { type: 'button', class: 'primary', id: 'save', text: saveLabel(st),
                                  disabled: st.problems.length > 0,
                                  onclick: (e) => save(st, e.target) }));
    page(el('h1', { id: 'form-title', text: titleOf(st) }),
         el('p', { class: 'note', text: tx(st.form.description) }),
         steps, cal, banner, body, nav);
    rerender = () => drawForm(st);
    ready(reviewing ? 'review' : 'form:' + (st.pages[st.step].id || 'main'));
  }

  function focusField(name) {
    setTimeout(() => { const e = $('q-' + name); if (e) e.focus(); }, 0);
  }

  async function nextStep(st, button) {
    button.disabled = true;
    busy();
    const r = await api('POST', '/api/check', requestOf(st));
    button.disabled = false;
    if (r.status !== 200) {
      st.problems = [{ field: '', message: (r.data && r.data.message) || String(r.status) }];
      return drawForm(st);
    }
    const here = st.pages[st.step].id || null;
    const onPage = (p) => p.field && st.questions.some((q) => q.name === p.field &&
      (q.page || null) === here && relevant(q, st.values));
    const mine = r.data.problems.filter(onPage);
    if (mine.length) {
      st.problems = mine;
      drawForm(st);
      focusField(mine[0].field);
      return;
    }
    st.problems = [];
    st.step++;
    if (st.step >= st.pages.length) {
      st.review = r.data.review;
      st.problems = r.data.problems;
    }
    drawForm(st);
  }

  async function save(st, button) {
    button.disabled = true;
    busy();
    const path = st.mode === 'edit' ? `/api/records/${st.id}/edit`
      : st.mode === 'end' ? `/api/records/${st.id}/end` : '/api/records';
    const r = await api('POST', path, requestOf(st));
    if (r.status === 200 || r.status === 201) {
      FLASH = r.data.message;
      location.hash = '#/record/' + r.data.id;
      return;
    }
    button.disabled = false;
    if (r.status === 422 && r.data && r.data.problems) {
      st.problems = r.data.problems;
      const first = st.problems.find((p) => pageOf(st, p.field) >= 0);
      if (first) st.step = pageOf(st, first.field);
    } else {
      st.problems = [{ field: '', message: (r.data && r.data.message) || String(r.status) }];
    }
    drawForm(st);
  }

  /* ---- routing ---- */

  async function route() {
    if (timer) { clearTimeout(timer); timer = null; }
    busy();
    rerender = null;
    document.body.removeAttribute('data-sync');
    const h = location.hash || '#/';
    const path = h.split('?')[0];
    let m;
    if (path === '#/' || path === '#' || path === '') return home().then(() => { rerender = home; });
    if (path === '#/records') return listPage().then(() => { rerender = listPage; });
    if (path === '#/sync') return syncPage().then(() => { rerender = syncPage; });
    if ((m = /^#\/new\/([a-z_]+)$/.exec(path))) return formPage('new', m[1]);
    if ((m = /^#\/start\/([a-z_]+)$/.exec(path))) return formPage('draft', m[1]);
    if ((m = /^#\/record\/([0-9a-f-]+)$/.exec(path))) return recordPage(m[1]);
    if ((m = /^#\/edit\/([0-9a-f-]+)$/.exec(path))) return formPage('edit', m[1]);
    if ((m = /^#\/end\/([0-9a-f-]+)$/.exec(path))) return formPage('end', m[1]);
    page(el('h1', { text: t('not_found') }), el('p', {}, el('a', { href: '#/', text: t('home') })));
    ready(h);
  }

  async function start() {
    $('lang').addEventListener('click', () => {
      LANG = LANG === 'en' ? 'zh-TW' : 'en';
      localStorage.setItem('bb_ui_lang', LANG);
      header();
      if (rerender) { busy(); rerender(); } else route();
    });
    const r = await api('GET', '/api/session');
    if (r.status !== 200) {
      header();
      return failPage(r, 'no-session');
    }
    SESSION = r.data;
    window.addEventListener('hashchange', route);
    route();
  }

  start();
})();
