"""How every ``fundsim`` command ends: exit statuses, and one handler that never shows a traceback.

=====  ==========================================================================================
0      success
1      the output stream was closed early (``fundsim schema | head``): nothing more to say
2      a problem with the input or the place asked for: a bad file or option, a folder fundsim
       will not write to or replace, a damaged or foreign results folder, a job above the limits
3      a model invariant failed (a bug in fundsim; the message says what)
4      the results were computed but could not be written where asked; they were saved elsewhere
       (the message says where) or, if nowhere would take them, not saved
5      the machine ran out of memory, or a worker process was killed (by the system's
       out-of-memory killer, say)
70     an unexpected internal error (a bug in fundsim): one line, and a crash file to attach to a
       bug report (``FUNDSIM_TRACEBACK=1`` prints the traceback too)
129    interrupted by SIGHUP (the terminal closed)
130    interrupted by Ctrl-C (SIGINT)
143    interrupted by SIGTERM (``timeout``, a batch scheduler, ``kill``)
=====  ==========================================================================================

After an interruption, workers have been stopped and no partial output is left; a sweep keeps
its finished runs and resumes when the same command is run again.
"""

from __future__ import annotations

import contextlib
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NoReturn

import click

from fundsim.crash import write_crash_report
from fundsim.errors import FundsimError
from fundsim.interrupts import exit_status, interrupt_in, signal_name, signals_as_interrupts
from fundsim.safeio import printable
from fundsim.sim.checks import InvariantError

EXIT_OK = 0
EXIT_CLOSED_OUTPUT = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_NOT_WRITTEN = 4
EXIT_RESOURCES = 5
EXIT_INTERNAL = 70


class NotWrittenError(Exception):
    """The results were computed but not written where asked (exit status 4); the message says why and where."""


def say(message: str, err: bool = True) -> None:
    """Print ``message`` as plain text (never markup), safe in any terminal encoding."""
    click.echo(printable(message), err=err)


def error(message: str, status: int) -> NoReturn:
    """Print ``error: message`` to standard error and exit with ``status``."""
    text = printable(message)
    say(f"error: {text}" if "\n" not in text else f"error:\n{text}")
    sys.exit(status)


def safe_streams() -> None:
    """Let standard output and error print anything: characters the terminal cannot show are escaped.

    An ASCII or Latin-1 terminal (``LANG=C`` on an old system, ``PYTHONIOENCODING=ascii``) would
    otherwise stop the program with UnicodeEncodeError at the first ``£`` or ``–``.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _interrupted(exc: BaseException, ctx: click.Context) -> NoReturn:
    note = ctx.meta.get("fundsim.interrupted")
    what = note or "stopped; no partial results were left (anything half-written was removed)"
    say(f"interrupted by {signal_name(exc)}: {what}")
    sys.exit(exit_status(exc))


def _internal(exc: BaseException) -> NoReturn:
    if os.environ.get("FUNDSIM_TRACEBACK"):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    path = write_crash_report(exc)
    where = (
        f"the details are in {printable(path)}; please attach that file to a bug report"
        if path is not None
        else "no crash file could be written; run again with FUNDSIM_TRACEBACK=1 to see the details"
    )
    summary = printable(f"{type(exc).__name__}: {exc}")[:300]
    say(f"internal error (a bug in fundsim, not in your input): {summary}; {where}")
    sys.exit(EXIT_INTERNAL)


class FundsimGroup(click.Group):
    """The ``fundsim`` group: every command runs inside the handler below.

    Known problems get their own message and exit status (module docstring); SIGTERM and SIGHUP
    are handled like Ctrl-C; anything unexpected is a short message and a crash file, never a
    traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning every way it can fail into a message and an exit status."""
        safe_streams()
        with signals_as_interrupts():
            try:
                return super().invoke(ctx)
            except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
                raise
            except KeyboardInterrupt as exc:  # Ctrl-C, and SIGTERM/SIGHUP (fundsim.interrupts)
                _interrupted(exc, ctx)
            except FundsimError as exc:
                error(str(exc), EXIT_USAGE)
            except InvariantError as exc:
                error(
                    f"model invariant violated (a bug in fundsim; please report it with the scenario): {exc}", EXIT_BUG
                )
            except NotWrittenError as exc:
                error(str(exc), EXIT_NOT_WRITTEN)
            except MemoryError:
                error(
                    "out of memory: the job needs more memory than this machine could give it; use fewer "
                    "replications or jobs (-j), or a smaller scenario",
                    EXIT_RESOURCES,
                )
            except BrokenProcessPool:
                error(
                    "a worker process died while simulating (killed by the system, perhaps for lack of memory); "
                    "try fewer jobs (-j)",
                    EXIT_RESOURCES,
                )
            except BrokenPipeError:
                # Whoever read the output stopped reading (`| head`): be quiet, and keep Python quiet too.
                with contextlib.suppress(OSError):
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, sys.stdout.fileno())
                sys.exit(EXIT_CLOSED_OUTPUT)
            except OSError as exc:
                if exc.filename is None:
                    _internal(exc)
                where = printable(exc.filename)
                error(f"{where}: {exc.strerror or exc}", EXIT_USAGE)
            except RecursionError as exc:
                _internal(exc)
            except Exception as exc:
                # A signal that landed in a callback from compiled code comes back as a SystemError
                # caused by the interrupt (fundsim.interrupts.interrupt_in): it is still an interrupt.
                interrupt = interrupt_in(exc) if isinstance(exc, SystemError) else None
                if interrupt is not None:
                    _interrupted(interrupt, ctx)
                _internal(exc)
