"""What a failed Spark query raises, and the paths Spark names files by."""

from __future__ import annotations

from pyspark.errors import PySparkException

__all__ = ["SPARK_ERRORS", "local_path"]

#: PySpark's errors (analysis, parse, runtime; Spark Connect's too) and, for the classic client,
#: Py4J's (a JVM that went away).
SPARK_ERRORS: tuple[type[BaseException], ...] = (PySparkException,)
try:
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]

    SPARK_ERRORS = (PySparkException, Py4JError)
except ImportError:  # pragma: no cover - py4j comes with pyspark
    pass


def local_path(uri: str) -> str:
    """Return a ``file:`` URI as a local path (other schemes as they are)."""
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(uri).path)
    return uri
