"""A TCP proxy on loopback that can go down, cutting every open connection, and come back on the same port.

Put between the app and its database server, it stands in for the server restarting: while it is down,
connections fail as they do when nothing listens, and those open at the time are dropped mid-stream.
"""
from __future__ import annotations

import socket
import threading


class TCPProxy:
    """Forwards connections to `127.0.0.1:<port>` (its own, chosen when first started) on to `upstream`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen again, on the port of the first start (a fresh one the first time)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True).start()

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def stop(self) -> None:
        """Stop listening and cut every connection open now, both ways."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # stopped while connecting
                    _close(client)
                    _close(server)
                    return
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), name="tcp-proxy-pump",
                                 daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        """Copy one direction until either side ends, then end both."""
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            self._open.difference_update((source, target))
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    """Shut a socket down (waking any thread blocked on it) and close it; it may be closed already."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
