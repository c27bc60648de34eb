"""How a run picker names runs; shared by every page that lets you pick one (Evaluate, Predict)."""

from __future__ import annotations

from core.data.datasets import dataset_name
from core.evaluate import comparison
from core.store.runs import RunRecord


def run_labels(records: list[RunRecord]) -> dict[str, str]:
    """run id → the picker's label. Labels must differ: the browser picks an option by its label."""
    names = comparison.run_labels(records)
    labels = {}
    for record in records:
        accuracy = record.metrics.get("test", {}).get("accuracy")
        score = f"{accuracy:.2%}" if isinstance(accuracy, float) else "no test score"
        origin = "default · " if record.source == "defaults" else ""
        labels[record.run_id] = f"{origin}{names[record.run_id]} · {dataset_name(record.dataset)} · {score}"
    return labels
