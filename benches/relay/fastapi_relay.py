"""The baseline FastAPI relay, as hand-written relays do it: the official
Python SDK's `messages.stream` and `text_stream`, a `StreamingResponse` of
`data: {"text": ...}` lines and a final `{"done": true, "usage": ...}`.

Run by benches/relay/run.sh:
`uvicorn fastapi_relay:app` with ANTHROPIC_BASE_URL pointing at the emulator.
"""

import json
import os

from anthropic import AsyncAnthropic
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

client = AsyncAnthropic(
    base_url=os.environ["ANTHROPIC_BASE_URL"],
    api_key=os.environ.get("ANTHROPIC_API_KEY", "bench"),
    max_retries=0,
)
MODEL = "claude-haiku-4-5"
MAX_TOKENS = int(os.environ.get("RELAY_MAX_TOKENS", "500"))
app = FastAPI()


@app.post("/chat")
async def chat(request: Request):
    body = await request.json()

    async def events():
        async with client.messages.stream(
            model=MODEL, max_tokens=MAX_TOKENS, messages=body["messages"]
        ) as stream:
            async for text in stream.text_stream:
                yield "data: " + json.dumps({"text": text}) + "\n\n"
            final = await stream.get_final_message()
            done = {"done": True, "usage": final.usage.model_dump()}
            yield "data: " + json.dumps(done) + "\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
