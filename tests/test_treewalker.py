"""Our tree walkers give html5lib's tokens without searching a parent's children at each step."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement

import html5lib
import pytest
from bleach import html5lib_shim
from bleach._vendor import html5lib as bleach_html5lib
from hypothesis import given

from blog import sanitize
from blog.treewalker import TreeWalker
from tests.test_properties import PROPERTY, random_html

STOCK = html5lib.getTreeWalker("etree")
BLEACH_STOCK = html5lib_shim.getTreeWalker("etree")


class CountingElement(Element):
    """An element that counts how often its children are listed."""

    listings = 0

    def __iter__(self) -> Any:
        CountingElement.listings += 1
        return iter(self[:])


def wide_tree(paragraphs: int) -> Element:
    """A fragment of ``paragraphs`` paragraphs, each holding bold text and a tail."""
    root = CountingElement("DOCUMENT_FRAGMENT")
    for n in range(paragraphs):
        paragraph = SubElement(root, "p")
        bold = SubElement(paragraph, "b")
        bold.text, bold.tail = f"word {n}", " tail"
    return root


@pytest.mark.parametrize(
    "walker",
    [TreeWalker, sanitize._cleaner.walker, STOCK],
    ids=["ours", "bleach-in-clean", "stock-html5lib"],
)
def test_walking_a_wide_fragment_never_lists_the_parents_children(walker: Any) -> None:
    tree = wide_tree(300)
    CountingElement.listings = 0
    tokens = list(walker(tree))
    assert sum(token["type"] == "StartTag" for token in tokens) == 600
    if walker is STOCK:
        assert CountingElement.listings >= 300  # the quadratic search this module removes
    else:
        assert CountingElement.listings == 0


@PROPERTY
@given(random_html)
def test_our_walker_gives_the_same_tokens_as_html5libs(html: str) -> None:
    tree = html5lib.parseFragment(html, namespaceHTMLElements=False)
    assert list(TreeWalker(tree)) == list(STOCK(tree))


@PROPERTY
@given(random_html)
def test_bleachs_walker_gives_the_same_tokens_as_its_stock_one(html: str) -> None:
    tree = bleach_html5lib.parseFragment(html, namespaceHTMLElements=False)
    assert list(sanitize._cleaner.walker(tree)) == list(BLEACH_STOCK(tree))
