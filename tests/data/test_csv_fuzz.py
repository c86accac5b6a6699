"""Fuzzing the CSV intake: any file is a data set with finite inputs, or one line naming it.

The intake is where a user's file first meets twinaudit; whatever hypothesis writes there
(repeated or empty headers, words among numbers, 1e400, ragged rows, stray bytes), loading
it must give a usable data set or a :class:`TwinauditError` of one line naming the file —
never another exception, and never non-finite inputs that training would choke on later.
"""

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from twinaudit.data import load_dataset
from twinaudit.errors import TwinauditError
from twinaudit.spec import spec_from_dict

NAMES = ["age", "group", "outcome", "city", "", " age", "outcome ", "é", "a,b", '"q"']
CELLS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "abc", "1e400", "-1e400", "nan", "inf", "NA", "yes", "no", "a", "b",
                     '"x,y"', '"', " ", "0x10", "1_000", "\t"]),
    st.text(max_size=6),
)


#: What a well-formed cell of each usual column holds: most cells are drawn from here, so
#: the checks past the header (labels, groups, numbers) are reached too.
VALID = {"age": st.integers(0, 99).map(str), "group": st.sampled_from(["a", "b", ""]),
         "outcome": st.sampled_from(["yes", "no"]), "city": st.sampled_from(["x", "y"])}


@st.composite
def csv_files(draw):
    header = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=4))
    if draw(st.integers(0, 3)):
        header = ["age", "group", "outcome", *header]
    rows = []
    for _ in range(draw(st.integers(0, 60))):
        cells = [draw(CELLS if column not in VALID or not draw(st.integers(0, 9))
                      else VALID[column]) for column in header]
        if not draw(st.integers(0, 19)):  # now and then a ragged row
            cells = cells[:-1] if draw(st.booleans()) else [*cells, "extra"]
        rows.append(",".join(cells))
    text = "\n".join([",".join(header), *rows]) + "\n"
    encoded = text.encode("utf-8", errors="surrogatepass")
    if not draw(st.integers(0, 9)):
        encoded += draw(st.binary(max_size=8))
    return encoded


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=csv_files(), positive=st.sampled_from(["yes", "1", "a"]))
def test_any_csv_loads_finite_or_is_one_line_naming_the_file(tmp_path_factory, content,
                                                             positive):
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_bytes(content)
    spec = spec_from_dict(
        {"audit": {"name": "fuzz"},
         "data": {"dataset": "csv", "path": str(path), "label": "outcome", "positive": positive,
                  "sensitive_features": ["group"], "validation_fraction": 0.2,
                  "test_fraction": 0.2}},
        source=path.with_suffix(".toml"))
    try:
        dataset = load_dataset(spec)
    except TwinauditError as error:
        message = str(error)
        event(message.split(": ", 1)[-1][:40])
        assert "\n" not in message and str(path) in message, message
        return
    event("loaded")
    for split in (dataset.train, dataset.validation, dataset.test):
        assert np.isfinite(split.X).all()
        assert set(np.unique(split.y)) <= {0, 1}
