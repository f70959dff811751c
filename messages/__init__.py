"""What people read: Jinja2 templates (chat and documents) and the one environment for them."""
