"""The coordinators' dashboard: pages over the stored evaluations (`ROUTES` mounts them)."""

from bot.web.dashboard.routes import ROUTES

__all__ = ["ROUTES"]
