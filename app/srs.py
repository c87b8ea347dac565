"""Spaced-repetition scheduling. The only module that imports ``fsrs``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS as _DEFAULTS
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS as _LOWER
from fsrs.scheduler import UPPER_BOUNDS_PARAMETERS as _UPPER

__all__ = ["Grade", "CardSnapshot", "Srs", "Rating", "State", "DEFAULT_PARAMETERS"]

# FSRS-6's 21 weights as the library ships them (fitted on many users' logs) and their bounds:
# a user's fitted weights replace these (app/study/fitting.py), always within the bounds.
DEFAULT_PARAMETERS: tuple[float, ...] = tuple(float(w) for w in _DEFAULTS)
PARAMETER_BOUNDS: tuple[tuple[float, float], ...] = tuple(zip(_LOWER, _UPPER, strict=True))


class Grade(IntEnum):
    again = 1
    hard = 2
    good = 3
    easy = 4


@dataclass(frozen=True)
class CardSnapshot:
    """The scheduling fields of one card, as stored. ``None`` stands for a new card."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None

    def to_fsrs(self) -> Card:
        return Card(
            card_id=0,
            state=State(self.state),
            step=self.step,
            stability=self.stability,
            difficulty=self.difficulty,
            due=_utc(self.due),
            last_review=_utc(self.last_review) if self.last_review else None,
        )

    @classmethod
    def from_fsrs(cls, card: Card) -> CardSnapshot:
        return cls(
            state=int(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            last_review=card.last_review,
        )


def _utc(dt: datetime) -> datetime:
    # Defensive: a naive datetime here can only mean UTC read back from a store that dropped it.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def new_card(now: datetime) -> CardSnapshot:
    return CardSnapshot(
        state=int(State.Learning),
        step=0,
        stability=None,
        difficulty=None,
        due=now,
        last_review=None,
    )


def valid_parameters(parameters: Sequence[float]) -> bool:
    """21 finite weights, each within the bounds FSRS-6 allows."""
    return len(parameters) == len(PARAMETER_BOUNDS) and all(
        lo <= w <= hi for w, (lo, hi) in zip(parameters, PARAMETER_BOUNDS, strict=True)
    )


class Srs:
    """A scheduler for one set of weights and one target retention. Immutable once built, so one
    instance can serve every user who shares those settings (app/study/prefs.py caches them)."""

    def __init__(
        self,
        desired_retention: float = 0.9,
        fuzz: bool = True,
        parameters: Sequence[float] | None = None,
    ):
        params = tuple(parameters) if parameters is not None else DEFAULT_PARAMETERS
        self.parameters = params
        self.desired_retention = desired_retention
        self.fuzz = fuzz
        self.scheduler = Scheduler(
            parameters=params, desired_retention=desired_retention, enable_fuzzing=fuzz
        )
        # Previews on the grade buttons must not jitter between page loads; plans and
        # simulations use the same unfuzzed scheduler so that they are repeatable.
        self._preview = Scheduler(
            parameters=params, desired_retention=desired_retention, enable_fuzzing=False
        )

    def review(self, card: CardSnapshot | None, grade: Grade, now: datetime) -> CardSnapshot:
        now = _utc(now)
        fc = (card or new_card(now)).to_fsrs()
        updated, _log = self.scheduler.review_card(fc, Rating(int(grade)), now)
        return CardSnapshot.from_fsrs(updated)

    def preview(self, card: CardSnapshot | None, now: datetime) -> dict[Grade, timedelta]:
        """How long until the card is due again after each grade (for the grade buttons)."""
        now = _utc(now)
        fc = (card or new_card(now)).to_fsrs()
        return {g: self._preview.review_card(fc, Rating(int(g)), now)[0].due - now for g in Grade}

    def retrievability(self, card: CardSnapshot, now: datetime) -> float:
        return self.scheduler.get_card_retrievability(card.to_fsrs(), _utc(now))

    def simulate(self, card: CardSnapshot | None, grade: Grade, now: datetime) -> CardSnapshot:
        """What ``review`` would give, without fuzz: for plans and forecasts, never stored."""
        now = _utc(now)
        fc = (card or new_card(now)).to_fsrs()
        return CardSnapshot.from_fsrs(self._preview.review_card(fc, Rating(int(grade)), now)[0])


def humanize(delta: timedelta) -> str:
    """Short interval label as Anki shows it on grade buttons: 1m, 10m, 3h, 4d, 2.1mo, 1.3y."""
    s = delta.total_seconds()
    if s < 3600:
        return f"{max(1, round(s / 60))}m"
    if s < 86400:
        return f"{round(s / 3600)}h"
    d = s / 86400
    if d < 30:
        return f"{round(d)}d"
    if d < 365:
        return f"{d / 30:.1f}mo"
    return f"{d / 365:.1f}y"
