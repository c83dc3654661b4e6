"""scalearc-lint: static compliance linting of vSphere inventories for ScaleArc appliances."""

__version__ = "0.1.0"
