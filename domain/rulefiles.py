"""What the rule files share (规则文件加载): deadline rules (``domain.deadlines``) and risk rules
(``domain.risk``) are both TOML lists of rules with ids, validated by a pydantic model, and may
extend the shipped defaults (``include_defaults``) and drop some of them (``disable``). Each
error names the file, the rule and the key. Every configuration file (these, the sources file,
the calendar overrides) is read as UTF-8 by :func:`read_utf8`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

from pydantic import ValidationError


class RuleModel(Protocol):
    @property
    def id(self) -> str: ...

    @classmethod
    def model_validate(cls, obj: Any) -> Self: ...


R = TypeVar("R", bound=RuleModel)


def read_utf8(path: Path, error: type[Exception]) -> str:
    """The text of a configuration file, without the byte-order mark Notepad may write first;
    one that is not UTF-8 (an editor on Chinese Windows saves GBK) raises ``error`` naming
    the file and where its first bad byte is, not a traceback. ``OSError`` (missing,
    unreadable) is left to the caller."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}: not UTF-8 text (line {line} holds byte "
                    f"0x{data[exc.start]:02x}, GBK perhaps): save it as UTF-8") from None


def validated_rules(
    model: type[R],
    raw_rules: Sequence[dict[str, Any]],
    where: str,
    error: type[Exception],
    describe: Callable[[Any], str],
) -> Iterator[R]:
    """Each raw rule validated by ``model``; a bad or repeated one raises ``error``."""
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules, start=1):
        name = f"rule {raw['id']!r}" if isinstance(raw.get("id"), str) else f"rule #{index}"
        try:
            rule = model.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(describe(problem) for problem in exc.errors())
            raise error(f"{where}: {name}: {problems}") from None
        if rule.id in seen:
            raise error(f"{where}: rule {rule.id!r} is defined twice")
        seen.add(rule.id)
        yield rule


def disable_rules(
    rules: dict[str, Any], disable: Any, include: bool, where: str, error: type[Exception]
) -> None:
    """Drop the rule ids ``disable`` names (only over the shipped defaults)."""
    if not disable:
        return
    if not include:
        raise error(f"{where}: disable needs include_defaults = true")
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        raise error(f"{where}: disable must be a list of rule ids")
    for rule_id in disable:
        if rules.pop(rule_id, None) is None:
            raise error(f"{where}: disable names unknown rule {rule_id!r}")
