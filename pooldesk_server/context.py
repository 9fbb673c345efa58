"""What every request handler needs, built once per app in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from pooldesk_server.accounts.events import AccountEvents
from pooldesk_server.broker.keyed_locks import KeyedLocks
from pooldesk_server.db.engine import Database
from pooldesk_server.http.admission import Admission, default_slots
from pooldesk_server.http.forwarded import forwarded_client
from pooldesk_server.http.session_cache import SessionCache
from pooldesk_server.http.touches import SessionTouches
from pooldesk_server.security.passwords import Passwords
from pooldesk_server.security.tokens import Tokens
from pooldesk_server.settings import Settings

# Sign-ins that may wait for their turn before more are refused with 503 (overloaded), in the
# whole server: each of the N processes of `serve --workers N` takes its part.
SIGN_IN_QUEUE = 2048


def sign_in_admission(workers: int = 1) -> Admission:
    """This process's share of the server's sign-in slots and queue."""
    workers = max(1, workers)
    return Admission(slots=default_slots(workers), max_waiting=max(1, SIGN_IN_QUEUE // workers))


@dataclass
class AppContext:
    settings: Settings
    db: Database
    passwords: Passwords
    tokens: Tokens
    events: AccountEvents
    session_cache: SessionCache
    touches: SessionTouches
    # Sign-ins and registrations (argon2 + write transactions) run a few at a time.
    sign_ins: Admission = field(default_factory=sign_in_admission)
    # Sign-ins to one account name, one at a time (pooldesk_server/accounts/signin.py says why).
    sign_in_names: KeyedLocks = field(default_factory=KeyedLocks)
    # This process runs the singleton jobs (the managed broker, the recorder, the reconcile,
    # housekeeping and operator loops). False only in the other workers of `serve --workers N`
    # (pooldesk_server/workers.py), which serve HTTP alone.
    primary: bool = True

    @classmethod
    def build(cls, settings: Settings, *, primary: bool = True) -> AppContext:
        events = AccountEvents()
        session_cache = SessionCache(settings.session_cache_seconds)
        # First subscriber: a revocation reaches the cache before anything slower runs.
        events.subscribe(session_cache.on_account_event)
        db = Database(settings.database_url)
        return cls(
            settings=settings,
            db=db,
            passwords=Passwords(
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
            ),
            tokens=Tokens(
                secret=settings.jwt_secret,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                access_seconds=settings.access_token_seconds,
                refresh_seconds=settings.refresh_token_seconds,
                leeway_seconds=settings.token_leeway_seconds,
            ),
            events=events,
            session_cache=session_cache,
            touches=SessionTouches(db),
            sign_ins=sign_in_admission(settings.workers),
            primary=primary,
        )


def context_of(request: Request) -> AppContext:
    return request.app.state.ctx


def client_address(request: Request) -> str:
    """The client's IP address: the TCP peer, or behind a trusted proxy the address it
    forwarded for (pooldesk_server/http/forwarded.py)."""
    peer = request.client.host if request.client else ""
    trusted = context_of(request).settings.trusted_proxies
    if not trusted:
        return peer
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), trusted)


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:256]
