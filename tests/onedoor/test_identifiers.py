"""Resident IDs (GB 11643-1999): the region part must name a GB/T 2260 province; full-width is refused by name."""

from __future__ import annotations

import datetime as dt

import pytest

from onedoor.identifiers import InvalidIdentifier, check_char, make_resident_id, normalise_resident_id


def with_check(body17: str) -> str:
    return body17 + check_char(body17)


def test_the_documented_id_is_valid() -> None:
    assert normalise_resident_id("11010519491231002x") == "11010519491231002X"
    assert normalise_resident_id(make_resident_id("632301", dt.date(1980, 1, 1), 123))[:6] == "632301"


@pytest.mark.parametrize("body", ["00000019800101123", "99010119800101123"])
def test_a_region_part_naming_no_province_is_refused_even_with_a_valid_check_char(body: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_resident_id(with_check(body))
    assert caught.value.reason == "region"
    assert "GB/T 2260" in caught.value.message
    with pytest.raises(InvalidIdentifier):  # the legacy 15-digit form too
        normalise_resident_id(body[:6] + body[8:])


def test_full_width_digits_get_a_reason_that_says_so() -> None:
    ascii_id = "11010519491231002X"
    full = ascii_id.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    for raw in (full, ascii_id[:-1] + "ｘ", "１" + ascii_id[1:]):
        with pytest.raises(InvalidIdentifier) as caught:
            normalise_resident_id(raw)
        assert caught.value.reason == "full_width"
        assert "全角" in caught.value.message and "full-width" in caught.value.message


def test_a_credit_code_is_canonicalised_and_each_fault_has_its_reason() -> None:
    from onedoor.identifiers import normalise_uscc, uscc_is_valid

    assert normalise_uscc(" 91632301ma7abcde1e ") == "91632301MA7ABCDE1E"
    assert uscc_is_valid("92632301MA7ABCDE1B")  # 个体工商户 (sole trader) codes check alike
    for raw, reason in (("91632301MA7ABCDE1F", "checksum"), ("91632301MA7ABCDE1", "length"),
                        ("91632301MA7ABCDI1E", "format"), ("９1632301MA7ABCDE1E", "full_width")):
        with pytest.raises(InvalidIdentifier) as caught:
            normalise_uscc(raw)
        assert caught.value.reason == reason, raw
        assert " / " in caught.value.message  # Chinese / English
        assert not uscc_is_valid(raw)
