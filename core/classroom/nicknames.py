"""Nicknames in a class: checked, unique within the class, and always shown as plain text."""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs import confusables

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
    """Whether two nicknames would be confused: the same without case, or after letters that look like Latin
    ones (Cyrillic А, Greek Ο, …) are read as those. "Alex" and "Аlex" both joined one class before."""
    return skeleton(one) == skeleton(other)


@functools.lru_cache(maxsize=4096)
def skeleton(nickname: str) -> str:
    """The nickname as a reader might take it: casefolded, each look-alike of a Latin letter replaced by it.

    The look-alikes come from Unicode's confusables list (`confusable_homoglyphs`), as in UTS #39's skeleton.
    """
    read = []
    for character in unicodedata.normalize("NFKC", nickname).casefold():
        found = confusables.is_confusable(character, preferred_aliases=["latin"]) if not character.isascii() else False
        latin = [glyph["c"] for entry in found or [] for glyph in entry["homoglyphs"] if glyph["c"].isascii()]
        read.append(latin[0].casefold() if latin else character)
    return "".join(read)
