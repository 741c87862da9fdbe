"""Guards around one run: one process per shard of a run directory at a time, and a run whose
items mostly failed does not exit 0.

- Lock: a second process on the same shard of the same run (same config, same results
  directory) would redo all the work beside the first; it stops with the first's PID, host and
  start time, or waits for it (``wait_for_lock: true``). File locks (``filelock``), so a crashed
  or killed owner releases its lock with its process.
- Failure rate: ``max_failure_rate`` (null: only a run in which every item failed) is checked on
  the shard's items after synthesis; above it the CLI prints the top failure reasons and exits
  non-zero. Unsupported items (a language the system lacks) are not failures.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import os
import socket
from pathlib import Path
from typing import Iterator, Sequence

import filelock

from ztts1_eval.core import atomic, layout
from ztts1_eval.core.errors import ConfigError
from ztts1_eval.pipeline.generation import load_record
from ztts1_eval.pipeline.manifest import Item


class RunLocked(ConfigError):
    """Another process is running this shard of this run."""


@contextlib.contextmanager
def shard_lock(run_dir: Path, shard_index: int, shard_count: int, wait: bool = False) -> Iterator[None]:
    folder = layout.lock_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{shard_index}-of-{shard_count}"
    lock, owner = filelock.FileLock(folder / f"{name}.lock"), folder / f"{name}.owner.json"
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except filelock.Timeout:
        who = atomic.read_json(owner) if owner.is_file() else {}
        raise RunLocked(f"shard {name} of run {run_dir} is being run by PID {who.get('pid', '?')} on "
                        f"{who.get('host', '?')} since {who.get('started', '?')}: wait for it to finish, or pass "
                        f"wait_for_lock=true to wait here") from None
    try:
        atomic.write_json(owner, {"pid": os.getpid(), "host": socket.gethostname(),
                                  "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def failure_check(run_dir: Path, items: Sequence[Item], max_failure_rate: float | None) -> str | None:
    """None when the shard's failure rate is acceptable, else what to print (top reasons)."""
    reasons: collections.Counter[str] = collections.Counter()
    considered = 0
    for item in items:
        record = load_record(run_dir, item.id)
        if record is None or record.status == "unsupported":
            continue
        considered += 1
        if record.status == "failed":
            reasons[(record.error or "no reason recorded").splitlines()[0][:200]] += 1
    failed = sum(reasons.values())
    if not considered or not failed:
        return None
    rate = failed / considered
    if failed < considered and (max_failure_rate is None or rate <= max_failure_rate):
        return None
    limit = "every item failed" if failed == considered else f"over max_failure_rate={max_failure_rate}"
    lines = [f"{failed} of {considered} items failed ({100 * rate:.1f} %: {limit}); top reasons:"]
    lines += [f"  {count} x {reason}" for reason, count in reasons.most_common(5)]
    return "\n".join(lines)
