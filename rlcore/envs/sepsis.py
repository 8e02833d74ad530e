"""The ICU sepsis-style teaching model, at the scale of Oberst & Sontag's simulator (2019).

Book: *Healthcare*, "An ICU sepsis model".

!!! warning
    A teaching model, not a clinical tool: the transition probabilities are our own choices.

Discretised heart rate, blood pressure, oxygen saturation and glucose, diabetes status and
the on/off state of antibiotics, vasopressors and ventilation: 1,440 states plus death and
discharge; 8 actions; discharge +1, death -1, horizon 20.
"""

from __future__ import annotations

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_choice, check_real
from rlcore.envs.treatment import TreatmentModel, _compress

__all__ = ["sepsis_model", "sepsis_state", "SEPSIS_ACTIONS", "SEPSIS_SUBGROUPS", "SEPSIS_FACTORS"]


# ------------------------------------------------------------------------ ICU sepsis
#: State factors of the sepsis model, in index order (last factor varies fastest).
SEPSIS_FACTORS: dict[str, tuple[str, ...]] = {
    "hr": ("low", "normal", "high"),                     # heart rate
    "bp": ("low", "normal", "high"),                     # systolic blood pressure
    "o2": ("low", "normal"),                             # oxygen saturation
    "glucose": ("very low", "low", "normal", "high", "very high"),
    "diabetic": ("no", "yes"),
    "antibiotics": ("off", "on"),
    "vasopressors": ("off", "on"),
    "ventilation": ("off", "on"),
}
_NORMAL = {"hr": 1, "bp": 1, "o2": 1, "glucose": 2}
#: Action ``a`` switches antibiotics on iff bit 2 is set, vasopressors bit 1, ventilation bit 0.
SEPSIS_ACTIONS = tuple(
    "+".join(n for n, bit in (("antibiotics", 4), ("vasopressors", 2), ("ventilation", 1)) if a & bit) or "none"
    for a in range(8))

#: Subgroups of the sepsis model (unobserved in the state): ``drift`` P(a normal vital moves one
#: level away) per step, ``recover`` P(an abnormal vital moves back one level by homeostasis),
#: ``vaso_effect`` multiplier on vasopressor response, ``relapse`` multiplier on deterioration
#: after a treatment is withdrawn.
SEPSIS_SUBGROUPS: dict[str, dict[str, float]] = {
    "adult": dict(drift=0.10, recover=0.2, vaso_effect=1.0, relapse=1.0),
    # Older patients: less physiological reserve (vitals wander more), blunted response to
    # vasopressors, and they deteriorate more often when support is withdrawn.
    "older": dict(drift=0.15, recover=0.1, vaso_effect=0.7, relapse=2.0),
}


def _shift(n: int, frm: int, to: int, p: float) -> np.ndarray:
    """Kernel moving level ``frm`` to ``to`` with probability ``p`` (other levels unchanged), ``[n, n]``."""
    K = np.eye(n)
    K[frm, frm] -= p
    K[frm, to] += p
    return K


def _drift(n: int, p: float, normal: int, recover: float) -> np.ndarray:
    """Homeostatic random walk, ``[n, n]``: from the normal level move up or down one level
    with ``p/2`` each; from an abnormal level move one level back towards normal with
    ``recover`` and one level further away with ``p/2`` (staying put at the ends)."""
    K = np.zeros((n, n))
    for i in range(n):
        if i == normal:
            moves = ((i - 1, p / 2), (i + 1, p / 2))
        else:
            toward = i + (1 if i < normal else -1)
            away = i + (-1 if i < normal else 1)
            moves = ((toward, recover), (away, p / 2))
        for j, q in moves:
            K[i, min(max(j, 0), n - 1)] += q
        K[i, i] += 1 - sum(q for _, q in moves)
    return K


def sepsis_model(subgroup: str = "adult", *, gamma: float = 0.99, horizon: int = 20,
                 burden_weight: float = 0.0) -> TreatmentModel:
    """ICU sepsis-style MDP with the scale and structure of Oberst & Sontag's (2019) simulator.

    **Teaching model, not a clinical tool.** Our own parameters, documented here.

    State: ``(hr, bp, o2, glucose, diabetic, antibiotics, vasopressors, ventilation)`` with
    ``3 x 3 x 2 x 5 x 2 x 2 x 2 x 2 = 1440`` combinations (``SEPSIS_FACTORS``, index by
    ``np.ravel_multi_index``), plus terminal ``"death"`` (1440) and ``"discharge"`` (1441).
    The treatment flags record what was given at the previous step, so withdrawing
    a treatment can be modelled. Action ``a`` in ``0..7`` (``SEPSIS_ACTIONS``) sets the
    treatments for the next step: bit 4 antibiotics, bit 2 vasopressors, bit 1 ventilation.

    Each vital moves independently given ``(state, action)``; its kernel is the product of
    the treatment effects (applied in the order antibiotics, vasopressors, ventilation) and a
    homeostatic drift (a normal vital moves one level up or down with ``drift/2`` each; an
    abnormal one returns one level towards normal with ``recover`` and worsens with ``drift/2``):

    * antibiotics on: ``hr high -> normal`` 0.4, ``bp high -> normal`` 0.3 (treating the
      infection settles the hyperdynamic response); withdrawn while needed:
      ``hr normal -> high`` 0.15, ``bp normal -> high`` 0.2 (x ``relapse``);
    * vasopressors on: ``bp low -> normal`` 0.7 and overshoot ``normal -> high`` 0.4 (x
      ``vaso_effect``); in diabetics the response is erratic (``low -> normal`` 0.5,
      ``low -> high`` 0.3, ``normal -> high`` 0.6) and they raise glucose one level w.p. 0.4;
      withdrawn: ``bp normal -> low`` 0.2 (x ``relapse``), ``high -> normal`` 0.2;
    * ventilation on: ``o2 low -> normal`` 0.7; withdrawn: ``o2 normal -> low`` 0.15 (x ``relapse``);
    * ``drift = 0.10``, ``recover = 0.2`` for adults (0.15 and 0.1 for older patients) for
      hr, bp and o2; glucose ``drift = 0.1``, or ``0.3`` with ``recover = 0.15`` in diabetics
      (poorer glycaemic regulation).

    Outcome (the reward, as in Oberst & Sontag): a transition into a state with
    3 or more abnormal vitals (of hr, bp, o2, glucose) is death, ``-1``; into a
    state with all four normal *and* no treatment chosen is discharge, ``+1``;
    otherwise ``0``. ``gamma = 0.99``; ``horizon = 20`` steps per simulated stay
    (``model.horizon``, a cut-off of simulation and logs; the task itself has none).

    Burden (``0`` weight by default, so the default reward is the outcome alone):
    ``0.02`` antibiotics, ``0.05`` vasopressors, ``0.05`` ventilation per step (line
    care, sedation, monitoring). Adverse events: expected complications per step,
    ``0.01`` antibiotics (C. difficile, kidney injury), ``0.04`` vasopressors
    (arrhythmia, ischaemia), ``0.03`` ventilation (ventilator-associated pneumonia);
    they do not change the dynamics (kept simple on purpose).

    Contraindication (mask): vasopressors when blood pressure is already high.

    Start: treatments off; diabetic w.p. 0.2; vitals independent with
    hr (0.1, 0.5, 0.4), bp (0.3, 0.5, 0.2), o2 (0.4, 0.6), glucose non-diabetic
    (0.05, 0.15, 0.6, 0.15, 0.05) / diabetic (0.05, 0.1, 0.35, 0.3, 0.2), conditioned on
    1 or 2 abnormal vitals (sick on admission, not yet dying).
    """
    check_choice(subgroup, "subgroup", tuple(SEPSIS_SUBGROUPS))
    burden_weight = check_real(burden_weight, "burden_weight")
    prm = SEPSIS_SUBGROUPS[subgroup]
    dims = tuple(len(v) for v in SEPSIS_FACTORS.values())     # (3, 3, 2, 5, 2, 2, 2, 2)
    S_live = int(np.prod(dims))
    DEATH, DISCHARGE = S_live, S_live + 1
    A = 8
    hr, bp, o2, glu, diab, p_abx, p_vaso, p_vent = (x[:, None] for x in np.unravel_index(np.arange(S_live), dims))
    act = np.arange(A)[None, :]
    n_abx, n_vaso, n_vent = (act >> 2) & 1, (act >> 1) & 1, act & 1
    rel, ve = prm["relapse"], prm["vaso_effect"]

    # Per-vital kernels indexed by (previous flag, new flag[, diabetic]): tiny tables, then gathered.
    I3, I2, I5 = np.eye(3), np.eye(2), np.eye(5)
    K_hr = np.empty((2, 2, 3, 3))
    K_o2 = np.empty((2, 2, 2, 2))
    K_bp = np.empty((2, 2, 2, 2, 2, 3, 3))       # [prev abx, new abx, prev vaso, new vaso, diab]
    K_glu = np.empty((2, 2, 5, 5))               # [new vaso, diab]
    D3 = _drift(3, prm["drift"], 1, prm["recover"])
    D2 = _drift(2, prm["drift"], 1, prm["recover"])
    for pa in (0, 1):
        for na in (0, 1):
            abx = _shift(3, 2, 1, 0.4) if na else (_shift(3, 1, 2, min(1.0, 0.15 * rel)) if pa else I3)
            K_hr[pa, na] = abx @ D3
            abx_bp = _shift(3, 2, 1, 0.3) if na else (_shift(3, 1, 2, min(1.0, 0.2 * rel)) if pa else I3)
            for pv in (0, 1):
                for nv in (0, 1):
                    for d in (0, 1):
                        if nv and not d:
                            vaso = np.array([[1 - 0.7 * ve, 0.7 * ve, 0], [0, 1 - 0.4 * ve, 0.4 * ve], [0, 0, 1.0]])
                        elif nv and d:
                            vaso = np.array([[1 - 0.8 * ve, 0.5 * ve, 0.3 * ve], [0, 1 - 0.6 * ve, 0.6 * ve],
                                             [0, 0, 1.0]])
                        elif pv:
                            drop = min(1.0, 0.2 * rel)
                            vaso = np.array([[1.0, 0, 0], [drop, 1 - drop, 0], [0, 0.2, 0.8]])
                        else:
                            vaso = I3
                        K_bp[pa, na, pv, nv, d] = abx_bp @ vaso @ D3
        for nv in (0, 1):
            vent = _shift(2, 0, 1, 0.7) if nv else (_shift(2, 1, 0, min(1.0, 0.15 * rel)) if pa else I2)
            K_o2[pa, nv] = vent @ D2
    for nv in (0, 1):
        for d in (0, 1):
            up = (np.eye(5, k=1) * 0.4 + np.diag([0.6, 0.6, 0.6, 0.6, 1.0])) if (nv and d) else I5
            K_glu[nv, d] = up @ _drift(5, 0.3 if d else 0.1, 2, 0.15 if d else prm["recover"])

    # Next-level distributions of every vital for every (state, action): [S_live, A, n_level].
    P_hr = K_hr[p_abx, n_abx, hr]
    P_bp = K_bp[p_abx, n_abx, p_vaso, n_vaso, diab, bp]
    P_o2 = K_o2[p_vent, n_vent, o2]
    P_glu = K_glu[n_vaso, diab, glu]
    joint = (P_hr[:, :, :, None, None, None] * P_bp[:, :, None, :, None, None]
             * P_o2[:, :, None, None, :, None] * P_glu[:, :, None, None, None, :]).reshape(S_live, A, 90)
    # Each of the 90 next-vital combinations: its abnormal count and its live state index.
    v_hr, v_bp, v_o2, v_glu = np.unravel_index(np.arange(90), (3, 3, 2, 5))
    abnormal = (v_hr != 1).astype(int) + (v_bp != 1) + (v_o2 != 1) + (v_glu != 2)
    live_next = np.ravel_multi_index((v_hr[None, None, :], v_bp[None, None, :], v_o2[None, None, :],
                                      v_glu[None, None, :], diab[:, :, None], n_abx[:, :, None],
                                      n_vaso[:, :, None], n_vent[:, :, None]), dims)   # [S_live, A, 90]
    dies = abnormal >= 3
    discharged = (abnormal == 0)[None, None, :] & (act == 0)[:, :, None]
    ends = dies[None, None, :] | discharged
    p_death = (joint * dies).sum(axis=2)
    p_discharge = (joint * discharged).sum(axis=2)
    prob = np.concatenate([np.where(ends, 0.0, joint), p_death[:, :, None], p_discharge[:, :, None]], axis=2)
    next_state = np.concatenate([np.broadcast_to(live_next, (S_live, A, 90)),
                                 np.full((S_live, A, 1), DEATH), np.full((S_live, A, 1), DISCHARGE)], axis=2)
    outcome = np.zeros(prob.shape)
    outcome[:, :, 90] = -1.0
    outcome[:, :, 91] = 1.0
    burden = np.broadcast_to((0.02 * n_abx + 0.05 * n_vaso + 0.05 * n_vent)[:, :, None], prob.shape).astype(float)
    adverse = np.broadcast_to((0.01 * n_abx + 0.04 * n_vaso + 0.03 * n_vent)[:, :, None], prob.shape).astype(float)

    # Terminal rows (death, discharge): self-loops with zero reward.
    def pad(x: np.ndarray, values: tuple) -> np.ndarray:
        return np.concatenate([x, np.broadcast_to(np.asarray(values, dtype=x.dtype)[:, None, None],
                                                  (2, A, x.shape[2]))], axis=0)
    next_state = pad(next_state, (DEATH, DISCHARGE))
    prob = pad(prob, (0.0, 0.0))
    prob[S_live:, :, 0] = 1.0
    outcome, burden, adverse = (pad(x, (0.0, 0.0)) for x in (outcome, burden, adverse))
    next_state, prob, outcome, burden, adverse = _compress(next_state, prob, outcome, burden, adverse)

    levels = list(SEPSIS_FACTORS.values())
    idx = np.unravel_index(np.arange(S_live), dims)
    names = []
    for s in range(S_live):
        lv = [levels[f][idx[f][s]] for f in range(8)]
        tx = "+".join(n for n, on in zip(("abx", "vaso", "vent"), lv[5:]) if on == "on") or "none"
        names.append(f"HR {lv[0]}, BP {lv[1]}, O2 {lv[2]}, glucose {lv[3]}, "
                     f"{'diabetic' if lv[4] == 'yes' else 'non-diabetic'}, on {tx}")
    names += ["death", "discharge"]

    # Start distribution: treatments off, independent vitals, 1-2 abnormal.
    p_v = [np.array([0.1, 0.5, 0.4]), np.array([0.3, 0.5, 0.2]), np.array([0.4, 0.6])]
    p_g = np.array([[0.05, 0.15, 0.6, 0.15, 0.05], [0.05, 0.1, 0.35, 0.3, 0.2]])
    p_d = np.array([0.8, 0.2])
    init = (p_v[0][idx[0]] * p_v[1][idx[1]] * p_v[2][idx[2]] * p_g[idx[4], idx[3]] * p_d[idx[4]]
            * (idx[5] == 0) * (idx[6] == 0) * (idx[7] == 0))
    n_abn = (idx[0] != 1).astype(int) + (idx[1] != 1) + (idx[2] != 1) + (idx[3] != 2)
    init = init * ((n_abn >= 1) & (n_abn <= 2))
    initial = np.concatenate([init / init.sum(), [0.0, 0.0]])

    mask = np.ones((S_live + 2, A), dtype=bool)
    mask[:S_live] = ~((bp == 2) & (n_vaso == 1))
    mask.setflags(write=False)
    mdp = TabularMDP(next_state, prob, outcome - burden_weight * burden, gamma=gamma, terminal=[DEATH, DISCHARGE],
                     initial=initial, state_names=names, action_names=SEPSIS_ACTIONS)
    return TreatmentModel("sepsis", subgroup, mdp, outcome, burden, adverse, mask, float(burden_weight),
                          dict(SEPSIS_FACTORS), "treatment complication", horizon=horizon)


def sepsis_state(**levels: str) -> int:
    """State index of the sepsis model from level names, e.g. ``sepsis_state(hr="high", bp="low", ...)``.

    Unspecified factors take their first level except vitals, which default to normal.
    """
    unknown = set(levels) - set(SEPSIS_FACTORS)
    if unknown:
        raise ValueError(f"unknown sepsis factor(s) {sorted(unknown)}; expected {list(SEPSIS_FACTORS)}")
    coords = []
    for name, lv in SEPSIS_FACTORS.items():
        value = levels.get(name, lv[_NORMAL.get(name, 0)])
        if value not in lv:
            raise ValueError(f"{name} must be one of {lv}, got {value!r}")
        coords.append(lv.index(value))
    return int(np.ravel_multi_index(tuple(coords), tuple(len(v) for v in SEPSIS_FACTORS.values())))
