"""Reading sources.yaml safely: duplicate keys refused, alias expansion bounded, errors with line and column."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Values a configuration may expand to, aliases followed. A real sources.yaml of 500 sources is
# about 20,000; a "billion laughs" of nested aliases is stopped here, before anything walks it.
MAX_VALUES = 200_000


class YamlError(ValueError):
    """The YAML cannot be read safely; the message gives the line and column."""


def _where(node: Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (the second would silently win)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' merges, and explicit keys override it: that is no repeat
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list):
                continue  # unhashable: SafeLoader reports it itself
            if key in seen:
                raise YamlError(
                    f"{_where(key_node)}: duplicate key {key!r} (first at {_where(seen[key])}); "
                    "the second would silently replace the first"
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: Node, limit: int) -> int:
    """How many values ``root`` stands for with every alias expanded, counting no further than ``limit``."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            break
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif not isinstance(node, ScalarNode):
            continue
    return count


def load_yaml(text: str, limit: int = MAX_VALUES) -> Any:
    """The YAML document in ``text`` as Python objects.

    Raises:
        YamlError: For a syntax error, a duplicate key, or a document that expands (aliases
            followed) to more than ``limit`` values; the message says where.
    """
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if _expanded_size(root, limit) > limit:
            raise YamlError(
                f"{_where(root)}: the document expands to more than {limit:,} values once its aliases "
                "are followed (nested anchors and aliases?); write the values out or use 'defaults:'"
            )
        return loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise YamlError(f"{at}not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
