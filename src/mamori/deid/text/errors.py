"""Errors of the text de-identification slice (MamoriError family; messages never hold personal data)."""

from __future__ import annotations

from mamori.kernel.errors import ConfigurationError, ValidationFailed


class PolicyInvalid(ValidationFailed):
    code = "deid_policy_invalid"


class InputUnreadable(ValidationFailed):
    code = "deid_input_unreadable"


class KeyInvalid(ConfigurationError):
    code = "deid_key_invalid"


class NerUnavailable(ConfigurationError):
    """The optional NER model (spaCy + ja_ginza) is not installed; it is never a dependency of mamori."""

    code = "deid_ner_unavailable"
