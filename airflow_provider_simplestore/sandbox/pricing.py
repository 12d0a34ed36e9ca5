"""Money rules: effective prices after specials, shipping fees, cart totals (two decimals)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Row = dict[str, Any]

COUNTRY_CALLING_CODES = {"AU": "61", "JP": "81", "NZ": "64", "US": "1", "GB": "44", "SG": "65", "CA": "1"}


def money(value: float) -> float:
    """Round half up to cents, as a JSON number."""
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def special_is_live(special: Row, now: datetime) -> bool:
    if not special.get("isActive"):
        return False
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    start = special.get("startOnUtc")
    end = special.get("endOnUtc")
    return (start is None or start <= stamp) and (end is None or stamp < end)


def special_targets(special: Row, product: Row) -> bool:
    categories = {ref["key"] for ref in product.get("categories") or ()}
    collections = {ref["key"] for ref in product.get("collections") or ()}
    for rule in special.get("rules") or ():
        kind, target = rule.get("entityType"), rule.get("entityId")
        if (
            (kind == "Product" and target == product["productId"])
            or (kind == "Category" and target in categories)
            or (kind == "Collection" and target in collections)
        ):
            return True
    return False


def effective_price(product: Row, specials: Iterable[Row], now: datetime) -> Row:
    """`basePrice` with the single best live special applied (specials do not stack)."""
    base = dict(product.get("basePrice") or {})
    sell = base.get("sellPrice")
    if sell is None:
        return base
    best = sell
    for special in specials:
        if not (special_is_live(special, now) and special_targets(special, product)):
            continue
        amount = special.get("amount") or 0
        percentage = special.get("specialType") == "Percentage"
        candidate = sell * (1 - amount / 100) if percentage else sell - amount
        best = min(best, max(candidate, 0.0))
    base["sellPrice"] = money(best)
    return base


def shipping_fee(configuration: Row, country: str | None, state: str | None) -> float:
    """Flat fee of the first rate matching (country, state), then (country, any state), else default."""
    shipping = configuration.get("shipping") or {}
    rates = shipping.get("rates") or []
    country_key = (country or "").casefold()
    state_key = (state or "").casefold()
    for wanted_state in (state_key, None):
        for rate in rates:
            rate_state = (rate.get("state") or "").casefold() or None
            if (rate.get("country") or "").casefold() == country_key and rate_state == wanted_state:
                return money(rate["fee"])
    return money(shipping.get("defaultFee", 0))


def international_number(country: str | None, local: str | None) -> str | None:
    code = COUNTRY_CALLING_CODES.get((country or "").upper())
    if code is None or not local:
        return None
    digits = local.strip()
    if digits.startswith("0"):
        digits = digits[1:]
    return f"+{code} {digits}"
