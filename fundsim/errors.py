"""User-facing errors.

Anything a user can cause by what they type or the files they point fundsim at is reported as a
:class:`FundsimError`; the CLI prints ``str(error)`` and exits with status 2, without a traceback.
Tracebacks are kept for bugs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class FundsimError(Exception):
    """Base class for errors caused by the user's input rather than by a bug in fundsim."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows.

    ``line`` and ``column`` are 1-based and ``None`` when unknown; ``field`` is the dotted path of
    the offending value (``workforce.grades[1].fte``) or ``''`` for a problem with the whole file.
    """

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        """Format as ``FILE:LINE:COL: FIELD: MESSAGE``, leaving out the parts that are unknown."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class ScenarioError(FundsimError):
    """An input file (a scenario, or any other file validated against a model) is not valid.

    Holds every problem found, so that a user can fix them all in one pass.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        problems = list(problems)
        if not problems:
            raise ValueError("a ScenarioError needs at least one problem")
        # Passing the problems to Exception keeps ``args`` meaningful, which is what pickling
        # uses to rebuild the error (e.g. when a sweep worker process reports it).
        super().__init__(problems)
        self.problems: list[Problem] = problems

    @classmethod
    def single(
        cls,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str = "",
    ) -> ScenarioError:
        """Build an error holding one problem."""
        return cls([Problem(file=file, line=line, column=column, field=field, message=message)])

    def __str__(self) -> str:
        """One line per problem, in the ``FILE:LINE:COL: FIELD: MESSAGE`` form."""
        return "\n".join(str(p) for p in self.problems)
