// Plots drawn in the page as SVG (no library, no external service).

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

// values: numbers or null (no data in that bucket); a gap breaks the line.
function path(values, width, height, pad, max) {
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = false;
      return;
    }
    const x = pad + i * step;
    const y = height - pad - (max > 0 ? (v / max) * (height - 2 * pad) : 0);
    d += `${pen ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)} `;
    pen = true;
  });
  return d.trim();
}

export function sparkline(values, { width = 120, height = 28, label = "trend" } = {}) {
  const max = Math.max(1, ...values.filter((v) => v !== null));
  const root = svg("svg", { class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  root.append(svg("title"));
  root.firstChild.textContent = label;
  root.append(svg("path", { d: path(values, width, height, 2, max), class: "line" }));
  return root;
}

// A titled line plot with a y axis (0..max) and first/last x labels.
export function linePlot(values, { title, max, unit = "", first = "", last = "", width = 420, height = 160 } = {}) {
  const top = max ?? Math.max(1, ...values.filter((v) => v !== null));
  const pad = 28;
  const root = svg("svg", { class: "plot", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  const caption = svg("title");
  caption.textContent = title;
  root.append(caption);
  root.append(svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "axis" }));
  root.append(svg("line", { x1: pad, y1: pad, x2: pad, y2: height - pad, class: "axis" }));
  const labels = [
    [4, pad + 4, `${top}${unit}`],
    [4, height - pad, `0${unit}`],
    [pad, height - 8, first],
    [width - pad, height - 8, last, "end"],
    [pad + 6, 16, title],
  ];
  for (const [x, y, text, anchor = "start"] of labels) {
    const node = svg("text", { x, y, class: "label", "text-anchor": anchor });
    node.textContent = text;
    root.append(node);
  }
  root.append(svg("path", { d: path(values, width, height, pad, top), class: "line" }));
  // A dot per bucket with data, so a lone hour still shows.
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const y = height - pad - (top > 0 ? (v / top) * (height - 2 * pad) : 0);
    root.append(svg("circle", { cx: (pad + i * step).toFixed(1), cy: y.toFixed(1), r: 2.5, class: "dot" }));
  });
  const count = values.filter((v) => v !== null && v !== undefined).length;
  root.dataset.points = String(count);
  return root;
}
