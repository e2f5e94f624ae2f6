"""A conversation's files (list, upload, download) and the images its code made."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from codeact.server import workspace as ws
from codeact.server.errors import NotFound
from codeact.server.routes.deps import AppState, ConversationId, ImageId
from codeact.server.routes.models import NO_CONVERSATION, FileInfo, FileList, errors
from codeact.server.store.records import FileRecord

__all__ = ["router"]

router = APIRouter(tags=["files"])


@router.get("/api/conversations/{cid}/files", response_model=FileList,
            responses=NO_CONVERSATION)
async def list_files(state: AppState, cid: ConversationId) -> dict[str, Any]:
    await state.conversation_or_404(cid)
    if state.hub.is_running(cid):
        files = await asyncio.to_thread(state.store.list_files, cid)
    else:
        files = await asyncio.to_thread(state.hub.sync_files, cid)
    return {"files": files}


@router.post("/api/conversations/{cid}/files", status_code=201, response_model=FileInfo,
             responses=errors({400: "the file name is refused", 404: "no such conversation",
                               413: "the file is too large"}))
async def upload(state: AppState, request: Request, cid: ConversationId,
                 file: Annotated[UploadFile, File(description="the file")],
                 name: Annotated[str | None, Form(max_length=1024)] = None
                 ) -> FileRecord:
    await state.conversation_or_404(cid)
    target = name or file.filename or ""
    try:
        rel = ws.safe_relative_name(target)
    except ws.UnsafeName as exc:
        raise HTTPException(400, f"file name {target!r} refused: {exc}") from None
    limit = state.max_upload_bytes
    chunks, size = [], 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the file is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        await asyncio.to_thread(ws.write_file, state.hub.workspace(cid), rel, data)
        live = state.hub.live.get(cid)
        if live is not None:
            await asyncio.to_thread(live.session.write_file, rel, data)
    except (ws.UnsafeName, ValueError) as exc:
        raise HTTPException(400, f"file name {target!r} refused: {exc}") from None
    except OSError as exc:
        raise HTTPException(400, f"could not store {target!r}: {exc.strerror}") from None
    return await asyncio.to_thread(state.store.upsert_file, cid, rel, len(data), "upload")


@router.get("/api/conversations/{cid}/files/{name:path}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the file, as an attachment"},
                       **errors({400: "the file name is refused",
                                 404: "no such conversation or file"})})
async def download(state: AppState, cid: ConversationId, name: str) -> StreamingResponse:
    await state.conversation_or_404(cid)
    hub = state.hub
    roots = [p for p in (hub.live_workspace(cid), hub.workspace(cid)) if p is not None]
    for root in roots:
        try:
            f = await asyncio.to_thread(ws.open_for_download, root, name)
        except ws.UnsafeName as exc:
            raise HTTPException(400, f"file name refused: {exc}") from None
        except FileNotFoundError:
            continue
        size = os.fstat(f.fileno()).st_size
        # served from the descriptor opened above, never opened again by path
        return StreamingResponse(_chunks(f, size), media_type="application/octet-stream", headers={
            "Content-Length": str(size),
            "Content-Disposition": _attachment(Path(name).name)})
    raise HTTPException(404, "no such file in the workspace")


def _chunks(f: BinaryIO, size: int, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The file's first ``size`` bytes (its size when opened: a file the kernel is still
    writing must not outgrow the Content-Length sent)."""
    with f:
        while size > 0 and (data := f.read(min(chunk, size))):
            size -= len(data)
            yield data


def _attachment(filename: str) -> str:
    """A Content-Disposition for a download (RFC 6266; non-ASCII names as RFC 5987)."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


@router.get("/api/conversations/{cid}/images/{image_id}", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the PNG image"},
                       **errors({404: "no such image"})})
async def image(state: AppState, cid: ConversationId, image_id: ImageId) -> Response:
    try:
        png = await asyncio.to_thread(state.store.get_image, cid, image_id)
    except NotFound:
        raise HTTPException(404, "no such image") from None
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400"})
