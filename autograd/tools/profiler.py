"""``profile()``: time spent per op, forward and backward, as a table or a Chrome trace.

>>> with ag.profile() as p:
...     loss = model(x).sum()
...     loss.backward()
>>> print(p.table())                 # sorted by total time
>>> p.export_chrome_trace("trace.json")   # chrome://tracing or ui.perfetto.dev
"""

import json
import os
import threading
import time
from collections import defaultdict

from autograd.core.registry import Observer


class profile(Observer):
    """Context manager recording one event per op call and per VJP call."""

    def __init__(self):
        self.events = []  # (name, phase, start, end, thread id)

    def __enter__(self):
        self._origin = time.perf_counter()
        return super().__enter__()

    def forward(self, op, args, out, start, end):
        self.events.append((op.name, "forward", start, end, threading.get_ident()))

    def backward(self, node, grads, start, end):
        self.events.append((node.op.name, "backward", start, end, threading.get_ident()))

    def totals(self):
        """{op name: {'calls', 'forward', 'backward', 'total'}}, times in seconds."""
        rows = defaultdict(lambda: {"calls": 0, "forward": 0.0, "backward": 0.0})
        for name, phase, start, end, _ in self.events:
            row = rows[name]
            row[phase] += end - start
            row["calls"] += phase == "forward"
        for row in rows.values():
            row["total"] = row["forward"] + row["backward"]
        return dict(rows)

    def table(self, limit=None):
        """The ops sorted by total time, as a markdown table (milliseconds)."""
        rows = sorted(self.totals().items(), key=lambda kv: -kv[1]["total"])[:limit]
        whole = sum(r["total"] for _, r in rows) or 1.0
        lines = ["| op | calls | forward ms | backward ms | total ms | share |",
                 "|---|---:|---:|---:|---:|---:|"]
        for name, r in rows:
            lines.append(f"| {name} | {r['calls']} | {r['forward'] * 1e3:.3f} | "
                         f"{r['backward'] * 1e3:.3f} | {r['total'] * 1e3:.3f} | "
                         f"{r['total'] / whole:.1%} |")
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def chrome_trace(self):
        """The events in the Trace Event Format (complete events, microseconds)."""
        pid = os.getpid()
        return {"traceEvents": [
            {"name": name, "cat": phase, "ph": "X", "pid": pid, "tid": tid,
             "ts": (start - self._origin) * 1e6, "dur": (end - start) * 1e6}
            for name, phase, start, end, tid in self.events
        ], "displayTimeUnit": "ms"}

    def export_chrome_trace(self, path):
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)
        return path
