// `msgs queue dashboard` in headless Chromium: a real redis-server, the
// emulator, a `msgs worker` and the dashboard, all on loopback. The page
// loads with the uPlot library served from the dashboard's own origin
// (installed by `cargo xtask browser` under target/relay-js and found there
// by the dashboard's default lookup), its charts exist, the numbers move
// while the worker runs, and a screenshot is saved as
// target/browser/dashboard.png. A second page without the library shows
// the same numbers as tiles and says how to install it.
//
// Run by `cargo xtask browser`, which sets MSGS_BIN, RELAY_JS_MODULES and
// RELAY_ARTIFACTS (the target directory).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const MSGS = process.env.MSGS_BIN;
const MODULES = process.env.RELAY_JS_MODULES;
const ARTIFACTS = process.env.RELAY_ARTIFACTS || os.tmpdir();
assert.ok(MSGS && MODULES, "MSGS_BIN and RELAY_JS_MODULES must be set");
const require = createRequire(path.join(MODULES, "package.json"));
const { chromium } = require("playwright-core");

const children = [];
let browser;
let work;

function env(extra = {}) {
  const e = { ...process.env, ...extra };
  for (const k of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "MSGS_REDIS_URL", "MSGS_CHART_LIB"]) {
    if (!(k in extra)) delete e[k];
  }
  return e;
}

/** Spawns `cmd args`; resolves to the URL of its `listening on` line. */
function listening(cmd, args, extraEnv) {
  const child = spawn(cmd, args, { env: env(extraEnv), stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function redis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(work, "redis-"));
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" });
  children.push(child);
  await until("redis-server accepts connections", () => new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1", () => { c.end(); resolve(true); });
    c.on("error", () => resolve(false));
  }));
  return `redis://127.0.0.1:${port}/`;
}

async function until(what, cond, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting until " + what);
}

function enqueue(redisUrl, n) {
  const file = path.join(work, `jobs-${n}.jsonl`);
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ custom_id: `b-${i}`, params: { model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: `question ${i}` }] } }));
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
  execFileSync(MSGS, ["queue", "enqueue", file, "--redis", redisUrl], { env: env(), stdio: ["ignore", "ignore", "inherit"] });
}

const num = (s) => Number(String(s).replace(/[^0-9.]/g, ""));

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-"));
  browser = await chromium.launchPersistentContext(path.join(work, "chromium"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  for (const c of children) c.kill("SIGKILL");
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("the dashboard in Chromium: charts from the local uPlot, numbers that move, a screenshot", async () => {
  const redisUrl = await redis();
  const emu = await listening(MSGS, ["emulator", "--latency-ms", "40", "--token-delay-ms", "0", "--requests-per-minute", "1000000"]);
  const N = 600;
  enqueue(redisUrl, N);
  const base = await listening(MSGS, ["queue", "dashboard", "--redis", redisUrl, "--addr", "127.0.0.1:0", "--interval-ms", "250"]);

  const page = await browser.newPage();
  const outside = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
  await page.goto(base + "/");
  await until("the first sample is shown", async () => page.evaluate(() => !!(window.dashboard && window.dashboard.last)));
  assert.equal(await page.evaluate(() => typeof window.uPlot), "function", "uPlot loaded from /lib/uplot.js");
  assert.equal(await page.evaluate(() => window.dashboard.hasLib), true);
  for (const id of ["chart-states", "chart-rate", "chart-tokens", "chart-errors"]) {
    assert.equal(await page.locator(`#${id} .uplot canvas`).count(), 1, `${id} has its uPlot canvas`);
  }
  assert.equal(await page.locator("#nolib").isHidden(), true);
  assert.equal(num(await page.locator("#t-queued").textContent()), N);
  assert.equal(num(await page.locator("#t-done").textContent()), 0);

  const worker = spawn(MSGS, ["worker", "--redis", redisUrl, "--concurrency", "8", "--no-coordinator", "--exit-when-idle", "3"],
    { env: env({ ANTHROPIC_API_KEY: "test", ANTHROPIC_BASE_URL: emu }), stdio: "ignore" });
  children.push(worker);

  // The done count increases across two reads while the jobs run.
  await until("some jobs are done", async () => num(await page.locator("#t-done").textContent()) > 0);
  const first = num(await page.locator("#t-done").textContent());
  await new Promise((r) => setTimeout(r, 1000));
  const second = num(await page.locator("#t-done").textContent());
  assert.ok(second > first, `done went from ${first} to ${second}`);
  assert.ok(second < N || first < N, "read while running");
  await until("the worker is shown alive", async () => num(await page.locator("#t-workers").textContent()) >= 1);
  await until("the throughput shows", async () => num(await page.locator("#t-rate").textContent()) > 0);
  await until("every job is done", async () => num(await page.locator("#t-done").textContent()) === N, 60000);
  // The charts hold the run: several points, the last with every job done.
  const points = await page.evaluate(() => {
    const u = window.dashboard.charts.states;
    return { n: u.data[0].length, lastDone: u.data[3][u.data[3].length - 1] };
  });
  assert.ok(points.n >= 4, `${points.n} points`);
  assert.equal(points.lastDone, N);
  assert.match(await page.locator("#t-cost").textContent(), /^\$\d/);
  assert.match(await page.locator("#models").textContent(), /claude-haiku-4-5/);
  assert.notEqual(await page.locator("#t-headroom").textContent(), "–", "rate-limit headroom from the emulator's headers");
  fs.mkdirSync(path.join(ARTIFACTS, "browser"), { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "browser", "dashboard.png"), fullPage: true });
  assert.deepEqual(outside, [], "nothing loaded from outside the dashboard's origin");
  await page.close();
});

test("without the chart library the page shows the numbers and says how to install it", async () => {
  const redisUrl = await redis();
  enqueue(redisUrl, 7);
  const base = await listening(MSGS, ["queue", "dashboard", "--redis", redisUrl, "--addr", "127.0.0.1:0", "--no-charts"]);
  const page = await browser.newPage();
  await page.goto(base + "/");
  await until("the first sample is shown", async () => page.evaluate(() => !!(window.dashboard && window.dashboard.last)));
  assert.equal(await page.locator("#nolib").isVisible(), true);
  assert.match(await page.locator("#nolib").textContent(), /cargo xtask browser/);
  assert.equal(num(await page.locator("#t-queued").textContent()), 7);
  assert.equal(await page.locator("canvas").count(), 0);
  await page.close();
});
