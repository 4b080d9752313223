"""Where a flag's comment is written: a Jira issue (comment properties mark it) or a Trello card
(a marker line in the text marks it). Each channel finds, creates and edits one flag's comment.

`open_comment_channel` picks the source's channel from `CHANNELS`, keyed by the provider family of
the registry (`service.providers`), instead of comparing kinds."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

import httpx
from pydantic import JsonValue

from connectors.http import DEFAULT_TIMEOUT, RetryPolicy
from connectors.jira import JiraClient
from connectors.jira.models.comment import JiraComment
from connectors.trello import TrelloClient
from service.domain.work import Source
from service.flags.push_text import PushedFlag, has_trello_marker, render_comment_adf, render_comment_text
from service.providers import ProviderFamily, provider_for
from service.providers.jira import open_jira_client, shared_jira_limiter
from service.providers.trello import open_trello_client, shared_trello_limiter

FLAG_PROPERTY = "pmbridge.flag"
# Jira Service Management shows a comment to customers unless this property marks it internal
# (the key pycontribs `jira` sets for `add_comment(is_internal=True)`, reference §13).
JSM_PUBLIC_PROPERTY = "sd.public.comment"


class CommentChannel(Protocol):
    def find(self, *, target: str, flag_id: int) -> str | None:
        """The id of the flag's comment on `target`, if one was posted."""

    def create(self, *, target: str, flag: PushedFlag) -> str:
        """Post the flag's comment; returns its id."""

    def update(self, *, target: str, comment_id: str, flag: PushedFlag) -> None:
        """Edit the flag's comment in place (raises `NotFoundError` when it is gone)."""

    def close(self) -> None: ...


def flag_property(flag: PushedFlag) -> dict[str, JsonValue]:
    return {"flag_id": flag.id, "fingerprint": flag.fingerprint}


class JiraCommentChannel:
    """`target` is the issue id or key. Comments carry `pmbridge.flag` = {flag_id, fingerprint}."""

    def __init__(self, client: JiraClient) -> None:
        self.client = client
        self._me: str | None = None

    def find(self, *, target: str, flag_id: int) -> str | None:
        comments = list(self.client.iter_comments(target, expand_properties=True))
        match = _first_marked(comments, flag_id)
        if match is not None:
            return match
        # Properties in the listing are not documented on Cloud; read them reliably below.
        unread = [c for c in comments if c.property_value(FLAG_PROPERTY) is None]
        if not unread:
            return None
        if self.client.site.is_cloud:
            return _first_marked(self.client.list_comments_by_ids([int(c.id) for c in unread]), flag_id)
        me = self._integration_user()
        for comment in unread:
            if comment.author is not None and comment.author.identity != me:
                continue
            found = self.client.find_comment_property(comment.id, FLAG_PROPERTY)
            if found is not None and _names_flag(found.value, flag_id):
                return comment.id
        return None

    def create(self, *, target: str, flag: PushedFlag) -> str:
        properties: dict[str, JsonValue] = {
            FLAG_PROPERTY: flag_property(flag),
            JSM_PUBLIC_PROPERTY: {"internal": True},
        }
        comment = self.client.create_comment(
            target, render_comment_text(flag), properties=properties, adf_body=self._adf(flag)
        )
        return comment.id

    def update(self, *, target: str, comment_id: str, flag: PushedFlag) -> None:
        self.client.update_comment(target, comment_id, render_comment_text(flag), adf_body=self._adf(flag))
        self.client.set_comment_property(comment_id, FLAG_PROPERTY, flag_property(flag), issue=target)

    def close(self) -> None:
        self.client.close()

    def _adf(self, flag: PushedFlag) -> dict[str, JsonValue] | None:
        return render_comment_adf(flag) if self.client.site.is_cloud else None

    def _integration_user(self) -> str | None:
        if self._me is None:
            self._me = self.client.get_myself().identity
        return self._me


class TrelloCommentChannel:
    """`target` is the card id. Trello has no comment properties (reference §4): the marker line
    `pmbridge-flag:<id>` in the text finds the comment again, and its action id is stored."""

    def __init__(self, client: TrelloClient) -> None:
        self.client = client

    def find(self, *, target: str, flag_id: int) -> str | None:
        found: str | None = None
        # Newest first; the oldest marked comment is the flag's, should a crash ever have left two.
        for action in self.client.iter_card_comments(target):
            if has_trello_marker(action.data.text or "", flag_id):
                found = action.id
        return found

    def create(self, *, target: str, flag: PushedFlag) -> str:
        return self.client.create_comment(target, render_comment_text(flag, with_marker=True)).id

    def update(self, *, target: str, comment_id: str, flag: PushedFlag) -> None:
        self.client.update_comment(target, comment_id, render_comment_text(flag, with_marker=True))

    def close(self) -> None:
        self.client.close()


def _first_marked(comments: list[JiraComment], flag_id: int) -> str | None:
    marked = [c for c in comments if (p := c.property_value(FLAG_PROPERTY)) and _names_flag(p.value, flag_id)]
    if not marked:
        return None
    return min(marked, key=lambda c: int(c.id) if c.id.isdigit() else 0).id


def _names_flag(value: JsonValue, flag_id: int) -> bool:
    return isinstance(value, dict) and value.get("flag_id") == flag_id


# Per-issue write limits and Retry-After pauses hold across drains: one limiter per site.


class ChannelOpener(Protocol):
    def __call__(
        self,
        source: Source,
        credentials: dict[str, str],
        *,
        transport: httpx.BaseTransport | None,
        retry: RetryPolicy,
        timeout: httpx.Timeout,
    ) -> CommentChannel: ...


def _open_jira_channel(
    source: Source,
    credentials: dict[str, str],
    *,
    transport: httpx.BaseTransport | None,
    retry: RetryPolicy,
    timeout: httpx.Timeout,
) -> CommentChannel:
    return JiraCommentChannel(
        open_jira_client(
            source,
            credentials,
            transport=transport,
            retry=retry,
            timeout=timeout,
            limiter=shared_jira_limiter(source.base_url),
        )
    )


def _open_trello_channel(
    source: Source,
    credentials: dict[str, str],
    *,
    transport: httpx.BaseTransport | None,
    retry: RetryPolicy,
    timeout: httpx.Timeout,
) -> CommentChannel:
    return TrelloCommentChannel(
        open_trello_client(
            source,
            credentials,
            transport=transport,
            retry=retry,
            timeout=timeout,
            limiter=shared_trello_limiter(source.base_url),
        )
    )


# The flags layer's part of the provider registry (`service.providers`): one opener per family.
CHANNELS: Mapping[ProviderFamily, ChannelOpener] = MappingProxyType(
    {ProviderFamily.JIRA: _open_jira_channel, ProviderFamily.TRELLO: _open_trello_channel}
)


def open_comment_channel(
    source: Source,
    credentials: dict[str, str],
    *,
    transport: httpx.BaseTransport | None,
    retry: RetryPolicy,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> CommentChannel:
    """A comment channel on the source's site, paced by the site's shared limiter."""
    opener = CHANNELS[provider_for(source.kind).family]
    return opener(source, credentials, transport=transport, retry=retry, timeout=timeout)
