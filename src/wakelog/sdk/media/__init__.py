"""Media types for ``log()``: images (with masks and boxes), histograms, tables, HTML and charts.

Importing this package is cheap: numpy, PIL and pandas are imported only when a
media object is built. Each object validates and copies its input when
constructed, and does the costly work (encoding, binning, writing files) in
``to_stub``, which the SDK's writer thread calls.
"""

from . import plot
from ._base import Media
from ._boxes import BoundingBoxes2D
from ._chart import CustomChart
from ._classes import Classes
from ._histogram import Histogram
from ._html import Html
from ._image import Image
from ._masks import ImageMask
from ._table import Table

__all__ = [
    "BoundingBoxes2D",
    "Classes",
    "CustomChart",
    "Histogram",
    "Html",
    "Image",
    "ImageMask",
    "Media",
    "Table",
    "plot",
]
