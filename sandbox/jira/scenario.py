"""A seeded, realistic agency site: projects per client with epics, stories, bugs and subtasks, releases,
sprints, assignees, story points, and months of changelog (transitions, reopenings, due-date moves, flags).

Each issue's history is simulated from its creation to now and recorded through the same change rules as
live mutations, so generated changelogs look exactly like the ones the control API produces.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.jira.adf import text_to_adf
from sandbox.jira.changes import IssueChanges, apply_changes
from sandbox.jira.model import Comment, History, Issue, Project, Sprint, Version, Worklog
from sandbox.jira.state import JiraWorld

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_FIRST = (
    "Ada",
    "Bruno",
    "Chen",
    "Dana",
    "Elif",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaia",
    "Luis",
    "Mira",
    "Nils",
)
_LAST = (
    "Lovelace",
    "Costa",
    "Wei",
    "Okafor",
    "Yilmaz",
    "Haddad",
    "Hopper",
    "Martin",
    "Silva",
    "Berg",
    "Tamm",
    "Ortiz",
)
_VERBS = (
    "Implement",
    "Design",
    "Refactor",
    "Add",
    "Migrate",
    "Document",
    "Review",
    "Automate",
    "Polish",
    "Integrate",
)
_THINGS = (
    "checkout flow", "login page", "invoice export", "search filters", "mobile navigation",
    "payment webhook", "reporting dashboard", "email templates", "user onboarding", "API rate limiting",
    "CSV import", "audit log", "notification settings", "product catalog", "order history",
    "password reset", "admin roles", "image upload",
)  # fmt: skip
_BUG_SYMPTOMS = ("crashes on", "is slow on", "shows wrong totals in", "times out in", "breaks layout of")
_LABELS = ("frontend", "backend", "client-request", "tech-debt", "ux", "infra", "quick-win")
_COMMENTS = (
    "Client confirmed the scope on today's call.",
    "Blocked until we get API credentials from the client.",
    "Moved the date: the design review slipped a week.",
    "Deployed to staging for acceptance testing.",
    "QA found two edge cases, fixing now.",
    "This needs a decision from the client's product owner.",
)
_TYPES = ("Story", "Task", "Bug", "Subtask")
_TYPE_WEIGHTS = (48, 16, 16, 20)


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
    start_ms = now_ms - days_of_history * DAY_MS
    team = [
        world.add_user(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", f"dev{i}@agency.example").account_id
        for i in range(max(6, min(40, projects * 3)))
    ]
    taken: set[str] = set()
    for index in range(projects):
        client = clients[index % len(clients)] if clients else f"Client {index + 1}"
        product = ("Web", "App", "Platform", "Portal")[index // max(len(clients), 1) % 4]
        project = world.add_project(
            _project_key(client, taken), f"{client} {product}", lead_id=rng.choice(team), client=client
        )
        versions = _add_versions(world, rng, project, start_ms, now_ms)
        sprints = _add_sprints(world, project, start_ms, now_ms)
        members = rng.sample(team, k=min(len(team), rng.randint(3, 6)))
        generator = _IssueGenerator(world, rng, project, members, versions, sprints, start_ms, now_ms)
        world.load_issues(generator.generate(issues_per_project))


def _add_versions(
    world: JiraWorld, rng: random.Random, project: Project, start_ms: int, now_ms: int
) -> list[Version]:
    versions: list[Version] = []
    span_days = max((now_ms - start_ms) // DAY_MS, 30)
    count = max(3, int(span_days // 30) + 2)
    for i in range(count):
        release_ms = start_ms + (i + 1) * 30 * DAY_MS + rng.randint(-5, 5) * DAY_MS
        released = release_ms < now_ms - 2 * DAY_MS and rng.random() < 0.9
        versions.append(
            world.add_version(
                project.id,
                f"{project.key} {1 + i // 4}.{i % 4}",
                description=f"Release {i + 1} for {project.name}",
                start_date=_day(world, release_ms - 30 * DAY_MS),
                release_date=_day(world, release_ms),
                released=released,
            )
        )
    return versions


def _add_sprints(world: JiraWorld, project: Project, start_ms: int, now_ms: int) -> list[Sprint]:
    board = world.add_board(project.id, f"{project.key} board")
    sprints: list[Sprint] = []
    begin = start_ms
    number = 1
    length = 14 * DAY_MS
    while begin <= now_ms + length:
        end = begin + length
        state = "closed" if end <= now_ms else ("active" if begin <= now_ms else "future")
        sprints.append(
            world.add_sprint(
                board.id,
                f"{project.key} Sprint {number}",
                state,
                start_ms=begin if state != "future" else None,
                end_ms=end if state != "future" else None,
                complete_ms=end if state == "closed" else None,
                goal="",
            )
        )
        begin, number = end, number + 1
    return sprints


class _IssueGenerator:
    def __init__(
        self,
        world: JiraWorld,
        rng: random.Random,
        project: Project,
        members: list[str],
        versions: list[Version],
        sprints: list[Sprint],
        start_ms: int,
        now_ms: int,
    ) -> None:
        self.world, self.rng, self.project = world, rng, project
        self.members, self.versions, self.sprints = members, versions, sprints
        self.start_ms, self.now_ms = start_ms, now_ms
        self.parents: list[Issue] = []
        self.epics: list[Issue] = []

    def generate(self, count: int) -> list[Issue]:
        rng = self.rng
        span = max(self.now_ms - self.start_ms - HOUR_MS, 1)
        created = sorted(self.start_ms + int(span * rng.random() ** 0.8) for _ in range(count))
        epic_count = max(1, count // 25)
        issues: list[Issue] = []
        for i, created_ms in enumerate(created):
            if i < epic_count and (i == 0 or rng.random() < 0.5):
                type_name = "Epic"
            else:
                type_name = rng.choices(_TYPES, _TYPE_WEIGHTS)[0]
                if type_name == "Subtask" and not self.parents:
                    type_name = "Task"
            issues.append(self.issue(type_name, created_ms))
        return issues

    def issue(self, type_name: str, created_ms: int) -> Issue:
        rng, world = self.rng, self.world
        if type_name == "Bug":
            where = rng.choice(("Safari", "Android", "checkout", "export"))
            summary = f"{rng.choice(_THINGS).capitalize()} {rng.choice(_BUG_SYMPTOMS)} {where}"
        elif type_name == "Epic":
            summary = f"{rng.choice(_THINGS).capitalize()} overhaul"
        else:
            summary = f"{rng.choice(_VERBS)} {rng.choice(_THINGS)}"
        issue = world.new_issue(
            self.project,
            type_name=type_name,
            summary=summary,
            reporter_id=rng.choice(self.members),
            at_ms=created_ms,
        )
        issue.priority_id = rng.choice(("1", "2", "3", "3", "3", "4", "5"))
        issue.description = (
            f"{summary}. Acceptance criteria agreed with the client." if rng.random() < 0.7 else None
        )
        if rng.random() < 0.4:
            issue.labels = rng.sample(_LABELS, k=rng.randint(1, 2))
        if type_name == "Subtask":
            issue.parent_id = rng.choice(self.parents[-50:]).id
        elif type_name == "Epic":
            self.epics.append(issue)
        else:
            self.parents.append(issue)
            if self.epics and rng.random() < 0.7:
                issue.parent_id = rng.choice(self.epics[-8:]).id
        if rng.random() < 0.7:
            issue.assignee_id = rng.choice(self.members)
        if type_name in ("Story", "Task") and rng.random() < 0.8:
            issue.story_points = float(rng.choice((1, 2, 3, 5, 8, 13)))
        if rng.random() < 0.6:
            issue.duedate = _day(world, created_ms + rng.randint(7, 60) * DAY_MS)
            issue.start_date = _day(world, created_ms + rng.randint(0, 5) * DAY_MS)
        if type_name in ("Story", "Bug", "Task"):
            upcoming = [v for v in self.versions if (v.release_date or "") >= _day(world, created_ms)]
            if upcoming and rng.random() < 0.6:
                issue.fix_version_ids = [upcoming[0].id if rng.random() < 0.7 else rng.choice(upcoming).id]
            sprint = self._sprint_at(created_ms)
            if sprint is not None and rng.random() < 0.7:
                issue.sprint_ids = [sprint.id]
        if type_name != "Epic" and rng.random() < 0.5:
            issue.original_estimate_s = rng.choice((1, 2, 4, 8, 16, 24)) * 3600
        self._live(issue)
        return issue

    def _sprint_at(self, ms: int) -> Sprint | None:
        for sprint in self.sprints:
            if (
                sprint.start_ms is not None
                and sprint.end_ms is not None
                and sprint.start_ms <= ms < sprint.end_ms
            ):
                return sprint
        return None

    def _change(self, issue: Issue, at_ms: int, changes: IssueChanges) -> None:
        items = apply_changes(self.world, issue, changes, at_ms)
        if items:
            author = issue.assignee_id or self.rng.choice(self.members)
            issue.histories.append(History(next(self.world.history_ids), author, at_ms, tuple(items)))
            issue.updated_ms = at_ms

    def _live(self, issue: Issue) -> None:
        """Simulate the issue from creation to now; events that would fall after now never happen."""
        rng = self.rng
        t = issue.created_ms
        plan: list[tuple[int, IssueChanges]] = []

        def step(hours_low: float, hours_high: float) -> int:
            nonlocal t
            t += int(rng.uniform(hours_low, hours_high) * HOUR_MS)
            return t

        if rng.random() < 0.85:
            plan.append(
                (
                    step(2, 120),
                    IssueChanges(
                        status="In Progress", assignee_id=issue.assignee_id or rng.choice(self.members)
                    ),
                )
            )
            if rng.random() < 0.12:
                plan.append((step(4, 72), IssueChanges(flagged=True)))
                plan.append((step(12, 120), IssueChanges(flagged=False)))
            due = issue.duedate
            if due is not None and rng.random() < 0.35:
                for _ in range(rng.randint(1, 3)):
                    due = (
                        (datetime.fromisoformat(due) + timedelta(days=rng.randint(3, 21))).date().isoformat()
                    )
                    plan.append((step(12, 96), IssueChanges(duedate=due)))
            if issue.sprint_ids and rng.random() < 0.15:
                later = [s for s in self.sprints if s.id > issue.sprint_ids[-1]]
                if later:
                    plan.append((step(24, 240), IssueChanges(sprint_ids=(*issue.sprint_ids, later[0].id))))
            if rng.random() < 0.8:
                if rng.random() < 0.5:
                    plan.append((step(8, 96), IssueChanges(status="In Review")))
                plan.append((step(4, 96), IssueChanges(status="Done")))
                if rng.random() < 0.06:
                    plan.append((step(24, 200), IssueChanges(status="In Progress")))
                    plan.append((step(8, 120), IssueChanges(status="Done")))
        for at_ms, changes in plan:
            if at_ms >= self.now_ms:
                break
            self._change(issue, at_ms, changes)
        if rng.random() < 0.3:
            self._comments(issue, rng.randint(1, 4))
        if issue.status.category.key != "new" and rng.random() < 0.2:
            self._worklogs(issue, rng.randint(1, 3))

    def _comments(self, issue: Issue, count: int) -> None:
        rng, world = self.rng, self.world
        for _ in range(count):
            at = issue.created_ms + int((self.now_ms - issue.created_ms) * rng.random() * 0.9)
            author = rng.choice(self.members)
            comment = Comment(
                next(world.comment_ids), issue.id, author, text_to_adf(rng.choice(_COMMENTS)), at, at, author
            )
            issue.comments.append(comment)
            issue.updated_ms = max(issue.updated_ms, at)
        issue.comments.sort(key=lambda c: c.created_ms)

    def _worklogs(self, issue: Issue, count: int) -> None:
        rng, world = self.rng, self.world
        for _ in range(count):
            at = issue.created_ms + int((self.now_ms - issue.created_ms) * rng.random() * 0.9)
            seconds = rng.choice((1800, 3600, 7200, 14400))
            issue.worklogs.append(
                Worklog(next(world.worklog_ids), issue.id, rng.choice(self.members), at, seconds, at, at)
            )
            issue.time_spent_s = (issue.time_spent_s or 0) + seconds
            issue.updated_ms = max(issue.updated_ms, at)
