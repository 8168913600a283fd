"""Enqueue N RQ jobs (`enqueue URL N`) or run one burst worker (`work URL`).

The worker imports the task module (and so the SDK) before forking its work
horses, which spares each job the import: the most favourable setup for RQ.
"""

import sys

from redis import Redis
from rq import Queue, Worker

import rq_task

cmd, url = sys.argv[1], sys.argv[2]
conn = Redis.from_url(url)
if cmd == "enqueue":
    q = Queue("bench", connection=conn)
    for i in range(int(sys.argv[3])):
        params = {
            "model": "claude-haiku-4-5",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": f"question {i}"}],
        }
        q.enqueue(rq_task.call, params, result_ttl=3600)
else:
    Worker([Queue("bench", connection=conn)], connection=conn).work(burst=True)
