"""Grammar-constrained sampling: mask the characters a codec's grammar forbids, so every sample
decodes with zero repairs.

A codec describes its text as a `CharGrammar`: a start state, a step function (state, char) →
next state or None, and the state reached once a piece and its separator are complete. Reachable
states are enumerated once over the model's vocabulary and compiled into two tables, so sampling
pays two gathers and a compare per step for the whole batch — no Python per sample.

Each sample has its own budget: the sampler draws a target length per sample from the lengths
of the training pieces, lets a piece end only once it is long enough (`may_end`) and makes it
close by a deadline (`steps_left`, never beyond `--length`). Near the deadline the mask forbids
any character after which the piece could no longer finish in the characters left (shortest
distance to the end, by breadth-first search), so a sample is never cut off mid-piece. A sample
the sampler tells to `close` heads for the end by the shortest way.

Codecs whose grammar needs unbounded memory (e.g. which notes are sounding) implement
`Constraint` directly with tensors.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, Protocol

import torch

from rnnmusic.errors import RnnMusicError

MAX_STATES = 200_000
UNREACHABLE = 1 << 30


class CharGrammar(Protocol):
    start: Hashable

    def step(self, state: Hashable, char: str) -> Hashable | None:
        """The state after `char`, or None where the grammar forbids it."""

    def is_done(self, state: Hashable) -> bool:
        """True once a whole piece and its separator have been written."""


class Constraint:
    """A batch of grammar states, advanced one character at a time."""

    def reset(self, batch: int, device: torch.device) -> None:
        raise NotImplementedError

    def draw(self, generator: torch.Generator) -> None:
        """After `reset`: draw what each sample keeps to from the training pieces'
        distribution (e.g. its pitch span), so samples spread as the pieces do instead of
        all filling the widest allowance. Default: nothing to draw."""

    def allowed(self, steps_left: torch.Tensor, may_end: torch.Tensor) -> torch.Tensor:
        """(B, V) bool: characters that keep each sample valid, able to finish within its
        `steps_left` characters (B,), and that end its piece only where `may_end` (B,)."""
        raise NotImplementedError

    def ending(self) -> torch.Tensor:
        """(B, V) bool: characters that would end each piece now as far as spelling goes, even
        where its meaning forbids it (notes still sounding). The sampler takes the model's wish
        to end there as a sign to close the piece. Default: only the allowed endings."""
        return torch.zeros(1, 1, dtype=torch.bool)

    def close(self, which: torch.Tensor) -> None:
        """From now on the samples in `which` (B,) head for the end by the shortest way."""

    def advance(self, ids: torch.Tensor) -> None:
        raise NotImplementedError

    def done(self) -> torch.Tensor:
        """(B,) bool: samples that have finished their piece."""
        raise NotImplementedError

    def shortest_piece(self) -> int:
        """Fewest characters a whole piece and its separator take."""
        raise NotImplementedError

    def allowed_unbounded(self) -> torch.Tensor:
        """What `allowed` says with no deadline and no ban on ending."""
        batch = self.batch_size()
        device = self.device()
        return self.allowed(
            torch.full((batch,), UNREACHABLE, dtype=torch.long, device=device),
            torch.ones(batch, dtype=torch.bool, device=device),
        )

    def batch_size(self) -> int:
        return int(self.state.shape[0])  # type: ignore[attr-defined]

    def device(self) -> torch.device:
        return self.state.device  # type: ignore[attr-defined]

    def feed(self, text: str, vocab: list[str]) -> None:
        """Advance every sample through a prime; a prime the grammar rejects is a clear error."""
        index = {ch: i for i, ch in enumerate(vocab)}
        for position, ch in enumerate(text):
            allowed = self.allowed_unbounded()
            if not bool(allowed[:, index[ch]].all()):
                raise RnnMusicError(
                    f"with --strict the prime must follow the codec's grammar, and its character "
                    f"{position + 1} ({ch!r}) does not; fix the prime or sample without --strict"
                )
            self.advance(torch.full((allowed.size(0),), index[ch], device=allowed.device))


def explore(
    start: Hashable,
    vocab: list[str],
    transition: Callable[[Hashable, str], tuple[Hashable, Any] | None],
    is_done: Callable[[Hashable], bool],
    limit: int | None = None,
) -> tuple[list[Hashable], list[list[tuple[int, Any] | None]]]:
    """Every state reachable from `start` over the vocabulary, breadth first, and per state a
    row with one cell per character: (index of the next state, what `transition` said beside
    it), or None where the character is forbidden. Done states have no moves."""
    index: dict[Hashable, int] = {start: 0}
    order: list[Hashable] = [start]
    rows: list[list[tuple[int, Any] | None]] = []
    for state in order:  # grows while it is walked: breadth first
        row: list[tuple[int, Any] | None] = []
        for ch in vocab:
            result = None if is_done(state) else transition(state, ch)
            if result is None:
                row.append(None)
                continue
            if result[0] not in index:
                if limit is not None and len(index) >= limit:
                    raise RuntimeError(f"grammar has more than {limit} reachable states")
                index[result[0]] = len(order)
                order.append(result[0])
            row.append((index[result[0]], result[1]))
        rows.append(row)
    return order, rows


def distances_to_end(rows: list[list[tuple[int, Any] | None]], done: list[bool]) -> list[int]:
    """Fewest characters from each state to a done state (breadth first over reversed moves);
    UNREACHABLE where none is reachable."""
    reverse: list[list[int]] = [[] for _ in rows]
    for source, row in enumerate(rows):
        for target in {cell[0] for cell in row if cell is not None}:
            reverse[target].append(source)
    distance = [UNREACHABLE] * len(rows)
    queue = deque(i for i, d in enumerate(done) if d)
    for i in queue:
        distance[i] = 0
    while queue:
        state = queue.popleft()
        for source in reverse[state]:
            if distance[source] == UNREACHABLE:
                distance[source] = distance[state] + 1
                queue.append(source)
    return distance


class TableConstraint(Constraint):
    """A CharGrammar compiled over a vocabulary into transition and distance tables."""

    def __init__(self, grammar: CharGrammar, vocab: list[str]):
        def transition(state: Hashable, ch: str) -> tuple[Hashable, None] | None:
            nxt = grammar.step(state, ch)
            return None if nxt is None else (nxt, None)

        order, rows = explore(grammar.start, vocab, transition, grammar.is_done, MAX_STATES)
        count = len(order)
        sink = count  # index for "forbidden": never done, never reachable
        table = torch.tensor(
            [[sink if c is None else c[0] for c in row] for row in rows], dtype=torch.long
        )
        self.next_state = torch.cat([table, torch.full((1, len(vocab)), sink)])
        done = [grammar.is_done(s) for s in order]
        self.is_done = torch.tensor(done + [False])
        self.distance = torch.tensor(distances_to_end(rows, done) + [UNREACHABLE], dtype=torch.long)
        self.num_states = count

    def reset(self, batch: int, device: torch.device) -> None:
        self.next_state = self.next_state.to(device)
        self.distance = self.distance.to(device)
        self.is_done = self.is_done.to(device)
        self.state = torch.zeros(batch, dtype=torch.long, device=device)
        self.closing = torch.zeros(batch, dtype=torch.bool, device=device)

    def allowed(self, steps_left: torch.Tensor, may_end: torch.Tensor) -> torch.Tensor:
        candidates = self.next_state[self.state]  # (B, V)
        after = self.distance[candidates]
        ok = after <= steps_left[:, None] - 1
        shortest = after < self.distance[self.state][:, None]
        ok = torch.where(self.closing[:, None], ok & shortest, ok)
        ends = self.is_done[candidates]
        not_yet = ok & ~ends
        ok = torch.where(may_end[:, None] | ~not_yet.any(1, keepdim=True), ok, not_yet)
        finished = self.is_done[self.state]
        return ok | finished[:, None]  # finished samples are cut later; let them run freely

    def ending(self) -> torch.Tensor:
        return self.is_done[self.next_state[self.state]]

    def close(self, which: torch.Tensor) -> None:
        self.closing |= which

    def advance(self, ids: torch.Tensor) -> None:
        finished = self.is_done[self.state]
        moved = self.next_state[self.state, ids]
        self.state = torch.where(finished, self.state, moved)

    def done(self) -> torch.Tensor:
        return self.is_done[self.state]

    def shortest_piece(self) -> int:
        return int(self.distance[0])
