"""Interop checks with the official Python SDK (PyPI `anthropic`)."""

import os
import sys
import time

import anthropic

BASE_URL = os.environ["EMULATOR_BASE_URL"]
# Current models; the first is used for the tool and retry checks.
MODELS = ["claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-5"]
MODEL = MODELS[0]


def fail(msg):
    print(f"python interop FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def normalize(value):
    """A plain JSON-like value without None fields or SDK-only parse helpers."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return {
            k: normalize(v)
            for k, v in value.items()
            if v is not None and k not in ("parsed_output", "parsed")
        }
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


client = anthropic.Anthropic(base_url=BASE_URL, api_key="interop-key", max_retries=2)
request = {
    "model": MODEL,
    "max_tokens": 300,
    "messages": [{"role": "user", "content": "Hello from the Python SDK interop test"}],
}

# 0. The SDK's defaults: its API version (not set here) is accepted.
raw = client.messages.with_raw_response.create(**request)
sent_version = raw.http_request.headers.get("anthropic-version")
check(sent_version is not None, "an anthropic-version header was sent")
auth = "bearer" if raw.http_request.headers.get("authorization") else "x-api-key"
print(f"python SDK {anthropic.__version__}: anthropic-version {sent_version}, key as {auth}")

for model in MODELS:
    model_request = dict(request, model=model)
    # 1. Create a message.
    message = client.messages.create(**model_request)
    check(message.type == "message", f"type {message.type}")
    check(message.model == model, f"model {message.model}")
    check(message.content and message.content[0].type == "text", "text block")
    check(message.stop_reason == "end_turn", f"stop_reason {message.stop_reason}")
    check(message.usage.output_tokens > 0, "usage.output_tokens")

    # 2. Stream the same request; the final message equals the non-streamed one.
    with client.messages.stream(**model_request) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(text == message.content[0].text, "streamed text equals the message text")
    check(
        normalize(final) == normalize(message),
        f"final streamed message differs:\n{normalize(final)}\n!=\n{normalize(message)}",
    )

    # 2b. Adaptive thinking, created and streamed.
    thinking_request = dict(model_request, thinking={"type": "adaptive"})
    thought = client.messages.create(**thinking_request)
    check(thought.content[0].type == "thinking", f"{model}: thinking first")
    check(thought.content[0].signature, f"{model}: signature")
    with client.messages.stream(**thinking_request) as stream:
        thinking_text = "".join(
            e.thinking for e in stream if e.type == "thinking"
        )
        final = stream.get_final_message()
    check(thinking_text == thought.content[0].thinking, f"{model}: thinking deltas")
    check(normalize(final) == normalize(thought), f"{model}: adaptive stream == create")

# 3. A tool_use through the partial-JSON helpers.
tool = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "units", "days"],
    },
}
tool_request = dict(request, tools=[tool], tool_choice={"type": "tool", "name": "get_weather"})
snapshots = []
with client.messages.stream(**tool_request) as stream:
    for event in stream:
        if event.type == "input_json":
            snapshots.append(event.snapshot)
    final_tool = stream.get_final_message()
check(final_tool.stop_reason == "tool_use", f"stop_reason {final_tool.stop_reason}")
block = final_tool.content[-1]
check(block.type == "tool_use" and block.name == "get_weather", "tool_use block")
check(len(snapshots) >= 2, f"partial JSON arrived in pieces ({len(snapshots)})")
check(snapshots[-1] == block.input, f"last snapshot {snapshots[-1]} != input {block.input}")
check(set(block.input) >= {"city", "units", "days"}, f"required fields in {block.input}")
check(block.input["units"] in ("celsius", "fahrenheit"), "enum honoured")
check(1 <= block.input["days"] <= 7, "bounds honoured")
direct_tool = client.messages.create(**tool_request)
check(normalize(final_tool) == normalize(direct_tool), "tool stream equals the tool message")

# 4. A scripted 429, twice, then success through the SDK's retries.
fault = {"x-emulator-fault": "status=429,retry-after-ms=10,times=2"}
retry_request = dict(request, messages=[{"role": "user", "content": "retry me (python)"}])
raw = client.with_options(max_retries=3).messages.with_raw_response.create(
    **retry_request, extra_headers=fault
)
retried = raw.parse()
check(retried.type == "message", "retried request succeeded")
retries = getattr(raw, "retries_taken", None)
check(retries in (None, 2), f"two retries taken, got {retries}")
try:
    client.with_options(max_retries=0).messages.create(
        **dict(request, messages=[{"role": "user", "content": "no retries (python)"}]),
        extra_headers={"x-emulator-fault": "status=429,times=1"},
    )
    fail("expected a RateLimitError")
except anthropic.RateLimitError as e:
    check(e.status_code == 429, "429 status")
    check(e.body["error"]["type"] == "rate_limit_error", f"error body {e.body}")

# 5. A batch of 100 requests, polled to the end, every result read.
requests = [
    {
        "custom_id": f"py-{i}",
        "params": {
            "model": MODELS[i % len(MODELS)],
            "max_tokens": 64,
            "messages": [{"role": "user", "content": f"batch prompt {i}"}],
        },
    }
    for i in range(100)
]
batch = client.messages.batches.create(requests=requests)
check(batch.processing_status == "in_progress", batch.processing_status)
deadline = time.time() + 60
while batch.processing_status != "ended":
    check(time.time() < deadline, "batch did not end within 60 s")
    time.sleep(0.1)
    batch = client.messages.batches.retrieve(batch.id)
check(batch.request_counts.succeeded == 100, f"counts {batch.request_counts}")
seen = {}
for result in client.messages.batches.results(batch.id):
    check(result.result.type == "succeeded", f"{result.custom_id}: {result.result.type}")
    seen[result.custom_id] = result.result.message
check(sorted(seen) == sorted(r["custom_id"] for r in requests), "every custom_id once")
direct = client.messages.create(**requests[42]["params"])
check(normalize(seen["py-42"]) == normalize(direct), "batch result equals the direct call")

print(
    "python interop OK: "
    + ", ".join(MODELS)
    + ": create, stream == create, adaptive thinking; tool partial JSON, 429 retries, batch of 100"
)
