"""Names people type (runs, classes): shown as typed, so they may not hold characters that change how the
text around them reads.

U+202E (right-to-left override) in a class name reversed the app's own banner text after it, and zero-width
or control characters make two names look alike. Letters of every script, digits, punctuation and symbols
stay; Unicode's "other" (C*) and "separator" (Z*) categories go, except the plain space.
"""

from __future__ import annotations

import unicodedata


def hidden_characters(text: str) -> list[str]:
    """The characters of `text` that are invisible or steer its layout (bidi controls, zero-width, controls), in
    order, each once."""
    found: list[str] = []
    for character in text:
        if (character != " " and unicodedata.category(character).startswith(("C", "Z"))
                and character not in found):
            found.append(character)
    return found


def refusal(text: str, what: str) -> str | None:
    """A sentence saying why `text` cannot be used as `what` ("A run name"), or None if it can."""
    hidden = hidden_characters(text)
    if not hidden:
        return None
    codes = ", ".join(f"U+{ord(character):04X}" for character in hidden[:5])
    return f"{what} may not hold invisible or text-direction characters ({codes}): retype it."


def without_hidden(text: str) -> str:
    """`text` with its hidden characters removed (for names that must be kept whatever they hold, e.g. at save)."""
    hidden = set(hidden_characters(text))
    return "".join(character for character in text if character not in hidden)
