// The demo walk: what a newcomer does after `make up`. Logs in, then follows every in-app link of the
// content (workspaces, projects, modules, each module's views and screens, baselines), compares every
// pair of baselines, draws the traceability matrix against every module, and opens every object's
// panel with every tab. Fails on any page error, console error, error page or failed API call.
//
//   node e2e/demo.mjs --base http://127.0.0.1:8080 --email admin@localhost --password ... \
//        [--record responses.json] [--shots DIR]
//
// --record writes every API response of the walk ({method, url, status, body}) so the caller can
// validate it against the server's OpenAPI document.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: opt } = parseArgs({
  options: {
    base: { type: "string" },
    email: { type: "string" },
    password: { type: "string" },
    record: { type: "string" },
    shots: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  },
});
for (const k of ["base", "email", "password"]) {
  if (!opt[k]) {
    console.error(`missing --${k}`);
    process.exit(2);
  }
}

const problems = [];
const responses = [];
const pending = [];
const visited = [];
let where = "(start)";
const ROUTE = /^\/(w\/[^/?#]+(\/members|\/p\/[^/?#]+(\/m\/[^/?#]+(\/[a-z-]+)?)?)?)?(\?.*)?$/;
const ERROR_HEADINGS = new Set(["Something went wrong", "Not found", "Page not found"]);

const browser = await chromium.launch({
  executablePath: opt.chromium,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"],
});
let exitCode = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`${where}: console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`${where}: page error: ${err.message}`));
  page.on("response", (resp) => {
    const url = new URL(resp.url());
    if (!url.pathname.startsWith("/api/")) return;
    const method = resp.request().method();
    if (resp.status() >= 400) problems.push(`${where}: ${method} ${url.pathname} answered ${resp.status()}`);
    pending.push(
      (async () => {
        const type = resp.headers()["content-type"] ?? "";
        let body = null;
        if (type.includes("json") && !type.includes("event-stream")) {
          try {
            body = JSON.parse(await resp.text());
          } catch (err) {
            problems.push(`${where}: ${method} ${url.pathname}: unreadable JSON (${err})`);
          }
        }
        responses.push({ page: where, method, url: url.pathname + url.search, status: resp.status(), content_type: type, body });
      })(),
    );
  });
  // In-flight requests, not counting the module's live-update stream (open for as long as the page is).
  const inflight = new Set();
  const streaming = (req) => /\/events(\?|$)/.test(new URL(req.url()).pathname);
  page.on("request", (req) => !streaming(req) && inflight.add(req));
  page.on("requestfinished", (req) => inflight.delete(req));
  page.on("requestfailed", (req) => inflight.delete(req));
  async function quiet() {
    let calm = 0;
    for (let waited = 0; calm < 250; waited += 50) {
      if (waited > 15000) throw new Error(`requests still running: ${[...inflight].map((r) => r.url()).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
      calm = inflight.size ? 0 : calm + 50;
    }
  }
  let shotNo = 0;
  const shot = async (name) => {
    if (!opt.shots) return;
    mkdirSync(opt.shots, { recursive: true });
    await page.screenshot({ path: join(opt.shots, `${String(++shotNo).padStart(2, "0")}-${name}.png`) });
  };

  /** Wait until the current screen has drawn its heading and the network is quiet; refuse error pages. */
  async function settled() {
    await quiet();
    await page.locator("main#main h1").first().waitFor();
    await page.waitForFunction(() => !document.querySelector("main#main [role=status]"));
    await quiet();
    const heading = (await page.locator("main#main h1").first().textContent())?.trim() ?? "";
    if (ERROR_HEADINGS.has(heading)) {
      const detail = await page.locator("main#main p").first().textContent();
      problems.push(`${where}: error page "${heading}": ${detail}`);
    }
    return heading;
  }

  async function open(path) {
    where = path;
    visited.push(path);
    await page.goto(`${opt.base}${path}`);
    return settled();
  }

  /** In-app links in the main area that lead to content routes (not object selections). */
  async function contentLinks() {
    const hrefs = await page.locator("main#main a[data-route]").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    return [...new Set(hrefs.filter((href) => href && ROUTE.test(href) && !href.includes("object=")))];
  }

  console.log("step: login");
  where = "/login";
  await page.goto(`${opt.base}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel("Email").fill(opt.email);
  await page.getByLabel("Password").fill(opt.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Workspaces", level: 1 }).waitFor();

  // Depth-first over every content link reachable from the workspace list.
  const seen = new Set(["/"]);
  const queue = ["/"];
  const modules = [];
  while (queue.length) {
    const path = queue.shift();
    const heading = await open(path);
    console.log(`page: ${path} — ${heading}`);
    const parts = path.split("?")[0].split("/");
    if (parts.length === 7 && parts[5] === "m" && !path.includes("?")) modules.push(path);
    if (path.endsWith("/baselines")) await shot(`baselines`);
    for (const href of await contentLinks()) {
      if (!seen.has(href)) {
        seen.add(href);
        queue.push(href);
      }
    }
  }
  if (modules.length === 0) problems.push("no module reached from the workspace list");
  await shot("last-page");

  for (const modulePath of modules) {
    console.log(`step: module ${modulePath}: baseline diffs, matrices, object panels`);
    await open(`${modulePath}/baselines`);
    const options = await page.locator("main#main select[name=a] option").evaluateAll((os) => os.map((o) => o.value));
    for (let i = 0; i < options.length; i++) {
      for (let j = 0; j < i; j++) {
        // options are newest first: j is newer than i
        await open(`${modulePath}/baselines`);
        await page.locator("main#main select[name=a]").selectOption(options[i]);
        await page.locator("main#main select[name=b]").selectOption(options[j]);
        await page.getByRole("button", { name: "Show differences" }).click();
        await page.waitForURL(/\/diff\?/);
        where = new URL(page.url()).pathname + new URL(page.url()).search;
        visited.push(where);
        console.log(`page: ${where} — ${await settled()}`);
        await shot("diff");
      }
    }

    await open(`${modulePath}/traceability`);
    const targets = await page.locator("main#main select[name=target] option").evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    for (const target of targets) {
      console.log(`page: ${await open(`${modulePath}/traceability?target=${encodeURIComponent(target)}`)} (matrix)`);
    }

    await open(modulePath);
    const listing = responses.find((r) => r.page === modulePath && r.method === "GET" && /\/modules\/[^/]+\/objects(\?|$)/.test(r.url));
    const ids = (listing?.body?.items ?? []).map((o) => o.id);
    if (ids.length === 0) problems.push(`${modulePath}: no objects listed`);
    for (const [mode, id] of ids.flatMap((i) => [[null, i], ["document", i]])) {
      await open(`${modulePath}?${mode ? `mode=${mode}&` : ""}object=${encodeURIComponent(id)}`);
      await page.locator("aside.panel [role=tab]").first().waitFor();
      const tabs = page.locator("aside.panel [role=tab]");
      // the panel is one component in both module views: every tab once, from the grid
      const count = mode ? 0 : await tabs.count();
      if (!mode && count === 0) problems.push(`${where}: the object panel shows no tabs`);
      for (let t = 0; t < count; t++) {
        await tabs.nth(t).click();
        await quiet();
        await page.waitForFunction(() => !document.querySelector("aside.panel [role=status]"));
      }
    }
  }

  await Promise.all(pending);
  console.log(`walk: ${visited.length} pages, ${responses.length} API responses`);
  if (problems.length) throw new Error(`browser problems:\n${problems.join("\n")}`);
  console.log("demo walk: ok");
} catch (err) {
  console.error(`demo walk: FAILED at ${where}: ${err instanceof Error ? err.message : err}`);
  if (problems.length) console.error(problems.join("\n"));
  exitCode = 1;
} finally {
  await Promise.allSettled(pending);
  if (opt.record) writeFileSync(opt.record, JSON.stringify({ visited, responses }, null, 1));
  await browser.close();
}
process.exit(exitCode);
