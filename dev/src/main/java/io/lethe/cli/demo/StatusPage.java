package io.lethe.cli.demo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's live status page: per-region lag and latency over the last five minutes, drawn in
 * plain SVG by a few lines of JavaScript that poll {@code /status.json} every second.
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
                  .region { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .8rem; width: 420px; }
                  .region h2 { font-size: 1.1rem; margin: 0 0 .4rem; }
                  .figures span { display: inline-block; min-width: 8rem; margin-right: .4rem; font-variant-numeric: tabular-nums; }
                  svg { background: #fcfcfc; border: 1px solid #eee; margin-top: .4rem; }
                  .p50 { stroke: #1f77b4; } .p99 { stroke: #d62728; } .lag { stroke: #2ca02c; }
                  polyline { fill: none; stroke-width: 1.5; } .legend { font-size: .8rem; color: #666; }
                </style></head>
                <body>
                <h1>Lethe demo: commit &rarr; applied, per region</h1>
                <div class="totals">commits <b id="commits">0</b> &middot; cache reads <b id="reads">0</b> &middot;
                  shadow reads <b id="sampled">0</b>, confirmed stale <b id="stale">0</b> (<b id="spm">0</b> per million)
                  &middot; refreshed every second</div>
                <div class="regions" id="regions"></div>
                <script>
                const W = 400, H = 110;
                function card(name) {
                  const id = 'region-' + name;
                  let el = document.getElementById(id);
                  if (el) return el;
                  el = document.createElement('div');
                  el.className = 'region'; el.id = id;
                  el.innerHTML = '<h2>' + name + '</h2><div class="figures">'
                    + '<span>applied <b class="applied">0</b></span><span><b class="rate">0</b> /s</span>'
                    + '<span>lag <b class="lagv">0</b> rec</span><br>'
                    + '<span>end-to-end lag <b class="e2ev">-</b> s</span><span>capture <b class="capv">-</b> s</span>'
                    + '<span>streams <b class="strv">-</b> s</span><br>'
                    + '<span>p50 <b class="p50v">-</b> ms</span><span>p99 <b class="p99v">-</b> ms</span></div>'
                    + '<div class="legend">latency, ms (blue p50, red p99)</div>'
                    + '<svg class="latency" width="' + W + '" height="' + H + '"><polyline class="p50"/><polyline class="p99"/></svg>'
                    + '<div class="legend">end-to-end lag, seconds (every stage: commit in PostgreSQL to applied here)</div>'
                    + '<svg class="lagchart" width="' + W + '" height="' + H + '"><polyline class="lag"/></svg>';
                  document.getElementById('regions').appendChild(el);
                  return el;
                }
                function line(points, index, max) {
                  const n = points.length;
                  return points.map((p, i) => {
                    const x = n < 2 ? 0 : i * (W - 4) / (n - 1) + 2;
                    const v = p[index] == null ? 0 : p[index];
                    return x.toFixed(1) + ',' + (H - 4 - v * (H - 8) / max).toFixed(1);
                  }).join(' ');
                }
                async function refresh() {
                  try {
                    const s = await (await fetch('/status.json', {cache: 'no-store'})).json();
                    document.getElementById('commits').textContent = s.commits;
                    document.getElementById('reads').textContent = s.reads;
                    document.getElementById('sampled').textContent = s.sampled;
                    document.getElementById('stale').textContent = s.stale;
                    document.getElementById('spm').textContent = s.stalePerMillion;
                    for (const r of s.regions) {
                      const el = card(r.name), pts = r.points, last = pts[pts.length - 1];
                      if (!last) continue;
                      el.querySelector('.applied').textContent = last[6];
                      el.querySelector('.rate').textContent = Math.round(last[1]);
                      el.querySelector('.p50v').textContent = last[2] == null ? '-' : last[2].toFixed(1);
                      el.querySelector('.p99v').textContent = last[3] == null ? '-' : last[3].toFixed(1);
                      el.querySelector('.lagv').textContent = last[4];
                      el.querySelector('.e2ev').textContent = last[5] == null ? '-' : last[5].toFixed(2);
                      el.querySelector('.capv').textContent = last[7] == null ? '-' : last[7].toFixed(2);
                      el.querySelector('.strv').textContent = last[8] == null ? '-' : last[8].toFixed(2);
                      const maxLat = Math.max(1, ...pts.map(p => p[3] || 0));
                      const maxLag = Math.max(1, ...pts.map(p => p[5] || 0));
                      el.querySelector('.p50').setAttribute('points', line(pts, 2, maxLat));
                      el.querySelector('.p99').setAttribute('points', line(pts, 3, maxLat));
                      el.querySelector('.lag').setAttribute('points', line(pts, 5, maxLag));
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
