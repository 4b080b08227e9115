"""Credits per API key, spent and refunded the way MusicAPI documents (§8, §12).

Rules:

* An account has three balances: ``extra_credits`` (one-time packs), ``credits`` (the
  subscription's) and ``lyrics_credits`` (a separate pool only lyrics draw from).
* Extra credits are spent first; the subscription's cover the rest.
* Subscription credits need an active subscription; without one only extra credits
  can be spent.
* A call is paid whole or not at all: not enough credits is a 403, nothing deducted.
* A refund returns each credit to the balance it came from, once.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import attrs

from .._endpoints import Pool

__all__ = [
    "CREDITS_MESSAGE",
    "SUBSCRIPTION_MESSAGE",
    "Balance",
    "Charge",
    "Ledger",
    "PaymentRefused",
]

CREDITS_MESSAGE: Final = (
    "The remaining credits are not enough. You can buy more one-time credit packs or subscribe."
)
SUBSCRIPTION_MESSAGE: Final = (
    "You do not have an active subscription. Please check whether your renewal was successful."
)


class PaymentRefused(Exception):
    """The account cannot pay; ``message`` is the API's 403 text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.frozen
class Charge:
    """What one call took, split by balance, so a refund can put it back exactly."""

    key: str
    pool: Pool
    from_extra: int = 0
    from_credits: int = 0

    @property
    def total(self) -> int:
        """Credits taken in all."""
        return self.from_extra + self.from_credits


@attrs.frozen
class Balance:
    """An account's balances at one moment."""

    credits: int
    extra_credits: int
    lyrics_credits: int
    subscription_active: bool = True


@attrs.define
class _Account:
    credits: int
    extra_credits: int
    lyrics_credits: int
    subscription_active: bool


class Ledger:
    """Accounts by API key, with totals of what was spent and refunded."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self.spent: Counter[Pool] = Counter()
        self.refunded: Counter[Pool] = Counter()

    def open(
        self,
        key: str,
        *,
        credits: int,
        extra_credits: int = 0,
        lyrics_credits: int = 0,
        subscription_active: bool = True,
    ) -> None:
        """Create the account for ``key``, or set its balances if it exists."""
        if min(credits, extra_credits, lyrics_credits) < 0:
            raise ValueError("balances cannot be negative")
        self._accounts[key] = _Account(credits, extra_credits, lyrics_credits, subscription_active)

    def knows(self, key: str) -> bool:
        """Whether ``key`` is a valid API key here."""
        return key in self._accounts

    def keys(self) -> tuple[str, ...]:
        """Every API key with an account."""
        return tuple(self._accounts)

    def balance(self, key: str) -> Balance:
        """The balances of ``key``'s account."""
        a = self._accounts[key]
        return Balance(a.credits, a.extra_credits, a.lyrics_credits, a.subscription_active)

    def charge(self, key: str, amount: int, pool: Pool) -> Charge:
        """Take ``amount`` from ``key``'s account, extra credits first.

        Raises:
            PaymentRefused: the account cannot pay it all; nothing was taken.
        """
        account = self._accounts[key]
        if amount <= 0:
            return Charge(key, pool)
        if pool == "lyrics":
            if account.lyrics_credits < amount:
                raise PaymentRefused(CREDITS_MESSAGE)
            account.lyrics_credits -= amount
            self.spent[pool] += amount
            return Charge(key, pool, from_credits=amount)
        from_extra = min(account.extra_credits, amount)
        from_credits = amount - from_extra
        if from_credits and not account.subscription_active:
            raise PaymentRefused(SUBSCRIPTION_MESSAGE)
        if from_credits > account.credits:
            raise PaymentRefused(CREDITS_MESSAGE)
        account.extra_credits -= from_extra
        account.credits -= from_credits
        self.spent[pool] += amount
        return Charge(key, pool, from_extra=from_extra, from_credits=from_credits)

    def refund(self, charge: Charge) -> None:
        """Put ``charge`` back where it came from (callers refund each charge once)."""
        account = self._accounts.get(charge.key)
        if account is None or not charge.total:
            return
        if charge.pool == "lyrics":
            account.lyrics_credits += charge.from_credits
        else:
            account.extra_credits += charge.from_extra
            account.credits += charge.from_credits
        self.refunded[charge.pool] += charge.total
