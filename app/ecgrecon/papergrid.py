"""ECG paper geometry in millimetres, shared by the screen viewer and the PDF printer.

Page coordinates: origin at the grid's top-left, x to the right, y downwards,
in mm. A trace sample at time ``t`` (s) and value ``v`` (mV) in a lead box
sits at ``x = box.x_mm + (t - box.t0_s) * speed`` and
``y = box.baseline_mm - v * gain``. Both front ends only scale mm to their
device (pixels from the screen's DPI, points in a PDF), so screen and print
agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .leads import CABRERA_12, STANDARD_12

SPEEDS_MM_S = (12.5, 25.0, 50.0)
GAINS_MM_MV = (5.0, 10.0, 20.0)
LAYOUTS = ("3x4", "6x2", "12x1")
ORDERS = ("standard", "cabrera")
MINOR_MM = 1.0
MAJOR_MM = 5.0
CAL_MV = 1.0
CAL_S = 0.2


@dataclass(frozen=True)
class PaperSpec:
    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0

    def describe(self) -> str:
        return f"{self.speed_mm_s:g} mm/s, {self.gain_mm_mv:g} mm/mV"


@dataclass(frozen=True)
class LeadBox:
    lead: str  # may be "-aVR" (Cabrera); see lead_signal()
    row: int
    col: int
    x_mm: float  # left edge of the trace area (after the calibration pulse)
    y_mm: float  # top of the row
    width_mm: float
    height_mm: float
    baseline_mm: float  # y of 0 mV
    t0_s: float  # recording time at the box's left edge
    t1_s: float
    rhythm: bool = False

    def to_mm(self, t: np.ndarray, v_mv: np.ndarray, spec: PaperSpec) -> tuple[np.ndarray, np.ndarray]:
        x = self.x_mm + (np.asarray(t) - self.t0_s) * spec.speed_mm_s
        return x, self.baseline_mm - np.asarray(v_mv) * spec.gain_mm_mv


@dataclass(frozen=True)
class CalPulse:
    row: int
    x_mm: float  # left of the pulse
    baseline_mm: float
    width_mm: float  # CAL_S * speed
    height_mm: float  # CAL_MV * gain

    def path_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """A square 1 mV x 200 ms pulse with 1 mm of baseline on each side."""
        x0, w, h, b = self.x_mm, self.width_mm, self.height_mm, self.baseline_mm
        xs = np.array([x0 - 1.0, x0, x0, x0 + w, x0 + w, x0 + w + 1.0])
        ys = np.array([b, b, b - h, b - h, b, b])
        return xs, ys


@dataclass(frozen=True)
class PageGeometry:
    layout: str
    order: str
    spec: PaperSpec
    width_mm: float  # grid area, a whole number of 5 mm squares
    height_mm: float
    boxes: tuple[LeadBox, ...]
    pulses: tuple[CalPulse, ...]
    page_start_s: float
    page_seconds: float  # recording time the page covers

    def grid_lines(self, step_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """x positions of vertical and y positions of horizontal lines every ``step_mm``."""
        xs = np.arange(0.0, self.width_mm + 1e-9, step_mm)
        ys = np.arange(0.0, self.height_mm + 1e-9, step_mm)
        return xs, ys

    def box(self, lead: str, rhythm: bool = False) -> LeadBox:
        for b in self.boxes:
            if b.lead == lead and b.rhythm == rhythm:
                return b
        raise KeyError(lead)


def lead_order(order: str) -> tuple[str, ...]:
    if order not in ORDERS:
        raise ValueError(f"lead order must be one of {ORDERS}")
    return CABRERA_12 if order == "cabrera" else STANDARD_12


def lead_signal(signals: Any, name: str) -> np.ndarray:
    """Signal for a box's lead name; "-aVR" is aVR inverted (Cabrera display). ``signals``: a Recording
    (anything with ``.lead(name)``) or a dict of arrays."""
    get = signals.lead if hasattr(signals, "lead") else signals.__getitem__
    if name.startswith("-"):
        return -np.asarray(get(name[1:]))
    return np.asarray(get(name))


def page_seconds_for(layout: str, spec: PaperSpec, width_mm: float) -> float:
    """Recording seconds that fit on the trace width (10 s at 25 mm/s on A4)."""
    cal = cal_zone_mm(spec)
    return min(10.0, max(1.0, (width_mm - cal) / spec.speed_mm_s))


def cal_zone_mm(spec: PaperSpec) -> float:
    """Width reserved at each row's left for the calibration pulse, whole 5 mm squares."""
    need = CAL_S * spec.speed_mm_s + 4.0
    return float(np.ceil(need / MAJOR_MM) * MAJOR_MM)


def build_page(layout: str = "3x4", *, order: str = "standard", spec: PaperSpec = PaperSpec(),
               width_mm: float = 280.0, height_mm: float = 160.0, page_start_s: float = 0.0,
               rhythm_lead: str = "II", page_seconds: float | None = None) -> PageGeometry:
    """Place every lead box for a layout on a grid area of the given size.

    In 3x4 each column shows its own consecutive quarter of the page's time
    (0-2.5, 2.5-5, 5-7.5, 7.5-10 s at 25 mm/s), as on a standard printout, and
    the rhythm strip below shows the whole page time.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}")
    leads = lead_order(order)
    w = float(np.floor(width_mm / MAJOR_MM) * MAJOR_MM)
    h = float(np.floor(height_mm / MAJOR_MM) * MAJOR_MM)
    cal = cal_zone_mm(spec)
    secs = page_seconds if page_seconds is not None else page_seconds_for(layout, spec, w)
    trace_w = secs * spec.speed_mm_s
    if layout == "3x4":
        n_cols, n_rows, rhythm = 4, 3, True
        grid = [[leads[c * 3 + r] for c in range(4)] for r in range(3)]
    elif layout == "6x2":
        n_cols, n_rows, rhythm = 2, 6, False
        grid = [[leads[r], leads[6 + r]] for r in range(6)]
    else:
        n_cols, n_rows, rhythm = 1, 12, False
        grid = [[leads[r]] for r in range(12)]
    total_rows = n_rows + (1 if rhythm else 0)
    row_h = h / total_rows
    col_w = trace_w / n_cols
    col_s = secs / n_cols
    boxes: list[LeadBox] = []
    pulses: list[CalPulse] = []
    for r in range(total_rows):
        y0 = r * row_h
        # baseline a little below the row middle: QRS complexes point up more than down
        base = y0 + row_h * 0.6
        pulses.append(CalPulse(r, (cal - CAL_S * spec.speed_mm_s) / 2, base, CAL_S * spec.speed_mm_s,
                               CAL_MV * spec.gain_mm_mv))
        if r < n_rows:
            for c in range(n_cols):
                t0 = page_start_s + c * col_s
                boxes.append(LeadBox(grid[r][c], r, c, cal + c * col_w, y0, col_w, row_h, base, t0, t0 + col_s))
        else:
            boxes.append(LeadBox(rhythm_lead, r, 0, cal, y0, trace_w, row_h, base, page_start_s,
                                 page_start_s + secs, rhythm=True))
    return PageGeometry(layout, order, spec, w, h, tuple(boxes), tuple(pulses), page_start_s, secs)


def decimate_minmax(y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max per bin, interleaved: ``2*n_bins`` points that keep every peak.

    Returns (index positions, values); used by the screen to draw hours of
    data at one or two points per pixel.
    """
    y = np.asarray(y)
    n = y.size
    if n_bins <= 0 or n <= 2 * n_bins:
        return np.arange(n, dtype=float), y
    edges = np.linspace(0, n, n_bins + 1).astype(int)
    lo = np.minimum.reduceat(y, edges[:-1])
    hi = np.maximum.reduceat(y, edges[:-1])
    pos = np.repeat((edges[:-1] + edges[1:]) / 2.0, 2)
    vals = np.empty(2 * n_bins, dtype=y.dtype)
    vals[0::2] = lo
    vals[1::2] = hi
    return pos, vals
