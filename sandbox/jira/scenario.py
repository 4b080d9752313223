"""A seeded agency site built from a simulated delivery process (`sandbox.process`): projects per client
with epics, stories, bugs and subtasks, releases, sprints, a team per project, and months of changelog.

The process decides what happens and when (work started, blocked, reviewed, reopened, dates moved, scope
added or cut, sprints carried over); this module writes each event through the same change rules as live
mutations, so generated changelogs look exactly like the ones the control API produces.
"""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta

from sandbox.gcpause import collector_paused
from sandbox.jira import scenario_data as words
from sandbox.jira.adf import text_to_adf
from sandbox.jira.changes import UNSET, IssueChanges, Unset, apply_changes
from sandbox.jira.model import Comment, History, Issue, Project, Sprint, Version, Worklog
from sandbox.jira.state import JiraWorld
from sandbox.process import Event, Item, ProjectHistory, simulate_project, team_size_for

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_TYPE_NAMES = {"epic": "Epic", "story": "Story", "task": "Task", "bug": "Bug", "subtask": "Subtask"}
# Stage names, and for a blocked issue the project's style: the Blocked status, or the Flagged field on
# an issue left In Progress ("flag"), or both.
_STATUS_NAMES = {
    "todo": "To Do",
    "doing": "In Progress",
    "review": "In Review",
    "done": "Done",
    "status": "Blocked",
    "flag": "In Progress",
    "both": "Blocked",
}


def _project_key(client: str, taken: set[str]) -> str:
    letters = "".join(ch for ch in client.upper() if ch.isalpha()) or "PRJ"
    base = letters[:3].ljust(3, "X")
    key, n = base, 1
    while key in taken:
        key = f"{base[:2]}{chr(ord('A') + n % 26)}" if n < 26 else f"{base}{n}"
        n += 1
    taken.add(key)
    return key


def _day(world: JiraWorld, ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, world.tz).date().isoformat()


def populate_jira(
    world: JiraWorld,
    rng: random.Random,
    *,
    clients: list[str],
    projects: int,
    issues_per_project: int,
    days_of_history: int,
) -> None:
    """Add `projects` projects (spread over `clients`) with `issues_per_project` issues each to `world`."""
    now_ms = world.now_ms()
    first = datetime.fromtimestamp(now_ms / 1000, world.tz) - timedelta(days=days_of_history)
    # The history starts at the first midnight of the window, so it stays within `days_of_history`.
    origin = first.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    origin_ms = int(origin.timestamp() * 1000)
    team = [
        world.add_user(
            f"{rng.choice(words.FIRST)} {rng.choice(words.LAST)}", f"dev{i}@agency.example"
        ).account_id
        for i in range(max(6, min(40, projects * 3)))
    ]
    taken: set[str] = set()
    for index in range(projects):
        client = clients[index % len(clients)] if clients else f"Client {index + 1}"
        product = ("Web", "App", "Platform", "Portal")[index // max(len(clients), 1) % 4]
        lead = rng.choice(team)
        project = world.add_project(
            _project_key(client, taken), f"{client} {product}", lead_id=lead, client=client
        )
        size = team_size_for(rng, items=issues_per_project, days=days_of_history, largest=rng.randint(3, 6))
        members = rng.sample(team, k=min(len(team), size))
        spares = rng.sample([u for u in team if u not in members], k=min(3, len(team) - len(members)))
        with collector_paused():
            history = simulate_project(
                random.Random(rng.random()),
                items=issues_per_project,
                now=(now_ms - origin_ms) / DAY_MS,
                weekday0=origin.weekday(),
                team_size=len(members),
                spare_people=len(spares),
                kinds=words.KINDS,
                epics=True,
                sprints=True,
            )
        site = _ProjectSite(world, rng, project, history, origin_ms, members + spares)
        with collector_paused():
            world.load_issues(site.issues())


class _ProjectSite:
    """One project's process history written as Jira versions, sprints and issues."""

    def __init__(
        self,
        world: JiraWorld,
        rng: random.Random,
        project: Project,
        history: ProjectHistory,
        origin_ms: int,
        accounts: list[str],
    ) -> None:
        self.world, self.rng, self.project, self.history = world, rng, project, history
        self.origin_ms, self.accounts = origin_ms, accounts
        self.dates: dict[int, str] = {}
        # How the team shows a blocked issue: the Blocked status, the Flagged field, or both.
        self.blocked_style = rng.choice(("status", "flag", "both"))
        self.versions = self._versions()
        self.sprints = self._sprints()
        estimates = [i.estimate for i in history.items if i.kind != "epic"]
        self.unit = (statistics.fmean(estimates) / 3) if estimates else 1.0
        self.by_index: dict[int, Issue] = {}

    def ms(self, at: float) -> int:
        return self.origin_ms + int(at * DAY_MS)

    def date(self, day: int) -> str:
        found = self.dates.get(day)
        if found is None:
            found = self.dates[day] = _day(self.world, self.origin_ms + day * DAY_MS + 12 * HOUR_MS)
        return found

    def _versions(self) -> list[Version]:
        project = self.project
        return [
            self.world.add_version(
                project.id,
                f"{project.key} {1 + i // 4}.{i % 4}",
                description=f"Release {i + 1} for {project.name}",
                start_date=self.date(release.start),
                release_date=self.date(release.release),
                released=release.released_at is not None,
            )
            for i, release in enumerate(self.history.releases)
        ]

    def _sprints(self) -> list[Sprint]:
        board = self.world.add_board(self.project.id, f"{self.project.key} board")
        now_ms = self.ms(self.history.now)
        sprints: list[Sprint] = []
        for plan in self.history.sprints:
            # The lead closes a sprint at 08:00, carries work over and commits the next between 08:00
            # and 09:00 (the process's morning), and starts it at 09:00.
            begin = self.ms(plan.start + 9 / 24)
            end = self.ms(plan.end + 8 / 24)
            state = "closed" if end <= now_ms else ("active" if begin <= now_ms else "future")
            sprints.append(
                self.world.add_sprint(
                    board.id,
                    f"{self.project.key} Sprint {plan.index + 1}",
                    state,
                    start_ms=begin if state != "future" else None,
                    end_ms=end if state != "future" else None,
                    complete_ms=end if state == "closed" else None,
                    goal="",
                )
            )
        return sprints

    def issues(self) -> list[Issue]:
        return [self._issue(item_index) for item_index in range(len(self.history.items))]

    def _issue(self, index: int) -> Issue:
        rng, world, item = self.rng, self.world, self.history.items[index]
        type_name = _TYPE_NAMES[item.kind]
        if type_name == "Bug":
            where = rng.choice(("Safari", "Android", "checkout", "export"))
            summary = f"{rng.choice(words.THINGS).capitalize()} {rng.choice(words.BUG_SYMPTOMS)} {where}"
        elif type_name == "Epic":
            summary = f"{rng.choice(words.THINGS).capitalize()} overhaul"
        else:
            summary = f"{rng.choice(words.VERBS)} {rng.choice(words.THINGS)}"
        created_ms = self.ms(item.created)
        issue = world.new_issue(
            self.project, type_name=type_name, summary=summary, reporter_id=rng.choice(self.accounts[:3]),
            at_ms=created_ms,
        )  # fmt: skip
        issue.priority_id = str(item.initial_priority)
        issue.description = (
            f"{summary}. Acceptance criteria agreed with the client." if rng.random() < 0.7 else None
        )
        if rng.random() < 0.4:
            issue.labels = rng.sample(words.LABELS, k=rng.randint(1, 2))
        if item.parent is not None:
            issue.parent_id = self.by_index[item.parent].id
        if type_name in ("Story", "Task") and rng.random() < 0.8:
            issue.story_points = float(
                min((1, 2, 3, 5, 8, 13), key=lambda p: abs(p - item.estimate / self.unit))
            )
        if type_name != "Epic" and rng.random() < 0.5:
            hours = item.estimate / self.unit * 4
            issue.original_estimate_s = min((1, 2, 4, 8, 16, 24), key=lambda h: abs(h - hours)) * 3600
        self.by_index[index] = issue
        self._replay(issue, item)
        return issue

    def _replay(self, issue: Issue, item: Item) -> None:
        """Write the item's events in time order; events at the same moment are one changelog entry."""
        group: list[Event] = []
        for event in item.events:
            if group and event.at != group[0].at:
                self._write(issue, item, group)
                group = []
            group.append(event)
        if group:
            self._write(issue, item, group)
        issue.comments.sort(key=lambda c: c.created_ms)

    def _account(self, person: int | None) -> str:
        return self.project.lead_id if person is None else self.accounts[person]

    def _write(self, issue: Issue, item: Item, events: list[Event]) -> None:
        at_ms = self.ms(events[0].at)
        status: str | Unset = UNSET
        flagged: bool | Unset = UNSET
        assignee: str | Unset | None = UNSET
        versions: tuple[int, ...] | Unset = UNSET
        sprints: tuple[int, ...] | Unset = UNSET
        due: str | Unset | None = UNSET
        priority: str | Unset = UNSET
        labels: tuple[str, ...] | Unset = UNSET
        changed = False
        for event in events:
            kind, value = event.kind, event.value
            if kind == "comment":
                self._comment(issue, item, str(value), at_ms, self._account(event.actor))
                continue
            if kind == "worklog" and isinstance(value, float):
                self._worklog(issue, value, at_ms, self._account(event.actor))
                continue
            changed = True
            if kind == "status":
                blocked = value == "blocked"
                status = _STATUS_NAMES[self.blocked_style if blocked else str(value)]
                if self.blocked_style != "status" and (blocked or issue.flagged):
                    flagged = blocked
            elif kind == "assignee":
                assignee = self.accounts[value] if isinstance(value, int) else None
            elif kind == "version":
                versions = (self.versions[value].id,) if isinstance(value, int) else ()
            elif kind == "sprints" and isinstance(value, tuple):
                sprints = tuple(self.sprints[s].id for s in value)
            elif kind == "due":
                due = self.date(value) if isinstance(value, int) else None
            elif kind == "priority":
                priority = str(value)
            elif kind == "touch":
                label = str(value)
                kept = [x for x in issue.labels if x != label]
                labels = tuple(kept if label in issue.labels else [*kept, label])
        if not changed:
            return
        changes = IssueChanges(
            status=status,
            flagged=flagged,
            assignee_id=assignee,
            fix_version_ids=versions,
            sprint_ids=sprints,
            duedate=due,
            priority_id=priority,
            labels=labels,
        )
        items = apply_changes(self.world, issue, changes, at_ms)
        if items:
            author = self._account(events[0].actor)
            issue.histories.append(History(next(self.world.history_ids), author, at_ms, tuple(items)))
            issue.updated_ms = at_ms

    def _comment(self, issue: Issue, item: Item, topic: str, at_ms: int, author: str) -> None:
        other = None if item.depends_on is None else self.by_index.get(item.depends_on)
        text = self.rng.choice(words.COMMENTS[topic]).format(other=other.key if other else "another issue")
        comment = Comment(
            next(self.world.comment_ids), issue.id, author, text_to_adf(text), at_ms, at_ms, author
        )
        issue.comments.append(comment)
        issue.updated_ms = max(issue.updated_ms, at_ms)

    def _worklog(self, issue: Issue, hours: float, at_ms: int, author: str) -> None:
        seconds = int(hours * 3600)
        issue.worklogs.append(
            Worklog(next(self.world.worklog_ids), issue.id, author, at_ms, seconds, at_ms, at_ms)
        )
        issue.time_spent_s = (issue.time_spent_s or 0) + seconds
        issue.updated_ms = max(issue.updated_ms, at_ms)
