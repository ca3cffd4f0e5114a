"""Masking: the documented shapes, plus properties over generated values."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy.masking import mask_address, mask_id_number, mask_name, mask_phone

Masker = Callable[[str], str]


@pytest.mark.parametrize(
    ("masker", "value", "expected"),
    [
        (mask_id_number, "630121198001011234", "6301**********1234"),
        (mask_id_number, "63012119800101123X", "6301**********123X"),
        (mask_id_number, "630121800101123", "6301*******1123"),
        (mask_id_number, "1234", "****"),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+86 13812345678", "+86 138****5678"),
        (mask_phone, "0971-8123456", "0971-***3456"),
        (mask_phone, "(010) 12345678", "(010) ****5678"),
        (mask_phone, "12348", "*2348"),
        (mask_phone, "110", "***"),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧阳**"),
        (mask_name, "欧阳", "欧*"),
        (mask_name, "王", "*"),
        (mask_name, "", ""),
        (mask_address, "青海省黄南藏族自治州同仁市隆务镇夏琼路12号",
         "青海省黄南藏族自治州同仁市隆务镇******"),
        (mask_address, "西宁市城东区八一路5号", "西宁市城东区*****"),
        (mask_address, "新疆维吾尔自治区克拉玛依市独山子区幸福路1号",
         "新疆维吾尔自治区克拉玛依市独山子区*****"),
        (mask_address, "湖南省娄底市双峰县某某镇某某村3组", "湖南省娄底市双峰县某某镇*****"),
        (mask_address, "西宁市城东区幸福小区3栋", "西宁市城东区******"),
        (mask_address, "西宁市城东区乡村路5号", "西宁市城东区*****"),
        (mask_address, "北京市朝阳区建国路1号", "北京市朝阳区*****"),
        (mask_address, "青海省西宁市", "青海****"),
    ],
)
def test_documented_shapes(masker: Masker, value: str, expected: str) -> None:
    assert masker(value) == expected


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_id_numbers = st.from_regex(r"\A\d{17}[\dX]\Z|\A\d{15}\Z")
_phones = st.one_of(
    st.from_regex(r"\A1[3-9]\d{9}\Z"),
    st.from_regex(r"\A0\d{2,3}-\d{7,8}\Z"),
    st.from_regex(r"\A\d{2,12}\Z"),
)
_names = st.text(_HAN, min_size=2, max_size=6) | st.sampled_from(["欧阳", "欧阳娜娜", "司马光"])
_ADDRESS_CHARS = list("青海省西宁市城东区黄南州同仁镇乡街道路号村组小0123456789")
_addresses = st.text(st.sampled_from(_ADDRESS_CHARS), min_size=2, max_size=40)

CASES: list[tuple[Masker, st.SearchStrategy[str]]] = [
    (mask_id_number, _id_numbers),
    (mask_phone, _phones),
    (mask_name, _names),
    (mask_address, _addresses),
]


@pytest.mark.parametrize(("masker", "values"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_properties(masker: Masker, values: st.SearchStrategy[str]) -> None:
    @given(values)
    def check(value: str) -> None:
        masked = masker(value)
        assert len(masked) == len(value)
        assert masked != value, "an unmasked value came back"
        assert "*" in masked
        # What is shown is the original character in its place.
        assert all(m in ("*", o) for m, o in zip(masked, value, strict=True))
        # Masking again never shows more than the first pass did.
        twice = masker(masked)
        assert len(twice) == len(masked)
        assert all(t in ("*", m) for t, m in zip(twice, masked, strict=True))

    check()


@given(st.text(min_size=0, max_size=30))
def test_total_functions_on_any_text(value: str) -> None:
    for masker in (mask_id_number, mask_phone, mask_name, mask_address):
        masked = masker(value)
        assert len(masked) == len(value)
        if len(value) >= 2 and "*" not in value:  # a masked value may come back as it is
            assert masked != value
