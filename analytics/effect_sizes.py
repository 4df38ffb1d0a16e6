"""Effect sizes with confidence intervals for group comparisons.

* :func:`hedges_g` — bias-corrected standardised mean difference of two independent groups
  (pooled SD; correction ``1 − 3/(4(n₁+n₂) − 9)``), interval ``g ± t₍α/2, n₁+n₂−2₎·SE`` with
  ``SE = √((n₁+n₂)/(n₁n₂) + g²/(2(n₁+n₂)))`` — as ``pingouin.compute_effsize(x, y,
  eftype="hedges")`` and ``pingouin.compute_esci(g, nx, ny, eftype="hedges")``.
* :func:`rank_biserial` — ``r = 2·U₁/(n₁n₂) − 1`` (positive when ``x`` tends to be larger; as
  pingouin's ``RBC``), interval by a stratified percentile bootstrap.
* :func:`epsilon_squared` — ``ε²_R = H·(n+1)/(n²−1)`` for Kruskal–Wallis (Tomczak & Tomczak
  2014), bootstrap interval.
* :func:`eta_squared` — ``SS_between / SS_total`` of a one-way ANOVA, bootstrap interval.

Bootstrap intervals resample within each group (sizes kept), are seeded, and use
``numpy.percentile``. The rank statistics (r, ε²) rank the pooled sample once: a resample only
changes how often each distinct value occurs in each group, and the mid-rank of a value is
``(values below) + (count + 1)/2`` in the resample's pooled counts — so each resample's U or H
follows from a row of counts (:func:`_resample_counts`), chunk by chunk, with the same draws
as :func:`stratified_bootstrap` (same seed, same resamples, the same interval to rounding).

>>> round(hedges_g([5, 6, 7, 8], [3, 4, 5, 6]).value, 4)
1.3471
>>> rank_biserial([5, 6, 7, 8], [1, 2, 3, 4], n_boot=0).value
1.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from .reliability import percentile_ci


@dataclasses.dataclass(frozen=True)
class EffectSize:
    name: str
    value: float
    ci_low: float
    ci_high: float
    ci_method: str

    def as_dict(self) -> dict[str, float | str]:
        return dataclasses.asdict(self)


def _clean(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[np.isfinite(arr)]


def stratified_bootstrap(
    groups: Sequence[np.ndarray],
    statistic: Callable[[list[np.ndarray]], float],
    n_boot: int = 2000,
    seed: int | None = 0,
) -> np.ndarray:
    """``statistic`` of ``n_boot`` resamples drawn with replacement within each group."""
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):
        sample = [g[rng.integers(0, len(g), len(g))] for g in groups]
        try:
            out[b] = statistic(sample)
        except (ValueError, ZeroDivisionError, FloatingPointError):
            out[b] = np.nan
    return out


#: Resamples whose counts are turned into statistics at once (a chunk of ``B × distinct
#: values`` counts per group: 250 × 10,000 values is 20 MB).
CHUNK = 250


def _resample_counts(groups: Sequence[np.ndarray], n_boot: int, seed: int | None):
    """Each group's counts of the pooled sample's distinct values in each resample, chunk by
    chunk (per chunk a list over groups of ``chunk × distinct`` arrays). The row indexes are
    :func:`stratified_bootstrap`'s (:func:`_stratified_draws`), so both see the same
    resamples."""
    _, codes = np.unique(np.concatenate(groups), return_inverse=True)
    k = int(codes.max()) + 1
    bounds = np.cumsum([0, *(len(g) for g in groups)])
    group_codes = [codes[bounds[i] : bounds[i + 1]] for i in range(len(groups))]
    draws = _stratified_draws(tuple(len(c) for c in group_codes), n_boot, seed)
    for start in range(0, n_boot, CHUNK):
        b = min(CHUNK, n_boot - start)
        offsets = (np.arange(b, dtype=np.int64) * k)[:, None]
        yield [
            np.bincount((c[d[start : start + b]] + offsets).ravel(), minlength=b * k).reshape(b, k)
            for c, d in zip(group_codes, draws, strict=True)
        ]


def _stratified_draws(
    sizes: tuple[int, ...], n_boot: int, seed: int | None
) -> tuple[np.ndarray, ...]:
    """Per group, the row indexes of each resample (``n_boot × size``), drawn as
    :func:`stratified_bootstrap` draws them: resample by resample, group by group, from one
    generator. They depend only on the group sizes, the count and the seed, so the subscales
    of one questionnaire compared by the same attribute share one seeded draw (the last two are
    kept, read-only)."""
    if isinstance(seed, int | np.integer):
        return _seeded_stratified_draws(sizes, n_boot, int(seed))
    return _draw_stratified(sizes, n_boot, seed)


@functools.lru_cache(maxsize=2)
def _seeded_stratified_draws(sizes: tuple[int, ...], n_boot: int, seed: int):
    draws = _draw_stratified(sizes, n_boot, seed)
    for d in draws:
        d.flags.writeable = False
    return draws


def _draw_stratified(sizes: tuple[int, ...], n_boot: int, seed) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    draws = tuple(
        np.empty((n_boot, size), dtype=np.uint16 if size <= 2**16 else np.int64) for size in sizes
    )
    for row in range(n_boot):
        for size, d in zip(sizes, draws, strict=True):
            d[row] = rng.integers(0, size, size)
    return draws


def _midranks(total: np.ndarray) -> np.ndarray:
    """Mid-rank of each distinct value given the pooled counts (rows: resamples)."""
    below = np.cumsum(total, axis=1) - total
    return below + (total + 1) / 2


def _rank_sums(counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each group's rank sum in each resample (``groups × chunk``) and the pooled counts."""
    total = sum(counts[1:], counts[0])
    ranks = _midranks(total)
    return np.stack([(c * ranks).sum(axis=1) for c in counts]), total


def _rbc_boot(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int | None) -> np.ndarray:
    """:func:`_rbc` of each of :func:`stratified_bootstrap`'s resamples of ``(x, y)``."""
    nx, ny = len(x), len(y)
    out = []
    for counts in _resample_counts([x, y], n_boot, seed):
        sums, _ = _rank_sums(counts)
        out.append(2 * (sums[0] - nx * (nx + 1) / 2) / (nx * ny) - 1)
    return np.concatenate(out)


def _epsilon2_boot(groups: Sequence[np.ndarray], n_boot: int, seed: int | None) -> np.ndarray:
    """:func:`_epsilon2` of each of :func:`stratified_bootstrap`'s resamples (NaN where all
    resampled values are equal, as the loop)."""
    sizes = np.array([len(g) for g in groups], dtype=float)
    n = sizes.sum()
    out = []
    for counts in _resample_counts(groups, n_boot, seed):
        sums, total = _rank_sums(counts)
        h = 12 / (n * (n + 1)) * (sums**2 / sizes[:, None]).sum(axis=0) - 3 * (n + 1)
        total = total.astype(float)
        correction = 1 - (total**3 - total).sum(axis=1) / (n**3 - n)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(np.where(correction == 0, np.nan, h / correction) * (n + 1) / (n * n - 1))
    return np.concatenate(out)


def hedges_g(x: Sequence[float], y: Sequence[float], confidence: float = 0.95) -> EffectSize:
    x, y = _clean(x), _clean(y)
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        raise ValueError("Hedges' g needs at least two observations per group")
    pooled = math.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    d = (x.mean() - y.mean()) / pooled
    g = d * (1 - 3 / (4 * (nx + ny) - 9))
    se = math.sqrt((nx + ny) / (nx * ny) + g**2 / (2 * (nx + ny)))
    crit = abs(stats.t.ppf((1 - confidence) / 2, nx + ny - 2))
    return EffectSize(
        "hedges_g", float(g), float(g - crit * se), float(g + crit * se), "t approximation"
    )


def _rbc(x: np.ndarray, y: np.ndarray) -> float:
    # U of x from the mid-ranks of the pooled sample (the U of scipy.stats.mannwhitneyu),
    # computed directly: this runs once per bootstrap resample.
    ranks = stats.rankdata(np.concatenate([x, y]))
    u = ranks[: len(x)].sum() - len(x) * (len(x) + 1) / 2
    return float(2 * u / (len(x) * len(y)) - 1)


def kruskal_h(groups: Sequence[np.ndarray]) -> float:
    """Tie-corrected Kruskal–Wallis H (the statistic of ``scipy.stats.kruskal``), computed
    directly for speed inside bootstrap loops."""
    values = np.concatenate(groups)
    n = len(values)
    ranks = stats.rankdata(values)
    h, start = 0.0, 0
    for g in groups:
        r = ranks[start : start + len(g)]
        h += r.sum() ** 2 / len(g)
        start += len(g)
    h = 12 / (n * (n + 1)) * h - 3 * (n + 1)
    _, ties = np.unique(values, return_counts=True)
    correction = 1 - float((ties**3 - ties).sum()) / (n**3 - n)
    if correction == 0:
        raise ValueError("all values are equal")
    return h / correction


def rank_biserial(
    x: Sequence[float],
    y: Sequence[float],
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int | None = 0,
) -> EffectSize:
    x, y = _clean(x), _clean(y)
    if len(x) < 1 or len(y) < 1:
        raise ValueError("both groups need observations")
    return _percentile_effect(
        "rank_biserial", _rbc(x, y), lambda: _rbc_boot(x, y, n_boot, seed), confidence, n_boot
    )


def _percentile_effect(
    name: str,
    value: float,
    resampled: Callable[[], np.ndarray],
    confidence: float,
    n_boot: int,
) -> EffectSize:
    """``value`` with the percentile interval of the ``resampled()`` bootstrap values (no
    interval when ``n_boot <= 0``: ``resampled`` is not called)."""
    if n_boot <= 0:
        return EffectSize(name, value, float("nan"), float("nan"), "none")
    low, high = percentile_ci(resampled(), confidence)
    return EffectSize(name, value, low, high, f"percentile bootstrap ({n_boot})")


@dataclasses.dataclass(frozen=True)
class GroupsEffect:
    """An effect size of k groups with a stratified percentile-bootstrap interval: called as
    ``effect(groups, confidence=0.95, n_boot=2000, seed=0)``."""

    name: str
    #: The effect size of the (cleaned) groups.
    statistic: Callable[[Sequence[np.ndarray]], float]
    #: ``resampled(groups, n_boot, seed)``: the statistic of each bootstrap resample.
    resampled: Callable[[Sequence[np.ndarray], int, int | None], np.ndarray]

    def __call__(
        self,
        groups: Sequence[Sequence[float]],
        confidence: float = 0.95,
        n_boot: int = 2000,
        seed: int | None = 0,
    ) -> EffectSize:
        arrays = [_clean(g) for g in groups]
        return _percentile_effect(
            self.name,
            self.statistic(arrays),
            lambda: self.resampled(arrays, n_boot, seed),
            confidence,
            n_boot,
        )


def _epsilon2(groups: Sequence[np.ndarray]) -> float:
    n = sum(len(g) for g in groups)
    return float(kruskal_h(groups) * (n + 1) / (n * n - 1))


def _eta2(groups: Sequence[np.ndarray]) -> float:
    values = np.concatenate(groups)
    grand = values.mean()
    ss_total = float(((values - grand) ** 2).sum())
    ss_between = float(sum(len(g) * (g.mean() - grand) ** 2 for g in groups))
    return ss_between / ss_total if ss_total > 0 else float("nan")


def _eta2_boot(groups: Sequence[np.ndarray], n_boot: int, seed: int | None) -> np.ndarray:
    return stratified_bootstrap(groups, _eta2, n_boot, seed)


#: ε²_R of Kruskal–Wallis.
epsilon_squared = GroupsEffect("epsilon_squared", _epsilon2, _epsilon2_boot)
#: η² of a one-way ANOVA.
eta_squared = GroupsEffect("eta_squared", _eta2, _eta2_boot)
