// Impact tab of the object panel: everything reachable from the object over links
// (GET /object-impact), grouped by distance, with suspect discovering edges marked.

import type { ImpactResult, ReqObject } from "../api/types";
import { h, replace } from "../lib/dom";
import { hrefOf } from "../router";
import { busy, field, loading, type Ctx } from "../ui/common";
import type { ModuleData } from "./module";

type Direction = "forward" | "backward" | "both";

/** Objects of an impact result grouped by depth, each with whether the edge that reached it is suspect. */
export function impactByDepth(res: ImpactResult): Map<number, { id: string; level: string; heading: string | null; module_id: string; link_type: string; suspect: boolean }[]> {
  const suspect = new Set<string>();
  // An edge discovers exactly one new object: the end that is not yet known when it was found.
  const seen = new Set<string>([res.root_id]);
  for (const e of res.edges ?? []) {
    const found = seen.has(e.source_id) ? e.target_id : e.source_id;
    seen.add(found);
    if (e.suspect) suspect.add(found);
  }
  const groups = new Map<number, { id: string; level: string; heading: string | null; module_id: string; link_type: string; suspect: boolean }[]>();
  for (const o of res.objects) {
    const list = groups.get(o.depth) ?? [];
    list.push({ ...o, suspect: suspect.has(o.id) });
    groups.set(o.depth, list);
  }
  return groups;
}

export function renderImpact(ctx: Ctx, body: HTMLElement, data: ModuleData, obj: ReqObject, select: (id: string) => void): void {
  const direction = h(
    "select",
    { name: "direction" },
    h("option", { value: "both", selected: true }, "both directions"),
    h("option", { value: "forward" }, "forward (source → target)"),
    h("option", { value: "backward" }, "backward (target → source)"),
  );
  const depth = h("input", { type: "number", name: "max_depth", min: 1, max: 20, value: 5 });
  const submit = h("button", { type: "submit", class: "small" }, "Analyse");
  const out = h("div", { class: "impact-result" }, loading());
  const form = h("form", { class: "inline-form impact-form" }, field("Direction", direction), field("Max depth", depth), submit);
  const run = async (): Promise<void> => {
    const res = await busy(submit, () => ctx.api.objectImpact(obj.id, direction.value as Direction, Number(depth.value) || 5), "Impact");
    if (!res) {
      replace(out);
      return;
    }
    const here = new Set(data.objects.map((o) => o.id));
    const groups = impactByDepth(res);
    if (!res.objects.length) {
      replace(out, h("p", { class: "muted" }, "No linked objects: a change here affects nothing else."));
      return;
    }
    replace(
      out,
      h("p", null, `${res.objects.length} object${res.objects.length === 1 ? "" : "s"} affected.`),
      [...groups.entries()].map(([d, list]) => [
        h("h3", null, d === 1 ? "Directly linked" : `${d} links away`),
        h(
          "ul",
          { class: "links impact" },
          list.map((o) => {
            const label = [h("span", { class: "level" }, o.level), " ", o.heading ?? "(no heading)"];
            let target: HTMLElement;
            if (here.has(o.id)) {
              target = h("button", { type: "button", class: "link" }, label);
              target.addEventListener("click", () => select(o.id));
            } else {
              target = h("a", { href: hrefOf({ name: "module", ws: data.ws, p: data.p, m: o.module_id, object: o.id }), dataset: { route: "1" } }, label, h("small", { class: "muted" }, " (other module)"));
            }
            return h(
              "li",
              { class: o.suspect ? "suspect" : "" },
              o.suspect ? h("span", { class: "badge suspect", title: "The link that reaches it is suspect" }, "⚠ suspect") : null,
              " ",
              h("span", { class: "link-type" }, o.link_type, " "),
              target,
            );
          }),
        ),
      ]),
    );
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run();
  });
  replace(body, form, out);
  void run();
}
