"""The JSON API for staff tools and integrations (`/api/v1/...`)."""
