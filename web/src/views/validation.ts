// Module validation report (GET /modules/{m}/validate): rule findings by severity, each object
// issue linking to its object in the document view.

import type { Severity, ValidationIssue } from "../api/types";
import { h, replace } from "../lib/dom";
import { empty, link, loading, moduleCrumbs, type Ctx } from "../ui/common";

const ORDER: Severity[] = ["error", "warning", "info"];

/** Issue counts per severity (every severity present, zero when none). */
export function countBySeverity(issues: ValidationIssue[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const i of issues) if (i.severity in out) out[i.severity]++;
  return out;
}

export async function renderValidation(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module, report] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    ctx.api.validateModule(m),
  ]);
  const counts = countBySeverity(report.issues);
  const shown = new Set<Severity>(ORDER);
  const list = h("ol", { class: "issues" });
  const draw = (): void =>
    replace(
      list,
      report.issues
        .filter((i) => shown.has(i.severity))
        .map((i) =>
          h(
            "li",
            { class: `issue sev-${i.severity}`, dataset: { rule: i.rule } },
            h("span", { class: `badge sev-${i.severity}` }, i.severity),
            " ",
            h("code", { class: "rule" }, i.rule),
            " ",
            i.object_id ? link({ name: "module", ws, p, m, object: i.object_id }, i.message) : i.message,
          ),
        ),
    );
  const toggles = ORDER.map((sev) => {
    const box = h("input", { type: "checkbox", checked: true, name: sev });
    box.addEventListener("change", () => {
      if (box.checked) shown.add(sev);
      else shown.delete(sev);
      draw();
    });
    return h("label", { class: `sev-toggle sev-${sev}` }, box, ` ${counts[sev]} ${sev}${counts[sev] === 1 ? "" : "s"}`);
  });
  draw();
  replace(
    root,
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Validation"),
    h("h1", null, `Validation of ${module.name}`),
    h("p", { class: "muted" }, `${report.object_count} objects and ${report.link_count} links checked.`),
    report.issues.length ? [h("div", { class: "toolbar", role: "group", "aria-label": "Severities shown" }, toggles), list] : empty("No issues found."),
  );
}
