"""What a gradient check found: thresholds, the per-tensor result and the report (text and HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import torch

GOOD = 1e-7  # r ≤ GOOD: pass
KINK_OK = 1e-4  # GOOD < r ≤ KINK_OK: acceptable only for functions with kinks
WRONG = 1e-2  # r > WRONG: wrong
EPS64 = torch.finfo(torch.float64).eps  # 2.2e-16
NOISE_ULPS = 8  # rounding allowed per differenced value, in units of its last place (generous on purpose)

FLOAT32_WHY = (
    "checked on float64 copies: a centred difference in float32 cannot resolve gradients "
    "(rounding ~1.2e-7·|f| divided by 2·eps swamps the result for small eps, truncation error "
    "grows for large eps; nothing better than ~1e-3 relative). The check verifies the maths, "
    "not float32 rounding in your code."
)


class GradcheckWarning(UserWarning):
    """A gradient check found something to be careful about (float32 inputs, kinks)."""


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

@dataclass
class TensorCheck:
    """The comparison for one tensor: its worst element and the verdict."""

    name: str
    shape: tuple
    checked: int  # elements compared (all, or a seeded sample of max_samples)
    total: int
    max_rel_error: float  # over elements not excused by a kink
    index: tuple | None  # worst element
    analytic: float  # a at the worst element
    numeric: float  # n at the worst element
    floor: float  # the denominator floor at the worst element
    status: str  # "pass" | "suspicious" | "wrong"
    kinks: int = 0  # elements whose mismatch a kink explains (left out of the verdict)
    kink_index: tuple | None = None

    @property
    def ok(self) -> bool:
        return self.status == "pass"


def _verdict_text(c: TensorCheck) -> str:
    if c.status == "pass":
        return ""
    where = f"{c.name}{list(c.index)}" if c.index is not None else c.name
    if c.status == "wrong":
        return (f"{c.name}: WRONG -- at {where} the analytic gradient is {c.analytic:.6g} but the numerical one is "
                f"{c.numeric:.6g} (relative error {c.max_rel_error:.1e} > {WRONG:.0e}). Check this gradient's "
                "formula: a missing transpose, a factor, a sum over the wrong axis, a padding offset.")
    if c.checked == c.kinks:
        return f"{c.name}: suspicious -- every checked element straddles a kink; move the inputs away from the kinks."
    hint = ("normal only if the function has kinks (ReLU, max, hinge) near these inputs"
            if c.max_rel_error <= KINK_OK else "probably a bug")
    return (f"{c.name}: suspicious -- at {where} analytic {c.analytic:.6g} vs numerical {c.numeric:.6g} "
            f"(relative error {c.max_rel_error:.1e}); {hint}.")


@dataclass
class GradcheckReport:
    """Result of a gradient check; ``.ok`` is True when every tensor passes.

    Print it (or show it in a notebook) for a per-tensor table; ``report[name]`` gives one
    :class:`TensorCheck`; ``report.failed`` lists the names that did not pass.
    """

    what: str
    checks: list[TensorCheck]
    eps: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def __getitem__(self, name: str) -> TensorCheck:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no tensor named {name!r} in this report; it has {[c.name for c in self.checks]}.")

    def assert_ok(self) -> "GradcheckReport":
        """Raise ``AssertionError`` with the full report unless every tensor passes."""
        if not self.ok:
            raise AssertionError("\n" + str(self))
        return self

    def _rows(self):
        for c in self.checks:
            yield (c.name, str(tuple(c.shape)), f"{c.checked}/{c.total}", f"{c.max_rel_error:.1e}",
                   "" if c.index is None else str(tuple(c.index)), f"{c.analytic:.6g}", f"{c.numeric:.6g}",
                   str(c.kinks) if c.kinks else "", c.status if c.status == "pass" else c.status.upper())

    _HEAD = ("tensor", "shape", "checked", "max rel err", "worst at", "analytic", "numerical", "kinks", "verdict")

    def __str__(self) -> str:
        rows = [self._HEAD, *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._HEAD))]
        lines = [f"gradcheck {self.what}: {'ok' if self.ok else 'FAILED'} (eps={self.eps:g}, float64)"]
        lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        lines += ["  " + _verdict_text(c) for c in self.checks if not c.ok]
        lines += ["  note: " + n for n in self.notes]
        lines.append(f"  relative error |a-n|/max(|a|,|n|,floor): pass <= {GOOD:.0e}; suspicious up to {WRONG:.0e} "
                     f"(<= {KINK_OK:.0e} is normal only at kinks); wrong above {WRONG:.0e}.")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _repr_html_(self) -> str:
        colour = {"pass": "#1a7f37", "suspicious": "#9a6700", "wrong": "#cf222e"}
        head = "".join(f"<th>{h}</th>" for h in self._HEAD)
        body = ""
        for c, row in zip(self.checks, self._rows()):
            cells = "".join(f"<td>{html.escape(v)}</td>" for v in row[:-1])
            cells += f'<td style="color:{colour[c.status]};font-weight:bold">{row[-1]}</td>'
            body += f"<tr>{cells}</tr>"
        extra = "".join(f"<li>{html.escape(t)}</li>" for t in [_verdict_text(c) for c in self.checks if not c.ok])
        extra += "".join(f"<li>note: {html.escape(n)}</li>" for n in self.notes)
        title = (f"gradcheck {html.escape(self.what)}: <b>{'ok' if self.ok else 'FAILED'}</b> "
                 f"(eps={self.eps:g}, float64)")
        legend = (f"relative error |a−n|/max(|a|,|n|,floor): pass ≤ {GOOD:.0e}; suspicious up to {WRONG:.0e} "
                  f"(≤ {KINK_OK:.0e} is normal only at kinks); wrong above {WRONG:.0e}.")
        return (f"<div><p>{title}</p><table><tr>{head}</tr>{body}</table>"
                f"{'<ul>' + extra + '</ul>' if extra else ''}<p><small>{legend}</small></p></div>")
