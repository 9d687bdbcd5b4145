// Module grid benchmark in headless Chromium: a module of N objects (CSV import: 100 chapters of
// N/100 - 1 requirements, with three attributes), then per run
//   - navigation → first rows drawn, and → interactive (an ArrowDown answered by the active cell moving),
//     by an in-app link from the project page (the usual way in) and by a full page load;
//   - scrolling: the grid scrolled top to bottom at 2,000 px per animation frame, 600 frames at 300 px, and 300 PageDown
//     key presses; frame times from requestAnimationFrame.
// Prints one JSON object. Never used as an assertion; figures go to docs/benchmarks.md.
//
//   node e2e/bench-grid.mjs --base http://127.0.0.1:8080 --email … --password … [--objects 10000] [--runs 5]

import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: opt } = parseArgs({
  options: {
    base: { type: "string" },
    email: { type: "string" },
    password: { type: "string" },
    objects: { type: "string", default: "10000" },
    runs: { type: "string", default: "5" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const N = Number(opt.objects);
const RUNS = Number(opt.runs);

async function call(method, path, token, body, type = "application/json") {
  const res = await fetch(`${opt.base}/api/v1${path}`, {
    method,
    headers: { "Content-Type": type, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : type === "application/json" ? JSON.stringify(body) : body,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const token = (await call("POST", "/auth/login", null, { email: opt.email, password: opt.password })).token;
const ws = await call("POST", "/workspaces", token, { name: "Bench" });
const project = await call("POST", `/workspaces/${ws.id}/projects`, token, { name: "Bench project" });
const module = await call("POST", "/modules", token, { name: `Grid ${N}`, project_id: project.id, prefix: "BEN" });
for (const def of [
  { name: "priority", data_type: "enum", enum_values: ["low", "medium", "high"] },
  { name: "effort", data_type: "integer" },
  { name: "safety", data_type: "bool" },
]) await call("POST", `/modules/${module.id}/attribute-definitions`, token, def);
const lines = ["level,heading,body,priority,effort,safety"];
const chapters = 100;
const per = Math.max(1, Math.floor(N / chapters) - 1);
for (let c = 1; c <= chapters; c++) {
  lines.push(`${c},Chapter ${c},,,,`);
  for (let r = 1; r <= per; r++) {
    lines.push(`${c}.${r},Requirement ${c}.${r},"<p>The system shall handle case ${c}.${r} within ${r % 90 + 10} ms, including retries and logging.</p>",${["low", "medium", "high"][r % 3]},${r % 13},${r % 2 ? "yes" : "no"}`);
  }
}
const t0 = Date.now();
const imported = await call("POST", `/modules/${module.id}/import/csv`, token, lines.join("\n"), "text/csv");
const importMs = Date.now() - t0;

const browser = await chromium.launch({
  executablePath: opt.chromium,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(60000);
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
await page.goto(`${opt.base}/login`);
await page.getByLabel("Email").fill(opt.email);
await page.getByLabel("Password").fill(opt.password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("heading", { name: "Workspaces", level: 1 }).waitFor();
const modulePath = `/w/${ws.id}/p/${project.id}/m/${module.id}`;

const spa = [];
const full = [];
for (let i = 0; i < RUNS; i++) {
  await page.goto(`${opt.base}/w/${ws.id}/p/${project.id}`);
  await page.getByRole("link", { name: new RegExp(`^Grid ${N}`) }).waitFor();
  await page.evaluate(() => {
    window.__navStart = performance.now();
  });
  await page.getByRole("link", { name: new RegExp(`^Grid ${N}`) }).click();
  const r = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const start = window.__navStart;
        const t = { rows: 0 };
        const poll = () => {
          const grid = document.querySelector(".mgrid");
          const active = grid?.getAttribute("aria-activedescendant");
          if (!t.rows && document.querySelector(".mgrid-body .mgrid-row")) t.rows = performance.now() - start;
          if (t.rows && active) {
            grid.focus();
            grid.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
            requestAnimationFrame(() => {
              const r = {
                rows: t.rows,
                interactive: performance.now() - start,
                moved: grid.getAttribute("aria-activedescendant") !== active,
                domRows: document.querySelectorAll(".mgrid-body .mgrid-row").length,
              };
              const done = () => {
                const status = document.querySelector(".grid-status")?.textContent ?? "";
                if (/loading/.test(status)) return requestAnimationFrame(done);
                resolve({ ...r, complete: performance.now() - start, status });
              };
              done();
            });
            return;
          }
          requestAnimationFrame(poll);
        };
        poll();
      }),
  );
  spa.push(r);
  await page.goto(`${opt.base}${modulePath}`);
  const f = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const poll = () => {
          const grid = document.querySelector(".mgrid");
          const active = grid?.getAttribute("aria-activedescendant");
          if (document.querySelector(".mgrid-body .mgrid-row") && active) {
            grid.focus();
            grid.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
            requestAnimationFrame(() => resolve({ interactive: performance.now(), moved: grid.getAttribute("aria-activedescendant") !== active }));
            return;
          }
          requestAnimationFrame(poll);
        };
        poll();
      }),
  );
  full.push(f);
}

async function frames(action) {
  return page.evaluate(async ([kind, px]) => {
    const grid = document.querySelector(".mgrid");
    grid.scrollTop = 0;
    grid.focus();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const times = [];
    let last = performance.now();
    let steps = 0;
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        times.push(now - last);
        last = now;
        if (kind === "wheel") {
          grid.scrollTop += px;
          if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 2 || times.length > 600) return resolve();
        } else {
          grid.dispatchEvent(new KeyboardEvent("keydown", { key: "PageDown", bubbles: true }));
          if (++steps >= 300) return resolve();
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    times.shift();
    const sorted = [...times].sort((a, b) => a - b);
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return {
      frames: times.length,
      p50_ms: +q(0.5).toFixed(1),
      p95_ms: +q(0.95).toFixed(1),
      max_ms: +sorted[sorted.length - 1].toFixed(1),
      over_50ms: times.filter((t) => t > 50).length,
      dom_rows: document.querySelectorAll(".mgrid-body .mgrid-row").length,
      scroll_height_px: grid.scrollHeight,
    };
  }, action);
}
const wheel = await frames(["wheel", 2000]);
const wheelSlow = await frames(["wheel", 300]);
const pagedown = await frames(["pagedown", 0]);
const heap = await page.evaluate(() => (performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1048576) : null));
await browser.close();

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  JSON.stringify(
    {
      objects: imported.objects_created,
      csv_import_ms: importMs,
      runs: RUNS,
      spa_first_rows_ms: spa.map((r) => Math.round(r.rows)),
      spa_interactive_ms: spa.map((r) => Math.round(r.interactive)),
      spa_interactive_median_ms: Math.round(med(spa.map((r) => r.interactive))),
      spa_all_rows_loaded_ms: spa.map((r) => Math.round(r.complete)),
      full_load_interactive_ms: full.map((r) => Math.round(r.interactive)),
      keypress_answered: spa.every((r) => r.moved) && full.every((r) => r.moved),
      dom_rows_after_load: spa[0].domRows,
      status: spa[0].status,
      scroll_2000px_per_frame: wheel,
      scroll_300px_per_frame: wheelSlow,
      scroll_pagedown: pagedown,
      js_heap_mib: heap,
      page_errors: errors,
    },
    null,
    1,
  ),
);
