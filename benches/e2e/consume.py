"""One consumer of the end-to-end streaming benchmark (`cargo xtask bench-e2e`).

    python consume.py BASE_URL N MODE

Streams a firehose of N text deltas (`x-emulator-firehose: N`) from a running
messages-emulator with the official Python SDK (PyPI `anthropic`) and prints
one JSON line: {"events": N, "secs": wall, "cpu_secs": user+sys, "max_rss_kb": VmHWM}.

MODE is `text_stream` (iterate `stream.text_stream`, counting deltas and bytes
without keeping the text) or `get_final_message` (`stream.get_final_message()`).
A small warm-up stream runs first; the timed part is the request and the whole
response. The result is checked; any mismatch exits non-zero.
"""

import json
import resource
import sys
import time

import anthropic

DELTA = " token"
WARM_UP = 1000


def cpu_secs():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")


def fail(msg):
    print(f"consume.py: {msg}", file=sys.stderr)
    sys.exit(1)


def consume(client, n, mode):
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "firehose"}],
        extra_headers={"x-emulator-firehose": str(n)},
    ) as stream:
        if mode == "text_stream":
            deltas = 0
            nbytes = 0
            for text in stream.text_stream:
                if text != DELTA:
                    fail(f"delta {deltas}: {text!r} instead of {DELTA!r}")
                deltas += 1
                nbytes += len(text)
        elif mode == "get_final_message":
            message = stream.get_final_message()
            text = "".join(b.text for b in message.content if b.type == "text")
            deltas = message.usage.output_tokens
            nbytes = len(text)
        else:
            fail(f"MODE: {mode!r} is not text_stream or get_final_message")
    if deltas != n or nbytes != n * len(DELTA):
        fail(f"got {deltas} deltas / {nbytes} bytes, expected {n} / {n * len(DELTA)}")


def main():
    if len(sys.argv) != 4:
        fail("usage: consume.py BASE_URL N text_stream|get_final_message")
    base_url, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    client = anthropic.Anthropic(base_url=base_url, api_key="bench", max_retries=0)
    consume(client, WARM_UP, mode)
    cpu0 = cpu_secs()
    t0 = time.perf_counter()
    consume(client, n, mode)
    secs = time.perf_counter() - t0
    cpu = cpu_secs() - cpu0
    print(json.dumps({"events": n, "secs": secs, "cpu_secs": cpu, "max_rss_kb": peak_rss_kb()}))


main()
