"""Instant-query answers read again only where a series' text changed: always what
parse_vector reads from the same answer, and the full decode for any other layout."""

from __future__ import annotations

import json

import orjson

from clustertop.sources.prometheus.client import Memo, memo_vector, parse_vector
from tests.parsers._fixtures import read_fixture

HOSTILE = 'a"b\\c {"metric":{"x":"y"},"value":[1,"2"]},{"metric":'


def _body(at: float, series: list[tuple[dict[str, str], str]]) -> bytes:
    result = [{"metric": labels, "value": [at, value]} for labels, value in series]
    doc = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return json.dumps(doc, separators=(",", ":")).encode()


def _both(body: bytes, memo: Memo) -> list[tuple[dict[str, str], float]] | None:
    found = memo_vector(body, memo)
    assert found == parse_vector(orjson.loads(body))
    return found


def test_series_equal_a_full_decode_across_answers() -> None:
    memo: Memo = {}
    series = [({"instance": f"gpu{i}:9100", "job": "node"}, str(i)) for i in range(5)]
    odd = [({"instance": HOSTILE}, "7"), ({"instance": "nan"}, "NaN"), ({"i": "inf"}, "+Inf")]
    _both(_body(999.0, series + odd), memo)  # a first answer: decoded in full
    first = _both(_body(1000.5, series + odd), memo)
    assert first is not None and len(first) == 6 and first[5] == ({"instance": HOSTILE}, 7.0)
    changed = [*series[:2], (series[2][0], "42"), *series[4:], *odd]  # one moved, one gone
    second = _both(_body(1005.5, changed), memo)
    assert second is not None and [v for _, v in second] == [0.0, 1.0, 42.0, 4.0, 7.0]
    assert second[0][0] is first[0][0]  # unchanged text: the same series, not decoded again
    again = _both(_body(1007.5, changed), memo)
    assert again is second  # the same answer but for its time: the same list
    assert _both(_body(1010.0, []), memo) == [] and not memo


def test_the_docs_example_answer() -> None:
    body = read_fixture("prometheus/prometheus-api-v1-query-vector-docs-example.json").encode()
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    memo: Memo = {}
    assert _both(compact, memo) == _both(compact, memo) == parse_vector(json.loads(body))
    assert 1 <= len(memo) <= 2  # the last answer, kept whole (and where its values are)


def test_other_layouts_are_left_to_the_full_decode() -> None:
    series = [({"instance": "gpu1:9100"}, "1")]
    spaced = json.dumps(json.loads(_body(1.0, series))).encode()  # spaces after ':' and ','
    victoria = _body(1.0, series).replace(
        b'"status":"success",', b'"status":"success","isPartial":false,'
    )
    two_times = _body(1.0, series * 2).replace(b"[1.0,", b"[2.0,", 1)
    error = b'{"status":"error","errorType":"bad_data","error":"parse error"}'
    for body in (spaced, victoria, two_times, error, b"not json"):
        assert memo_vector(body, {b"": ()}) is None, body


def test_values_that_all_moved_keep_their_labels_and_read_as_a_full_decode() -> None:
    """A live fleet's next answer: every value new (odd ones too), the labels the same."""
    memo: Memo = {}
    labels = [{"instance": f"gpu{i}:9100", "gpu": str(i % 8)} for i in range(12)]
    labels.append({"instance": HOSTILE})
    first = _both(_body(1000.0, [(la, str(i)) for i, la in enumerate(labels)]), memo)
    values = ["1e+06", "-0.5", "NaN", "+Inf", "-Inf", "37.25", "0", "12", "1.5e-3", "7", "8", "9"]
    moved = [*zip(labels, values, strict=False), (labels[-1], "42")]
    second = _both(_body(1005.0, moved), memo)
    assert first is not None and second is not None
    assert [v for _, v in second] == [1e6, -0.5, 37.25, 0.0, 12.0, 1.5e-3, 7.0, 8.0, 9.0, 42.0]
    assert second[0][0] is first[0][0] and second[-1][0] is first[-1][0]  # labels not decoded
    back = [(la, str(i)) for i, la in enumerate(labels)]  # NaN and +Inf series come back
    assert [v for _, v in _both(_body(1010.0, back), memo) or []] == [float(i) for i in range(13)]
    again = [(la, str(i + 0.5)) for i, la in enumerate(labels)]  # against the kept labels
    assert [v for _, v in _both(_body(1015.0, again), memo) or []] == [i + 0.5 for i in range(13)]
    numbers = _body(1020.0, again).replace(b'"0.5"', b"0.5")  # not Prometheus's layout
    assert _both(numbers, memo) == parse_vector(orjson.loads(numbers))


def test_new_values_of_the_same_series_keep_their_labels() -> None:
    memo: Memo = {}
    series = [({"instance": f"gpu{i}:9100", "job": "node"}, str(i)) for i in range(4)]
    first = _both(_body(1.0, series), memo)
    moved = [
        (labels, v) for (labels, _), v in zip(series, ["1e+06", "0.5", "3", "-2"], strict=True)
    ]
    second = _both(_body(2.0, moved), memo)
    assert first is not None and second is not None
    assert [v for _, v in second] == [1e6, 0.5, 3.0, -2.0]
    assert all(a[0] is b[0] for a, b in zip(first, second, strict=True))
    assert _both(_body(2.5, moved), memo) is second  # the same values: the same list
    gone = _both(_body(3.0, [(series[0][0], "NaN"), *moved[1:]]), memo)  # left out, as in full
    assert gone is not None and [v for _, v in gone] == [0.5, 3.0, -2.0]
    back = _both(_body(4.0, [(series[0][0], "+Inf"), *moved[1:]]), memo)
    assert back is not None and len(back) == 3
    assert _both(_body(5.0, moved), memo) == second
    other = [({"instance": "gpu9:9100", "job": "node"}, "8"), *moved[1:]]
    relabelled = _both(_body(6.0, other), memo)
    assert relabelled is not None and relabelled[0] == (
        {"instance": "gpu9:9100", "job": "node"},
        8.0,
    )
