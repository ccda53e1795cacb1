"""JSON from clients, parsed with a nesting limit so no later walk over it can exhaust the stack."""

from __future__ import annotations

import json
from typing import Any

# Rails parses CC's JSON bodies with Ruby's JSON default max_nesting of 100; deeper is a parse error.
MAX_DEPTH = 100


class JsonRejected(ValueError):
    """Not JSON, or nested deeper than MAX_DEPTH."""


def loads_bounded(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise JsonRejected(str(e)[:100]) from None
    if _deeper_than(value, max_depth):
        raise JsonRejected(f"nested deeper than {max_depth}")
    return value


def _deeper_than(value: Any, max_depth: int) -> bool:
    # Iterative on purpose: a recursive walk would fail on exactly the inputs this guards against.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
