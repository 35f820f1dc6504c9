"""The items of a JSON document's list, decoded one at a time instead of the whole document at once.

A national DATAtourisme export is a ``@graph`` of hundreds of thousands of objects: decoded whole,
it takes about nine times its size in Python objects (3.5 GB for a 409 MB file) before a single
record is built. Here the text is decoded from UTF-8 a block at a time and each item of the list by
the standard library's own JSON scanner (``JSONDecoder.raw_decode``), so only the item being read
is held beside the records. Only the two outer levels are walked here (the list, or the object
holding it); everything inside an item is the standard decoder's.

Only the usual shapes are streamed: a list at the root, or an object holding exactly one of the
container keys with a list as its value, in valid UTF-8 JSON without a byte order mark. For
anything else (another shape, a duplicated key, invalid JSON or UTF-8), ``NotStreamableError`` is
raised, possibly after some items were given: the caller then discards them and reads the
document whole, as before, which gives the same objects or the same error.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Collection, Iterator
from typing import Any

BLOCK_BYTES = 1 << 24
_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, no other
# What may follow a number read at a block's end and still belong to it ("0" then ".5", "1e" then "3").
_NUMBER_GOES_ON = re.compile(r"[0-9.eE+-]*")
_DECODER = json.JSONDecoder()


class NotStreamableError(Exception):
    """The document is not of a streamed shape, or not valid JSON: read it whole instead."""


class _Text:
    """The document decoded a block at a time, with a cursor ``i`` into the text decoded so far."""

    def __init__(self, content: bytes, block: int) -> None:
        self._content = memoryview(content)
        self._at = 0
        self._block = block
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.i = 0

    def more(self) -> bool:
        """Decode the next block, keeping only the text from the cursor on; False at the end."""
        if self._at >= len(self._content):
            return False
        chunk = self._content[self._at : self._at + self._block]
        self._at += len(chunk)
        try:
            new = self._decoder.decode(chunk, final=self._at >= len(self._content))
        except UnicodeDecodeError:
            raise NotStreamableError from None
        self.text = self.text[self.i :] + new
        self.i = 0
        return True

    def peek(self) -> str:
        """Skip whitespace and return the next character ("" at the end of the document)."""
        while True:
            match = _WHITESPACE.match(self.text, self.i)
            assert match is not None  # the pattern matches the empty string
            self.i = match.end()
            if self.i < len(self.text):
                return self.text[self.i]
            if not self.more():
                return ""

    def value(self) -> Any:
        """Decode the next JSON value, reading more blocks while it is cut by a block's end."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.i)
            except json.JSONDecodeError:
                if self.more():
                    continue
                raise NotStreamableError from None
            # A number read up to the block's end (or up to a cut "1." or "1e") may go on in the next block.
            if _NUMBER_GOES_ON.fullmatch(self.text, end) and self.more():
                continue
            self.i = end
            return value

    def after_value(self, closing: str) -> bool:
        """Read what follows a value in a list or an object: True at ``closing``, False at a comma."""
        following = self.peek()
        self.i += 1
        if following == closing:
            return True
        if following != ",":
            raise NotStreamableError
        return False


def _array(text: _Text) -> Iterator[Any]:
    text.i += 1  # the "["
    if text.peek() == "]":
        text.i += 1
        return
    while True:
        yield text.value()
        if text.after_value("]"):
            return


def _members(text: _Text, containers: Collection[str]) -> Iterator[Any]:
    text.i += 1  # the "{"
    keys = frozenset(containers)
    seen: set[str] = set()
    while True:
        if text.peek() != '"':
            raise NotStreamableError  # not a key (an empty object, a trailing comma)
        key = text.value()
        if key in seen or text.peek() != ":":
            raise NotStreamableError  # json.loads keeps a duplicated key's last value: not streamed
        seen.add(key)
        text.i += 1
        if key in keys:
            if seen & keys != {key} or text.peek() != "[":
                raise NotStreamableError  # two containers, or one that is not a list
            yield from _array(text)
        else:
            text.value()  # another member (an @context): read and left
        if text.after_value("}"):
            break
    if not seen & keys:
        raise NotStreamableError


def items(
    content: bytes, containers: Collection[str], *, root_list: bool = True, block: int = BLOCK_BYTES
) -> Iterator[Any]:
    """Yield the items of the document's list: the root list, or the one container key's list.

    Args:
        content: The document's bytes (UTF-8).
        containers: Keys of a root object that may hold the list (``@graph``, ``objects`` …).
        root_list: Whether a list at the root is the list (else such a document is not streamed).
        block: Bytes decoded at a time.

    Raises:
        NotStreamableError: At any point, when the document is not of a streamed shape or not valid
            JSON; the items already given must then be discarded and the document read whole.
    """
    text = _Text(content, block)
    first = text.peek()
    if first == "[" and root_list:
        yield from _array(text)
    elif first == "{":
        yield from _members(text, containers)
    else:
        raise NotStreamableError
    if text.peek() != "":
        raise NotStreamableError  # something after the document
