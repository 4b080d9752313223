"""Who is looking at the portal: a client token exchanged once for a server-side session
(`service.web.sessions`); the session and its token are re-checked on every request."""

from __future__ import annotations

from dataclasses import dataclass

from service.store.client_views import ClientGrants, read_grants
from service.store.runtime import Store
from service.store.tenancy import find_client
from service.web.sessions import PortalSession, SessionCodec, SessionHolder


@dataclass(frozen=True, slots=True)
class Visitor:
    token_id: int
    client_name: str
    grants: ClientGrants
    session: PortalSession
    csrf: str  # the form token of this session


def find_visitor(store: Store, codec: SessionCodec, holder: SessionHolder) -> Visitor | None:
    """The client behind a session of a client token; None once the client is gone."""
    client_id = holder.token.client_id
    if client_id is None:
        return None
    with store.sessions() as session:
        client = find_client(session, client_id=client_id)
        if client is None:
            return None
        grants = read_grants(session, client_id=client_id)
    return Visitor(
        token_id=holder.session.token_id,
        client_name=client.name,
        grants=grants,
        session=holder.session,
        csrf=codec.csrf_token(holder.session.cookie),
    )
