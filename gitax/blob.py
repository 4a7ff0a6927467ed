"""exax's `accelerator.blob`: `blob.load` and `blob.save` of pickles (see gitax.extras)."""

from __future__ import annotations

from gitax.extras import pickle_load as load
from gitax.extras import pickle_save as save

__all__ = ["load", "save"]
