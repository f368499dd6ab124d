// capsim report: draws the run embedded in #capsim-data. No network, no libraries.
//
// Reading order: the data (D) -> layout of each policy's panel (lanes on one
// shared time axis) -> SVG markup -> interaction (tooltips, selection,
// scrubber, keyboard, language, explore mode). Everything a student sees is
// computed from D, so the Python tests can check D and the browser tests can
// check what is drawn from it.
'use strict';

const D = JSON.parse(document.getElementById('capsim-data').textContent);
const SVGNS = 'http://www.w3.org/2000/svg';
const LEFT = 96;         // room for lane labels
const RIGHT = 12;
const LANE = 22;         // height of a replica or client lane
const GAP = 4;
const FAULT_ROW = 15;
const AXIS = 22;
const MIN_BAR = 3;       // an instant op (ap answers at once) still gets 3 px

const state = {
  lang: D.lang,
  time: 0,
  selected: null,        // {run, kind: 'violation'|'op', id}
  showMessages: D.runs.every((r) => r.messages.length <= 200),
  width: 800,
  view: [0, D.end],      // the time window drawn (zoom); the whole run at first
  path: null,            // explore mode: [{label, state}], index 0 = initial
  at: 0,
};

// ---- small helpers -------------------------------------------------------
const $ = (id) => document.getElementById(id);
function w(key, fields) {
  let s = (D.words[state.lang] || D.words.en)[key] || key;
  for (const k in fields || {}) s = s.split('{' + k + '}').join(fields[k]);
  return s;
}
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;',
    '"': '&quot;', "'": '&#39;'}[c]));
}
function secs(t) { return (t === null || t === undefined) ? '–' : Number(t.toFixed(6)) + ' s'; }
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function bisectRight(arr, t, key) {  // first index whose key(item) > t
  let lo = 0, hi = arr.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (key(arr[m]) <= t) lo = m + 1; else hi = m; }
  return lo;
}

// ---- derived data, computed once ----------------------------------------
const kindColour = {};
for (const run of D.runs) {
  for (const m of run.messages) {
    if (!(m[3] in kindColour)) {
      kindColour[m[3]] = D.palette.kinds[Object.keys(kindColour).length % D.palette.kinds.length];
    }
  }
}
for (const run of D.runs) {
  run.opById = new Map(run.ops.map((o) => [o.id, o]));
  run.violSet = new Set(run.violation ? run.violation.ops : []);
  run.shownKeys = run.keys.slice(0, 4);
  run.series = {};       // "node\u0000key" -> [[time, value], ...] in time order
  for (const [t, node, key, value] of run.trace) {
    const k = node + '\u0000' + key;
    (run.series[k] = run.series[k] || []).push([t, value]);
  }
  run.writer = {};       // value -> first write op that wrote it
  for (const o of run.ops) {
    if ((o.f === 'write') && o.value !== null && !(o.value in run.writer)) run.writer[o.value] = o;
  }
}
const eventTimes = (() => {
  const s = new Set([0]);
  for (const run of D.runs) {
    for (const o of run.ops) { s.add(o.start); if (o.end !== null) s.add(o.end); }
    for (const t of run.trace) s.add(t[0]);
    for (const f of run.faults) { s.add(f.start); s.add(f.end); }
    for (const m of run.messages) { s.add(m[0]); s.add(m[4]); }
  }
  return [...s].filter((t) => t <= D.end).sort((a, b) => a - b);
})();

function valueAt(run, node, key, t) {
  const ser = run.series[node + '\u0000' + key];
  if (!ser) return run.initial[key] === undefined ? null : run.initial[key];
  const i = bisectRight(ser, t, (e) => e[0]);
  return i === 0 ? null : ser[i - 1][1];
}
function faultsAt(run, t) { return run.faults.filter((f) => f.start <= t && t < f.end); }
function inFlightAt(run, t) { return run.messages.filter((m) => m[0] <= t && t < m[4]); }
function downAt(run, node, t) {
  return run.faults.some((f) => f.kind === 'crash' && f.groups[0][0] === node &&
                         f.start <= t && t < f.end);
}
function colourOf(run, v) { return (run.colours[v] || ['#dddddd', 'black']); }

// ---- layout ---------------------------------------------------------------
function faultRows(faults) {  // overlapping faults go on separate header rows
  const ends = [];
  const row = [];
  faults.map((f, i) => [f, i]).sort((a, b) => a[0].start - b[0].start || a[0].end - b[0].end)
    .forEach(([f, i]) => {
      let r = ends.findIndex((e) => e <= f.start);
      if (r < 0) { r = ends.length; ends.push(f.end); } else ends[r] = f.end;
      row[i] = r;
    });
  return {n: ends.length, row};
}
function layout(run) {
  const fr = faultRows(run.faults);
  let y = 4 + fr.n * FAULT_ROW + (fr.n ? 6 : 0);
  const rep = {};
  for (const node of run.nodes) {
    for (const key of run.shownKeys) { rep[node + '\u0000' + key] = y; y += LANE + GAP; }
  }
  y += 8;
  const cli = {};
  for (const c of run.clients) { cli[c.name] = y; y += LANE + GAP; }
  return {faultRow: fr.row, faultTop: 4, rep, cli, height: y + AXIS};
}
const plotWidth = () => state.width - LEFT - RIGHT;
const span = () => state.view[1] - state.view[0];
// Clamped a little outside the plot, so a long band stays a sane number of pixels.
const X = (t) => Math.max(LEFT - 4, Math.min(state.width + 4,
  LEFT + ((t - state.view[0]) / span()) * plotWidth()));
const T = (x) => Math.max(0, Math.min(D.end, state.view[0] + (x - LEFT) / plotWidth() * span()));
const visible = (t0, t1) => t1 >= state.view[0] && t0 <= state.view[1];
function setView(v0, v1) {
  const minSpan = Math.max(D.end / 5000, 1e-6);
  if (v1 - v0 < minSpan) { const m = (v0 + v1) / 2; v0 = m - minSpan / 2; v1 = m + minSpan / 2; }
  const w = Math.min(v1 - v0, D.end);
  v0 = Math.max(0, Math.min(v0, D.end - w));
  state.view = [v0, v0 + w];
}
function zoom(factor) {  // around the scrubber, so the instant a student looks at stays in view
  const w = span() * factor;
  setView(state.time - w / 2, state.time + w / 2);
  renderPanels();
}

// ---- drawing (SVG markup as strings: fast for 10,000 ops) -------------------
function patterns() {
  const p = D.palette;
  const hatch = (id, colour, d) => `<pattern id="${id}" width="6" height="6"
    patternUnits="userSpaceOnUse"><path d="${d}" stroke="${colour}" stroke-width="1.4"/></pattern>`;
  $('patterns').innerHTML = '<defs>' +
    hatch('hatch-stale', p.stale, 'M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2') +
    hatch('hatch-violation', p.violation, 'M0,0 l6,6 M6,0 l-6,6') +
    hatch('hatch-crash', '#ffffff', 'M-1,5 l2,2 M0,0 l6,6 M5,-1 l2,2') +
    '</defs>';
}

function drawRun(run, ri) {
  const L = layout(run);
  run.layout = L;
  const p = D.palette;
  const parts = [];
  const top = L.faultTop;
  const bottom = L.height - AXIS;
  const crashes = [];
  // faults: shaded across every lane, and a labelled bar in the header
  run.faults.forEach((f, i) => {
    const x0 = X(f.start), x1 = Math.max(X(f.end), x0 + 2);
    const label = f.label[state.lang] || f.label.en;
    if (f.kind !== 'crash') {
      parts.push(`<rect x="${x0}" y="${top}" width="${x1 - x0}" height="${bottom - top}"
        fill="${p.partition_shade}" pointer-events="none"/>`);
    } else {  // drawn over the replica's lanes once they are drawn (below)
      for (const key of run.shownKeys) {
        const y = L.rep[f.groups[0][0] + '\u0000' + key];
        if (y === undefined) continue;
        crashes.push(`<rect class="fault" data-k="fault" data-r="${ri}" data-i="${i}" x="${x0}"
          y="${y}" width="${x1 - x0}" height="${LANE}" fill="${p.crash}" fill-opacity="0.6"/>
          <rect x="${x0}" y="${y}" width="${x1 - x0}" height="${LANE}"
          fill="url(#hatch-crash)" pointer-events="none"/>
          <text x="${x0 + 4}" y="${y + 15}" fill="white" pointer-events="none"
          >${x1 - x0 > 40 ? esc(w('down')) : ''}</text>`);
      }
    }
    const y = top + L.faultRow[i] * FAULT_ROW;
    const fill = f.kind === 'crash' ? p.crash : p.partition;
    parts.push(`<rect class="fault" data-k="fault" data-r="${ri}" data-i="${i}" x="${x0}"
      y="${y}" width="${x1 - x0}" height="${FAULT_ROW - 3}" fill="${fill}"/>`);
    if (x1 - x0 > 40) {
      parts.push(`<text x="${x0 + 4}" y="${y + 10}" fill="white" pointer-events="none"
        >${esc(label)}</text>`);
    }
  });
  // replica lanes: one band per value held
  for (const node of run.nodes) {
    for (const key of run.shownKeys) {
      const y = L.rep[node + '\u0000' + key];
      const name = run.shownKeys.length > 1 ? `${node} ${key}` : node;
      parts.push(`<text class="lane-label" x="${LEFT - 6}" y="${y + 15}" text-anchor="end"
        >${esc(name)}</text>`);
      const ser = run.series[node + '\u0000' + key] || [];
      ser.forEach(([t, v], i) => {
        const t1 = i + 1 < ser.length ? ser[i + 1][0] : run.end;
        if (v === null || !visible(t, t1)) return;
        const x0 = X(t), x1 = X(t1);
        if (x1 <= x0) return;
        const [fill, ink] = colourOf(run, v);
        parts.push(`<rect class="band" data-k="band" data-r="${ri}" data-node="${esc(node)}"
          data-key="${esc(key)}" data-i="${i}" x="${x0}" y="${y}" width="${x1 - x0}"
          height="${LANE}" fill="${fill}"/>`);
        if (x1 - x0 > 8 * String(v).length + 6) {
          parts.push(`<text x="${x0 + 4}" y="${y + 15}" fill="${ink}" pointer-events="none"
            >${esc(v)}</text>`);
        }
      });
    }
  }
  parts.push(...crashes);
  // client lanes: one bar per request, invoke -> answer
  for (const c of run.clients) {
    const y = L.cli[c.name];
    parts.push(`<text class="lane-label" x="${LEFT - 6}" y="${y + 15}" text-anchor="end"
      >${esc(c.name)}</text>`);
  }
  const shownOps = run.ops.filter((o) => visible(o.start, o.end === null ? run.end : o.end));
  const few = shownOps.length <= 60;
  // a label goes right of its bar only when it fits before the client's next bar
  const roomUntil = new Map();
  const lastOf = {};
  for (const o of shownOps) {
    const prev = lastOf[o.client];
    if (prev) roomUntil.set(prev.id, X(o.start));
    lastOf[o.client] = o;
  }
  for (const o of shownOps) {
    const y = L.cli[o.client];
    if (y === undefined) continue;
    const x0 = X(o.start);
    const x1 = Math.max(X(o.end === null ? run.end : o.end), x0 + MIN_BAR);
    let fill, stroke = p.ink, dash = '';
    if (o.type === 'ok') fill = colourOf(run, o.value)[0];
    else if (o.type === 'fail') fill = p.fail;
    else { fill = '#ffffff'; stroke = p.info; dash = ' stroke-dasharray="4 2"'; }
    if (o.stale) stroke = p.stale;
    if (run.violSet.has(o.id)) stroke = p.violation;
    parts.push(`<rect class="op" data-k="op" data-r="${ri}" data-op="${o.id}" x="${x0}" y="${y + 2}"
      width="${x1 - x0}" height="${LANE - 4}" fill="${fill}" stroke="${stroke}"${dash}/>`);
    if (o.stale) {
      parts.push(`<rect x="${x0}" y="${y + 2}" width="${x1 - x0}" height="${LANE - 4}"
        fill="url(#hatch-stale)" pointer-events="none"/>`);
    } else if (run.violSet.has(o.id)) {
      parts.push(`<rect x="${x0}" y="${y + 2}" width="${x1 - x0}" height="${LANE - 4}"
        fill="url(#hatch-violation)" pointer-events="none"/>`);
    }
    const label = few ? opShort(o) : '';
    if (label && x1 + 3 + 6.5 * label.length < (roomUntil.get(o.id) ?? Infinity)) {
      parts.push(`<text x="${x1 + 3}" y="${y + 15}" pointer-events="none">${esc(label)}</text>`);
    }
  }
  // group labels, axis
  const firstRep = Math.min(...Object.values(L.rep));
  parts.push(`<text class="group-label" x="4" y="${firstRep - 2}">${esc(w('replicas'))}</text>`);
  if (run.clients.length) {
    const firstCli = Math.min(...Object.values(L.cli));
    parts.push(`<text class="group-label" x="4" y="${firstCli - 2}">${esc(w('clients'))}</text>`);
  }
  parts.push(axis(bottom));
  if (run.violation && run.violation.break_time !== null) {
    const xb = X(run.violation.break_time);
    parts.push(`<line x1="${xb}" x2="${xb}" y1="${top}" y2="${bottom}" stroke="${p.violation}"
      stroke-dasharray="5 3" pointer-events="none"/>`);
  }
  if (run.converged_at !== null) {
    const xc = X(run.converged_at);
    const right = xc > state.width - 90;  // near the right edge: write it leftwards
    parts.push(`<text x="${right ? xc - 2 : xc + 2}" y="${firstRep - 2}" fill="${p.converged}"
      font-size="10" text-anchor="${right ? 'end' : 'start'}">✓ ${esc(w('converged'))}</text>`);
  }
  parts.push(`<g class="messages">${state.showMessages ? drawMessages(run) : ''}</g>`);
  parts.push('<g class="overlay"></g>');
  parts.push(`<line class="cursor" x1="0" x2="0" y1="${top}" y2="${bottom}"/>`);
  return {markup: parts.join(''), height: L.height};
}

function opShort(o) {
  const verb = w(o.f);
  let s = o.f === 'read' ? `${verb} ${o.key}` : `${verb} ${o.key}=${o.value}`;
  if (o.type === 'ok' && o.f === 'read') s += ` → ${o.value}`;
  if (o.type === 'fail') s += ` ✗ ${w('refused')}`;
  if (o.type === 'info') s += ` ? ${w('no_answer')}`;
  if (o.stale) s += ` (${w('stale')})`;
  return s;
}

function axis(y) {
  const [v0, v1] = state.view;
  const raw = (v1 - v0) / 10;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [`<g class="axis"><line x1="${LEFT}" x2="${X(v1)}" y1="${y}" y2="${y}"/>`];
  for (let t = Math.ceil(v0 / step - 1e-9) * step; t <= v1 + step * 1e-6; t += step) {
    const x = X(t);
    out.push(`<line x1="${x}" x2="${x}" y1="${y}" y2="${y + 4}"/>
      <text x="${x}" y="${y + 14}" text-anchor="middle">${Number(t.toFixed(6))}</text>`);
  }
  out.push(`<text x="${LEFT - 6}" y="${y + 14}" text-anchor="end">${esc(w('time'))}</text></g>`);
  return out.join('');
}

function laneY(run, node) {
  const y = run.layout.rep[node + '\u0000' + run.shownKeys[0]];
  return y === undefined ? null : y + LANE / 2;
}
function drawMessages(run) {
  const out = [];
  run.messages.forEach((m, i) => {
    const [sent, src, dst, kind, end, status] = m;
    const y0 = laneY(run, src), y1 = laneY(run, dst);
    if (y0 === null || y1 === null || !visible(sent, end)) return;
    const cls = status === 'delivered' ? 'msg' : 'msg dropped';
    out.push(`<line class="${cls}" data-k="msg" data-i="${i}" x1="${X(sent)}" y1="${y0}"
      x2="${X(end)}" y2="${y1}" stroke="${kindColour[kind]}" pointer-events="stroke"/>`);
  });
  return out.join('');
}

// ---- tooltips ---------------------------------------------------------------
function opTip(run, o) {
  const lines = [`<b>${esc(o.client)} → ${esc(o.node)}: ${esc(opShort(o))}</b>`];
  lines.push(esc(w('invoked', {time: secs(o.start)})));
  if (o.end === null) lines.push(esc(w('unanswered')));
  else if (o.type === 'info') lines.push(esc(w('gave_up', {time: secs(o.end)})));
  else lines.push(esc(w('completed', {time: secs(o.end)})));
  if (o.value !== null) lines.push(esc(w('value_is', {value: o.value})) + writtenBy(run, o.key, o.value));
  if (o.error) lines.push(esc(w('error', {error: o.error})));
  if (o.stale) lines.push(`<span style="color:${D.palette.stale}">${esc(w('stale_because'))}</span>`);
  if (run.violSet.has(o.id)) {
    lines.push(`<span style="color:${D.palette.violation}">${esc(w('legend_violation'))}</span>`);
  }
  return lines[0] + lines.slice(1).join('<br>');  // the title is a block of its own
}
function writtenBy(run, key, v) {
  if (run.initial[key] === v) return ' — ' + esc(w('initial_value'));
  const wr = run.writer[v];
  return wr ? ' — ' + esc(w('written_by', {client: wr.client, time: secs(wr.start)})) : '';
}
function tipFor(target) {
  const run = D.runs[+target.dataset.r];
  const k = target.dataset.k;
  if (k === 'op') return opTip(run, run.opById.get(+target.dataset.op));
  if (k === 'fault') {
    const f = run.faults[+target.dataset.i];
    return `<b>${esc(f.label[state.lang] || f.label.en)}</b>${secs(f.start)} – ${secs(f.end)}`;
  }
  if (k === 'band') {
    const ser = run.series[target.dataset.node + '\u0000' + target.dataset.key];
    const i = +target.dataset.i;
    const [t, v] = ser[i];
    const t1 = i + 1 < ser.length ? ser[i + 1][0] : run.end;
    return `<b>${esc(w('holds', {node: target.dataset.node, value: v, start: secs(t),
      end: secs(t1)}))}</b>${esc(w('key'))} ${esc(target.dataset.key)}${writtenBy(run, target.dataset.key, v)}`;
  }
  if (k === 'msg') {
    const m = run.messages[+target.dataset.i];
    const status = {delivered: w('delivered'), lost: w('lost'), cut: w('cut_msg'),
      down: w('down_msg')}[m[5]] || m[5];
    return `<b>${esc(m[1])} → ${esc(m[2])}: ${esc(m[3])}</b>${esc(w('msg_sent', {time: secs(m[0])}))}
      <br>${esc(w('msg_end', {status, time: secs(m[4])}))}`;
  }
  return null;
}
function showTip(ev) {
  const target = ev.target.closest('[data-k]');
  const tip = $('tooltip');
  if (!target) { tip.hidden = true; return; }
  tip.innerHTML = tipFor(target);
  tip.hidden = false;
  const x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
  const y = ev.clientY + 16 + tip.offsetHeight > window.innerHeight
    ? ev.clientY - tip.offsetHeight - 10 : ev.clientY + 16;
  tip.style.left = x + 'px';
  tip.style.top = y + 'px';
}

// ---- selection: a violation's ops, the write -> missed read relation -------
function select(sel) {
  state.selected = sel;
  document.querySelectorAll('svg.lanes').forEach((svg) => {
    svg.classList.remove('dim');
    svg.querySelectorAll('.op.hl').forEach((e) => e.classList.remove('hl'));
    svg.querySelector('.overlay').innerHTML = '';
  });
  const detail = $('detail');
  detail.innerHTML = '';
  if (!sel) return;
  const run = D.runs[sel.run];
  const svg = document.querySelector(`.panel[data-run="${sel.run}"] svg.lanes`);
  if (sel.kind === 'violation') {
    const v = run.violation;
    svg.classList.add('dim');
    for (const id of v.ops) {
      const e = svg.querySelector(`.op[data-op="${id}"]`);
      if (e) e.classList.add('hl');
    }
    svg.querySelector('.overlay').innerHTML = relations(run);
    detail.appendChild(el('h3', {}, `${run.label}: ${w('legend_violation')}`));
    detail.appendChild(el('p', {id: 'explanation'}, v.explanation));
    const ul = el('ul', {id: 'involved'});
    for (const id of v.ops) {
      const o = run.opById.get(id);
      if (o) ul.appendChild(el('li', {'data-op': id}, `${o.client} → ${o.node}: ${opShort(o)}` +
        ` (${secs(o.start)} – ${secs(o.end)})`));
    }
    detail.appendChild(el('p', {}, w('involved') + ':'));
    detail.appendChild(ul);
  } else {
    const o = run.opById.get(sel.id);
    const e = svg.querySelector(`.op[data-op="${sel.id}"]`);
    if (e) e.classList.add('hl');
    const box = el('div');
    box.innerHTML = opTip(run, o);
    detail.appendChild(box);
  }
}
function relations(run) {
  // From each acknowledged write in the violation to the read that missed it.
  const v = run.violation;
  const read = run.opById.get(v.break_op);
  if (!read) return '';
  const L = run.layout;
  const out = [`<defs><marker id="arrow-${run.policy}" viewBox="0 0 10 10" refX="9" refY="5"
    markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"
    fill="${D.palette.violation}"/></marker></defs>`];
  for (const id of v.ops) {
    const o = run.opById.get(id);
    // the read saw the value of a write with the same value: it did not miss that one
    if (!o || id === v.break_op || o.end === null || o.value === read.value) continue;
    const x0 = Math.max(X(o.end), X(o.start) + MIN_BAR), y0 = L.cli[o.client] + LANE / 2;
    const x1 = X(read.start), y1 = L.cli[read.client] + LANE / 2;
    const mx = (x0 + x1) / 2, my = Math.min(y0, y1) - 14;
    out.push(`<path class="relation" d="M${x0},${y0} Q${mx},${my} ${x1},${y1}"
      stroke="${D.palette.violation}" marker-end="url(#arrow-${run.policy})"><title
      >${esc(w('missed'))}</title></path>`);
    if (out.length > 2) continue;  // one caption is enough when several writes point at the read
    out.push(`<text x="${mx}" y="${my - 2}" text-anchor="middle" fill="${D.palette.violation}"
      stroke="white" stroke-width="3" paint-order="stroke" font-size="10">${esc(w('missed'))}</text>`);
  }
  return out.join('');
}
function firstViolation() {
  let best = null;
  D.runs.forEach((run, i) => {
    if (!run.violation) return;
    const t = run.violation.break_time === null ? Infinity : run.violation.break_time;
    if (!best || t < best.t) best = {i, t};
  });
  return best;
}
function jumpToFirstViolation() {
  const best = firstViolation();
  if (!best) { $('detail').textContent = w('no_violation'); return; }
  // zoom so the violation's operations fill a good part of the width
  const ops = D.runs[best.i].violation.ops.map((id) => D.runs[best.i].opById.get(id))
    .filter((o) => o);
  if (ops.length) {
    const a = Math.min(...ops.map((o) => o.start));
    const b = Math.max(...ops.map((o) => (o.end === null ? o.start : o.end)));
    if ((b - a) * 4 < D.end) {
      const pad = Math.max(b - a, D.end / 500);
      if (a - pad < state.view[0] || b + pad > state.view[1] || span() > 8 * (b - a + 2 * pad)) {
        setView(a - pad, b + pad);
      }
    }
  }
  state.selected = {run: best.i, kind: 'violation'};
  if (best.t !== Infinity) state.time = best.t;
  renderPanels();
  document.querySelector(`.panel[data-run="${best.i}"]`).scrollIntoView({block: 'nearest'});
}

// ---- the scrubber: the state of every replica at one instant ---------------
function setTime(t) {
  state.time = Math.max(0, Math.min(D.end, t));
  if (state.time < state.view[0] || state.time > state.view[1]) {  // pan to keep it in view
    setView(state.time - span() / 2, state.time + span() / 2);
    renderPanels();
    return;
  }
  $('time').value = String(state.time);
  $('time-label').textContent = w('at_time', {time: secs(state.time)});
  D.runs.forEach((run, ri) => {
    const panel = document.querySelector(`.panel[data-run="${ri}"]`);
    const cur = panel.querySelector('.cursor');
    const x = X(state.time);
    cur.setAttribute('x1', x);
    cur.setAttribute('x2', x);
    panel.querySelectorAll('.msg.flying').forEach((e) => e.classList.remove('flying'));
    panel.querySelector('.state').innerHTML = stateMarkup(run, state.time);
    if (state.showMessages) {
      run.messages.forEach((m, i) => {
        if (m[0] <= state.time && state.time < m[4]) {
          const e = panel.querySelector(`.msg[data-i="${i}"]`);
          if (e) e.classList.add('flying');
        }
      });
    }
  });
}
function stateMarkup(run, t) {
  const rowsHtml = [];
  for (const node of run.nodes) {
    const down = downAt(run, node, t);
    const cells = run.shownKeys.map((key) => {
      const v = valueAt(run, node, key, t);
      const [fill, ink] = v === null ? ['#ffffff', 'black'] : colourOf(run, v);
      return `<td class="value" data-key="${esc(key)}" style="background:${fill};color:${ink}"
        >${esc(v === null ? '–' : v)}</td>`;
    }).join('');
    rowsHtml.push(`<tr data-node="${esc(node)}"><th>${esc(node)}</th>${cells}` +
      `${down ? `<td class="down">${esc(w('down'))}</td>` : ''}</tr>`);
  }
  const head = run.shownKeys.length > 1
    ? `<tr><th></th>${run.shownKeys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>` : '';
  const faults = faultsAt(run, t).map((f) => esc(f.label[state.lang] || f.label.en));
  const flying = inFlightAt(run, t);
  const shown = flying.slice(0, 12).map((m) => `<li>${esc(m[1])} → ${esc(m[2])} ${esc(m[3])}
    (${secs(m[0])} → ${secs(m[4])})</li>`);
  if (flying.length > 12) shown.push(`<li>+${flying.length - 12}</li>`);
  return `<h3>${esc(run.label)} · ${esc(w('at_time', {time: secs(t)}))}</h3>
    <table class="replica-state">${head}${rowsHtml.join('')}</table>
    <div class="faults-now">${esc(w('faults_now'))}: ${faults.length ? faults.join('; ') : esc(w('none'))}</div>
    <div class="in-flight">${esc(w('in_flight'))}: ${flying.length ? `<ul>${shown.join('')}</ul>`
      : esc(w('none'))}</div>`;
}
function step(dir) {
  const t = state.time;
  let i;
  if (dir > 0) i = bisectRight(eventTimes, t + 1e-9, (x) => x);
  else i = bisectRight(eventTimes, t - 1e-9, (x) => x) - 1;
  if (i >= 0 && i < eventTimes.length) setTime(eventTimes[i]);
}

// ---- page ---------------------------------------------------------------------
function renderStatic() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  $('title').textContent = `${w('title')}: ${D.scenario}`;
  $('description').textContent = D.description;
  $('jump').textContent = w('jump');
  $('show-messages-label').textContent = w('show_messages');
  $('messages-cut').textContent = D.runs.filter((r) => r.messages_cut).map((r) =>
    w('messages_cut', {policy: r.label, shown: r.messages_cut.shown.toLocaleString('en'),
                       total: r.messages_cut.total.toLocaleString('en'),
                       time: secs(r.messages_cut.until)})).join(' · ');
  $('zoom-in').textContent = w('zoom_in');
  $('zoom-out').textContent = w('zoom_out');
  $('zoom-all').textContent = w('zoom_all');
  $('show-messages').checked = state.showMessages;
  $('lang-label').textContent = w('language') + ' ';
  $('lang').value = state.lang;
  $('scrub-help').textContent = w('scrub_help') + ' ' + w('click_hint');
  const p = D.palette;
  const sw = (style, label) => `<span><span class="sw" style="${style}"></span>${esc(label)}</span>`;
  $('legend').innerHTML = [
    sw(`background:${p.values[1]}`, w('legend_ok')),
    sw(`background:${p.fail}`, w('legend_fail')),
    sw(`background:#fff;border:1px dashed ${p.info}`, w('legend_info')),
    sw(`background:${p.stale}`, w('legend_stale')),
    sw(`background:${p.violation}`, w('legend_violation')),
    sw(`background:${p.partition}`, w('legend_partition')),
    sw(`background:${p.crash}`, w('legend_crash')),
  ].join('') + (state.showMessages && Object.keys(kindColour).length
    ? `<span>${esc(w('messages'))}:</span>` + Object.entries(kindColour).map(([kind, colour]) =>
      sw(`background:${colour};height:3px`, kind)).join('') : '');
  const head = `<tr><th>${esc(w('policy'))}</th>${D.runs.map((r) => `<th>${esc(r.label)}</th>`)
    .join('')}</tr>`;
  const rows = D.runs[0].checks[state.lang].map((row, i) => `<tr><th>${esc(row[0])}</th>` +
    D.runs.map((r) => `<td>${esc(r.checks[state.lang][i][1])}</td>`).join('') + '</tr>');
  $('checks').innerHTML = `<h2>${esc(w('checks'))}</h2><table>${head}${rows.join('')}</table>`;
}
function renderPanels() {
  state.width = Math.max(520, document.documentElement.clientWidth - 32 - 262);
  const main = $('panels');
  main.innerHTML = '';
  D.runs.forEach((run, ri) => {
    const sec = el('section', {class: 'panel', 'data-run': ri, 'data-policy': run.policy});
    sec.appendChild(el('h2', {}, `${run.label}`));
    let summary = run.summary[state.lang] || run.summary.en;
    if (run.keys.length > run.shownKeys.length) {  // as the PNG: say which keys the lanes show
      summary += `  ·  ${w('keys_shown')}: ${run.shownKeys.join(', ')} (${run.shownKeys.length}/` +
        `${run.keys.length})`;
    }
    sec.appendChild(el('p', {class: 'summary'}, summary));
    const body = el('div', {class: 'panel-body'});
    const {markup, height} = drawRun(run, ri);
    const svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('class', 'lanes');
    svg.setAttribute('width', state.width);
    svg.setAttribute('height', height);
    svg.innerHTML = markup;
    body.appendChild(svg);
    body.appendChild(el('aside', {class: 'state'}));
    sec.appendChild(body);
    main.appendChild(sec);
  });
  const range = $('time');
  range.min = String(state.view[0]);
  range.max = String(state.view[1]);
  $('zoom-all').disabled = state.view[0] <= 0 && state.view[1] >= D.end;
  range.style.marginLeft = LEFT + 'px';
  range.style.width = (state.width - LEFT - RIGHT) + 'px';
  setTime(state.time);
  select(state.selected);
}
function render() { renderStatic(); renderPanels(); renderExplore(); writeHash(); }

// ---- explore mode: step through the counterexample, branch, share a link ----
function exploreState(id) { return D.explore.states[id]; }
function defaultPath() {
  const ex = D.explore;
  return [{label: null, state: ex.initial}].concat(ex.steps.map((s) => ({label: s.label,
    state: s.state})));
}
function onCounterexample(i) {
  const ex = D.explore;
  if (i === 0) return state.path[0].state === ex.initial;
  const s = ex.steps[i - 1];
  return !!s && s.state === state.path[i].state && s.label === state.path[i].label &&
    onCounterexample(i - 1);
}
function renderExplore() {
  const box = $('explore');
  if (!D.explore) { box.hidden = true; return; }
  box.hidden = false;
  const ex = D.explore;
  if (!state.path) { state.path = defaultPath(); state.at = state.path.length - 1; }
  const cur = exploreState(state.path[state.at].state);
  const steps = state.path.map((s, i) => {
    const text = i === 0 ? w('initial_state') : `${s.label}`;
    const cls = [i === state.at ? 'current' : '', onCounterexample(i) ? '' : 'branch'].join(' ');
    return `<li data-step="${i}" class="${cls.trim()}">${esc(text)}</li>`;
  });
  const nextOnPath = state.at + 1 < state.path.length ? state.path[state.at + 1] : null;
  const enabled = (cur.enabled || []).map((e, j) => {
    const mark = e.next === null ? ' ' + esc(w('not_exported'))
      : (nextOnPath && nextOnPath.state === e.next && nextOnPath.label === e.label
        ? ' ' + esc(w('on_path')) : '');
    return `<li><button type="button" data-enabled="${j}"${e.next === null ? ' disabled' : ''}
      >${esc(e.label)}</button>${mark}</li>`;
  });
  const title = state.at === 0 ? w('initial_state')
    : w('state_after', {n: state.at, label: state.path[state.at].label});
  box.innerHTML = `<h2>${esc(w('explore'))}: ${esc(ex.policy)} · ${esc(ex.property)}</h2>
    <div class="explore-body">
      <div><h3>${esc(w('steps'))}</h3><ol id="steps" start="0">${steps.join('')}</ol>
        <button type="button" id="back">${esc(w('back'))}</button></div>
      <div id="state-view"><h3 id="state-title">${esc(title)}</h3>${exploreStateMarkup(cur)}
        <h3>${esc(w('what_else'))}</h3>
        ${enabled.length ? `<ul id="enabled">${enabled.join('')}</ul>` : `<p>${esc(w('no_enabled'))}</p>`}
        <p class="muted">${esc(w('share'))}</p></div>
    </div>`;
}
function exploreStateMarkup(st) {
  const keys = [...new Set(Object.values(st.replicas).flatMap((m) => Object.keys(m)))].sort();
  const run = D.runs[0];
  const rowsHtml = Object.entries(st.replicas).map(([node, kv]) => `<tr data-node="${esc(node)}">
    <th>${esc(node)}</th>${keys.map((k) => {
      const v = kv[k] === undefined || kv[k] === null ? '–' : String(kv[k]);
      const [fill, ink] = colourOf(run, v);
      return `<td class="value" data-key="${esc(k)}" style="background:${fill};color:${ink}"
        >${esc(v)}</td>`;
    }).join('')}</tr>`);
  const flying = (st.in_flight || []).map((m) => `<li>${esc(m.src)} → ${esc(m.dst)} ${esc(m.kind)}` +
    `${m.summary ? ': ' + esc(m.summary) : ''}</li>`);
  const clients = Object.entries(st.clients || {}).map(([c, s]) => `<li>${esc(c)}: ${esc(s)}</li>`);
  const faults = (st.faults || []).map(esc);
  return `<table class="replica-state"><tr><th></th>${keys.map((k) => `<th>${esc(k)}</th>`)
      .join('')}</tr>${rowsHtml.join('')}</table>
    <div class="faults-now">${esc(w('faults_now'))}: ${faults.length ? faults.join('; ') : esc(w('none'))}</div>
    <div class="in-flight">${esc(w('in_flight'))}: ${flying.length ? `<ul>${flying.join('')}</ul>`
      : esc(w('none'))}</div>
    <div class="clients">${esc(w('client_state'))}: <ul>${clients.join('')}</ul></div>`;
}
function exploreClick(ev) {
  const li = ev.target.closest('[data-step]');
  const btn = ev.target.closest('[data-enabled]');
  if (li) state.at = +li.dataset.step;
  else if (btn) {
    const e = exploreState(state.path[state.at].state).enabled[+btn.dataset.enabled];
    if (e.next === null) return;
    const next = state.path[state.at + 1];
    if (!(next && next.state === e.next && next.label === e.label)) {
      state.path = state.path.slice(0, state.at + 1).concat([{label: e.label, state: e.next}]);
    }
    state.at += 1;
  } else if (ev.target.id === 'back') {
    state.path = defaultPath();
    state.at = state.path.length - 1;
  } else return;
  renderExplore();
  writeHash();
}

// ---- the URL fragment: language and explore path, so a link shows a state ---
function writeHash() {
  const parts = [];
  if (state.lang !== D.lang) parts.push('lang=' + state.lang);
  if (D.explore && state.path) {
    const idx = [];
    for (let i = 1; i < state.path.length; i++) {
      const from = exploreState(state.path[i - 1].state).enabled || [];
      const s = state.path[i];
      idx.push(from.findIndex((e) => e.next === s.state && e.label === s.label));
    }
    parts.push('path=' + idx.join('.'));
    parts.push('at=' + state.at);
  }
  const h = parts.join('&');
  if (('#' + h) !== location.hash && !(h === '' && location.hash === '')) {
    try {
      history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
    } catch (e) {
      // a sandboxed frame (Jupyter's iframe) may not rewrite its address: links are off there
    }
  }
}
function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  if (D.langs.includes(q.get('lang'))) state.lang = q.get('lang');
  if (!D.explore || !q.has('path')) return;
  // path=i.j.k: the i-th enabled transition from the initial state, then j-th, ...
  const path = [{label: null, state: D.explore.initial}];
  const idx = q.get('path') === '' ? [] : q.get('path').split('.');
  for (const s of idx) {
    const e = (exploreState(path[path.length - 1].state).enabled || [])[+s];
    if (!e || e.next === null) return;  // a stale link: keep the counterexample
    path.push({label: e.label, state: e.next});
  }
  state.path = path;
  state.at = Math.max(0, Math.min(path.length - 1, +(q.get('at') || path.length - 1)));
}

// ---- wiring -------------------------------------------------------------------
function init() {
  if (D.schema !== 1) throw new Error('capsim report: unknown data schema ' + D.schema);
  patterns();
  readHash();
  render();
  const panels = $('panels');
  panels.addEventListener('mousemove', showTip);
  panels.addEventListener('mouseleave', () => { $('tooltip').hidden = true; });
  panels.addEventListener('click', (ev) => {
    const target = ev.target.closest('.op');
    if (!target) {
      const svg = ev.target.closest('svg.lanes');
      if (svg) setTime(T(ev.clientX - svg.getBoundingClientRect().left));
      return;
    }
    const ri = +target.dataset.r;
    const id = +target.dataset.op;
    const run = D.runs[ri];
    select(run.violSet.has(id) ? {run: ri, kind: 'violation'} : {run: ri, kind: 'op', id});
  });
  $('time').addEventListener('input', (ev) => setTime(+ev.target.value));
  $('jump').addEventListener('click', jumpToFirstViolation);
  $('zoom-in').addEventListener('click', () => zoom(0.5));
  $('zoom-out').addEventListener('click', () => zoom(2));
  $('zoom-all').addEventListener('click', () => { state.view = [0, D.end]; renderPanels(); });
  $('show-messages').addEventListener('change', (ev) => {
    state.showMessages = ev.target.checked;
    renderStatic();  // the legend lists the message kinds while arrows are shown
    renderPanels();
  });
  $('lang').addEventListener('change', (ev) => { state.lang = ev.target.value; render(); });
  $('explore').addEventListener('click', exploreClick);
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
    if (ev.target.tagName === 'SELECT') return;
    ev.preventDefault();
    step(ev.key === 'ArrowRight' ? 1 : -1);
  });
  window.addEventListener('hashchange', () => { readHash(); render(); });
  let resize = null;
  window.addEventListener('resize', () => {
    clearTimeout(resize);
    resize = setTimeout(renderPanels, 150);
  });
  window.capsimReport = {data: D, setTime, step, select, jumpToFirstViolation,
    get state() { return state; }, ready: performance.now()};
  document.body.dataset.ready = 'true';
}
init();
