"""Cox proportional-hazards models of a time to event on participant attributes.

* :func:`cox_model` — hazard ratios of categorical attributes (treatment coding against a
  reference level) with Wald confidence intervals and p-values, fitted by ``statsmodels``'
  ``PHReg`` with Efron's handling of tied times (R ``survival::coxph``'s default; lifelines'
  ``CoxPHFitter``). A hazard ratio above 1 means *sooner* (a higher rate of reaching the
  event), which for a time to safe is the good direction.
* :func:`ph_test` — the proportional-hazards check: the correlation of each term's scaled
  Schoenfeld residuals with a transform of time (Grambsch & Therneau 1994), one χ² (1 df) per
  term, as lifelines' ``proportional_hazard_test`` and R ``survival`` (< 3.0) ``cox.zph``
  compute it. A small p says the hazard ratio changes over the drill: read that term's ratio as
  an average.

Both take a tidy frame with one row per person: a duration, an event flag and the attribute
columns. Levels with no events cannot be estimated and are left out with their rows (listed in
``dropped`` of :func:`cox_model`'s ``attrs``).

>>> frame = pd.DataFrame({"minutes": [5, 8, 12, 20, 25, 30, 40, 60, 90, 90],
...     "observed": [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
...     "zone": ["none", "none", "flood", "none", "flood", "none", "flood", "flood", "none", "flood"]})
>>> fit = cox_model(frame, "minutes", "observed", ["zone"], reference={"zone": "none"})
>>> fit[["term", "reference", "n", "events"]].values.tolist()
[['zone=flood', 'none', 5, 4]]
>>> round(float(fit["hazard_ratio"].iloc[0]), 4), round(float(fit["p"].iloc[0]), 4)
(0.6139, 0.4954)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Which term a row of :func:`cox_model`'s result is about, with its people and events.
COX_TERM = ("term", "variable", "level", "reference", "n", "events")
#: Columns of :func:`cox_model`'s result (one row per term).
COX_COLUMNS = (*COX_TERM, "coef", "se", "hazard_ratio", "ci_low", "ci_high", "z", "p")
#: Columns of :func:`ph_test`'s result (one row per term).
PH_COLUMNS = ("term", "transform", "statistic", "df", "p")


def _levels(values: pd.Series, reference: str | None) -> tuple[str, list[str]]:
    counts = values.value_counts()
    if counts.empty:
        return str(reference or ""), []
    if reference is None:
        reference = sorted(counts.index, key=lambda v: (-counts[v], str(v)))[0]
    ref = reference
    return str(ref), sorted(str(v) for v in counts.index if str(v) != str(ref))


def design(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    reference: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The model's rows and design matrix: ``(rows, X, dropped)``.

    Rows with a missing duration or attribute are left out; so are levels without an event
    (named in ``dropped`` as ``variable=level``). Attributes are read as text; the reference
    level of each is ``reference[variable]`` or else its most frequent level. Columns of ``X``
    are named ``variable=level``.

    Examples
    --------
    >>> f = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 1], "g": ["a", "b", "c", "a"]})
    >>> rows, x, dropped = design(f, "t", "e", ["g"])
    >>> list(x.columns), dropped
    (['g=b'], ['g=c'])
    """
    reference = dict(reference or {})
    rows = frame[[duration, event, *covariates]].dropna().copy()
    rows[event] = rows[event].astype(bool)
    for name in covariates:
        rows[name] = rows[name].astype(str)
    dropped: list[str] = []
    for name in covariates:
        events_by_level = rows.groupby(name)[event].sum()
        empty = [str(level) for level, d in events_by_level.items() if d == 0]
        dropped += [f"{name}={level}" for level in sorted(empty)]
        rows = rows[~rows[name].isin(empty)]
    columns = {}
    for name in covariates:
        ref, others = _levels(rows[name], reference.get(name))
        rows.attrs.setdefault("reference", {})[name] = ref
        for level in others:
            columns[f"{name}={level}"] = (rows[name] == level).astype(float)
    x = pd.DataFrame(columns, index=rows.index)
    return rows, x, dropped


def cox_model(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    reference: Mapping[str, str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cox proportional-hazards model of ``duration`` on categorical ``covariates``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per person.
    duration, event : str
        Columns of the time (minutes) and of whether the event was seen (else censored).
    covariates : sequence of str
        Categorical attribute columns (age band, register, hazard zone, ...).
    reference : mapping, optional
        The reference level per attribute (default: its most frequent level).
    confidence : float
        Level of the Wald intervals of the hazard ratios.

    Returns
    -------
    pandas.DataFrame
        :data:`COX_COLUMNS`, one row per term ``variable=level``: ``n`` and ``events`` of that
        level, ``coef`` (log hazard ratio) and its ``se``, ``hazard_ratio`` with ``ci_low``,
        ``ci_high``, the Wald ``z`` and ``p``. ``attrs``: ``n``, ``events``, ``dropped``,
        ``log_likelihood``, ``ties``. Empty when no term can be estimated.

    Examples
    --------
    >>> f = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 1, 1, 0],
    ...                   "g": ["a", "b", "a", "b", "a", "b"]})
    >>> cox_model(f, "t", "e", ["g"])[["term", "reference", "n", "events"]].values.tolist()
    [['g=b', 'a', 3, 2]]
    """
    from statsmodels.duration.hazard_regression import PHReg

    rows, x, dropped = design(frame, duration, event, covariates, reference)
    refs = rows.attrs.get("reference", {})
    x = x.loc[:, x.std(ddof=0) > 0] if len(x) else x
    empty = pd.DataFrame(columns=list(COX_COLUMNS))
    empty.attrs = {"n": len(rows), "events": int(rows[event].sum()), "dropped": dropped}
    if x.shape[1] == 0 or rows[event].sum() == 0:
        return empty
    model = PHReg(
        rows[duration].to_numpy(float),
        x.to_numpy(float),
        status=rows[event].to_numpy(int),
        ties="efron",
    )
    fit = model.fit(disp=False)
    coef = np.asarray(fit.params, dtype=float)
    se = np.asarray(fit.bse, dtype=float)
    zq = stats.norm.isf((1 - confidence) / 2)
    out = []
    for k, term in enumerate(x.columns):
        name, level = term.split("=", 1)
        mask = rows[name] == level
        z = coef[k] / se[k]
        out.append(
            {
                "term": term,
                "variable": name,
                "level": level,
                "reference": refs[name],
                "n": int(mask.sum()),
                "events": int(rows.loc[mask, event].sum()),
                "coef": float(coef[k]),
                "se": float(se[k]),
                "hazard_ratio": float(np.exp(coef[k])),
                "ci_low": float(np.exp(coef[k] - zq * se[k])),
                "ci_high": float(np.exp(coef[k] + zq * se[k])),
                "z": float(z),
                "p": float(2 * stats.norm.sf(abs(z))),
            }
        )
    result = pd.DataFrame(out, columns=list(COX_COLUMNS))
    result.attrs = {
        "n": int(len(rows)),
        "events": int(rows[event].sum()),
        "dropped": dropped,
        "log_likelihood": float(fit.llf),
        "ties": "efron",
        "covariance": np.asarray(fit.cov_params(), dtype=float).tolist(),
    }
    return result


def _schoenfeld(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Schoenfeld residuals ``x_i − x̄(t_i)`` of the events, ``x̄`` the risk set's mean
    weighted by ``exp(xβ)``; returns ``(event times, residuals)``."""
    risk = np.exp(x @ beta)
    times = time[event]
    resid = np.empty((len(times), x.shape[1]))
    for k, (t, row) in enumerate(zip(times, x[event], strict=True)):
        at_risk = time >= t
        w = risk[at_risk]
        resid[k] = row - (w @ x[at_risk]) / w.sum()
    return times, resid


def _km_at_events(time: np.ndarray, event: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The Kaplan–Meier estimate S(t) at each time in ``at`` (right-continuous)."""
    survival = np.empty(len(at))
    uniq = np.unique(time[event])
    s, steps = 1.0, {}
    for t in uniq:
        n = (time >= t).sum()
        d = ((time == t) & event).sum()
        s *= 1 - d / n
        steps[t] = s
    keys = np.array(sorted(steps))
    values = np.array([steps[k] for k in keys])
    for i, t in enumerate(at):
        j = np.searchsorted(keys, t, side="right") - 1
        survival[i] = values[j] if j >= 0 else 1.0
    return survival


def ph_test(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    fit: pd.DataFrame,
    transform: str = "rank",
) -> pd.DataFrame:
    """Per-term test of proportional hazards on the scaled Schoenfeld residuals.

    For each term k: ``T_k = (Σ g̃ᵢ r*ᵢₖ)² / (d · V_kk · Σ g̃ᵢ²)`` over the ``d`` events, where
    ``r* = d · r V + β`` are the scaled Schoenfeld residuals, ``V`` the model's covariance and
    ``g̃`` the centred transform of the event times (``rank``: their order; ``km``: 1 − S(t) of
    Kaplan–Meier; ``identity``; ``log``); χ² with 1 df.

    Parameters
    ----------
    frame, duration, event, covariates
        As given to :func:`cox_model`.
    fit : pandas.DataFrame
        :func:`cox_model`'s result on the same data.
    transform : {"rank", "km", "identity", "log"}
        The transform of time.

    Returns
    -------
    pandas.DataFrame
        :data:`PH_COLUMNS`, one row per term of ``fit``.

    Examples
    --------
    >>> f = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1] * 8,
    ...                   "g": ["a", "b", "a", "b", "b", "a", "a", "b"]})
    >>> ph_test(f, "t", "e", ["g"], cox_model(f, "t", "e", ["g"]))[["term", "df"]].values.tolist()
    [['g=b', 1]]
    """
    if fit.empty:
        return pd.DataFrame(columns=list(PH_COLUMNS))
    references = fit.set_index("variable")["reference"].to_dict()
    rows, x, _ = design(frame, duration, event, covariates, references)
    x = x[list(fit["term"])]
    time = rows[duration].to_numpy(float)
    ev = rows[event].to_numpy(bool)
    beta = fit["coef"].to_numpy(float)
    cov = np.asarray(fit.attrs["covariance"], dtype=float)
    times, resid = _schoenfeld(time, ev, x.to_numpy(float), beta)
    d = len(times)
    scaled = d * resid @ cov + beta
    if transform == "rank":
        # the events' order in time (ties in the order given), as lifelines' ``np.cumsum``
        g = np.empty(d)
        g[np.argsort(times, kind="stable")] = np.arange(1, d + 1)
    elif transform == "km":
        g = 1 - _km_at_events(time, ev, times)
    elif transform == "identity":
        g = times
    elif transform == "log":
        g = np.log(times)
    else:
        raise ValueError("transform must be 'rank', 'km', 'identity' or 'log'")
    g = g - g.mean()
    statistic = (g @ scaled) ** 2 / (d * np.diag(cov) * (g**2).sum())
    return pd.DataFrame(
        {
            "term": list(fit["term"]),
            "transform": transform,
            "statistic": statistic,
            "df": 1,
            "p": stats.chi2.sf(statistic, 1),
        },
        columns=list(PH_COLUMNS),
    )
