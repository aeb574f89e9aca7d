"""SIGTERM and SIGHUP handled like Ctrl-C.

``timeout``, batch schedulers (Slurm, PBS), ``systemd`` and ``kill`` send SIGTERM; closing a
terminal sends SIGHUP. Python's default for both is to die at once, which skips every ``finally``:
pool workers are left running and temporary folders stay behind. Inside
:func:`signals_as_interrupts` both raise :class:`Interrupted` (a :class:`KeyboardInterrupt`), so
exactly the clean-up that Ctrl-C gets runs: workers are stopped, temporary output is removed,
finished sweep runs are kept. The process then exits with status 128 + the signal's number
(130 for Ctrl-C, 129 for SIGHUP, 143 for SIGTERM), as a shell reports a process killed by it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: Signals turned into :class:`Interrupted` (SIGINT keeps Python's KeyboardInterrupt, with its number).
HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop by a signal (``signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name (``SIGTERM``)."""
        try:
            return signal.Signals(self.signum).name
        except ValueError:  # pragma: no cover
            return f"signal {self.signum}"


def exit_status(exc: BaseException) -> int:
    """128 + the signal's number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP."""
    if isinstance(exc, Interrupted):
        return 128 + exc.signum
    return 128 + int(signal.SIGINT)


def interrupt_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C, SIGTERM or SIGHUP that caused ``exc``, if one did; else ``None``.

    A signal's handler runs at the next Python bytecode, wherever that is. When that is a callback
    compiled code makes into Python (numba boxing a kernel's result calls
    ``numba.core.serialize._numba_unpickle``), the handler's exception comes back out of the kernel
    as a ``SystemError`` ("returned a result with an exception set") whose cause is the interrupt.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def signal_name(exc: BaseException) -> str:
    """``Ctrl-C`` for a keyboard interrupt, else the signal's name."""
    return exc.name if isinstance(exc, Interrupted) else "Ctrl-C"


#: Signals that arrived inside :func:`deferred_signals`, raised when its block ends.
_pending: list[int] = []
_defer_depth = 0


def _interrupt(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Interrupted(signum)


def _raise(signum: int, _frame: FrameType | None) -> None:
    if _defer_depth:  # inside a pool's locks: raise when they are released (deferred_signals)
        _pending.append(signum)
        return
    raise _interrupt(signum)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends, then raise the first that came.

    For short stretches that take locks, such as submitting to a process pool or polling its
    futures: an exception raised by a signal handler between acquiring a lock and entering the
    ``with`` block that releases it leaves the lock held, and the clean-up that follows (stopping
    the pool) then waits on it for ever. Deferred, the interrupt lands after the locks are released.
    Only the handlers :func:`signals_as_interrupts` installs defer; elsewhere this changes nothing.
    """
    global _defer_depth
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
        if not _defer_depth and _pending:
            signum = _pending[0]
            _pending.clear()
            raise _interrupt(signum)


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Interrupted` in the main thread (Ctrl-C: KeyboardInterrupt).

    The previous handlers are restored on leaving. Outside the main thread (where Python cannot
    set handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in HANDLED:
        try:
            previous[signum] = signal.signal(signum, _raise)
        except (ValueError, OSError):  # pragma: no cover - not allowed here
            continue
    # Ctrl-C still raises KeyboardInterrupt, through the same handler so that it can be deferred;
    # an ignored SIGINT (nohup, a background job) stays ignored.
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        with contextlib.suppress(ValueError, OSError):
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def reset_in_child() -> None:
    """In a worker process: default SIGTERM/SIGHUP, and ignore Ctrl-C (the parent stops its workers)."""
    for signum in HANDLED:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_DFL)
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
