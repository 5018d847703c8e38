"""A compact index of the addresses an import has seen, for duplicates within a file.

A dict of address strings costs about 150 bytes a row; this table keeps a 64-bit digest of each
key and the line it came from in two flat arrays (about 24 bytes a row at half load), so an
import's memory hardly grows with the file. Two different keys share a digest with a chance of
about n²/2⁶⁵ (3·10⁻¹⁰ for 100,000 rows); the import would then call the second a duplicate.
"""

from __future__ import annotations

import hashlib
from array import array


def digest(key: str) -> int:
    # Never 0: 0 marks an empty slot.
    value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    return value or 1


class DigestIndex:
    def __init__(self, capacity: int = 1 << 12) -> None:
        self._allocate(capacity)
        self.count = 0

    def _allocate(self, capacity: int) -> None:
        self.keys = array("Q", bytes(8 * capacity))
        self.lines = array("I", bytes(4 * capacity))
        self.mask = capacity - 1

    def _slot(self, value: int) -> int:
        i = value & self.mask
        keys = self.keys
        while keys[i] != 0 and keys[i] != value:
            i = (i + 1) & self.mask
        return i

    def get(self, key: str) -> int | None:
        """The line that added `key`, or None."""
        i = self._slot(digest(key))
        return self.lines[i] if self.keys[i] else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def add(self, key: str, line: int) -> None:
        value = digest(key)
        i = self._slot(value)
        if self.keys[i] == 0:
            self.count += 1
        self.keys[i] = value
        self.lines[i] = line
        if self.count * 2 > len(self.keys):
            self._grow()

    def _grow(self) -> None:
        keys, lines = self.keys, self.lines
        self._allocate(len(keys) * 2)
        for value, line in zip(keys, lines, strict=True):
            if value:
                i = self._slot(value)
                self.keys[i] = value
                self.lines[i] = line
