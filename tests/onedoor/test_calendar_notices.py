"""A holiday notice newer than the installed calendar is added at run time (Art.203 ¶1
needs the State Council's notice; the next year's arrives each November or December)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.calendar_notices import NoticeError, load_notices, read_notices
from gateway.settings import ConfigError, load_settings
from onedoor import deadlines, periods
from tests.gateway.harness import CENTRES_TOML

YEAR = periods.KNOWN_YEARS.stop  # the first year the package does not know


@pytest.fixture(autouse=True)
def _restore_calendar() -> Iterator[None]:
    saved = (set(periods._DAYS_OFF), set(periods._WORKDAYS), set(periods._ADDED_YEARS))
    yield
    periods._DAYS_OFF.clear(), periods._DAYS_OFF.update(saved[0])
    periods._WORKDAYS.clear(), periods._WORKDAYS.update(saved[1])
    periods._ADDED_YEARS.clear(), periods._ADDED_YEARS.update(saved[2])
    periods.roll_forward.cache_clear()
    deadlines._ends.cache_clear()


def _first_weekday(year: int, month: int, day: int) -> dt.date:
    d = dt.date(year, month, day)
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def test_an_unknown_year_is_reported_then_known_once_its_notice_is_added() -> None:
    start = dt.date(YEAR - 1, 12, 20)
    with pytest.raises(periods.DeadlineUnknown):
        periods.last_day(start, days=15)  # ends in YEAR
    holiday = _first_weekday(YEAR, 1, 4)
    periods.add_notice(YEAR, [holiday, holiday + dt.timedelta(days=1)])
    assert periods.knows(YEAR)
    # A last day on the holiday moves past it (Art.203 ¶1).
    assert periods.last_day(holiday - dt.timedelta(days=15), days=15) > holiday + dt.timedelta(days=1)


def test_a_workday_weekend_is_not_a_rest_day() -> None:
    saturday = next(dt.date(YEAR, 2, d) for d in range(1, 8) if dt.date(YEAR, 2, d).weekday() == 5)
    periods.add_notice(YEAR, [dt.date(YEAR, 1, 1)], [saturday])
    assert not periods.is_rest_day(saturday)
    assert periods.is_rest_day(saturday + dt.timedelta(days=1))  # the Sunday stays a rest day


def test_cached_deadlines_are_recomputed_after_a_notice() -> None:
    start = dt.date(YEAR - 1, 12, 20)
    due, _ = deadlines._ends(start, 15, 0)
    assert due is None  # unknown, not guessed
    periods.add_notice(YEAR, [dt.date(YEAR, 1, 1)])
    due, _ = deadlines._ends(start, 15, 0)
    assert due is not None


def test_a_notice_file_is_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "notices.toml"
    good.write_text(f'[{YEAR}]\ndays_off = ["{YEAR}-01-01", {YEAR}-01-02]\nworkdays = []\n')
    assert load_notices(good) == [YEAR]
    for text, why in [
        (f'[{YEAR}]\ndays_off = ["{YEAR + 1}-01-01"]\n', f"in {YEAR}"),
        (f'[{YEAR}]\ndays_off = ["not a date"]\n', "days_off"),
        (f'[{YEAR}]\nholidays = ["{YEAR}-01-01"]\n', "unknown keys"),
        ('[next]\ndays_off = []\n', "year table"),
        (f'[{YEAR}]\nworkdays = ["{YEAR}-02-06"]\n', "no days off"),
        ("not toml [", "notices"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(NoticeError, match=why):
            load_notices(bad) if "in " in why else read_notices(bad)


def test_config_check_refuses_a_bad_notice_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[2027]\nholidays = []\n")
    config = tmp_path / "onedoor.toml"
    config.write_text(f'[calendar]\nnotices = "{bad}"\n{CENTRES_TOML}')
    with pytest.raises(ConfigError, match="unknown keys"):
        load_settings(config)
