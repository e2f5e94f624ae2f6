"""One progress bar for long counted work (bench, collect, train), so they all look alike:
a label, done of total, a line of live figures, elapsed and remaining time. Disabled, it
draws nothing (quiet runs, tests, a pipe) and its calls cost nothing."""

from __future__ import annotations

from typing import Any


class CountBar:
    """A rich bar over ``total`` units of work, started at once unless ``enabled`` is false."""

    def __init__(self, label: str, total: int, *, enabled: bool = True, completed: int = 0,
                 console: Any = None) -> None:
        self._bar: Any = None
        self._id: Any = None
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                             TimeElapsedColumn(), TimeRemainingColumn(), console=console)
        self._id = self._bar.add_task(label, total=total, completed=completed, info="")
        self._bar.start()

    @property
    def console(self) -> Any:
        """The console the bar draws on (print lines there so they stay above the bar);
        None when disabled."""
        return self._bar.console if self._bar is not None else None

    def advance(self, info: str | None = None) -> None:
        """One more unit done; ``info`` replaces the live figures when given."""
        self.update(advance=1, info=info)

    def update(self, *, completed: int | None = None, advance: int = 0,
               info: str | None = None) -> None:
        """Set the count (``completed``) or move it on (``advance``), and the figures."""
        if self._bar is None:
            return
        fields: dict[str, Any] = {} if info is None else {"info": info}
        if completed is not None:
            fields["completed"] = completed
        self._bar.update(self._id, advance=advance or None, **fields)

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
