"""The REST API conventions of ../shared/API.md, shared by every resource."""
