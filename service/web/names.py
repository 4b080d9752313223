"""How the portal names a client's work: by the key people know, or by title where the key means nothing.

A Jira issue is known by its key ("ACB-43"): Jira shows it on every issue and people say it aloud,
so texts keep it. A Trello card's key is `<board shortLink>-<idShort>` (see
`service/sync/trello_mapping.py`), ids Trello hides from people: a text that names a card by its key
("xlcOF8hK-36: promise of 2026-12-04 missed") is rewritten to name it by its title, and a board is
shown without its shortLink. Which family's keys people read is one table, keyed by
`provider_for(kind).family`, so no code here compares source kinds.

Titles come only from what the client may already read (its scoped commitments and its own feed
events), so naming a card never shows more than the client's scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from service.domain.enums import SourceKind
from service.providers import ProviderFamily, provider_for

# Whether people know an item of each provider family by its key.
KEYS_READ_BY_PEOPLE: dict[ProviderFamily, bool] = {
    ProviderFamily.JIRA: True,
    ProviderFamily.TRELLO: False,
}
# Said of an item whose title the client cannot be shown (no longer in its scope, or gone).
UNNAMED_ITEM = "a card"


def keys_read_by_people(kind: SourceKind) -> bool:
    return KEYS_READ_BY_PEOPLE[provider_for(kind).family]


@dataclass(frozen=True, slots=True)
class Naming:
    """How one project's texts name its items.

    `project_key` is the project's key (a Trello board's shortLink, the prefix of its cards' keys);
    `titles` maps item keys to titles the client may see.
    """

    project_key: str
    keys_shown: bool
    titles: Mapping[str, str] = field(default_factory=dict)

    @property
    def shown_project_key(self) -> str:
        """The project's key as shown next to its name, or "" when people do not read it."""
        return self.project_key if self.keys_shown else ""

    def name(self, text: str) -> str:
        """`text` with each item key read by no one replaced by the item's title.

        A key whose title the text already carries ("KEY done: Title", or a promise titled
        "KEY Title") is dropped rather than doubled; a key with no known title becomes "a card".
        """
        pattern = None if self.keys_shown else self._key_pattern()
        if pattern is None:
            return text
        parts: list[str] = []
        position = 0
        capitalise = False
        for match in pattern.finditer(text):
            title = self.titles.get(match.group("key")) or ""
            rest = text[: match.start()] + text[match.end() :]
            if title and re.search(rf"(?<!\w){re.escape(title)}(?!\w)", rest):
                replacement = ""
            else:
                replacement = (title or UNNAMED_ITEM) + match.group("space")
            # A sentence that now starts where a key was ("done: …", "a card: …") gets its capital.
            capitalise = capitalise or (match.start() == 0 and not (title and replacement))
            parts += [text[position : match.start()], replacement]
            position = match.end()
        named = "".join([*parts, text[position:]])
        return named[:1].upper() + named[1:] if capitalise else named

    def _key_pattern(self) -> re.Pattern[str] | None:
        # The board's card keys (`<shortLink>-<idShort>`) and any other key a title is known for
        # (a card without an idShort is keyed by its own shortLink).
        alternatives = [rf"{re.escape(self.project_key)}-\d+"] if self.project_key else []
        alternatives += [re.escape(key) for key in sorted(self.titles, key=len, reverse=True)]
        if not alternatives:
            return None
        return re.compile(rf"(?<![\w-])(?P<key>{'|'.join(alternatives)})(?![\w-])(?P<space> ?)")
