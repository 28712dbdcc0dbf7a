"""mamori (守り): a customer data system in which the APPI and the GDPR are how the software works."""

__version__ = "0.1.0"
