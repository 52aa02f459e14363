"""A slow computation on a background thread, with progress, a result, an error and a polite stop.

Pages start one (cached, so every session shares it), show `done / total` while it runs, and read
`result` when `wait` says it has finished. The work function receives `on_progress(done, total)`
and `stopping()`; it checks the latter between chunks and returns early when asked to.
"""
from __future__ import annotations

import atexit
import threading
import weakref
from typing import Any, Callable

_running: "weakref.WeakSet[BackgroundTask]" = weakref.WeakSet()


@atexit.register
def _stop_all(timeout: float = 30.0) -> None:
    """At exit, ask every task to stop and wait for it: a thread killed inside torch aborts the process."""
    for task in list(_running):
        task.stop()
    for task in list(_running):
        task._thread.join(timeout)          # the thread itself, not the event: it frees tensors as it ends


class BackgroundTask:
    def __init__(self, work: Callable[..., Any], name: str = "catgan-task"):
        self.done, self.total = 0, 1
        self.result: Any = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._finished = threading.Event()
        _running.add(self)
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True, name=name)
        self._thread.start()

    def _run(self, work):
        try:
            self.result = work(on_progress=self._progress, stopping=self._stop.is_set)
        except Exception as e:          # shown to the user by whoever waits for the result
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self._finished.set()

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def wait(self, timeout: float | None = None) -> bool:
        """True once the work has finished (or failed, or stopped) within `timeout` seconds."""
        return self._finished.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def fraction(self) -> float:
        return min(self.done / max(self.total, 1), 1.0)
