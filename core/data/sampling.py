"""Choosing which images a grid shows: filter by class, shuffle with a seed, page through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GridPage:
    """One page of a sample grid.

    Args:
        indices: Positions in the split of the images on this page.
        page: The page shown, counted from 0 (clamped into range).
        page_count: How many pages the filtered images fill (at least 1).
        total: How many images pass the filter.
    """

    indices: np.ndarray
    page: int
    page_count: int
    total: int


def grid_page(
    labels: np.ndarray,
    classes: list[int] | None = None,
    shuffle_seed: int | None = None,
    page: int = 0,
    per_page: int = 32,
) -> GridPage:
    """Selects the images for one page of a sample grid.

    Args:
        labels: Integer labels of the split (N,).
        classes: Keep only these classes; None or empty keeps all.
        shuffle_seed: Shuffle with this seed; None keeps dataset order.
        page: Which page, from 0; out-of-range pages are clamped.
        per_page: Images per page, at least 1.

    Returns:
        The page's indices and the paging facts.
    """
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page}.")
    candidates = np.flatnonzero(np.isin(labels, classes)) if classes else np.arange(len(labels))
    if shuffle_seed is not None:
        candidates = np.random.default_rng(shuffle_seed).permutation(candidates)
    page_count = max(1, -(-len(candidates) // per_page))
    page = min(max(page, 0), page_count - 1)
    return GridPage(candidates[page * per_page : (page + 1) * per_page], page, page_count, len(candidates))
