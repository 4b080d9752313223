"""A fake of the Trello REST API that real clients cannot tell from the service, for what pmbridge uses.

`state.TrelloWorld` holds the data, `routes.trello_routes` serves `/1/...`, `control.trello_control_routes`
changes the world under `/_sandbox/trello`, `scenario.populate_trello` generates an agency's boards.
"""
