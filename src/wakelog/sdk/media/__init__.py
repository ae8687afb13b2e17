"""Media types for ``log()``: images (with masks and boxes), video, audio, 3-D objects, molecules,
histograms, tables, HTML and charts.

Importing this package is cheap: numpy, PIL, pandas, soundfile and ffmpeg are imported only
when a media object is built or written. Each object validates and copies its input when
constructed, and does the costly work (encoding, binning, writing files) in ``to_stub``, which
the SDK's writer thread calls.
"""

from . import plot
from ._audio import Audio
from ._base import Media
from ._boxes import BoundingBoxes2D
from ._chart import CustomChart, plot_table
from ._classes import Classes
from ._histogram import Histogram
from ._html import Html
from ._image import Image
from ._joined import JoinedTable
from ._masks import ImageMask
from ._molecule import Molecule
from ._object3d import Object3D, box3d
from ._plotly import Plotly
from ._table import Table
from ._video import Video

__all__ = [
    "Audio",
    "BoundingBoxes2D",
    "Classes",
    "CustomChart",
    "Histogram",
    "Html",
    "Image",
    "ImageMask",
    "JoinedTable",
    "Media",
    "Molecule",
    "Object3D",
    "Plotly",
    "Table",
    "Video",
    "box3d",
    "plot",
    "plot_table",
]
