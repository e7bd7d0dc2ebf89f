"""The password rules, in one place: long enough, not a common password, not the username."""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12


@cache
def _common() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list, case-folded."""
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str) -> str | None:
    """What is wrong with ``password`` for the account ``username``, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if password.casefold() == username.casefold():
        return "Use something other than the username."
    if password.casefold() in _common():
        return "This is one of the most common passwords; choose a less guessable one."
    return None
