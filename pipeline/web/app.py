"""``dshift serve``: the coders' review page, a client of the library as the CLI is.

Built on Starlette (ASGI, served by uvicorn): small, typed, well kept, with sessions, static
files and Jinja2 templates, and nothing the page does not use. Pages are rendered on the server
(escaped by Jinja2's autoescape; the corpus is untrusted input); one small script adds the
keyboard. Every store call runs on one worker thread (:class:`Site`), the page's single writer,
so a SQLite store is only ever used from the thread that opened it.
"""

from __future__ import annotations

import asyncio
import secrets
import traceback
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.api import Desk, Project
from pipeline.errors import DshiftError
from pipeline.web.pages import describe, highlight, item_codes, percent
from pipeline.web.security import HEADERS, check_binding, csrf_ok, new_csrf

__all__ = ["Options", "Site", "build_app", "check_binding"]

T = TypeVar("T")
STATIC = Path(__file__).with_name("static")


@dataclass(frozen=True)
class Options:
    """How the page serves: the review strategy of the queues, the share every coder codes."""

    strategy: str = "stratified"
    seed: int | None = None
    double: float = 0.0


class Site:
    """The desk behind the page, opened and used on one worker thread only."""

    def __init__(self, project: Project, options: Options) -> None:
        self.project, self.options = project, options
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dshift-desk")
        self._stack = ExitStack()
        self._desk: Desk | None = None

    def _open(self) -> Desk:
        if self._desk is None:
            self._desk = self._stack.enter_context(
                self.project.review_desk(
                    strategy=self.options.strategy,
                    seed=self.options.seed,
                    double=self.options.double,
                )
            )
        return self._desk

    def run(self, work: Callable[[Desk], T]) -> T:
        """Run ``work(desk)`` on the worker thread and wait (for set-up and tests)."""
        return self._pool.submit(lambda: work(self._open())).result()

    async def call(self, work: Callable[[Desk], T]) -> T:
        """Run ``work(desk)`` on the worker thread without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: work(self._open()))

    def close(self) -> None:
        """Close the store on its own thread, then the thread."""
        self._pool.submit(self._stack.close).result()
        self._pool.shutdown()


_ENV = Environment(
    loader=PackageLoader("pipeline.web", "templates"),
    autoescape=select_autoescape(("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["percent"] = percent
_ENV.globals["describe"] = describe


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    session = request.session
    if "csrf" not in session:
        session["csrf"] = new_csrf()
    html = _ENV.get_template(template).render(
        coder=session.get("coder"),
        role=session.get("role"),
        blind=bool(session.get("blind")),
        csrf=session["csrf"],
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _back(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=HEADERS)


async def _form(request: Request) -> dict[str, Any] | None:
    """The POSTed form, or None when its CSRF token is missing or wrong."""
    form = await request.form()
    if not csrf_ok(request.session, form.get("csrf")):
        return None
    return {"codes": form.getlist("codes"), **{k: v for k, v in form.items() if k != "codes"}}


def _refused(request: Request) -> HTMLResponse:
    return _page(
        request,
        "error.html",
        403,
        what="this form was not sent from this page (its security token is missing or stale)",
        fix="reload the page and try again; log in again if it keeps happening",
    )


Endpoint = Callable[[Request], Any]


def _closing(site: Site) -> Callable[[Starlette], Any]:
    """The app's lifespan: the store is closed (on its thread) when the server stops."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            site.close()

    return lifespan


def _guarded(project: Project, endpoint: Endpoint) -> Endpoint:
    """The endpoint, with a DshiftError shown as what went wrong and how to fix it, and any
    other error as a bug whose traceback goes to ``outputs/logs/serve-errors.log``: neither
    the coder's browser nor the terminal running the page sees a traceback."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            response: Response = await endpoint(request)
            return response
        except DshiftError as exc:
            return _page(request, "error.html", 400, what=exc.message, fix=exc.hint)
        except Exception as exc:  # a bug: logged for whoever runs the page
            log = project.outputs / "logs" / "serve-errors.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as handle:
                stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
                handle.write(f"--- {stamp} {request.method} {request.url.path}\n")
                handle.write("".join(traceback.format_exception(exc)))
            return _page(
                request,
                "error.html",
                500,
                what="the page met a bug; the action that failed recorded nothing",
                fix=f"tell whoever runs the workspace; the details are in {log}",
            )

    return guarded


def build_app(project: Project, options: Options | None = None) -> Starlette:
    """The review page of ``project``'s workspace, as an ASGI app."""
    site = Site(project, options or Options())

    def coder_of(request: Request) -> str | None:
        name = request.session.get("coder")
        return name if isinstance(name, str) else None

    async def login_page(request: Request) -> Response:
        accounts = await site.call(lambda d: d.has_accounts())
        return _page(request, "login.html", accounts=accounts, failed=False)

    async def login(request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return _refused(request)
        accounts = await site.call(lambda d: d.has_accounts())
        blind = form.get("blind") == "on"
        if accounts:
            account = await site.call(lambda d: d.log_in(str(form.get("token", ""))))
            if account is None:
                return _page(request, "login.html", 401, accounts=True, failed=True)
            name, role = account.name, account.role
        else:
            try:
                name = await site.call(lambda d: d.local_name(str(form.get("name", ""))))
                role = "coder"
            except DshiftError:
                return _page(request, "login.html", 400, accounts=False, failed=True)
        request.session.clear()
        request.session.update(coder=name, role=role, blind=blind, csrf=new_csrf())
        return _back("/code")

    async def logout(request: Request) -> Response:
        if await _form(request) is None:
            return _refused(request)
        request.session.clear()
        return _back("/login")

    async def code_page(request: Request) -> Response:
        coder = coder_of(request)
        if coder is None:
            return _back("/login")
        blind = bool(request.session.get("blind"))
        wanted = request.query_params.get("segment")

        def work(desk: Desk) -> dict[str, Any]:
            if wanted:
                desk.check_queue(coder, wanted)
            segment = wanted or desk.next_segment(coder)
            item = desk.item(segment, coder, blind=blind) if segment else None
            return {"item": item, "progress": desk.progress(coder), "tracks": desk.tracks()}

        values = await site.call(work)
        item = values["item"]
        return _page(
            request,
            "code.html",
            pieces=highlight(item.text, item.spans) if item else [],
            checked=item_codes(item) if item else set(),
            **values,
        )

    async def decide(request: Request) -> Response:
        coder = coder_of(request)
        if coder is None:
            return _back("/login")
        form = await _form(request)
        if form is None:
            return _refused(request)
        blind = bool(request.session.get("blind"))
        segment, note, codes = (
            str(form.get("segment", "")),
            str(form.get("note", "")),
            form["codes"],
        )
        await site.call(lambda d: d.decide(coder, segment, codes, note=note, blind=blind))
        return _back("/code")

    async def undo(request: Request) -> Response:
        coder = coder_of(request)
        if coder is None:
            return _back("/login")
        if await _form(request) is None:
            return _refused(request)
        segment = await site.call(lambda d: d.undo(coder))
        return _back(f"/code?segment={segment}" if segment else "/code")

    async def blind_toggle(request: Request) -> Response:
        if coder_of(request) is None:
            return _back("/login")
        if await _form(request) is None:
            return _refused(request)
        request.session["blind"] = not request.session.get("blind")
        return _back("/code")

    async def codebook_page(request: Request) -> Response:
        if coder_of(request) is None:
            return _back("/login")
        return _page(request, "codebook.html", tracks=await site.call(lambda d: d.tracks()))

    async def document_page(request: Request) -> Response:
        coder = coder_of(request)
        if coder is None:
            return _back("/login")
        blind = bool(request.session.get("blind"))
        doc_id = int(request.path_params["doc_id"])
        view = await site.call(lambda d: d.document(doc_id, coder, blind=blind))
        return _page(request, "document.html", document=view)

    async def agreement_page(request: Request) -> Response:
        if coder_of(request) is None:
            return _back("/login")

        def work(desk: Desk) -> dict[str, Any]:
            report = desk.agreement()
            listed = desk.disagreements() if report.decided else []
            return {"report": report, "disagreements": listed, "tracks": desk.tracks()}

        return _page(request, "agreement.html", **await site.call(work))

    def adjudicator_of(request: Request) -> str | None:
        coder = coder_of(request)
        return coder if coder and request.session.get("role") == "adjudicator" else None

    def not_adjudicator(request: Request) -> Response:
        if coder_of(request) is None:
            return _back("/login")
        return _page(
            request,
            "error.html",
            403,
            what="settling disagreements is for adjudicators",
            fix="ask whoever runs the workspace for an adjudicator account "
            "(dshift coder add NAME --adjudicator)",
        )

    async def adjudicate_list(request: Request) -> Response:
        if adjudicator_of(request) is None:
            return not_adjudicator(request)
        listed, tracks = await site.call(lambda d: (d.disagreements(), d.tracks()))
        return _page(request, "adjudicate.html", disagreements=listed, current=None, tracks=tracks)

    async def adjudicate_one(request: Request) -> Response:
        judge = adjudicator_of(request)
        if judge is None:
            return not_adjudicator(request)
        segment = request.path_params["segment_id"]

        def work(desk: Desk) -> dict[str, Any]:
            found = [d for d in desk.disagreements() if d.segment_id == segment]
            return {
                "current": found[0] if found else None,
                "item": desk.item(segment, judge, blind=False),
                "tracks": desk.tracks(),
            }

        values = await site.call(work)
        if values["current"] is None:
            return _back("/adjudicate")
        item = values["item"]
        return _page(
            request,
            "adjudicate.html",
            disagreements=None,
            pieces=highlight(item.text, item.spans),
            **values,
        )

    async def settle(request: Request) -> Response:
        judge = adjudicator_of(request)
        if judge is None:
            return not_adjudicator(request)
        form = await _form(request)
        if form is None:
            return _refused(request)
        segment = request.path_params["segment_id"]
        reason, codes = str(form.get("reason", "")), form["codes"]
        await site.call(lambda d: d.settle(judge, segment, codes, reason))
        return _back("/adjudicate")

    async def home(request: Request) -> Response:
        return _back("/code" if coder_of(request) else "/login")

    app = Starlette(
        routes=[
            Route("/", _guarded(project, home)),
            Route("/login", _guarded(project, login_page), methods=["GET"]),
            Route("/login", _guarded(project, login), methods=["POST"]),
            Route("/logout", _guarded(project, logout), methods=["POST"]),
            Route("/code", _guarded(project, code_page), methods=["GET"]),
            Route("/code", _guarded(project, decide), methods=["POST"]),
            Route("/undo", _guarded(project, undo), methods=["POST"]),
            Route("/blind", _guarded(project, blind_toggle), methods=["POST"]),
            Route("/codebook", _guarded(project, codebook_page)),
            Route("/document/{doc_id:int}", _guarded(project, document_page)),
            Route("/agreement", _guarded(project, agreement_page)),
            Route("/adjudicate", _guarded(project, adjudicate_list), methods=["GET"]),
            Route("/adjudicate/{segment_id}", _guarded(project, adjudicate_one), methods=["GET"]),
            Route("/adjudicate/{segment_id}", _guarded(project, settle), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_urlsafe(32),  # sessions end when the server stops
                session_cookie="dshift_session",
                same_site="strict",
                https_only=False,
            )
        ],
        lifespan=_closing(site),
    )
    app.state.site = site
    return app
