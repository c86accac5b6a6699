"""Data set registry: names in an audit definition -> preprocessed :class:`Dataset`.

``adult`` is bundled with the package; ``csv`` reads the user's own CSV or parquet file;
``simplenet`` is a small generated table. Whatever the source, the same numpy pipeline splits,
preprocesses (fitted on the training split only) and keeps the sensitive features beside the
inputs. ``digits`` (images) and ``sentiment`` (token ids) are arrays rather than tables: their
modules split them with the same seeded rule and build the :class:`Dataset` themselves.
"""

from __future__ import annotations

from twinaudit.data.dataset import Dataset, Split
from twinaudit.data.source import SourceTable
from twinaudit.data.tabular import build_dataset
from twinaudit.spec import AuditSpec

__all__ = ["Dataset", "Split", "SourceTable", "load_dataset", "build_dataset"]


def load_dataset(spec: AuditSpec) -> Dataset:
    """Load, split and preprocess the data set an audit definition names."""
    data = spec.data
    if data.dataset == "adult":
        from twinaudit.data import adult

        source = adult.load_source()
    elif data.dataset == "simplenet":
        from twinaudit.data import synthetic

        source = synthetic.load_source()
    elif data.dataset == "digits":
        from twinaudit.data import digits

        return digits.load(data)
    elif data.dataset == "sentiment":
        from twinaudit.data import sentiment

        return sentiment.load(data)
    else:
        from twinaudit.data import csv_table

        source = csv_table.load_source(
            spec.resolve(data.path), label=data.label, positive=data.positive,
            drop_columns=data.drop_columns, features=data.features,
            sensitive=data.sensitive_features, filters=data.filters,
        )
    return build_dataset(source, data)
