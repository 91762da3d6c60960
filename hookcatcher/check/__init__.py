"""Validation against the bundled schemas: the fast yes/no check and jsonschema's located errors."""
