"""Instant-query answers decoded again only where their series changed (pure: no I/O)."""

from __future__ import annotations

import math
import re
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson

Labels = dict[str, str]
Series = tuple[Labels, float]
"""One series of an instant vector: its labels and value."""


def number(text: object) -> float | None:
    """A sample value as Prometheus writes it ("1.5", "NaN", "+Inf"); None when not finite."""
    try:
        value = float(text if type(text) is str else str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_STR_ONLY = frozenset((str,))


def json_labels(labels: dict[str, Any]) -> Labels:
    """JSON label maps hold strings; a copy is made only of one that does not (the check runs
    in C: this is done for every one of 400,000 series per reading at 5,000 hosts)."""
    if _STR_ONLY.issuperset(map(type, labels.values())):
        return labels
    return {str(k): str(v) for k, v in labels.items()}


Memo = dict[bytes, Any]
"""An instant query's last answer, under _WHOLE: its text (evaluation time taken out), each
of its series as read (() for one that parse_vector skips), the list returned and its series'
labels by their text (None until an answer is read against the one before it)."""
_WHOLE = b"whole"
_HEAD = b'{"status":"success","data":{"resultType":"vector","result":['
_TAIL = b"]}}"
_ITEM = b'{"metric":'
_VALUE = b'"value":['


def memo_vector(body: bytes, memo: Memo) -> list[Series] | None:
    """An instant query's series, each decoded only when its JSON text differs from the last
    answer's (`memo`, replaced by this answer's); None for a body not laid out as Prometheus
    lays one out (then it is decoded in full). Between two readings most series of a large
    fleet are the same text but for the evaluation time: decoding them again was most of a
    reading's CPU. A JSON string cannot hold the unescaped quotes the cuts are made at."""
    if not body.startswith(_HEAD) or not body.endswith(_TAIL):
        return None
    inner = body[len(_HEAD) : -len(_TAIL)]
    if not inner:
        memo.clear()
        return []
    at = inner.find(_VALUE)
    stamp = inner[at : inner.find(b",", at) + 1] if inner.startswith(_ITEM) and at > 0 else b""
    if not stamp or not inner.endswith(b"]}"):
        return None
    again = _again(inner, stamp, memo)
    if again is not None:
        return again
    normal = inner.replace(stamp, _VALUE)
    last = memo.get(_WHOLE)
    if last is not None and _normal(last) == normal:
        # The same answer but for its time: the same list (the fleet's reading then knows
        # that nothing of it changed without looking at its series).
        return last[2]  # type: ignore[no-any-return]
    count = inner.count(stamp)  # one evaluation time for every series of an instant query
    known = None
    if last is not None:
        labels_of = last[3] if last[3] is not None else _labels_by_text(_normal(last), last[1])
        known = _known(normal, count, labels_of)
    found, labels_now = known if known is not None else (None, None)
    if found is None:  # a query's first answer, or a mostly new one: decoded at once
        items = orjson.loads(body)["data"]["result"]
        if len(items) != count:
            return None
        found = _read_items(items, 1)
    memo.clear()
    result: list[Series] = [series for series in found if series]
    # Kept whole: the last answer's series texts are cut out only when the next answer
    # differs (at 5,000 x 8, cutting every first answer cost its reading about 0.1 s).
    memo[_WHOLE] = (normal, found, result, labels_now, b"", b"")
    return result


_FAST = b"fast"
_SPLIT = re.compile(rb'"value":\[(?:[^,"\]]*,)?"([^"\\]*)"\]')
"""A series' value, with its evaluation time or without: split at, an answer's value texts
are every other part, the rest its series' labels and the text between them."""


def _normal(last: tuple[Any, ...]) -> bytes:
    """The last answer's text without its evaluation time (made only when needed)."""
    return last[0] if last[0] is not None else last[4].replace(last[5], _VALUE)  # type: ignore[no-any-return]


def _again(inner: bytes, stamp: bytes, memo: Memo) -> list[Series] | None:
    """This answer's series when it has the last answer's series with new values alone, each
    value finite (as in the last answer): the last answer's labels with the new values, in
    two passes in C (the text split at its values, then the values read); None otherwise.
    In a live fleet this is most answers of most readings."""
    last = memo.get(_WHOLE)
    if last is None or len(last[1]) != len(last[2]):
        return None  # no last answer, or one with a series left out
    state = memo.get(_FAST)
    if state is None:
        parts = _SPLIT.split(_normal(last))
        state = (parts[0::2], [series[0] for series in last[2]], parts[1::2])
        if len(state[2]) != len(last[2]):
            return None
        memo[_FAST] = state
    parts = _SPLIT.split(inner)
    heads, texts = parts[0::2], parts[1::2]
    if texts == state[2] and heads == state[0]:
        return last[2]  # type: ignore[no-any-return]
    if heads != state[0] or len(texts) != len(state[1]):
        return None
    try:
        values = list(map(float, texts))  # as number() reads them: "1.5", "NaN", "+Inf"
    except ValueError:
        return None
    if not math.isfinite(sum(values)):  # one is not finite (or they overflow): read in full
        return None
    result: list[Series] = list(zip(state[1], values, strict=True))
    memo[_FAST] = (state[0], state[1], texts)
    # The text without its time is made only when an answer is read in full again.
    memo[_WHOLE] = (None, result, result, last[3], inner, stamp)
    return result


_CUT = b"]}," + _ITEM
_AT_VALUE = b',"value":['


def _known(
    normal: bytes, count: int, labels_of: dict[bytes, Labels]
) -> tuple[list[Series | tuple[()] | None], dict[bytes, Labels]] | None:
    """This answer's series (`normal`: its text, evaluation time taken out) and their labels
    by text: a series whose labels' text the last answer had (`labels_of`) is those labels
    with this value (the values alone are read, in one call), the others decoded; None when
    most are new (the whole body is then cheaper to decode) or the cuts do not match. In a
    live fleet most values move at every scrape while the labels stay: decoding the labels
    again was most of a reading's decoding."""
    texts = normal[len(_ITEM) : -2].split(_CUT)
    if count != len(texts):
        return None
    parts = [text.rpartition(_AT_VALUE) for text in texts]
    heads = [part[0] for part in parts]
    labels = list(map(labels_of.get, heads))
    values = _values([part[2] for part in parts])
    if values is None:
        return None
    isfinite = math.isfinite
    found: list[Series | tuple[()] | None] = [
        None if la is None else (la, value) if isfinite(value) else ()
        for la, value in zip(labels, values, strict=True)
    ]
    now = dict(zip(heads, labels, strict=True))
    missed = [i for i, la in enumerate(labels) if la is None]
    if len(missed) > len(texts) // 2:
        return None
    if missed:
        fresh = _decode_texts([texts[i] for i in missed])
        if fresh is None:
            return None
        for i, got in zip(missed, fresh, strict=True):
            found[i] = got
            if got:
                now[heads[i]] = got[0]
            else:
                del now[heads[i]]
    return found, now  # type: ignore[return-value]


def _values(texts: list[bytes]) -> list[float] | None:
    """Sample values as Prometheus writes them (JSON strings of Go floats: "37.5", "NaN",
    "+Inf"), read as parse_vector's number() reads them; None if one is anything else."""
    try:
        strings = orjson.loads(b"[" + b",".join(texts) + b"]")
        if not _STR_ONLY.issuperset(map(type, strings)):
            return None
        return list(map(float, strings))
    except (orjson.JSONDecodeError, ValueError):
        return None


def _labels_by_text(before: bytes, was: list[Series | tuple[()]]) -> dict[bytes, Labels]:
    """Each series' labels of the last answer by their JSON text (empty if the cuts do not
    match what was read)."""
    cut = before[len(_ITEM) : -2].split(_CUT)
    if len(cut) != len(was):
        return {}
    return {
        text.rpartition(_AT_VALUE)[0]: series[0]
        for text, series in zip(cut, was, strict=True)
        if series
    }


def _decode_texts(texts: list[bytes]) -> list[Series | tuple[()] | None] | None:
    """Series texts ('{labels},"value":["1.5"') decoded in one call, each as parse_vector
    reads a series (() when it skips it); None when they are not what they should be."""
    try:
        items = orjson.loads(b"[" + b"]},".join(_ITEM + t for t in texts) + b"]}]")
    except orjson.JSONDecodeError:
        return None
    return _read_items(items, 0)


_DICT_ONLY, _LIST_ONLY = frozenset((dict,)), frozenset((list,))
_METRIC, _PAIR = itemgetter("metric"), itemgetter("value")


def _read_items(items: list[Any], at: int) -> list[Series | tuple[()] | None]:
    """Each decoded series as parse_vector reads it, its value at `at` of its pair (() when
    parse_vector skips it). An answer as Prometheus writes one (every series with a label
    map of strings and a finite value) is read in a few passes in C: a first answer at
    5,000 x 8 holds about 300,000 series."""
    try:
        metrics, pairs = list(map(_METRIC, items)), list(map(_PAIR, items))
        if (
            _DICT_ONLY.issuperset(map(type, metrics))
            and _LIST_ONLY.issuperset(map(type, pairs))
            and {at + 1}.issuperset(map(len, pairs))
            and _STR_ONLY.issuperset(map(type, chain.from_iterable(map(dict.values, metrics))))
        ):
            texts = list(map(itemgetter(at), pairs))
            if _STR_ONLY.issuperset(map(type, texts)):
                values = list(map(float, texts))
                if math.isfinite(sum(values)):
                    return list(zip(metrics, values, strict=True))
    except (KeyError, TypeError, ValueError):
        pass  # not as Prometheus writes it: series by series below
    return _read_each(items, at)


def _read_each(items: list[Any], at: int) -> list[Series | tuple[()] | None]:
    """_read_items, one series at a time."""
    decoded: list[Series | tuple[()] | None] = []
    for item in items:
        got: dict[str, Any] = item if type(item) is dict else {}
        labels, value = got.get("metric"), got.get("value")
        parsed = None
        if isinstance(labels, dict) and type(value) is list and len(value) == at + 1:
            parsed = number(value[at])
        decoded.append(
            () if parsed is None or not isinstance(labels, dict) else (json_labels(labels), parsed)
        )
    return decoded
