import { describe, expect, it } from "vitest";
import { hrefOf, parseRoute, type Route } from "./router";

const ws = "0195a1b2-0000-7000-8000-000000000001";

describe("router", () => {
  it("parses every screen", () => {
    expect(parseRoute("/")).toEqual({ name: "workspaces" });
    expect(parseRoute("/login", "?next=%2Fw%2Fx")).toEqual({ name: "login", next: "/w/x" });
    expect(parseRoute(`/w/${ws}`)).toEqual({ name: "workspace", ws });
    expect(parseRoute(`/w/${ws}/p/p1/`)).toEqual({ name: "project", ws, p: "p1" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1`, "?object=o1")).toEqual({ name: "module", ws, p: "p1", m: "m1", object: "o1" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1/baselines`)).toEqual({ name: "baselines", ws, p: "p1", m: "m1" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1/diff`, "?a=x&b=y")).toEqual({ name: "diff", ws, p: "p1", m: "m1", a: "x", b: "y" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1/traceability`, "?target=m2&type=t1")).toEqual({ name: "traceability", ws, p: "p1", m: "m1", target: "m2", type: "t1" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1/validate`)).toEqual({ name: "validate", ws, p: "p1", m: "m1" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1/object-types`)).toEqual({ name: "objectTypes", ws, p: "p1", m: "m1" });
    expect(parseRoute(`/w/${ws}/p/p1/m/m1/proposals`)).toEqual({ name: "proposals", ws, p: "p1", m: "m1" });
    expect(parseRoute(`/w/${ws}/members`)).toEqual({ name: "members", ws });
    expect(parseRoute(`/w/${ws}/members/x`)).toEqual({ name: "notfound", path: `/w/${ws}/members/x` });
    expect(parseRoute("/admin/users")).toEqual({ name: "users" });
    expect(parseRoute("/account")).toEqual({ name: "account" });
    expect(parseRoute("/search", "?q=brake+pedal")).toEqual({ name: "search", q: "brake pedal" });
    expect(parseRoute("/w/../etc")).toEqual({ name: "notfound", path: "/w/../etc" });
  });

  it("round-trips hrefs", () => {
    const routes: Route[] = [
      { name: "workspaces" },
      { name: "workspace", ws },
      { name: "project", ws, p: "p" },
      { name: "module", ws, p: "p", m: "m" },
      { name: "module", ws, p: "p", m: "m", object: "o" },
      { name: "baselines", ws, p: "p", m: "m" },
      { name: "diff", ws, p: "p", m: "m", a: "a", b: "b" },
      { name: "search", q: "a & b" },
      { name: "traceability", ws, p: "p", m: "m" },
      { name: "traceability", ws, p: "p", m: "m", target: "t", type: "x y" },
      { name: "validate", ws, p: "p", m: "m" },
      { name: "objectTypes", ws, p: "p", m: "m" },
      { name: "proposals", ws, p: "p", m: "m" },
      { name: "members", ws },
      { name: "users" },
      { name: "account" },
    ];
    for (const r of routes) {
      const url = new URL(hrefOf(r), "http://x");
      expect(parseRoute(url.pathname, url.search)).toEqual(r);
    }
  });
});
