// topicd dashboard: plain JavaScript, no build step, no libraries, no external requests.
//
// Two data sources behind one renderer:
// - live: the server's HTTP/JSON API (/v1/...), with a bearer token from sessionStorage asked
//   for once when the API answers 401;
// - report: `topics report` inlines the data as JSON in <script id="topicd-report">; the same
//   views render from it, read-only (no label editing, no versions, keyword search).
// Every string from the data goes through textContent or setAttribute, never innerHTML.
// proto3 JSON sends 64-bit integers (topic_id, size, counts) as strings: num() reads both.
(function () {
  'use strict';

  var SVG_NS = 'http://www.w3.org/2000/svg';
  var TOKEN_KEY = 'topicd.token';
  // Ten colours with at least 3:1 contrast on white, one per ranked top topic.
  var PALETTE = ['#0b6fb8', '#c2410c', '#15803d', '#7e22ce', '#b91c1c',
    '#0e7490', '#a16207', '#be185d', '#4d7c0f', '#475569'];
  var NEUTRAL = '#64748b';

  // ---------------------------------------------------------------- DOM helpers
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = String(v);
      else if (k.slice(0, 2) === 'on' && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else if (k === 'style' && typeof v === 'object') {
        Object.keys(v).forEach(function (p) { e.style.setProperty(p, v[p]); });
      } else e.setAttribute(k, v === true ? '' : String(v));
    });
  }
  function add(e, kids) {
    for (var i = 0; i < kids.length; i++) {
      var k = kids[i];
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) add(e, k);
      else e.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  function h(tag, attrs) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    return add(e, Array.prototype.slice.call(arguments, 2));
  }
  function s(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    return add(e, Array.prototype.slice.call(arguments, 2));
  }
  function $(id) { return document.getElementById(id); }
  // replaceChildren that skips null children (the DOM's would write "null").
  function fill(e) {
    e.replaceChildren();
    return add(e, Array.prototype.slice.call(arguments, 1));
  }

  // ---------------------------------------------------------------- formatting
  function num(v) {
    if (v === null || v === undefined || v === '') return 0;
    var n = Number(v);
    return isFinite(n) ? n : 0;
  }
  function fmtInt(n) { return Math.round(num(n)).toLocaleString('en-US'); }
  function fmtPct(x) {
    var p = Math.round(num(x) * 100);
    return (p > 0 ? '+' : p < 0 ? '\u2212' : '') + Math.abs(p).toLocaleString('en-US') + '%';
  }
  function plural(n, one, many) { return fmtInt(n) + ' ' + (Math.round(n) === 1 ? one : many); }
  function day(s) { return String(s || '').slice(0, 10); }
  function addDays(iso, d) {
    var t = Date.parse(iso + 'T00:00:00Z');
    if (isNaN(t)) return iso;
    return new Date(t + d * 86400000).toISOString().slice(0, 10);
  }

  // ---------------------------------------------------------------- normalising API answers
  function normTopic(t) {
    return {
      id: num(t.topic_id),
      label: t.label || '',
      overridden: !!t.label_overridden,
      keywords: (t.keywords || []).map(function (k) { return { word: k.word || '', weight: num(k.weight) }; }),
      count: num(t.message_count !== undefined ? t.message_count : t.size),
      samples: t.sample_messages || [],
      firstSeen: day(t.first_seen),
      lastSeen: day(t.last_seen),
      rank: num(t.rank),
      trend: (t.trend || []).map(function (d) { return { date: day(d.date), count: num(d.count) }; })
    };
  }
  function normPoint(p) {
    return { id: num(p.topic_id), label: p.label || '', x: num(p.x), y: num(p.y), size: num(p.size), keywords: p.keywords || [] };
  }
  function normChange(c) {
    return { id: num(c.topic_id), label: c.label || '', recent: num(c.recent_count), previous: num(c.previous_count), rel: num(c.relative_change) };
  }
  function normChanges(r) {
    return {
      previousVersion: r.previous_version || '',
      note: r.note || '',
      fresh: (r.new_topics || []).map(normChange),
      retired: (r.retired_topics || []).map(normChange),
      rising: (r.rising || []).map(normChange),
      falling: (r.falling || []).map(normChange)
    };
  }

  // ---------------------------------------------------------------- the live API
  function ApiError(status, code, message) {
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.message = message || ('HTTP ' + status);
  }
  ApiError.prototype = Object.create(Error.prototype);

  var tokenPrompt = null;
  // One dialog for every request that met a 401 at the same time.
  function askToken(reason) {
    if (tokenPrompt) return tokenPrompt;
    tokenPrompt = new Promise(function (resolve, reject) {
      var dlg = $('token-dialog');
      var input = $('token-input');
      $('token-reason').textContent = reason;
      input.value = '';
      function done(ok) {
        $('token-form').removeEventListener('submit', onSubmit);
        $('token-cancel').removeEventListener('click', onCancel);
        dlg.removeEventListener('cancel', onCancel);
        if (dlg.open) dlg.close();
        tokenPrompt = null;
        if (ok) resolve(); else reject(new ApiError(401, 'UNAUTHENTICATED', 'No token given: this server needs one to show its data.'));
      }
      function onSubmit(ev) {
        ev.preventDefault();
        var v = input.value.trim();
        if (!v) return;
        sessionStorage.setItem(TOKEN_KEY, v);
        $('forget-token').hidden = false;
        done(true);
      }
      function onCancel(ev) { ev.preventDefault(); done(false); }
      $('token-form').addEventListener('submit', onSubmit);
      $('token-cancel').addEventListener('click', onCancel);
      dlg.addEventListener('cancel', onCancel);
      dlg.showModal();
      input.focus();
    });
    return tokenPrompt;
  }

  function api(method, path, body) {
    var attempt = 0;
    function once() {
      var token = sessionStorage.getItem(TOKEN_KEY);
      var headers = { accept: 'application/json' };
      if (token) headers.authorization = 'Bearer ' + token;
      if (body !== undefined) headers['content-type'] = 'application/json';
      return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
        .then(function (r) {
          return r.text().then(function (text) {
            var payload = null;
            try { payload = text ? JSON.parse(text) : null; } catch (e) { payload = null; }
            if (r.ok) return payload || {};
            var err = (payload && payload.error) || {};
            var e = new ApiError(r.status, err.code, err.message || r.statusText);
            if (r.status === 401 && attempt < 3) {
              attempt += 1;
              // Another request may have stored a new token meanwhile: retry with it first.
              if (sessionStorage.getItem(TOKEN_KEY) !== token) return once();
              var reason = token ? 'The server rejected the token: ' + e.message : 'This server needs a token to show its data.';
              return askToken(reason).then(once);
            }
            throw e;
          });
        }, function (e) {
          throw new ApiError(0, 'UNAVAILABLE', 'Cannot reach the server: ' + e.message);
        });
    }
    return once();
  }

  function liveSource(tenant) {
    var base = '/v1/tenants/' + encodeURIComponent(tenant);
    var allTopics = null;
    return {
      live: true,
      tenant: tenant,
      topics: function () { return api('GET', base + '/topics?limit=10&trend=true'); },
      changes: function () { return api('GET', base + '/changes?limit=5'); },
      map: function () { return api('GET', base + '/map'); },
      models: function () { return api('GET', base + '/models?limit=20'); },
      // The FAQ with its knowledge gaps (issue 29).
      faq: function () { return api('GET', base + '/faq'); },
      // The topic tree's themes, to group every topic (issue 30).
      tree: function () { return api('GET', base + '/tree'); },
      // Every topic of the active model, for the details of a topic outside the top ten.
      allTopics: function () {
        if (!allTopics) {
          allTopics = api('GET', base + '/models/active').then(function (r) { return (r.topics || []).map(normTopic); });
          allTopics.catch(function () { allTopics = null; });
        }
        return allTopics;
      },
      search: function (q) {
        return api('GET', base + '/search?q=' + encodeURIComponent(q) + '&limit=5').then(function (r) {
          return (r.topics || []).map(function (t) { return { id: num(t.topic_id), label: t.label || '', score: num(t.score) }; });
        });
      },
      setLabel: function (id, label) { return api('PUT', base + '/topics/' + encodeURIComponent(String(id)) + '/label', { label: label }); },
      activate: function (version) { return api('POST', base + '/models/' + encodeURIComponent(version) + '/activate'); },
      reset: function () { allTopics = null; }
    };
  }

  // ---------------------------------------------------------------- the offline report
  function words(text) {
    return String(text).toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(function (w) { return w.length > 1; });
  }
  function reportSource(data) {
    var all = (data.topics || []).map(normTopic);
    function resolved(v) { return Promise.resolve(v); }
    return {
      live: false,
      tenant: data.tenant_id || 'report',
      report: data,
      topics: function () { return resolved(data.top_topics || {}); },
      changes: function () { return resolved(data.changes || {}); },
      map: function () { return resolved(data.map || {}); },
      tree: function () { return resolved(data.tree || {}); },
      models: null,
      allTopics: function () { return resolved(all); },
      // No embedder in a file: rank topics by the query's words among their keywords (weighted)
      // and label.
      search: function (q) {
        var qs = words(q);
        var scored = all.map(function (t) {
          var kw = {};
          t.keywords.forEach(function (k) { kw[k.word.toLowerCase()] = k.weight; });
          var label = words(t.label);
          var total = t.keywords.reduce(function (a, k) { return a + k.weight; }, 0) || 1;
          var score = 0;
          qs.forEach(function (w) {
            if (kw[w] !== undefined) score += kw[w] / total;
            if (label.indexOf(w) >= 0) score += 0.5 / qs.length;
          });
          return { id: t.id, label: t.label, score: Math.min(1, score) };
        }).filter(function (r) { return r.score > 0; });
        scored.sort(function (a, b) { return b.score - a.score || a.id - b.id; });
        return resolved(scored.slice(0, 5));
      },
      setLabel: null,
      activate: null,
      reset: function () {}
    };
  }

  // ---------------------------------------------------------------- page chrome
  function setStatus(text, ok) {
    var st = $('status');
    st.textContent = text || '';
    st.className = 'status' + (ok ? ' ok' : '');
  }
  function crumbs(items) {
    var ol = $('crumbs');
    ol.replaceChildren();
    items.forEach(function (it, i) {
      var last = i === items.length - 1;
      ol.appendChild(h('li', null, it.href && !last ? h('a', { href: it.href }, it.text) : h('span', { 'aria-current': last ? 'page' : null }, it.text)));
    });
  }
  function errorBox(err) {
    var msg = err && err.message ? err.message : String(err);
    return h('p', { class: 'error', role: 'alert' }, msg);
  }
  function section(id, title, extra) {
    var hid = id + '-title';
    var sec = h('section', { id: id, class: 'panel' + (extra ? ' ' + extra : ''), 'aria-labelledby': hid }, h('h2', { id: hid }, title));
    var body = h('div', { class: 'section-body' }, h('p', { class: 'muted' }, 'Loading\u2026'));
    sec.appendChild(body);
    return { el: sec, body: body };
  }
  function ready(state) {
    document.documentElement.setAttribute('data-state', state);
    try { performance.mark('topicd:ready'); } catch (e) { /* old browsers */ }
  }

  // ---------------------------------------------------------------- tenant list
  function tenantList() {
    crumbs([{ text: 'Tenants' }]);
    document.title = 'Tenants \u2014 topicd';
    var app = $('app');
    var sec = section('tenants', 'Tenants');
    app.replaceChildren(sec.el);
    return api('GET', '/v1/tenants').then(function (r) {
      var tenants = r.tenants || [];
      if (!tenants.length) {
        sec.body.replaceChildren(h('p', null, 'No tenant you may read has an active model yet. Run the nightly job (topics nightly) to fit one.'));
        return;
      }
      var rows = tenants.map(function (t) {
        return h('tr', null,
          h('td', null, h('a', { href: '/tenants/' + encodeURIComponent(t.tenant_id) }, t.tenant_id)),
          h('td', null, t.active_version || ''),
          h('td', { class: 'num' }, fmtInt(t.total_topics)),
          h('td', { class: 'num' }, fmtInt(t.total_documents)),
          h('td', null, day(t.date_range_end)),
          h('td', null, (t.updated_at || '').replace('T', ' ').replace(/\.\d+/, '')));
      });
      sec.body.replaceChildren(h('table', { class: 'tenants' },
        h('caption', null, plural(tenants.length, 'tenant', 'tenants') + ' with an active model'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Tenant'), h('th', { scope: 'col' }, 'Active version'),
          h('th', { scope: 'col', class: 'num' }, 'Topics'), h('th', { scope: 'col', class: 'num' }, 'Documents'),
          h('th', { scope: 'col' }, 'Data until'), h('th', { scope: 'col' }, 'Updated'))),
        h('tbody', null, rows)));
    }).then(function () { ready('ready'); }, function (err) {
      sec.body.replaceChildren(errorBox(err));
      ready('error');
    });
  }

  // ---------------------------------------------------------------- charts
  // Every day from `start` to `end` (inclusive), at most `cap` days (the newest).
  function dayRange(start, end, cap) {
    var out = [];
    if (!start || !end) return out;
    var d = start;
    for (var i = 0; d <= end && i < 4000; i++) { out.push(d); d = addDays(d, 1); }
    return out.slice(Math.max(0, out.length - cap));
  }
  function series(trend, days) {
    var m = {};
    trend.forEach(function (p) { m[p.date] = (m[p.date] || 0) + p.count; });
    return days.map(function (d) { return m[d] || 0; });
  }

  function sparkline(values, days, color, label, w, hgt) {
    w = w || 150; hgt = hgt || 40;
    var max = Math.max.apply(null, values.concat([1]));
    var n = values.length;
    var pad = 3;
    function x(i) { return n <= 1 ? w / 2 : pad + i * (w - 2 * pad) / (n - 1); }
    function y(v) { return hgt - pad - v / max * (hgt - 2 * pad); }
    var pts = values.map(function (v, i) { return x(i).toFixed(1) + ',' + y(v).toFixed(1); });
    var desc = n ? label + ': ' + values.map(function (v, i) { return days[i] + ' ' + v; }).join(', ') : label + ': no daily counts yet';
    var svg = s('svg', { class: 'spark', viewBox: '0 0 ' + w + ' ' + hgt, role: 'img', 'aria-label': desc, 'data-chart': 'trend' },
      s('title', null, desc));
    if (n) {
      svg.appendChild(s('polygon', { points: x(0).toFixed(1) + ',' + (hgt - pad) + ' ' + pts.join(' ') + ' ' + x(n - 1).toFixed(1) + ',' + (hgt - pad), fill: color, 'fill-opacity': 0.15 }));
      svg.appendChild(s('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
      svg.appendChild(s('circle', { cx: x(n - 1), cy: y(values[n - 1]), r: 2.5, fill: color }));
    }
    return svg;
  }

  // `W`: the drawing's width in CSS pixels (the container's), so its text keeps its size.
  function stackedChart(topics, days, W) {
    var H = 230, L = 44, R = 10, T = 10, B = 26;
    var rows = topics.map(function (t) { return series(t.trend, days); });
    var totals = days.map(function (_, i) { return rows.reduce(function (a, r) { return a + r[i]; }, 0); });
    var max = Math.max.apply(null, totals.concat([1]));
    var n = days.length;
    function x(i) { return n <= 1 ? (L + W - R) / 2 : L + i * (W - L - R) / (n - 1); }
    function y(v) { return H - B - v / max * (H - T - B); }
    var svg = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'data-chart': 'stacked',
      'aria-label': 'Daily messages of the top ' + topics.length + ' topics, stacked, ' + (days[0] || '') + ' to ' + (days[n - 1] || '') + '; the table below has the numbers.' });
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      svg.appendChild(s('line', { class: 'gridline', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      svg.appendChild(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtInt(v)));
    });
    svg.appendChild(s('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    var base = days.map(function () { return 0; });
    rows.forEach(function (r, k) {
      var top = base.map(function (b, i) { return b + r[i]; });
      var color = PALETTE[k % PALETTE.length];
      var d;
      if (n === 1) {
        d = 'M' + (x(0) - 20) + ',' + y(base[0]) + 'L' + (x(0) - 20) + ',' + y(top[0]) + 'L' + (x(0) + 20) + ',' + y(top[0]) + 'L' + (x(0) + 20) + ',' + y(base[0]) + 'Z';
      } else {
        d = 'M' + top.map(function (v, i) { return x(i).toFixed(1) + ',' + y(v).toFixed(1); }).join('L');
        for (var i = n - 1; i >= 0; i--) d += 'L' + x(i).toFixed(1) + ',' + y(base[i]).toFixed(1);
        d += 'Z';
      }
      svg.appendChild(s('path', { d: d, fill: color, 'fill-opacity': 0.78, stroke: '#fff', 'stroke-width': 0.6, 'data-topic-id': topics[k].id },
        s('title', null, topics[k].label)));
      base = top;
    });
    // One date label per ~ 8 columns.
    var step = Math.max(1, Math.ceil(n / 8));
    for (var i = 0; i < n; i += step) {
      svg.appendChild(s('text', { x: x(i), y: H - 8, 'text-anchor': n === 1 ? 'middle' : i === 0 ? 'start' : 'middle' }, days[i].slice(5)));
    }
    // A hover target per day with every topic's count in its tooltip.
    var colW = n <= 1 ? W - L - R : (W - L - R) / (n - 1);
    days.forEach(function (dte, i) {
      var lines = [dte + ': ' + fmtInt(totals[i]) + ' messages'];
      topics.forEach(function (t, k) { if (rows[k][i]) lines.push(t.label + ': ' + fmtInt(rows[k][i])); });
      svg.appendChild(s('rect', { x: x(i) - colW / 2, y: T, width: colW, height: H - T - B, fill: 'transparent' }, s('title', null, lines.join('\n'))));
    });
    return svg;
  }

  // ---------------------------------------------------------------- the tenant page
  function TenantPage(src) {
    this.src = src;
    this.top = [];
    this.points = [];
    this.color = {};
  }

  TenantPage.prototype.load = function () {
    var self = this;
    var src = this.src;
    var name = src.tenant;
    crumbs(src.live ? [{ text: 'Tenants', href: '/' }, { text: name }] : [{ text: 'Report' }, { text: name }]);
    document.title = name + ' \u2014 topicd';
    var app = $('app');
    this.secs = {
      top: section('top-topics', 'Top topics'),
      search: section('search', 'Search topics'),
      map: section('topic-map', 'Topic map'),
      changes: section('changes', 'What changed'),
      trend: section('over-time', 'Top topics over time'),
      models: src.live ? section('models', 'Model versions', 'wide') : null,
      faq: src.live ? section('faq', 'FAQ', 'wide') : null,
      all: section('all-topics', 'All topics', 'wide')
    };
    var S = this.secs;
    this.summary = h('div', { class: 'summary panel', id: 'summary' }, h('h1', null, name));
    var right = h('div', { class: 'stack' }, S.search.el, S.map.el, S.changes.el, S.trend.el);
    var left = h('div', { class: 'left' }, S.top.el);
    fill(app, this.summary, h('div', { class: 'grid' }, left, right, S.models ? S.models.el : null, S.faq ? S.faq.el : null, S.all.el));
    this.renderSearchForm();
    return this.refresh();
  };

  TenantPage.prototype.refresh = function () {
    var self = this;
    var src = this.src;
    src.reset();
    try { performance.mark('topicd:fetch'); } catch (e) { /* ignore */ }
    var calls = [src.topics(), src.map(), src.changes(), src.models ? src.models() : Promise.resolve(null), src.faq ? src.faq() : Promise.resolve(null), src.tree()];
    return Promise.all(calls.map(function (p) { return p.then(function (v) { return { ok: v }; }, function (e) { return { err: e }; }); }))
      .then(function (res) {
        try { performance.mark('topicd:data'); } catch (e) { /* ignore */ }
        var topRes = res[0], mapRes = res[1], chRes = res[2], modRes = res[3], faqRes = res[4], treeRes = res[5];
        // Colours follow the ranking, so a topic keeps its colour in every view.
        self.color = {};
        self.topResp = topRes.ok || null;
        self.top = topRes.ok ? (topRes.ok.topics || []).map(normTopic) : [];
        self.top.forEach(function (t, i) { self.color[t.id] = PALETTE[i % PALETTE.length]; });
        self.points = mapRes.ok ? (mapRes.ok.points || []).map(normPoint) : [];
        self.renderSummary(topRes.ok, mapRes.ok, modRes.ok);
        if (topRes.err) { self.secs.top.body.replaceChildren(errorBox(topRes.err)); self.secs.trend.body.replaceChildren(errorBox(topRes.err)); } else { self.renderTop(); self.renderTrend(); }
        if (mapRes.err) { self.secs.map.body.replaceChildren(errorBox(mapRes.err)); self.secs.all.body.replaceChildren(errorBox(mapRes.err)); } else { self.renderMap(); self.renderAll(treeRes); }
        if (chRes.err) self.secs.changes.body.replaceChildren(errorBox(chRes.err)); else self.renderChanges(normChanges(chRes.ok));
        if (self.secs.models) {
          if (modRes.err) self.secs.models.body.replaceChildren(errorBox(modRes.err)); else self.renderModels(modRes.ok.models || []);
        }
        if (self.secs.faq) {
          if (faqRes.err) self.secs.faq.body.replaceChildren(errorBox(faqRes.err)); else self.renderFaq(faqRes.ok || {});
        }
        var failed = res.filter(function (r) { return r.err; });
        if (failed.length === res.length) {
          // Nothing rendered: say it once at the top too.
          setStatus('');
        }
        try { performance.measure('topicd:render', 'topicd:data'); } catch (e) { /* ignore */ }
        ready(failed.length ? 'partial' : 'ready');
      });
  };

  TenantPage.prototype.renderSummary = function (top, map, models) {
    var src = this.src;
    var items = [];
    function item(k, v) { items.push(h('div', null, h('dt', null, k), h('dd', null, v))); }
    if (top) {
      item('Active version', top.version || '\u2014');
      item('Documents from', (day(top.date_range_start) || '?') + ' to ' + (day(top.date_range_end) || '?'));
    }
    if (map) item('Topics', fmtInt((map.points || []).length));
    var active = models && (models.models || []).filter(function (m) { return m.is_active; })[0];
    if (active) item('Documents', fmtInt(active.total_documents));
    if (!src.live) {
      var r = src.report;
      if (r.total_documents !== undefined) item('Documents', fmtInt(r.total_documents));
      if (r.embedding_model) item('Embeddings', r.embedding_model);
      item('Report written', (r.generated_at || '').replace('T', ' ').replace('Z', ' UTC'));
    } else if (top && top.analysis_date) {
      item('Analysed', top.analysis_date.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC'));
    }
    this.summary.replaceChildren(h('h1', null, src.live ? 'Tenant ' + src.tenant : src.tenant), h('dl', null, items));
  };

  TenantPage.prototype.days = function () {
    var r = this.topResp || {};
    var start = day(r.date_range_start), end = day(r.date_range_end);
    var all = [];
    this.top.forEach(function (t) { t.trend.forEach(function (p) { all.push(p.date); }); });
    all.sort();
    if (all.length) {
      if (!start || all[0] < start) start = all[0];
      if (!end || all[all.length - 1] > end) end = all[all.length - 1];
    }
    // The history window is at most 90 days by default; show up to a year.
    return dayRange(start, end, 366);
  };

  // Keywords with their c-TF-IDF weights as bars (`rows`: one per line, for the dialog).
  TenantPage.prototype.keywordList = function (t, n, color, rows) {
    var kws = t.keywords.slice(0, n);
    var max = kws.reduce(function (a, k) { return Math.max(a, k.weight); }, 0) || 1;
    return h('ul', { class: rows ? 'kw rows' : 'kw', 'aria-label': 'Keywords with their c-TF-IDF weights', style: { '--c': color } },
      kws.map(function (k) {
        var bar = h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: { width: (100 * k.weight / max).toFixed(1) + '%', display: 'block' } }));
        var word = h('span', { class: 'kw-word' }, k.word);
        var weight = h('span', { class: 'w' }, k.weight.toFixed(3));
        return rows ? h('li', null, word, bar, weight) : h('li', null, h('span', { class: 'kw-text' }, word, weight), bar);
      }));
  };

  TenantPage.prototype.samples = function (t, open) {
    if (!t.samples.length) return h('p', { class: 'muted' }, 'No sample messages.');
    return h('details', { class: 'samples', open: !!open },
      h('summary', null, plural(t.samples.length, 'sample message', 'sample messages')),
      h('ul', null, t.samples.map(function (m) { return h('li', null, m); })));
  };

  TenantPage.prototype.renderTop = function () {
    var self = this;
    var body = this.secs.top.body;
    if (!this.top.length) { body.replaceChildren(h('p', null, 'The active model has no topics yet.')); return; }
    var days = this.days();
    var list = h('ol', { class: 'topic-list' }, this.top.map(function (t, i) {
      var color = self.color[t.id];
      var vals = series(t.trend, days);
      return h('li', null, h('article', { class: 'topic-card', 'data-topic-id': t.id, style: { '--c': color }, 'aria-labelledby': 'topic-title-' + t.id },
        h('div', { class: 'topic-head' },
          h('span', { class: 'rank', 'aria-label': 'Rank ' + (t.rank || i + 1) }, '#' + (t.rank || i + 1)),
          h('h3', { id: 'topic-title-' + t.id }, h('button', { type: 'button', class: 'link topic-label', onclick: function () { self.openTopic(t.id); } }, t.label)),
          t.overridden ? h('span', { class: 'badge', title: 'Label set by an operator' }, 'edited') : null,
          self.src.setLabel ? h('button', { type: 'button', class: 'quiet edit-label', 'aria-label': 'Edit label: ' + t.label, onclick: function () { self.openTopic(t.id, true); } }, 'Edit label') : null),
        h('div', { class: 'topic-body' },
          h('div', null,
            h('p', { class: 'topic-meta' }, h('strong', null, plural(t.count, 'message', 'messages')), ' \u00b7 first seen ' + (t.firstSeen || '\u2014') + ' \u00b7 last seen ' + (t.lastSeen || '\u2014')),
            self.keywordList(t, 5, color)),
          h('div', { class: 'spark-wrap' }, sparkline(vals, days, color, 'Daily messages of ' + t.label), days.length ? 'last ' + plural(days.length, 'day', 'days') : '')),
        self.samples(t, false)));
    }));
    body.replaceChildren(list);
  };

  TenantPage.prototype.renderTrend = function () {
    var body = this.secs.trend.body;
    var days = this.days();
    if (!this.top.length || !days.length) { body.replaceChildren(h('p', null, 'No daily counts yet.')); return; }
    var top = this.top;
    var color = this.color;
    var table = h('table', null,
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), top.map(function (t) { return h('th', { scope: 'col', class: 'num' }, t.label); }))),
      h('tbody', null, days.map(function (d) {
        return h('tr', null, h('th', { scope: 'row' }, d), top.map(function (t) { return h('td', { class: 'num' }, fmtInt(series(t.trend, [d])[0])); }));
      })));
    body.replaceChildren(
      stackedChart(top, days, Math.max(320, Math.min(1400, Math.round(body.clientWidth || 560)))),
      h('ul', { class: 'legend', 'aria-label': 'Legend' }, top.map(function (t) {
        return h('li', null, h('span', { class: 'swatch', style: { '--c': color[t.id] }, 'aria-hidden': 'true' }), t.label);
      })),
      h('details', null, h('summary', null, 'Daily counts as a table'), h('div', { class: 'scroll' }, table)));
  };

  // The FAQ (issue 29): one entry per topic, most asked first; each with the help-centre article
  // that answers it, or a "gap" badge when no article does (knowledge gaps).
  TenantPage.prototype.renderFaq = function (faq) {
    var self = this;
    var entries = faq.entries || [];
    if (!entries.length) { this.secs.faq.body.replaceChildren(h('p', { class: 'muted' }, 'No FAQ entries yet.')); return; }
    var gaps = entries.filter(function (e) { return !e.article; }).length;
    var note = h('p', { class: 'hint' }, plural(entries.length, 'question', 'questions') + ' customers ask, most asked first; ' +
      plural(gaps, 'knowledge gap', 'knowledge gaps') + ' (no help-centre article answers it; register articles with PUT /v1/tenants/{tenant}/articles or topics kb import).');
    var rows = entries.map(function (e) {
      var id = num(e.topic_id);
      var art = e.article
        ? h('span', { class: 'faq-article' }, e.article.url ? h('a', { href: e.article.url, rel: 'noopener noreferrer', target: '_blank' }, e.article.title) : e.article.title,
          h('span', { class: 'muted' }, ' ' + num(e.article.score).toFixed(2)))
        : h('span', { class: 'badge gap', title: 'No help-centre article answers this question' }, 'gap');
      var examples = (e.examples || []).length
        ? h('details', { class: 'samples' }, h('summary', null, plural(e.examples.length, 'example', 'examples')),
          h('ul', null, e.examples.map(function (m) { return h('li', null, m); })))
        : null;
      return h('tr', { 'data-topic': String(id), 'data-gap': e.article ? 'false' : 'true' },
        h('td', null, h('div', { class: 'faq-question' }, e.question || ''), examples),
        h('td', null, h('button', { type: 'button', class: 'link', onclick: function () { self.openTopic(id); } }, e.label || ('Topic ' + id))),
        h('td', { class: 'num' }, fmtInt(e.message_count)),
        h('td', { class: 'num' }, fmtInt(e.last_7_days)),
        h('td', { class: 'num' }, fmtInt(e.previous_7_days)),
        h('td', null, art));
    });
    var head = h('thead', null, h('tr', null, ['Question', 'Topic', 'Messages', 'Last 7 days', '7 days before', 'Article'].map(function (c) { return h('th', { scope: 'col' }, c); })));
    this.secs.faq.body.replaceChildren(note, h('div', { class: 'table-wrap' }, h('table', { class: 'faq' }, h('caption', { class: 'sr-only' }, 'FAQ entries'), head, h('tbody', null, rows))));
  };

  TenantPage.prototype.renderChanges = function (c) {
    var self = this;
    function list(title, items, kind, empty) {
      return h('div', { 'data-change': kind }, h('h3', null, title),
        items.length ? h('ul', null, items.map(function (it) {
          var right;
          if (kind === 'rising' || kind === 'falling') {
            right = h('span', { class: it.rel >= 0 ? 'up' : 'down', title: fmtInt(it.previous) + ' \u2192 ' + fmtInt(it.recent) + ' messages' },
              fmtPct(it.rel), h('span', { class: 'sr-only' }, ' (' + fmtInt(it.previous) + ' to ' + fmtInt(it.recent) + ' messages)'));
          } else if (kind === 'new') {
            right = h('span', { class: 'muted' }, plural(it.recent, 'msg', 'msgs'));
          } else {
            right = h('span', { class: 'muted' }, 'retired');
          }
          return h('li', null, h('button', { type: 'button', class: 'link', onclick: function () { self.openTopic(it.id); } }, it.label || ('Topic ' + it.id)), right);
        })) : h('p', { class: 'muted' }, empty));
    }
    var basis = c.note || (c.previousVersion ? 'Compared with version ' + c.previousVersion + '; rising and falling: the last 7 days against the 7 before.' :
      'This is the first model of the tenant: every topic is new. Rising and falling: the last 7 days against the 7 before.');
    this.secs.changes.body.replaceChildren(h('p', { class: 'hint' }, basis), h('div', { class: 'changes' },
      list('New topics', c.fresh, 'new', 'None.'),
      list('Rising', c.rising, 'rising', 'Nothing rising.'),
      list('Falling', c.falling, 'falling', 'Nothing falling.'),
      list('Retired', c.retired, 'retired', 'None retired.')));
  };

  // The topic map: one circle per topic, area proportional to size, laid out by the engine.
  TenantPage.prototype.renderMap = function () {
    var self = this;
    var body = this.secs.map.body;
    var pts = this.points.slice();
    if (!pts.length) { body.replaceChildren(h('p', null, 'No topics to map.')); return; }
    var W = 600, H = 420, P = 8;
    var maxSize = pts.reduce(function (a, p) { return Math.max(a, p.size); }, 1);
    var rel = pts.reduce(function (a, p) { return a + p.size / maxSize; }, 0);
    // Circles cover about a fifth of the canvas whatever the number of topics.
    var rMax = Math.max(6, Math.min(46, Math.sqrt(W * H * 0.2 / (Math.PI * rel))));
    function radius(p) { return Math.max(2, rMax * Math.sqrt(p.size / maxSize)); }
    var xs = pts.map(function (p) { return p.x; }), ys = pts.map(function (p) { return p.y; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var span = Math.max(x1 - x0, (y1 - y0) * W / H, 1e-9);
    var scale = (W - 2 * (P + rMax)) / span;
    if ((y1 - y0) * scale > H - 2 * (P + rMax)) scale = (H - 2 * (P + rMax)) / Math.max(y1 - y0, 1e-9);
    var cx0 = W / 2 - (x0 + x1) / 2 * scale, cy0 = H / 2 + (y0 + y1) / 2 * scale;
    pts.forEach(function (p) { p.cx = cx0 + p.x * scale; p.cy = cy0 - p.y * scale; p.r = radius(p); });
    // Large circles first, so small ones stay on top and clickable.
    pts.sort(function (a, b) { return b.size - a.size || a.id - b.id; });
    var svg = s('svg', { class: 'map', viewBox: '0 0 ' + W + ' ' + H, role: 'group', 'aria-label': 'Topic map of ' + pts.length + ' topics: similar topics are close together, circle area is the number of messages. Use the arrow keys to move between topics and Enter to open one.' });
    var wrap = h('div', { class: 'map-wrap' }, svg);
    var tip = h('div', { class: 'tooltip', role: 'tooltip', id: 'map-tooltip', hidden: true });
    wrap.appendChild(tip);
    var frag = document.createDocumentFragment();
    var marks = [];
    pts.forEach(function (p, i) {
      var color = self.color[p.id] || NEUTRAL;
      var c = s('circle', { class: 'mark', cx: p.cx.toFixed(2), cy: p.cy.toFixed(2), r: p.r.toFixed(2), fill: color, stroke: color,
        tabindex: i === 0 ? 0 : -1, role: 'button', 'data-topic-id': p.id,
        'aria-label': p.label + '. ' + plural(p.size, 'message', 'messages') + '. Keywords: ' + p.keywords.join(', ') });
      c._p = p;
      marks.push(c);
      frag.appendChild(c);
    });
    svg.appendChild(frag);
    this.marks = marks;

    var hot = null;  // the highlighted mark
    function show(c) {
      var p = c._p;
      tip.replaceChildren(h('strong', null, p.label), plural(p.size, 'message', 'messages') + ' \u00b7 ' + p.keywords.join(', '));
      tip.hidden = false;
      var wb = wrap.getBoundingClientRect(), cb = c.getBoundingClientRect();
      var left = cb.left - wb.left + cb.width / 2 + 10, top = cb.top - wb.top - 8;
      tip.style.left = Math.max(0, Math.min(left, wb.width - tip.offsetWidth)) + 'px';
      tip.style.top = Math.max(0, top - tip.offsetHeight) + 'px';
      if (hot) hot.classList.remove('hot');
      hot = c;
      c.classList.add('hot');
    }
    function hide() {
      tip.hidden = true;
      if (hot) hot.classList.remove('hot');
      hot = null;
    }
    function mark(ev) { var t = ev.target; return t && t._p ? t : null; }
    svg.addEventListener('mouseover', function (ev) { var c = mark(ev); if (c) show(c); });
    svg.addEventListener('mouseleave', hide);
    svg.addEventListener('focusin', function (ev) { var c = mark(ev); if (c) show(c); });
    svg.addEventListener('focusout', hide);
    svg.addEventListener('click', function (ev) { var c = mark(ev); if (c) self.openTopic(c._p.id); });
    function move(from, to) {
      from.setAttribute('tabindex', '-1');
      to.setAttribute('tabindex', '0');
      to.focus();
    }
    // Arrow keys go to the nearest circle in that direction (roving tabindex: the map is one
    // Tab stop).
    svg.addEventListener('keydown', function (ev) {
      var c = mark(ev);
      if (!c) return;
      var k = ev.key;
      if (k === 'Enter' || k === ' ') { ev.preventDefault(); self.openTopic(c._p.id); return; }
      if (k === 'Escape') { hide(); return; }
      if (k === 'Home' || k === 'End') { ev.preventDefault(); move(c, k === 'Home' ? marks[0] : marks[marks.length - 1]); return; }
      var dir = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] }[k];
      if (!dir) return;
      ev.preventDefault();
      var p = c._p, best = null, bestScore = Infinity;
      marks.forEach(function (m) {
        if (m === c) return;
        var dx = m._p.cx - p.cx, dy = m._p.cy - p.cy;
        var along = dx * dir[0] + dy * dir[1];
        if (along <= 0) return;
        var across = Math.abs(dx * dir[1]) + Math.abs(dy * dir[0]);
        var score = along + 2 * across;
        if (score < bestScore) { bestScore = score; best = m; }
      });
      if (best) move(c, best);
    });
    body.replaceChildren(wrap, h('p', { class: 'hint' },
      'Circle area is the number of messages; nearby circles are similar topics. Coloured circles are the top topics. Hover or focus a circle for its keywords, click or press Enter to open it.'));
  };

  TenantPage.prototype.highlight = function (ids) {
    (this.marks || []).forEach(function (m) { m.classList.toggle('hit', ids.indexOf(m._p.id) >= 0); });
  };

  // Every topic, grouped into the themes of the topic tree (GET .../tree: subtrees of an
  // average-linkage tree of the topic embeddings), largest theme first; each theme header folds
  // its rows. Without themes (the tree failed), one flat list.
  TenantPage.prototype.renderAll = function (treeRes) {
    var self = this;
    var pts = this.points.slice().sort(function (a, b) { return b.size - a.size || a.id - b.id; });
    var title = $('all-topics-title');
    if (title) title.textContent = 'All topics (' + fmtInt(pts.length) + ')';
    if (!pts.length) { this.secs.all.body.replaceChildren(h('p', null, 'No topics.')); return; }
    var rank = {}, byId = {};
    pts.forEach(function (p, i) { rank[p.id] = i + 1; byId[p.id] = p; });
    function row(p) {
      return h('tr', { 'data-topic-id': p.id },
        h('td', { class: 'num' }, String(rank[p.id])),
        h('td', null, h('button', { type: 'button', class: 'link', onclick: function () { self.openTopic(p.id); } }, p.label)),
        h('td', { class: 'num' }, fmtInt(p.size)),
        h('td', null, p.keywords.join(', ')));
    }
    var groups = [];
    var themes = treeRes && treeRes.ok ? (treeRes.ok.themes || []) : [];
    if (themes.length) {
      var seen = {};
      themes.forEach(function (th) {
        var members = (th.topic_ids || []).map(num).filter(function (id) { return byId[id] && !seen[id]; }).map(function (id) { return byId[id]; });
        if (!members.length) return;
        members.sort(function (a, b) { return b.size - a.size || a.id - b.id; });
        members.forEach(function (p) { seen[p.id] = true; });
        groups.push({ name: th.name || 'Theme', node: String(num(th.node)), topics: members });
      });
      // Topics of another version than the tree's (an edit in between): listed, not lost.
      var rest = pts.filter(function (p) { return !seen[p.id]; });
      if (rest.length) groups.push({ name: 'Other topics', node: 'other', topics: rest });
    }
    var head = h('thead', null, h('tr', null, h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, 'Label'),
      h('th', { scope: 'col', class: 'num' }, 'Messages'), h('th', { scope: 'col' }, 'Keywords')));
    var bodies;
    if (!groups.length) {
      var tbody = h('tbody');
      var frag = document.createDocumentFragment();
      pts.forEach(function (p) { frag.appendChild(row(p)); });
      tbody.appendChild(frag);
      bodies = [tbody];
    } else {
      bodies = groups.map(function (g, k) {
        var rows = g.topics.map(row);
        var size = g.topics.reduce(function (a, p) { return a + p.size; }, 0);
        var toggle = h('button', { type: 'button', class: 'theme-toggle', 'aria-expanded': 'true', id: 'theme-' + k }, g.name);
        toggle.addEventListener('click', function () {
          var open = toggle.getAttribute('aria-expanded') !== 'true';
          toggle.setAttribute('aria-expanded', String(open));
          rows.forEach(function (r) { r.hidden = !open; });
        });
        return h('tbody', { class: 'theme', 'data-theme': g.node, 'aria-labelledby': 'theme-' + k },
          h('tr', { class: 'theme-head' }, h('th', { scope: 'rowgroup', colspan: 4 }, toggle,
            h('span', { class: 'theme-meta' }, plural(g.topics.length, 'topic', 'topics') + ' \u00b7 ' + plural(size, 'message', 'messages')))),
          rows);
      });
    }
    var note = groups.length ? h('p', { class: 'hint' }, plural(groups.length, 'theme', 'themes') + ' of similar topics (the topic tree); a theme\u2019s header folds it.')
      : treeRes && treeRes.err ? h('p', { class: 'hint' }, 'Not grouped into themes: ' + treeRes.err.message) : null;
    fill(this.secs.all.body, note, h('div', { class: 'scroll' }, h('table', { class: groups.length ? 'themed' : null },
      h('caption', null, groups.length ? 'Every active topic of the model by theme, largest first' : 'Every active topic of the model, largest first'),
      head, bodies)));
  };

  TenantPage.prototype.renderSearchForm = function () {
    var self = this;
    var input = h('input', { id: 'search-input', type: 'search', name: 'q', autocomplete: 'off', required: true, placeholder: 'e.g. my card was declined' });
    var results = h('div', { id: 'search-results', 'aria-live': 'polite' });
    var button = h('button', { type: 'submit', class: 'primary' }, 'Search');
    var form = h('form', { class: 'search-form', role: 'search', onsubmit: function (ev) {
      ev.preventDefault();
      var q = input.value.trim();
      if (!q) return;
      button.disabled = true;
      results.replaceChildren(h('p', { class: 'muted' }, 'Searching\u2026'));
      self.src.search(q).then(function (found) {
        self.highlight(found.map(function (f) { return f.id; }));
        if (!found.length) { results.replaceChildren(h('p', null, 'No topic matches \u201c' + q + '\u201d.')); return; }
        results.replaceChildren(h('ol', { class: 'results', 'aria-label': 'Topics nearest to \u201c' + q + '\u201d' }, found.map(function (f) {
          return h('li', { 'data-topic-id': f.id },
            h('button', { type: 'button', class: 'link', onclick: function () { self.openTopic(f.id); } }, f.label),
            h('span', { class: 'score-track', 'aria-hidden': 'true' }, h('span', { class: 'score-fill', style: { width: Math.max(0, Math.min(100, f.score * 100)).toFixed(0) + '%', display: 'block' } })),
            h('span', { class: 'muted', title: 'cosine similarity' }, f.score.toFixed(2)));
        })));
      }, function (err) {
        results.replaceChildren(errorBox(err));
      }).then(function () { button.disabled = false; });
    } },
    h('label', { for: 'search-input' }, 'Find topics about'), input, button);
    fill(this.secs.search.body, form,
      self.src.live ? null : h('p', { class: 'hint' }, 'Offline report: topics are matched by keywords, not by meaning.'),
      results);
  };

  TenantPage.prototype.renderModels = function (models) {
    var self = this;
    var body = this.secs.models.body;
    if (!models.length) { body.replaceChildren(h('p', null, 'No model versions.')); return; }
    var note = h('div', { 'aria-live': 'polite' });
    var rows = models.map(function (m) {
      var action = h('td');
      if (m.is_active) action.appendChild(h('strong', null, 'Active'));
      else if (m.kind === 'merged') {
        action.appendChild(h('button', { type: 'button', class: 'quiet', onclick: function () { confirmRollback(m, action); } }, 'Roll back to this version'));
      } else action.appendChild(h('span', { class: 'muted' }, 'day model (merge it instead)'));
      return h('tr', { 'data-version': m.version },
        h('td', null, m.version), h('td', null, m.kind || ''), h('td', null, (m.created_at || '').replace('T', ' ').replace(/\.\d+/, '')),
        h('td', { class: 'num' }, fmtInt(m.total_topics)), h('td', { class: 'num' }, fmtInt(m.total_documents)),
        h('td', null, day(m.date_range_start) + ' \u2013 ' + day(m.date_range_end)), action);
    });
    function confirmRollback(m, cell) {
      var prev = Array.prototype.slice.call(cell.childNodes);
      var yes = h('button', { type: 'button', class: 'danger' }, 'Activate ' + m.version);
      var no = h('button', { type: 'button' }, 'Cancel');
      var box = h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': 'Confirm rollback' },
        h('p', null, 'Serve version ' + m.version + ' for tenant ' + self.src.tenant + ' from now on? Tagging and top topics switch at once; newer versions stay and can be activated again.'),
        h('div', { class: 'actions' }, yes, no));
      cell.replaceChildren(box);
      no.focus();
      no.addEventListener('click', function () { cell.replaceChildren.apply(cell, prev); });
      yes.addEventListener('click', function () {
        yes.disabled = true;
        self.src.activate(m.version).then(function (r) {
          setStatus('Version ' + (r.version || m.version) + ' is now active (was ' + (r.previous_version || '?') + ').', true);
          return self.refresh();
        }, function (err) {
          var msg = err.status === 403 ? 'Your token cannot roll back: activating a version needs the admin role. (' + err.message + ')' : err.message;
          cell.replaceChildren.apply(cell, prev);
          note.replaceChildren(errorBox({ message: msg }));
        });
      });
    }
    body.replaceChildren(note, h('div', { class: 'scroll' }, h('table', null,
      h('caption', null, 'Newest first. Rolling back needs an admin token.'),
      h('thead', null, h('tr', null, ['Version', 'Kind', 'Created', 'Topics', 'Documents', 'Data', ''].map(function (c, i) {
        return h('th', { scope: 'col', class: i === 3 || i === 4 ? 'num' : null }, c || h('span', { class: 'sr-only' }, 'Action'));
      }))),
      h('tbody', null, rows))));
  };

  // The detail dialog of one topic: from the top topics when ranked there, else from the
  // model's full list (fetched once, on demand).
  TenantPage.prototype.openTopic = function (id, edit) {
    var self = this;
    var dlg = $('topic-dialog');
    var bodyEl = $('topic-dialog-body');
    var title = $('topic-dialog-title');
    var fromTop = this.top.filter(function (t) { return t.id === id; })[0];
    var point = this.points.filter(function (p) { return p.id === id; })[0];
    title.textContent = fromTop ? fromTop.label : point ? point.label : 'Topic ' + id;
    bodyEl.replaceChildren(h('p', { class: 'muted' }, 'Loading\u2026'));
    if (!dlg.open) dlg.showModal();
    var got = fromTop ? Promise.resolve(fromTop) : this.src.allTopics().then(function (all) {
      return all.filter(function (t) { return t.id === id; })[0] || null;
    });
    got.then(function (t) {
      if (!t) { bodyEl.replaceChildren(h('p', null, 'Topic ' + id + ' is not in the active model.')); return; }
      title.textContent = t.label;
      var color = self.color[t.id] || NEUTRAL;
      var days = self.days();
      var parts = [
        h('p', { class: 'topic-meta' }, 'Topic id ' + t.id + ' \u00b7 ', h('strong', null, plural(t.count, 'message', 'messages')),
          ' \u00b7 first seen ' + (t.firstSeen || '\u2014') + ' \u00b7 last seen ' + (t.lastSeen || '\u2014'),
          t.overridden ? ' \u00b7 label set by an operator' : '')
      ];
      if (self.src.setLabel) parts.push(self.labelForm(t, edit));
      if (t.trend.length && days.length) parts.push(h('h3', null, 'Daily messages'), sparkline(series(t.trend, days), days, color, 'Daily messages of ' + t.label, 600, 70));
      parts.push(h('h3', null, 'Keywords'), self.keywordList(t, 10, color, true), h('h3', null, 'Sample messages'), self.samples(t, true));
      bodyEl.replaceChildren.apply(bodyEl, parts);
      var spark = bodyEl.querySelector('.spark');
      if (spark) { spark.style.width = '100%'; spark.style.height = 'auto'; }
      if (edit) { var inp = $('label-input'); if (inp) { inp.focus(); inp.select(); } }
    }, function (err) { bodyEl.replaceChildren(errorBox(err)); });
  };

  TenantPage.prototype.labelForm = function (t, edit) {
    var self = this;
    var input = h('input', { id: 'label-input', type: 'text', name: 'label', value: t.label, maxlength: 200, autocomplete: 'off' });
    var msg = h('div', { 'aria-live': 'polite', id: 'label-message' });
    var save = h('button', { type: 'submit', class: 'primary' }, 'Save label');
    var reset = t.overridden ? h('button', { type: 'button', class: 'quiet', onclick: function () { submit(''); } }, 'Use the generated label') : null;
    function submit(label) {
      save.disabled = true;
      msg.replaceChildren(h('p', { class: 'muted' }, 'Saving\u2026'));
      self.src.setLabel(t.id, label).then(function (r) {
        var shown = r.label || label;
        msg.replaceChildren(h('p', { class: 'status ok' }, label ? 'Saved: \u201c' + shown + '\u201d (version ' + (r.version || '?') + ').' : 'Back to the generated label \u201c' + shown + '\u201d.'));
        setStatus('Label of topic ' + t.id + ' saved' + (r.version ? ' in version ' + r.version : '') + '.', true);
        $('topic-dialog-title').textContent = shown;
        return self.refresh();
      }, function (err) {
        var text = err.status === 403 ? 'Your token may read this tenant but not edit labels: that needs the write role. (' + err.message + ')'
          : err.status === 401 ? 'Sign in with a token that has the write role. (' + err.message + ')' : err.message;
        msg.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
      }).then(function () { save.disabled = false; });
    }
    var form = h('form', { class: 'label-form', onsubmit: function (ev) { ev.preventDefault(); var v = input.value.trim(); if (v) submit(v); } },
      h('label', { for: 'label-input' }, 'Label'), input, save, reset);
    return h('div', null, form, h('p', { class: 'hint' }, 'An operator\u2019s label replaces the generated one and is kept by later merges. Needs a token with the write role.'), msg);
  };

  // ---------------------------------------------------------------- start
  function start() {
    $('topic-dialog-close').addEventListener('click', function () { $('topic-dialog').close(); });
    // A click on the backdrop closes the topic dialog.
    $('topic-dialog').addEventListener('click', function (ev) { if (ev.target === ev.currentTarget) ev.currentTarget.close(); });
    var reportEl = $('topicd-report');
    if (reportEl) {
      var data;
      try { data = JSON.parse(reportEl.textContent); } catch (e) {
        $('app').replaceChildren(errorBox(new Error('The report data cannot be read: ' + e.message)));
        ready('error');
        return;
      }
      $('mode-note').textContent = 'Offline report';
      new TenantPage(reportSource(data)).load();
      return;
    }
    var forget = $('forget-token');
    forget.hidden = !sessionStorage.getItem(TOKEN_KEY);
    forget.addEventListener('click', function () { sessionStorage.removeItem(TOKEN_KEY); location.reload(); });
    var path = location.pathname.replace(/\/+$/, '') || '/';
    var m = /^\/tenants\/([^/]+)$/.exec(path);
    if (path === '/') tenantList();
    else if (m) {
      var tenant;
      try { tenant = decodeURIComponent(m[1]); } catch (e) { tenant = m[1]; }
      new TenantPage(liveSource(tenant)).load();
    } else {
      crumbs([{ text: 'Tenants', href: '/' }, { text: 'Not found' }]);
      $('app').replaceChildren(h('p', { class: 'error' }, 'No page here. '), h('a', { href: '/' }, 'See the tenants'));
      ready('error');
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
