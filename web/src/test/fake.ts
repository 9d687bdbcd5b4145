// Test helpers: a Ctx around a partial ApiClient double with a session of the given role.

import { vi } from "vitest";
import type { ApiClient } from "../api/client";
import type { AppUser, Role } from "../api/types";
import type { Ctx } from "../ui/common";

export function page<T>(items: T[]) {
  return { items, total: items.length, offset: 0, limit: 1000 };
}

export function fakeCtx(role: Role, api: Record<string, unknown>, userId = "me"): { ctx: Ctx; api: Record<string, ReturnType<typeof vi.fn>> } {
  const user: AppUser = { id: userId, email: `${userId}@x`, display_name: userId, role };
  const full = { session: { token: "t", refresh_token: null, user, expires_at: null }, ...api };
  return { ctx: { api: full as unknown as ApiClient, refresh: () => undefined }, api: full as never };
}

/** Let pending promise callbacks (API doubles, re-renders) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

export function buttonNamed(root: ParentNode, label: string): HTMLButtonElement | undefined {
  return Array.from(root.querySelectorAll("button")).find((b) => b.textContent === label);
}
