"""Errors raised by the index stores, the same for every backend."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of index store errors."""


class StoreLockedError(StoreError):
    """The index folder is owned by another process (or another open store)."""


class CollectionMissingError(StoreError):
    """The index has not been created yet (nothing ingested), or was created differently."""


class InvalidInputError(StoreError, ValueError):
    """A point or filter that would corrupt or widen the index: refused before any write."""
