"""Checking a chapter's parameters before any compute.

Every check raises :class:`ParameterError`, whose message names the parameter, the value it was given and what
is allowed, so a bad rerun fails in the first cells of a chapter rather than after minutes of encoding.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

SCALES = ("smoke", "pocket", "paper")


class ParameterError(ValueError):
    """A chapter parameter has a value that is not allowed."""

    def __init__(self, name: str, value: Any, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"parameter `{name}` = {value!r} is not allowed: {allowed}")


def choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ParameterError(name, value, "expected one of " + ", ".join(repr(a) for a in allowed))
    return value


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """An ``int`` (not a bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(name, value, "expected an integer")
    if minimum is not None and value < minimum:
        raise ParameterError(name, value, f"expected an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise ParameterError(name, value, f"expected an integer <= {maximum}")
    return value


def number(
    name: str, value: Any, minimum: float | None = None, maximum: float | None = None, above: float | None = None
) -> float:
    """A real number (not a bool) within ``[minimum, maximum]``, and ``> above`` when given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ParameterError(name, value, "expected a number")
    if above is not None and not value > above:
        raise ParameterError(name, value, f"expected a number > {above}")
    if minimum is not None and value < minimum:
        raise ParameterError(name, value, f"expected a number >= {minimum}")
    if maximum is not None and value > maximum:
        raise ParameterError(name, value, f"expected a number <= {maximum}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """A real ``True``/``False``."""
    if not isinstance(value, bool):
        raise ParameterError(name, value, "expected True or False")
    return value


def text(name: str, value: Any, allow_empty: bool = True) -> str:
    """A string (optionally non-empty)."""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ParameterError(name, value, "expected a non-empty string" if not allow_empty else "expected a string")
    return value


def seeds(name: str, value: Any, minimum_count: int = 1) -> list[int]:
    """A non-empty list of distinct non-negative integer seeds."""
    example = "e.g. [0, 1, 2, 3, 4]"
    if not isinstance(value, (list, tuple)):
        raise ParameterError(name, value, f"expected a list of integer seeds, {example}")
    if len(value) < minimum_count:
        raise ParameterError(name, value, f"expected at least {minimum_count} integer seed(s), {example}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ParameterError(name, value, f"every seed must be a non-negative integer, {example}")
        out.append(int(v))
    if len(set(out)) != len(out):
        raise ParameterError(name, value, f"seeds must be distinct, {example}")
    return out


def scale(value: Any) -> str:
    """The scale label: which of smoke / pocket / paper produced a page's numbers."""
    return choice("scale", value, SCALES)


def column(name: str, value: Any, available: Iterable[str]) -> str:
    """A column that the loaded table has."""
    available = list(available)
    if value not in available:
        raise ParameterError(name, value, "this table has the columns " + ", ".join(repr(a) for a in available))
    return value


# --------------------------------------------------------------------------------------------- declarations
def declare(default: Any, help: str, **rules) -> Any:
    """A dataclass field that carries its help text and the rules that check it (see :func:`check_declared`):
    ``minimum``, ``maximum``, ``above`` (numbers), ``choices``, ``nonempty`` (strings), or ``check`` (a function
    ``(name, value) -> value`` raising :class:`ParameterError`)."""
    import copy
    from dataclasses import field

    meta = dict(help=help, rules=rules)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def coerce(name: str, default: Any, value: Any) -> Any:
    """``value`` as the type of ``default`` (an int where a float is declared becomes a float); a value of another
    type is an error naming the parameter."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (
        default is not None
        and not isinstance(value, type(default))
        or (isinstance(value, bool) and not isinstance(default, bool))
    ):
        raise ParameterError(name, value, f"expected a {type(default).__name__} like {default!r}")
    return value


def check_declared(name: str, default: Any, value: Any, rules: dict) -> Any:
    """Check ``value`` against a declared parameter's rules (its type is the type of its default)."""
    if "check" in rules:
        return rules["check"](name, value)
    if isinstance(default, bool):
        return flag(name, value)
    if isinstance(default, int):
        return integer(name, value, rules.get("minimum"), rules.get("maximum"))
    if isinstance(default, float):
        return number(name, value, rules.get("minimum"), rules.get("maximum"), rules.get("above"))
    if isinstance(default, str):
        if "choices" in rules:
            return choice(name, value, rules["choices"])
        return text(name, value, allow_empty=not rules.get("nonempty", False))
    return value
