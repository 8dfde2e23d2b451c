"""Running a lab's socketserver in a daemon thread, and stopping it (shared by the lab servers)."""

from __future__ import annotations

import socketserver
import threading

__all__ = ["serve_in_thread", "stop_serving"]


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Start ``server.serve_forever`` in a daemon thread named ``name`` and return the thread. The
    short poll interval lets :func:`stop_serving` (and ``shutdown``) return quickly."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=name)
    thread.start()
    return thread


def stop_serving(server: socketserver.BaseServer | None, thread: threading.Thread | None) -> None:
    """Stop serving, close the listening socket and wait for the thread (None: nothing to stop)."""
    if server is None:
        return
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join()
