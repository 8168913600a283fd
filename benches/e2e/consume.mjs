// One consumer of the end-to-end streaming benchmark (`cargo xtask bench-e2e`).
//
//     node consume.mjs BASE_URL N MODE
//
// Streams a firehose of N text deltas (`x-emulator-firehose: N`) from a running
// messages-emulator with the official TypeScript SDK (npm `@anthropic-ai/sdk`)
// and prints one JSON line:
// {"events": N, "secs": wall, "cpu_secs": user+sys, "max_rss_kb": VmHWM}.
//
// MODE is `text` (iterate the stream's events, counting the text deltas and
// their bytes without keeping the text) or `finalMessage`
// (`stream.finalMessage()`). A small warm-up stream runs first; the timed part
// is the request and the whole response. The result is checked; any mismatch
// exits non-zero.
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';

const DELTA = ' token';
const WARM_UP = 1000;

function fail(msg) {
  console.error(`consume.mjs: ${msg}`);
  process.exit(1);
}

function peakRssKb() {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  if (!line) fail('no VmHWM in /proc/self/status');
  return Number.parseInt(line.split(/\s+/)[1], 10);
}

async function consume(client, n, mode) {
  const stream = client.messages.stream(
    {
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'firehose' }],
    },
    { headers: { 'x-emulator-firehose': String(n) } },
  );
  let deltas = 0;
  let bytes = 0;
  if (mode === 'text') {
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        if (event.delta.text !== DELTA) fail(`delta ${deltas}: ${JSON.stringify(event.delta.text)}`);
        deltas += 1;
        bytes += event.delta.text.length;
      }
    }
  } else if (mode === 'finalMessage') {
    const message = await stream.finalMessage();
    const text = message.content
      .filter((b) => b.type === 'text')
      .map((b) => b.text)
      .join('');
    deltas = message.usage.output_tokens;
    bytes = text.length;
  } else {
    fail(`MODE: ${mode} is not text or finalMessage`);
  }
  if (deltas !== n || bytes !== n * DELTA.length) {
    fail(`got ${deltas} deltas / ${bytes} bytes, expected ${n} / ${n * DELTA.length}`);
  }
}

if (process.argv.length !== 5) fail('usage: consume.mjs BASE_URL N text|finalMessage');
const [baseURL, nArg, mode] = process.argv.slice(2);
const n = Number.parseInt(nArg, 10);
const client = new Anthropic({ baseURL, apiKey: 'bench', maxRetries: 0 });
await consume(client, WARM_UP, mode);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await consume(client, n, mode);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({ events: n, secs, cpu_secs: (cpu.user + cpu.system) / 1e6, max_rss_kb: peakRssKb() }),
);
