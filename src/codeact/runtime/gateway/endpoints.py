"""The gateways kernels may live on: their REST API, their health, and placement.

A :class:`Gateway` is one Jupyter Kernel Gateway or Enterprise Gateway URL (``/api``,
``/api/kernels``, token auth as ``Authorization: token ...``). A :class:`GatewayPool` is
the configured list (``--runtime URL[,URL...]``): each new kernel goes to the healthy
gateway with the fewest running kernels, as the gateways themselves count them (so
several web replicas placing on the same gateways balance together), ties broken round
robin. Listing the kernels is the health check: a gateway that does not answer within
:data:`PROBE_TIMEOUT` is skipped, and one whose connection broke is held back for
:data:`DOWN_FOR` seconds, so the next kernel goes elsewhere at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ...errors import CodeactError
from ...hosts import is_local_host

__all__ = ["DOWN_FOR", "PROBE_TIMEOUT", "Gateway", "GatewayError", "GatewayLost",
           "GatewayPool", "GatewayUnavailable", "KernelspecRefused", "parse_urls", "pool_for",
           "spec_sandbox", "warn_if_token_in_clear"]

log = logging.getLogger("codeact.runtime")
_warned_plain: set[str] = set()  # gateway URLs already warned about (once per process)


def warn_if_token_in_clear(url: str, token: str | None) -> bool:
    """Say once per URL that a token goes to a gateway beyond this host over plain HTTP:
    whoever reads the traffic can start kernels there (True when it said so)."""
    parts = urlsplit(url)
    if not token or parts.scheme != "http" or is_local_host(parts.hostname or "") \
            or url in _warned_plain:
        return False
    _warned_plain.add(url)
    log.warning("the gateway token goes to %s over plain HTTP: anyone who can read that "
                "traffic can start kernels there; use https:// or a private network", url)
    return True

PROBE_TIMEOUT = 3.0  # seconds a gateway gets to list its kernels (the health check)
DOWN_FOR = 10.0  # seconds a gateway whose connection broke is left out of placement
START_TIMEOUT = 60.0  # seconds a gateway gets to start a kernel


class GatewayError(CodeactError, RuntimeError):
    """A gateway refused or failed a request (the message names the gateway)."""

    status: int | None = None  # the HTTP status, when the gateway answered


class GatewayUnavailable(GatewayError):
    """No configured gateway can start a kernel now."""


class GatewayLost(GatewayError):
    """The connection to a kernel's gateway broke: the kernel and its variables are gone."""


class KernelspecRefused(GatewayError):
    """The gateway's kernelspec is missing, or would run model code unsandboxed without
    the user's opt-in: a configuration to fix, not a gateway to fail over from."""


def spec_sandbox(spec: Any) -> str | None:
    """The sandbox a ``/api/kernelspecs/NAME`` answer's spec was written with by
    ``codeact kernelspec install`` (``bwrap`` / ``none``; None: not codeact's spec)."""
    meta = ((spec or {}).get("spec") or {}).get("metadata") or {}
    mine = meta.get("codeact") if isinstance(meta, dict) else None
    sandbox = mine.get("sandbox") if isinstance(mine, dict) else None
    return sandbox if isinstance(sandbox, str) else None


def parse_urls(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"http://a:8888, http://b:8888"`` (or a list) -> normalised URLs; ValueError for a
    URL that is not http(s)."""
    if value is None:
        return ()
    items = [u for v in ([value] if isinstance(value, str) else value) for u in v.split(",")]
    out: list[str] = []
    for item in items:
        url = item.strip().rstrip("/")
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not a gateway URL: {item.strip()!r} (use http://HOST:PORT)")
        if url not in out:
            out.append(url)
    return tuple(out)


class Gateway:
    """One gateway: REST calls with token auth, and whether it looks healthy."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token or None
        warn_if_token_in_clear(self.url, self.token)
        self.down_until = 0.0
        self.last_error: str | None = None
        self.can_list = True  # the gateway lists its kernels (else: count our own)
        self.ours: dict[str, float] = {}  # kernel id -> when this process started it here
        self.checked_specs: set[str] = set()  # kernelspecs found sandboxed here
        self.warned_specs: set[str] = set()  # unsandboxed ones allowed and said (once)
        self.starting = 0  # kernel starts in flight from this process (reserved places)
        # the ids listed when the oldest start in flight was reserved: an id listed since,
        # not known here, may be one of those starts (listed before its POST returns)
        self._listed_before_starts: frozenset[str] = frozenset()
        self._last_listed: frozenset[str] = frozenset()
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Gateway({self.url!r})"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"} if self.token else {}

    def ws_url(self, kernel_id: str, session_id: str) -> str:
        base = "ws" + self.url[len("http"):]
        return (f"{base}/api/kernels/{quote(kernel_id)}/channels"
                f"?session_id={quote(session_id)}")

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(base_url=self.url, headers=self.headers,
                                             timeout=httpx.Timeout(PROBE_TIMEOUT))
            self._loop = loop
        return self._client

    async def request(self, method: str, path: str, *, json: Any = None,
                      timeout: float | None = None) -> Any:
        """One REST call; the decoded JSON (None for an empty body). Fails as
        :class:`GatewayError` in one line. ``timeout``: :data:`PROBE_TIMEOUT`, read at
        each call."""
        try:
            r = await self._http().request(
                method, path, json=json,
                timeout=PROBE_TIMEOUT if timeout is None else timeout)
        except httpx.HTTPError as exc:
            self.mark_down(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            raise GatewayError(f"gateway {self.url} is unreachable ({self.last_error})") from None
        if r.status_code == 401:
            raise GatewayError(f"gateway {self.url} refused the request (401): check the "
                               "token (--runtime-token / CODEACT_RUNTIME_TOKEN)")
        if r.status_code >= 400:
            try:
                why = r.json().get("message") or r.json().get("reason") or r.text
            except ValueError:
                why = r.text
            err = GatewayError(f"gateway {self.url}: {method} {path} failed with "
                               f"{r.status_code}: {str(why).strip()[:300]}")
            err.status = r.status_code
            raise err
        return r.json() if r.content else None

    def mark_down(self, why: str) -> None:
        """Leave this gateway out of placement for a while (its connection broke)."""
        self.last_error = why
        self.down_until = time.monotonic() + DOWN_FOR

    @property
    def held_back(self) -> bool:
        return time.monotonic() < self.down_until

    @property
    def placed(self) -> int:
        """Kernels this process has running on this gateway."""
        return len(self.ours)

    async def listing(self) -> tuple[frozenset[str] | None, float]:
        """The kernel ids the gateway lists (None: it does not list them: Kernel Gateway's
        default, ``--KernelGatewayApp.list_kernels=False``, then ``/api`` is asked) and
        when they were asked for. The health check: raises when the gateway is down."""
        asked_at = time.monotonic()
        if self.can_list:
            try:
                kernels = await self.request("GET", "/api/kernels")
                self.down_until = 0.0
                return frozenset(str(k["id"]) for k in kernels or []), asked_at
            except GatewayError as exc:
                if exc.status != 403:
                    raise
                self.can_list = False
        await self.request("GET", "/api")
        self.down_until = 0.0
        return None, asked_at

    def load(self, listed: frozenset[str] | None, asked_at: float) -> int:
        """The count placement ranks by, from a listing asked for at ``asked_at``: the
        kernels listed, ours that finished starting since, and ours still starting, each
        once. Placements running at once must neither miss a start in flight (the listing
        may predate it) nor count it twice (the gateway may list it before its POST
        returns). Without a listing: the kernels this process placed there."""
        if listed is None:
            return self.placed + self.starting
        for kernel_id, started in list(self.ours.items()):
            if started < asked_at and kernel_id not in listed:
                del self.ours[kernel_id]  # gone: culled by the gateway, or shut down elsewhere
        self._last_listed = listed
        maybe_starting = len(listed - self.ours.keys() - self._listed_before_starts)
        return len(listed | self.ours.keys()) + self.starting - min(self.starting, maybe_starting)

    def reserve(self) -> None:
        """Count a kernel start here before it begins (so a placement running alongside
        sees it); :meth:`start_kernel` (or :meth:`release`) gives the place back."""
        if self.starting == 0:
            self._listed_before_starts = self._last_listed
        self.starting += 1

    def release(self) -> None:
        """A reserved start is over (it started, or it will not)."""
        self.starting -= 1

    async def start_kernel(self, name: str, env: dict[str, str] | None = None, *,
                           reserved: bool = False) -> str:
        """Start a kernel of kernelspec ``name``; its id. ``reserved``: the caller has
        already counted it with :meth:`reserve`."""
        # Enterprise Gateway wants a user for the kernel (and refuses "root"); Kernel
        # Gateway passes KERNEL_* variables to the kernel and ignores the rest
        env = {"KERNEL_USERNAME": os.environ.get("KERNEL_USERNAME") or "codeact", **(env or {})}
        body: dict[str, Any] = {"name": name, "env": env}
        if not reserved:
            self.reserve()
        try:
            info = await self.request("POST", "/api/kernels", json=body, timeout=START_TIMEOUT)
            kernel_id = str(info["id"])
            self.ours[kernel_id] = time.monotonic()
        finally:
            self.release()
        return kernel_id

    async def delete_kernel(self, kernel_id: str) -> None:
        """Shut a kernel down (an already gone kernel is fine)."""
        self.ours.pop(kernel_id, None)
        try:
            await self.request("DELETE", f"/api/kernels/{quote(kernel_id)}", timeout=10.0)
        except GatewayError as exc:
            if exc.status != 404:
                log.info("could not delete kernel %s on %s: %s", kernel_id, self.url, exc)

    async def check_kernelspec(self, name: str, allow_unsandboxed: bool = False, *,
                               warn: bool = True) -> None:
        """Refuse, before a kernel starts, a kernelspec that would run model code outside
        codeact's sandbox: one ``codeact kernelspec install`` wrote with ``bwrap`` passes;
        a missing one fails (:class:`KernelspecRefused`, saying how to fix it); any other
        fails unless ``allow_unsandboxed`` (the user's loud opt-in), then it is said once
        (``warn=False``: not here, for a check ahead of the session that will say it).
        Only a sandboxed spec is remembered per gateway: an unsandboxed one allowed by one
        session's opt-in must be refused to the next session that has none (the gateway
        object is shared; remembering it let a later run without the opt-in start
        ``python3`` unchecked), and a refused one is asked again (its admin may fix it)."""
        if name in self.checked_specs:
            return
        try:
            spec = await self.request("GET", f"/api/kernelspecs/{quote(name)}")
        except GatewayError as exc:
            if exc.status != 404:
                raise
            raise KernelspecRefused(
                f"gateway {self.url} has no kernelspec {name!r}{await self._spec_names()}: "
                "run `codeact kernelspec install` on the gateway host (it writes 'codeact', "
                "a sandboxed one), or name one it has with --runtime-kernel NAME") from None
        sandbox = spec_sandbox(spec)
        if sandbox != "bwrap":
            why = ("its sandbox is 'none'" if sandbox else "not a codeact kernelspec")
            if not allow_unsandboxed:
                raise KernelspecRefused(
                    f"kernelspec {name!r} on gateway {self.url} is not sandboxed ({why}): "
                    "model code would run with the gateway user's rights on its machine; "
                    "run `codeact kernelspec install` there and use its spec, or allow "
                    "this with --unsafe-no-sandbox together with --runtime "
                    "(SandboxConfig(gateway_allow_unsandboxed=True))")
            if warn and name not in self.warned_specs:
                self.warned_specs.add(name)
                log.warning("UNSAFE: kernels of kernelspec %r on gateway %s are not in codeact's "
                            "sandbox (%s), allowed by --unsafe-no-sandbox: model code runs "
                            "with the gateway user's rights on the gateway's machine; see "
                            "`codeact kernelspec install`", name, self.url, why)
            return
        self.checked_specs.add(name)

    async def _spec_names(self) -> str:
        """`` (it has: a, b)`` for an error message; empty when the list is unavailable."""
        try:
            specs = ((await self.request("GET", "/api/kernelspecs")) or {}).get("kernelspecs")
        except GatewayError:
            return ""
        return f" (it has: {', '.join(sorted(specs))})" if isinstance(specs, dict) and \
            specs else ""

    async def interrupt_kernel(self, kernel_id: str) -> None:
        await self.request("POST", f"/api/kernels/{quote(kernel_id)}/interrupt")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class GatewayPool:
    """The configured gateways and where the next kernel goes (least loaded, healthy)."""

    def __init__(self, urls: Sequence[str], token: str | None = None) -> None:
        if not urls:
            raise ValueError("no gateway URL given")
        self.gateways = [Gateway(u, token) for u in urls]
        self._turn = itertools.count()

    async def loads(self) -> list[tuple[Gateway, int | None]]:
        """Each gateway with its kernel count (None: it did not answer, or is held back)."""
        async def probe(g: Gateway) -> tuple[frozenset[str] | None, float] | None:
            if g.held_back:
                return None
            try:
                return await g.listing()
            except GatewayError as exc:
                g.last_error = str(exc)
                return None

        listings = await asyncio.gather(*(probe(g) for g in self.gateways))
        # counted after every answer is in, with no await before the caller ranks them
        return [(g, None if got is None else g.load(*got))
                for g, got in zip(self.gateways, listings, strict=True)]

    async def place(self, kernel_name: str, env: dict[str, str] | None = None, *,
                    allow_unsandboxed: bool = False) -> tuple[Gateway, str]:
        """Start a kernel on the least-loaded healthy gateway; (gateway, kernel id).
        The kernelspec is checked there first (:meth:`Gateway.check_kernelspec`): a
        refusal is raised at once, as it is the configuration's fault. Tries the others
        when a start fails; :class:`GatewayUnavailable` when none can."""
        turn = next(self._turn)
        n = len(self.gateways)
        # ranked and reserved with no await in between: placements running at once each
        # see the ones before them (Gateway.starting) and spread out
        ranked = [(count, (i - turn) % n, g)
                  for i, (g, count) in enumerate(await self.loads()) if count is not None]
        ranked.sort(key=lambda item: (item[0], item[1]))
        errors: list[str] = []
        for _count, _order, g in ranked:
            g.reserve()
            try:
                await g.check_kernelspec(kernel_name, allow_unsandboxed)
            except BaseException as exc:
                g.release()
                if isinstance(exc, KernelspecRefused) or not isinstance(exc, GatewayError):
                    raise
                errors.append(str(exc))
                continue
            try:
                return g, await g.start_kernel(kernel_name, env, reserved=True)
            except GatewayError as exc:
                errors.append(str(exc))
        down = [f"{g.url} ({g.last_error or 'no answer'})" for g in self.gateways
                if all(g is not r[2] for r in ranked)]
        why = "; ".join(errors + ([f"unreachable: {', '.join(down)}"] if down else []))
        raise GatewayUnavailable(f"no gateway could start a kernel: {why}")

    async def health(self) -> dict[str, str]:
        """URL -> "ok (N kernels)" or why it is not usable (for doctor and logs)."""
        return {g.url: ("ok" if n is not None else (g.last_error or "held back"))
                + (f" ({n} kernels)" if n is not None else "")
                for g, n in await self.loads()}


_POOLS: dict[tuple[tuple[str, ...], str | None], GatewayPool] = {}


def pool_for(urls: Sequence[str], token: str | None) -> GatewayPool:
    """The process's one pool for these URLs and token (placement and health are shared
    by every session of the process)."""
    key = (tuple(urls), token)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = GatewayPool(urls, token)
    return pool
