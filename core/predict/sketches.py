"""Drawings made by code, on the Predict page's 280×280 canvas: digits, and things that are not digits.

They train and calibrate the digit check (`core.predict.rejection`) and drive the tests, so every
drawing goes through the app's own path: white strokes with round ends on black, then
`core.predict.preprocessing.prepare_grey`, as a canvas drawing does.

A template is a list of strokes; a stroke is a list of (x, y) canvas pixels. `jittered` turns one
template into one person's drawing of it: a random size, place, slant and wobble, and a pen width from
the Predict page's slider. Shapes that are digits in MNIST (a circle is 0, a vertical line is 1) are
never among the non-digits.

NumPy and Pillow only: no TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280  # the Predict canvas's side in pixels
PEN_WIDTHS = (6, 40)  # the Predict page's stroke-width slider
Point = tuple[float, float]
Stroke = list[Point]


def render(strokes: list[Stroke], width: float, side: int = CANVAS) -> np.ndarray:
    """The strokes drawn as the canvas draws them: (side, side) uint8, white ink with round ends on black.

    Args:
        strokes: Each a list of (x, y) points; a one-point stroke is a dot.
        width: The pen's width in pixels.
    """
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    radius = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(width)), joint="curve")
        for x, y in (points[0], points[-1]) if len(points) > 1 else points:  # round ends, as the canvas has
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image, dtype=np.uint8)


def as_rgba(grey: np.ndarray) -> np.ndarray:
    """A grey drawing as the canvas component returns it: (H, W, 4) uint8, opaque."""
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, end: float = 1.0,
             points: int = 28) -> Stroke:
    """An arc of an ellipse, from `start` to `end` turns, clockwise from the top."""
    count = max(2, round(points * abs(end - start)))
    return [(cx + rx * math.sin(2 * math.pi * (start + (end - start) * i / count)),
             cy - ry * math.cos(2 * math.pi * (start + (end - start) * i / count))) for i in range(count + 1)]


# Digits as people draw them, several ways each (canvas pixels, the digit about 180 px tall).
DIGITS: dict[int, tuple[list[Stroke], ...]] = {
    0: ([_ellipse(140, 140, 55, 85)], [_ellipse(140, 140, 45, 80, 0.05, 1.05)], [_ellipse(140, 140, 75, 80)]),
    1: ([[(140, 50), (140, 230)]], [[(115, 80), (145, 50), (145, 230)]],
        [[(120, 75), (145, 50), (145, 230)], [(115, 230), (175, 230)]]),
    2: ([[(90, 90), (120, 55), (170, 55), (195, 95), (170, 140), (90, 225), (200, 225)]],
        [[*_ellipse(140, 100, 50, 48, -0.22, 0.3), (90, 225), (200, 222)]]),
    3: ([[(90, 70), (150, 50), (190, 90), (140, 135), (195, 175), (150, 225), (90, 210)]],
        [_ellipse(140, 95, 45, 42, -0.2, 0.45) + _ellipse(140, 180, 50, 45, 0.05, 0.72)]),
    4: ([[(170, 230), (170, 50), (80, 170), (210, 170)]],
        [[(110, 50), (95, 150), (200, 150)], [(170, 70), (170, 230)]]),
    5: ([[(190, 55), (100, 55), (95, 130), (160, 120), (195, 170), (160, 225), (90, 215)]],
        [[(100, 55), (95, 130), *_ellipse(140, 170, 55, 55, -0.15, 0.6)], [(100, 55), (190, 55)]]),
    6: ([[(180, 60), (120, 90), (95, 170), (130, 225), (180, 200), (175, 150), (110, 160)]],
        [[(170, 50), (110, 120), *_ellipse(140, 180, 45, 45, 0.75, 1.75)]]),
    7: ([[(80, 60), (200, 60), (120, 230)]], [[(80, 60), (200, 60), (120, 230)], [(110, 145), (185, 145)]]),
    8: ([[(170, 70), (140, 50), (100, 75), (170, 170), (140, 225), (100, 195), (170, 90), (140, 50)]],
        [_ellipse(140, 95, 40, 42), _ellipse(140, 180, 50, 48)]),
    9: ([[(190, 100), (140, 60), (95, 100), (140, 140), (190, 100), (185, 230)]],
        [_ellipse(140, 95, 48, 45), [(188, 95), (180, 230)]]),
}


def _line(angle_degrees: float, length: float) -> list[Stroke]:
    dx, dy = length / 2 * math.cos(math.radians(angle_degrees)), length / 2 * math.sin(math.radians(angle_degrees))
    return [[(140 - dx, 140 - dy), (140 + dx, 140 + dy)]]


def _star(rng: np.random.Generator) -> list[Stroke]:
    spikes = int(rng.integers(5, 7))
    points = [(140 + (90 if i % 2 == 0 else 38) * math.sin(math.pi * i / spikes),
               140 - (90 if i % 2 == 0 else 38) * math.cos(math.pi * i / spikes)) for i in range(2 * spikes + 1)]
    return [points]


def _polygon(corners: int, rng: np.random.Generator) -> list[Stroke]:
    turn = rng.uniform(0, 1) if corners != 4 else rng.choice([0.0, 0.125])
    return [[(140 + 85 * math.sin(2 * math.pi * (turn + i / corners)),
              140 - 85 * math.cos(2 * math.pi * (turn + i / corners))) for i in range(corners + 1)]]


def _face(rng: np.random.Generator) -> list[Stroke]:
    mouth = _ellipse(140, 150, 45, 30, 0.3, 0.7) if rng.random() < 0.7 else _ellipse(140, 200, 45, 30, 0.8, 1.2)
    eyes = [[(115, 115)], [(165, 115)]] if rng.random() < 0.5 else [[(112, 110), (118, 122)], [(162, 110), (168, 122)]]
    return [_ellipse(140, 140, 90, 90), *eyes, mouth]


def _scribble(rng: np.random.Generator) -> list[Stroke]:
    """A random walk of a pen: many turns, often crossing itself."""
    count = int(rng.integers(8, 30))
    steps = rng.normal(0, 1, (count, 2)).cumsum(axis=0)
    steps = (steps - steps.mean(axis=0)) / (np.abs(steps).max() + 1e-6) * rng.uniform(60, 110)
    return [[(140 + x, 140 + y) for x, y in steps]]


def _hatching(rng: np.random.Generator) -> list[Stroke]:
    """Back-and-forth filling, as when colouring a patch in."""
    rows = int(rng.integers(4, 9))
    return [[(60 + 160 * (i % 2), 60 + 160 * i / rows) for i in range(rows + 1)]]


def _wave(rng: np.random.Generator) -> list[Stroke]:
    cycles, height = rng.uniform(1.5, 3.5), rng.uniform(15, 40)
    return [[(40 + 200 * i / 40, 140 + height * math.sin(2 * math.pi * cycles * i / 40)) for i in range(41)]]


def _spiral(rng: np.random.Generator) -> list[Stroke]:
    turns = rng.uniform(2.0, 3.5)
    return [[(140 + 90 * t / 60 * math.sin(2 * math.pi * turns * t / 60),
              140 - 90 * t / 60 * math.cos(2 * math.pi * turns * t / 60)) for t in range(61)]]


def _dots(rng: np.random.Generator) -> list[Stroke]:
    count = int(rng.integers(1, 5))
    return [[(float(x), float(y))] for x, y in rng.uniform(60, 220, (count, 2))]


# Letters and symbols as people write them (canvas pixels, about 180 px tall). Left out on purpose:
# letters that are digits' twins (O, D, I, l, Z, S, B, G, g, q, b).
LETTERS: dict[str, list[Stroke]] = {
    "A": [[(80, 230), (140, 50), (200, 230)], [(105, 160), (175, 160)]],
    "C": [_ellipse(140, 140, 60, 85, 0.12, -0.62)],
    "E": [[(190, 50), (95, 50), (95, 230), (190, 230)], [(95, 140), (170, 140)]],
    "F": [[(190, 50), (95, 50), (95, 230)], [(95, 140), (170, 140)]],
    "H": [[(90, 50), (90, 230)], [(190, 50), (190, 230)], [(90, 140), (190, 140)]],
    "K": [[(95, 50), (95, 230)], [(190, 50), (95, 150), (190, 230)]],
    "M": [[(70, 230), (85, 50), (140, 170), (195, 50), (210, 230)]],
    "N": [[(90, 230), (90, 50), (190, 230), (190, 50)]],
    "R": [[(95, 230), (95, 50), (170, 55), (185, 100), (165, 135), (95, 140), (190, 230)]],
    "T": [[(70, 50), (210, 50)], [(140, 50), (140, 230)]],
    "U": [[(90, 50), *_ellipse(140, 180, 50, 50, 0.75, 0.25), (190, 50)]],
    "V": [[(80, 50), (140, 230), (200, 50)]],
    "W": [[(60, 50), (100, 230), (140, 110), (180, 230), (220, 50)]],
    "X": [[(80, 50), (200, 230)], [(200, 50), (80, 230)]],
    "Y": [[(80, 50), (140, 140), (200, 50)], [(140, 140), (140, 230)]],
    "e": [[(95, 150), (185, 150), *_ellipse(140, 150, 45, 55, 0.25, -0.62)]],
    "h": [[(95, 40), (95, 230)], [(95, 160), *_ellipse(140, 160, 45, 40, -0.25, 0.25), (185, 230)]],
    "m": [[(60, 230), (60, 120), *_ellipse(90, 150, 30, 30, -0.25, 0.25), (120, 230)],
          [(120, 150), *_ellipse(160, 150, 40, 30, -0.25, 0.25), (200, 230)]],
    "n": [[(90, 230), (90, 120), *_ellipse(140, 150, 50, 35, -0.25, 0.25), (190, 230)]],
    "r": [[(110, 230), (110, 110)], [(110, 150), (150, 115), (190, 115)]],
    "w": [[(60, 110), (100, 230), (140, 140), (180, 230), (220, 110)]],
    "x": [[(90, 110), (190, 230)], [(190, 110), (90, 230)]],
    "k": [[(100, 40), (100, 230)], [(180, 110), (100, 175), (180, 230)]],
    "+": [[(140, 60), (140, 220)], [(60, 140), (220, 140)]],
    "=": [[(70, 110), (210, 110)], [(70, 170), (210, 170)]],
    "#": [[(110, 50), (100, 230)], [(180, 50), (170, 230)], [(60, 110), (220, 110)], [(60, 170), (220, 170)]],
    "*": [[(140, 50), (140, 230)], [(62, 95), (218, 185)], [(62, 185), (218, 95)]],
    "?": [[*_ellipse(140, 95, 50, 48, -0.22, 0.45), (140, 170)], [(140, 225)]],
    "!": [[(140, 40), (140, 180)], [(140, 228)]],
    "%": [_ellipse(90, 80, 25, 30), [(210, 50), (70, 230)], _ellipse(190, 200, 25, 30)],
    "&": [[(200, 230), (100, 110), (110, 60), (150, 60), (160, 100), (80, 180), (110, 230), (170, 200), (200, 160)]],
    "arrow": [[(40, 140), (230, 140)], [(180, 90), (230, 140), (180, 190)]],
    "tick": [[(70, 140), (120, 200), (220, 60)]],
    "heart": [[(140, 230), (70, 140), *_ellipse(105, 100, 38, 40, -0.3, 0.25),
               *_ellipse(175, 100, 38, 40, -0.25, 0.3), (140, 230)]],
    "house": [[(80, 230), (80, 120), (140, 50), (200, 120), (200, 230), (80, 230)]],
}

# Marks people make on paper: none is a digit in any hand (the upright ones, | / ( ), are left out: 1s).
MARKS: dict[str, list[Stroke]] = {
    "caret": [[(80, 190), (140, 90), (200, 190)]],
    "less": [[(200, 70), (90, 140), (200, 210)]],
    "greater": [[(80, 70), (190, 140), (80, 210)]],
    "tilde": [[(50, 160), (85, 120), (125, 125), (155, 155), (195, 160), (230, 120)]],
    "ellipsis": [[(70, 150)], [(140, 150)], [(210, 150)]],
    "colon": [[(140, 90)], [(140, 190)]],
    "up arrow": [[(140, 230), (140, 50)], [(85, 105), (140, 50), (195, 105)]],
    "down arrow": [[(140, 50), (140, 230)], [(85, 175), (140, 230), (195, 175)]],
    "diagonal arrow": [[(60, 220), (210, 70)], [(130, 70), (210, 70), (210, 150)]],
    "double arrow": [[(40, 140), (240, 140)], [(85, 95), (40, 140), (85, 185)], [(195, 95), (240, 140), (195, 185)]],
    "cross": [[(100, 100), (180, 180)], [(180, 100), (100, 180)]],
    "circled cross": [_ellipse(140, 140, 90, 90), [(85, 85), (195, 195)], [(195, 85), (85, 195)]],
    "box tick": [[(60, 60), (220, 60), (220, 220), (60, 220), (60, 60)], [(90, 140), (130, 185), (200, 90)]],
    "crossed out": [[(50, 100), (230, 100)], [(50, 140), (230, 140)], [(50, 180), (230, 180)],
                    [(50, 190), (230, 90)]],
    "underline": [[(40, 200), (240, 200)], [(40, 225), (240, 225)]],
    "hash": [[(120, 60), (110, 220)], [(170, 60), (160, 220)], [(70, 110), (210, 110)], [(70, 170), (210, 170)]],
}


def _sun(rng: np.random.Generator) -> list[Stroke]:
    rays = int(rng.integers(6, 10))
    return [_ellipse(140, 140, 45, 45)] + [[
        (140 + 60 * math.sin(2 * math.pi * i / rays), 140 - 60 * math.cos(2 * math.pi * i / rays)),
        (140 + 100 * math.sin(2 * math.pi * i / rays), 140 - 100 * math.cos(2 * math.pi * i / rays))]
        for i in range(rays)]


def _cloud(rng: np.random.Generator) -> list[Stroke]:
    bumps = int(rng.integers(4, 7))
    stroke: Stroke = []
    for i in range(bumps):
        cx = 60 + 160 * (i + 0.5) / bumps
        stroke += _ellipse(cx, 120, 160 / bumps / 2 + 8, 40, -0.25, 0.25, 10)
    return [[*stroke, (220, 120), (220, 180), (60, 180), (60, 120)]]


SHAPES: dict[str, Callable[[np.random.Generator], list[Stroke]]] = {
    "star": _star, "triangle": lambda r: _polygon(3, r), "square": lambda r: _polygon(4, r),
    "pentagon": lambda r: _polygon(5, r), "hexagon": lambda r: _polygon(6, r), "wave": _wave, "spiral": _spiral,
    "hatching": _hatching, "frame": lambda r: [[(60, 60), (220, 60), (220, 220), (60, 220), (60, 60)]],
    "sun": _sun, "cloud": _cloud,
    "crescent": lambda r: [_ellipse(140, 140, 85, 90, 0.55, 1.45) + _ellipse(175, 140, 65, 75, 1.4, 0.6)],
    "plus shape": lambda r: [[(110, 50), (170, 50), (170, 110), (230, 110), (230, 170), (170, 170), (170, 230),
                              (110, 230), (110, 170), (50, 170), (50, 110), (110, 110), (110, 50)]],
    "lightning": lambda r: [[(170, 40), (90, 150), (160, 150), (100, 240)]],
    "infinity": lambda r: [_ellipse(95, 140, 50, 35, 0.25, 1.25) + _ellipse(185, 140, 50, 35, 0.75, -0.25)],
    "wide ellipse": lambda r: [_ellipse(140, 140, 110, 40)],
    "arrow shape": lambda r: [[(40, 120), (160, 120), (160, 80), (240, 140), (160, 200), (160, 160), (40, 160),
                               (40, 120)]],
}
FILLED = ("disc", "square", "triangle", "star", "heart", "diamond", "blob")
NON_DIGIT_FAMILIES = ("dash", "dots", "letter", "shape", "face", "scribble", "mark", "filled")


def non_digit(family: str, rng: np.random.Generator) -> list[Stroke]:
    """One non-digit template of a family: one of `NON_DIGIT_FAMILIES`.

    A "filled" template is one closed outline, which `drawn_non_digit` fills in.

    Raises:
        ValueError: For an unknown family.
    """
    if family == "dash":  # lines at most 30° off horizontal: a steeper one is a 1
        return _line(rng.uniform(-30, 30), rng.uniform(50, 230))
    if family == "dots":
        return _dots(rng)
    if family == "letter":
        return LETTERS[str(rng.choice(list(LETTERS)))]
    if family == "shape":
        return SHAPES[str(rng.choice(list(SHAPES)))](rng)
    if family == "mark":
        return MARKS[str(rng.choice(list(MARKS)))]
    if family == "filled":
        return _outline(str(rng.choice(FILLED)), rng)
    if family == "face":
        return _face(rng)
    if family == "scribble":
        return _scribble(rng)
    raise ValueError(f"Unknown non-digit family {family!r}; choose from {', '.join(NON_DIGIT_FAMILIES)}.")


def _outline(name: str, rng: np.random.Generator) -> list[Stroke]:
    """The outline of a filled shape, as one closed stroke."""
    if name == "disc":
        return [_ellipse(140, 140, rng.uniform(50, 90), 90)]
    if name == "square":
        return _polygon(4, rng)
    if name == "triangle":
        return _polygon(3, rng)
    if name == "star":
        return _star(rng)
    if name == "heart":
        return LETTERS["heart"]
    if name == "diamond":
        return [[(140, 40), (220, 140), (140, 240), (60, 140), (140, 40)]]
    walk = rng.normal(0, 12, 12).cumsum()  # a blob: a circle with a wobbling radius
    radius = 70 + walk - np.linspace(0, walk[-1], 12)
    return [[(140 + r * math.sin(2 * math.pi * i / 12), 140 - r * math.cos(2 * math.pi * i / 12))
             for i, r in enumerate([*radius, radius[0]])]]


def jittered(strokes: list[Stroke], rng: np.random.Generator, wobble: float = 5.0) -> tuple[list[Stroke], float]:
    """One person's drawing of a template: size, place, slant, wobble and pen width at random.

    Returns:
        The moved strokes and the pen width.
    """
    points = np.concatenate([np.asarray(stroke, dtype=np.float64) for stroke in strokes])
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    angle = math.radians(rng.uniform(-12, 12))
    shear = rng.uniform(-0.2, 0.2)
    scale = rng.uniform(0.35, 1.15) * np.array([rng.uniform(0.8, 1.2), 1.0])
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ np.array(
        [[1.0, shear], [0.0, 1.0]]) * scale
    moved = [(np.asarray(stroke, dtype=np.float64) - centre) @ matrix.T for stroke in strokes]
    extent = np.concatenate(moved)
    low, high = extent.min(axis=0), extent.max(axis=0)
    room_low, room_high = 20 - low, CANVAS - 20 - high  # keep the drawing on the canvas
    offset = np.array([rng.uniform(*sorted((room_low[i], max(room_low[i], room_high[i])))) for i in range(2)])
    drawn = []
    size = float(max(high - low))
    # A pen much wider than a seventh of the drawing fills it in: people pick a thinner pen or draw larger.
    width = float(rng.uniform(PEN_WIDTHS[0], max(PEN_WIDTHS[0] + 1, min(PEN_WIDTHS[1], size / 7))))
    for stroke in moved:
        stroke = stroke + offset + rng.normal(0, wobble, stroke.shape)  # a hand's wobble
        drawn.append([(float(x), float(y)) for x, y in np.clip(stroke, 0, CANVAS - 1)])
    return drawn, width


def drawn_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A digit drawn by code: (280, 280) uint8 grey."""
    templates = DIGITS[digit]
    strokes, width = jittered(templates[int(rng.integers(len(templates)))], rng)
    return render(strokes, width)


def drawn_non_digit(rng: np.random.Generator, family: str | None = None) -> np.ndarray:
    """A drawing that is not a digit, of a family or any: (280, 280) uint8 grey."""
    family = family or str(rng.choice(NON_DIGIT_FAMILIES))
    strokes, width = jittered(non_digit(family, rng), rng, wobble=3.0 if family in ("dots", "filled") else 5.0)
    if family == "dots":
        width = max(width, 12.0)
    drawing = render(strokes, width)
    if family == "filled":  # coloured in: the outline's inside is ink too
        image = Image.fromarray(drawing)
        ImageDraw.Draw(image).polygon([(x, y) for x, y in strokes[0]], fill=255)
        drawing = np.asarray(image, dtype=np.uint8)
    return drawing


OWN_SHAPES = ("circle", "triangle", "star", "square")  # the classes a learner draws first, in the tests and bench


def drawn_shape(name: str, rng: np.random.Generator) -> np.ndarray:
    """A shape as a learner draws an example of their own class: (280, 280) uint8 grey, outline only.

    Raises:
        ValueError: For a name not in `OWN_SHAPES`.
    """
    if name == "circle":
        template = [_ellipse(140, 140, rng.uniform(70, 90), 90)]
    elif name == "triangle":
        template = _polygon(3, rng)
    elif name == "star":
        template = _star(rng)
    elif name == "square":
        template = _polygon(4, rng)
    else:
        raise ValueError(f"Unknown shape {name!r}; choose from {', '.join(OWN_SHAPES)}.")
    strokes, width = jittered(template, rng)
    return render(strokes, width)
