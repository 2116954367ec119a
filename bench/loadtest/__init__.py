"""Roster under load: `python -m bench.loadtest` (or `make loadtest`); see `__main__.py` for what it does.

Unlike `bench` it measures the whole deployment over real sockets: gunicorn and the background workers
on PostgreSQL and Redis, driven by Locust as people would use it, then checks that every due post was
published once, every mail delivered once, and no request failed on the server.
"""
