// Interop checks with the official TypeScript SDK (npm `@anthropic-ai/sdk`).
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const baseURL = process.env.EMULATOR_BASE_URL;
// Current models; the first is used for the tool and retry checks.
const MODELS = ['claude-opus-4-6', 'claude-sonnet-4-6', 'claude-opus-5'];
const MODEL = MODELS[0];
// Records the headers the SDK sends, to report its default API version.
const sent = [];
const recordingFetch = (url, init) => {
  sent.push(new Headers(init?.headers));
  return fetch(url, init);
};
const client = new Anthropic({ baseURL, apiKey: 'interop-key', maxRetries: 2, fetch: recordingFetch });

// Drop undefined/null fields and SDK-only parse helpers before comparing.
function normalize(value) {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined || k === 'parsed_output' || k === 'parsed') continue;
      out[k] = normalize(v);
    }
    return out;
  }
  return value;
}

const request = {
  model: MODEL,
  max_tokens: 300,
  messages: [{ role: 'user', content: 'Hello from the TypeScript SDK interop test' }],
};

for (const model of MODELS) {
  const modelRequest = { ...request, model };
  // 1. Create a message.
  const message = await client.messages.create(modelRequest);
  assert.equal(message.type, 'message');
  assert.equal(message.model, model);
  assert.equal(message.content[0].type, 'text');
  assert.equal(message.stop_reason, 'end_turn');
  assert.ok(message.usage.output_tokens > 0);

  // 2. Stream the same request; the final message equals the non-streamed one.
  let text = '';
  const stream = client.messages.stream(modelRequest).on('text', (delta) => {
    text += delta;
  });
  const final = await stream.finalMessage();
  assert.equal(text, message.content[0].text);
  assert.deepEqual(normalize(final), normalize(message));

  // 2b. Adaptive thinking, created and streamed.
  const thinkingRequest = { ...modelRequest, thinking: { type: 'adaptive' } };
  const thought = await client.messages.create(thinkingRequest);
  assert.equal(thought.content[0].type, 'thinking', model);
  assert.ok(thought.content[0].signature, model);
  let thinkingText = '';
  const thinkingStream = client.messages.stream(thinkingRequest).on('thinking', (delta) => {
    thinkingText += delta;
  });
  const finalThought = await thinkingStream.finalMessage();
  assert.equal(thinkingText, thought.content[0].thinking, model);
  assert.deepEqual(normalize(finalThought), normalize(thought));
}
const version = sent[0].get('anthropic-version');
assert.ok(version, 'an anthropic-version header was sent');
console.log(
  `typescript SDK: anthropic-version ${version}, key as ${sent[0].get('authorization') ? 'bearer' : 'x-api-key'}`,
);

// 3. A tool_use through the partial-JSON helpers.
const tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      units: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1, maximum: 7 },
    },
    required: ['city', 'units', 'days'],
  },
};
const toolRequest = { ...request, tools: [tool], tool_choice: { type: 'tool', name: 'get_weather' } };
const snapshots = [];
const toolStream = client.messages.stream(toolRequest).on('inputJson', (_partial, snapshot) => {
  snapshots.push(snapshot);
});
const finalTool = await toolStream.finalMessage();
assert.equal(finalTool.stop_reason, 'tool_use');
const block = finalTool.content.at(-1);
assert.equal(block.type, 'tool_use');
assert.equal(block.name, 'get_weather');
assert.ok(snapshots.length >= 2, `partial JSON arrived in pieces (${snapshots.length})`);
assert.deepEqual(snapshots.at(-1), block.input);
assert.ok(['celsius', 'fahrenheit'].includes(block.input.units));
assert.ok(block.input.days >= 1 && block.input.days <= 7);
assert.deepEqual(normalize(finalTool), normalize(await client.messages.create(toolRequest)));

// 4. A scripted 429, twice, then success through the SDK's retries.
const retryRequest = { ...request, messages: [{ role: 'user', content: 'retry me (typescript)' }] };
const retried = await client.messages.create(retryRequest, {
  headers: { 'x-emulator-fault': 'status=429,retry-after-ms=10,times=2' },
  maxRetries: 3,
});
assert.equal(retried.type, 'message');
await assert.rejects(
  client.messages.create(
    { ...request, messages: [{ role: 'user', content: 'no retries (typescript)' }] },
    { headers: { 'x-emulator-fault': 'status=429,times=1' }, maxRetries: 0 },
  ),
  (err) => err instanceof Anthropic.RateLimitError && err.status === 429,
);

// 5. A batch of 100 requests, polled to the end, every result read.
const requests = Array.from({ length: 100 }, (_, i) => ({
  custom_id: `ts-${i}`,
  params: { model: MODELS[i % MODELS.length], max_tokens: 64, messages: [{ role: 'user', content: `batch prompt ${i}` }] },
}));
let batch = await client.messages.batches.create({ requests });
assert.equal(batch.processing_status, 'in_progress');
const deadline = Date.now() + 60_000;
while (batch.processing_status !== 'ended') {
  assert.ok(Date.now() < deadline, 'batch did not end within 60 s');
  await new Promise((r) => setTimeout(r, 100));
  batch = await client.messages.batches.retrieve(batch.id);
}
assert.equal(batch.request_counts.succeeded, 100);
const seen = new Map();
for await (const result of await client.messages.batches.results(batch.id)) {
  assert.equal(result.result.type, 'succeeded', result.custom_id);
  assert.ok(!seen.has(result.custom_id), `duplicate ${result.custom_id}`);
  seen.set(result.custom_id, result.result.message);
}
assert.deepEqual([...seen.keys()].sort(), requests.map((r) => r.custom_id).sort());
assert.deepEqual(normalize(seen.get('ts-42')), normalize(await client.messages.create(requests[42].params)));

console.log(
  `typescript interop OK: ${MODELS.join(', ')}: create, stream == create, adaptive thinking; tool partial JSON, 429 retries, batch of 100`,
);
