"""HTTP plumbing shared by the domain routes: errors, JSON bodies, auth."""
