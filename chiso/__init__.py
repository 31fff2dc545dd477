"""chiso — the operating system of a provincial digital-transformation steering committee."""

__version__ = "0.1.0"
