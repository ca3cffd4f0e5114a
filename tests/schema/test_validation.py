"""Arguments validated at the edge: a resident ID naming no province is BAD_USER_INPUT, not a null answer."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from onedoor.identifiers import check_char
from schema.validation import resident_id_arg


@pytest.mark.parametrize(("raw", "reason"), [
    ("00000019800101123" + check_char("00000019800101123"), "region"),
    ("99010119800101123" + check_char("99010119800101123"), "region"),
    ("１１０１０５１９４９１２３１００２Ｘ", "full_width"),
])
def test_bad_resident_ids_are_bad_user_input_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(GraphQLError) as caught:
        resident_id_arg(raw)
    extensions = caught.value.extensions or {}
    assert extensions["code"] == "BAD_USER_INPUT"
    assert extensions["reason"] == reason and extensions["field"] == "idNumber"
