"""The REST API conventions of docs/API.md, shared by every resource."""
