"""Run the app under uvicorn."""

from __future__ import annotations

from ethicsgate.web.app import WebConfig, create_app

__all__ = ["serve"]


def serve(config: WebConfig, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted.

    Uvicorn's own proxy-header handling stays off: the app believes ``X-Forwarded-*`` and the
    identity header only from the trusted proxy addresses it is given.

    Raises:
        ReviewError: the store cannot be opened.
        SigningError: a key file is not a public key.
    """
    import uvicorn

    app = create_app(config)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        log_level="info",
        access_log=True,
    )
