import { describe, expect, it, vi } from "vitest";
import { h, replace } from "./dom";

describe("h", () => {
  it("sets text as text, never as markup", () => {
    const el = h("p", null, "<img src=x onerror=alert(1)>", 3, null, false, ["a", ["b"]]);
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toBe("<img src=x onerror=alert(1)>3ab");
  });

  it("handles listeners, booleans, dataset and values", () => {
    const click = vi.fn();
    const b = h("button", { onClick: click, disabled: true, hidden: false, dataset: { route: "1" }, "aria-label": "Go" });
    b.dispatchEvent(new Event("click"));
    expect(click).toHaveBeenCalledOnce();
    expect(b.hasAttribute("disabled")).toBe(true);
    expect(b.hasAttribute("hidden")).toBe(false);
    expect(b.dataset.route).toBe("1");
    expect(b.getAttribute("aria-label")).toBe("Go");
    const input = h("input", { value: "v" });
    expect(input.value).toBe("v");
  });

  it("replaces children", () => {
    const el = h("div", null, "old");
    replace(el, h("span", null, "new"));
    expect(el.innerHTML).toBe("<span>new</span>");
  });
});
