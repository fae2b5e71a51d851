"""The dashboard's URLs: account pages at the root, each org's pages under /o/<slug>/."""

from django.urls import include, path

from dashboard.views import (
    accounts,
    budgets,
    invitations,
    keys,
    members,
    observability,
    org,
    pii_policy,
    projects,
    provider_keys,
    requests,
    routes,
    routing_health,
    tokens,
    usage,
)

app_name = "dashboard"

org_patterns = [
    path("", org.overview, name="overview"),
    path("members/", members.members, name="members"),
    path("members/invite/", members.invite, name="invite"),
    path("members/<str:membership_id>/role/", members.change_role, name="change-role"),
    path("members/<str:membership_id>/remove/", members.remove_member, name="remove-member"),
    path(
        "invitations/<str:invitation_id>/revoke/",
        members.revoke_invitation,
        name="revoke-invitation",
    ),
    path("teams/", projects.teams, name="teams"),
    path("teams/new/", projects.new_team, name="new-team"),
    path("projects/", projects.projects, name="projects"),
    path("projects/new/", projects.new_project, name="new-project"),
    path("projects/<str:project_id>/", projects.project_detail, name="project"),
    path("projects/<str:project_id>/limits/", projects.project_limits, name="project-limits"),
    path(
        "projects/<str:project_id>/pii-policy/",
        pii_policy.project_pii_policy,
        name="project-pii-policy",
    ),
    path(
        "projects/<str:project_id>/pii-policy/delete/",
        pii_policy.delete_project_pii_policy,
        name="delete-project-pii-policy",
    ),
    path("pii-policy/", pii_policy.pii_policy, name="pii-policy"),
    path("routing-health/", routing_health.routing_health, name="routing-health"),
    path("keys/", keys.keys, name="keys"),
    path("keys/new/", keys.new_key, name="new-key"),
    path("keys/<str:key_id>/revoke/", keys.revoke_key, name="revoke-key"),
    path("keys/<str:key_id>/limits/", keys.key_limits, name="key-limits"),
    path("budgets/", budgets.budgets, name="budgets"),
    path("budgets/new/", budgets.new_budget, name="new-budget"),
    path("budgets/settings/", budgets.budget_settings, name="budget-settings"),
    path("budgets/<str:budget_id>/delete/", budgets.delete_budget, name="delete-budget"),
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/new/", tokens.new_token, name="new-token"),
    path("tokens/<str:token_id>/revoke/", tokens.revoke_token, name="revoke-token"),
    path("usage/", usage.usage, name="usage"),
    path("requests/", requests.request_log, name="requests"),
    # Before requests/<request_id>/, which "export" would match.
    path("requests/export/", requests.export_requests, name="requests-export"),
    path("requests/<str:request_id>/", requests.request_detail, name="request"),
    path("requests/<str:request_id>/trace/", observability.trace, name="trace"),
    path("routes/", routes.routes, name="routes"),
    path("routes/new/", routes.new_route, name="new-route"),
    path("routes/<str:route_id>/", routes.route_detail, name="route"),
    path("routes/<str:route_id>/edit/", routes.edit_route, name="edit-route"),
    path("routes/<str:route_id>/delete/", routes.delete_route, name="delete-route"),
    path("provider-keys/", provider_keys.provider_keys, name="provider-keys"),
    path("provider-keys/new/", provider_keys.new_provider_key, name="new-provider-key"),
    path(
        "provider-keys/<str:key_id>/revoke/",
        provider_keys.revoke_provider_key,
        name="revoke-provider-key",
    ),
    path("audit/", org.audit_log, name="audit"),
    path("settings/", observability.org_settings, name="settings"),
    path(
        "projects/<str:project_id>/observability/",
        observability.project_observability,
        name="project-observability",
    ),
]

urlpatterns = [
    path("", accounts.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("orgs/new/", accounts.new_organization, name="new-org"),
    path("invite/<str:token>/", invitations.invitation, name="invitation"),
    path("invite/<str:token>/signup/", invitations.invitation_signup, name="invitation-signup"),
    path("o/<slug:slug>/", include(org_patterns)),
]
