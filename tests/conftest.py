"""Shared pytest settings: the project root is importable as `tests.*`, and the
JVMs the tests start use HotSpot's quick compiler only.

The tests' inputs are tiny, so each JVM they start (the Spark driver dbt
starts, the Thrift servers, the standalone cluster) lives a minute or less and
spends much of its CPU in the optimising compiler (C2) on code that hardly
runs again. With the quick compiler (C1) alone, a run of `scripts/pipeline.py`
on the sample data took 42.6 and 56.2 s against 75.3 and 68.2 s, alternating.
The results do not depend on the compiler; big inputs (the benchmark, a user's
`make run`) want C2, so only the tests use this. C1-only code is bigger than
its default code cache (48 MB): Spark's generated classes filled it and the
JVM failed with "Out of space in CodeCache", hence the larger one. A
JAVA_TOOL_OPTIONS of your own (even an empty one) replaces this.
"""

from __future__ import annotations

import os

QUICK_JIT = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"
os.environ.setdefault("JAVA_TOOL_OPTIONS", QUICK_JIT)
