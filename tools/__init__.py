"""The model's tools, one module per helpdesk area."""
