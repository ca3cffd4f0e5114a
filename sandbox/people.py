"""Synthetic residents and organisations, generated column-wise with numpy.

Citizens are columns (village, birth date, sequence, name parts, phone) so a
world of hundreds of thousands of people costs a few megabytes; a
:class:`Citizen` is materialised only when a record needs one. Resident IDs
are valid GB 11643-1999 numbers built from the county code of the citizen's
village, and are unique: the 3-digit sequence is ranked within each
(county, birth date) group.

Organisations come from a small pool of employers per county (:func:`employer`):
the same builder, landlord or cooperative turns up in many residents' disputes,
and in more than one centre (a wage claim mediated, then litigated), as in the
seeds. Each has a valid GB 32100-2015 credit code registered in its county
(``91`` companies, ``93`` farmers' cooperatives, ``92`` 个体工商户 sole traders).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt

from onedoor.regions import Region, get_region, villages

__all__ = ["EMPLOYERS_PER_COUNTY", "Citizen", "Citizens", "employer", "employer_index", "uscc",
           "village_table"]

I64 = npt.NDArray[np.int64]

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏",
    "吕", "丁", "任", "沈", "姚", "卢", "马", "才", "索", "欧阳", "司马", "上官", "诸葛",
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志文玉梅红斌海燕德成学才卓玛扎西拉毛措吉"
_CHECK = "10X98765432"
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_PHONE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 157, 158, 159, 177,
     180, 181, 182, 183, 186, 187, 188, 189, 199], dtype=np.int64)
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WORDS = ("恒泰", "宏达", "鑫源", "金川", "雪域", "高原", "昆仑", "兴盛", "安和", "瑞丰")
# (name ending, the credit code's registration-authority and entity-type characters)
_ORG_KINDS = (("建筑工程有限公司", "91"), ("商贸有限公司", "91"), ("物业服务有限公司", "91"), ("运输有限公司", "91"),
              ("农牧业专业合作社", "93"), ("房地产开发有限公司", "91"), ("餐饮管理有限公司", "91"),
              ("便民超市", "92"))
EMPLOYERS_PER_COUNTY = len(_ORG_WORDS) * len(_ORG_KINDS)  # every name in a county is its own
DAY = 86_400


@dataclass(frozen=True, slots=True)
class Citizen:
    index: int
    id_number: str
    name: str
    phone: str
    address: str
    region_code: str
    grid_code: str
    birth: dt.date
    male: bool


@cache
def village_table() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Village codes (sorted) and their full postal address prefixes."""
    vs = sorted(villages(), key=lambda r: r.code)
    codes = tuple(v.code for v in vs)
    prefixes = tuple(_address_prefix(v) for v in vs)
    return codes, prefixes


def _address_prefix(village: Region) -> str:
    parts = [village.name]
    code = village.parent_code
    while code is not None:
        region = get_region(code)
        parts.append(region.name)
        code = region.parent_code
    return "".join(reversed(parts))


def uscc(body17: str) -> str:
    """Append the GB 32100-2015 check character to 17 code characters."""
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(_USCC.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + _USCC[(31 - total % 31) % 31]


@lru_cache(maxsize=4096)
def employer(seed: int, county6: str, k: int) -> tuple[str, str]:
    """(name, credit code) of the county's ``k``-th organisation (``0 <= k <``
    :data:`EMPLOYERS_PER_COUNTY`): the same in every centre and every run of a seed."""
    word = _ORG_WORDS[k % len(_ORG_WORDS)]
    kind, prefix = _ORG_KINDS[k // len(_ORG_WORDS) % len(_ORG_KINDS)]
    rng = np.random.default_rng((seed, int(county6), k, 98))
    chars = "".join(_USCC[int(i)] for i in rng.integers(0, len(_USCC), 9))
    return f"{get_region(county6).name}{word}{kind}", uscc(prefix + county6 + chars)


def employer_index(rng: np.random.Generator, matters: int) -> int:
    """Which of its county's organisations a dispute is with: a pool that grows with the
    world (about one organisation per 400 matters in a county's share, at least 12) and
    a few large employers that turn up more often than the rest."""
    return int(rng.choice(len(w := _pool(min(EMPLOYERS_PER_COUNTY, max(12, matters // 400)))), p=w))


@cache
def _pool(size: int) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.arange(1, size + 1) ** 0.7
    return np.asarray(weights / weights.sum(), np.float64)


class Citizens:
    """``n`` residents drawn from ``rng``; ``now`` fixes who is a minor."""

    def __init__(self, n: int, rng: np.random.Generator, now: dt.datetime) -> None:
        codes, _ = village_table()
        self.n = n
        self.village = rng.integers(0, len(codes), n).astype(np.int16)
        today = np.datetime64(now.date(), "D").astype(np.int64)
        minor = rng.random(n) < 0.05
        age_days = np.where(minor, rng.integers(12 * 365, 17 * 365, n),
                            rng.integers(19 * 365, 85 * 365, n))
        self.birth = (today - age_days).astype(np.int32)  # days since 1970-01-01
        self.male = rng.random(n) < 0.5
        self.surname = rng.integers(0, len(SURNAMES), n).astype(np.int16)
        self.given1 = rng.integers(0, len(GIVEN), n).astype(np.int16)
        self.given2 = np.where(rng.random(n) < 0.6, rng.integers(0, len(GIVEN), n), -1)
        self.phone = (_PHONE_PREFIXES[rng.integers(0, len(_PHONE_PREFIXES), n)] * 100_000_000
                      + rng.integers(0, 100_000_000, n))
        self.house = rng.integers(1, 300, n).astype(np.int16)
        county = np.array([int(c[:6]) for c in codes], dtype=np.int64)[self.village]
        ymd = _yyyymmdd(self.birth.astype(np.int64))
        key = county * 100_000_000 + ymd
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        seq = np.empty(n, dtype=np.int64)
        seq[order] = 2 * (sorted_key % 97 + rank) + self.male[order]
        self.body = key * 1000 + seq  # the first 17 digits as one integer
        self.check = _check_index(self.body)
        self._order = np.argsort(self.body)
        self._sorted_body = self.body[self._order]

    def id_number(self, i: int) -> str:
        return f"{int(self.body[i]):017d}{_CHECK[int(self.check[i])]}"

    def index_of(self, canonical: str) -> int | None:
        """The citizen holding this canonical 18-character ID, if any."""
        if len(canonical) != 18 or not canonical[:17].isdigit():
            return None
        body = int(canonical[:17])
        pos = int(np.searchsorted(self._sorted_body, body))
        if pos >= self.n or int(self._sorted_body[pos]) != body:
            return None
        index = int(self._order[pos])
        return index if self.id_number(index) == canonical else None

    def born_19xx(self) -> npt.NDArray[np.bool_]:
        return np.asarray((self.body // 1_000_000_000 % 100) == 19, np.bool_)

    def ends_x(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.check == 2, np.bool_)

    def name(self, i: int) -> str:
        given = GIVEN[int(self.given1[i])]
        if int(self.given2[i]) >= 0:
            given += GIVEN[int(self.given2[i])]
        return SURNAMES[int(self.surname[i])] + given

    def get(self, i: int) -> Citizen:
        codes, prefixes = village_table()
        v = int(self.village[i])
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=int(self.birth[i]))
        return Citizen(
            index=i, id_number=self.id_number(i), name=self.name(i),
            phone=str(int(self.phone[i])), address=f"{prefixes[v]}{int(self.house[i])}号",
            region_code=codes[v], grid_code=f"{codes[v]}{int(self.house[i]) // 100 + 1:03d}",
            birth=birth, male=bool(self.male[i]),
        )


def _yyyymmdd(days: I64) -> I64:
    dates = days.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return np.asarray(y * 10_000 + m * 100 + d, dtype=np.int64)


def _check_index(body: I64) -> npt.NDArray[np.int8]:
    total = np.zeros(len(body), dtype=np.int64)
    for k, w in enumerate(_WEIGHTS):
        total += (body // 10 ** (16 - k) % 10) * w
    return (total % 11).astype(np.int8)

