"""Teams and projects through the pages, and names that look like markup or SQL."""

from __future__ import annotations

from tenants import actions
from tenants.models import Project, Team
from tests.conftest import Persona, logged_in
from tests.dashboard.support import submit, text

SCRIPT = "<script>alert(1)</script>"
SQL = "Robert'); DROP TABLE tenants_project;--"


def test_an_admin_creates_a_team_and_a_project_in_it(alice: Persona) -> None:
    browser = logged_in(alice)
    created = submit(browser, "/o/acme/teams/new/", {"name": "  Research  "})
    assert created["Location"] == "/o/acme/teams/"
    team = Team.objects.get(org=alice.org)
    assert team.name == "Research"
    assert "Team Research was created." in text(browser.get("/o/acme/teams/"))

    project_page = submit(
        browser, "/o/acme/projects/new/", {"name": "Chatbot", "team": str(team.id)}
    )
    project = Project.objects.get(org=alice.org, name="Chatbot")
    assert project.team == team
    assert project_page["Location"] == f"/o/acme/projects/{project.id}/"
    listing = text(browser.get("/o/acme/projects/"))
    assert "Chatbot" in listing
    assert "Research" in listing


def test_a_project_name_already_used_shows_an_error(alice: Persona) -> None:
    response = submit(logged_in(alice), "/o/acme/projects/new/", {"name": "default"})
    assert response.status_code == 400
    assert "A project named &#x27;default&#x27; already exists." in text(response)
    assert Project.objects.filter(org=alice.org).count() == 1


def test_a_team_name_already_used_shows_an_error(alice: Persona) -> None:
    browser = logged_in(alice)
    submit(browser, "/o/acme/teams/new/", {"name": "Ops"})
    response = submit(browser, "/o/acme/teams/new/", {"name": "OPS"})
    assert response.status_code == 400
    assert "already exists" in text(response)
    assert Team.objects.filter(org=alice.org).count() == 1


def test_names_with_control_characters_or_only_spaces_are_refused(alice: Persona) -> None:
    browser = logged_in(alice)
    for name in ("bad\x00name", "line\nbreak", "rtl\u202eoverride", "   "):
        response = submit(browser, "/o/acme/projects/new/", {"name": name})
        assert response.status_code == 400, name
    assert Project.objects.filter(org=alice.org).count() == 1


def test_html_and_sql_looking_names_render_escaped_everywhere(alice: Persona) -> None:
    browser = logged_in(alice)
    submit(browser, "/o/acme/teams/new/", {"name": SCRIPT})
    team = Team.objects.get(org=alice.org, name=SCRIPT)
    submit(browser, "/o/acme/projects/new/", {"name": SCRIPT, "team": str(team.id)})
    submit(browser, "/o/acme/projects/new/", {"name": SQL})
    project = Project.objects.get(org=alice.org, name=SCRIPT)
    created = submit(
        browser, "/o/acme/keys/new/", {"project": str(project.id), "name": SCRIPT, "user": ""}
    )
    assert SCRIPT not in text(created)

    for url in (
        "/o/acme/",
        "/o/acme/teams/",
        "/o/acme/projects/",
        f"/o/acme/projects/{project.id}/",
        "/o/acme/keys/",
        "/o/acme/keys/new/",
        "/o/acme/audit/",
    ):
        body = text(browser.get(url))
        assert SCRIPT not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url
    projects = text(browser.get("/o/acme/projects/"))
    assert "Robert&#x27;); DROP TABLE tenants_project;--" in projects
    assert Project.objects.filter(org=alice.org, name=SQL).exists()


def test_a_project_page_lists_its_keys_only(alice: Persona) -> None:
    other = actions.create_project(alice.org, "Other", alice.actor)
    actions.issue_api_key(alice.project, "in default", alice.actor)
    actions.issue_api_key(other, "in other", alice.actor)
    page = text(logged_in(alice).get(f"/o/acme/projects/{alice.project.id}/"))
    assert "in default" in page
    assert "in other" not in page


def test_a_member_sees_projects_and_teams_without_create_buttons(bob: Persona) -> None:
    browser = logged_in(bob)
    projects = text(browser.get("/o/acme/projects/"))
    assert "Default" in projects
    assert "/o/acme/projects/new/" not in projects
    assert "/o/acme/teams/new/" not in text(browser.get("/o/acme/teams/"))
