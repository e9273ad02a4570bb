/**
 * The dependency graph as SVG: streams in columns by depth (a stream sits right of everything it
 * depends on), edges from dependency to dependent. Each node says where it stands on the
 * frontier: done, working, ready (every dependency done), or waiting on one.
 */
import { s } from "./dom.ts";
import type { Stream } from "./types.ts";

export type Frontier = "completed" | "in_progress" | "ready" | "waiting" | "blocked";

export function frontierOf(st: Stream, done: ReadonlySet<string>): Frontier {
  if (st.status === "completed") return "completed";
  if (st.status === "blocked") return "blocked";
  if (st.status === "in_progress") return "in_progress";
  return st.dependencies.every((d) => done.has(d)) ? "ready" : "waiting";
}

const W = 150;
const H = 44;
const GAP_X = 60;
const GAP_Y = 18;

export function dependencyGraph(streams: readonly Stream[], archivedDone: readonly string[]): SVGElement {
  const byId = new Map(streams.map((st) => [st.streamId, st]));
  const done = new Set([...archivedDone, ...streams.filter((st) => st.status === "completed").map((st) => st.streamId)]);
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle: the plan's validator refuses them, but never loop here
    seen.add(id);
    const deps = byId.get(id)?.dependencies.filter((d) => byId.has(d)) ?? [];
    const d = deps.length ? 1 + Math.max(...deps.map((x) => depthOf(x, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  const columns: Stream[][] = [];
  for (const st of streams) (columns[depthOf(st.streamId, new Set())] ??= []).push(st);
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, i) => col.forEach((st, j) => pos.set(st.streamId, { x: 10 + i * (W + GAP_X), y: 10 + j * (H + GAP_Y) })));
  const width = 20 + Math.max(1, columns.length) * (W + GAP_X) - GAP_X;
  const height = 20 + Math.max(1, ...columns.map((c) => c.length)) * (H + GAP_Y) - GAP_Y;

  const edges = streams.flatMap((st) =>
    st.dependencies
      .filter((d) => pos.has(d))
      .map((d) => {
        const a = pos.get(d)!;
        const b = pos.get(st.streamId)!;
        const met = done.has(d);
        return s("path", {
          class: `edge ${met ? "edge-met" : "edge-unmet"}`,
          "data-edge": `${d}->${st.streamId}`,
          d: `M${a.x + W},${a.y + H / 2} C${a.x + W + GAP_X / 2},${a.y + H / 2} ${b.x - GAP_X / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`,
          "marker-end": "url(#arrow)",
        });
      }),
  );
  const nodes = streams.map((st) => {
    const p = pos.get(st.streamId)!;
    const f = frontierOf(st, done);
    const label = `${st.streamId}: ${st.streamName} — ${f.replace("_", " ")}, ${st.completedTasks}/${st.totalTasks} tasks`;
    return s(
      "a",
      { href: `#/stream/${encodeURIComponent(st.streamId)}`, class: `node node-${f}`, "data-node": st.streamId, "data-frontier": f, "aria-label": label },
      s("title", {}, label),
      s("rect", { x: p.x, y: p.y, width: W, height: H, rx: 6 }),
      s("text", { x: p.x + 10, y: p.y + 18, class: "node-id" }, st.streamId),
      s("text", { x: p.x + 10, y: p.y + 34, class: "node-sub" }, `${f.replace("_", " ")} · ${st.completedTasks}/${st.totalTasks}`),
    );
  });
  return s(
    "svg",
    { id: "graph", role: "group", "aria-label": "Stream dependency graph", viewBox: `0 0 ${width} ${height}`, width, height },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }))),
    edges,
    nodes,
  );
}
