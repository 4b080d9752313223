"""A day-by-day simulation of an agency's delivery process, from which the sandbox's worlds are built.

Teams with holidays, sickness, part-time people and leavers pull estimated work by the date it is
wanted (its due date, else its release's), are blocked by dependencies, reopen work after review; a lead
plans releases, due dates and sprints from estimates and nominal capacity, then moves dates, cuts scope
or lets a date pass. Calibration, measured over many seeds: about two thirds of the dates given for
single items are kept, and about two in five release dates; most teams are asked for 75 to 115% of
what they can give. The process emits what happened as
events; the Jira and Trello scenarios turn them into issues, changelogs, cards and actions. It knows
nothing of pmbridge and marks nothing for it: slips and risks in the worlds have causes, not labels.
"""

from sandbox.process.model import Event, Item, Person, ProjectHistory, Release, SprintPlan
from sandbox.process.setup import team_size_for
from sandbox.process.simulate import simulate_project

__all__ = [
    "Event",
    "Item",
    "Person",
    "ProjectHistory",
    "Release",
    "SprintPlan",
    "simulate_project",
    "team_size_for",
]
