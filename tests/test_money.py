"""Rounding parity: both databases store exactly what Python's ROUND_HALF_UP gives, so they agree with each other."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from expense_tracker.lib.money import parse_amount
from tests.conftest import Session

Client = AsyncTestClient[Litestar]
TRICKY = ["0.005", "0.015", "1.005", "2.675", "1.115", "10.125", "0.994", "999999999.985", "999999999.99", "33.3333"]


@given(st.decimals(min_value=Decimal("0.005"), max_value=Decimal("999999999.99"), places=4))
@settings(max_examples=300)
def test_parse_amount_rounds_half_up(value: Decimal) -> None:
    assert parse_amount(str(value)) == value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def test_database_stores_half_up_values(client: Client, user: Session) -> None:
    for raw in TRICKY:
        created = await client.post("/api/expenses", json={"title": raw, "amount": raw}, headers=user.headers)
        assert created.status_code == 201, created.text
        stored = await client.get(f"/api/expenses/{created.json()['id']}", headers=user.headers)
        assert stored.json()["amount"] == str(Decimal(raw).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), raw
    total = (await client.get("/api/reports/summary?from=2000-01-01", headers=user.headers)).json()
    expected = sum(Decimal(raw).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for raw in TRICKY)
    assert total["currencies"][0]["total"] == str(expected)
