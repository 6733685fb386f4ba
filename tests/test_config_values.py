"""Config value syntax: durations, sizes, booleans, numbers, lists, regexes and TOML literals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from clustertop.config.values import (
    boolean,
    duration,
    format_duration,
    format_size,
    integer,
    optional_path,
    owner_regex,
    real,
    size,
    string_list,
    text,
    toml_string,
    toml_value,
)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (2.5, 2.5),
        ("30", 30.0),
        (" 1.5 ", 1.5),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h 30m 15s", 5415.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("30M", 1800.0),
        (0, 0.0),
    ],
)
def test_durations(value: object, seconds: float) -> None:
    assert duration(positive=False)(value) == seconds


@pytest.mark.parametrize(
    "value", ["soon", "", "1h30", "h", "-5", -5, "5x", "1m s", "inf", float("nan"), True, [1]]
)
def test_bad_durations_say_what_was_expected(value: object) -> None:
    with pytest.raises(ValueError, match=r"^expected a number of seconds like 30 or '5m', got "):
        duration(positive=False)(value)


def test_bad_duration_message_quotes_the_value() -> None:
    with pytest.raises(ValueError) as caught:
        duration(positive=True)("soon")
    assert str(caught.value) == "expected a number of seconds like 30 or '5m', got 'soon'"
    with pytest.raises(ValueError, match="must be more than 0 seconds, got '0s'"):
        duration(positive=True)("0s")


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (0, 0),
        (1048576, 1048576),
        ("1048576", 1048576),
        ("100B", 100),
        ("500MiB", 500 * 2**20),
        ("1GiB", 2**30),
        ("1.5GiB", 3 * 2**29),
        ("1gib", 2**30),
        ("2G", 2 * 10**9),
        ("2GB", 2 * 10**9),
        ("10kB", 10_000),
        ("10K", 10_000),
        ("4Ki", 4096),
        ("1TiB", 2**40),
        ("3 MB", 3 * 10**6),
    ],
)
def test_sizes_si_and_iec(value: object, count: int) -> None:
    assert size(value) == count


@pytest.mark.parametrize("value", ["big", "1 GiBs", "-1", -1, "1.2.3G", True, 1.5, "GiB", ""])
def test_bad_sizes(value: object) -> None:
    with pytest.raises(ValueError, match=r"^expected a size in bytes like 1048576, or with a unit"):
        size(value)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (2.0, "2s"), (0.5, "0.5s"), (90, "1m30s"), (5400, "1h30m"), (604800, "7d")],
)
def test_format_duration_reads_back(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown
    assert duration(positive=False)(shown) == seconds


@pytest.mark.parametrize(
    ("count", "shown"),
    [(2**30, "1GiB"), (500 * 2**20, "500MiB"), (2 * 10**9, "2GB"), (1000, "1kB"), (1234, "1234B")],
)
def test_format_size_reads_back(count: int, shown: str) -> None:
    assert format_size(count) == shown
    assert size(shown) == count


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("1", True), ("YES", True), ("on", True), ("false", False), (" 0 ", False)],
)
def test_booleans(value: object, expected: bool) -> None:
    assert boolean(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", 1, None])
def test_bad_booleans(value: object) -> None:
    with pytest.raises(ValueError, match=r"^expected true or false \(or 1/0, yes/no, on/off\)"):
        boolean(value)


def test_numbers_and_bounds() -> None:
    assert real(low=0, high=100)("42.5") == 42.5
    assert integer(low=1)(16) == 16
    assert integer(low=1)("16") == 16
    with pytest.raises(ValueError, match="expected a number from 0 to 100, got 101"):
        real(low=0, high=100)(101)
    with pytest.raises(ValueError, match="expected a number, got 'lots'"):
        real()("lots")
    with pytest.raises(ValueError, match="expected a number, got true"):
        real()(True)
    with pytest.raises(ValueError, match="expected a whole number of at least 1, got 0"):
        integer(low=1)(0)
    with pytest.raises(ValueError, match=r"expected a whole number, got 2\.5"):
        integer(low=1)(2.5)


def test_text_lists_paths_and_regexes() -> None:
    assert text()("textual-dark") == "textual-dark"
    with pytest.raises(ValueError, match="expected a non-empty string"):
        text()(" ")
    with pytest.raises(ValueError, match="control characters are not allowed"):
        text()("a\x1b")
    assert string_list("owner, user,,") == ("owner", "user")
    assert string_list(["a", "b"]) == ("a", "b")
    with pytest.raises(ValueError, match=r"expected a list of strings like \[\"owner\""):
        string_list([1])
    assert optional_path("") is None
    assert optional_path("~/x") == Path("~/x")
    assert owner_regex("") == ""
    with pytest.raises(ValueError, match="needs a named group 'user'"):
        owner_regex("^(\\w+)-")
    with pytest.raises(ValueError, match=r"not a valid regular expression \(.*\): '\^\(\?P<user'"):
        owner_regex("^(?P<user")


@pytest.mark.parametrize(
    "value", ["plain", "^(?P<user>\\w+)-", "it's \\d", 'say "hi"', "tab\there", "ünïcode"]
)
def test_toml_strings_round_trip(value: str) -> None:
    assert tomllib.loads(f"x = {toml_string(value)}")["x"] == value
    assert tomllib.loads(f"x = {toml_value([value, 1.5, True])}")["x"] == [value, 1.5, True]


def test_toml_string_prefers_readable_forms() -> None:
    assert toml_string("5s") == '"5s"'
    assert toml_string("^(?P<user>\\w+)-") == "'^(?P<user>\\w+)-'"
