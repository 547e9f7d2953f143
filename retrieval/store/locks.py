"""Locks the in-process stores need: a reader/writer lock and an exclusive folder lock.

The reader/writer lock makes `replace()` atomic for readers of the same process: searches
hold it shared, replacements hold it exclusively, so a search sees the old set or the new one.
The folder lock makes "one process owns the index folder" explicit, with a message naming the
folder, instead of the engines' own low-level errors.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from retrieval.store.errors import StoreLockedError


class ReadWriteLock:
    """Many readers or one writer. Writers are preferred: once a writer waits, new readers
    queue behind it, so a steady stream of searches cannot starve a replacement."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class FolderLock:
    """An exclusive, non-blocking `flock` on `<folder>.lock`, held while a store is open.

    The lock file sits beside the folder (not inside it) so the engine owns its folder's
    contents alone. The kernel drops the lock if the process dies, so no stale locks remain.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder.with_name(folder.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise StoreLockedError(
                f"index folder {self.folder} is in use by another process (or another open "
                f"store in this one); only one may own it. Stop the other devia process "
                f"(server, ingest) or point DEVIA_DATA_DIR elsewhere."
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
