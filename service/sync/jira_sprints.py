"""Jira sprints from the projects' boards (`/rest/agile/1.0`), so every sprint is a milestone with its
dates, state and goal, including one no synced issue names yet (an empty future sprint).

A full run (and the census) lists the site's boards once (pages of 50) and reads every sprint of each
board of a synced project that has sprints (kanban boards have none and are not asked). What it
found is kept as the `sprints` cursor: the boards, and the sprints still open (active or future).

An incremental run asks each kept board only for its active and future sprints (one call a board
while it has fewer than 50): a closed sprint no longer changes. A kept open sprint missing from that
answer has closed (or was deleted) since: it is read once by id (`GET /sprint/{id}`) to learn its
complete date. A board created since the last full run is found by the next full run or census;
until then its sprints still come from the issues' Sprint field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from connectors.http import NotFoundError, PermanentError
from connectors.jira import JiraClient
from connectors.jira.models import JiraSprint
from service.domain.work import Milestone, Project
from service.logging import get_logger
from service.store.db import transaction
from service.store.items import upsert_milestones
from service.store.runtime import Store
from service.store.sync_state import find_cursor, save_cursor
from service.sync.jira_mapping import map_sprint

CURSOR_SCOPE = "sprints"
PAGE_SIZE = 50  # the agile API's page cap for boards and sprints
OPEN_STATES = ("active", "future")
# Kanban boards have no sprints: asking answers 400.
SPRINTLESS_BOARD_TYPES = frozenset({"kanban"})

log = get_logger(__name__)


class JiraSprintSync:
    """Reads the sprints of one source's boards into milestones; `board_projects` then says which
    project each board belongs to, for the sprints the issues' Sprint field names."""

    def __init__(
        self, store: Store, *, source_id: int, client: JiraClient, now: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._source_id = source_id
        self._client = client
        self._now = now
        self.board_projects: dict[int, str] = {}
        self.milestones: list[Milestone] = []

    def run(self, projects: Sequence[Project], *, full: bool) -> None:
        """Read the sprints (all of them when `full` or never read, else the open ones) and store them."""
        cursor = self._cursor()
        in_scope = {p.external_id for p in projects}
        if full or cursor is None:
            sprints, boards = self._read_all(self._list_boards(in_scope))
        else:
            # A project taken out of scope since the last full run takes its boards with it.
            kept = {int(b): str(p) for b, p in cursor["boards"] if str(p) in in_scope}
            were_open = {int(s): str(p) for s, p in cursor["open"] if str(p) in in_scope}
            sprints, boards = self._read_open(kept, were_open)
        self.board_projects = boards
        self.milestones = [
            map_sprint(sprint, source_id=self._source_id, project_external_id=project)
            for sprint, project in sprints
        ]
        open_sprints = [[s.id, project] for s, project in sprints if s.state in OPEN_STATES]
        with transaction(self._store.sessions) as session:
            upsert_milestones(
                session, source_id=self._source_id, milestones=self.milestones, observed_at=self._now()
            )
            save_cursor(
                session,
                source_id=self._source_id,
                scope=CURSOR_SCOPE,
                position={"boards": [[b, p] for b, p in sorted(boards.items())], "open": open_sprints},
                now=self._now(),
            )

    def known_board_projects(self) -> dict[int, str]:
        """Board id -> project id: of this run's read, else as the last run kept them (a webhook's
        issues name sprints without a sprint read)."""
        if self.board_projects:
            return self.board_projects
        cursor = self._cursor()
        return {int(board): str(project) for board, project in cursor["boards"]} if cursor else {}

    def _cursor(self) -> dict[str, list[list[int | str]]] | None:
        with self._store.sessions() as session:
            position = find_cursor(session, source_id=self._source_id, scope=CURSOR_SCOPE)
        if not position or "boards" not in position or "open" not in position:
            return None
        return position

    def _list_boards(self, project_ids: set[str]) -> dict[int, str]:
        """The boards of the synced projects that may have sprints: board id -> project id. One listing
        of the site's boards (pages of 50) rather than one listing per project."""
        boards: dict[int, str] = {}
        try:
            listed = list(self._client.iter_boards(page_size=PAGE_SIZE))
        except PermanentError as error:
            # A site without Jira Software (or a user without its licence, 403) has no boards: its
            # sprints, if any, come from the issues' Sprint field.
            log.info("sync.jira.boards.unavailable", error=str(error))
            return boards
        for board in listed:
            location = board.location
            if board.type in SPRINTLESS_BOARD_TYPES or location is None or location.project_id is None:
                continue
            project_id = str(location.project_id)
            if project_id in project_ids:
                boards[board.id] = project_id
        return boards

    def _read_all(self, boards: Mapping[int, str]) -> tuple[list[tuple[JiraSprint, str]], dict[int, str]]:
        """Every sprint of every board, and the boards that answered (a board whose sprints cannot be
        read, such as a team-managed board without sprints, is left out and not asked again)."""
        sprints: dict[int, tuple[JiraSprint, str]] = {}
        kept: dict[int, str] = {}
        for board_id, project in boards.items():
            try:
                found = list(self._client.iter_sprints(board_id, page_size=PAGE_SIZE))
            except PermanentError as error:
                log.info("sync.jira.board_sprints.skipped", board_id=board_id, error=str(error))
                continue
            kept[board_id] = project
            _keep(sprints, found, project, boards)
        return list(sprints.values()), kept

    def _read_open(
        self, boards: Mapping[int, str], were_open: Mapping[int, str]
    ) -> tuple[list[tuple[JiraSprint, str]], dict[int, str]]:
        sprints: dict[int, tuple[JiraSprint, str]] = {}
        kept: dict[int, str] = {}
        for board_id, project in boards.items():
            try:
                found = list(self._client.iter_sprints(board_id, states=OPEN_STATES, page_size=PAGE_SIZE))
            except PermanentError as error:
                # Deleted, or no longer a board with sprints: not asked again until a full run.
                log.info("sync.jira.board_sprints.skipped", board_id=board_id, error=str(error))
                continue
            kept[board_id] = project
            _keep(sprints, found, project, boards)
        # An open sprint no longer listed as open has closed (or gone) since the last run.
        for sprint_id, project in were_open.items():
            if sprint_id in sprints:
                continue
            try:
                sprints[sprint_id] = (self._client.get_sprint(sprint_id), project)
            except NotFoundError:
                log.info("sync.jira.sprint.gone", sprint_id=sprint_id)
        return list(sprints.values()), kept


def _keep(
    sprints: dict[int, tuple[JiraSprint, str]],
    found: Iterable[JiraSprint],
    project: str,
    boards: Mapping[int, str],
) -> None:
    """A sprint listed by several boards is a milestone of its own board's project (`originBoardId`),
    else of the first board's that listed it."""
    for sprint in found:
        if sprint.id not in sprints:
            origin = sprint.origin_board_id or sprint.board_id
            sprints[sprint.id] = (sprint, boards.get(origin, project) if origin is not None else project)
