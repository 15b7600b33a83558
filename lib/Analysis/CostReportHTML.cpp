//===- CostReportHTML.cpp - The cost report as one HTML page --------------===//
//
// The page embeds the reports as JSON and draws the table, the totals and
// the per-layer bar charts (inline SVG) with a small script: one file to
// mail or attach to a pull request, no network needed to view it.
//
//===----------------------------------------------------------------------===//

#include "pith/Analysis/CostModel.h"

#include "llvm/Support/JSON.h"

using namespace pith;

namespace {
/// JSON inside <script> must not close the element.
std::string scriptSafe(const std::string &json) {
  std::string out;
  for (size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/')
      out += "<\\/", ++i;
    else
      out += json[i];
  }
  return out;
}

const char *kPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pith report</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.total td { font-weight: bold; border-top: 2px solid #444; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }
</style>
</head>
<body>
<h1>Pith report</h1>
<div id="totals"></div>
<div id="tables"></div>
<h2>Parameters per layer</h2><div class="legend" id="legend-params"></div><div id="chart-params"></div>
<h2>MFLOPs per layer</h2><div class="legend" id="legend-flops"></div><div id="chart-flops"></div>
<script id="data" type="application/json">@DATA@</script>
<script>
const models = JSON.parse(document.getElementById('data').textContent);
const colors = ['#4e79a7', '#f28e2b'];
const fmt = n => n.toLocaleString('en-US');
function totalsLine(m) {
  const t = m.report.total;
  return `<p class="total-line"><b>${m.title}</b>: parameters <span class="parameters">${t.parameters}</span>` +
    `, weight bytes <span class="weight-bytes">${t.weight_bytes}</span>` +
    `, MACs <span class="macs">${t.macs}</span>, FLOPs <span class="flops">${t.flops}</span>` +
    `, peak activation bytes ${m.report.peak_activation_bytes}</p>`;
}
document.getElementById('totals').innerHTML = models.map(totalsLine).join('');
for (const m of models) {
  let html = `<h2>${m.title}</h2><table><tr><th>layer</th><th>nodes</th><th>parameters</th>` +
    `<th>weight bytes</th><th>MACs</th><th>FLOPs</th><th>activation bytes</th></tr>`;
  const row = (name, c, cls) => `<tr class="${cls}"><td>${name}</td><td>${fmt(c.nodes)}</td>` +
    `<td>${fmt(c.parameters)}</td><td>${fmt(c.weight_bytes)}</td><td>${fmt(c.macs)}</td>` +
    `<td>${fmt(c.flops)}</td><td>${fmt(c.activation_bytes)}</td></tr>`;
  for (const l of m.report.layers) html += row(l.layer, l, 'layer');
  html += row('total', m.report.total, 'total') + '</table>';
  document.getElementById('tables').insertAdjacentHTML('beforeend', html);
}
function chart(key, scale, id) {
  const layers = [];
  for (const m of models) for (const l of m.report.layers) if (!layers.includes(l.layer)) layers.push(l.layer);
  const value = (m, name) => { const l = m.report.layers.find(x => x.layer === name); return l ? l[key] / scale : 0; };
  const max = Math.max(1e-9, ...layers.flatMap(name => models.map(m => value(m, name))));
  const barH = 12, gap = 6, labelW = 260, width = 900;
  const rowH = models.length * barH + gap;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${layers.length * rowH + 10}">`;
  layers.forEach((name, i) => {
    const y = i * rowH + 5;
    svg += `<text x="0" y="${y + barH}" font-size="11">${name}</text>`;
    models.forEach((m, j) => {
      const v = value(m, name), w = (width - labelW - 80) * v / max;
      svg += `<rect class="bar" x="${labelW}" y="${y + j * barH}" width="${w}" height="${barH - 2}" fill="${colors[j % 2]}"><title>${m.title}: ${v}</title></rect>`;
      svg += `<text x="${labelW + w + 4}" y="${y + j * barH + barH - 3}" font-size="10">${+v.toFixed(3)}</text>`;
    });
  });
  document.getElementById('chart-' + id).innerHTML = svg + '</svg>';
  document.getElementById('legend-' + id).innerHTML =
    models.map((m, j) => `<span style="background:${colors[j % 2]}"></span>${m.title}`).join('');
}
chart('parameters', 1, 'params');
chart('flops', 1e6, 'flops');
document.body.setAttribute('data-rendered', 'yes');
</script>
</body>
</html>
)HTML";
} // namespace

void pith::printCostReportHTML(
    const std::vector<std::pair<std::string, CostReport>> &models, llvm::raw_ostream &os) {
  std::string data = "[";
  for (size_t i = 0; i < models.size(); ++i) {
    std::string report;
    llvm::raw_string_ostream reportStream(report);
    printCostReportJSON(models[i].second, reportStream);
    std::string title;
    llvm::raw_string_ostream titleStream(title);
    titleStream << llvm::json::Value(models[i].first);
    data += (i ? "," : "") + std::string("{\"title\": ") + title + ", \"report\": " + report + "}";
  }
  data += "]";
  llvm::StringRef page(kPage);
  auto [head, tail] = page.split("@DATA@");
  os << head << scriptSafe(data) << tail;
}
