"""Persistence for the chat app, one module per topic; :class:`Store` has them all.

Every SQL statement of the server is a method of a topic class here (the tables are in
``schema.py``); routes, the hub and the event recorder call these methods and never
build queries themselves. Each topic is a :class:`~.database.Database` subclass, so a
method of one topic sees only the connection, not the other topics:

- ``conversations.py``: create, list, read, rename / pin / settings, delete with undo
- ``history.py``: the model's messages, saved as snapshots of the timeline
- ``timeline.py``: messages, code actions, observations, images; a branch's view
- ``branches.py``: fork (edit, regenerate) and switch branches
- ``search.py``: titles and message text (FTS5 / PostgreSQL full-text)
- ``files.py``: the files table mirroring a conversation's workspace
- ``settings.py``: the defaults of new conversations
- ``records.py``: the typed dicts every method returns
- ``database.py``: engine, sessions, ``@transaction`` (a query runs in the caller's
  session ``s`` or in its own)

SQLAlchemy 2 on SQLite by default or PostgreSQL by URL.
"""

from __future__ import annotations

from codeact.server.store.branches import Branches
from codeact.server.store.conversations import Conversations
from codeact.server.store.files import Files
from codeact.server.store.history import History
from codeact.server.store.search import Search
from codeact.server.store.settings import Settings
from codeact.server.store.timeline import Timeline

__all__ = ["Store"]


class Store(Conversations, History, Timeline, Branches, Search, Files, Settings):
    """The chat app's database: every topic's queries on one connection.

    ``Store(url)``: a SQLAlchemy URL, a SQLite file path, or None (the default SQLite
    file under the user data directory); opening it creates or migrates the tables.
    """
