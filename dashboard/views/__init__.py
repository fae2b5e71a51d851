"""Dashboard views, one module per area: accounts, invitations, org, members, projects, keys."""
