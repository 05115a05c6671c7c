"""Ctrl-C (SIGINT) and SIGTERM (how clusters pre-empt jobs): every command line tool ends with one line.

Two ways to stop, both used through this module:

- **at once** (evaluation, prediction): :func:`run_cli` turns SIGTERM into the same exception as Ctrl-C, so the
  ``with`` blocks on the way out drop half-written files (a sequence folder or overlay video appears only when
  complete); the tool prints ``interrupted by SIGINT: ...`` and exits with 128 + the signal number;
- **at the next safe point** (training): :class:`StopRequest` only records the signal; the training loop asks
  :meth:`StopRequest.agreed` after every step (all ranks agree, so they stop at the same step), saves a checkpoint
  and raises :class:`Interrupted`. A second signal stops at once.

Example::

    def main(argv=None) -> int:
        return run_cli(_main, argv, survives="finished sequence folders are kept; rerun to continue")
"""
from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Callable, Iterator, Optional, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The signals every tool handles.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``str()`` is the one line to show, ``exit_code`` is 128 + the signal."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message or f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return str(self.args[0])


def _raise_interrupted(signum: int, frame: Optional[FrameType]) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _handlers(handler: Callable[[int, Optional[FrameType]], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # signals only reach the main thread
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_cli(main: Callable[..., int], *args, survives: str = "", prefix: str = "") -> int:
    """Call ``main(*args)`` with SIGINT and SIGTERM raising :class:`Interrupted`; a stop becomes one line.

    Args:
        main: the tool's entry point, returning an exit status.
        survives: what the user keeps, appended to the line (e.g. ``finished sequences are kept``).
        prefix: put before the line (e.g. ``[rank 1] ``).

    Returns:
        ``main``'s status, or 128 + the signal number when interrupted.
    """
    try:
        with _handlers(_raise_interrupted):
            return main(*args)
    except KeyboardInterrupt as err:
        stop = err if isinstance(err, Interrupted) else Interrupted(signal.SIGINT)
        sys.stderr.write(f"{prefix}{stop}" + (f"; {survives}" if survives else "") + "\n")
        return stop.exit_code


class StopRequest:
    """Remembers SIGINT/SIGTERM instead of stopping, so a loop can stop at a safe point; a second signal stops at
    once (raises :class:`Interrupted`). Use as a context manager around the loop.
    """

    def __init__(self) -> None:
        self.signum: Optional[int] = None

    def _record(self, signum: int, frame: Optional[FrameType]) -> None:
        if self.signum is not None:
            raise Interrupted(signum, f"interrupted by {signal.Signals(signum).name} again: stopped at once")
        self.signum = signum
        log.warning("%s received: stopping after the current step", signal.Signals(signum).name)

    def install(self) -> "StopRequest":
        """Start catching the signals (call :meth:`restore` when the loop ends); returns ``self``."""
        self._context = _handlers(self._record)
        self._context.__enter__()
        return self

    def restore(self) -> None:
        """Give the signals their previous handlers back."""
        self._context.__exit__(None, None, None)

    def __enter__(self) -> "StopRequest":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.restore()

    def interrupted(self, detail: str) -> Interrupted:
        """The exception to raise once the loop stopped: ``interrupted by SIGTERM <detail>``."""
        signum = self.signum if self.signum is not None else signal.SIGTERM  # another rank got the signal
        return Interrupted(signum, f"interrupted by {signal.Signals(signum).name} {detail}")

    def agreed(self, any_rank: Callable[[bool], bool] = bool) -> bool:
        """True when this process, or (through ``any_rank``, e.g. an all-reduce) any rank, was asked to stop."""
        return any_rank(self.signum is not None)
