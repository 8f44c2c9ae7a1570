package io.lethe.dev.demo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's live status page: per-region lag and latency over the last five minutes, drawn in
 * plain SVG (axes with units, a time scale in minutes before now) by a few lines of JavaScript
 * that poll {@code /status.json} every second. Figures are in a table, each with its unit; the
 * latency percentiles are those of the last five seconds, like the console's lines.
 */
public final class StatusPage {
    private static final int POINTS = 300;
    private final Map<String, Deque<RegionView.Sample>> history = new LinkedHashMap<>();
    private volatile long commits;
    private volatile long reads;
    private volatile Readers.ShadowFigure shadow = Readers.ShadowFigure.NONE;

    public StatusPage(List<String> regions) {
        regions.forEach(r -> history.put(r, new ArrayDeque<>()));
    }

    public synchronized void record(String region, RegionView.Sample sample) {
        Deque<RegionView.Sample> points = history.get(region);
        points.addLast(sample);
        while (points.size() > POINTS) {
            points.removeFirst();
        }
    }

    public void totals(long committed, long read, Readers.ShadowFigure shadowReads) {
        this.commits = committed;
        this.reads = read;
        this.shadow = shadowReads;
    }

    public synchronized String json() {
        Readers.ShadowFigure sr = shadow;
        StringBuilder sb = new StringBuilder("{\"commits\":").append(commits).append(",\"reads\":").append(reads)
                .append(",\"sampled\":").append(sr.sampled()).append(",\"stale\":").append(sr.stale())
                .append(",\"stalePerMillion\":").append(String.format(Locale.ROOT, "%.0f", sr.perMillion())).append(",\"regions\":[");
        boolean firstRegion = true;
        for (Map.Entry<String, Deque<RegionView.Sample>> e : history.entrySet()) {
            sb.append(firstRegion ? "" : ",").append("{\"name\":\"").append(e.getKey()).append("\",\"points\":[");
            firstRegion = false;
            List<String> points = new ArrayList<>();
            for (RegionView.Sample s : e.getValue()) {
                points.add(String.format(Locale.ROOT, "[%d,%.1f,%s,%s,%.0f,%s,%d,%s,%s]", s.epochMillis(), s.appliedPerSecond(),
                        num(s.p50Millis()), num(s.p99Millis()), s.lagRecords(), num(s.endToEndSeconds()), s.appliedTotal(),
                        num(s.captureSeconds()), num(s.streamsSeconds())));
            }
            sb.append(String.join(",", points)).append("]}");
        }
        return sb.append("]}").toString();
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.2f", v);
    }

    public String html() {
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>Lethe demo</title>
                <style>
                  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #fafafa; color: #222; }
                  h1 { font-size: 1.3rem; } .totals { color: #555; margin-bottom: 1rem; }
                  .regions { display: flex; flex-wrap: wrap; gap: 1rem; }
                  .region { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .8rem; width: 520px; }
                  .region h2 { font-size: 1.1rem; margin: 0 0 .4rem; }
                  table.figures { border-collapse: collapse; font-variant-numeric: tabular-nums; width: 100%; }
                  table.figures td { padding: .1rem .4rem .1rem 0; white-space: nowrap; } table.figures td.n { text-align: right; font-weight: bold; }
                  table.figures td.u { color: #666; padding-right: 1rem; }
                  svg { background: #fcfcfc; border: 1px solid #eee; margin-top: .2rem; }
                  svg text { font-size: 10px; fill: #666; } svg line.grid { stroke: #e4e4e4; }
                  .p50 { stroke: #1f77b4; } .p99 { stroke: #d62728; } .lag { stroke: #2ca02c; }
                  polyline { fill: none; stroke-width: 1.5; } .legend { font-size: .8rem; color: #444; margin-top: .6rem; }
                  .key { display: inline-block; width: 1.2em; height: 2px; vertical-align: middle; margin: 0 .2em; }
                </style></head>
                <body>
                <h1>Lethe demo: commit in PostgreSQL &rarr; invalidation applied in each region's Redis</h1>
                <div class="totals">commits <b id="commits">0</b> &middot; cache reads <b id="reads">0</b> &middot;
                  shadow reads <b id="sampled">0</b>, confirmed stale <b id="stale">0</b> (<b id="spm">0</b> per million)
                  &middot; refreshed every second; charts show the last five minutes</div>
                <div class="regions" id="regions"></div>
                <script>
                const W = 470, H = 120, LEFT = 58, BOTTOM = 16, TOP = 6, RIGHT = 6;
                const fmt = new Intl.NumberFormat('en-US');
                function card(name) {
                  const id = 'region-' + name;
                  let el = document.getElementById(id);
                  if (el) return el;
                  el = document.createElement('div');
                  el.className = 'region'; el.id = id;
                  el.innerHTML = '<h2></h2><table class="figures">'
                    + '<tr><td>applied, total</td><td class="n applied">0</td><td class="u">invalidations</td>'
                    + '<td>rate</td><td class="n rate">0</td><td class="u">/s</td></tr>'
                    + '<tr><td>p50, last 5 s</td><td class="n p50v">-</td><td class="u">ms</td>'
                    + '<td>p99</td><td class="n p99v">-</td><td class="u">ms</td></tr>'
                    + '<tr><td>end-to-end lag</td><td class="n e2ev">-</td><td class="u">s</td>'
                    + '<td>backlog</td><td class="n lagv">0</td><td class="u">records</td></tr>'
                    + '<tr><td>capture lag</td><td class="n capv">-</td><td class="u">s</td>'
                    + '<td>streams lag</td><td class="n strv">-</td><td class="u">s</td></tr></table>'
                    + '<div class="legend">commit &rarr; applied latency, ms: <span class="key" style="background:#1f77b4"></span>p50 '
                    + '<span class="key" style="background:#d62728"></span>p99 (each point: the last 5 s)</div>'
                    + '<svg class="latency" width="' + W + '" height="' + H + '"></svg>'
                    + '<div class="legend">end-to-end lag, s: <span class="key" style="background:#2ca02c"></span>'
                    + 'how far behind the primary the cache of this region is, every stage counted</div>'
                    + '<svg class="lagchart" width="' + W + '" height="' + H + '"></svg>';
                  el.querySelector('h2').textContent = name;
                  document.getElementById('regions').appendChild(el);
                  return el;
                }
                const NS = 'http://www.w3.org/2000/svg';
                function svgEl(tag, attrs, text) {
                  const e = document.createElementNS(NS, tag);
                  for (const k in attrs) e.setAttribute(k, attrs[k]);
                  if (text != null) e.textContent = text;
                  return e;
                }
                function nice(max) {
                  const step = Math.pow(10, Math.floor(Math.log10(max)));
                  for (const m of [1, 2, 5, 10]) if (m * step >= max) return m * step;
                  return 10 * step;
                }
                // a time chart of the last five minutes: y axis from 0 with its unit, x axis in minutes before now
                function chart(svg, pts, series, unit) {
                  while (svg.firstChild) svg.removeChild(svg.firstChild);
                  const now = pts.length ? pts[pts.length - 1][0] : Date.now(), span = 300000;
                  const top = nice(Math.max(1e-3, ...pts.flatMap(p => series.map(s => p[s.index] || 0))));
                  const x = t => LEFT + (W - LEFT - RIGHT) * (1 - (now - t) / span);
                  const y = v => H - BOTTOM - (H - BOTTOM - TOP) * Math.min(v, top) / top;
                  for (const f of [0, 0.5, 1]) {
                    svg.appendChild(svgEl('line', {class: 'grid', x1: LEFT, x2: W - RIGHT, y1: y(top * f), y2: y(top * f)}));
                    svg.appendChild(svgEl('text', {class: 'ytick', x: LEFT - 4, y: y(top * f) + 3, 'text-anchor': 'end'},
                      (top * f >= 10 ? Math.round(top * f) : +(top * f).toPrecision(2)) + ' ' + unit));
                  }
                  for (const m of [5, 4, 3, 2, 1, 0]) {
                    svg.appendChild(svgEl('text', {class: 'xtick', x: x(now - m * 60000), y: H - 3, 'text-anchor': m === 5 ? 'start' : m === 0 ? 'end' : 'middle'},
                      m === 0 ? 'now' : '-' + m + ' min'));
                  }
                  for (const s of series) {
                    const line = pts.filter(p => p[s.index] != null && now - p[0] <= span)
                      .map(p => x(p[0]).toFixed(1) + ',' + y(p[s.index]).toFixed(1)).join(' ');
                    svg.appendChild(svgEl('polyline', {class: s.cls, points: line}));
                  }
                }
                const fixed = (v, d) => v == null ? '-' : v.toFixed(d);
                async function refresh() {
                  try {
                    const s = await (await fetch('/status.json', {cache: 'no-store'})).json();
                    document.getElementById('commits').textContent = fmt.format(s.commits);
                    document.getElementById('reads').textContent = fmt.format(s.reads);
                    document.getElementById('sampled').textContent = fmt.format(s.sampled);
                    document.getElementById('stale').textContent = fmt.format(s.stale);
                    document.getElementById('spm').textContent = s.stalePerMillion;
                    for (const r of s.regions) {
                      const el = card(r.name), pts = r.points, last = pts[pts.length - 1];
                      if (!last) continue;
                      el.querySelector('.applied').textContent = fmt.format(last[6]);
                      el.querySelector('.rate').textContent = fmt.format(Math.round(last[1]));
                      el.querySelector('.p50v').textContent = fixed(last[2], 1);
                      el.querySelector('.p99v').textContent = fixed(last[3], 1);
                      el.querySelector('.lagv').textContent = fmt.format(last[4]);
                      el.querySelector('.e2ev').textContent = fixed(last[5], 2);
                      el.querySelector('.capv').textContent = fixed(last[7], 2);
                      el.querySelector('.strv').textContent = fixed(last[8], 2);
                      chart(el.querySelector('.latency'), pts, [{index: 2, cls: 'p50'}, {index: 3, cls: 'p99'}], 'ms');
                      chart(el.querySelector('.lagchart'), pts, [{index: 5, cls: 'lag'}], 's');
                    }
                  } catch (e) { /* the demo is stopping */ }
                }
                refresh();
                setInterval(refresh, 1000);
                </script>
                </body></html>
                """;
    }
}
