// The baseline Node relay, as hand-written relays do it: an `http` server,
// the official TypeScript SDK's `messages.stream`, each text delta written
// as `data: {"text": ...}` and a final `{"done": true, "usage": ...}`.
//
// Run by benches/relay/run.sh from a directory with `@anthropic-ai/sdk`
// installed; prints `listening on http://HOST:PORT`.
import http from "node:http";
import Anthropic from "@anthropic-ai/sdk";

const client = new Anthropic({
  baseURL: process.env.ANTHROPIC_BASE_URL,
  apiKey: process.env.ANTHROPIC_API_KEY || "bench",
  maxRetries: 0,
});
const MAX_TOKENS = Number(process.env.RELAY_MAX_TOKENS || 500);

const server = http.createServer(async (req, res) => {
  if (req.method !== "POST") {
    res.writeHead(404).end();
    return;
  }
  let raw = "";
  for await (const chunk of req) raw += chunk;
  const { messages } = JSON.parse(raw);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: MAX_TOKENS, messages });
  res.on("close", () => stream.abort());
  stream.on("text", (text) => res.write(`data: ${JSON.stringify({ text })}\n\n`));
  try {
    const final = await stream.finalMessage();
    res.end(`data: ${JSON.stringify({ done: true, usage: final.usage })}\n\n`);
  } catch (e) {
    res.end(`data: ${JSON.stringify({ error: String(e) })}\n\n`);
  }
});
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
