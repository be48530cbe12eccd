"""Tables that put our numbers beside reference numbers (never instead of them), formatted to fit the page.

Chapters print tables through :func:`show` (or :func:`style`, which returns the pandas ``Styler``)::

    tables.show(df)                                    # one decimal count per column (see below)
    tables.show(df, formats={"STSB": 2, "step": "d"}, caption="Spearman ×100")  # 2 decimals; an integer
    tables.show(wide, transpose_if_wider_than=7)       # more than 7 columns: settings become columns
    tables.show(wide, split_every=6)                   # or: several tables of at most 6 columns each
    tables.mean_sd(18.7851, 0.00031)                   # '18.78510 ± 0.00031': the mean to the sd's last digit

A column is read down, so its numbers share one number of decimals (:func:`format_column`): enough for 4
significant digits in the largest and 2 in the smallest, written alike (0.9550 / 0.9031 / 0.0048, not 0.955 /
0.9031 / 0.004808; 67.00 beside 66.53, not 67). A column whose values span more than four orders of magnitude
holds different quantities (a transposed table): each of its numbers keeps its own 4 significant digits
(:func:`fmt`). Numbers are right-aligned in tabular figures, text wraps, short row and column labels do not
("batch 16" stays on one line; ``book/_static/srl.css``: ``table.srl-table``).
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Mapping

MISSING = "—"


# --------------------------------------------------------------------------------------------- numbers
def fmt(x, digits: int = 4, sign: bool = False) -> str:
    """One number as a reader wants it: ``digits`` significant digits without trailing zeros (0.9550 -> 0.955,
    0.001000 -> 0.001), scientific below 1e-3 and from 1e6 (1e-5, 2.5e-4), integers as integers; None/NaN -> —.
    ``sign`` writes a + before positive numbers (differences)."""
    if x is None or isinstance(x, str):
        return MISSING if x is None else x
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return f"{x:+d}" if sign else str(int(x))
    x = float(x)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return ("+" if sign and x > 0 else "") + ("∞" if x > 0 else "−∞")
    plus = "+" if sign and x > 0 else ""
    if x == 0:
        return "0"
    mag = abs(x)
    if mag < 1e-3 or mag >= 1e6:
        mantissa, exp = f"{x:.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{plus}{mantissa}e{int(exp)}"
    decimals = max(0, digits - 1 - math.floor(math.log10(mag)))
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return plus + ("0" if text in ("-0", "") else text)


MAX_DECIMALS = 6  # beyond this a column is written in scientific notation
MIXED_SPAN = 1e4  # a column whose nonzero magnitudes span more than this holds different quantities
NOWRAP_LABEL = 16  # row and column labels up to this many characters are kept on one line


def column_decimals(values, digits: int = 4) -> int | None:
    """The one number of decimals a column of ``values`` is written with: ``digits`` significant digits for its
    largest magnitude and at least 2 for its smallest nonzero one; 0 when every value is a whole number; None
    (scientific notation) when that needs more than :data:`MAX_DECIMALS`."""
    mags = [abs(float(v)) for v in values if _is_number(v) and not _missing(v) and math.isfinite(float(v))]
    if not mags or all(float(m).is_integer() for m in mags):
        return 0
    nonzero = [m for m in mags if m > 0]
    if not nonzero:
        return 0
    big = digits - 1 - math.floor(math.log10(max(nonzero)))
    small = 1 - math.floor(math.log10(min(nonzero)))
    decimals = max(big, small, 0)
    return decimals if decimals <= MAX_DECIMALS else None


def mixed(values) -> bool:
    """Whether a column's nonzero magnitudes span more than :data:`MIXED_SPAN` (different quantities in one
    column, as a transposed table has)."""
    nonzero = [abs(float(v)) for v in values if _is_number(v) and not _missing(v) and float(v) != 0]
    nonzero = [m for m in nonzero if math.isfinite(m)]
    return bool(nonzero) and max(nonzero) / min(nonzero) > MIXED_SPAN


def format_column(values, digits: int = 4, sign: bool = False) -> list[str]:
    """A column's numbers written alike (:func:`column_decimals`), dropping the trailing zeros every number has;
    None/NaN -> —; a column of different quantities (:func:`mixed`) number by number (:func:`fmt`)."""
    values = list(values)
    numbers = [float(v) for v in values if _ok(v)]
    decimals = column_decimals(numbers, digits)
    if decimals is None or mixed(numbers):
        return [fmt(v, digits, sign) if _is_number(v) or v is None else str(v) for v in values]
    spec = f"{'+' if sign else ''}.{decimals}f"
    written = [format(x, spec) if math.isfinite(x) and x != 0 else None for x in numbers]
    shown = [i for i, w in enumerate(written) if w is not None]
    while decimals > 0 and shown and all(written[i].endswith("0") for i in shown):
        decimals -= 1
        for i in shown:
            written[i] = written[i][:-1].rstrip(".") if decimals == 0 else written[i][:-1]
    zero = f"{0:.{decimals}f}"
    written = iter([w if w is not None else (zero if x == 0 else fmt(x, sign=sign)) for w, x in zip(written, numbers)])
    return [next(written) if _ok(v) else (MISSING if _missing(v) else str(v)) for v in values]


def _ok(v) -> bool:
    return _is_number(v) and not _missing(v)


def mean_sd(mean, sd, sd_digits: int = 2) -> str:
    """``mean ± sd``, the sd to ``sd_digits`` significant digits and the mean to the same decimal place (18.785 ±
    0.000 says nothing; 18.78510 ± 0.00031 does). An sd of 0 is written 0, the mean then to 4 significant digits."""
    if _missing(mean):
        return MISSING
    if _missing(sd):
        return f"{fmt(mean)} ± {MISSING}"
    sd = abs(float(sd))
    if sd == 0 or not math.isfinite(sd):
        return f"{fmt(mean)} ± {fmt(sd)}"
    decimals = max(0, sd_digits - 1 - math.floor(math.log10(sd)))
    if decimals > MAX_DECIMALS + 2:
        return f"{fmt(mean)} ± {fmt(sd, sd_digits)}"
    return f"{float(mean):.{decimals}f} ± {sd:.{decimals}f}"


def _formatter(spec, digits: int) -> Callable[[object], str]:
    """``spec``: None (significant digits), an int (that many decimals, fixed: STS scores), a format spec such as
    ``".2f"``, ``"+.3f"`` or ``"d"``, ``"+"`` (significant digits with a sign), or a callable."""
    if callable(spec):
        return lambda v: MISSING if _missing(v) else spec(v)
    if spec is None:
        return lambda v: fmt(v, digits)
    if spec == "+":
        return lambda v: fmt(v, digits, sign=True)
    if isinstance(spec, int) and not isinstance(spec, bool):
        return lambda v: MISSING if _missing(v) else (v if isinstance(v, str) else f"{float(v):.{spec}f}")
    if spec == "d":
        return lambda v: MISSING if _missing(v) else (v if isinstance(v, str) else f"{int(round(float(v)))}")
    return lambda v: MISSING if _missing(v) else (v if isinstance(v, str) else format(v, spec))


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _is_number(v) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


# --------------------------------------------------------------------------------------------- tables
def formatted(df, formats: Mapping[str, object] | None = None, digits: int = 4):
    """``(text, classes)``: ``df`` as strings, and a same-shaped frame of CSS classes (``num`` for numbers,
    ``text`` otherwise) that survives a transpose."""
    import pandas as pd

    formats = dict(formats or {})
    text, classes = {}, {}
    for col in df.columns:
        spec = formats.get(col, formats.get(str(col)))
        values = df[col].tolist()
        if spec is None or spec == "+":  # the column's numbers written alike
            column = iter(format_column([v for v in values if _is_number(v)], digits, sign=spec == "+"))
            text[col] = [MISSING if _missing(v) else (next(column) if _is_number(v) else str(v)) for v in values]
        else:
            f = _formatter(spec, digits)
            text[col] = [
                MISSING if _missing(v) else (f(v) if _is_number(v) or callable(spec) else str(v)) for v in values
            ]
        classes[col] = ["num" if _is_number(v) or _missing(v) else "text" for v in values]
    return (
        pd.DataFrame(text, index=df.index, columns=df.columns),
        pd.DataFrame(classes, index=df.index, columns=df.columns),
    )


def style(
    df,
    formats: Mapping[str, object] | None = None,
    digits: int = 4,
    caption: str | None = None,
    index: bool | None = None,
    transpose_if_wider_than: int | None = None,
    css_class: str = "srl-table",
):
    """A pandas ``Styler`` of ``df`` for the page: numbers formatted by :func:`fmt` (or ``formats``: column ->
    decimals / format spec / callable, see :func:`_formatter`), the index hidden when it is a plain 0..n-1
    range (``index`` forces it), an optional ``caption``, and -- when ``df`` has more columns than
    ``transpose_if_wider_than`` and fewer rows than columns -- rows and columns swapped so that a wide table becomes
    a long one (a table with more rows than columns would only get wider: split it with :func:`show` instead)."""
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    text, classes = formatted(df, formats, digits)
    show_index = index if index is not None else not _plain_index(df.index)
    if transpose_if_wider_than is not None and df.shape[1] > max(transpose_if_wider_than, df.shape[0]):
        if not show_index:  # the rows need names once they are columns
            text.index = classes.index = [str(i + 1) for i in range(len(text))]
        text, classes = text.T, classes.T
        show_index = True
    styler = text.style.set_td_classes(classes).set_table_attributes(f'class="{css_class}"')
    for axis in ("index", "columns"):  # a short label ("batch 16") is never broken over two lines
        styler = styler.map_index(_nowrap, axis=axis)
    if caption:
        styler = styler.set_caption(caption)
    if not show_index:
        styler = styler.hide(axis="index")
    return styler


def show(
    df,
    formats: Mapping[str, object] | None = None,
    digits: int = 4,
    caption: str | None = None,
    index: bool | None = None,
    transpose_if_wider_than: int | None = None,
    split_every: int | None = None,
):
    """Display ``df`` as :func:`style` formats it. ``split_every``: at most that many columns per table (the index
    repeated in each), for a wide table that should keep its orientation. An empty table is said in words."""
    from IPython.display import Markdown, display

    if df.empty:
        display(Markdown(f"*{caption or 'The table'}: nothing to show for these parameters.*"))
        return
    if split_every and df.shape[1] > split_every:
        for start in range(0, df.shape[1], split_every):
            part = df.iloc[:, start : start + split_every]
            display(style(part, formats, digits, caption if start == 0 else None, index))
        return
    display(style(df, formats, digits, caption, index, transpose_if_wider_than))


def _nowrap(label) -> str:
    return "white-space: nowrap" if len(str(label)) <= NOWRAP_LABEL else ""


def _plain_index(index) -> bool:
    import pandas as pd

    return isinstance(index, pd.RangeIndex) and index.name is None and index.start == 0 and index.step == 1


# --------------------------------------------------------------------------------------------- chapter tables
def side_by_side(ours: list[dict], reference: list[dict], metrics: tuple[str, ...]):
    """A long table: layer, metric, ours, reference, difference (ours - reference), one row per layer and metric."""
    import pandas as pd

    ref = {(r["layer"], m): r[m] for r in reference for m in metrics if m in r}
    rows = [
        dict(layer=r["layer"], metric=m, ours=r[m], reference=ref.get((r["layer"], m))) for r in ours for m in metrics
    ]
    df = pd.DataFrame(rows)
    df["difference"] = df["ours"] - df["reference"].astype(float)
    return df


def provenance(saved, scale: str, **rows):
    """The table every chapter ends with, read back from the ``results.json`` it wrote: the scale, the models
    (name, source, weights fingerprint), the chapter's own ``rows`` (keyword = row label, underscores as spaces),
    the device, the commit (flagged when the tree had uncommitted changes), when it started and how long it took.
    A compact two-column table (a ``Styler``; its frame is ``.data``)."""
    import pandas as pd

    from .results import read

    prov = read(saved)["provenance"]
    models = "; ".join(f"{m['name']} ({m['source']}, weights {m['weights_sha256'][:12]}…)" for m in prov["models"])
    device = prov["device"]
    table = {
        "scale": scale,
        **({"models": models} if models else {}),
        **{k.replace("_", " "): v for k, v in rows.items()},
        "device": f"{device['device']} ({device['torch_threads']} threads)"
        + (f", {device['gpu']}" if device.get("gpu") else ""),
        "git commit": prov["git"]["commit"][:12] + (" (uncommitted changes)" if prov["git"]["dirty"] else ""),
        "started": prov["started_at"],
        "wall time": f"{prov['wall_time_s']:.1f} s",
    }
    frame = pd.Series({k: str(v) for k, v in table.items()}, name="value").to_frame()
    return (
        frame.style.set_table_attributes('class="srl-table srl-kv"')
        .set_td_classes(pd.DataFrame("text", index=frame.index, columns=frame.columns))
        .hide(axis="columns")
    )
