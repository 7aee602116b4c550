"""The ``shipcheck`` command: Shipcheck's pipeline API from a CI job."""

__version__ = "0.1.0"
