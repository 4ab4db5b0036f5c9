"""Amounts are stored exactly as given or refused: never rounded, so both databases hold what the person typed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.lib.money import parse_amount
from tests.conftest import Session

Client = AsyncTestClient[Litestar]
# Values binary floats get wrong (0.1 + 0.2), the extremes, and refunds: each must come back exactly.
EXACT = ["0.01", "0.10", "0.2", "1.15", "2.67", "10.12", "0.99", "999999999.99", "-999999999.99", "-0.01", "33.33"]


@given(st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2))
@settings(max_examples=300)
def test_parse_amount_keeps_two_decimal_values_exactly(value: Decimal) -> None:
    if value == 0:
        with pytest.raises(ValueError, match="must not be 0"):
            parse_amount(str(value))
    else:
        assert parse_amount(str(value)) == value


@pytest.mark.parametrize(
    "raw", ["0.005", "1.005", "2.675", "-10.125", "33.3333", "0.001", "12.000000000000000000000000000001"]
)
def test_more_than_two_decimals_are_refused_not_rounded(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^must have at most 2 decimals \(amounts are never rounded\)$"):
        parse_amount(raw)


def test_trailing_zeros_are_not_extra_decimals() -> None:
    assert parse_amount("12.500") == Decimal("12.50")


async def test_database_stores_exact_values(client: Client, user: Session) -> None:
    for raw in EXACT:
        created = await client.post("/api/expenses", json={"title": raw, "amount": raw}, headers=user.headers)
        assert created.status_code == 201, created.text
        stored = await client.get(f"/api/expenses/{created.json()['id']}", headers=user.headers)
        assert stored.json()["amount"] == f"{Decimal(raw):.2f}", raw
    total = (await client.get("/api/reports/summary?from=2000-01-01", headers=user.headers)).json()
    # 0.01+0.10+0.2+1.15+2.67+10.12+0.99+999999999.99-999999999.99-0.01+33.33, summed by hand.
    assert total["currencies"][0]["total"] == "48.56"
