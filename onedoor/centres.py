"""The one table of the five centres: what every layer needs to know about each.

Adding a sixth centre means a row here, a connector module, a sandbox centre
and its GraphQL type; the scope, the names, the batch limit and the type's
name are read from this table everywhere else (a test checks the schema's
types against it).

>>> CENTRES[Centre.PETITIONS].read_scope, CENTRES[Centre.PETITIONS].name_zh
('petitions:read', '信访中心')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .model import Centre

__all__ = ["CENTRES", "CentreInfo"]


@dataclass(frozen=True, slots=True)
class CentreInfo:
    centre: Centre
    read_scope: str  # OAuth2 scope that lets a caller read this centre's matters
    name_zh: str  # 中文名称, for messages to Chinese users
    name_en: str
    graphql_type: str  # the concrete GraphQL type of its matters
    batch_limit: int  # most ids one batched read may carry (the centre's own limit)


CENTRES: Mapping[Centre, CentreInfo] = MappingProxyType({info.centre: info for info in (
    CentreInfo(Centre.MEDIATION, "mediation:read", "矛调中心", "mediation centre",
               "MediationCase", 100),
    CentreInfo(Centre.LEGAL_SERVICES, "legal:read", "公共法律服务中心", "public legal services centre",
               "LegalServiceRequest", 50),
    CentreInfo(Centre.PETITIONS, "petitions:read", "信访中心", "petitions centre", "Petition", 50),
    CentreInfo(Centre.LITIGATION, "litigation:read", "诉讼服务中心", "litigation services centre",
               "CourtCase", 100),
    CentreInfo(Centre.GOVERNANCE, "governance:read", "综治中心", "comprehensive governance centre",
               "GridEvent", 100),
)})
