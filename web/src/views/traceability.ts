// Traceability screen of a module: its coverage (GET /modules/{m}/coverage) and a matrix
// against another module of the same project (GET /traceability-matrix), suspect cells marked.

import type { Coverage, MatrixCell, TraceabilityMatrix } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatPct } from "../lib/format";
import { hrefOf, navigate } from "../router";
import { empty, field, loading, moduleCrumbs, type Ctx } from "../ui/common";

export interface CellInfo {
  links: number;
  suspect: boolean;
}

/** Cells by `source|target`; several links between one pair (other types) count together. */
export function indexCells(cells: MatrixCell[]): Map<string, CellInfo> {
  const out = new Map<string, CellInfo>();
  for (const c of cells) {
    const key = `${c.source_id}|${c.target_id}`;
    const cur = out.get(key) ?? { links: 0, suspect: false };
    out.set(key, { links: cur.links + 1, suspect: cur.suspect || c.suspect });
  }
  return out;
}

/** Source and target objects that take part in no cell (gaps in the trace). */
export function untraced(m: TraceabilityMatrix): { sources: Set<string>; targets: Set<string> } {
  const s = new Set(m.cells.map((c) => c.source_id));
  const t = new Set(m.cells.map((c) => c.target_id));
  return {
    sources: new Set(m.source_objects.filter((o) => !s.has(o.id)).map((o) => o.id)),
    targets: new Set(m.target_objects.filter((o) => !t.has(o.id)).map((o) => o.id)),
  };
}

export function coverageSummary(c: Coverage): HTMLElement {
  const meter = (label: string, count: number, pct: number, hint: string) =>
    h(
      "div",
      { class: "coverage-item", title: hint },
      h("div", { class: "coverage-label" }, label),
      h("meter", { min: 0, max: 100, value: pct, "aria-label": label }),
      h("div", { class: "coverage-value" }, formatPct(pct), h("small", { class: "muted" }, ` ${count} of ${c.total_objects}`)),
    );
  return h(
    "section",
    { class: "coverage", "aria-label": "Coverage" },
    h("h2", null, "Coverage"),
    c.total_objects === 0
      ? empty("The module has no objects.")
      : h(
          "div",
          { class: "coverage-grid" },
          meter("Upstream", c.with_upstream, c.upstream_pct, "objects that are the target of a link"),
          meter("Downstream", c.with_downstream, c.downstream_pct, "objects that are the source of a link"),
          meter("Any link", c.with_any_link, c.any_link_pct, "objects with at least one link"),
        ),
  );
}

export function matrixTable(m: TraceabilityMatrix, objectHref: (moduleSide: "source" | "target", id: string) => string): HTMLElement {
  if (!m.source_objects.length || !m.target_objects.length) return empty("One of the modules has no objects.");
  const cells = indexCells(m.cells);
  const gaps = untraced(m);
  const suspectCount = m.cells.filter((c) => c.suspect).length;
  const head = h(
    "tr",
    null,
    h("th", { scope: "col", class: "corner" }, "source ↓ / target →"),
    m.target_objects.map((t) =>
      h("th", { scope: "col", class: gaps.targets.has(t.id) ? "untraced" : null, title: t.heading ?? "" }, h("a", { href: objectHref("target", t.id), dataset: { route: "1" } }, t.level)),
    ),
  );
  const rows = m.source_objects.map((s) =>
    h(
      "tr",
      { class: gaps.sources.has(s.id) ? "untraced" : null },
      h("th", { scope: "row" }, h("a", { href: objectHref("source", s.id), dataset: { route: "1" } }, h("span", { class: "level" }, s.level), " ", s.heading ?? "")),
      m.target_objects.map((t) => {
        const c = cells.get(`${s.id}|${t.id}`);
        if (!c) return h("td", null);
        return h(
          "td",
          { class: c.suspect ? "linked suspect" : "linked", title: `${s.level} → ${t.level}${c.links > 1 ? ` (${c.links} links)` : ""}${c.suspect ? " — suspect" : ""}` },
          c.suspect ? "⚠" : "●",
        );
      }),
    ),
  );
  return h(
    "div",
    null,
    h(
      "p",
      { class: "muted" },
      `${m.cells.length} link${m.cells.length === 1 ? "" : "s"}, ${suspectCount} suspect; ${gaps.sources.size} source and ${gaps.targets.size} target objects untraced.`,
    ),
    h("div", { class: "matrix-wrap" }, h("table", { class: "matrix" }, h("thead", null, head), h("tbody", null, rows))),
  );
}

export async function renderTraceability(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string, target?: string, type?: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module, modules, linkTypes, coverage] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    ctx.api.listModules(p).then((pg) => pg.items),
    ctx.api.linkTypes(),
    ctx.api.coverage(m, type),
  ]);
  const targetSel = h(
    "select",
    { name: "target" },
    h("option", { value: "" }, "— choose a module —"),
    modules.map((mod) => h("option", { value: mod.id, selected: mod.id === target }, mod.id === m ? `${mod.name} (itself)` : mod.name)),
  );
  const typeSel = h(
    "select",
    { name: "type" },
    h("option", { value: "" }, "all link types"),
    linkTypes.map((t) => h("option", { value: t.id, selected: t.id === type }, t.name)),
  );
  const go = () => navigate({ name: "traceability", ws, p, m, target: targetSel.value || undefined, type: typeSel.value || undefined });
  targetSel.addEventListener("change", go);
  typeSel.addEventListener("change", go);
  const matrixSlot = h("section", { class: "matrix-section", "aria-label": "Traceability matrix" });
  const targetModule = modules.find((x) => x.id === target);
  replace(
    root,
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Traceability"),
    h("h1", null, `Traceability of ${module.name}`),
    h("form", { class: "inline-form toolbar" }, field("Link type", typeSel), field("Matrix against", targetSel)),
    coverageSummary(coverage),
    matrixSlot,
  );
  if (!target) {
    replace(matrixSlot, h("h2", null, "Matrix"), empty("Choose a module of this project to see the matrix."));
    return;
  }
  replace(matrixSlot, h("h2", null, "Matrix"), loading());
  const matrix = await ctx.api.traceabilityMatrix(m, target, type);
  const href = (side: "source" | "target", id: string) => hrefOf({ name: "module", ws, p, m: side === "source" ? m : target, object: id });
  replace(matrixSlot, h("h2", null, `Matrix: ${module.name} → ${targetModule?.name ?? target}`), matrixTable(matrix, href));
}
