"""Kernel presets and parsing, shareable settings, shipped photos and the playground's figures."""

from __future__ import annotations

import numpy as np
import pytest

from core.conv.kernels import (
    PRESETS,
    KernelError,
    format_weight,
    normalise_by_sum,
    parse_cell,
    parse_kernel,
    random_kernel,
    resize_kernel,
)
from core.conv.links import PlaygroundSettings, decode, encode, vertical_line_grid
from core.data.images import fit_within, to_grey
from core.data.photos import PHOTOS, load_photo
from ui import figures
from ui.playground import figures as conv_figures

# ---- kernels -----------------------------------------------------------------------------------


def test_presets_are_the_classic_kernels():
    np.testing.assert_array_equal(PRESETS["sharpen"].array(), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(PRESETS["Sobel x"].array(), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(PRESETS["Sobel y"].array(), PRESETS["Sobel x"].array().T)
    np.testing.assert_array_equal(PRESETS["horizontal lines"].array(), PRESETS["vertical lines"].array().T)
    np.testing.assert_allclose(PRESETS["box blur"].array(), np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(PRESETS["Gaussian blur 3×3"].array()[1, 1], 4 / 16)
    assert PRESETS["Gaussian blur 5×5"].array().shape == (5, 5)
    assert PRESETS["Gaussian blur 5×5"].array().sum() == pytest.approx(1.0)
    assert PRESETS["Gaussian blur 5×5"].values[2][2] == 36
    for name in ("identity", "sharpen", "box blur", "Gaussian blur 3×3", "Gaussian blur 5×5", "emboss"):
        assert PRESETS[name].array().sum() == pytest.approx(1.0), name  # keep a flat image's brightness
    for name in ("vertical lines", "horizontal lines", "Sobel x", "Sobel y", "Laplacian", "outline"):
        assert PRESETS[name].array().sum() == 0, name  # respond to change only: 0 on a flat image


@pytest.mark.parametrize("text, value", [
    ("2", 2.0), (" -0.5 ", -0.5), ("1e-3", 0.001), ("1/16", 0.0625), ("-3/4", -0.75), ("0,25", 0.25),
    ("−1", -1.0), (3, 3.0), (np.float32(0.5), 0.5), (1000, 1000.0),
])
def test_parse_cell_reads_what_people_type(text, value):
    assert parse_cell(text) == pytest.approx(value)


@pytest.mark.parametrize("text, reason", [
    ("abc", "not a number"), ("", "empty"), (None, "empty"), ("nan", "NaN"), (float("nan"), "NaN"),
    ("inf", "infinite"), ("1e999", "infinite"), ("-inf", "infinite"), ("1/0", "not a number"),
    ("1001", "beyond"), (True, "not a number"), ([1], "not a number"), ("1/2/3", "not a number"),
])
def test_parse_cell_refuses_bad_cells_with_a_reason(text, reason):
    with pytest.raises(KernelError, match=reason):
        parse_cell(text)


def test_parse_kernel_names_every_bad_cell():
    with pytest.raises(KernelError) as caught:
        parse_kernel([["1", "x", "0"], ["0", "nan", "0"], ["0", "0", "1e9"]])
    message = str(caught.value)
    assert "Fix 3 kernel cells" in message
    assert "row 1, column 2" in message and "row 2, column 2" in message and "row 3, column 3" in message


@pytest.mark.parametrize("cells", [[["1", "2"], ["3", "4"]], [["1", "2", "3"], ["1", "2"], ["1", "2", "3"]], []])
def test_parse_kernel_refuses_wrong_shapes(cells):
    with pytest.raises(KernelError, match="square"):
        parse_kernel(cells)


def test_normalise_random_resize_and_format():
    np.testing.assert_allclose(normalise_by_sum(np.ones((3, 3))), np.full((3, 3), 1 / 9))
    with pytest.raises(ValueError, match="sum to 0"):
        normalise_by_sum(PRESETS["Sobel x"].array())
    first, again, other = random_kernel(5, 1), random_kernel(5, 1), random_kernel(5, 2)
    assert first.shape == (5, 5) and np.abs(first).max() <= 1
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    grown = resize_kernel(PRESETS["sharpen"].array(), 7)
    assert grown.shape == (7, 7) and grown[3, 3] == 5 and grown.sum() == 1
    np.testing.assert_array_equal(resize_kernel(grown, 3), PRESETS["sharpen"].array())
    assert [format_weight(v) for v in (1.0, -0.5, 0.1 + 0.2, -0.0, 1 / 16)] == ["1", "-0.5", "0.3", "0", "0.0625"]


# ---- shareable settings ------------------------------------------------------------------------


def test_settings_round_trip_through_query_parameters():
    settings = PlaygroundSettings(kernel=np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float), normalise=True,
                                  bias=-1.5, stride=2, padding="same", relu=True, pool="average", pool_size=3,
                                  pool_stride=1, source="grid", grid=vertical_line_grid(7))
    params = encode(settings)
    assert params["kernel"] == "1,2,1;2,4,2;1,2,1" and params["pool"] == "average"
    decoded, problems = decode(params)
    assert problems == {}
    np.testing.assert_array_equal(decoded.kernel, settings.kernel)
    np.testing.assert_array_equal(decoded.grid, settings.grid)
    assert (decoded.normalise, decoded.bias, decoded.stride, decoded.padding, decoded.relu, decoded.pool,
            decoded.pool_size, decoded.pool_stride, decoded.source) == (True, -1.5, 2, "same", True, "average", 3,
                                                                         1, "grid")


def test_dataset_and_photo_sources_carry_their_own_fields_and_uploads_none():
    assert encode(PlaygroundSettings(source="dataset", dataset="mnist", image_index=42))["index"] == "42"
    assert encode(PlaygroundSettings(source="photo", photo="chelsea"))["photo"] == "chelsea"
    assert "source" not in encode(PlaygroundSettings(source="upload"))


def test_bad_parameters_are_reported_and_the_rest_still_apply():
    settings, problems = decode({"kernel": "1,x,0;0,1,0;0,0,1", "stride": "9", "padding": "full", "relu": "yes",
                                 "pool": "max", "pool_size": "3", "grid": "1,2;3", "index": "-1",
                                 "bias": "inf", "source": "upload", "unrelated": "kept out"})
    assert set(problems) == {"kernel", "stride", "padding", "relu", "grid", "index", "bias", "source"}
    assert "row 1, column 2" in problems["kernel"]
    assert problems["stride"] == "9 is outside 1–4"
    default = PlaygroundSettings()
    np.testing.assert_array_equal(settings.kernel, default.kernel)
    assert (settings.stride, settings.padding, settings.relu, settings.source) == (1, "valid", False, "dataset")
    assert (settings.pool, settings.pool_size) == ("max", 3)  # the good ones apply


def test_a_huge_parameter_is_refused_unread_and_the_largest_link_we_make_still_fits(monkeypatch):
    import core.conv.links as links

    # The largest link the app writes: a 7×7 kernel of the longest weights and a 16×16 grid of 255s.
    largest = PlaygroundSettings(kernel=np.full((7, 7), -1.23456789e-5), source="grid", grid=np.full((16, 16), 255),
                                 bias=-999.123456, photo="chelsea")
    params = encode(largest)
    assert all(len(value) <= links.MAX_LENGTHS.get(name, links.MAX_OTHER_LENGTH) for name, value in params.items())
    assert decode(params)[1] == {}
    # A hostile one: 360,000 characters of grid, and a kernel one character over, are refused before any parsing.
    parsed = []
    monkeypatch.setitem(links._PARSERS, "grid", ("grid", lambda text: parsed.append(text)))
    _, problems = decode({"grid": "0," * 180_000, "kernel": "1" * (links.MAX_LENGTHS["kernel"] + 1), "stride": "2"})
    assert sorted(problems) == ["grid", "kernel"] and not parsed
    assert problems["grid"] == "360,000 characters is longer than any link this app makes (at most 1,024 for grid)"


# ---- photos, images, figures --------------------------------------------------------------------


def test_shipped_photos_load_in_grey_and_colour():
    camera = load_photo("camera", "grayscale")
    assert camera.shape == (512, 512, 1) and camera.dtype == np.uint8
    assert load_photo("chelsea", "rgb").shape == (300, 451, 3)
    assert set(PHOTOS) == {"camera", "chelsea"}


def test_fit_within_keeps_the_aspect_ratio_and_leaves_small_images_alone():
    image = np.zeros((2000, 1000, 3), np.uint8)
    assert fit_within(image, 1024).shape == (1024, 512, 3)
    small = np.zeros((10, 20, 1), np.uint8)
    assert fit_within(small, 1024) is small
    assert to_grey(np.full((2, 2, 3), (255, 0, 0), np.uint8))[0, 0, 0] == 76  # 0.299 × 255


def test_map_figure_draws_large_maps_thinned_but_with_true_axes():
    figure = conv_figures.map_figure(np.random.default_rng(0).normal(size=(510, 510)), "map", 0.6, signed=True)
    trace = figure.data[0]
    assert trace.dx == 3 and np.asarray(trace.z).shape == (170, 170)
    assert figure.layout.xaxis.range[1] == pytest.approx(509.5)
    small = conv_figures.map_figure(np.arange(25.0).reshape(5, 5) - 12, "small", 40, signed=True,
                                    boxes=[conv_figures.Box((0, 3), (1, 4))])
    assert small.data[0].texttemplate and small.data[0].zmid == 0 and small.data[0].zmax == 12
    assert small.layout.shapes[0].x0 == 0.5 and small.layout.shapes[0].y1 == 2.5


def test_the_tappable_map_has_a_cell_per_value_its_scale_and_its_outlines():
    values = np.arange(25.0).reshape(5, 5) - 12
    chart = conv_figures.tappable_map(values, "small", 40, boxes=[conv_figures.Box((0, 3), (1, 4))]).to_dict()
    cells, numbers, outlines = chart["layer"]
    assert cells["encoding"]["color"]["scale"]["domain"] == [-12.0, 12.0]  # centred on 0, as map_figure's
    assert conv_figures.CELL in [param["name"] for param in chart.get("params", []) + cells.get("params", [])]
    data = chart["datasets"]
    described = next(rows for rows in data.values() if rows and "description" in rows[0])
    assert len(described) == 25 and described[7]["description"] == "row 1, column 2: -5"
    boxed = next(rows for rows in data.values() if rows and "colour" in rows[0])
    assert (boxed[0]["x0"], boxed[0]["y1"]) == (0.5, 2.5)  # map_figure's outline, in the same positions
    assert numbers["mark"]["type"] == "text" and outlines["mark"]["filled"] is False
    with pytest.raises(ValueError, match="at most 4096 cells"):
        conv_figures.tappable_map(np.zeros((65, 65)), "big", 1)


def test_symmetric_limit_ignores_a_few_extreme_pixels_on_large_maps_only():
    values = np.ones((100, 100))
    values[0, 0] = 1e6
    assert figures.symmetric_limit(values) == 1.0
    assert figures.symmetric_limit(values[:10, :10]) == 1e6
    assert figures.symmetric_limit(np.zeros((3, 3))) == 1.0
