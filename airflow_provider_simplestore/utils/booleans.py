"""True and false written as text: the one list of words, for connection extras and imported rows."""

from __future__ import annotations

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off"})


def boolean_word(text: str) -> bool | None:
    """True or False for one of the words (any case, spaces around it ignored); None for any other text."""
    word = text.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
