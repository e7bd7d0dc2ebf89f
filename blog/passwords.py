"""The password rules, in one place: long, not common, not the username, hard to guess."""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
# zxcvbn's scale runs from 0 to 4; 3 is "safely unguessable" by an attacker with a stolen hash
# and time (about 10^8 guesses and more).
MIN_STRENGTH = 3
# zxcvbn's time grows with the length; beyond this many characters length alone is enough.
STRENGTH_CHECKED_CHARS = 64


@cache
def _common() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list, case-folded."""
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str) -> str | None:
    """What is wrong with ``password`` for the account ``username``, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(count)d characters.", count=MIN_LENGTH)
    if password.casefold() == username.casefold():
        return _("Use something other than the username.")
    if password.casefold() in _common():
        return _("This is one of the most common passwords; choose a less guessable one.")
    checked = password[:STRENGTH_CHECKED_CHARS]
    if zxcvbn(checked, user_inputs=[username])["score"] < MIN_STRENGTH:
        return _("This is too easy to guess (a repeat, a sequence or words); add unrelated words.")
    return None
