"""Case rules and their stores: cases, contacts, routing, lifecycle, notifications, staff, configuration."""
