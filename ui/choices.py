"""A picker's kept value, checked against the choices it offers now.

A picker's value comes back from the browser as the label it showed. When its choices change (another
model, run or dataset) and no choice has that label any more, Streamlit's deserializer hands the label
itself back as the value: a str where the page expects one of its options. Reported on Predict: the
layer box kept the MNIST model's "conv2d (Conv2D, 14×14×32)" over a CIFAR-10 model's maps, then the
page crashed comparing the label with a number. (Streamlit 1.67 resets such a widget when it is drawn,
and the crash did not reproduce with it; the releases `requirements.txt` allows from 1.53 on may not,
and a page that reads the value before drawing the picker reads it either way.) A picker given a value
outside its options also shows its first option while the page goes on reading the old value. So every
picker whose choices depend on what is loaded drops a value it no longer offers, and starts over at
its default.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from ui.persist import forget


def offered(value: object, options: Iterable[object]) -> bool:
    """Whether `value` is one of `options` (for a multiselect's list, whether each of its items is)."""
    choices = list(options)
    if isinstance(value, list | tuple):
        return all(_among(item, choices) for item in value)
    return _among(value, choices)


def _among(value: object, choices: list[object]) -> bool:
    # A label that came back as a str is never a number option (numpy's and Python's numbers compare equal).
    return any(isinstance(value, str) == isinstance(choice, str) and value == choice for choice in choices)


def keep_if_offered(key: str, options: Iterable[object]) -> None:
    """Drops the picker's kept value under `key` (and its page-change copy) unless `options` offer it.

    Call just before drawing the picker, with the options it is about to get.
    """
    if key in st.session_state and not offered(st.session_state[key], options):
        forget(key)
