"""The ways a batch is refused: malformed (``IngestError``), over a documented limit (``BatchTooLarge``,
which the client answers by sending smaller batches) or out of order (``SequenceGap``)."""

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
