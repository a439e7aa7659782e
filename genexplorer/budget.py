"""The CPU budget of the interactive work that runs for as long as a page watches it (PixelCNN drawings,
GAN lab toys): however many people watch, at most this many such frames are computed at once, so they
can take that many cores and never the ones the draw, noise and slider requests need."""
from __future__ import annotations

import threading

INTERACTIVE_SLOTS = 1
INTERACTIVE = threading.BoundedSemaphore(INTERACTIVE_SLOTS)
