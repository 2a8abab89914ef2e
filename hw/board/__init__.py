"""Board facts: the Pi model, SoC temperature, firmware throttling, CPU, memory, disk and pids.

board.py    the Board Protocol and LinuxBoard (device tree, /sys, /proc, psutil)
types.py    BoardInfo (facts), Readings (samples), Throttling (firmware bits)
fake.py     FakeBoard for tests, with a Pi 4's facts
metrics.py  a Prometheus collector that reads the board on each scrape
"""

from hw.board.board import Board, LinuxBoard
from hw.board.fake import FakeBoard
from hw.board.types import BoardInfo, Readings, Throttling

__all__ = ["Board", "BoardInfo", "FakeBoard", "LinuxBoard", "Readings", "Throttling"]
