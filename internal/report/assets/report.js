// spot report: draws the report's data (the JSON in #data) with the DOM
// alone. Every value from the data is set as text (textContent, SVG
// <title>, attribute values), never parsed as HTML, so a hostile domain
// name, URI or user agent shows as itself and runs nothing. The page
// fetches nothing: its Content-Security-Policy forbids it.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('data').textContent);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var PAGE = 250;

  function el(tag, attrs) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function sv(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v);
      else if (k === 'class') e.setAttribute('class', v);
      else e.setAttribute(k, String(v));
    });
  }
  function add(e, kid) {
    if (kid === undefined || kid === null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(e, k); }); return; }
    e.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  function tip(node, text) { node.appendChild(sv('title', null, text)); return node; }

  var nf = new Intl.NumberFormat('en');
  function num(n) { return n === undefined || n === null ? '' : nf.format(n); }
  function sci(x) { return x === 0 ? '0' : (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(2) : String(+x.toPrecision(3))); }
  function bytes(n) {
    if (!n) return '0';
    var u = ['B', 'kB', 'MB', 'GB', 'TB'], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + u[i];
  }
  function utc(ns) { return ns ? new Date(ns / 1e6).toISOString().replace('T', ' ').slice(0, 19) : ''; }
  function span(ns) {
    var s = ns / 1e9;
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    if (s < 86400) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function rep(level) { return level ? el('span', { class: 'rep' + Math.max(0, level) }, String(level)) : ''; }

  // ---- header
  var S = D.summary;
  document.getElementById('title').textContent = D.title || 'spot report';
  document.title = D.title || 'spot report';
  var sub = 'The ' + num(S.shown) + ' most suspicious of ' + num(S.scored) + ' scored ' + D.kind + ' events';
  if (S.first) sub += ', ' + S.first + ' to ' + S.last + ' UTC';
  if (S.findings) sub += '; ' + num(S.findings) + ' findings';
  if (S.context) sub += '; ' + num(S.context) + ' events of context';
  if (S.method) sub += '; method ' + S.method;
  if (S.per_subject) sub += '; at most ' + S.per_subject + ' rows per subject';
  if (S.rows_cut || S.storyboards_cut) {
    sub += '. To stay under 5 MB, this page holds ' + (S.rows_cut ? 'the first ' + num(S.shown - S.rows_cut) + ' of the ' + num(S.shown) + ' rows' : 'every row');
    if (S.storyboards_cut) sub += ' and leaves out the last ' + num(S.storyboards_cut) + ' storyboards';
    sub += ' (spot report -f json writes them all)';
  }
  document.getElementById('subtitle').textContent = sub;
  document.getElementById('generated').textContent = 'Generated ' + D.generated + ' by spot report. Nothing on this page was loaded from the network.';
  var main = document.getElementById('app');

  // ---- a bar chart of a histogram over time, with marks
  function timeChart(h, marks, opts) {
    var W = 900, H = opts.height || 150, L = 46, B = 22, T = 18;
    var svg = sv('svg', { class: 'chart ' + (opts.cls || ''), viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label });
    var bins = h.bins || [];
    if (!bins.length) { svg.appendChild(sv('text', { x: L, y: H / 2 }, 'no events with a time')); return svg; }
    // the busiest stretch without long gaps: captures from several days,
    // or stray timestamps (a router's uptime-relative clock), would
    // otherwise squash everything into a few pixels
    var runs = [], run = null;
    bins.forEach(function (b) {
      if (!run || b[0] - run.hi > 60 * h.step_ns) { run = { lo: b[0], hi: b[0], n: 0 }; runs.push(run); }
      run.hi = b[0]; run.n += b[1];
    });
    var best = runs[0];
    runs.forEach(function (r) { if (r.n > best.n) best = r; });
    var lo = best.lo, hi = best.hi;
    var shown = bins.filter(function (b) { return b[0] >= lo && b[0] <= hi; });
    var outside = 0; bins.forEach(function (b) { if (b[0] < lo || b[0] > hi) outside += b[1]; });
    var pad = Math.max(4 * h.step_ns, (hi - lo) * 0.02), t0 = lo - pad, t1 = hi + h.step_ns + pad, max = 1;
    shown.forEach(function (b) { max = Math.max(max, b[1]); });
    var x = function (t) { return L + (W - L - 8) * (t - t0) / (t1 - t0); };
    var y = function (v) { return H - B - (H - B - T) * v / max; };
    svg.appendChild(sv('line', { class: 'axis', x1: L, y1: H - B, x2: W - 8, y2: H - B }));
    svg.appendChild(sv('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }));
    svg.appendChild(sv('text', { x: L - 4, y: T + 9, 'text-anchor': 'end' }, num(max)));
    svg.appendChild(sv('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, '0'));
    var bw = Math.max(1, (W - L - 8) * h.step_ns / (t1 - t0) - 0.5);
    shown.forEach(function (b) {
      var r = sv('rect', { class: 'bar', x: x(b[0]).toFixed(1), y: y(b[1]).toFixed(1), width: bw.toFixed(2), height: (H - B - y(b[1])).toFixed(1) });
      tip(r, utc(b[0]) + ' UTC: ' + num(b[1]) + ' events');
      svg.appendChild(r);
    });
    (marks || []).forEach(function (t) {
      if (t < t0 || t > t1) return;
      svg.appendChild(tip(sv('rect', { class: 'mark', x: (x(t) - 1).toFixed(1), y: T, width: 2, height: H - B - T }), 'suspicious event at ' + utc(t) + ' UTC'));
    });
    var short = t1 - t0 < 2 * 86400e9;
    for (var k = 0; k <= 4; k++) {
      var t = t0 + (t1 - t0) * k / 4, label = utc(t);
      label = k === 0 ? label.slice(0, short ? 19 : 16) : short ? label.slice(11, 19) : label.slice(5, 16);
      svg.appendChild(sv('text', { x: x(t), y: H - 6, 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' }, label));
    }
    var note = 'bins of ' + span(h.step_ns);
    if (outside) note += '; ' + num(outside) + ' events in ' + (runs.length - 1) + ' other period' + (runs.length > 2 ? 's' : '') + ' not shown';
    svg.appendChild(sv('text', { x: W - 8, y: T + 9, 'text-anchor': 'end', class: 'note' }, note));
    return svg;
  }

  // ---- a sortable table of objects
  function sortable(cols, rows, opts) {
    opts = opts || {};
    var state = { key: opts.key || cols[0].key, dir: opts.dir || 1, filter: '', limit: opts.page || Infinity };
    var tbody = el('tbody');
    var heads = cols.map(function (c) {
      return el('th', { class: 'sortable' + (c.num ? ' num' : ''), 'data-key': c.key, scope: 'col', title: c.help || null, onclick: function () {
        state.dir = state.key === c.key ? -state.dir : (c.desc ? -1 : 1);
        state.key = c.key; state.limit = opts.page || Infinity; draw();
      } }, c.title);
    });
    var table = el('table', { id: opts.id || null }, el('thead', null, el('tr', null, heads)), tbody);
    var more = el('button', { type: 'button', onclick: function () { state.limit += opts.page; draw(); } }, 'Show more');
    var countLabel = el('span', { class: 'muted count' });
    var texts = rows.map(function (r) { return cols.map(function (c) { var v = c.text ? c.text(r) : r[c.key]; return v === undefined || v === null ? '' : String(v); }).join('\u0001').toLowerCase(); });
    function draw() {
      var col = cols.filter(function (c) { return c.key === state.key; })[0];
      var idx = [];
      for (var i = 0; i < rows.length; i++) if (!state.filter || texts[i].indexOf(state.filter) >= 0) idx.push(i);
      idx.sort(function (a, b) {
        var va = col.sort ? col.sort(rows[a]) : rows[a][col.key], vb = col.sort ? col.sort(rows[b]) : rows[b][col.key];
        if (va === vb) return a - b;
        if (va === undefined || va === null || va === '') return 1;
        if (vb === undefined || vb === null || vb === '') return -1;
        return (typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb))) * state.dir;
      });
      heads.forEach(function (h) { if (h.getAttribute('data-key') === state.key) h.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending'); else h.removeAttribute('aria-sort'); });
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      var frag = document.createDocumentFragment();
      idx.slice(0, state.limit).forEach(function (i) {
        var r = rows[i];
        frag.appendChild(el('tr', { 'data-rank': r.rank || null }, cols.map(function (c) {
          var v = c.cell ? c.cell(r) : r[c.key];
          return el('td', { class: (c.num ? 'num ' : '') + (c.cls || '') }, v);
        })));
      });
      tbody.appendChild(frag);
      countLabel.textContent = (state.filter ? idx.length + ' of ' + rows.length + ' match' : rows.length + ' rows') + (idx.length > state.limit ? ', first ' + state.limit + ' shown' : '');
      more.style.display = idx.length > state.limit ? '' : 'none';
    }
    draw();
    return { table: table, more: more, count: countLabel, search: function (q) { state.filter = q.toLowerCase(); state.limit = opts.page || Infinity; draw(); } };
  }

  // ---- storyboards index
  var boardOf = {};
  (D.storyboards || []).forEach(function (b, i) { boardOf[b.host] = 'sb-' + i; });
  function hostLink(h) { return boardOf[h] ? el('a', { href: '#' + boardOf[h], title: 'storyboard of ' + h }, h) : h; }

  // ---- overview: ingest summary and map
  var overview = el('div', { class: 'grid' });
  overview.appendChild(el('section', { id: 'ingest' }, el('h2', null, 'Ingest summary'),
    el('p', { class: 'muted' }, S.context ? 'Events of context per bin.' : 'Scored events per bin (give --context for every event).'),
    timeChart(D.ingest, [], { label: 'events over time', cls: 'ingest' })));
  var places = {};
  (D.suspicious || []).forEach(function (r) {
    if (!r.lat && !r.lon) return;
    var k = r.lat.toFixed(2) + ',' + r.lon.toFixed(2);
    (places[k] = places[k] || { lat: r.lat, lon: r.lon, n: 0, who: {} }).n++;
    places[k].who[r.country || '?'] = true;
  });
  if (D.has_geo) {
    var map = sv('svg', { class: 'chart map', viewBox: '0 0 360 180', role: 'img', 'aria-label': 'map of the suspicious rows\u2019 remote parties' },
      sv('path', { class: 'land', d: document.getElementById('land').textContent.trim() }));
    var keys = Object.keys(places);
    keys.forEach(function (k) {
      var p = places[k];
      map.appendChild(tip(sv('circle', { class: 'place', cx: (p.lon + 180).toFixed(2), cy: (90 - p.lat).toFixed(2), r: (1 + Math.sqrt(p.n)).toFixed(2) }),
        Object.keys(p.who).join(', ') + ': ' + p.n + ' suspicious rows (' + p.lat + ', ' + p.lon + ')'));
    });
    overview.appendChild(el('section', { id: 'map' }, el('h2', null, 'Where the remote parties are'),
      el('p', { class: 'muted' }, keys.length ? keys.length + ' places; the larger the dot, the more rows.' : 'No row\u2019s remote party has a known place.'), map));
  } else {
    overview.appendChild(el('section', { id: 'map' }, el('h2', null, 'Map'), el('p', { class: 'muted' }, 'Give --geoip (a MaxMind .mmdb) or --iploc to place the remote parties on a map.')));
  }
  main.appendChild(overview);

  // ---- findings
  if ((D.findings || []).length) {
    var ft = sortable([
      { key: 'detector', title: 'detector', cell: function (f) { return el('span', { class: 'badge det' }, f.detector); } },
      { key: 'detector_score', title: 'score', num: true, desc: true, cell: function (f) { return f.detector_score.toFixed(2); } },
      { key: 'subject', title: 'subject', cls: 'mono wrap', cell: function (f) {
        if (!f.src || f.subject.indexOf(f.src) !== 0) return f.subject;
        return [hostLink(f.src), f.subject.slice(f.src.length)];
      } },
      { key: 'events', title: 'events', num: true, desc: true, cell: function (f) { return num(f.events); } },
      { key: 'first_seen', title: 'first seen' },
      { key: 'last_seen', title: 'last seen' },
      { key: 'evidence', title: 'evidence', cls: 'wrap' }
    ], D.findings, { key: 'detector_score', dir: -1, id: 'findings-table' });
    main.appendChild(el('section', { id: 'findings' }, el('h2', null, 'Findings'),
      el('p', { class: 'muted' }, 'What the detectors concluded about subjects (a client and a domain, a pair of hosts, a host), strongest first.'), el('div', { class: 'scroll' }, ft.table)));
  }

  // ---- the suspicious list
  var K = D.kind;
  var cols = [
    { key: 'rank', title: '#', num: true, help: 'rank: 1 is the most suspicious' },
    { key: 'score', title: 'score', num: true, help: 'low is suspicious', cell: function (r) { return sci(r.score); } },
    { key: 'time', title: 'time (UTC)', cls: 'mono' }
  ];
  if (K === 'flow') {
    cols.push({ key: 'src', title: 'source', cls: 'mono', cell: function (r) { return [hostLink(r.src), ':' + r.sport]; }, text: function (r) { return r.src + ':' + r.sport + ' ' + (r.src_net || ''); } });
    cols.push({ key: 'dst', title: 'destination', cls: 'mono', cell: function (r) { return [hostLink(r.dst), ':' + r.dport]; }, text: function (r) { return r.dst + ':' + r.dport + ' ' + (r.dst_net || ''); } });
    cols.push({ key: 'proto', title: 'proto' });
    cols.push({ key: 'bytes', title: 'bytes', num: true, desc: true, cell: function (r) { return num(r.bytes); } });
    cols.push({ key: 'packets', title: 'pkts', num: true, desc: true, cell: function (r) { return num(r.packets); } });
  } else if (K === 'dns') {
    cols.push({ key: 'src', title: 'client', cls: 'mono', cell: function (r) { return hostLink(r.src); } });
    cols.push({ key: 'what', title: 'question', cls: 'mono wrap' });
    cols.push({ key: 'detail', title: 'answer', cls: 'wrap' });
  } else {
    cols.push({ key: 'src', title: 'client', cls: 'mono', cell: function (r) { return hostLink(r.src); } });
    cols.push({ key: 'what', title: 'request', cls: 'mono wrap' });
    cols.push({ key: 'detail', title: 'response', cls: 'wrap' });
  }
  cols.push({ key: 'detector', title: 'detector', cell: function (r) { return r.detector ? el('span', { class: 'badge det', title: 'score ' + r.detector_score.toFixed(2) }, r.detector) : ''; } });
  cols.push({ key: 'evidence', title: 'evidence', cls: 'wrap', text: function (r) { return (r.evidence || '') + ' ' + (r.word || ''); },
    cell: function (r) { return r.evidence ? r.evidence : (r.word ? el('span', { class: 'muted' }, 'word ' + r.word + ', topic ' + r.topic) : ''); } });
  cols.push({ key: 'country', title: 'cc', help: 'country of the remote party' });
  cols.push({ key: 'reputation', title: 'rep', num: true, desc: true, help: 'reputation level on the lists: -1 unverified .. 3 high',
    cell: function (r) { return r.reputation ? el('span', { class: 'rep' + Math.max(0, r.reputation), title: r.rep_hits || null }, String(r.reputation)) : ''; } });
  var list = sortable(cols, D.suspicious || [], { key: 'rank', page: PAGE, id: 'list' });
  var search = el('input', { type: 'search', id: 'search', placeholder: 'Search addresses, names, URIs, evidence\u2026', 'aria-label': 'search the suspicious list' });
  search.addEventListener('input', function () { list.search(search.value); });
  main.appendChild(el('section', { id: 'suspicious' }, el('h2', null, 'Suspicious ' + K + ' events'),
    el('div', { class: 'toolbar' }, search, list.count), el('div', { class: 'scroll' }, list.table), list.more));

  // ---- storyboards
  var boards = D.storyboards || [];
  if (boards.length) {
    var sec = el('section', { id: 'storyboards' }, el('h2', null, 'Storyboards'),
      el('p', { class: 'muted' }, 'One per suspicious host, in the order of its most suspicious row. Red marks on a timeline are its rows in the list.'));
    boards.forEach(function (b, i) {
      var facts = [];
      function fact(label, value) { if (value !== '' && value !== undefined && value !== null && value !== 0) facts.push(el('span', null, el('span', { class: 'muted' }, label + ' '), value)); }
      fact('best rank', b.best_rank);
      fact('rows', b.rows.length);
      fact('network', b.net || (b.internal ? 'internal' : ''));
      fact('country', [b.country, b.city].filter(Boolean).join(', '));
      fact('AS', b.asn ? 'AS' + b.asn + ' ' + (b.as_org || '') : b.as_org);
      fact('reputation', b.reputation ? rep(b.reputation) : '');
      fact('listed', b.rep_hits);
      fact('events', num(b.events));
      fact('bytes', b.bytes ? bytes(b.bytes) : '');
      fact('from', b.first);
      fact('to', b.last);
      var card = el('div', { class: 'storyboard section', id: 'sb-' + i },
        el('h3', { class: 'mono' }, b.host), el('div', { class: 'facts' }, facts),
        timeChart(b.timeline, b.marks, { label: 'activity of ' + b.host, cls: 'timeline', height: 120 }));
      var parts = el('div', { class: 'cols' });
      if ((b.peers || []).length) {
        var pt = sortable([
          { key: 'name', title: 'peer', cls: 'mono', cell: function (p) { return hostLink(p.name); } },
          { key: 'direction', title: 'dir', help: 'in: it reached the host; out: the host reached it; both' },
          { key: 'events', title: 'events', num: true, desc: true, cell: function (p) { return num(p.events); } },
          { key: 'bytes', title: 'bytes', num: true, desc: true, cell: function (p) { return bytes(p.bytes); } },
          { key: 'country', title: 'cc', text: function (p) { return (p.country || '') + ' ' + (p.as_org || '') + ' ' + (p.net || ''); }, cell: function (p) { return p.country ? el('span', { title: p.as_org || null }, p.country) : (p.net || ''); } },
          { key: 'reputation', title: 'rep', num: true, desc: true, cell: function (p) { return rep(p.reputation); } },
          { key: 'last', title: 'last seen', cls: 'mono' }
        ], b.peers, { key: 'events', dir: -1 });
        parts.appendChild(el('div', null, el('h4', null, b.peer_label), el('div', { class: 'scroll' }, pt.table)));
      }
      if ((b.top || []).length) {
        var it = sortable([
          { key: 'key', title: K === 'flow' ? 'connection' : K === 'dns' ? 'name' : 'URI', cls: 'mono wrap' },
          { key: 'events', title: 'events', num: true, desc: true, cell: function (x) { return num(x.events); } },
          { key: 'bytes', title: K === 'flow' ? 'bytes' : 'bytes', num: true, desc: true, cell: function (x) { return bytes(x.bytes); } },
          { key: 'detail', title: K === 'flow' ? '' : 'detail' },
          { key: 'last', title: 'last seen', cls: 'mono' }
        ], b.top, { key: 'events', dir: -1 });
        parts.appendChild(el('div', null, el('h4', null, b.top_label), el('div', { class: 'scroll' }, it.table)));
      }
      if ((b.agents || []).length) {
        var at = sortable([
          { key: 'key', title: 'user agent', cls: 'wrap' },
          { key: 'events', title: 'events', num: true, desc: true, cell: function (x) { return num(x.events); } }
        ], b.agents, { key: 'events', dir: -1 });
        parts.appendChild(el('div', null, el('h4', null, 'user agents'), at.table));
      }
      if ((b.findings || []).length) {
        parts.appendChild(el('div', null, el('h4', null, 'findings'), el('ul', null, b.findings.map(function (f) {
          return el('li', null, el('span', { class: 'badge det' }, f.detector), ' ', f.detector_score.toFixed(2), ' ', el('span', { class: 'mono' }, f.subject), ': ', f.evidence);
        }))));
      }
      card.appendChild(parts);
      if (b.capped) card.appendChild(el('p', { class: 'muted' }, 'This host talked with more peers than a storyboard keeps; ' + num(b.other_events) + ' events of the others are counted, not named.'));
      sec.appendChild(card);
      if (i < boards.length - 1) sec.appendChild(el('hr'));
    });
    main.appendChild(sec);
  }

  // ---- chord diagram
  var C = D.chord;
  if (C && C.names && C.names.length > 1) {
    var n = C.names.length, R = 150, R2 = 140, cx = 220, cy = 190;
    var totals = C.names.map(function (_, i) { var t = 0; for (var j = 0; j < n; j++) t += C.matrix[i][j] + C.matrix[j][i]; return t; });
    var all = totals.reduce(function (a, b) { return a + b; }, 0) || 1;
    var pad = 0.02, k = (2 * Math.PI - pad * n) / all, a0 = 0, arcs = [];
    var hue = function (i) { return 'hsl(' + Math.round(360 * i / n) + ',55%,50%)'; };
    for (var i = 0; i < n; i++) { arcs.push([a0, a0 + totals[i] * k]); a0 += totals[i] * k + pad; }
    var pt = function (r, a) { return (cx + r * Math.sin(a)).toFixed(1) + ' ' + (cy - r * Math.cos(a)).toFixed(1); };
    var chord = sv('svg', { class: 'chart chord', viewBox: '0 0 440 380', role: 'img', 'aria-label': 'chord diagram of traffic between the suspicious hosts and their peers' });
    var cur = arcs.map(function (a) { return a[0]; });
    for (i = 0; i < n; i++) for (var j = 0; j < n; j++) {
      var w = C.matrix[i][j]; if (!w) continue;
      var s0 = cur[i], s1 = s0 + w * k; cur[i] = s1;
      var t0 = cur[j], t1 = t0 + w * k; cur[j] = t1;
      var d = 'M' + pt(R2, s0) + 'A' + R2 + ' ' + R2 + ' 0 0 1 ' + pt(R2, s1) + 'Q' + cx + ' ' + cy + ' ' + pt(R2, t0) + 'A' + R2 + ' ' + R2 + ' 0 0 1 ' + pt(R2, t1) + 'Q' + cx + ' ' + cy + ' ' + pt(R2, s0) + 'Z';
      chord.appendChild(tip(sv('path', { class: 'ribbon', d: d, fill: hue(i) }), C.names[i] + ' \u2192 ' + C.names[j] + ': ' + (C.unit === 'bytes' ? bytes(w) : num(w) + ' events')));
    }
    arcs.forEach(function (a, i) {
      var large = a[1] - a[0] > Math.PI ? 1 : 0;
      var d = 'M' + pt(R, a[0]) + 'A' + R + ' ' + R + ' 0 ' + large + ' 1 ' + pt(R, a[1]) + 'L' + pt(R2, a[1]) + 'A' + R2 + ' ' + R2 + ' 0 ' + large + ' 0 ' + pt(R2, a[0]) + 'Z';
      chord.appendChild(tip(sv('path', { class: 'group', d: d, fill: hue(i) }), C.names[i] + ': ' + (C.unit === 'bytes' ? bytes(totals[i]) : num(totals[i]) + ' events')));
      var mid = (a[0] + a[1]) / 2, lx = cx + (R + 6) * Math.sin(mid), ly = cy - (R + 6) * Math.cos(mid);
      if (a[1] - a[0] > 0.06) chord.appendChild(sv('text', { x: lx.toFixed(1), y: ly.toFixed(1), 'text-anchor': Math.sin(mid) >= 0 ? 'start' : 'end' }, C.names[i]));
    });
    main.appendChild(el('section', { id: 'chord' }, el('h2', null, 'Who talks with whom'),
      el('p', { class: 'muted' }, 'Traffic (' + C.unit + ') between the suspicious hosts and their busiest peers, as Apache Spot\u2019s chord diagram; hover for figures.'), chord));
  }
  document.body.setAttribute('data-ready', '1');
})();
