// A small lineage graph in hand-drawn SVG: inputs (dataset versions, the parent run) on the left, the run in the
// middle, its outputs (artifact folders and files) on the right, with arrows in the direction data flowed.
// Every label is an SVG text node's textContent: names typed by users never become markup.
const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 210;
const NODE_H = 44;
const GAP_Y = 14;
const COLUMN_GAP = 90;
const PAD = 12;

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** `text` cut to fit a node (SVG text does not wrap); the whole text is the node's tooltip. */
function clip(text, max = 28) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function drawNode(parent, node, x, y) {
  const group = svg("g", { class: `lineage-node lineage-${node.kind}`, "data-kind": node.kind });
  const title = svg("title");
  title.textContent = node.title || node.label;
  group.append(title);
  group.append(svg("rect", { x, y, width: NODE_W, height: NODE_H, rx: 6 }));
  const label = svg("text", { x: x + 10, y: y + 18, class: "lineage-label" });
  label.textContent = clip(node.label);
  const detail = svg("text", { x: x + 10, y: y + 34, class: "lineage-detail" });
  detail.textContent = clip(node.detail || "", 34);
  group.append(label, detail);
  if (node.href) {
    const link = svg("a", { href: node.href });
    link.append(group);
    parent.append(link);
  } else parent.append(group);
}

function column(count) {
  return count * NODE_H + Math.max(0, count - 1) * GAP_Y;
}

/** Draw `data` ({run, inputs: [node], outputs: [node]}; node: {kind, label, detail, href, title}) into `box`. */
export function drawLineage(box, data) {
  const height = Math.max(column(data.inputs.length), column(data.outputs.length), NODE_H) + 2 * PAD;
  const width = 3 * NODE_W + 2 * COLUMN_GAP + 2 * PAD;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "lineage-graph" });
  root.setAttribute("role", "img");
  root.setAttribute("aria-label", `Lineage of run ${data.run.label}: ${data.inputs.length} inputs, ${data.outputs.length} outputs`);
  const defs = svg("defs");
  const marker = svg("marker", { id: "lineage-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "lineage-arrowhead" }));
  defs.append(marker);
  root.append(defs);

  const xs = [PAD, PAD + NODE_W + COLUMN_GAP, PAD + 2 * (NODE_W + COLUMN_GAP)];
  const runY = (height - NODE_H) / 2;
  const edges = svg("g", { class: "lineage-edges" });
  root.append(edges);
  const place = (nodes) => {
    const top = (height - column(nodes.length)) / 2;
    return nodes.map((node, i) => ({ node, y: top + i * (NODE_H + GAP_Y) }));
  };
  const curve = (x1, y1, x2, y2) => {
    const mid = (x1 + x2) / 2;
    return `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
  };
  for (const { node, y } of place(data.inputs)) {
    edges.append(svg("path", { d: curve(xs[0] + NODE_W, y + NODE_H / 2, xs[1], runY + NODE_H / 2), "marker-end": "url(#lineage-arrow)" }));
    drawNode(root, node, xs[0], y);
  }
  for (const { node, y } of place(data.outputs)) {
    edges.append(svg("path", { d: curve(xs[1] + NODE_W, runY + NODE_H / 2, xs[2], y + NODE_H / 2), "marker-end": "url(#lineage-arrow)" }));
    drawNode(root, node, xs[2], y);
  }
  drawNode(root, data.run, xs[1], runY);
  box.replaceChildren(root);
}
