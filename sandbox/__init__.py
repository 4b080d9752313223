"""Local fakes of the Jira Cloud and Trello REST APIs: state, routes, faults, scenarios.

The sandbox never imports the connectors' own models: one mistake must not hide on both sides.
"""
