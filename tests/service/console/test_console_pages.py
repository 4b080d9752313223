"""The console's pages over TestClient: who may sign in, CSRF, field errors with what was typed,
404 for ids that name nothing, and the flag actions' effects in the store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.console import console_router
from service.domain.enums import FlagTriage, SourceKind
from service.portal import portal_router
from service.store.db import transaction
from service.store.flags import get_flag, list_flag_history
from service.store.orm import FlagRow
from service.store.rule_runs import list_rule_runs
from service.store.sources import list_sources
from service.store.tenancy import issue_token, list_scopes, list_tokens, revoke_token
from service.web.forms import SignInLimits
from tests.service.console.conftest import Console, csrf_of, sign_in
from tests.support.api import T0, make_settings
from tests.support.console import COMMENT_ID, FEEDBACK_COMMENT, ISSUE_URL, SPARE_SOURCE
from tests.support.fakes import RecordingEnqueuer
from tests.support.sources import add_test_source


def test_the_console_asks_for_sign_in_and_comes_back(console: Console) -> None:
    browser = console.browser()
    response = browser.get("/console/flags?state=open")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/flags?state=open"
    form = browser.get(response.headers["location"])
    assert form.status_code == 200
    assert 'name="next" value="/console/flags?state=open"' in form.text
    signed = browser.post(
        "/console/sign-in",
        data={
            "csrf": csrf_of(form.text),
            "token": console.world.admin_token,
            "next": "/console/flags?state=open",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console/flags?state=open"
    page = browser.get("/console/flags?state=open")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["cache-control"] == "no-store"


def test_client_tokens_do_not_open_the_console(console: Console) -> None:
    browser = console.browser()
    form = browser.get("/console/sign-in")
    response = browser.post(
        "/console/sign-in",
        data={"csrf": csrf_of(form.text), "token": console.world.tokens["acme"], "next": ""},
    )
    assert response.status_code == 401
    assert "That access token was not accepted." in response.text
    assert browser.cookies.get("pmb_console") is None
    assert browser.get("/console/").status_code == 303


def test_a_portal_session_never_opens_the_console_nor_the_reverse(console: Console) -> None:
    browser = console.browser()
    portal_cookie = sign_in(browser, console.world.tokens["acme"], site="/portal")
    other = console.browser()
    other.cookies.set("pmb_console", portal_cookie)
    assert other.get("/console/").status_code == 303

    admin = console.browser()
    console_cookie = sign_in(admin, console.world.admin_token)
    reader = console.browser()
    reader.cookies.set("pmb_portal", console_cookie)
    assert reader.get("/portal").status_code == 303
    # The admin token does not sign in to the portal either.
    form = reader.get("/portal/sign-in")
    refused = reader.post(
        "/portal/sign-in", data={"csrf": csrf_of(form.text), "token": console.world.admin_token, "next": ""}
    )
    assert refused.status_code == 401


def test_signing_out_ends_the_session(console: Console) -> None:
    browser = console.browser()
    cookie = sign_in(browser, console.world.admin_token)
    page = browser.get("/console/")
    assert browser.post("/console/sign-out", data={"csrf": csrf_of(page.text)}).status_code == 303
    copy = console.browser()
    copy.cookies.set("pmb_console", cookie)
    assert copy.get("/console/").status_code == 303


def test_today_lists_clients_promises_at_risk_sources_and_the_push_queue(console: Console) -> None:
    page = console.signed_in().get("/console/")
    assert page.status_code == 200
    text = page.text
    for name in ("acme", "globex", "initech"):
        assert f"<h3>{name}</h3>" in text
    assert "Promises at risk:" in text
    assert "ACME-2" in text
    assert "agency-jira" in text
    assert "Push-back queue" in text
    assert 'aria-current="page"' in text


def test_flags_filter_groups_by_milestone_and_pages(console: Console) -> None:
    browser = console.signed_in()
    page = browser.get("/console/flags", params={"client": "acme", "severity": "warning", "state": "open"})
    assert page.status_code == 200
    assert "ACME web: ACME 1.0" in page.text
    assert "GLOBEX" not in page.text
    flag_id = console.world.flags["ACME-item"]
    assert f'href="/console/flags/{flag_id}"' in page.text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"severity": "loud"}, "severity"), ({"state": "gone"}, "state"), ({"client": "nobody"}, "client")],
)
def test_a_filter_not_understood_is_422_next_to_its_field(
    console: Console, params: dict[str, str], field: str
) -> None:
    page = console.signed_in().get("/console/flags", params=params)
    assert page.status_code == 422
    assert f'id="{field}-error"' in page.text
    assert f'aria-describedby="{field}-error"' in page.text


def test_unknown_flags_are_404(console: Console) -> None:
    browser = console.signed_in()
    assert browser.get("/console/flags/999999").status_code == 404
    assert browser.get("/console/flags/abc").status_code == 404
    csrf = csrf_of(browser.get("/console/").text)
    assert browser.post("/console/flags/999999/acknowledge", data={"csrf": csrf}).status_code == 404


def test_actions_without_the_csrf_token_are_refused(console: Console) -> None:
    browser = console.signed_in()
    flag_id = console.world.flags["INITECH-item"]
    response = browser.post(f"/console/flags/{flag_id}/acknowledge", data={"csrf": "forged"})
    assert response.status_code == 403
    cross = browser.post(
        f"/console/flags/{flag_id}/acknowledge",
        data={"csrf": csrf_of(browser.get("/console/").text)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    with console.store.sessions() as session:
        assert get_flag(session, flag_id=flag_id).triage is None


def test_a_bad_snooze_date_is_422_with_what_was_typed_and_nothing_saved(console: Console) -> None:
    browser = console.signed_in()
    flag_id = console.world.flags["INITECH-milestone"]
    page = browser.get(f"/console/flags/{flag_id}")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for typed, message in (("next week", "YYYY-MM-DD"), (yesterday, "after today")):
        response = browser.post(
            f"/console/flags/{flag_id}/snooze", data={"csrf": csrf_of(page.text), "until": typed}
        )
        assert response.status_code == 422
        assert message in response.text
        assert re.search(rf'id="until"[^>]*value="{re.escape(typed)}"', response.text)
        assert 'aria-describedby="until-error"' in response.text
    with console.store.sessions() as session:
        assert get_flag(session, flag_id=flag_id).triage is None
        assert [e.kind.value for e in list_flag_history(session, flag_id=flag_id)] == []


def test_triage_actions_change_the_flag_and_redirect_with_303(console: Console) -> None:
    browser = console.signed_in()
    flag_id = console.world.flags["INITECH-project"]
    csrf = csrf_of(browser.get(f"/console/flags/{flag_id}").text)
    response = browser.post(f"/console/flags/{flag_id}/acknowledge", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/flags/{flag_id}?done=acknowledged"
    until = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    assert (
        browser.post(f"/console/flags/{flag_id}/snooze", data={"csrf": csrf, "until": until}).status_code
        == 303
    )
    bad = browser.post(f"/console/flags/{flag_id}/dismiss", data={"csrf": csrf, "reason": "bored"})
    assert bad.status_code == 422
    assert 'id="reason-error"' in bad.text
    ok = browser.post(f"/console/flags/{flag_id}/dismiss", data={"csrf": csrf, "reason": "known"})
    assert ok.status_code == 303
    with console.store.sessions() as session:
        flag = get_flag(session, flag_id=flag_id)
        history = [e.kind.value for e in list_flag_history(session, flag_id=flag_id)]
    assert flag.triage is FlagTriage.DISMISSED
    assert history == ["acknowledged", "snoozed", "dismissed"]
    page = browser.get(f"/console/flags/{flag_id}?done=dismissed")
    assert "Dismissed." in page.text
    assert "dismissed</strong> by token:" in page.text


def test_publishing_previews_in_the_clients_words_then_publishes(console: Console) -> None:
    browser = console.signed_in()
    flag_id = console.world.flags["GLOBEX-unpublished"]
    csrf = csrf_of(browser.get(f"/console/flags/{flag_id}").text)
    empty = browser.post(f"/console/flags/{flag_id}/publish", data={"csrf": csrf, "wording": "   "})
    assert empty.status_code == 422
    assert 'id="wording-error"' in empty.text
    long = browser.post(f"/console/flags/{flag_id}/publish", data={"csrf": csrf, "wording": "x" * 2001})
    assert long.status_code == 422
    assert "Keep it under 2,000 characters (2,001 now)." in long.text
    preview = browser.post(
        f"/console/flags/{flag_id}/publish", data={"csrf": csrf, "wording": "Launch may <slip> a week"}
    )
    assert preview.status_code == 200
    assert "<li><strong>Watch:</strong> Launch may &lt;slip&gt; a week</li>" in preview.text
    assert "<li><strong>Watch</strong> (GLOBEX web): Launch may &lt;slip&gt; a week</li>" in preview.text
    with console.store.sessions() as session:
        assert get_flag(session, flag_id=flag_id).published is False
    done = browser.post(
        f"/console/flags/{flag_id}/publish",
        data={"csrf": csrf, "wording": "Launch may <slip> a week", "confirm": "yes"},
    )
    assert done.status_code == 303
    with console.store.sessions() as session:
        flag = get_flag(session, flag_id=flag_id)
    assert (flag.published, flag.client_text) == (True, "Launch may <slip> a week")
    assert browser.post(f"/console/flags/{flag_id}/unpublish", data={"csrf": csrf}).status_code == 303
    with console.store.sessions() as session:
        assert get_flag(session, flag_id=flag_id).published is False


def test_sources_show_health_and_connecting_refuses_bad_fields_with_422(console: Console) -> None:
    browser = console.signed_in()
    page = browser.get("/console/sources")
    assert page.status_code == 200
    assert "agency-jira" in page.text
    csrf = csrf_of(page.text)
    typed = {
        "csrf": csrf,
        "kind": "jira_cloud",
        "name": "",
        "base_url": "ftp://x",
        "email": "ops@example.com",
    }
    response = browser.post("/console/sources", data=typed)
    assert response.status_code == 422
    for field in ("name", "base_url", "api_token"):
        assert f'id="{field}-error"' in response.text
        assert f'aria-describedby="{field}-error"' in response.text
    assert 'value="ops@example.com"' in response.text
    private = browser.post(
        "/console/sources",
        data={**typed, "name": "intranet", "base_url": "https://127.0.0.1", "api_token": "secret-token"},
    )
    assert private.status_code == 422
    assert 'id="base_url-error"' in private.text
    assert "secret-token" not in private.text
    unreachable = browser.post(
        "/console/sources",
        data={**typed, "name": "nowhere", "base_url": "https://nowhere.invalid", "api_token": "t"},
    )
    assert unreachable.status_code == 422
    assert "The connection test failed, so nothing was saved" in unreachable.text
    with console.store.sessions() as session:
        assert [s.name for s in list_sources(session)] == ["agency-jira", SPARE_SOURCE]


def test_removing_a_source_counts_first_and_unknown_sources_are_404(console: Console) -> None:
    browser = console.signed_in()
    assert browser.get("/console/sources/999999/remove").status_code == 404
    csrf = csrf_of(browser.get("/console/sources").text)
    assert browser.post("/console/sources/999999/remove", data={"csrf": csrf}).status_code == 404
    assert browser.post("/console/sources/999999/sync", data={"csrf": csrf}).status_code == 404
    spare = add_test_source(
        console.store,
        kind=SourceKind.TRELLO,
        name="spare",
        webhook_secret=None,
        base_url="https://api.trello.com",
    )
    confirm = browser.get(f"/console/sources/{spare}/remove")
    assert confirm.status_code == 200
    assert "Remove spare?" in confirm.text
    assert '<th scope="row">work items</th><td data-label="How many">0</td>' in confirm.text
    assert browser.post(f"/console/sources/{spare}/remove", data={"csrf": "forged"}).status_code == 403
    done = browser.post(f"/console/sources/{spare}/remove", data={"csrf": csrf})
    assert done.status_code == 303
    with console.store.sessions() as session:
        assert "spare" not in [s.name for s in list_sources(session)]


def test_clients_share_projects_with_field_errors_and_tokens_shown_once(console: Console) -> None:
    browser = console.signed_in()
    world = console.world
    client = world.clients["initech"]
    page = browser.get("/console/clients")
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    bad = browser.post(
        f"/console/clients/{client}/scopes",
        data={"csrf": csrf, "project": str(world.projects["SHARED"]), "rule": "label", "value": ""},
    )
    assert bad.status_code == 422
    assert f'id="c{client}-value-error"' in bad.text
    assert f'aria-describedby="c{client}-value-error"' in bad.text
    with console.store.sessions() as session:
        assert len(list_scopes(session, client_id=client)) == 1
    ok = browser.post(
        f"/console/clients/{client}/scopes",
        data={"csrf": csrf, "project": str(world.projects["SHARED"]), "rule": "label", "value": "client"},
    )
    assert ok.status_code == 303
    with console.store.sessions() as session:
        scopes = list_scopes(session, client_id=client)
    assert [(s.rule.value, s.value) for s in scopes] == [("all", None), ("label", "client")]
    removed = browser.post(f"/console/clients/{client}/scopes/{scopes[1].id}/remove", data={"csrf": csrf})
    assert removed.status_code == 303

    created = browser.post(f"/console/clients/{client}/tokens", data={"csrf": csrf, "token_name": "board"})
    assert created.status_code == 200
    secret = re.search(r'id="issued-secret" readonly value="(pmb_[^"]+)"', created.text)
    assert secret is not None
    assert secret.group(1) not in browser.get("/console/clients").text
    portal = console.browser()
    sign_in(portal, secret.group(1), site="/portal")
    with console.store.sessions() as session:
        token = next(t for t in list_tokens(session, client_id=client) if t.name == "board")
    assert browser.post(f"/console/tokens/{token.id}/revoke", data={"csrf": csrf}).status_code == 303
    assert portal.get("/portal").status_code == 303
    assert (
        browser.post(f"/console/tokens/{world.token_ids['acme']}/revoke", data={"csrf": "x"}).status_code
        == 403
    )
    assert browser.post("/console/tokens/999999/revoke", data={"csrf": csrf}).status_code == 404
    assert (
        browser.post("/console/clients/999999/tokens", data={"csrf": csrf, "token_name": "x"}).status_code
        == 404
    )


def test_view_as_client_shows_the_clients_overview_read_only(console: Console) -> None:
    browser = console.signed_in()
    world = console.world
    page = browser.get(f"/console/clients/{world.clients['acme']}/view")
    assert page.status_code == 200
    assert "ACME web" in page.text
    assert "GLOBEX web" not in page.text
    assert 'action="/portal/feedback"' not in page.text
    assert browser.cookies.get("pmb_portal") is None
    assert browser.get("/console/clients/999999/view").status_code == 404


RULE_FILE = """\
rules:
  - id: big_bugs
    applies_to: item
    when: item.kind == "bug"
    severity: warning
    message: "a bug"
"""


def test_rules_check_a_file_and_queue_runs_with_field_errors(console: Console) -> None:
    browser = console.signed_in()
    page = browser.get("/console/rules")
    assert page.status_code == 200
    assert "stale_in_progress" in page.text
    csrf = csrf_of(page.text)
    bad = browser.post("/console/rules/check", data={"csrf": csrf, "rules": "rules: [nope"})
    assert bad.status_code == 422
    assert 'id="rules-error"' in bad.text
    assert "rules: [nope" in bad.text
    good = browser.post("/console/rules/check", data={"csrf": csrf, "rules": RULE_FILE})
    assert good.status_code == 200
    assert "The file loads: 1 custom rule (big_bugs)" in good.text
    runs_before = _rule_runs(console)
    refused = browser.post(
        "/console/rules/runs", data={"csrf": csrf, "kind": "backtest", "since": "forever", "rules": ""}
    )
    assert refused.status_code == 422
    assert 'id="since-error"' in refused.text
    no_file = browser.post("/console/rules/runs", data={"csrf": csrf, "kind": "dry_run", "rules": ""})
    assert no_file.status_code == 422
    assert 'id="run-rules-error"' in no_file.text
    assert _rule_runs(console) == runs_before
    queued = browser.post(
        "/console/rules/runs",
        data={"csrf": csrf, "kind": "backtest", "since": "30d", "step": "1d", "rules": ""},
    )
    assert queued.status_code == 303
    assert _rule_runs(console) == runs_before + 1
    assert "backtest" in browser.get("/console/rules?done=queued").text


def _rule_runs(console: Console) -> int:
    with console.store.sessions() as session:
        return len(list_rule_runs(session, limit=100))


def test_a_flag_shows_its_comment_as_posted_with_a_link_to_it(console: Console) -> None:
    page = console.signed_in().get(f"/console/flags/{console.world.flags['ACME-item']}")
    assert page.status_code == 200
    assert f'href="{ISSUE_URL}?focusedCommentId={COMMENT_ID}"' in page.text
    assert "Comment in Jira" in page.text
    assert "As posted:" in page.text
    assert "Risk (warning): internal rule message ACME item" in page.text


def test_flags_page_by_fifty_with_next_and_first_links(console: Console) -> None:
    world = console.world
    with transaction(console.store.sessions) as session:
        for n in range(60):
            session.add(
                FlagRow(
                    rule_id="bulk",
                    subject="project",
                    subject_id=world.projects["INITECH"],
                    severity="info",
                    state="resolved",
                    message=f"bulk {n}",
                    evidence={},
                    fingerprint=f"bulk-{n}",
                    first_seen_at=T0,
                    last_seen_at=T0,
                )
            )
    browser = console.signed_in()
    first = browser.get("/console/flags", params={"rule": "bulk"})
    assert first.status_code == 200
    assert first.text.count(": bulk</a>") == 50
    found = re.search(r'href="(/console/flags\?rule=bulk&amp;after=\d+)">Next page', first.text)
    assert found is not None
    second = browser.get(found.group(1).replace("&amp;", "&"))
    assert second.text.count(": bulk</a>") == 10
    assert "Next page" not in second.text
    assert 'href="/console/flags?rule=bulk">First page' in second.text


def test_revoking_the_admin_token_ends_its_console_session(console: Console) -> None:
    with transaction(console.store.sessions) as session:
        issued = issue_token(session, client_id=None, is_admin=True, name="temp", expires_at=None, now=T0)
    browser = console.browser()
    sign_in(browser, issued.secret)
    assert browser.get("/console/").status_code == 200
    assert issued.token.id is not None
    with transaction(console.store.sessions) as session:
        revoke_token(session, token_id=issued.token.id, now=datetime.now(UTC))
    assert browser.get("/console/").status_code == 303


def test_console_sign_in_is_limited_apart_from_the_portals(tmp_path: Path) -> None:
    routers = [portal_router(), console_router()]
    app = create_app(make_settings(tmp_path), enqueuer=RecordingEnqueuer(), extra_routers=routers)
    with TestClient(app, follow_redirects=False) as browser:
        app.state.console_sign_in_limits = SignInLimits(address_burst=2, prefix_burst=100)
        statuses = []
        for _ in range(3):
            form = browser.get("/console/sign-in")
            response = browser.post(
                "/console/sign-in", data={"csrf": csrf_of(form.text), "token": "pmb_wrong", "next": ""}
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 429]
        assert int(response.headers["Retry-After"]) > 0
        portal = browser.get("/portal/sign-in")
        other = browser.post(
            "/portal/sign-in", data={"csrf": csrf_of(portal.text), "token": "pmb_wrong", "next": ""}
        )
        assert other.status_code == 401


def test_feedback_lists_comments_with_their_subject_and_marks_them_handled(console: Console) -> None:
    browser = console.signed_in()
    page = browser.get("/console/feedback", params={"client": "acme"})
    assert page.status_code == 200
    assert FEEDBACK_COMMENT in page.text
    assert "ACME 1.0" in page.text
    csrf = csrf_of(page.text)
    feedback_id = console.seeded.feedback_id
    assert (
        browser.post(f"/console/feedback/{feedback_id}/handled", data={"csrf": "forged"}).status_code == 403
    )
    done = browser.post(
        f"/console/feedback/{feedback_id}/handled",
        data={"csrf": csrf, "handled": "yes", "return_to": "/console/feedback?client=acme"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/console/feedback?client=acme&done=handled"
    assert FEEDBACK_COMMENT not in browser.get("/console/feedback", params={"client": "acme"}).text
    handled = browser.get("/console/feedback", params={"client": "acme", "handled": "yes"})
    assert FEEDBACK_COMMENT in handled.text
    assert "Handled " in handled.text
    assert browser.post("/console/feedback/999999/handled", data={"csrf": csrf}).status_code == 404
    unknown = browser.get("/console/feedback", params={"client": "nobody"})
    assert unknown.status_code == 422
    assert 'aria-describedby="client-error"' in unknown.text
    bad = browser.get("/console/feedback", params={"milestone": "ten"})
    assert bad.status_code == 422
    assert 'id="milestone-error"' in bad.text


def test_rules_reload_queues_every_projects_evaluation(console: Console) -> None:
    browser = console.signed_in()
    page = browser.get("/console/rules")
    assert "Reload the rule files" in page.text
    response = browser.post("/console/rules/reload", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/rules?done=reloaded"


def test_a_jira_sources_webhooks_are_not_registered_from_the_console(console: Console) -> None:
    browser = console.signed_in()
    page = browser.get("/console/sources")
    assert "set up by the site's administrator" in page.text
    response = browser.post(
        f"/console/sources/{console.world.source_id}/webhooks", data={"csrf": csrf_of(page.text)}
    )
    assert response.status_code == 422
    assert "not registered from here" in response.text


def test_a_rule_file_that_does_not_load_is_named_and_refuses_the_reload(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "default.yaml").write_text(RULE_FILE)
    (rules_dir / "project-ACME.yaml").write_text("rules: [nope")
    enqueuer = RecordingEnqueuer()
    settings = make_settings(tmp_path, rules_dir=rules_dir)
    app = create_app(settings, enqueuer=enqueuer, extra_routers=[portal_router(), console_router()])
    with TestClient(app, follow_redirects=False) as browser:
        with transaction(app.state.store.sessions) as session:
            admin = issue_token(session, client_id=None, is_admin=True, name="ops", expires_at=None, now=T0)
        sign_in(browser, admin.secret)
        page = browser.get("/console/rules")
        assert "big_bugs" in page.text
        assert "project-ACME.yaml" in page.text
        refused = browser.post("/console/rules/reload", data={"csrf": csrf_of(page.text)})
        assert refused.status_code == 422
        assert "project-ACME.yaml" in refused.text
    assert enqueuer.evaluations == 0
