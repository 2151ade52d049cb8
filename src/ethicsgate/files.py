"""Writing output files all or nothing: reports, statements, CI files, review exports."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NoReturn

from ethicsgate.errors import OutputError

__all__ = [
    "HashingWriter",
    "ReportFiles",
    "StagedFiles",
    "check_writable",
    "output_error",
    "refuse_to_replace_changed",
    "staged_files",
    "write_files_atomically",
    "write_signed_files",
]

#: Bytes per read when a staged file is copied from another file.
_COPY_CHUNK = 1 << 20


def output_error(
    path: Path,
    exc: OSError,
    *,
    what: str = "the output folder",
    folder: bool = True,
    option: str = "--out",
) -> NoReturn:
    """Raise an :class:`OutputError` naming ``path`` (a ``folder`` or a file), why and the fix.

    ``option``: the command-line option that names the path, for the hint.
    """
    reason = exc.strerror or type(exc).__name__
    blocker = next((p for p in (path, *path.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir() and (folder or blocker != path):
        reason = f"{blocker} is a file, not a folder"
    elif folder is False and path.is_dir():
        reason = "a folder of that name is in the way"
    raise OutputError(
        f"cannot write {what}: {reason}",
        location=path,
        hint=f"choose a folder you can write to ({option}), or fix the permissions of its parent",
    ) from exc


def check_writable(
    out_dir: Path,
    *,
    what: str = "the output folder",
    files: Sequence[str] = (),
    option: str = "--out",
) -> None:
    """Check, before any long work, that files can be written into ``out_dir``; leave no trace.

    Creates the missing folders and one empty temporary file, then removes what it made: the
    only test that holds on read-only mounts, network shares and ``/proc`` alike (permission
    bits say nothing of those, and root passes every ``os.access`` test).

    ``option``: the command-line option naming the folder, for the error's hint.

    ``files``: the names the output will have there; none may be a folder (the files are
    moved in one by one: a folder in the way of the third would leave two of them new).

    Raises:
        OutputError: the folder or a parent cannot be made, a file cannot be made in it, or a
            folder has the name of one of ``files``.
    """
    _no_folder_in_the_way(out_dir, files, option=option)
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ethicsgate-probe-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        output_error(out_dir, exc, what=what, option=option)
    finally:
        _remove_folders(created)


def _no_folder_in_the_way(out_dir: Path, names: Iterable[str], *, option: str = "--out") -> None:
    """Raise an :class:`OutputError` when a folder has the name of one of the files to write."""
    for name in names:
        if (out_dir / name).is_dir():
            raise OutputError(
                "cannot write the file: a folder of that name is in the way",
                location=out_dir / name,
                hint=f"remove or rename that folder, or choose another folder ({option})",
            )


def _remove_folders(created: Sequence[Path]) -> None:
    """Remove the folders an output made, deepest first, while they are empty."""
    for path in created:
        try:
            path.rmdir()
        except FileNotFoundError:  # never made: the making stopped above it
            continue
        except OSError:
            break


def refuse_to_replace_changed(
    out_dir: Path,
    contents: Mapping[str, bytes],
    *,
    what: str,
    option: str = "--out",
    force: str = "--force",
) -> None:
    """Raise if a file of ``out_dir`` holds other bytes than ``contents`` would give it.

    For generated files a user is told to edit (examples, scaffolds): writing them again with
    the same bytes is harmless; over an edit it would lose the user's work without a word.
    ``option`` and ``force`` name, for the hint, how the caller chose the folder and asked to
    overwrite (``--out`` and ``--force`` on the command line, parameters in Python).

    Raises:
        OutputError: the files that differ, with the way to overwrite them anyway.
    """
    changed = [
        out_dir / name
        for name, content in contents.items()
        if (out_dir / name).is_file() and (out_dir / name).read_bytes() != content
    ]
    if changed:
        names = ", ".join(p.name for p in changed)
        raise OutputError(
            f"{len(changed)} file(s) there differ from {what}'s and would be lost: {names}",
            location=out_dir,
            hint=f"pass {force} to overwrite them, or choose another folder ({option})",
        )


def write_files_atomically(
    out_dir: Path, files: Mapping[str, bytes], *, option: str = "--out"
) -> list[Path]:
    """Write each file to a temporary name in ``out_dir``, then rename it into place.

    Readers never see a half-written file; if rendering or writing fails, no file is
    replaced. Returns the written paths. ``option``: how the caller named the folder, for the
    error's hint (``--out``, or a Python parameter such as ``out=``).

    Raises:
        OutputError: the folder or a file in it cannot be written (nothing replaced).
    """
    _no_folder_in_the_way(out_dir, files, option=option)  # found before any file is replaced
    try:
        return _write_files_atomically(out_dir, files)
    except OSError as exc:
        output_error(out_dir, exc, option=option)


def _write_files_atomically(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
            staged.append((name, Path(tmp_name)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
        written = []
        for name, staged_path in staged:
            os.replace(staged_path, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        for _, leftover in staged:
            if leftover.exists():
                leftover.unlink()


def write_signed_files(out_dir: Path, files: Mapping[str, bytes], *, envelope: str) -> list[Path]:
    """Write files atomically; remove an ``envelope`` an earlier, signed run left.

    When ``files`` holds no envelope (an unsigned run), an old one would sign files that are no
    longer there and never verify again, so it is removed. Returns the written paths.
    """
    written = write_files_atomically(out_dir, files)
    stale = out_dir / envelope
    if envelope not in files and stale.exists():
        stale.unlink()
    return written


class HashingWriter:
    """A binary file being written that hashes (SHA-256) and counts its bytes as they pass.

    It has what the Parquet, CSV and template writers need of a file: ``write``, ``tell``,
    ``flush`` and ``closed``.
    """

    def __init__(self, handle: BinaryIO) -> None:
        """Write to ``handle``, a file open for writing in binary mode."""
        self._handle = handle
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write ``data``, hashing it; return its length."""
        view = memoryview(data).cast("B")
        self._sha256.update(view)
        self._handle.write(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        """Return how many bytes were written."""
        return self.size

    def flush(self) -> None:
        """Flush the file's buffer."""
        self._handle.flush()

    def writable(self) -> bool:
        """Return True: the file is open for writing."""
        return True

    def hexdigest(self) -> str:
        """Return the SHA-256 of the bytes written so far."""
        return self._sha256.hexdigest()


class ReportFiles(Mapping[str, bytes]):
    """Written files by name; a file's bytes are read from disk when asked for.

    ``digests`` holds the SHA-256 (hex) of each file as it was written: the digests signed,
    without reading the files back.
    """

    def __init__(self, paths: Mapping[str, Path], digests: Mapping[str, str]) -> None:
        """Hold where each file is and its SHA-256 (hex), by name."""
        self.paths = dict(paths)
        self.digests = dict(digests)

    def __getitem__(self, name: str) -> bytes:
        """Return the file's bytes, read from disk."""
        return self.paths[name].read_bytes()

    def __iter__(self) -> Iterator[str]:
        """Iterate over the file names."""
        return iter(self.paths)

    def __len__(self) -> int:
        """Return the number of files."""
        return len(self.paths)

    def __repr__(self) -> str:
        """Return the file names."""
        return f"ReportFiles({', '.join(self.paths)})"


class StagedFiles:
    """Output files written, hashed as written, to a staging folder, then moved into place.

    The staging folder is a hidden temporary folder inside ``out_dir``: on the same file
    system, so that every file is moved by a rename, and never read as a report folder
    (hidden). :func:`staged_files` creates it and removes it, whatever happens.
    """

    def __init__(self, out_dir: Path, folder: Path, *, option: str = "--out") -> None:
        """Stage files in ``folder`` for ``out_dir`` (named by ``option``, for errors' hints)."""
        self.out_dir = out_dir
        self.folder = folder
        self.option = option
        self.digests: dict[str, str] = {}
        self._staged: dict[str, Path] = {}
        self._committed: dict[str, Path] | None = None

    @property
    def committed(self) -> bool:
        """Return whether the staged files were moved into place."""
        return self._committed is not None

    @contextmanager
    def open(self, name: str) -> Iterator[HashingWriter]:
        """Stage the file ``name``: yield a writer; on leaving, the file is complete and synced.

        Its digest is in :attr:`digests` once the block is left without an error.
        """
        if self._committed is not None:
            raise RuntimeError("the staged files were already moved into place")
        if name in self._staged or Path(name).name != name or name.startswith("."):
            raise ValueError(f"cannot stage {name!r}: a plain file name, once")
        path = self.folder / name
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            self._error(name, exc)
        self._staged[name] = path
        with os.fdopen(fd, "wb") as handle:
            writer = HashingWriter(handle)
            try:
                yield writer
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:  # the disk full, a quota, an I/O error while writing
                self._error(name, exc)
        os.chmod(path, 0o644)
        self.digests[name] = writer.hexdigest()

    def add(self, name: str, content: bytes) -> str:
        """Stage the file ``name`` holding ``content``; return its SHA-256 (hex)."""
        with self.open(name) as out:
            out.write(content)
        return self.digests[name]

    def copy(self, name: str, source: Path) -> str:
        """Stage the file ``name`` as a copy of ``source``, streamed; return its SHA-256 (hex)."""
        with self.open(name) as out, source.open("rb") as handle:
            shutil.copyfileobj(handle, out, _COPY_CHUNK)
        return self.digests[name]

    def commit(self, *, drop: Sequence[str] = ()) -> ReportFiles:
        """Move every staged file into ``out_dir``; remove the files ``drop`` names there.

        ``drop``: files an earlier run left that the new set would leave stale (a signature
        of files no longer there), removed unless staged now. Returns the written files.
        """
        if self._committed is not None:
            raise RuntimeError("the staged files were already moved into place")
        _no_folder_in_the_way(self.out_dir, self._staged, option=self.option)  # before any move
        written: dict[str, Path] = {}
        try:
            for name, path in self._staged.items():
                os.replace(path, self.out_dir / name)
                written[name] = self.out_dir / name
            for name in drop:
                stale = self.out_dir / name
                if name not in written and stale.exists():
                    stale.unlink()
        except OSError as exc:  # a folder in the way of a file name, a file made read-only
            self._error(name, exc)
        self._committed = written
        return ReportFiles(written, self.digests)

    def _error(self, name: str, exc: OSError) -> NoReturn:
        output_error(self.out_dir / name, exc, what="the file", folder=False, option=self.option)


@contextmanager
def staged_files(out_dir: Path, *, option: str = "--out") -> Iterator[StagedFiles]:
    """Yield a :class:`StagedFiles` for ``out_dir`` (created); remove its staging folder after.

    ``option``: how the caller named ``out_dir``, for errors' hints (``--out``, ``out=``).

    Nothing reaches ``out_dir`` before :meth:`StagedFiles.commit`; an error before it (or a
    block left without committing) leaves ``out_dir`` as it was, and no staging folder.
    """
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    staged: StagedFiles | None = None
    try:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=".ethicsgate-staging-", dir=out_dir))
        except OSError as exc:
            output_error(out_dir, exc, option=option)
        try:
            staged = StagedFiles(out_dir, folder, option=option)
            yield staged
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        if staged is None or not staged.committed:
            _remove_folders(created)
