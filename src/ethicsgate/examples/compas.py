"""ProPublica's COMPAS data (``ethicsgate examples compas``): downloaded once, checked, cached.

``compas-scores-two-years.csv`` holds the 7,214 Broward County defendants of ProPublica's
"Machine Bias" analysis (2016). It carries defendants' names and dates of birth and no license,
so ethicsgate does not ship it: ``fetch_compas`` downloads it from ProPublica's public
repository, accepts it only with the pinned sha256, and keeps it in the user's cache
(``$XDG_CACHE_HOME/ethicsgate/datasets``, ``~/.cache/ethicsgate/datasets`` by default). Offline,
``source`` takes a copy obtained some other way; it is held to the same digest.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ethicsgate.errors import EthicsgateError

__all__ = [
    "COMPAS_FILE",
    "COMPAS_SHA256",
    "COMPAS_URL",
    "ExampleDataError",
    "cache_dir",
    "fetch_compas",
    "write_compas_example",
]

COMPAS_FILE = "compas-scores-two-years.csv"
#: ProPublica's repository; the file was last changed in commit c062fbb (2016-05-20).
COMPAS_URL = "https://raw.githubusercontent.com/propublica/compas-analysis/master/" + COMPAS_FILE
COMPAS_SHA256 = "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"
_CHUNK = 1 << 16


class ExampleDataError(EthicsgateError):
    """Example data cannot be obtained: offline, a failed download, or the wrong bytes."""

    kind = "example data"


def cache_dir() -> Path:
    """Return the folder downloaded example data is kept in (``$XDG_CACHE_HOME/ethicsgate``)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "ethicsgate" / "datasets"


def _how_to_provide(url: str) -> str:
    return (
        f"on a machine with internet access, run `curl -LO {url}`; then pass the file: "
        f"`ethicsgate examples compas --out DIR --from {COMPAS_FILE}`"
    )


def _copy_checked(
    copy: Callable[[Callable[[bytes], None]], None], target: Path, *, what: str, url: str
) -> None:
    """Write what ``copy`` feeds into ``target`` atomically, only if its sha256 is the pinned one.

    Raises:
        ExampleDataError: the bytes are not ProPublica's file (nothing is written).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:

            def write(chunk: bytes) -> None:
                digest.update(chunk)
                handle.write(chunk)

            copy(write)
        found = digest.hexdigest()
        if found != COMPAS_SHA256:
            raise ExampleDataError(
                f"{what} has sha256 {found}, not {COMPAS_SHA256}: it is not the "
                f"{COMPAS_FILE} ProPublica published, so it was not used",
                hint=_how_to_provide(url),
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def fetch_compas(
    *, source: Path | None = None, url: str | None = None, timeout: float = 60.0
) -> Path:
    """Return the cached ProPublica CSV: downloaded (or copied from ``source``) on first use.

    Raises:
        ExampleDataError: offline or the download failed (the message names the URL and how
            to pass the file with --from), ``source`` is missing, or the bytes have the wrong
            sha256.
    """
    url = url or COMPAS_URL
    cached = cache_dir() / COMPAS_SHA256[:16] / COMPAS_FILE
    if source is None and cached.is_file():
        return cached
    if source is not None:
        if not source.is_file():
            raise ExampleDataError("file not found", location=source, hint=_how_to_provide(url))

        def copy_file(write: Callable[[bytes], None]) -> None:
            with source.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    write(chunk)

        _copy_checked(copy_file, cached, what=str(source), url=url)
        return cached

    def download(write: Callable[[bytes], None]) -> None:
        request = urllib.request.Request(url, headers={"User-Agent": "ethicsgate"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            while chunk := response.read(_CHUNK):
                write(chunk)

    try:
        _copy_checked(download, cached, what=url, url=url)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ExampleDataError(
            f"cannot download {url} ({reason})", hint=_how_to_provide(url)
        ) from exc
    return cached


AUDIT_TEXT = """\
schema_version: 1
id: compas-propublica
title: COMPAS general recidivism score, ProPublica's 7,214 Broward County defendants
description: >
  Reproduces ProPublica's error-rate table (2016). The data were downloaded by
  `ethicsgate examples compas` from ProPublica's repository and checked against sha256
  {sha256}.
policy: pack:recidivism-fairness
evidence:
  predictions:
    path: {data}
    columns:
      label: two_year_recid
      prediction: "score_text <> 'Low'"
      race: race
      sex: sex
"""

README_TEXT = """\
# COMPAS: ProPublica's two-year recidivism data

`{file}` is ProPublica's file ({url}), sha256 `{sha256}`: the 7,214 Broward County
defendants of "Machine Bias" (2016). It holds names and dates of birth of real people and
carries no license: use it to reproduce the analysis, do not republish it.

Audit it from the folder you ran `ethicsgate examples compas` in (exit 1: COMPAS fails the
false positive rate parity rule, as ProPublica found):

```sh
{command}
```

The walk-through is docs/tutorial-compas.md in the ethicsgate repository.
"""


def audit_command(out_dir: Path | str) -> str:
    """Return the command that audits what ``write_compas_example(out_dir)`` wrote."""
    out = Path(out_dir)
    return f"ethicsgate audit {out / 'audit.yaml'} --out {out / 'report'}"


def write_compas_example(
    out_dir: Path | str,
    *,
    source: Path | None = None,
    url: str | None = None,
    with_audit: bool = True,
    force: bool = False,
    options: tuple[str, str] = ("out_dir= of write_compas_example", "force=True"),
) -> dict[str, Path]:
    """Write the ProPublica CSV (and, with ``with_audit``, an audit spec and README) to a folder.

    Returns the written paths by file name. A file there that differs (an edited audit spec)
    is replaced only with ``force``. ``options``: how errors' hints name ``out_dir`` and
    ``force`` (the command line passes ``("--out", "--force")``).

    Raises:
        ExampleDataError: the data cannot be obtained (see :func:`fetch_compas`).
        OutputError: a file there differs and ``force`` is off; nothing is written.
    """
    from ethicsgate.files import refuse_to_replace_changed, write_files_atomically

    data = fetch_compas(source=source, url=url)
    out = Path(out_dir)
    contents = {COMPAS_FILE: data.read_bytes()}  # 2.5 MB, checked against its pinned sha256
    if with_audit:
        contents["audit.yaml"] = AUDIT_TEXT.format(data=COMPAS_FILE, sha256=COMPAS_SHA256).encode()
        contents["README.md"] = README_TEXT.format(
            file=COMPAS_FILE,
            url=url or COMPAS_URL,
            sha256=COMPAS_SHA256,
            command=audit_command(out_dir),
        ).encode()
    out_option, force_option = options
    if not force:
        refuse_to_replace_changed(
            out, contents, what="the COMPAS example", option=out_option, force=force_option
        )
    written = write_files_atomically(out, contents, option=out_option)
    return dict(zip(contents, written, strict=True))
