"""A Typer command class that refuses two silent option-parsing surprises.

Click, on which Typer builds, quietly

* keeps the *last* value of an option given twice (``--maint high --maint low`` means ``low``),
* takes the next argument as an option's value even when that argument is another option
  (``--safety --model-dir m`` sets safety to ``'--model-dir'``, and the error then complains
  about ``'--model-dir'`` instead of the missing value).

:class:`StrictCommand` checks the raw arguments before Click parses them and stops with a usage
error (exit code 2) naming the option, in both cases.

It uses only Typer's public names. Typer up to 0.2x runs on the ``click`` package, later
releases on a private copy (``typer._click``), and pyproject allows both; the context's own
``fail`` raises whichever Click's usage error, so nothing here names either module.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperOption

# ``ctx`` below is the Click context of whichever Click Typer runs on (see the module docstring).


def _options(command: TyperCommand, ctx: Any) -> dict[str, TyperOption]:
    """Every spelling of every option of ``command`` (``--maint``, ``--help``...)."""
    names: dict[str, TyperOption] = {}
    for param in command.get_params(ctx):
        if isinstance(param, TyperOption):
            for name in (*param.opts, *param.secondary_opts):
                names[name] = param
    return names


def check_arguments(command: TyperCommand, ctx: Any, args: list[str]) -> None:
    """Raise a usage error for a repeated option or for an option lacking its value."""
    options = _options(command, ctx)
    seen: dict[str, tuple[str, str]] = {}
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            return
        name, equals, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        option = options.get(name)
        index += 1
        if option is None:
            continue
        value = inline
        if not option.is_flag and not equals:
            following = args[index] if index < len(args) else None
            if following is not None and following.partition("=")[0] in options:
                ctx.fail(
                    f"Option {name!r} requires a value, but the next argument is the option "
                    f"{following.partition('=')[0]!r}."
                )
            value = following if following is not None else ""
            index += 1
        if option.multiple or option.name is None:
            continue
        if option.name in seen:
            first = seen[option.name][1]
            shown = f" ({first!r}, then {value!r})" if not option.is_flag else ""
            ctx.fail(f"Option {name!r} is given more than once{shown}; give it once.")
        seen[option.name] = (name, value)


class StrictCommand(TyperCommand):
    """A Typer command that refuses repeated options and options whose value is missing."""

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        """Check the raw arguments, then parse them as usual."""
        check_arguments(self, ctx, args)
        return super().parse_args(ctx, args)
