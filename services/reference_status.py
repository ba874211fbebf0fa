"""What the current reference bank says about each reference: its leave-one-out score, whether it looks unlike
the others, and which earlier reference it is a shot of the same part as.  The References page and
``references list`` show the same figures from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from db import repository as repo
from db.models import Project, ReferenceBank, ReferenceImage
from engine.calibration import Calibration, reference_outliers
from services.inspection import matching_bank_row
from services.results import bank_calibration


@dataclass
class ReferencesState:
    """The bank the next inspection uses (``current``) or else the newest one, which it will replace, and what
    its calibration says per reference image key."""

    bank: ReferenceBank | None
    current: bool
    calibration: Calibration | None
    scores: dict[str, float] = field(default_factory=dict)  # normalised leave-one-out score
    outliers: dict[str, bool] = field(default_factory=dict)
    same_part_as: dict[str, str] = field(default_factory=dict)  # file name of the earlier shot of the part
    same_part: tuple[tuple[int, ...], ...] = ()  # the groups as positions among the active references


def references_state(session: Any, project: Project, references: list[ReferenceImage]) -> ReferencesState:
    """Read the bank of ``project`` that matches its active ``references`` (else its newest) and map its
    calibration onto them."""
    active_keys = [r.image_key for r in references if r.active]
    current = matching_bank_row(session, project, active_keys)
    bank = current or repo.latest_bank(session, project)
    calibration = bank_calibration(bank)
    state = ReferencesState(bank, current is not None, calibration)
    if calibration is None or bank is None:
        return state
    keys = bank.reference_keys
    # With two references or more the normal scores are the references' leave-one-out scores, one each (of
    # those held out, in a large set), and a refinement keeps them.
    scored = calibration.scored_references(len(keys))
    if len(keys) >= 2 and len(calibration.normal_scores) == len(scored):
        raw = {keys[i]: score for i, score in zip(scored, calibration.normal_scores, strict=True)}
        state.outliers = dict(zip(raw, reference_outliers(list(raw.values())), strict=True))
        state.scores = {key: calibration.normalise(value) for key, value in raw.items()}
    names = {r.image_key: r.file_name for r in references}
    state.same_part_as = {keys[i]: names.get(keys[group[0]], "") for group in calibration.same_photo
                          for i in group[1:] if i < len(keys)}
    state.same_part = active_groups(calibration.same_photo, keys, active_keys)
    return state


def active_groups(groups: tuple[tuple[int, ...], ...], bank_keys: list[str],
                  active_keys: list[str]) -> tuple[tuple[int, ...], ...]:
    """The bank's shots-of-one-part groups as positions among ``active_keys`` (members no longer active left out),
    so that the reference count advice counts each part once even when the bank is a step behind."""
    position = {key: i for i, key in enumerate(active_keys)}
    kept = (tuple(position[bank_keys[i]] for i in group if i < len(bank_keys) and bank_keys[i] in position)
            for group in groups)
    return tuple(group for group in kept if len(group) > 1)
