"""tiffin: a multi-tenant food-commerce and delivery platform."""

__version__ = "0.1.0"
