"""The damage-report flow inside the bot (`bot.conversation.flow_hooks.FlowHook`): loads the resident's
draft, runs `reports.line_flow`, and stores what it decided once, in the transaction that keeps the
reply: the draft (expiring after 30 minutes), or the report with its photos to fetch (the receipt
names its number). The confirming event's ID makes the report once-only. Unfollow drops the
resident's link to their reports and their draft (the reports stay, under an opaque reporter number)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.conversation.flow_hooks import HookEvent, HookTurn, Message
from reports import line_flow
from reports import report_store as store
from reports.line_flow import FlowDraft, FlowTurn
from reports.report_kinds import OTHER
from reports.reports_tables import DamageReport, ReportDraft, Reporter, ReportNotice, ReportPhoto
from storage.base import utcnow
from storage.upsert import insert_for


class ReportFlowHook:
    """Added to the bot's `Preparer.hooks` by the reports area."""

    def __init__(self, draft_minutes: float = line_flow.DRAFT_MINUTES) -> None:
        self.draft_minutes = draft_minutes

    def take(self, session: Session, event: HookEvent) -> HookTurn | None:
        user = event.user_id
        if user is None or event.kind == "follow":
            return None
        if event.kind == "unfollow":
            return HookTurn([], partial(forget, user_id=user), then_default=True)
        row = session.get(ReportDraft, user)
        stored = FlowDraft.loads(row.step, row.answers) if row is not None else None
        live = row is not None and row.expires_at > utcnow()
        lang = stored.lang if stored is not None else event.lang  # an expired draft still knows it
        turn = line_flow.on_event(
            stored if live else None, event.kind, event.data, lang, expired=row is not None
        )
        if turn is None:
            return None
        return HookTurn(turn.messages, partial(self._store, event=event, turn=turn), turn.then_default)

    def _store(self, session: Session, *, event: HookEvent, turn: FlowTurn) -> list[Message] | None:
        assert event.user_id is not None
        user = event.user_id
        if turn.submit:
            row = session.get(ReportDraft, user)
            if row is None:  # sent from another device at the same moment
                return None
            draft = FlowDraft.loads(row.step, row.answers)
            number = file_report(session, draft, event)
            session.execute(delete(ReportDraft).where(ReportDraft.line_user_id == user))
            return [line_flow.receipt(number, draft.lang)] if number else None
        if turn.draft is None:
            session.execute(delete(ReportDraft).where(ReportDraft.line_user_id == user))
            return None
        until = utcnow() + dt.timedelta(minutes=self.draft_minutes)
        values = {"step": turn.draft.step, "answers": turn.draft.dumps(), "expires_at": until}
        stmt = insert_for(session, ReportDraft).values(line_user_id=user, channel=event.channel, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["line_user_id"], set_=values))
        return None


def file_report(session: Session, draft: FlowDraft, event: HookEvent) -> str | None:
    """Store the report of a confirmed draft with its photos waiting to be fetched; its number, or
    None when this event already filed it."""
    assert event.user_id is not None
    reporter = store.reporter_for(session, event.user_id, event.channel, draft.lang)
    new = store.NewReport(
        category=draft.category or OTHER,
        source="line",
        note=draft.note,
        lat=draft.lat,
        lon=draft.lon,
        address=draft.address,
        reporter_id=reporter.id,
        event_id=event.event_id,
    )
    report = store.create(session, new, "resident")
    if report is None:
        return None
    session.add_all(
        ReportPhoto(report_id=report.id, state="pending", message_id=m, channel=event.channel)
        for m in draft.photos
    )
    return line_flow.report_number(report.id)


def forget(session: Session, user_id: str) -> list[Message] | None:
    """Unfollow: the resident's draft goes, their reporter row loses the LINE user ID (no more pushes;
    the reports stay under the opaque number), their pending pushes are dropped."""
    session.execute(delete(ReportDraft).where(ReportDraft.line_user_id == user_id))
    reporter = session.scalar(select(Reporter).where(Reporter.line_user_id == user_id))
    if reporter is not None:
        reporter.line_user_id = None
        theirs = select(DamageReport.id).where(DamageReport.reporter_id == reporter.id)
        session.execute(
            update(ReportNotice)
            .where(ReportNotice.state == "pending", ReportNotice.report_id.in_(theirs))
            .values(state="dropped", error="the resident unfollowed")
        )
    return None
