"""Statistics, normalisation, one-hot, sampling and figures behind the Dataset Explorer."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.images import upscale_nearest
from core.data.labels import one_hot
from core.data.normalisation import normalisation_stages
from core.data.sampling import grid_page
from core.data.statistics import class_counts, intensity_histogram, mean_images_by_class, pixel_stats
from ui import figures
from ui.explorer import figures as explorer_figures


def test_class_counts_include_empty_classes():
    assert class_counts(np.array([0, 2, 2, 2]), 4).tolist() == [1, 0, 3, 0]


def test_mean_images_by_class_against_a_loop():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 3, 4, 2), dtype=np.uint8)
    labels = rng.integers(0, 3, 30)
    means = mean_images_by_class(images, labels, 4)
    assert means.shape == (4, 3, 4, 2)
    for label in range(3):
        np.testing.assert_allclose(means[label], images[labels == label].mean(axis=0), rtol=1e-6)
    assert (means[3] == 0).all()


def test_histogram_and_stats_match_numpy():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 5, 5, 3), dtype=np.uint8)
    counts = intensity_histogram(images)
    assert counts.shape == (3, 256) and counts.sum() == images.size
    assert counts[1, 7] == (images[..., 1] == 7).sum()
    stats = pixel_stats(images)
    assert stats.mean == pytest.approx(images.mean())
    assert stats.std == pytest.approx(images.std())
    assert stats.channel_std[2] == pytest.approx(images[..., 2].std())


def test_normalisation_stages_and_ranges():
    image = np.array([[[0], [255]], [[51], [102]]], dtype=np.uint8)
    stats = pixel_stats(np.array([[[[0], [100]]]], dtype=np.uint8))  # mean 50, std 50
    raw, unit, standard = normalisation_stages(image, stats)
    assert raw.values.max() == 255 and unit.values.max() == 1.0
    assert unit.values[1, 0, 0] == pytest.approx(0.2)
    assert standard.values[0, 0, 0] == pytest.approx(-1.0) and standard.values[0, 1, 0] == pytest.approx(4.1)
    assert (standard.possible_min, standard.possible_max) == pytest.approx((-1.0, 4.1))
    # the same result as standardising the /255 values with mean/255 and std/255
    np.testing.assert_allclose(standard.values, (unit.values - 50 / 255) / (50 / 255), rtol=1e-5)


def test_one_hot_matches_keras_convention():
    np.testing.assert_array_equal(one_hot(3, 5), [0, 0, 0, 1, 0])
    assert one_hot(np.array([0, 4]), 5).shape == (2, 5)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        one_hot(5, 5)


def test_grid_page_filters_shuffles_and_clamps():
    labels = np.array([0, 1, 2, 1, 1, 0, 2, 1])
    page = grid_page(labels, classes=[1], per_page=3)
    assert page.indices.tolist() == [1, 3, 4] and page.page_count == 2 and page.total == 4
    assert grid_page(labels, classes=[1], per_page=3, page=9).indices.tolist() == [7]
    shuffled = grid_page(labels, classes=[1], shuffle_seed=5, per_page=10)
    assert sorted(shuffled.indices.tolist()) == [1, 3, 4, 7]
    assert shuffled.indices.tolist() == grid_page(labels, [1], shuffle_seed=5, per_page=10).indices.tolist()
    assert grid_page(np.array([], dtype=int)).page_count == 1


def test_upscale_nearest_keeps_hard_edges():
    image = np.array([[0, 255]], dtype=np.uint8)
    big = upscale_nearest(image, 3)
    assert big.shape == (3, 6) and big[:, :3].max() == 0 and big[:, 3:].min() == 255


def test_pixel_heatmap_writes_values_and_real_positions():
    figure = figures.pixel_heatmap(np.array([[1, 2], [3, 4]]), row_offset=10, col_offset=5)
    trace = figure.data[0]
    assert trace.texttemplate == "%{z:.0f}"
    assert list(trace.x) == [5, 6] and list(trace.y) == [10, 11]
    assert figures.pixel_heatmap(np.zeros((50, 50)), numbers=False).data[0].texttemplate is None


def test_class_balance_has_both_splits():
    figure = explorer_figures.class_balance(["a", "b"], np.array([3, 4]), np.array([1, 2]))
    assert [trace.name for trace in figure.data] == ["train", "test"]
    assert list(figure.data[1].y) == [1, 2]


def test_framed_tile_enlarges_and_frames():
    from core.data.images import framed_tile

    image = np.arange(4, dtype=np.uint8).reshape(2, 2, 1)
    tile = framed_tile(image, (255, 0, 0), side=8, border=1)
    assert tile.shape == (10, 10, 3)
    assert tile[0, 0].tolist() == [255, 0, 0] and tile[9, 5].tolist() == [255, 0, 0]
    assert tile[1:5, 1:5].tolist() == [[[0, 0, 0]] * 4] * 4 and tile[5, 5].tolist() == [3, 3, 3]
    assert framed_tile(image, None, side=8).shape == (8, 8, 3)
