"""Charts given to ``Image``: matplotlib figures and plotly figures, rendered to PNG.

matplotlib is rendered at once (``savefig``), as wandb does: a figure is mutable and
matplotlib is not thread-safe, so the writer thread must not touch it later. A plotly
figure is copied to its JSON form now and rendered by kaleido in the writer thread,
because kaleido drives a headless Chromium and takes seconds. Neither library is a
wakelog dependency; the ``figures`` extra installs both (see docs/media.md).
"""

from __future__ import annotations

import copy
import io
import sys
from typing import Any


def is_matplotlib(obj: Any) -> bool:
    """A matplotlib figure or artist, or the ``matplotlib.pyplot`` module itself."""
    if getattr(obj, "__name__", None) == "matplotlib.pyplot" and obj is sys.modules.get("matplotlib.pyplot"):
        return True
    return type(obj).__module__.startswith("matplotlib.")


def is_plotly(obj: Any) -> bool:
    kind = type(obj)
    return kind.__module__.startswith("plotly.") and kind.__name__ == "Figure"


def matplotlib_png(obj: Any) -> bytes:
    """PNG bytes of a matplotlib figure, of the figure an artist (e.g. Axes) is on, or of ``pyplot.gcf()``."""
    from matplotlib.figure import Figure

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and obj is pyplot:
        obj = pyplot.gcf()
    elif not isinstance(obj, Figure):
        obj = getattr(obj, "figure", None)
        if not isinstance(obj, Figure):
            raise ValueError(
                "Image takes matplotlib.pyplot, a Figure, or an artist on a figure (e.g. Axes); "
                f"got a {type(obj).__name__} that is on no figure"
            )
    buf = io.BytesIO()
    obj.savefig(buf, format="png")
    return buf.getvalue()


def plotly_json(fig: Any) -> dict[str, Any]:
    """A copy of a plotly figure that later edits to ``fig`` do not change."""
    snapshot: dict[str, Any] = fig.to_plotly_json()
    return copy.deepcopy(snapshot)


#: Renders tried per figure. kaleido drives a Chromium tab; on a loaded machine its page's script
#: may not have run yet when kaleido calls into it ("kaleido_scopes is not defined"), which a second
#: render does not meet.
RENDER_TRIES = 3


def plotly_png(figure: dict[str, Any]) -> bytes:
    """Render a plotly figure (its JSON form) to PNG with kaleido."""
    try:
        import plotly.io as pio  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            "Image of a plotly figure needs plotly and kaleido: pip install 'wakelog[figures]'"
        ) from None
    for _ in range(RENDER_TRIES - 1):
        try:
            return _render(pio, figure)
        except ImportError:
            raise
        except Exception:
            continue  # the tab was not ready: a new render starts another
    return _render(pio, figure)


def _render(pio: Any, figure: dict[str, Any]) -> bytes:
    try:
        png: bytes = pio.to_image(figure, format="png")
    except (ImportError, ValueError) as exc:
        raise ImportError(
            f"Image of a plotly figure needs kaleido (and a Chromium it can start): "
            f"pip install 'wakelog[figures]' ({exc})"
        ) from None
    return png
