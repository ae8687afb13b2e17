"""Media types for ``log()``: images, histograms, tables, HTML and charts.

Importing this package is cheap: numpy, PIL and pandas are imported only when a
media object is built. Each object validates and copies its input when
constructed, and does the costly work (encoding, binning, writing files) in
``to_stub``, which the SDK's writer thread calls.
"""

from . import plot
from ._base import Media
from ._chart import CustomChart, plot_table
from ._histogram import Histogram
from ._html import Html
from ._image import Image
from ._joined import JoinedTable
from ._table import Table

__all__ = ["CustomChart", "Histogram", "Html", "Image", "JoinedTable", "Media", "Table", "plot", "plot_table"]
