"""Nicknames in a class: checked, unique within the class, and always shown as plain text."""

from __future__ import annotations

import unicodedata

MAX_NICKNAME = 24
_ALLOWED_PUNCTUATION = set(" .-_'")


class NicknameError(ValueError):
    """A nickname that cannot be used; the message says what would work."""


def check_nickname(text: object) -> str:
    """The nickname as it will be shown: normalised (NFKC), inner spaces collapsed.

    Letters and digits of any script, spaces and . - _ ' are allowed; markup, emoji, control and
    invisible characters are not, so a nickname can never look like another or carry HTML.

    Raises:
        NicknameError: If it is empty, longer than MAX_NICKNAME, or holds another character.
    """
    if not isinstance(text, str):
        raise NicknameError("A nickname must be text.")
    if len(text) > 4 * MAX_NICKNAME:  # judged before normalising: a 10,000-character paste is not worth reading
        raise NicknameError(f"A nickname has at most {MAX_NICKNAME} characters; this one has {len(text):,}.")
    hidden = sorted({character for character in text if unicodedata.category(character).startswith(("C", "Z"))
                     and character != " "})
    if hidden:  # tabs, newlines, bidi overrides, zero-width and other invisible characters
        raise NicknameError("A nickname may not hold control or invisible characters ("
                            + ", ".join(f"U+{ord(character):04X}" for character in hidden[:5]) + ").")
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not cleaned:
        raise NicknameError("Type a nickname: the name your teacher will see next to your runs.")
    if len(cleaned) > MAX_NICKNAME:
        raise NicknameError(f"A nickname has at most {MAX_NICKNAME} characters; this one has {len(cleaned):,}.")
    refused = sorted({character for character in cleaned
                      if not (character.isalnum() or character in _ALLOWED_PUNCTUATION)})
    if refused:
        shown = ", ".join(repr(character) if character.isprintable() else f"U+{ord(character):04X}"
                          for character in refused[:5])
        raise NicknameError(f"A nickname may hold letters, digits, spaces and . - _ ' only; not {shown}.")
    return cleaned


def same_nickname(one: str, other: str) -> bool:
    """Whether two nicknames would be confused (compared without case)."""
    return one.casefold() == other.casefold()
