// Real clients that no one here wrote, against `msgs serve` (with its
// embedded emulator):
// - the AI SDK's own UI message stream reader (`ai` package:
//   DefaultChatTransport + readUIMessageStream) consumes `ui-message-stream`;
// - Chromium's EventSource consumes `anthropic` and `simple`;
// - Playwright drives the demo page in Chromium: text grows in several DOM
//   updates, a reload mid-reply completes without duplicate or missing text
//   and without a second upstream request, stop cancels upstream.
//
// Run by `cargo xtask browser`, which installs the packages under
// target/relay-js and sets MSGS_BIN, RELAY_JS_MODULES and RELAY_ARTIFACTS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const MSGS = process.env.MSGS_BIN;
const MODULES = process.env.RELAY_JS_MODULES;
const ARTIFACTS = process.env.RELAY_ARTIFACTS || os.tmpdir();
assert.ok(MSGS && MODULES, "MSGS_BIN and RELAY_JS_MODULES must be set");
const require = createRequire(path.join(MODULES, "package.json"));
const { DefaultChatTransport, readUIMessageStream } = require("ai");
const { chromium } = require("playwright-core");

const WEATHER_TOOL = [
  {
    name: "get_weather",
    description: "The weather in a city",
    input_schema: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
      required: ["city"],
    },
  },
];

const servers = [];
let browser;
let userDataDir;

/** Starts `msgs serve` on an ephemeral port; resolves to its base URL. */
function serve(args) {
  const env = { ...process.env };
  for (const k of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"]) delete env[k];
  const child = spawn(MSGS, ["serve", "--addr", "127.0.0.1:0", ...args], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`msgs serve exited with ${code}`)));
  });
}

/** Parses an event-stream body into {id, event, data} records. */
function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event = "message";
    let id = null;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      else if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("id:")) id = line.slice(3).trim();
    }
    if (data.length) events.push({ id, event, data: data.join("\n") });
  }
  return events;
}

/** Folds `anthropic` events into the reply's text and tool calls. */
function foldAnthropic(events) {
  let text = "";
  const tools = [];
  const blocks = {};
  for (const e of events) {
    const d = JSON.parse(e.data);
    if (d.type === "content_block_start") blocks[d.index] = { ...d.content_block, json: "" };
    if (d.type === "content_block_delta" && d.delta.type === "text_delta") text += d.delta.text;
    if (d.type === "content_block_delta" && d.delta.type === "input_json_delta") blocks[d.index].json += d.delta.partial_json;
    if (d.type === "content_block_stop" && blocks[d.index].type === "tool_use") {
      const b = blocks[d.index];
      tools.push({ toolCallId: b.id, toolName: b.name, input: JSON.parse(b.json || "{}") });
    }
  }
  return { text, tools };
}

/**
 * The reply to `messages`, read losslessly (`anthropic` format) from a second
 * identical request: the emulator is deterministic.
 */
async function expected(base, messages) {
  const res = await fetch(base + "/chat?format=anthropic", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages }),
  });
  assert.equal(res.status, 200);
  return foldAnthropic(parseSse(await res.text()));
}

async function emulatorStats(base) {
  return (await fetch(base + "/_emulator")).json();
}

async function until(what, cond, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting until " + what);
}

before(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "relay-chromium-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
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
  for (const s of servers) s.kill("SIGTERM");
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

test("the AI SDK's reader assembles the ui-message-stream: text and tool calls", async () => {
  const base = await serve(["--tools", writeTools(), "--max-tokens", "120", "--token-delay-ms", "1"]);
  const prompt = "What is the weather in Paris?";
  const transport = new DefaultChatTransport({ api: base + "/chat" });
  const stream = await transport.sendMessages({
    chatId: "chat-ai-sdk",
    messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: prompt }] }],
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
  });
  let message;
  for await (const m of readUIMessageStream({ stream, onError: (e) => { throw e; } })) message = m;
  const want = await expected(base, [{ role: "user", content: prompt }]);
  assert.ok(want.tools.length >= 1, "the emulator calls the tool");
  const text = message.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
  assert.equal(text, want.text);
  const tools = message.parts
    .filter((p) => p.type.startsWith("tool-"))
    .map((p) => ({ toolCallId: p.toolCallId, toolName: p.type.slice(5), input: p.input }));
  assert.deepEqual(tools, want.tools);
  assert.ok(message.parts.every((p) => !p.type.startsWith("tool-") || p.state === "input-available"));
});

test("the AI SDK's resume request (reconnectToStream) replays the live reply", async () => {
  const base = await serve(["--max-tokens", "40", "--token-delay-ms", "20"]);
  const prompt = "Tell me about resumable streams";
  const transport = new DefaultChatTransport({ api: base + "/chat" });
  const first = await transport.sendMessages({
    chatId: "chat-resume",
    messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: prompt }] }],
    trigger: "submit-message",
  });
  const reader = first.getReader();
  for (let i = 0; i < 4; i++) await reader.read();
  await reader.cancel();
  const resumed = await transport.reconnectToStream({ chatId: "chat-resume" });
  assert.ok(resumed, "a live stream to resume");
  let message;
  for await (const m of readUIMessageStream({ stream: resumed })) message = m;
  const stats = await emulatorStats(base);
  assert.equal(stats.messages_requests, 1, "no second upstream request");
  const text = message.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
  assert.equal(text, (await expected(base, [{ role: "user", content: prompt }])).text);
  assert.equal(await transport.reconnectToStream({ chatId: "chat-resume" }), null, "204 once it ended");
});

for (const format of ["anthropic", "simple"]) {
  test(`Chromium's EventSource reads the ${format} format`, async () => {
    const base = await serve(["--max-tokens", "50", "--token-delay-ms", "5"]);
    const prompt = `EventSource reads ${format}`;
    const page = await browser.newPage();
    await page.goto(base + "/");
    const got = await page.evaluate(
      async ({ format, prompt }) => {
        const res = await fetch("/chat", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: prompt }] }),
        });
        const { id } = await res.json();
        return await new Promise((resolve, reject) => {
          const es = new EventSource(`/chat/${id}?format=${format}`);
          const events = [];
          const done = () => { es.close(); resolve(events); };
          const take = (ev) => {
            events.push({ id: ev.lastEventId, event: ev.type, data: ev.data });
            const d = JSON.parse(ev.data);
            if (d.type === "message_stop" || d.done) done();
            if (d.type === "error" || d.error) reject(new Error(ev.data));
          };
          for (const t of ["message", "message_start", "content_block_start", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop", "ping", "error"]) es.addEventListener(t, take);
          es.onerror = () => { if (es.readyState === EventSource.CLOSED) reject(new Error("closed early")); };
        });
      },
      { format, prompt },
    );
    await page.close();
    const want = await expected(base, [{ role: "user", content: prompt }]);
    const text = format === "anthropic"
      ? foldAnthropic(got).text
      : got.filter((e) => JSON.parse(e.data).text !== undefined).map((e) => JSON.parse(e.data).text).join("");
    assert.equal(text, want.text);
    // Every event carries an id, and ids grow.
    const ids = got.map((e) => Number(e.id));
    assert.ok(ids.every((id, i) => id > 0 && (i === 0 || id >= ids[i - 1])), JSON.stringify(ids));
  });
}

test("the demo page in Chromium: streams, survives a reload, stops", async () => {
  const base = await serve(["--max-tokens", "60", "--token-delay-ms", "40"]);
  const assistant = (page) => page.locator(".assistant").last();
  const statusOf = (page) => page.locator("#status").textContent();

  // 1. Text grows in separate DOM updates.
  const prompt1 = "Describe the sea in a few words";
  let page = await browser.newPage();
  await page.goto(base + "/");
  await page.evaluate(() => {
    window.__updates = 0;
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        if (el && el.closest(".assistant")) window.__updates++;
      }
    }).observe(document.getElementById("log"), { subtree: true, childList: true, characterData: true });
  });
  await page.fill("#prompt", prompt1);
  await page.click("#send");
  await until("the reply is done", async () => (await statusOf(page)).startsWith("done"));
  const updates = await page.evaluate(() => window.__updates);
  assert.ok(updates >= 5, `${updates} DOM updates`);
  const shown1 = await assistant(page).textContent();
  await page.screenshot({ path: path.join(ARTIFACTS, "relay-demo.png"), fullPage: true });
  await page.close();
  assert.equal(shown1, (await expected(base, [{ role: "user", content: prompt1 }])).text);

  // 2. A reload mid-reply: the reply completes, no text twice or missing,
  // and the emulator saw no second request.
  const prompt2 = "Tell me a story about reloading pages";
  page = await browser.newPage();
  await page.goto(base + "/");
  const before = (await emulatorStats(base)).messages_requests;
  await page.fill("#prompt", prompt2);
  await page.click("#send");
  await until("some text arrived", async () => ((await assistant(page).textContent()) || "").length > 15);
  const partial = await assistant(page).textContent();
  await page.reload();
  await until("the reply is done after the reload", async () => (await statusOf(page)).startsWith("done"));
  const shown2 = await assistant(page).textContent();
  const after = (await emulatorStats(base)).messages_requests;
  assert.equal(after, before + 1, "one upstream request for the reply");
  assert.equal(await page.locator(".assistant").count(), 1, "one reply bubble");
  await page.close();
  const want2 = (await expected(base, [{ role: "user", content: prompt2 }])).text;
  assert.ok(want2.startsWith(partial), "the text before the reload was the reply's start");
  assert.equal(shown2, want2);

  // 3. Stop cancels upstream.
  const prompt3 = "Write at length about stopping";
  page = await browser.newPage();
  await page.goto(base + "/");
  const cancelled = (await emulatorStats(base)).cancelled_streams;
  await page.fill("#prompt", prompt3);
  await page.click("#send");
  await until("some text arrived", async () => ((await assistant(page).textContent()) || "").length > 5);
  await page.click("#stop");
  await until("the page shows it stopped", async () => (await statusOf(page)) === "stopped");
  await until("the emulator saw the stream cancelled", async () =>
    (await emulatorStats(base)).cancelled_streams === cancelled + 1);
  const counters = await (await fetch(base + "/chat/counters")).json();
  assert.equal(counters.cancels, 1);
  await page.close();
});

function writeTools() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "relay-tools-")), "tools.json");
  fs.writeFileSync(file, JSON.stringify(WEATHER_TOOL));
  return file;
}
