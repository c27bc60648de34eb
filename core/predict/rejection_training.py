"""Trains, calibrates and judges the digit check (`core.predict.rejection`), for `scripts/build_default_models.py`.

The check must tell digits from non-digits by their shape, whatever the pen. So both sides come in
every style of real handwriting (`core.predict.styles`: thick, thin, slanted, broken, scanned small
and enlarged, binarised):

- **digits**: MNIST's training digits as they are and restyled, digits drawn by code, and half of
  scikit-learn's 8×8 digits (real handwriting from other people than MNIST's) enlarged;
- **non-digits**: letters, shapes, marks, faces, scribbles, filled shapes drawn by code
  (`core.predict.sketches`), and letters, symbols and pictograms typeset in real fonts
  (`core.predict.glyphs`), as they are and restyled.

Every image goes through `prepare_grey`, the Predict page's own path. The threshold is then set on
held-out data, one set per style (MNIST's test digits in each style, new drawings, the other half of
scikit-learn's digits): the lowest that flags at most `max_false_flags` of the *worst* set, so no
style of honest handwriting is told "not a digit" more often than that. How many non-digits it flags,
per family, per style and in fonts it never saw, is measured on the same held-out data and written
into the check's meta.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.predict import glyphs, sketches, styles
from core.predict.preprocessing import prepare_grey, prepare_upload
from core.predict.rejection import META_FILE, MODEL_FILE

RESTYLED_SHARE = 0.5  # of the drawn and typed training examples, the share shown in a random non-plain style
STYLE_NAMES = {"plain": "as drawn", "thick": "thick pen", "thin": "thin pen", "slanted": "slanted",
               "broken": "broken strokes", "scan16": "scanned 16×16, enlarged",
               "scan16_binary": "scanned 16×16, binarised, enlarged", "scan8": "scanned 8×8, enlarged"}


def prepared(grey: np.ndarray) -> np.ndarray:
    """A drawing as the Predict page prepares it: (28, 28) float32, 0–255."""
    stages = prepare_grey(grey)
    if stages is None:  # cannot happen for these drawings (they always have ink); kept loud if it does
        raise ValueError("A drawing came out with no ink.")
    return stages.centred


def photo_prepared(grey: np.ndarray, rng: np.random.Generator, side: int = 640) -> np.ndarray:
    """A drawing photographed in dark ink on paper, then prepared as the Predict page prepares an upload."""
    upload = prepare_upload(styles.photographed(grey, rng, side), (28, 28, 1), digit_style=True)
    if upload is None:
        raise ValueError("A photographed drawing came out with no ink.")
    return upload.image[:, :, 0]


def photographed(drawings, seed: int, side: int = 640) -> np.ndarray:
    """Each (H, W) drawing of `drawings` photographed (side × side) and prepared: (N, 28, 28) float32."""
    rng = np.random.default_rng(seed)
    return np.stack([photo_prepared(grey, rng, side) for grey in drawings])


def _style(rng: np.random.Generator, style: str | None) -> str:
    """`style`, or a random one: plain for 1 - RESTYLED_SHARE of draws, else any other style."""
    if style is not None:
        return style
    return "plain" if rng.random() >= RESTYLED_SHARE else str(rng.choice(styles.STYLES[1:]))


def restyled(images: np.ndarray, seed: int, style: str | None = None) -> np.ndarray:
    """Images (N, 28, 28[, 1]) on 0–255 in one style, or each in a random non-plain one: (N, 28, 28) float32."""
    rng = np.random.default_rng(seed)
    greys = np.clip(np.asarray(images).reshape(-1, 28, 28), 0, 255).astype(np.uint8)
    return np.stack([prepared(styles.restyle(grey, style or str(rng.choice(styles.STYLES[1:])), rng))
                     for grey in greys])


def drawn_digits(count: int, seed: int, style: str | None = "plain") -> tuple[np.ndarray, np.ndarray]:
    """`count` digits drawn by code, in one style (None: mixed), prepared: ((count, 28, 28) float32, labels)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    return np.stack([prepared(styles.restyle(sketches.drawn_digit(int(digit), rng), _style(rng, style), rng))
                     for digit in labels]), labels


def drawn_non_digits(count: int, seed: int, style: str | None = "plain",
                     families: tuple[str, ...] = sketches.NON_DIGIT_FAMILIES) -> tuple[np.ndarray, np.ndarray]:
    """`count` non-digits drawn by code, in one style (None: mixed), prepared: (images, (count,) family names)."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(families, count)
    return np.stack([prepared(styles.restyle(sketches.drawn_non_digit(rng, str(family)), _style(rng, style), rng))
                     for family in chosen]), chosen


def typed_non_digits(count: int, seed: int, fonts: tuple[Path, ...], style: str | None = "plain",
                     kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`count` letters, symbols and pictograms typeset in `fonts`, prepared: (images, (count,) kinds)."""
    rng = np.random.default_rng(seed)
    images, kinds = [], []
    for _ in range(count):
        grey, chosen = glyphs.random_glyph(rng, fonts, kind)
        images.append(prepared(styles.restyle(grey, _style(rng, style), rng)))
        kinds.append(chosen)
    return np.stack(images), np.asarray(kinds)


def sklearn_digits(half: int, copies: int, seed: int) -> np.ndarray:
    """scikit-learn's 8×8 digits, one half of them (0 or 1, by a fixed shuffle), each enlarged `copies` ways.

    They are real handwriting by 43 people (UCI's optdigits) and ship with scikit-learn, so they need
    no download: the check trains on one half and is calibrated on the other.
    """
    from sklearn.datasets import load_digits

    images = load_digits().images  # (1797, 8, 8), 0–16
    order = np.random.default_rng(0).permutation(len(images))
    chosen = images[np.sort(order[half::2])]
    rng = np.random.default_rng(seed)
    return np.stack([prepared(styles.sklearn_digit(image, rng)) for image in chosen for _ in range(copies)])


def build_check():
    """The check's network: three convs and two outputs (digit, not). About 1 ms a drawing on a CPU."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(32, 5, strides=2, padding="same", activation="relu"),  # (N, 14, 14, 32)
        keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),  # (N, 7, 7, 64)
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),  # (N, 7, 7, 64)
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ], name="digit_check")


@dataclass(frozen=True)
class HeldOut:
    """One held-out set: its images (N, 28, 28) and whether they are digits."""

    images: np.ndarray
    digits: bool


def held_out_sets(mnist_test_x: np.ndarray, seed: int = 100, size: int = 1000) -> dict[str, HeldOut]:
    """The sets the threshold is set on and the check is judged on, one per style, none trained on.

    Args:
        mnist_test_x: MNIST's test images (N, 28, 28[, 1]) on 0–255.
        size: Images in each set (MNIST's test digits as they are: all of them).
    """
    rng = np.random.default_rng(seed)
    test = np.asarray(mnist_test_x, dtype=np.float32).reshape(-1, 28, 28)
    sets = {"MNIST test digits": HeldOut(test, True)}
    for number, style in enumerate(styles.STYLES[1:]):
        picked = test[rng.choice(len(test), size, replace=False)]
        sets[f"MNIST test digits, {STYLE_NAMES[style]}"] = HeldOut(restyled(picked, seed + number, style), True)
    sets["digits drawn by code"] = HeldOut(drawn_digits(size, seed + 20)[0], True)
    sets["digits drawn by code, restyled"] = HeldOut(drawn_digits(size, seed + 21, None)[0], True)
    drawing_rng = np.random.default_rng(seed + 23)
    sets["digits drawn by code, photographed on paper"] = HeldOut(photographed(
        (sketches.drawn_digit(int(digit), drawing_rng) for digit in drawing_rng.integers(0, 10, size // 2)),
        seed + 24), True)
    sets["scikit-learn's 8×8 digits (the held-out half), enlarged"] = HeldOut(sklearn_digits(1, 2, seed + 22), True)
    for number, family in enumerate(sketches.NON_DIGIT_FAMILIES):
        sets[f"drawn non-digits: {family}"] = HeldOut(drawn_non_digits(size // 2, seed + 30 + number, "plain",
                                                                       (family,))[0], False)
    sets["drawn non-digits, restyled"] = HeldOut(drawn_non_digits(size, seed + 40, None)[0], False)
    sets["drawn non-digits, photographed on paper"] = HeldOut(photographed(
        (sketches.drawn_non_digit(drawing_rng) for _ in range(size // 2)), seed + 41), False)
    _, unseen = glyphs.split_fonts()
    for number, kind in enumerate(("letter", "symbol", "pictogram")):
        sets[f"typed {kind}s, fonts never trained on"] = HeldOut(
            typed_non_digits(size // 2, seed + 50 + number, unseen, "plain", kind)[0], False)
    sets["typed, restyled, fonts never trained on"] = HeldOut(typed_non_digits(size, seed + 60, unseen, None)[0],
                                                              False)
    return sets


def _threshold(scores: list[np.ndarray], max_false_flags: float) -> float:
    """The lowest threshold that flags at most `max_false_flags` of every set of digit scores."""
    return float(max(np.quantile(score, 1 - max_false_flags) for score in scores)) + 1e-6


def scores_of(check, images: np.ndarray) -> np.ndarray:
    """The check's "not a digit" probability for each of (N, 28, 28[, 1]) images: (N,) float."""
    batch = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    return np.asarray(check.predict(batch, batch_size=1024, verbose=0))[:, 1]


def flag_rates(check, threshold: float, sets: dict[str, HeldOut]) -> dict[str, float]:
    """The share of each set the check flags at `threshold`."""
    return {name: float(np.mean(scores_of(check, held.images) >= threshold)) for name, held in sets.items()}


@dataclass
class CheckReport:
    """What calibration measured: the threshold and the flag rates on held-out data."""

    threshold: float
    false_flags: dict[str, float]  # share of real digits flagged, per held-out set
    flags: dict[str, float]  # share of non-digits flagged, per held-out set and "all"
    training_seconds: float


# Scribbles count twice: a random walk is the non-digit nearest to a messy digit, and the restyled digits
# (broken, thick, scanned) pulled the check towards passing them.
TRAINING_FAMILIES = (*sketches.NON_DIGIT_FAMILIES, "scribble")


def training_set(mnist_x: np.ndarray, *, drawn: int, non_digits: int, typed: int, photos: int,
                 seed: int, log=print) -> tuple[np.ndarray, np.ndarray]:
    """Every training image, prepared, and its label (0 digit, 1 not): ((N, 28, 28, 1) float32, (N,) int32)."""
    started = time.perf_counter()
    fonts, _ = glyphs.split_fonts()
    mnist = np.asarray(mnist_x, dtype=np.float32).reshape(-1, 28, 28)
    rng = np.random.default_rng(seed + 6)
    mnist_greys = np.clip(mnist[rng.choice(len(mnist), photos // 4, replace=False)], 0, 255).astype(np.uint8)
    photographed_digits = [*mnist_greys, *(sketches.drawn_digit(int(digit), rng)
                                           for digit in rng.integers(0, 10, photos // 2 - photos // 4))]
    positives = [mnist, restyled(mnist, seed + 3), drawn_digits(drawn, seed + 1, None)[0],
                 sklearn_digits(0, 8, seed + 4), photographed(photographed_digits, seed + 7, 320)]
    negatives = [drawn_non_digits(non_digits, seed + 2, None, TRAINING_FAMILIES)[0],
                 typed_non_digits(typed, seed + 5, fonts, None)[0],
                 photographed((sketches.drawn_non_digit(rng, str(family))
                               for family in rng.choice(TRAINING_FAMILIES, photos // 2)), seed + 8, 320)]
    count = sum(len(part) for part in positives)
    log(f"prepared {count:,} digits and {sum(len(part) for part in negatives):,} non-digits "
        f"in {time.perf_counter() - started:.0f} s")
    x = np.concatenate(positives + negatives)[..., None]
    y = np.concatenate([np.zeros(count, np.int32), np.ones(len(x) - count, np.int32)])
    return x, y


def train_check(mnist_x: np.ndarray, mnist_y: np.ndarray, mnist_test_x: np.ndarray, folder: Path, *,
                drawn: int = 12_000, non_digits: int = 36_000, typed: int = 24_000, photos: int = 10_000,
                epochs: int = 6, max_false_flags: float = 0.01, seed: int = 0, log=print) -> CheckReport:
    """Trains the check, calibrates its threshold, and writes model.keras and meta.json into `folder`.

    Args:
        mnist_x, mnist_y: MNIST's training images (N, 28, 28, 1) on 0–255 and labels.
        mnist_test_x: MNIST's test images, for calibration only.
        drawn, non_digits, typed: How many digits to draw, non-digits to draw, and glyphs to typeset.
        photos: How many drawings to photograph on paper (half digits, half not), prepared as uploads.
        max_false_flags: The most real digits the threshold may flag, in each held-out set.
    """
    import keras

    del mnist_y  # the check asks "digit or not", not which digit
    keras.utils.set_random_seed(seed)
    x, y = training_set(mnist_x, drawn=drawn, non_digits=non_digits, typed=typed, photos=photos, seed=seed, log=log)
    others = int(y.sum())
    weights = {0: 0.5 * len(y) / (len(y) - others), 1: 0.5 * len(y) / others}  # balance the two classes
    check = build_check()
    check.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    order = np.random.default_rng(seed).permutation(len(y))
    trained = time.perf_counter()
    check.fit(x[order], y[order], batch_size=256, epochs=epochs, class_weight=weights, verbose=2)
    training_seconds = time.perf_counter() - trained
    sets = held_out_sets(mnist_test_x, seed + 100)
    threshold = _threshold([scores_of(check, held.images) for held in sets.values() if held.digits],
                           max_false_flags)
    rates = flag_rates(check, threshold, sets)
    false_flags = {name: rate for name, rate in rates.items() if sets[name].digits}
    flags = {name: rate for name, rate in rates.items() if not sets[name].digits}
    flags["all"] = float(np.mean(list(flags.values())))
    report = CheckReport(threshold, false_flags, flags, training_seconds)
    folder.mkdir(parents=True, exist_ok=True)
    check.save(folder / MODEL_FILE)
    meta = {"threshold": threshold, "false_flags": false_flags, "flags": flags,
            "training_seconds": round(training_seconds, 1), "trained_on": {
                "digits": (f"MNIST's {len(mnist_x):,} training digits as they are and each restyled once, {drawn:,} "
                           "drawn by code, and half of scikit-learn's 8×8 digits enlarged 8 ways"),
                "non_digits": (f"{non_digits:,} drawn by code ({', '.join(sketches.NON_DIGIT_FAMILIES)}) and "
                               f"{typed:,} letters, symbols and pictograms typeset in "
                               f"{len(glyphs.split_fonts()[0])} fonts; half of each restyled"),
                "photos": f"{photos:,} drawings photographed on paper (half digits), prepared as uploads",
                "styles": list(styles.STYLES)},
            "max_false_flags": max_false_flags, "seed": seed, "date": datetime.now(UTC).isoformat(timespec="seconds")}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    log(f"threshold {threshold:.4f}; digits flagged: {false_flags}; non-digits flagged: {flags}")
    return report
