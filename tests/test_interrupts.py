"""Signals inside a pool's locks are held until the locks are released (fundsim.interrupts.deferred_signals).

An exception raised by a signal handler between acquiring a lock and entering the ``with`` block
that releases it leaves the lock held; stopping the process pool afterwards then waits for ever
(a hang seen once in the signals suite, on Ctrl-C during ``run -j 2``). The pool's submit and poll
run inside ``deferred_signals``: these tests send real signals to this process and check where
the interrupt lands.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from fundsim.interrupts import Interrupted, deferred_signals, exit_status, signals_as_interrupts


@pytest.fixture(autouse=True)
def _ctrl_c_as_in_the_foreground() -> Iterator[None]:
    """Ctrl-C's default handler, as a foreground job has it (a background job starts with SIGINT ignored)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _signal_inside(signals: list[int], depth: int, reached: list[str]) -> None:
    """Send ``signals`` to this process inside ``depth`` nested deferred blocks, noting how far it got."""
    with signals_as_interrupts():
        if depth == 0:
            for signum in signals:
                os.kill(os.getpid(), signum)
            for _ in range(1000):  # the handler runs at the next bytecode boundaries
                pass
            reached.append("after the signal")
            return
        with deferred_signals():
            if depth == 2:
                with deferred_signals():
                    for signum in signals:
                        os.kill(os.getpid(), signum)
                reached.append("inner end")
            else:
                for signum in signals:
                    os.kill(os.getpid(), signum)
            for _ in range(1000):  # the handler has run by now: it must not have raised
                pass
            reached.append("end of block")
        reached.append("after the block")


@pytest.mark.parametrize(
    ("signum", "kind", "status"),
    [(signal.SIGTERM, Interrupted, 143), (signal.SIGHUP, Interrupted, 129), (signal.SIGINT, KeyboardInterrupt, 130)],
)
def test_a_signal_inside_the_block_is_raised_when_it_ends(signum: int, kind: type, status: int) -> None:
    reached: list[str] = []
    with pytest.raises(KeyboardInterrupt) as info:
        _signal_inside([signum], 1, reached)
    assert reached == ["end of block"]  # not raised inside; raised as the block ended, before the next line
    assert type(info.value) is kind
    assert exit_status(info.value) == status


def test_outside_the_block_a_signal_raises_at_once() -> None:
    reached: list[str] = []
    with pytest.raises(Interrupted):
        _signal_inside([signal.SIGTERM], 0, reached)
    assert reached == []


def test_nested_blocks_raise_the_first_signal_once_at_the_outermost_end() -> None:
    reached: list[str] = []
    with pytest.raises(Interrupted) as info:
        _signal_inside([signal.SIGTERM, signal.SIGHUP], 2, reached)
    assert reached == ["inner end", "end of block"]
    assert info.value.signum == signal.SIGTERM


def test_handlers_are_restored_and_an_ignored_ctrl_c_stays_ignored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with signals_as_interrupts():
        pass
    assert {s: signal.getsignal(s) for s in before} == before
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with signals_as_interrupts():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[signal.SIGINT])


def _kernel_stopped_by(signum: int):  # type: ignore[no-untyped-def]
    """A compiled kernel as numba hands it back when a signal's handler raised inside its callback into Python."""

    def kernel(*_args):  # type: ignore[no-untyped-def]
        try:
            raise KeyboardInterrupt() if signum == signal.SIGINT else Interrupted(signum)
        except KeyboardInterrupt as exc:
            raise SystemError(
                "CPUDispatcher(<function _allocate_day>) returned a result with an exception set"
            ) from exc

    return kernel


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)  # fmt: skip
def test_a_signal_inside_compiled_code_is_still_an_interrupt(monkeypatch, tmp_path, signum: int, status: int) -> None:
    """Seen in the signals suite: a SIGTERM that landed in numba's ``_numba_unpickle`` made `run` exit 70."""
    pytest.importorskip("numba")
    from click.testing import CliRunner

    from fundsim.cli import main
    from fundsim.scenario.loader import load_scenario
    from fundsim.sim import allocation_compiled, kernels, simulate

    tiny = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"
    monkeypatch.setenv(kernels.ENV_VAR, "compiled")
    monkeypatch.setattr(allocation_compiled, "_allocate_day", _kernel_stopped_by(signum))
    with pytest.raises(KeyboardInterrupt) as caught:
        simulate(load_scenario(tiny), 0)
    assert exit_status(caught.value) == status
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(tiny), "-r", "1", "-j", "1", "-q", "-o", str(out)])
    assert result.exit_code == status, result.output
    assert "internal error" not in result.output
    assert "interrupted by" in result.output
    assert not out.exists()
