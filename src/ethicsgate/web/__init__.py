"""The reviewer web app (``ethicsgate serve``): the review queue, reports and decision log.

In a browser, with a JSON API for automation.
A front door like ``cli/`` and ``api/``: it calls the review store and workflow
(``ethicsgate.review``) and signature verification (``ethicsgate.attest``), never ``cli/``.
Starlette and uvicorn (the ``web`` extra) are imported here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.web.app import WebConfig, create_app
    from ethicsgate.web.server import serve

__all__ = ["WebConfig", "create_app", "serve"]

_HOMES = {"WebConfig": "app", "create_app": "app", "serve": "server"}

__getattr__ = lazy_exports(__name__, _HOMES)
