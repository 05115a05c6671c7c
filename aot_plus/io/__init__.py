"""File input and output every tool shares: atomic writes, image and mask reading, output-folder ownership.

- :mod:`aot_plus.io.atomic`: a final file appears under its name only when complete, with the user's umask, and a
  full disk or a read-only folder is one :class:`OutputError` line naming the path.
- :mod:`aot_plus.io.images`: frame listing (natural order, dotted names, duplicate stems refused), image and
  mask decoding (truncated files named with their frame index), first-mask validation.
- :mod:`aot_plus.io.ownership`: a manifest marking the folders a tool created, so it only ever replaces what it
  wrote itself, and the key a results folder or a training run records to refuse resuming from other settings.
"""
from aot_plus.io.atomic import (OutputError, atomic_dir, atomic_path, atomic_write, file_mode, output_error,
                                replace_folder, write_bytes, write_text, write_with)
from aot_plus.io.images import (IMAGE_SUFFIXES, InputError, frame_stem, has_object, list_frames, natural_key,
                                read_first_mask, read_label, read_rgb)

__all__ = ["OutputError", "atomic_dir", "atomic_path", "replace_folder", "atomic_write", "file_mode", "output_error", "write_bytes", "write_text",
           "write_with",
           "IMAGE_SUFFIXES", "InputError", "frame_stem", "has_object", "list_frames", "natural_key", "read_first_mask",
           "read_label", "read_rgb"]
