"""The theme's colours meet WCAG 2.1 AA's 4.5:1 for text, computed from .streamlit/config.toml the way the browser
paints them (axe checks the same in Chromium: tests/browser/test_accessibility.py)."""

from __future__ import annotations

import tomllib

import pytest

from tests.conftest import REPO_ROOT

THEME = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())["theme"]
CAPTION_OPACITY = 0.6  # Streamlit draws captions (and inline code in them) in the text colour at 60%


def rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(colour: tuple[float, float, float]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(front: tuple[float, float, float], back: tuple[float, float, float]) -> float:
    lighter, darker = sorted((luminance(front), luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def faded(colour: str, background: str, opacity: float) -> tuple[float, float, float]:
    return tuple(opacity * f + (1 - opacity) * b for f, b in zip(rgb(colour), rgb(background), strict=True))


def test_the_arithmetic_matches_the_issues_measurement():
    """The old theme's caption, #1c2330 at 60% on white, is #777b83 at 4.24:1, as axe measured."""
    assert contrast(faded("#1c2330", "#ffffff", CAPTION_OPACITY), rgb("#ffffff")) == pytest.approx(4.24, abs=0.01)


@pytest.mark.parametrize("background", ["backgroundColor", "secondaryBackgroundColor"])
@pytest.mark.parametrize("text", ["textColor", "codeTextColor"])
def test_captions_and_their_code_meet_aa_on_both_backgrounds(text, background):
    ratio = contrast(faded(THEME[text], THEME[background], CAPTION_OPACITY), rgb(THEME[background]))
    assert ratio >= 4.5, f"{text} at 60% on {background}: {ratio:.2f}:1"


@pytest.mark.parametrize("tint", [0.0, 0.1, 0.2])
def test_the_primary_colour_meets_aa_as_text_on_white_and_on_its_own_tints(tint):
    """A selected segmented-control option: primary text on a 10% tint of itself, 20% when hovered or focused."""
    primary = THEME["primaryColor"]
    assert contrast(rgb(primary), faded(primary, THEME["backgroundColor"], tint)) >= 4.5
