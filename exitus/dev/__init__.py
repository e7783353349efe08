"""Local development helpers: a project-local PostgreSQL and a dev OpenID issuer. Not used by `exitus serve`."""
