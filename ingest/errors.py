"""The one error type ingest raises for bad input, and where in the input it points."""

from __future__ import annotations


class BadField(Exception):
    """A value inside one input document is missing or has the wrong shape.

    `place` is a path into the document, such as `simulations[12].reward_info.reward`;
    the loader adds the file name and turns this into an `IngestError`.
    """

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"{place}: {problem}" if place else problem)
        self.place = place
        self.problem = problem


class IngestError(Exception):
    """An input file cannot be ingested; the message names the file and the exact place."""

    def __init__(self, source: str, problem: str, place: str = "") -> None:
        where = f"{source}: {place}" if place else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.place = place
        self.problem = problem
