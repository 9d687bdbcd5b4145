// An object's lifecycle in its panel: the current state (in the model's colour) and one button per move the
// model allows from it; moves that need a higher role are shown disabled with the role they need.

import type { LifecycleModel, ReqObject, Role } from "../api/types";
import { h } from "../lib/dom";
import { busy, button, hasRole, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

export interface Move {
  to: string;
  requiredRole: Role | null;
}

/** The model an object follows: its own, else the module's default (the server applies the same rule). */
export function modelOf(obj: ReqObject, models: LifecycleModel[], moduleDefault: string | null | undefined): LifecycleModel | null {
  const id = obj.lifecycle_model_id ?? moduleDefault ?? null;
  return models.find((m) => m.id === id) ?? null;
}

/** Where the object may go from its state: no state yet → only the initial state; otherwise the transitions. */
export function movesFrom(model: LifecycleModel, state: string | null | undefined): Move[] {
  if (!state) return [{ to: model.initial_state, requiredRole: null }];
  return model.transitions.filter((t) => t.from === state).map((t) => ({ to: t.to, requiredRole: t.required_role ?? null }));
}

export function stateColor(model: LifecycleModel | null, state: string | null | undefined): string | null {
  return model?.states.find((s) => s.name === state)?.color ?? null;
}

export function lifecycleFacts(ctx: Ctx, obj: ReqObject, model: LifecycleModel | null, reload: () => Promise<void>): HTMLElement {
  const state = obj.lifecycle_state ?? null;
  const color = stateColor(model, state);
  const badge = h("span", { class: "badge lifecycle", style: color ? `border-color: ${color}; color: ${color}` : null }, state ?? "none");
  const moves = model && hasRole(ctx, "reviewer")
    ? movesFrom(model, state).map((mv) => {
        const allowed = !mv.requiredRole || hasRole(ctx, mv.requiredRole);
        return button(`→ ${mv.to}`, async (ev) => {
          const done = await busy(ev.currentTarget as HTMLElement, () =>
            ctx.api.updateObject(obj.module_id, obj.id, { lifecycle_state: mv.to, expected_version: obj.current_version }), "Lifecycle");
          if (done) {
            toast(`${obj.level} is now ${mv.to}`, "success");
            await reload();
          }
        }, { class: "small", disabled: !allowed, title: allowed ? `Move to ${mv.to}` : `needs the ${mv.requiredRole} role` });
      })
    : [];
  return h(
    "div",
    { class: "lifecycle-facts" },
    h("dt", null, "Lifecycle"),
    h("dd", null, badge, model ? h("small", { class: "muted" }, ` ${model.name}`) : null, " ", moves),
  );
}
