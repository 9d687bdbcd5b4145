import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppNotification, Role } from "../api/types";
import { leaveScreen } from "../ui/common";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { bellLabel, notificationBell, POLL_MS, renderNotifications, routeOf } from "./notifications";

function note(over: Partial<AppNotification> = {}): AppNotification {
  return {
    id: "n1", user_id: "me", notification_type: "mention", title: "You were mentioned in a comment", body: "@Me look",
    entity_type: "comment", entity_id: "c1", read: false, created_at: "2026-12-03T09:00:00Z",
    target: { workspace_id: "w", project_id: "p", module_id: "m", object_id: "o" }, ...over,
  };
}

function setup(role: Role, notes: AppNotification[], unread = 2) {
  return fakeCtx(role, {
    listNotifications: vi.fn(async (unreadOnly: boolean) => page(unreadOnly ? notes.filter((n) => !n.read) : notes)),
    unreadCount: vi.fn(async () => unread),
    markNotificationRead: vi.fn(async (id: string) => ({ ...note({ id }), read: true })),
    markAllNotificationsRead: vi.fn(async () => 2),
  });
}

afterEach(() => {
  vi.useRealTimers();
  leaveScreen();
  history.replaceState(null, "", "/");
});

describe("notification bell", () => {
  it("shows the unread count and polls it every 30 s until the screen is left", async () => {
    vi.useFakeTimers();
    const { ctx, api } = setup("viewer", [], 3);
    const bell = notificationBell(ctx);
    await vi.advanceTimersByTimeAsync(0);
    expect(bell.querySelector(".count")!.textContent).toBe("3");
    expect(bell.getAttribute("aria-label")).toBe("Notifications: 3 unread");
    expect(bell.getAttribute("href")).toBe("/notifications");
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(api.unreadCount).toHaveBeenCalledTimes(2);
    leaveScreen();
    await vi.advanceTimersByTimeAsync(POLL_MS * 2);
    expect(api.unreadCount).toHaveBeenCalledTimes(2);
    expect(bellLabel(0)).toBe("Notifications");
  });
});

describe("notifications page", () => {
  it("lists newest first, marks one or all read, and opens the commented object", async () => {
    const notes = [note(), note({ id: "n2", read: true, body: "older", target: null })];
    const { ctx, api } = setup("viewer", notes);
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderNotifications(ctx, root);
    const items = root.querySelectorAll("li.notification");
    expect(items).toHaveLength(2);
    expect(items[0].classList.contains("unread")).toBe(true);
    expect(buttonNamed(items[1] as HTMLElement, "Open")).toBeUndefined(); // nowhere to go
    expect(buttonNamed(items[1] as HTMLElement, "Mark read")).toBeUndefined(); // already read

    buttonNamed(items[0] as HTMLElement, "Mark read")!.click();
    await settle();
    expect(api.markNotificationRead).toHaveBeenCalledWith("n1");

    buttonNamed(root, "Mark all read")!.click();
    await settle();
    expect(api.markAllNotificationsRead).toHaveBeenCalled();

    const unread = root.querySelector<HTMLInputElement>("input[name=unread_only]")!;
    unread.checked = true;
    unread.dispatchEvent(new Event("change"));
    await settle();
    expect(api.listNotifications).toHaveBeenLastCalledWith(true);
    expect(root.querySelectorAll("li.notification")).toHaveLength(1);

    buttonNamed(root.querySelector<HTMLElement>("li.notification")!, "Open")!.click();
    await settle();
    expect(window.location.pathname + window.location.search).toBe("/w/w/p/p/m/m?mode=document&object=o");
  });

  it("explains an empty list", async () => {
    const { ctx } = setup("viewer", []);
    const root = document.createElement("div");
    await renderNotifications(ctx, root);
    expect(root.textContent).toContain("No notifications yet");
    expect(routeOf(note({ target: null }))).toBeNull();
  });
});
