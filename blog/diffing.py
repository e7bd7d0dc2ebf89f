"""Comparing two versions of an article, field by field: what went, what came, what stayed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from blog.dates import local, long_date
from blog.forms import STATUS_LABELS, ArticleForm

# The fields a revision keeps that people read, in the form's order, with the form's labels.
LABELS = {
    name: getattr(ArticleForm, name).args[0]
    for name in (
        "title",
        "slug",
        "summary",
        "dateline",
        "body",
        "section",
        "tags",
        "featured",
        "status",
        "published_at",
        "hero_image",
        "hero_alt",
        "hero_caption",
        "hero_credit",
    )
}
# A line with the blank lines after it: Markdown's blank lines never pair up on their own.
LINES = re.compile(r"[^\n]+\n*|\n+")
# A word with the spaces after it, or spaces alone.
WORDS = re.compile(r"\S+\s*|\s+")
# Unchanged lines shown before and after a change; longer unchanged stretches are folded.
CONTEXT = 2
# Word pairs a field's comparison may weigh; past them, changed lines are shown whole rather
# than word by word, so that comparing any two bodies takes about a second at most.
MAX_WORD_PAIRS = 4_000_000

# A piece of one side of a change: ("same" | "del" | "ins" | "skip" | "empty", text).
Run = tuple[str, str]
EMPTY: list[Run] = [("empty", "")]


@dataclass(frozen=True)
class Picture:
    """A hero image as a version had it."""

    name: str
    width: int | None
    height: int | None
    alt: str


@dataclass(frozen=True)
class Change:
    """A field that differs between two versions, each side as runs of text (or a picture)."""

    name: str
    label: str
    old: list[Run]
    new: list[Run]
    old_picture: Picture | None = None
    new_picture: Picture | None = None


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The fields that differ between two versions' fields, in the form's order."""
    found = []
    for name, label in LABELS.items():
        if name == "hero_image":
            old_picture, new_picture = _picture(before), _picture(after)
            if old_picture != new_picture:
                found.append(Change(name, label, [], [], old_picture, new_picture))
            continue
        old, new = _shown(name, before.get(name)), _shown(name, after.get(name))
        if old != new:
            found.append(Change(name, label, *diff(old, new)))
    return found


def _picture(fields: dict[str, Any]) -> Picture | None:
    """The hero image of a version, if it had one."""
    if not fields.get("hero_image"):
        return None
    return Picture(
        fields["hero_image"],
        fields.get("hero_width"),
        fields.get("hero_height"),
        fields.get("hero_alt") or "",
    )


def _shown(name: str, value: Any) -> str:
    """A field's value as a person reads it (times to the minute, in the newsroom's zone)."""
    if name == "tags":  # in the order the article page lists them
        return ", ".join(sorted(value or [], key=str.lower))
    if name == "featured":
        return _("Yes") if value else _("No")
    if name == "status":
        return str(STATUS_LABELS.get(value, value or ""))
    if name == "published_at":
        if not value:
            return ""
        moment = local(datetime.fromisoformat(value))
        return f"{long_date(moment)}, {moment:%H:%M}"
    return str(value or "")


def diff(old: str, new: str) -> tuple[list[Run], list[Run]]:
    """Both sides of a change: what stayed, what went ("del") and what came ("ins").

    Lines are matched first, then the words of the lines that changed; long unchanged
    stretches are folded into a "skip" run.
    """
    a, b = LINES.findall(old), LINES.findall(new)
    left: list[Run] = []
    right: list[Run] = []
    budget = MAX_WORD_PAIRS
    opcodes = SequenceMatcher(None, a, b).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = _folded(a[i1:i2], first=n == 0, last=n == len(opcodes) - 1)
            left += same
            right += same
            continue
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        words = WORDS.findall(old_part), WORDS.findall(new_part)
        budget -= len(words[0]) * len(words[1])
        if budget >= 0:
            in_words = _words(*words)
            left += in_words[0]
            right += in_words[1]
        else:
            left.append(("del", old_part))
            right.append(("ins", new_part))
    return _merged(left) or EMPTY, _merged(right) or EMPTY


def _words(a: list[str], b: list[str]) -> tuple[list[Run], list[Run]]:
    """Changed lines compared word by word."""
    left: list[Run] = []
    right: list[Run] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(("same", "".join(a[i1:i2])))
            right.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(("ins", "".join(b[j1:j2])))
    return left, right


def _folded(lines: list[str], first: bool, last: bool) -> list[Run]:
    """Unchanged lines, keeping only CONTEXT of them next to each change."""
    head = [] if first else lines[:CONTEXT]
    tail = [] if last else lines[len(lines) - CONTEXT :]
    hidden = len(lines) - len(head) - len(tail)
    if hidden <= 1:
        return [("same", "".join(lines))]
    unchanged = ngettext("… %(num)d unchanged line …", "… %(num)d unchanged lines …", hidden)
    skip = ("skip", f"{unchanged}\n")
    return [("same", "".join(head)), skip, ("same", "".join(tail))]


def _merged(runs: list[Run]) -> list[Run]:
    """Neighbouring runs of the same kind as one; empty ones dropped."""
    merged: list[Run] = []
    for kind, text in runs:
        if not text:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged
