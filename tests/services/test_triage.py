"""The triage rule table (属事 / 属地 / 归因), first match wins, and reloading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from onedoor.model import CST, Centre
from services.triage import DEFAULT_RULES, Facts, NoRoute, RulesFile, parse_rules

HUANGNAN = "632322001001"
KARAMAY = "650202001001"


@pytest.mark.parametrize(("facts", "centre", "rule"), [
    (Facts("劳动争议", KARAMAY), Centre.MEDIATION, "MATTER-DISPUTE"),
    (Facts("邻里", HUANGNAN), Centre.MEDIATION, "MATTER-DISPUTE"),
    (Facts("法律援助", HUANGNAN), Centre.LEGAL_SERVICES, "MATTER-LEGAL-AID"),
    (Facts("法律咨询", KARAMAY), Centre.LEGAL_SERVICES, "MATTER-LEGAL-AID"),
    (Facts("申诉求决", HUANGNAN), Centre.PETITIONS, "MATTER-PETITION"),
    (Facts("检举控告", HUANGNAN), Centre.PETITIONS, "MATTER-PETITION"),
    (Facts("征地拆迁", HUANGNAN, against_authority=True), Centre.PETITIONS, "CAUSE-AGAINST-AUTHORITY"),
    (Facts("申诉求决", HUANGNAN, court_related=True), Centre.LITIGATION, "CAUSE-COURT-RELATED"),
    (Facts("涉法涉诉", KARAMAY), Centre.LITIGATION, "MATTER-LITIGATION"),
    (Facts("网格事件", HUANGNAN), Centre.GOVERNANCE, "MATTER-GRID-REPORT"),
    (Facts("安全隐患", KARAMAY), Centre.GOVERNANCE, "MATTER-GRID-REPORT"),
    (Facts("物业", KARAMAY, channel="GRID_WORKER"), Centre.GOVERNANCE, "MATTER-GRID-WORKER"),
    (Facts("山林土地", HUANGNAN), Centre.GOVERNANCE, "PLACE-PASTORAL-LAND"),
    (Facts("山林土地", KARAMAY), Centre.MEDIATION, "MATTER-DISPUTE"),
])
def test_rule_table(facts: Facts, centre: Centre, rule: str) -> None:
    decision = RulesFile().current().route(facts)
    assert (decision.centre, decision.rule_id) == (centre, rule)
    assert " / " in decision.reason and decision.version


def test_basis_kind_and_deadlines() -> None:
    rules = RulesFile().current()
    aid = rules.route(Facts("法律援助", HUANGNAN))
    assert aid.basis == "MATTER" and aid.kind == "LEGAL_AID"
    assert rules.route(Facts("山林土地", HUANGNAN)).basis == "PLACE"
    assert rules.route(Facts("邻里", HUANGNAN, against_authority=True)).basis == "CAUSE"
    received = dt.datetime(2026, 3, 1, 10, 0, tzinfo=CST)
    (petition,) = rules.deadlines(Centre.PETITIONS, "COMPLAINT", received)
    assert petition.due_at == dt.datetime(2026, 3, 17, tzinfo=CST) and "第22条" in petition.law
    assert rules.deadlines(Centre.LEGAL_SERVICES, "CONSULTATION", received) == []
    assert len(rules.deadlines(Centre.LEGAL_SERVICES, "LEGAL_AID", received)) == 1
    assert rules.deadlines(Centre.MEDIATION, None, received) == []  # no statutory limit
    assert {"法律援助", "劳动争议", "网格事件"} <= rules.categories


def test_no_route_and_strict_file() -> None:
    only = parse_rules('version = "t"\n[[rule]]\nid = "R"\nbasis = "MATTER"\ncentre = "MEDIATION"\n'
                       'categories = ["邻里"]\nreason = "r"\n')
    with pytest.raises(NoRoute):
        only.route(Facts("法律援助", HUANGNAN))
    with pytest.raises(ValueError, match="triage"):
        parse_rules('version = "t"\n[[rule]]\nid = "R"\nbasis = "MATTER"\ncentre = "MEDIATION"\n'
                    'reason = "r"\ncolour = "red"\n')


def test_reload_on_change_and_keep_rules_on_a_broken_edit(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    rules = RulesFile(path)
    assert rules.current().version == "2026.11-1"
    path.write_text(text.replace('version = "2026.11-1"', 'version = "2026.12-1"'), encoding="utf-8")
    import os

    os.utime(path, ns=(1, 10**18))
    assert rules.current().version == "2026.12-1"
    path.write_text("version = [broken", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    assert rules.current().version == "2026.12-1"
