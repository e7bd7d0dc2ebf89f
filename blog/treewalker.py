"""html5lib's ElementTree walker, finding each parent in constant time instead of by a search."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import html5lib

# What the walker calls a node: the element, its index in its parent, the stack of
# (ancestor, index) pairs, and "text", "tail" or None.
Ancestors = list[tuple[Element, int | None]]
Node = tuple[Element, int | None, Ancestors, str | None]


class LinearParents:
    """html5lib's etree ``TreeWalker`` navigation (under its names), without a quadratic step.

    html5lib keeps only the ancestors and finds a parent's index with ``list.index`` over the
    grandparent's children, so walking an element with many children takes time that grows
    with their square: a 140,000-character body of short bold paragraphs took 30 seconds to
    save. Keeping each ancestor's index on the stack makes the walk linear; the tokens are
    the same.
    """

    def getFirstChild(self, node: Node | Element) -> Node | None:
        """The text or first child of ``node``."""
        if isinstance(node, tuple):
            element, key, ancestors, flag = node
        else:
            element, key, ancestors, flag = node, None, [], None
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, ancestors, "text"
        return _first_element(element, key, ancestors)

    def getNextSibling(self, node: Node | Element) -> Node | None:
        """What follows ``node`` in its parent: its tail text or the next element."""
        if not isinstance(node, tuple):
            return None
        element, key, ancestors, flag = node
        if flag == "text":
            return _first_element(element, key, ancestors)
        if element.tail and flag != "tail":
            return element, key, ancestors, "tail"
        siblings = ancestors[-1][0]
        if key < len(siblings) - 1:  # type: ignore[operator] (only the root's key is None)
            return siblings[key + 1], key + 1, ancestors, None
        return None

    def getParentNode(self, node: Node | Element) -> Node | Element | None:
        """The element holding ``node``; the root itself when the walk is back there."""
        if not isinstance(node, tuple):
            return None
        element, key, ancestors, flag = node
        if flag == "text":
            return (element, key, ancestors, None) if ancestors else element
        parent, parent_key = ancestors.pop()
        return (parent, parent_key, ancestors, None) if ancestors else parent


def _first_element(element: Element, key: int | None, ancestors: Ancestors) -> Node | None:
    """Step down into ``element``'s first child element, if it has one."""
    if not len(element):
        return None
    ancestors.append((element, key))
    return element[0], 0, ancestors, None


_Stock: Any = html5lib.getTreeWalker("etree")


class TreeWalker(LinearParents, _Stock):
    """html5lib's etree walker with the linear navigation."""
