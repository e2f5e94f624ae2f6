"""The files of a conversation's workspace as the UI lists them (the bytes stay on disk)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from codeact.server.schema import FileRow, now
from codeact.server.store.database import OWN, Database, transaction
from codeact.server.store.records import FileRecord, file_record

__all__ = ["Files"]


class Files(Database):
    """Record uploads, mirror a workspace scan, list the files by name."""

    @transaction
    def upsert_file(self, conversation_id: str, name: str, size: int,
                    source: str = "upload", *, s: Session = OWN) -> FileRecord:
        f = s.scalar(select(FileRow).where(FileRow.conversation_id == conversation_id,
                                           FileRow.name == name))
        if f is None:
            f = FileRow(conversation_id=conversation_id, name=name, size=size,
                        source=source, created_at=now(), updated_at=now())
            s.add(f)
        else:
            f.size = size
            f.updated_at = now()
        s.flush()
        return file_record(f)

    @transaction
    def sync_files(self, conversation_id: str, found: dict[str, int], *,
                   s: Session = OWN) -> list[FileRecord]:
        """Make the files table match ``found`` (name -> size) from a workspace scan.

        New names are recorded as written by the agent; names no longer on disk go.
        """
        rows = {f.name: f for f in s.scalars(
            select(FileRow).where(FileRow.conversation_id == conversation_id))}
        for name, f in rows.items():
            if name not in found:
                s.delete(f)
            elif f.size != found[name]:
                f.size = found[name]
                f.updated_at = now()
        for name, size in found.items():
            if name not in rows:
                s.add(FileRow(conversation_id=conversation_id, name=name, size=size,
                              source="agent", created_at=now(), updated_at=now()))
        s.flush()
        return [file_record(f) for f in sorted(
            s.scalars(select(FileRow).where(FileRow.conversation_id == conversation_id)),
            key=lambda f: f.name)]

    @transaction
    def list_files(self, conversation_id: str, *, s: Session = OWN) -> list[FileRecord]:
        rows = s.scalars(select(FileRow).where(FileRow.conversation_id == conversation_id)
                         .order_by(FileRow.name))
        return [file_record(f) for f in rows]
