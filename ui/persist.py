"""Widget values that outlive their page, kept in session-state copies Streamlit never clears.

Streamlit deletes a widget's session-state value when a run ends without that widget, so values
that must survive a visit to another page are re-assigned on every run. That alone is not
enough: while the Train page's live fragment is ticking, navigating away can still drop the
widget keys (seen in Chromium: the dataset and preset reset after Home → Train during a run).
So each kept value is also copied under a plain key ("_kept:<key>") that no widget owns, and a
missing widget key is restored from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st

_SHADOW = "_kept:"


@dataclass(frozen=True)
class KeptKeys:
    """The session-state keys one owner keeps across page changes.

    Each page's ui package (and the shared root, in `ui.state`) declares one, built from its own key
    constants, so renaming a key renames what is kept with it.

    Args:
        owner: The owning module's name, for messages.
        keys: Keys kept by exact name.
        prefixes: Keys kept by prefix, for widgets made per item (e.g. one per layer).
    """

    owner: str
    keys: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def covers(self, key: str) -> bool:
        """Whether this owner keeps `key`."""
        return key in self.keys or key.startswith(self.prefixes)


def keep_all(owners: Iterable[KeptKeys]) -> None:
    """Keeps every owner's keys alive for this run (see `keep`)."""
    owners = list(owners)
    prefixes = tuple(prefix for owner in owners for prefix in owner.prefixes)
    keep([*(key for owner in owners for key in owner.keys), *keys_with_prefix(prefixes)])


def keep(keys: Iterable[str]) -> None:
    """Re-assigns each key (restoring it from its copy if Streamlit dropped it) and refreshes the copy."""
    for key in keys:
        shadow = _SHADOW + key
        if key in st.session_state:
            value = st.session_state[key]
        elif shadow in st.session_state:
            value = st.session_state[shadow]
        else:
            continue
        st.session_state[key] = value
        st.session_state[shadow] = value


def forget(key: str) -> None:
    """Drops a kept value and its copy, so its widget starts over at its default."""
    st.session_state.pop(key, None)
    st.session_state.pop(_SHADOW + key, None)


def keys_with_prefix(prefixes: tuple[str, ...]) -> set[str]:
    """Every kept or present key starting with one of the prefixes."""
    names = {str(key).removeprefix(_SHADOW) for key in st.session_state}
    return {name for name in names if name.startswith(prefixes)}


def _json_value(value: object) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(_json_value(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_value(item) for key, item in value.items())
    return False


def snapshot(keys: Iterable[str], prefixes: tuple[str, ...] = ()) -> dict[str, object]:
    """The JSON-safe values of these keys (and of every key with one of the prefixes), for keeping on disk."""
    wanted = set(keys) | keys_with_prefix(prefixes)
    values = {}
    for key in sorted(wanted):
        value = st.session_state.get(key, st.session_state.get(_SHADOW + key))
        if value is not None and _json_value(value):
            values[key] = list(value) if isinstance(value, tuple) else value
    return values


def restore(values: dict[str, object]) -> None:
    """Puts kept values back, at a session's first run (a reload, another device), before any default is set."""
    for key, value in values.items():
        if isinstance(key, str):
            st.session_state[key] = value
            st.session_state[_SHADOW + key] = value
