"""Many workers, one campaign: shard reports merged into one exact, monotone progress.

A campaign phase of ``total`` items is split into ``shards`` shards, each processed by some
worker, and each worker reports its own shard's counts as a
:class:`~phasekit.ShardReport`. Reports arrive through a broker, so any report may arrive
twice (a redelivered task), late (reordered), or from a retry that restarted its shard's
count from 0. The merge keeps, per shard, the *most advanced* report, a choice that
depends only on the reports' counts and never on their arrival order:

    highest ``processed``, then highest ``successful``, then highest ``failed``

so ``apply`` is idempotent, commutative and associative (any delivery order, with any
duplicates, gives the same state) and the campaign's ``processed`` never decreases. A
retry that restarts from 0 changes nothing until it passes what was already reported.
"""

from __future__ import annotations

import uuid
from typing import Final

from phasekit._checks import MAX_INTEGER, MAX_PROGRESS, check_instance, check_int, shown
from phasekit._ids import check_uuid
from phasekit._messages import MAX_SHARD, ProgressMessage, ShardReport
from phasekit._model import Phase, PhaseStatus, member_repr, to_phase
from phasekit.errors import InvalidValue

__all__ = ["CampaignProgress"]


class CampaignProgress:
    """The merge state of one campaign phase's shard reports: exact, and never going back.

    Per shard it keeps the most advanced report: the highest ``processed``, ties broken by
    ``successful`` and then ``failed``, so that the choice depends only on the reports and
    never on the order they arrive in. Hence :meth:`apply` is idempotent, commutative and
    associative: a duplicate or a late report changes nothing, a retry that restarts its
    shard from 0 changes nothing until it passes what was reported, and :attr:`processed`
    never decreases. A report that does not fit (another campaign or phase, a shard number
    out of range, a shard total that changed or that would make the shards hold more than
    ``total`` domains) raises :class:`~phasekit.InvalidValue` and changes nothing.

    ``campaign_id``, ``phase``, ``shards`` and ``total`` are the arguments, as checked.
    :attr:`complete` says every shard has reported its last item; :attr:`percent` is
    ``processed`` of ``total``, so it reaches 100.0 only when the shards' totals add up to
    ``total``, as they do when the campaign was split without a gap.

    >>> import uuid
    >>> campaign = uuid.UUID(int=1)
    >>> progress = CampaignProgress(campaign, "dns_validation", shards=2, total=30)
    >>> progress.apply(ShardReport(campaign, "dns_validation", 0, 10, 4, 4, 0))
    True
    >>> progress.apply(ShardReport(campaign, "dns_validation", 0, 10, 4, 4, 0))  # again
    False
    >>> progress.apply(ShardReport(campaign, "dns_validation", 1, 20, 20, 19, 1))
    True
    >>> progress.processed, progress.percent, progress.shards_done, progress.complete
    (24, 80.0, 1, False)
    """

    __slots__ = (
        "_done",
        "_failed",
        "_kept",
        "_processed",
        "_shard_totals",
        "_successful",
        "campaign_id",
        "phase",
        "shards",
        "total",
    )

    def __init__(
        self, campaign_id: uuid.UUID | str, phase: Phase | str, *, shards: int, total: int
    ) -> None:
        self.campaign_id: Final = check_uuid(campaign_id)
        self.phase: Final = to_phase(phase)
        self.shards: Final = check_int(shards, "shards", minimum=1, maximum=MAX_SHARD + 1)
        self.total: Final = check_int(total, "total", maximum=MAX_INTEGER)
        # shard -> (processed, successful, failed, shard_total) of its most advanced report
        self._kept: dict[int, tuple[int, int, int, int]] = {}
        self._processed = self._successful = self._failed = 0
        self._done = 0  # shards whose kept report has processed == shard_total
        self._shard_totals = 0  # the sum of the known shards' totals

    def apply(self, report: ShardReport) -> bool:
        """Merge one shard report; return True iff the merged figures changed."""
        # The hot path of an aggregator: a known shard's report, inlined; anything else
        # (a new shard, a report that does not fit) goes to _merge and its checks.
        if report.__class__ is not ShardReport:
            check_instance(report, ShardReport, "report")
        campaign_id = report.campaign_id
        if (
            campaign_id is not self.campaign_id and campaign_id != self.campaign_id
        ) or report.phase is not self.phase:
            raise InvalidValue(
                f"report is for campaign {campaign_id} phase {report.phase.value}; "
                f"this merge is for campaign {self.campaign_id} phase {self.phase.value}",
                field="report",
                value=report,
            )
        shard = report.shard
        processed = report.processed
        successful = report.successful
        failed = report.failed
        kept = self._kept.get(shard)
        if kept is None or report.shard_total != kept[3]:
            return self._merge(shard, processed, successful, failed, report.shard_total)
        kept_processed, kept_successful, kept_failed, size = kept
        if processed < kept_processed or (
            processed == kept_processed
            and (
                successful < kept_successful
                or (successful == kept_successful and failed <= kept_failed)
            )
        ):
            return False  # a duplicate, a late report or a retry not past what was kept
        self._processed += processed - kept_processed
        self._successful += successful - kept_successful
        self._failed += failed - kept_failed
        if processed == size and kept_processed != size:
            self._done += 1
        self._kept[shard] = (processed, successful, failed, size)
        return True

    def _merge(self, shard: int, processed: int, successful: int, failed: int, size: int) -> bool:
        kept = self._kept.get(shard)
        if kept is None:
            if shard >= self.shards:
                raise InvalidValue(
                    f"shard must be in 0..{self.shards - 1} (shards={self.shards}); got {shard}",
                    field="shard",
                    value=shard,
                )
            if self._shard_totals + size > self.total:
                raise InvalidValue(
                    f"shard {shard} of {size} domains would make the known shards hold "
                    f"{self._shard_totals + size}, more than total ({self.total})",
                    field="shard_total",
                    value=size,
                )
            self._shard_totals += size
            self._kept[shard] = (processed, successful, failed, size)
            self._processed += processed
            self._successful += successful
            self._failed += failed
            if processed == size:
                self._done += 1
            return processed > 0 or size == 0
        if size != kept[3]:
            raise InvalidValue(
                f"shard {shard} reported shard_total {size}, earlier {kept[3]}: a shard's "
                "size never changes",
                field="shard_total",
                value=size,
            )
        if (processed, successful, failed) <= kept[:3]:
            return False
        self._processed += processed - kept[0]
        self._successful += successful - kept[1]
        self._failed += failed - kept[2]
        if processed == size and kept[0] != size:
            self._done += 1
        self._kept[shard] = (processed, successful, failed, size)
        return True

    def merge(self, other: CampaignProgress) -> CampaignProgress:
        """Return the union of two merge states, of two aggregator processes say.

        The union is the state that applying both sets of reports to one would give.
        Neither state is changed.
        """
        check_instance(other, CampaignProgress, "other")
        mine = (self.campaign_id, self.phase, self.shards, self.total)
        theirs = (other.campaign_id, other.phase, other.shards, other.total)
        if mine != theirs:
            raise InvalidValue(
                f"cannot merge the progress of {shown(theirs)} into that of {shown(mine)}",
                field="other",
                value=other,
            )
        union = CampaignProgress(self.campaign_id, self.phase, shards=self.shards, total=self.total)
        for state in (self, other):
            for shard, (processed, successful, failed, size) in state._kept.items():
                union._merge(shard, processed, successful, failed, size)
        return union

    @property
    def processed(self) -> int:
        """Domains processed over every shard, a figure that never decreases."""
        return self._processed

    @property
    def successful(self) -> int:
        """Domains processed successfully, over every shard."""
        return self._successful

    @property
    def failed(self) -> int:
        """Domains that failed, over every shard."""
        return self._failed

    @property
    def percent(self) -> float:
        """``processed`` as a percentage of ``total`` (100.0 for an empty, complete one)."""
        if self.total == 0:
            return MAX_PROGRESS if self.complete else 0.0
        # int * int / int is rounded once, so processed == total gives exactly 100.0.
        return self._processed * int(MAX_PROGRESS) / self.total

    @property
    def shards_done(self) -> int:
        """How many shards reported ``processed == shard_total``."""
        return self._done

    @property
    def complete(self) -> bool:
        """Whether every shard reported ``processed == shard_total``."""
        return self._done == self.shards

    def message(
        self, status: PhaseStatus | str, *, sequence: int, timestamp_ms: int
    ) -> ProgressMessage:
        """The campaign-level progress message, for :class:`ProgressThrottle` and clients."""
        return ProgressMessage(
            self.campaign_id,
            self.phase,
            status,
            self.percent,
            self._processed,
            self.total,
            self._successful,
            self._failed,
            sequence,
            timestamp_ms,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CampaignProgress):
            return NotImplemented
        return (self.campaign_id, self.phase, self.shards, self.total, self._kept) == (
            other.campaign_id,
            other.phase,
            other.shards,
            other.total,
            other._kept,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    def __repr__(self) -> str:
        return (
            f"CampaignProgress(campaign_id={self.campaign_id!r}, phase={member_repr(self.phase)}, "
            f"shards={self.shards}, total={self.total}, processed={self._processed}, "
            f"shards_done={self._done})"
        )
