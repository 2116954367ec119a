"""Plain-text tables for the benchmark's results."""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

RESULTS_FILE = Path("bench-results") / "latest.txt"
CALENDAR_FILE = Path("bench-results") / "calendar.txt"  # `--only calendar` writes here, leaving the full report
KB = 1024
# A page whose p50 grows by more than this with the data (big over small, 5,000 posts over 100) is flagged.
RATIO_LIMIT = 1.5


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = ()) -> list[str]:
    """Rows under headers, columns padded to fit; the `numeric` columns are right-aligned."""
    cells = [[str(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            value.rjust(widths[i]) if i in numeric else value.ljust(widths[i]) for i, value in enumerate(row)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(cells[0]), rule, *(line(row) for row in cells[1:])]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0.5: median, 0.95: 95th percentile)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(value: float) -> str:
    """Milliseconds, to a tenth."""
    return f"{value:.1f}"


def us(value: float) -> str:
    """Microseconds, to a tenth, with thousands separators."""
    return f"{value:,.1f}"


def kb(size: float) -> str:
    """Bytes in KB (1,024 bytes), to a tenth."""
    return f"{size / KB:,.1f}"


def ratio(numerator: float, denominator: float) -> float:
    """`numerator` over `denominator`, infinite when the denominator is nothing."""
    return numerator / denominator if denominator > 0 else math.inf


def flagged_ratio(value: float) -> str:
    """A ratio to two decimals, followed by "!" when it is over RATIO_LIMIT."""
    return f"{value:.2f}" + (" !" if value > RATIO_LIMIT else "")


def write(lines: list[str], path: Path = RESULTS_FILE) -> Path:
    """Write the report to `path` (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
