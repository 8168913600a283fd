"""The RQ side of benches/queue/bench.sh: one job is one Messages call with
the official Python SDK, the pattern people run with RQ today."""

import os

import anthropic


def call(params):
    client = anthropic.Anthropic(
        base_url=os.environ["ANTHROPIC_BASE_URL"],
        api_key=os.environ["ANTHROPIC_API_KEY"],
        max_retries=2,
    )
    return client.messages.create(**params).model_dump_json()
