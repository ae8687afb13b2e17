"""The ways a batch is refused: malformed (``IngestError``), over a documented limit (``BatchTooLarge``,
which the client answers by sending smaller batches), out of order (``SequenceGap``) or sent to a
run or project in the trash (``InTrash``)."""

from __future__ import annotations

from wakelog.errors import Error


class IngestError(Error, ValueError):
    """A malformed batch; nothing of it was applied."""


class BatchTooLarge(IngestError):
    """A batch over a limit a smaller batch would meet (the server answers 413)."""


class SequenceGap(Error):
    """The batch does not continue the run's records; resend from ``ack + 1``."""

    def __init__(self, ack: int, first: int) -> None:
        super().__init__(f"records must continue from seq {ack + 1}, the batch starts at {first}")
        self.ack = ack


class InTrash(Error):
    """The run, or its project, is in the trash: nothing is written to it until it is restored."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} is in the trash; restore it from the web app's trash (or with the API) and send "
            "again, e.g. with `wakelog sync`"
        )
